"""A site's uid and Singularity's semantics on the real engine: the good site sample passes
under Docker and under Singularity emulated on Docker, the emulated container looks as
Apptainer's `run -eC` does, and singularity-portable warns for a WORKDIR-relative command
(the broken site samples: tests/docker/test_samples.py, through their expected.yaml)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DATA, GOOD, SAMPLES

from pytest_medperf.runtimes.base import EMULATED_SINGULARITY, Mount, RunSpec
from pytest_medperf.runtimes.singularity_runtime.args import find_binary
from pytest_medperf.runtimes.singularity_runtime.emulated import EmulatedSingularityRunner

SITE = SAMPLES / "site_user" / "container_config.yaml"
RUN_RULES = ("exit-status", "outputs-present", "no-writes-outside", "inputs-untouched")


@pytest.fixture
def no_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    if find_binary() is not None:
        pytest.skip("a real singularity is installed here: the kit uses it, not the emulation")


def _report(tmp_path: Path) -> tuple[str, str]:
    path = tmp_path / "report.json"
    return ("--medperf-report", str(path))


def test_good_site_sample_passes_under_docker_as_a_uid_its_passwd_lacks(
    run_kit, tmp_path: Path
) -> None:
    run = run_kit(SITE, args=("--medperf-data", str(DATA["prepared"]), *_report(tmp_path)))
    run = run.only("site_user")
    assert run.with_outcome("failed") == set(), run.messages
    assert run.with_outcome("skipped") == set(), run.messages
    (task,) = json.loads((tmp_path / "report.json").read_text())["configs"][0]["tasks"]
    assert task["runtime"] == "docker"
    uid = int(task["user"].split(":")[0])
    assert uid != 1000  # the image's own user: a site's account is never it
    checks = {
        c["id"]: c
        for c in json.loads((tmp_path / "report.json").read_text())["configs"][0]["checks"]
    }
    assert any("USER app" in w for w in checks["singularity-portable"]["warnings"])


@pytest.mark.parametrize("config", [SITE, GOOD["model"]], ids=["site_user", "model"])
def test_good_models_pass_under_singularity_emulated(
    run_kit, no_binary, tmp_path: Path, config: Path
) -> None:
    args = ("--medperf-data", str(DATA["prepared"]), "--medperf-runtime", "singularity")
    args += ("--medperf-markdown", str(tmp_path / "summary.md"))
    args += ("--junitxml", str(tmp_path / "junit.xml"))
    run = run_kit(config, args=(*args, *_report(tmp_path))).only(config.parent.name)
    for rule in RUN_RULES:
        assert run.outcomes[f"infer::{rule}"] == "passed", run.messages
    assert run.with_outcome("failed") == set(), run.messages
    # It succeeded as a non-root uid: non-root passes (skipped only after a failed task,
    # which Singularity cannot rerun as root), as README and docs/runtimes.md say.
    assert run.outcomes["infer::non-root"] == "passed", run.messages
    (task,) = json.loads((tmp_path / "report.json").read_text())["configs"][0]["tasks"]
    assert task["runtime"] == EMULATED_SINGULARITY
    assert (
        f"ran on {EMULATED_SINGULARITY} as {task['user']}" in (tmp_path / "summary.md").read_text()
    )
    assert f'name="runtime" value="{EMULATED_SINGULARITY}"' in (tmp_path / "junit.xml").read_text()


PROBE = """
import json, os, pwd
def can_write(path):
    try:
        with open(path, "w") as handle:
            handle.write("x")
        return "ok"
    except OSError as exc:
        return exc.strerror
print(json.dumps({
    "uid": os.getuid(), "cwd": os.getcwd(), "home": os.environ.get("HOME"),
    "name": pwd.getpwuid(os.getuid()).pw_name, "env": dict(os.environ),
    "write_root": can_write("/x"), "write_home": can_write(os.path.expanduser("~/x")),
    "write_var_tmp": can_write("/var/tmp/x"), "write_tmp": can_write("/tmp/x"),
    "home_listing": os.listdir(os.environ["HOME"]),
}))
"""


def test_emulated_container_looks_like_apptainer_run_containall(tmp_path: Path) -> None:
    for name in ("in", "tmp"):
        (tmp_path / name).mkdir()
        (tmp_path / name).chmod(0o777)
    (tmp_path / "in" / "probe.py").write_text(PROBE)
    log = tmp_path / "run.log"
    spec = RunSpec(
        image="pytest-medperf/site-user:0.1",
        command=("python3", "/in/probe.py"),
        entrypoint=None,
        environment={"GREETING": "hello"},
        mounts=(Mount(tmp_path / "in", "/in", True), Mount(tmp_path / "tmp", "/tmp", False)),
        user="54321:54321",
        name="medperf-test-emulated",
        shm_size="2gb",
        log_file=log,
    )
    runner = EmulatedSingularityRunner(observe_network=False)
    try:
        result = runner.run(spec)
    finally:
        runner.close()
    assert result.exit_code == 0, log.read_text()
    assert result.runtime == EMULATED_SINGULARITY
    seen = json.loads(log.read_text().strip().splitlines()[-1])
    assert seen["uid"] == 54321 and seen["name"] == "site"  # the generated passwd entry
    assert seen["cwd"] == seen["home"] != "/app"  # WORKDIR ignored, HOME is the cwd
    assert seen["home_listing"] == ["x"]  # a private, empty, writable HOME
    assert seen["write_root"] == "Read-only file system"
    assert (seen["write_home"], seen["write_var_tmp"], seen["write_tmp"]) == ("ok", "ok", "ok")
    env = seen["env"]
    assert env["GREETING"] == "hello" and env["LANG"] == "C.UTF-8"  # the image's ENV wins
    assert env["APPTAINER_COMMAND"] == "run" and env["SINGULARITY_NAME"].endswith(".sif")
    assert env["PATH"].endswith("/sbin:/bin") and "USER" not in env
    assert (tmp_path / "tmp" / "x").read_text() == "x"  # /tmp is MedPerf's host folder
    assert not (tmp_path / "identity").exists() or (tmp_path / "identity" / "passwd").is_file()


def test_singularity_portable_warns_for_a_workdir_relative_command(run_kit, tmp_path: Path) -> None:
    config = tmp_path / "relative" / "container_config.yaml"
    config.parent.mkdir()
    config.write_text(SITE.read_text().replace("/app/model.py", "model.py"))
    run = run_kit(config, args=("--medperf-data", str(DATA["prepared"]), *_report(tmp_path)))
    assert run.only("relative").outcomes["singularity-portable"] == "passed"
    (found,) = json.loads((tmp_path / "report.json").read_text())["configs"]
    checks = {c["id"]: c for c in found["checks"]}
    warned = " ".join(checks["singularity-portable"]["warnings"])
    assert "'model.py'" in warned and "WORKDIR (/app)" in warned and "/app/model.py" in warned
    # Under Docker the image's WORKDIR applies: the task itself passes.
    assert run.only("relative").outcomes["infer::exit-status"] == "passed"
