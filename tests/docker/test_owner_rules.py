"""A benchmark owner's own rules: the sample benchmark (a model one prediction short that
every built-in rule passes), rules from a conftest.py and from an installed plugin, and
what a broken rule does (usage errors, its own traceback, skips)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from conftest import (
    DATA,
    GOOD,
    REPO,
    RULES_PLUGIN,
    SAMPLES,
    SEVERITY,
    line_of,
    private_copy,
    short_name,
)

BENCHMARK = SAMPLES / "benchmark"
SCHEMA = json.loads((REPO / "schemas" / "report.schema.json").read_text())


def outcomes(reprec: pytest.HookRecorder) -> tuple[dict[str, str], dict[str, str]]:
    """Each item's worst outcome and its message, by '<folder>/<file>::<step>::<rule>'."""
    found: dict[str, str] = {}
    messages: dict[str, str] = {}
    for report in reprec.getreports("pytest_runtest_logreport"):
        name = short_name(report.nodeid)
        if SEVERITY[report.outcome] >= SEVERITY[found.get(name, "passed")]:
            found[name] = report.outcome
            if report.skipped and isinstance(report.longrepr, tuple):
                messages[name] = report.longrepr[2]
            elif report.failed:
                messages[name] = report.longreprtext
    return found, messages


# -- the sample benchmark --------------------------------------------------------------


def test_sample_benchmark_catches_the_short_model_with_its_own_rule_only(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    """pytest in the benchmark's folder: its pytest.ini names the configs, its conftest.py
    holds the rules; the model one prediction short fails predictions-per-case alone."""
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    os.chdir(BENCHMARK)  # pytester restores the working directory
    reprec = pytester.inline_run(
        "-p", "no:cacheprovider", "--medperf-report", str(report), "--junitxml", str(junit)
    )
    found, messages = outcomes(reprec)
    assert {name for name, got in found.items() if got != "passed"} == {
        "model_short/container_config.yaml::infer::predictions-per-case"
    }, messages
    assert found["model/container_config.yaml::infer::predictions-per-case"] == "passed"
    short = [n for n in found if n.startswith("model_short/")]
    assert len(short) > 5  # the built-in rules ran on it too, and passed
    for step in ("evaluate[model]", "evaluate[model_short]"):
        assert found[f"metrics/container_config.yaml::{step}::metrics-in-range"] == "passed"
    message = messages["model_short/container_config.yaml::infer::predictions-per-case"]
    assert message.startswith("[predictions-per-case] infer: 6 cases, 5 predictions")
    assert "Evidence:\n  missing: case_006\nFix: write one row" in message
    conftest_text = (BENCHMARK / "conftest.py").read_text()
    line = line_of(conftest_text, '"predictions-per-case"') - 1  # the decorator's line
    assert f"Rule: conftest.py:{line}" in message

    data = json.loads(report.read_text())
    jsonschema.validate(data, SCHEMA)
    checks = {
        (Path(c["path"]).parent.name, t["name"], k["id"]): k
        for c in data["configs"]
        for t in c["tasks"]
        for k in t["checks"]
    }
    own = checks[("model_short", "infer", "predictions-per-case")]
    assert (own["outcome"], own["source"]) == ("failed", f"conftest.py:{line}")
    assert own["evidence"] == ["missing: case_006"]
    assert "source" not in checks[("model_short", "infer", "exit-status")]
    assert checks[("metrics", "evaluate[model]", "metrics-in-range")]["outcome"] == "passed"

    text = junit.read_text()
    assert 'name="rule" value="predictions-per-case"' in text
    assert f'name="source" value="conftest.py:{line}"' in text


def test_summary_table_has_a_column_per_own_rule(pytester: pytest.Pytester) -> None:
    os.chdir(BENCHMARK)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-k", "model_short")
    result.stdout.fnmatch_lines(
        [
            "*task*exit-status*non-root*predictions-per-case*",
            "*infer*pass*pass*FAIL*",
            "*FAIL infer::predictions-per-case: *infer: 6 cases, 5 predictions",
        ]
    )


# -- rules in a conftest.py: behaviour ---------------------------------------------------

BEHAVIOUR = """import dataclasses

import pytest

import pytest_medperf


@pytest_medperf.rule("boom", tasks=["infer"], description="a rule with a bug")
def boom(run):
    cases = 0
    return len(run.inputs) / cases


@pytest_medperf.rule("not-here", tasks=["infer"])
def not_here(run):
    pytest.skip("this benchmark has no masks")


@pytest_medperf.rule("sees-the-run", tasks=["infer"])
def sees_the_run(run):
    assert run.task == run.step == "infer" and run.kind == "model"
    assert run.config_path.name == "container_config.yaml"
    assert run.model == run.config_path.parent.name and run.dataset == "prepared"
    assert run.exit_code == 0 and run.succeeded and run.duration > 0
    assert set(run.inputs) == {"data_path", "parameters_file", "additional_files"}
    assert (run.outputs["output_path"] / "predictions.csv").is_file()
    assert any("predictions written" in line for line in run.log_tail)
    assert run.log_path is not None and "predictions written" in run.log_path.read_text()
    with pytest.raises(TypeError):
        run.inputs["data_path"] = run.outputs["output_path"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.exit_code = 1


@pytest_medperf.rule("always-fails", tasks=["infer"], fix="nothing to fix: a test")
def always_fails(run):
    raise pytest_medperf.RuleFailed("as planned", evidence=[f"exit code {run.exit_code}"])
"""


def test_rules_in_a_conftest_pass_fail_skip_and_error_alone(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_medperf.runtimes.docker_runtime.runner import DockerRunner

    runs: list[str] = []
    real_run = DockerRunner.run

    def counted(self, spec, progress=None):
        runs.append(spec.name)
        return real_run(self, spec, progress)

    monkeypatch.setattr(DockerRunner, "run", counted)
    pytester.makeconftest(BEHAVIOUR)
    config = private_copy(GOOD["model"], pytester.path)
    reprec = pytester.inline_run(
        "-p", "no:cacheprovider", "--medperf-config", str(config),
        "--medperf-data", str(DATA["prepared"]),
    )  # fmt: skip
    found, messages = outcomes(reprec)
    folder = f"{config.parent.name}/container_config.yaml::infer::"
    assert found.pop(folder + "boom") == "failed"
    assert found.pop(folder + "always-fails") == "failed"
    assert found.pop(folder + "not-here") == "skipped"
    assert set(found.values()) == {"passed"}, messages  # the built-in rules, sees-the-run
    assert found[folder + "sees-the-run"] == "passed"
    assert len(runs) == 1  # every rule read the one run of infer

    boom = messages[folder + "boom"]
    decorator, failing = line_of(BEHAVIOUR, '"boom"'), line_of(BEHAVIOUR, "/ cases")
    assert boom.startswith(
        f"[boom] infer: the rule at conftest.py:{decorator} raised ZeroDivisionError"
    )
    assert f"conftest.py:{failing}: in boom\n    return len(run.inputs) / cases" in boom
    assert "pytest_medperf" not in boom.replace("import pytest_medperf", "")
    assert "_pytest" not in boom
    assert messages[folder + "not-here"] == "Skipped: this benchmark has no masks"
    assert messages[folder + "always-fails"].startswith(
        "[always-fails] infer: as planned\nEvidence:\n  exit code 0\nFix: nothing to fix: a test."
    )


def test_an_own_rule_is_selected_with_k(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(BEHAVIOUR)
    config = private_copy(GOOD["model"], pytester.path)
    reprec = pytester.inline_run(
        "-p", "no:cacheprovider", "--medperf-config", str(config),
        "--medperf-data", str(DATA["prepared"]), "-k", "sees-the-run",
    )  # fmt: skip
    found, _ = outcomes(reprec)
    assert found == {f"{config.parent.name}/container_config.yaml::infer::sees-the-run": "passed"}
    assert reprec.ret == 0


@pytest.mark.parametrize(
    ("decorator", "says"),
    [
        ('"exit-status", tasks=["infer"]', "rule id 'exit-status' is a built-in rule of the kit"),
        ('"masks", tasks=["segment"]', "rule 'masks' is for unknown task(s) 'segment'"),
        ('"Masks!", tasks=["infer"]', "rule id 'Masks!': use lower-case letters"),
    ],
)
def test_an_unusable_rule_is_a_usage_error_naming_file_and_line(
    pytester: pytest.Pytester, decorator: str, says: str
) -> None:
    conftest = pytester.makeconftest(
        f"import pytest_medperf\n\n\n@pytest_medperf.rule({decorator})\ndef r(run):\n    pass\n"
    )
    config = private_copy(GOOD["model"], pytester.path)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--medperf-config", config)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: pytest-medperf: a benchmark rule cannot be used:", f"  conftest.py:4: {says}*"]
    )
    assert conftest.read_text().splitlines()[3].startswith("@pytest_medperf.rule(")


def test_two_rules_with_one_id_for_one_config_are_a_usage_error(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    rule = 'import pytest_medperf\n\n\n@pytest_medperf.rule("x", tasks=["infer"])\ndef x(run):\n'
    pytester.makeconftest(rule + "    pass\n")
    config = private_copy(GOOD["model"], pytester.path)
    (config.parent / "conftest.py").write_text(rule + "    return None\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--medperf-config", config)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    (line,) = [x for x in result.stderr.lines if "rule id 'x' is also defined at" in x]
    assert f"{config.parent.name}/conftest.py:4" in line
    assert line.count("conftest.py:4") == 2 and line.endswith("give one of them another id")


def test_a_conftest_beside_a_config_outside_rootdir_applies_to_its_folder_only(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    """pytest loads a config folder's conftest.py when it collects the folder; its rules
    apply there and below, not to a config in another folder."""
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "conftest.py").write_text(
        "import pytest_medperf\n\n\n"
        '@pytest_medperf.rule("beside", tasks=["infer", "evaluate"])\n'
        "def beside(run):\n    pass\n"
    )
    inside = private_copy(GOOD["model"], bench)
    other = private_copy(GOOD["model"], tmp_path)
    items, _ = pytester.inline_genitems(
        "-p", "no:cacheprovider", "--medperf-config", str(inside), "--medperf-config", str(other)
    )
    names = {short_name(item.nodeid) for item in items}
    assert f"{inside.parent.name}/container_config.yaml::infer::beside" in names
    assert f"{other.parent.name}/container_config.yaml::infer::exit-status" in names
    assert not any(n.endswith("::beside") and other.parent.name in n for n in names)


# -- rules from an installed plugin (entry point pytest11) -------------------------------


def test_rules_from_an_installed_plugin_are_items_with_their_source(
    tmp_path: Path, installed_plugin: dict[str, str]
) -> None:
    report = tmp_path / "report.json"
    proc = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
            "--medperf-config", str(GOOD["model"]), "--medperf-data", str(DATA["prepared"]),
            "--medperf-report", str(report), "-k", "one-table",
        ],
        cwd=tmp_path, env=installed_plugin, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout
    (config,) = json.loads(report.read_text())["configs"]
    (check,) = config["tasks"][0]["checks"]
    assert check["id"] == "one-table" and check["outcome"] == "passed"
    assert check["source"].startswith("plugin table-rules (")
    line = line_of(RULES_PLUGIN, 'rule("one-table"')
    assert check["source"].endswith(f"medperf_table_rules.py:{line})")


def test_a_conftest_hook_adds_rules_and_a_wrong_return_is_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    hook = (
        "import pytest_medperf\n\n\n"
        "def pytest_medperf_rules(config):\n"
        '    return pytest_medperf.rule("from-hook", tasks=["infer"])(lambda run: None)\n'
    )
    pytester.makeconftest(hook)
    config = private_copy(GOOD["model"], pytester.path)
    items, _ = pytester.inline_genitems("-p", "no:cacheprovider", "--medperf-config", config)
    assert f"{config.parent.name}/container_config.yaml::infer::from-hook" in {
        short_name(item.nodeid) for item in items
    }
    pytester.makeconftest(
        "import pytest_medperf\n\n\ndef pytest_medperf_rules(config):\n    return ['not a rule']\n"
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--medperf-config", config)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["  conftest.py:4: pytest_medperf_rules returned 'not a rule'; return rules made with*"]
    )
