"""What each task costs (issue #27), measured on real containers: a model that holds
320 MiB at its peak (sample_containers/memory_model) shows it in every report, budgets
below and above it fail and pass, the sampled meter agrees, nothing is left in the
cgroup tree, and under Singularity what cannot be measured is unknown."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import docker
import jsonschema
import pytest
import yaml
from conftest import DATA, REPO, SAMPLES

from pytest_medperf.observe.footprint import show_bytes, show_seconds
from pytest_medperf.runtimes.docker_runtime.meter import CGROUP_ROOT, Meter, cgroup_tree
from pytest_medperf.runtimes.singularity_runtime.args import find_binary

MEMORY_MODEL = SAMPLES / "memory_model" / "container_config.yaml"
HELD = 320 << 20
SCHEMA = json.loads((REPO / "schemas" / "report.schema.json").read_text())
PROFILE_SCHEMA = json.loads((REPO / "schemas" / "resources-baseline.schema.json").read_text())
FAKES = Path(__file__).parent.parent / "fakes"


def _expected_source() -> str:
    info = docker.from_env().info()
    return "cgroup" if cgroup_tree(info, remote=False) is not None else "sampled"


def _near_held(peak: int) -> bool:
    return 0.65 * HELD <= peak <= 1.35 * HELD


def _kit_cgroups() -> list[Path]:
    return sorted(CGROUP_ROOT.glob("*/medperf-*")) + sorted(CGROUP_ROOT.glob("medperf-*"))


def test_a_model_holding_320_mib_shows_it_in_every_report(pytester, tmp_path: Path) -> None:
    report, markdown, junit = tmp_path / "r.json", tmp_path / "s.md", tmp_path / "j.xml"
    result = pytester.runpytest(
        "-p", "no:cacheprovider",
        "--medperf-config", str(MEMORY_MODEL),
        "--medperf-data", str(DATA["prepared"]),
        "--medperf-report", str(report),
        "--medperf-markdown", str(markdown),
        f"--junitxml={junit}",
    )  # fmt: skip
    assert result.ret == 0
    data = json.loads(report.read_text())
    jsonschema.validate(data, SCHEMA)
    (task,) = data["configs"][0]["tasks"]
    found = task["resources"]
    assert set(found) == {
        "wall_s", "cpu_s", "peak_memory_bytes", "output_bytes", "output_files", "tmp_bytes",
        "log_bytes", "memory_source",
    }  # fmt: skip
    assert _near_held(found["peak_memory_bytes"]), show_bytes(found["peak_memory_bytes"])
    assert found["memory_source"] == _expected_source()
    assert found["cpu_s"] > 0 and found["wall_s"] > 0
    assert found["output_bytes"] > 0 and found["output_files"] == 1 and found["log_bytes"] > 0
    assert found["tmp_bytes"] == 0
    assert task["cases"] == 6 and task["wall_per_case_s"] == round(found["wall_s"] / 6, 3)
    # No budget, no item.
    assert "within-budget" not in {c["id"] for c in task["checks"]}

    # The same figures in the terminal's table, the Markdown summary and JUnit.
    shown = [
        show_seconds(found["wall_s"]),
        show_seconds(found["cpu_s"]),
        show_bytes(found["peak_memory_bytes"]),
        f"{show_bytes(found['output_bytes'])} in 1 file",
        f"{show_seconds(task['wall_per_case_s'])} (6 cases)",
    ]
    (row,) = [line for line in result.outlines if re.match(r"^  infer  +\d", line)]
    assert all(cell in row for cell in shown), row
    (md_row,) = [line for line in markdown.read_text().splitlines() if "| infer |" in line]
    assert all(f"| {cell} |" in md_row for cell in shown), md_row
    case = next(
        c for c in ET.parse(junit).getroot().iter("testcase") if c.get("name") == "exit-status"
    )
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    for key in ("wall_s", "cpu_s", "peak_memory_bytes", "output_bytes", "log_bytes"):
        assert properties[key] == str(found[key]), key
    assert properties["memory_source"] == found["memory_source"]
    assert properties["wall_per_case_s"] == str(task["wall_per_case_s"])
    assert _kit_cgroups() == []  # the kit's cgroup parents are gone again


def test_a_budget_below_the_peak_fails_and_budgets_above_pass(run_kit, pytester) -> None:
    args = ("--medperf-data", str(DATA["prepared"]))
    low = run_kit(MEMORY_MODEL, args=(*args, "--medperf-budget", "infer:memory=100MiB"))
    low = low.only("memory_model")
    assert low.with_outcome("failed") == {"infer::within-budget"}, low.messages
    message = low.messages["infer::within-budget"]
    figure = re.search(
        r"infer used (\d+) MiB of memory at its peak; the budget is 100 MiB", message
    )
    assert figure is not None, message
    assert _near_held(int(figure.group(1)) << 20)
    assert "Consequence: forbidden" in message
    assert "MedPerf sets no limit and accepts this run, but infer used" in message

    # One budget from a benchmark owner's conftest.py, one from the command line.
    pytester.makeconftest(
        "def pytest_configure(config):\n"
        "    config.addinivalue_line('medperf_budget', 'infer:memory=2GiB')\n"
    )
    high = run_kit(MEMORY_MODEL, args=(*args, "--medperf-budget", "infer:wall=10m"))
    high = high.only("memory_model")
    assert high.outcomes["infer::within-budget"] == "passed", high.messages
    assert high.with_outcome("failed") == set()


def test_a_bad_budget_is_a_usage_error_naming_the_entry(pytester) -> None:
    result = pytester.runpytest(
        "--medperf-config", str(MEMORY_MODEL), "--medperf-budget", "infer:memory=100MB"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--medperf-budget 'infer:memory=100MB': the limit '100MB'*"])


def test_the_sampled_meter_sees_the_peak_too(client) -> None:
    """Where no cgroup parent can be used (systemd driver, remote engine), the engine's
    statistics are polled during the run: the same container, measured that way."""
    container = client.containers.create(
        "pytest-medperf/sample-memory:0.1",
        entrypoint=["python3", "-c", "import runpy, sys; sys.argv=['x'];"
                    "import os; os.makedirs('/mlcommons/volumes/data', exist_ok=True);"
                    "os.makedirs('/mlcommons/volumes/predictions', exist_ok=True);"
                    "runpy.run_path('/project/infer.py', run_name='__main__')"],
        user="0:0",
        network_mode="none",
        labels={"io.github.pytest-medperf.test": "1"},
    )  # fmt: skip
    try:
        meter = Meter(lambda: client, lambda: False)
        container.start()
        sampler = meter.sample(container.id)
        assert container.wait(timeout=120)["StatusCode"] == 0
        usage = sampler.stop()
    finally:
        container.remove(force=True)
    assert usage.memory_source == "sampled"
    assert usage.peak_memory_bytes is not None and _near_held(usage.peak_memory_bytes)
    assert usage.cpu_s is not None and usage.cpu_s > 0


def test_emulated_singularity_measures_like_docker(run_kit, pytester, monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    if find_binary() is not None:
        pytest.skip("a real singularity is installed here")
    report = pytester.path / "r.json"
    run_kit(
        MEMORY_MODEL,
        args=(
            "--medperf-data", str(DATA["prepared"]), "--medperf-runtime", "singularity",
            "--medperf-report", str(report),
        ),
    )  # fmt: skip
    (task,) = json.loads(report.read_text())["configs"][0]["tasks"]
    assert task["runtime"] == "singularity (emulated on docker)"
    assert _near_held(task["resources"]["peak_memory_bytes"])
    assert task["resources"]["memory_source"] == _expected_source()
    assert task["resources"]["cpu_s"] > 0


def test_real_singularity_marks_what_it_cannot_measure_unknown(
    run_kit, pytester, monkeypatch, tmp_path: Path
) -> None:
    """Through the FAKE binary (tests/fakes/singularity: no real one can be installed
    here): CPU time and peak memory are null, never guessed; a memory budget is not
    judged (skipped, saying why), a wall budget is."""
    monkeypatch.setenv("PATH", f"{FAKES}:/usr/bin:/bin")
    monkeypatch.setenv("FAKE_SINGULARITY_LOG", str(tmp_path / "calls.jsonl"))
    folder = tmp_path / "memory_model"
    folder.mkdir()
    (folder / "model.sif").write_bytes(b"fake")
    config = (
        MEMORY_MODEL.read_text()
        .replace("container_type: DockerImage", "container_type: SingularityFile")
        .replace("image: pytest-medperf/sample-memory:0.1", "image: model.sif")
    )
    (folder / "container_config.yaml").write_text(config)
    report = tmp_path / "r.json"
    args = ("--medperf-data", str(DATA["prepared"]), "--medperf-runtime", "singularity")
    run = run_kit(
        folder / "container_config.yaml",
        args=(*args, "--medperf-report", str(report), "--medperf-budget", "infer:memory=1MiB"),
    ).only("memory_model")
    assert run.outcomes["infer::within-budget"] == "skipped"
    assert "cannot measure it here" in run.messages["infer::within-budget"]
    data = json.loads(report.read_text())
    jsonschema.validate(data, SCHEMA)
    found = data["configs"][0]["tasks"][0]["resources"]
    assert (found["cpu_s"], found["peak_memory_bytes"], found["memory_source"]) == (
        None,
        None,
        None,
    )
    assert found["wall_s"] >= 0 and found["output_files"] == 0  # the fake writes nothing
    timed = run_kit(
        folder / "container_config.yaml", args=(*args, "--medperf-budget", "infer:wall=1h")
    ).only("memory_model")
    assert timed.outcomes["infer::within-budget"] == "passed"


def test_the_profile_is_stored_with_the_baseline_and_growth_warns(pytester, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline"
    common = (
        "-p", "no:cacheprovider",
        "--medperf-config", str(MEMORY_MODEL),
        "--medperf-data", str(DATA["prepared"]),
        "--medperf-baseline", str(baseline),
    )  # fmt: skip
    assert pytester.runpytest(*common, "--medperf-update-baseline").ret == 0
    (stored,) = baseline.rglob("*.yaml")
    assert stored.relative_to(baseline).parts[:2] == ("memory_model", "resources")
    profile = yaml.safe_load(stored.read_text())
    jsonschema.validate(profile, PROFILE_SCHEMA)
    assert _near_held(profile["resources"]["peak_memory_bytes"])

    # Same container, no change: no warning.
    same = pytester.runpytest(*common)
    assert same.ret == 0 and "MedPerfResourceWarning" not in same.stdout.str()

    # A baseline recorded when the model needed 100 MiB: it grew, a warning says by how much.
    profile["resources"]["peak_memory_bytes"] = 100 << 20
    stored.write_text(yaml.safe_dump(profile))
    grown = pytester.runpytest(*common)
    assert grown.ret == 0  # a warning, never a failure
    grown.stdout.fnmatch_lines(
        ["*MedPerfResourceWarning: [[]resources[]] infer: peak memory grew from 100 MiB to *"
         "(+*%; tolerance 50%) against the baseline *"]
    )  # fmt: skip
    tolerant = pytester.runpytest(*common, "--medperf-resource-tolerance", "400%")
    assert "MedPerfResourceWarning" not in tolerant.stdout.str()
