"""Several datasets without an engine: how --medperf-demo-data and --medperf-data values
are named and parsed, and the step graph with a step per dataset of its config (the
options through pytest and the real runs: tests/docker/test_datasets.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import GOOD, SAMPLES

from pytest_medperf.engine.configs import Configs
from pytest_medperf.engine.graph import StepGraph
from pytest_medperf.engine.inputs.datasets import GivenDataset
from pytest_medperf.engine.kit_options import KitOptions
from pytest_medperf.engine.steps import ConfigStep, Purpose, Step
from pytest_medperf.errors import KitError
from pytest_medperf.plugin.options.datasets import parse_datasets
from pytest_medperf.runtimes.base import ImageUnavailable

DEMO_ONLY = SAMPLES / "regression" / "model_demo_only" / "container_config.yaml"
PREP, MODEL, METRICS = GOOD["data_preparator"], GOOD["model"], GOOD["metrics"]


# -- the options, without an engine ----------------------------------------------------
def parse(*demo: str, data: tuple[str, ...] = (), base: Path = Path("/base")):
    return parse_datasets([(t, base) for t in demo], [(t, base) for t in data])


def test_a_dataset_is_named_after_its_folder_or_archive_unless_named() -> None:
    demo, data = parse(
        "raw/demo", "site_b=/data/b", "x/c.tar.gz", "d.tgz", "e.tar", data=("prep/ready/",)
    )
    assert demo == (
        GivenDataset("demo", Path("/base/raw/demo")),
        GivenDataset("site_b", Path("/data/b")),
        GivenDataset("c", Path("/base/x/c.tar.gz")),
        GivenDataset("d", Path("/base/d.tgz")),
        GivenDataset("e", Path("/base/e.tar")),
    )
    assert data == (GivenDataset("ready", Path("/base/prep/ready")),)


def test_a_value_whose_left_of_equals_is_no_name_is_a_path() -> None:
    (first, second, third), _ = parse("/srv/run=3/demo", "./k=v/site", "n=./k=v/site")
    assert first == GivenDataset("demo", Path("/srv/run=3/demo"))
    assert second == GivenDataset("site", Path("/base/k=v/site"))
    assert third == GivenDataset("n", Path("/base/k=v/site"))


@pytest.mark.parametrize(
    ("demo", "data", "words"),
    [
        # two default names alike, across both options
        (("x/demo",), ("y/demo",), "--medperf-data 'y/demo': the dataset name 'demo' is already "
         "given (--medperf-demo-data 'x/demo')"),
        (("a=x", "a=y"), (), "--medperf-demo-data 'a=y': the dataset name 'a' is already given"),
        # a name a node id cannot carry
        (("/srv/my site",), (), "--medperf-demo-data '/srv/my site': the dataset would be named "
         "'my site'"),
        (("bad name=/srv/x",), (), "Name it: --medperf-demo-data NAME=PATH"),
        (("site_b=",), (), "give the dataset's path after '=' (site_b=PATH)"),
        ((), ("",), "--medperf-data: an empty value"),
    ],
)  # fmt: skip
def test_duplicate_and_bad_names_are_usage_errors(demo, data, words: str) -> None:
    with pytest.raises(KitError) as raised:
        parse(*demo, data=data)
    assert words in str(raised.value)


@pytest.mark.parametrize(
    ("name", "datasets", "step"),
    [
        ("infer", (), Step("infer")),
        ("evaluate[model_a]", (), Step("evaluate", "model_a")),
        ("infer[site_b]", ("demo", "site_b"), Step("infer", dataset="site_b")),
        ("evaluate[site_b]", ("demo", "site_b"), Step("evaluate", dataset="site_b")),
        ("evaluate[m,1,demo]", ("demo", "x"), Step("evaluate", "m,1", dataset="demo")),
        # a model folder named like a dataset, with one dataset: still the model
        ("evaluate[demo]", (), Step("evaluate", "demo")),
        ("evaluate[demo,demo]", ("demo", "b"), Step("evaluate", "demo", dataset="demo")),
    ],
)
def test_node_names_parse_back_with_the_configs_datasets(name, datasets, step: Step) -> None:
    assert Step.parse(name, datasets) == step
    assert step.name == name


def test_extra_runs_keep_their_dataset_in_name_and_label() -> None:
    step = Step("sanity_check", dataset="site_b")
    broken = step.extra(Purpose.CORRUPTED, "labels folder emptied")
    assert broken.first == step and broken.dataset == "site_b"
    assert broken.label == "sanity_check[site_b]-labels folder emptied"
    as_root = Step("evaluate", "m", dataset="b").extra(Purpose.AS_ROOT)
    assert as_root.label == "evaluate[m,b]-as-root"


# -- the step graph, without an engine -------------------------------------------------
def no_image(config):
    raise ImageUnavailable("no engine in this test")


def graph(*configs: Path, demo=(), data=(), **options) -> StepGraph:
    kit_options = KitOptions(
        configs=configs,
        demo_data=tuple(GivenDataset(n, Path("/d") / n) for n in demo),
        data=tuple(GivenDataset(n, Path("/p") / n) for n in data),
        **options,
    )
    return StepGraph(kit_options, Configs(configs, {}, no_image, lambda: None))


def names(g: StepGraph, path: Path) -> list[str]:
    return [s.name for s in g.steps(path)]


def test_each_task_runs_once_per_demo_dataset_along_the_chain() -> None:
    chain = graph(PREP, MODEL, DEMO_ONLY, METRICS, demo=("demo", "site_b"))
    assert names(chain, PREP) == [
        "prepare[demo]", "prepare[site_b]", "sanity_check[demo]", "sanity_check[site_b]",
        "statistics[demo]", "statistics[site_b]",
    ]  # fmt: skip
    assert names(chain, MODEL) == ["infer[demo]", "infer[site_b]"]
    assert names(chain, METRICS) == [
        "evaluate[model,demo]", "evaluate[model,site_b]",
        "evaluate[model_demo_only,demo]", "evaluate[model_demo_only,site_b]",
    ]  # fmt: skip
    evaluate = ConfigStep(METRICS, Step("evaluate", "model_demo_only", dataset="site_b"))
    assert chain.closure([evaluate]) == [
        ConfigStep(PREP, Step("prepare", dataset="site_b")),
        ConfigStep(DEMO_ONLY, Step("infer", dataset="site_b")),
        evaluate,
    ]
    assert chain.dataset_of(METRICS, evaluate.step) == "site_b"
    assert chain.parse(METRICS, "evaluate[model_demo_only,site_b]") == evaluate.step
    # one chain per config group still: xdist keeps a dataset's prepare and infer together
    assert set(chain.chain_groups().values()) == {PREP}


def test_given_prepared_data_is_the_axis_of_models_demo_data_of_the_preparator() -> None:
    both = graph(PREP, MODEL, METRICS, demo=("raw",), data=("a", "b"))
    assert names(both, PREP) == ["prepare", "sanity_check", "statistics"]
    assert both.dataset_of(PREP, Step("statistics")) == "raw"
    assert names(both, MODEL) == ["infer[a]", "infer[b]"]
    assert both.dependencies(ConfigStep(METRICS, Step("evaluate", dataset="b"))) == [
        ConfigStep(MODEL, Step("infer", dataset="b"))
    ]
    # no demo data: sanity_check and statistics check each prepared dataset
    checked = graph(PREP, data=("a", "b"))
    assert names(checked, PREP) == [
        "prepare", "sanity_check[a]", "sanity_check[b]", "statistics[a]", "statistics[b]",
    ]  # fmt: skip
    # given predictions go with every dataset
    given = graph(METRICS, data=("a", "b"), predictions=Path("/preds"))
    assert names(given, METRICS) == ["evaluate[a]", "evaluate[b]"]
    assert given.dependencies(ConfigStep(METRICS, Step("evaluate", dataset="a"))) == []


def test_with_one_dataset_node_names_are_as_before() -> None:
    one = graph(PREP, MODEL, DEMO_ONLY, METRICS, demo=("demo",))
    assert names(one, PREP) == ["prepare", "sanity_check", "statistics"]
    assert names(one, METRICS) == ["evaluate[model]", "evaluate[model_demo_only]"]
    assert one.dataset_of(MODEL, Step("infer")) == "demo"
