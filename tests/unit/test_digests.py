"""Input fingerprints name what changed: content, permissions, new and deleted files."""

from __future__ import annotations

import os
from pathlib import Path

from pytest_medperf.observe.digests import differences, fingerprint


def test_every_kind_of_change_is_named(tmp_path: Path) -> None:
    (tmp_path / "keep.csv").write_text("a")
    (tmp_path / "edit.csv").write_text("a")
    (tmp_path / "gone.csv").write_text("a")
    (tmp_path / "mode.csv").write_text("a")
    before = fingerprint(tmp_path)
    assert differences(before, fingerprint(tmp_path)) == []

    (tmp_path / "edit.csv").write_text("b")
    (tmp_path / "gone.csv").unlink()
    (tmp_path / "new.csv").write_text("a")
    (tmp_path / "mode.csv").chmod(0o600)
    found = differences(before, fingerprint(tmp_path))
    assert "edit.csv: content changed" in found
    assert "gone.csv: deleted" in found
    assert "new.csv: created" in found
    assert "mode.csv: permissions changed from 0o644 to 0o600" in found
    assert not any(line.startswith("keep.csv") for line in found)


def test_restoring_mtime_does_not_hide_a_rewrite(tmp_path: Path) -> None:
    target = tmp_path / "case.csv"
    target.write_text("aaaa")
    stamp = target.stat()
    before = fingerprint(tmp_path)
    target.write_text("bbbb")  # same size
    os.utime(target, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert differences(before, fingerprint(tmp_path)) == [
        "case.csv: changed, with its modification time put back"
    ]


def test_a_single_file_input(tmp_path: Path) -> None:
    params = tmp_path / "parameters.yaml"
    params.write_text("a: 1\n")
    before = fingerprint(params)
    params.write_text("a: 2\n")
    assert differences(before, fingerprint(params)) == [".: content changed"]
