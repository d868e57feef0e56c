"""Hostile input given to a real run is refused with a clear message, and nothing outside
the sandbox is read or written: a symbolic link out of the given data, additional-files
archives with members that escape or are links and devices (hostile configs and the
loader's property tests: tests/unit/test_hostile_input.py)."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest
from conftest import DATA, GOOD


def test_a_symlink_out_of_the_given_data_is_refused(run_kit, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the container")
    data = tmp_path / "prepared"
    (data / "data").mkdir(parents=True)
    (data / "labels").mkdir()
    (data / "data" / "case_001.csv").symlink_to(secret)
    run = run_kit(GOOD["model"], args=("--medperf-data", str(data))).only("model")
    message = run.messages["infer::exit-status"]
    assert "is a symbolic link to" in message and "outside" in message


def _tar_with(member: tarfile.TarInfo, payload: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.addfile(member, io.BytesIO(payload) if payload else None)
    return buffer.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size
    return info


@pytest.mark.parametrize(
    ("member", "words"),
    [
        (_member("/etc/evil", size=1), "would be written outside"),
        (_member("weights/../../evil", size=1), "would be written outside"),
        (_member("null", tarfile.CHRTYPE), "is a link or device file"),
        (_member("link", tarfile.SYMTYPE), "is a link or device file"),
    ],
)
def test_hostile_additional_files_archives_are_refused(
    run_kit, tmp_path: Path, member: tarfile.TarInfo, words: str
) -> None:
    archive = tmp_path / "af.tar.gz"
    archive.write_bytes(_tar_with(member, b"x" if member.size else b""))
    before = set(os.listdir("/etc"))
    run = run_kit(
        GOOD["model"],
        args=("--medperf-data", str(DATA["prepared"]), "--medperf-additional-files", str(archive)),
    ).only("model")
    assert words in run.messages["infer::exit-status"]
    assert set(os.listdir("/etc")) == before
    assert not (tmp_path.parent / "evil").exists()
