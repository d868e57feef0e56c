"""A benchmark owner's own rules without an engine: a rule is a callable that knows where
it was defined, an owner can unit-test one on a view they build, and `python -m
pytest_medperf rules` lists the rules with where they come from and reports a clash (the
rules as items of real runs: tests/docker/test_owner_rules.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import REPO, SAMPLES, line_of

import pytest_medperf

BENCHMARK = SAMPLES / "benchmark"


def test_the_rules_command_lists_own_rules_with_where_they_come_from(
    tmp_path: Path, installed_plugin: dict[str, str]
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest_medperf", "rules", str(BENCHMARK)],
        cwd=REPO, env=installed_plugin, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any(x.startswith("exit-status ") and x.endswith("[built-in]") for x in lines)
    conftest_text = (BENCHMARK / "conftest.py").read_text()
    line = line_of(conftest_text, '"predictions-per-case"') - 1
    own = next(x for x in lines if x.startswith("predictions-per-case "))
    assert own.endswith(f"[sample_containers/benchmark/conftest.py:{line}]")
    assert " infer " in own
    plugin = next(x for x in lines if x.startswith("one-table "))
    assert "[plugin table-rules (" in plugin


def test_the_rules_command_reports_a_clash(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(
            """\
            import pytest_medperf

            @pytest_medperf.rule("non-root", tasks=["infer"])
            def mine(run):
                pass
            """
        )
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest_medperf", "rules", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "conftest.py:3: rule id 'non-root' is a built-in rule" in proc.stderr


def test_a_rule_is_callable_and_knows_where_it_was_defined() -> None:
    @pytest_medperf.rule("here", tasks="infer", description="d")
    def here(run: pytest_medperf.TaskRun) -> str:
        return "called"

    assert isinstance(here, pytest_medperf.BenchmarkRule)
    assert here.tasks == ("infer",) and here.problems == ()
    assert here.file == Path(__file__) and here.line == line_of(
        Path(__file__).read_text(), '@pytest_medperf.rule("here"'
    )
    assert here(None) == "called"  # type: ignore[arg-type]


def test_the_sample_metrics_rule_fails_a_metric_outside_0_1(tmp_path: Path) -> None:
    """An owner can unit-test a rule: call it on a view they build."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("benchmark_rules", BENCHMARK / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = tmp_path / "results.yaml"
    results.write_text("accuracy: 1.5\nsensitivity: 0.5\nspecificity: -0.1\nnum_cases: 6\n")
    view = pytest_medperf.TaskRun(
        config_path=tmp_path / "container_config.yaml",
        kind="metrics",
        task="evaluate",
        step="evaluate",
        dataset="prepared",
        model="model",
        image="x",
        inputs={},
        outputs={"output_path": results},
        exit_code=0,
        succeeded=True,
        log_tail=(),
        log_path=None,
        duration=1.0,
    )
    with pytest.raises(pytest_medperf.RuleFailed) as failed:
        module.metrics_in_range(view)
    assert failed.value.summary == "metrics outside [0, 1] or missing"
    assert failed.value.evidence == ("accuracy: 1.5", "specificity: -0.1")
    results.write_text("accuracy: 1\nsensitivity: 0.5\nspecificity: 0.0\nnum_cases: 6\n")
    assert module.metrics_in_range(view) is None
