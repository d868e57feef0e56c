"""Inputs given by path are mounted where they are, read-only, as MedPerf mounts them:
nothing is copied, a dataset the task's uid:gid cannot read is refused before any run,
and inputs-untouched still names a file changed during a run. Real containers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import DATA, GOOD, kit_containers, tree_digest

from pytest_medperf.runtimes.docker_runtime.runner import DockerRunner


def _site_data(tmp_path: Path) -> Path:
    """A private copy of the sample prepared dataset (the test may change it)."""
    data = tmp_path / "site-data"
    shutil.copytree(DATA["prepared"], data)
    return data


def test_data_is_mounted_in_place_read_only_and_nothing_is_copied(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _site_data(tmp_path)
    mounts: list[tuple[str, str, bool]] = []
    real_run = DockerRunner.run

    def run_and_record(self: DockerRunner, spec, progress=None):
        mounts.extend((str(m.host), m.container, m.read_only) for m in spec.mounts)
        return real_run(self, spec, progress)

    monkeypatch.setattr(DockerRunner, "run", run_and_record)
    before = tree_digest(data)
    sandboxes = tmp_path / "sandboxes"
    sandboxes.mkdir()
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "--medperf-config", str(GOOD["model"]),
        "--medperf-data", str(data), "--medperf-keep", "--medperf-sandbox-dir", str(sandboxes),
        "-k", "infer",
    )  # fmt: skip
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["pytest-medperf: inputs mounted read-only where they are; inputs-untouched compares "
         "each entry's metadata (content digests: --medperf-input-digests)"]
    )  # fmt: skip
    (kept,) = sandboxes.iterdir()
    assert not list(kept.rglob("case_001.csv")), "the data was copied into the sandbox"
    assert (str(data.resolve() / "data"), "/mlcommons/volumes/data", True) in mounts
    assert tree_digest(data) == before
    shutil.rmtree(kept)


def test_content_digests_are_said_in_the_header_and_pass_on_good_data(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "--medperf-config", str(GOOD["model"]),
        "--medperf-data", str(_site_data(tmp_path)), "--medperf-input-digests", "-k", "infer",
    )  # fmt: skip
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*inputs-untouched compares each file's metadata and sha256*"])


def test_a_dataset_the_task_cannot_read_is_refused_before_any_run(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    data = _site_data(tmp_path)
    (data / "data" / "case_002.csv").chmod(0o600)
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "--medperf-config", str(GOOD["model"]),
        "--medperf-data", str(data), "--medperf-user", "4242:4242",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text = result.stderr.str().replace("\n", " ")
    assert f"the task's user 4242:4242 cannot read {data / 'data' / 'case_002.csv'}" in text
    assert f"chmod -R o+rX {data / 'data'}" in text and "--medperf-user" in text
    assert "nothing was run" in text
    assert kit_containers() == []


def test_inputs_untouched_names_a_file_changed_during_the_run(
    run_kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The host changes one case while infer runs (after the kit's first fingerprint):
    the read-only mount cannot stop that, the fingerprint must see it."""
    data = _site_data(tmp_path)
    case = data / "data" / "case_003.csv"
    real_run = DockerRunner.run

    def run_and_change(self: DockerRunner, spec, progress=None):
        if spec.name.startswith("medperf-infer-"):
            case.write_text("0.5,0.25")  # still a case the model reads
        return real_run(self, spec, progress)

    monkeypatch.setattr(DockerRunner, "run", run_and_change)
    run = run_kit(GOOD["model"], args=("--medperf-data", str(data), "-k", "infer")).only("model")
    assert run.outcomes["infer::inputs-untouched"] == "failed"
    assert "data_path: case_003.csv: content changed" in run.messages["infer::inputs-untouched"]
    assert {k for k, v in run.outcomes.items() if v == "failed"} == {"infer::inputs-untouched"}
