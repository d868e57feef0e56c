"""Reports for a CI gate and for a person: the summary table, the JSON report,
JUnit properties, pytest-html logs, progress lines, and the starter template."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import docker
import jsonschema
import pytest
from conftest import DATA, REPO, VIOLATIONS, private_copy, start_kit, wait_for_task_container

SCHEMA = json.loads((REPO / "schemas" / "report.schema.json").read_text())
TELEMETRY = VIOLATIONS / "no-network-telemetry-swallowed" / "container_config.yaml"
BROKEN = VIOLATIONS / "config-valid-run-arg" / "container_config.yaml"


def test_json_report_validates_and_says_everything(pytester, tmp_path: Path) -> None:
    report = tmp_path / "out" / "report.json"
    pytester.runpytest(
        "--medperf-config",
        str(TELEMETRY),
        "--medperf-config",
        str(BROKEN),
        "--medperf-data",
        str(DATA["prepared"]),
        "--medperf-report",
        str(report),
    )
    data = json.loads(report.read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["kit"]["name"] == "pytest-medperf" and not data["interrupted"]
    telemetry, broken = data["configs"]
    assert telemetry["image_id"].startswith("sha256:")
    assert telemetry["kinds"] == ["model"]
    (infer,) = telemetry["tasks"]
    # A uid the image's /etc/passwd does not list, as at a site (yours, or 54321 as root).
    expected_user = "54321:54321" if os.getuid() == 0 else f"{os.getuid()}:{os.getgid()}"
    assert (infer["exit_code"], infer["runtime"], infer["user"]) == (0, "docker", expected_user)
    assert Path(infer["log_path"]).read_text().startswith("telemetry unavailable")
    checks = {c["id"]: c for c in infer["checks"]}
    assert checks["no-network"]["outcome"] == "failed"
    assert (
        "looked up the host name telemetry.example.com (4 times)"
        in checks["no-network"]["evidence"]
    )
    assert checks["exit-status"]["outcome"] == "passed"
    config_checks = {c["id"]: c["outcome"] for c in broken["checks"]}
    assert config_checks == {
        "config-valid": "failed",
        "image-available": "skipped",
        "singularity-portable": "skipped",  # the config does not load
    }


def test_report_is_written_when_interrupted(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    hang = private_copy(VIOLATIONS / "exit-status-timeout" / "container_config.yaml", tmp_path)
    proc = start_kit(hang, tmp_path, "--medperf-report", str(report))
    try:
        wait_for_task_container(proc.pid)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    data = json.loads(report.read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["interrupted"] is True
    (config,) = data["configs"]
    assert config["path"].endswith(f"{hang.parent.name}/container_config.yaml")


def test_summary_table_and_verbose_columns(pytester) -> None:
    result = pytester.runpytest(
        "-v", "--medperf-config", str(TELEMETRY), "--medperf-data", str(DATA["prepared"])
    )
    out = result.stdout.str()
    assert "MedPerf conformance" in out
    result.stdout.fnmatch_lines(
        [
            "*task*exit-status*outputs*no-network*no-writes*inputs*non-root*exit*seconds*",
            "*infer*pass*pass*FAIL*pass*pass*pass*0*",
            "*FAIL infer::no-network: ?no-network? infer: MedPerf accepts this run*tried to reach*",
        ]
    )


def test_failure_shows_log_tail_and_kept_log_path(pytester) -> None:
    result = pytester.runpytest(
        "--medperf-config",
        str(TELEMETRY),
        "--medperf-data",
        str(DATA["prepared"]),
        "--medperf-keep",
    )
    result.stdout.fnmatch_lines(
        [
            "Container log (last lines):",
            "  | telemetry unavailable*",
            "Full log: */infer.log",
        ]
    )
    kept = next(x for x in result.stdout.lines if "sandbox kept at" in x).rsplit(" ", 1)[1]
    subprocess.run(["rm", "-rf", kept], check=True)


def test_junit_and_html_carry_rule_task_image_and_log(pytester, tmp_path: Path) -> None:
    pytest.importorskip("pytest_html")
    junit, html = tmp_path / "junit.xml", tmp_path / "report.html"
    pytester.runpytest(
        "--medperf-config",
        str(TELEMETRY),
        "--medperf-data",
        str(DATA["prepared"]),
        "--junitxml",
        str(junit),
        "--html",
        str(html),
        "--self-contained-html",
    )
    text = junit.read_text()
    assert 'name="rule" value="no-network"' in text
    assert 'name="task" value="infer"' in text
    assert 'name="image" value="pytest-medperf/violations:0.1"' in text
    assert "telemetry unavailable" in html.read_text()


def test_progress_shows_a_long_task_is_alive(pytester) -> None:
    # A subprocess, as a user runs pytest: only there does pytest's capture take the
    # terminal's file descriptor, which is what swallowed the line or showed it as the
    # captured output of whichever item failed (another step's progress, at times).
    pytester.makepyfile(
        progress_every_second="""
        from pytest_medperf.plugin import kit

        kit.Progress.FIRST = kit.Progress.EVERY = 1.0
        """
    )
    hang = VIOLATIONS / "exit-status-timeout" / "container_config.yaml"
    args = (
        "-p",
        "progress_every_second",
        "--medperf-config",
        str(hang),
        "--medperf-data",
        str(DATA["prepared"]),
        "--medperf-timeout",
        "4",
        "-p",
        "no:cacheprovider",
    )
    shown = pytester.runpytest_subprocess(*args)
    shown.stdout.fnmatch_lines(
        ["pytest-medperf: medperf-infer-* running for * s: waiting for worker threads ..."]
    )
    before, failures = shown.stdout.str().split("= FAILURES =")
    assert "running for" in before  # shown while the task runs
    assert "running for" not in failures and "Captured stdout" not in failures
    quiet = pytester.runpytest_subprocess("-q", *args)
    assert "running for" not in quiet.stdout.str()


@pytest.mark.parametrize("kind", ["model", "data_preparator", "metrics"])
def test_starter_passes_the_kit_as_written(pytester, tmp_path: Path, kind: str) -> None:
    from pytest_medperf.__main__ import main
    from pytest_medperf.commands.starter import CHECK_ARGS

    folder = tmp_path / kind
    tag = f"pytest-medperf/starter-test-{kind.replace('_', '-')}:0.1"
    assert main(["init", "--kind", kind, "--image", tag, str(folder)]) == 0
    client = docker.from_env()
    client.images.build(
        path=str(folder),
        tag=tag,
        rm=True,
        buildargs={"BASE_IMAGE": "pytest-medperf/python-base:bookworm"},
    )
    try:
        os.chdir(folder)  # pytester restores the working directory afterwards
        result = pytester.runpytest_inprocess(
            "-p",
            "no:cacheprovider",
            "--medperf-config",
            "container_config.yaml",
            *CHECK_ARGS[kind].split(),
        )
        outcomes = result.parseoutcomes()
        assert outcomes.get("failed", 0) == 0 and outcomes.get("skipped", 0) == 0, (
            result.stdout.str()
        )
        assert outcomes["passed"] >= 8
    finally:
        client.images.remove(tag, force=True)


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path, capsys) -> None:
    from pytest_medperf.__main__ import main

    (tmp_path / "x").write_text("mine")
    assert main(["init", "--kind", "model", str(tmp_path)]) == 2
    assert "is not empty" in capsys.readouterr().err
