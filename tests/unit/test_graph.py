"""The step graph, without an engine: which steps depend on which, in the order a
scheduler must run them (MedPerf's compatibility chain), and the extra runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_medperf.checks.catalogue import rule
from pytest_medperf.engine.configs import Configs
from pytest_medperf.engine.graph import StepGraph
from pytest_medperf.engine.inputs.datasets import GivenDataset
from pytest_medperf.engine.kit_options import KitOptions
from pytest_medperf.engine.steps import ConfigStep, Purpose, Step
from pytest_medperf.runtimes.base import ImageUnavailable

SAMPLES = Path(__file__).resolve().parents[2] / "sample_containers"
PREP = SAMPLES / "data_preparator" / "container_config.yaml"
MODEL = SAMPLES / "model" / "container_config.yaml"
STRICT = SAMPLES / "model_strict" / "container_config.yaml"
METRICS = SAMPLES / "metrics" / "container_config.yaml"


def no_image(config):
    raise ImageUnavailable("no engine in this test")


def graph(*configs: Path, **options) -> StepGraph:
    kit_options = KitOptions(configs=configs, **options)
    return StepGraph(kit_options, Configs(configs, {}, no_image, lambda: None))


def named(*paths: Path) -> tuple[GivenDataset, ...]:
    return tuple(GivenDataset(p.name, p) for p in paths)


def at(path: Path, task: str, **step) -> ConfigStep:
    return ConfigStep(path, Step(task, **step))


def test_the_compatibility_chain_runs_in_medperf_order() -> None:
    chain = graph(PREP, MODEL, METRICS, demo_data=named(SAMPLES / "data" / "demo"))
    wanted = [at(METRICS, "evaluate"), at(PREP, "statistics"), at(PREP, "sanity_check")]
    assert chain.closure(wanted) == [
        at(PREP, "prepare"),
        at(MODEL, "infer"),
        at(METRICS, "evaluate"),
        at(PREP, "statistics"),
        at(PREP, "sanity_check"),
    ]
    # the order is the graph's, not the order of asking twice
    assert chain.closure(wanted) == chain.closure(wanted)


def test_given_data_and_predictions_cut_the_chain() -> None:
    given = graph(
        PREP, MODEL, METRICS, data=named(SAMPLES / "data" / "prepared"), predictions=Path("/p")
    )
    assert given.dependencies(at(MODEL, "infer")) == []
    assert given.dependencies(at(METRICS, "evaluate")) == []
    # sanity_check reads --medperf-data then, not its own prepare
    assert given.dependencies(at(PREP, "sanity_check")) == []


def test_evaluate_once_per_model_depends_on_that_models_infer() -> None:
    chain = graph(PREP, MODEL, STRICT, METRICS)
    steps = chain.steps(METRICS)
    assert [s.name for s in steps] == ["evaluate[model]", "evaluate[model_strict]"]
    assert chain.dependencies(ConfigStep(METRICS, steps[1])) == [
        at(PREP, "prepare"),
        at(STRICT, "infer"),
    ]
    assert chain.chain_groups() == {PREP: PREP, MODEL: PREP, STRICT: PREP, METRICS: PREP}


@pytest.mark.parametrize("purpose", [Purpose.AS_ROOT, Purpose.AGAIN])
def test_an_extra_run_depends_on_its_first_run(purpose: Purpose) -> None:
    chain = graph(PREP, MODEL)
    extra = ConfigStep(MODEL, Step("infer").extra(purpose))
    assert chain.closure([extra]) == [at(PREP, "prepare"), at(MODEL, "infer"), extra]


def test_sanity_check_offers_a_run_per_corruption() -> None:
    declared = rule("sanity-check-rejects-bad-data").extra_runs
    assert declared is not None
    extras = declared.steps(Step("sanity_check"))
    corrupted = [e.corruption for e in extras if e.purpose is Purpose.CORRUPTED]
    assert corrupted == [
        "data folder emptied",
        "labels folder emptied",
        "every data file truncated to zero bytes",
    ]


def test_a_dataset_leaves_names_alone_when_empty_and_travels_to_dependencies() -> None:
    assert Step("infer", dataset="").name == "infer"
    chain = graph(PREP, MODEL)
    assert chain.dependencies(at(MODEL, "infer", dataset="site-a")) == [
        at(PREP, "prepare", dataset="site-a")
    ]
