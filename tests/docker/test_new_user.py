"""What a new user meets first: mistakes give one clear sentence, never a traceback;
pytest conventions (-k, markers, ini settings, JUnit) just work."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import DATA, GOOD, VIOLATIONS


def test_missing_data_folder_names_the_option(run_kit, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    run = run_kit(GOOD["model"], args=("--medperf-data", str(missing))).only("model")
    assert run.outcomes["infer::exit-status"] == "failed"
    message = run.messages["infer::exit-status"]
    assert f"--medperf-data {missing}: no such file or directory." in message
    assert "Traceback" not in message
    assert run.outcomes["infer::outputs-present"] == "skipped"


def test_data_not_given_at_all_names_the_option(run_kit) -> None:
    run = run_kit(GOOD["model"]).only("model")
    assert "give --medperf-data DIR" in run.messages["infer::exit-status"]


def test_prepared_data_without_labels_is_explained(run_kit, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    run = run_kit(GOOD["model"], args=("--medperf-data", str(tmp_path))).only("model")
    assert "labels/ not found" in run.messages["infer::exit-status"]


def test_missing_parameters_file_names_the_option(run_kit, tmp_path: Path) -> None:
    config = tmp_path / "model" / "container_config.yaml"
    config.parent.mkdir()
    config.write_text(GOOD["model"].read_text())  # no workspace/ beside it
    run = run_kit(config, args=("--medperf-data", str(DATA["prepared"]))).only("model")
    assert "give --medperf-parameters FILE" in run.messages["config-valid"]
    assert run.outcomes["infer::exit-status"] == "skipped"


def test_stopped_docker_daemon_is_one_sentence(
    run_kit, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/docker.sock")
    run = run_kit(GOOD["model"], args=("--medperf-data", str(DATA["prepared"]))).only("model")
    assert run.outcomes["image-available"] == "failed"
    message = run.messages["image-available"]
    assert (
        f"No Docker engine answers at unix://{tmp_path}/docker.sock (the socket does not exist)"
        in message
    )
    assert "Traceback" not in message
    assert run.outcomes["infer::exit-status"] == "skipped"


def test_missing_config_file_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--medperf-config", "nope.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--medperf-config: no such file:*nope.yaml*"])
    assert "Traceback" not in result.stderr.str()


def test_broken_config_shows_no_traceback(pytester: pytest.Pytester) -> None:
    config = VIOLATIONS / "config-valid-yaml-syntax" / "container_config.yaml"
    result = pytester.runpytest("--medperf-config", str(config))
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "Traceback" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*line 7, column 18: invalid YAML*"])


def test_plugin_is_inert_without_a_config(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain():\n    assert True\n")
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1)
    assert "config-valid" not in result.stdout.str()


def test_k_selects_by_rule_and_ini_settings_work(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        f"""
        [pytest]
        medperf_config = {GOOD["model"]}
        medperf_data = {DATA["prepared"]}
        """
    )
    result = pytester.runpytest("-v", "-k", "outputs-present", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, deselected=8)
    result.stdout.fnmatch_lines(["*container_config.yaml::infer::outputs-present PASSED*"])


def test_markers_and_junit_properties(pytester: pytest.Pytester, tmp_path: Path) -> None:
    junit = tmp_path / "report.xml"
    result = pytester.runpytest(
        "-m",
        "medperf",
        "--junitxml",
        str(junit),
        "--medperf-config",
        str(GOOD["model"]),
        "--medperf-data",
        str(DATA["prepared"]),
    )
    result.assert_outcomes(passed=9)
    cases = {case.get("name"): case for case in ET.parse(junit).getroot().iter("testcase")}
    assert set(cases) == {
        "config-valid",
        "image-available",
        "singularity-portable",
        "exit-status",
        "outputs-present",
        "no-network",
        "no-writes-outside",
        "inputs-untouched",
        "non-root",
    }
    props = {p.get("name"): p.get("value") for p in cases["exit-status"].iter("property")}
    assert props["rule"] == "exit-status"
    assert props["task"] == "infer"


def _tarball(source: Path, dest: Path, top: str) -> Path:
    with tarfile.open(dest, "w:gz") as archive:
        archive.add(source, arcname=top)
    return dest


def test_demo_data_and_additional_files_as_tar_gz(run_kit, tmp_path: Path) -> None:
    demo = _tarball(DATA["demo"], tmp_path / "demo.tar.gz", ".")  # paths.yaml at the root
    run = run_kit(GOOD["data_preparator"], args=("--medperf-demo-data", str(demo)))
    assert set(run.outcomes.values()) == {"passed"}, run.messages
    weights = _tarball(
        GOOD["model"].parent / "workspace" / "additional_files", tmp_path / "af.tar.gz", "."
    )
    run = run_kit(
        GOOD["model"],
        args=("--medperf-data", str(DATA["prepared"]), "--medperf-additional-files", str(weights)),
    )
    assert set(run.outcomes.values()) == {"passed"}, run.messages


def test_tarball_escaping_its_folder_is_refused(run_kit, tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as archive:
        info = tarfile.TarInfo("../outside.txt")
        info.size = 1
        archive.addfile(info, io.BytesIO(b"x"))
    run = run_kit(
        GOOD["model"],
        args=("--medperf-data", str(DATA["prepared"]), "--medperf-additional-files", str(evil)),
    ).only("model")
    assert "member '../outside.txt' would be written outside" in run.messages["infer::exit-status"]
    assert not (tmp_path.parent / "outside.txt").exists()


def _docker_context(config_dir: Path, name: str, host: str) -> None:
    subprocess.run(
        ["docker", "context", "create", name, "--docker", f"host={host}"],
        check=True,
        capture_output=True,
        env={**os.environ, "DOCKER_CONFIG": str(config_dir)},
    )


def test_docker_contexts_are_honored_like_the_cli(run_kit, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    _docker_context(tmp_path / "docker-config", "kit-local", "unix:///var/run/docker.sock")
    _docker_context(tmp_path / "docker-config", "kit-gone", f"unix://{tmp_path}/gone.sock")
    args = ("--medperf-data", str(DATA["prepared"]))
    monkeypatch.setenv("DOCKER_CONTEXT", "kit-local")
    assert set(run_kit(GOOD["model"], args=args).outcomes.values()) == {"passed"}
    monkeypatch.setenv("DOCKER_CONTEXT", "kit-gone")
    message = run_kit(GOOD["model"], args=args).only("model").messages["image-available"]
    assert (
        f"No Docker engine answers at unix://{tmp_path}/gone.sock (docker context kit-gone)"
        in message
    )
    monkeypatch.setenv("DOCKER_CONTEXT", "kit-never-made")
    message = run_kit(GOOD["model"], args=args).only("model").messages["image-available"]
    assert "The docker context 'kit-never-made'" in message and "does not exist" in message


@pytest.mark.parametrize(
    ("option", "given", "words"),
    [
        ("--medperf-gpus", "some", "*--medperf-gpus 'some': *Invalid gpus argument*"),
        ("--medperf-gpus", "device=", "*--medperf-gpus 'device=': *empty device id*"),
        ("--medperf-shm-size", "lots", "*--medperf-shm-size 'lots': docker run --shm-size*"),
    ],
)
def test_gpus_and_shm_size_options_are_read_as_medperf_reads_them(
    pytester: pytest.Pytester, option: str, given: str, words: str
) -> None:
    result = pytester.runpytest("--medperf-config", str(GOOD["model"]), option, given)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([words])
    assert "Traceback" not in result.stderr.str()
