"""Inputs mounted where they are: the walk that proves the task's uid:gid can read them
(and refuses special files), fingerprints that never follow a link, corrupted data made
without copying the dataset, archives unpacked streaming with a progress line."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest

from pytest_medperf.engine import sandbox as sandbox_module
from pytest_medperf.engine.inputs.access import AccessChecks, InputUnreadable, check_input
from pytest_medperf.engine.inputs.corruptions import corrupted_inputs
from pytest_medperf.engine.sandbox import Sandbox
from pytest_medperf.errors import InputMissing
from pytest_medperf.observe.digests import differences, fingerprint

OTHER = (os.getuid() + 4242, os.getgid() + 4242)  # neither the files' owner nor group


def _dataset(root: Path, cases: int = 3) -> Path:
    (root / "data" / "sub").mkdir(parents=True)
    (root / "labels").mkdir()
    for i in range(cases):
        (root / "data" / f"case_{i}.csv").write_text(f"{i},1.0\n")
    (root / "data" / "sub" / "deep.csv").write_text("x")
    (root / "labels" / "labels.csv").write_text("id,y\n")
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


def test_a_readable_dataset_passes_and_is_mounted_where_it_is(tmp_path: Path) -> None:
    data = _dataset(tmp_path / "site")
    check_input(data, *OTHER, option="--medperf-data")
    box = Sandbox(*OTHER, base=tmp_path)
    try:
        assert box.import_input(data, "prepared-data", option="--medperf-data") == data.resolve()
        assert not (box.root / "inputs").exists()  # nothing copied
    finally:
        box.close()


def test_an_unreadable_file_and_folder_are_named_with_the_uid_and_the_fix(tmp_path: Path) -> None:
    data = _dataset(tmp_path / "site")
    (data / "data" / "case_1.csv").chmod(0o640)
    (data / "labels").chmod(0o750)
    with pytest.raises(InputUnreadable) as caught:
        AccessChecks(*OTHER).check_given([("--medperf-data", data)])
    text = str(caught.value)
    uid, gid = OTHER
    assert f"--medperf-data {data}: the task's user {uid}:{gid} cannot read" in text
    assert str(data / "data" / "case_1.csv") in text
    assert str(data / "labels") + "/" in text
    assert f"chmod -R o+rX {data}" in text and "--medperf-user" in text


def test_group_bits_count_for_the_task_gid(tmp_path: Path) -> None:
    data = _dataset(tmp_path / "site")
    (data / "data" / "case_1.csv").chmod(0o640)
    check_input(data, os.getuid() + 4242, os.stat(data).st_gid, option="--medperf-data")


def test_a_file_only_others_may_read_is_unreadable_by_its_owner(tmp_path: Path) -> None:
    """Linux applies the owner's bits alone to the owner: 0o044 keeps the owner out."""
    data = _dataset(tmp_path / "site")
    case = data / "data" / "case_0.csv"
    owner = os.getuid()
    if owner == 0:  # root reads everything: give the file to another owner
        owner = OTHER[0] + 1
        os.chown(case, owner, -1)
    case.chmod(0o044)
    with pytest.raises(InputUnreadable, match=r"case_0\.csv"):
        check_input(data, owner, os.getgid() + 4242, option="--medperf-data")
    check_input(data, *OTHER, option="--medperf-data")  # a stranger reads it by the other bits


def test_only_the_first_few_unreadable_paths_are_named(tmp_path: Path) -> None:
    data = _dataset(tmp_path / "site", cases=12)
    for case in (data / "data").glob("case_*.csv"):
        case.chmod(0o600)
    with pytest.raises(InputUnreadable, match=r"and 7 more\. MedPerf mounts"):
        check_input(data, *OTHER, option="--medperf-data")


def test_special_files_are_named_and_refused(tmp_path: Path) -> None:
    data = _dataset(tmp_path / "site")
    os.mkfifo(data / "data" / "pipe")
    with pytest.raises(InputUnreadable, match=r"pipe is a named pipe \(fifo\)"):
        AccessChecks(*OTHER).check_given([("--medperf-data", data)])


def test_a_link_is_looked_at_never_followed(tmp_path: Path) -> None:
    data = _dataset(tmp_path / "site")
    secret = tmp_path / "secret"
    secret.write_text("no")
    secret.chmod(0o600)
    (data / "data" / "inside.csv").symlink_to("case_0.csv")
    check_input(data, *OTHER, option="--medperf-data")  # a link inside: fine
    (data / "data" / "outside.csv").symlink_to(secret)
    with pytest.raises(InputMissing, match=r"outside.csv is a symbolic link to .*secret, outside"):
        check_input(data, *OTHER, option="--medperf-data")


def test_an_archive_is_left_to_its_unpacking(tmp_path: Path) -> None:
    archive = tmp_path / "demo.tar.gz"
    archive.write_bytes(b"")
    archive.chmod(0o600)
    AccessChecks(*OTHER).check_given(
        [("--medperf-demo-data", archive), ("--medperf-data", tmp_path / "nope")]
    )


# -- fingerprints -------------------------------------------------------------------------
def test_a_changed_link_target_is_named(tmp_path: Path) -> None:
    data = _dataset(tmp_path / "site")
    link = data / "data" / "latest.csv"
    link.symlink_to("case_0.csv")
    before = fingerprint(data)
    link.unlink()
    link.symlink_to("case_1.csv")
    found = differences(before, fingerprint(data))
    assert "data/latest.csv: link now points to case_1.csv (was case_0.csv)" in found


def test_content_digests_are_an_opt_in(tmp_path: Path) -> None:
    data = _dataset(tmp_path / "site")
    plain = fingerprint(data)
    digested = fingerprint(data, contents=True)
    assert plain.keys() == digested.keys()
    assert plain["data/case_0.csv"][5] == ""
    assert digested["data/case_0.csv"][5] == hashlib.sha256(b"0,1.0\n").hexdigest()
    assert differences(digested, fingerprint(data, contents=True)) == []


def test_a_fingerprint_never_follows_a_link_into_the_host(tmp_path: Path) -> None:
    data = _dataset(tmp_path / "site")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "big.bin").write_text("x")
    (data / "data" / "escape").symlink_to(tmp_path / "elsewhere")
    found = fingerprint(data, contents=True)
    assert "data/escape" in found and not any("big.bin" in name for name in found)


# -- corrupted data: the changed files only ---------------------------------------------
def test_corrupted_data_costs_no_copy_of_the_bytes(tmp_path: Path) -> None:
    data = _dataset(tmp_path / "site")
    (data / "data" / "case_0.csv").write_bytes(b"x" * 100_000)
    (data / "data" / "alias.csv").symlink_to("case_0.csv")
    before = fingerprint(data)
    inputs = {"data_path": data / "data", "labels_path": data / "labels"}
    box = Sandbox(*OTHER, base=tmp_path)
    try:
        broken = corrupted_inputs(box, inputs, "every data file truncated to zero bytes")
        assert broken["labels_path"] == inputs["labels_path"]  # the original's own mount
        made = broken["data_path"]
        names = sorted(p.relative_to(made).as_posix() for p in made.rglob("*"))
        assert names == sorted(
            p.relative_to(data / "data").as_posix() for p in inputs["data_path"].rglob("*")
        )
        files = [p for p in made.rglob("*") if p.is_file() and not p.is_symlink()]
        assert files and all(p.stat().st_size == 0 for p in files)
        assert os.readlink(made / "alias.csv") == "case_0.csv"
        emptied = corrupted_inputs(box, inputs, "labels folder emptied")
        assert list(emptied["labels_path"].iterdir()) == []
        assert emptied["data_path"] == inputs["data_path"]
        assert differences(before, fingerprint(data)) == []
    finally:
        box.close()


# -- archives -----------------------------------------------------------------------------
def _archive(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return path


def test_an_archive_is_unpacked_streaming_with_a_progress_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_module, "UNPACK_QUIET", 0.0)
    archive = _archive(tmp_path / "demo.tar.gz", {"paths.yaml": b"a: 1\n", "data/c.csv": b"1"})
    lines: list[str] = []
    box = Sandbox(*OTHER, base=tmp_path, note=lines.append)
    try:
        root = box.import_input(archive, "demo", option="--medperf-demo-data")
        assert (root / "data" / "c.csv").read_bytes() == b"1"
        assert lines and lines[0].startswith("pytest-medperf: unpacking demo.tar.gz: ")
    finally:
        box.close()


def test_a_hostile_member_leaves_nothing_unpacked(tmp_path: Path) -> None:
    archive = _archive(tmp_path / "bad.tar.gz", {"ok.csv": b"1", "../escape.csv": b"2"})
    box = Sandbox(*OTHER, base=tmp_path)
    try:
        with pytest.raises(InputMissing, match="would be written outside"):
            box.import_input(archive, "demo", option="--medperf-demo-data")
        assert not (box.root / "inputs" / "demo").exists()
        assert not (tmp_path / "escape.csv").exists()
    finally:
        box.close()


def test_the_access_walk_is_the_first_runs_before_once(tmp_path: Path) -> None:
    data = _dataset(tmp_path / "site")
    checks = AccessChecks(*OTHER)
    checks.check_given([("--medperf-data", data)])
    seeded = checks.first_before(data / "data")
    assert seeded == fingerprint(data / "data")
    assert checks.first_before(data / "labels") is None  # used once, then walked afresh


def test_an_owner_change_is_named(tmp_path: Path) -> None:
    data = _dataset(tmp_path / "site")
    before = fingerprint(data)
    entry = before["data/case_0.csv"]
    before["data/case_0.csv"] = (*entry[:6], entry[6] + 1, entry[7])
    assert differences(before, fingerprint(data)) == [
        f"data/case_0.csv: owner changed from {entry[6] + 1}:{entry[7]} to {entry[6]}:{entry[7]}"
    ]
