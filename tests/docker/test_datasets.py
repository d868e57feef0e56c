"""Several datasets (issue #13, item 1): --medperf-demo-data and --medperf-data repeatable
and named; every step runs once per dataset of its config and says which in its node id;
a model that only knows the demo set is caught by a second dataset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DATA, GOOD, SAMPLES

from pytest_medperf.engine.configs import Configs
from pytest_medperf.engine.datasets import GivenDataset
from pytest_medperf.engine.graph import StepGraph
from pytest_medperf.engine.kit_options import KitOptions
from pytest_medperf.engine.steps import ConfigStep, Purpose, Step
from pytest_medperf.errors import KitError
from pytest_medperf.plugin.dataset_options import parse_datasets
from pytest_medperf.runtimes.base import ImageUnavailable

SITE_B = SAMPLES / "data" / "site_b"
DEMO_ONLY = SAMPLES / "regression" / "model_demo_only" / "container_config.yaml"
PREP, MODEL, METRICS = GOOD["data_preparator"], GOOD["model"], GOOD["metrics"]
TWO_DEMO = ("--medperf-demo-data", str(DATA["demo"]), "--medperf-demo-data", f"site_b={SITE_B}")


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


# -- pytest's options and ini settings -------------------------------------------------
def test_a_bad_dataset_option_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        "--medperf-config", str(MODEL),
        "--medperf-data", f"b={DATA['prepared']}", "--medperf-data", f"b={DATA['demo']}",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--medperf-data 'b=*demo': the dataset name 'b' is already*"])
    assert "Traceback" not in result.stderr.str()


def test_datasets_from_the_ini_file_one_per_line(pytester: pytest.Pytester) -> None:
    (pytester.path / "site").symlink_to(SITE_B)  # ini paths are relative to rootdir
    pytester.makeini(
        f"""
        [pytest]
        medperf_config = {MODEL}
        medperf_data =
            {DATA["prepared"]}
            other=site
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--collect-only", "-q")
    ids = [line for line in result.outlines if "::" in line]
    assert [i.split("::", 1)[1] for i in ids if "::exit-status" in i] == [
        "infer[prepared]::exit-status",
        "infer[other]::exit-status",
    ]


def test_k_selects_one_datasets_items(pytester: pytest.Pytester) -> None:
    configs = [arg for path in (PREP, MODEL, METRICS) for arg in ("--medperf-config", str(path))]
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--collect-only", "-q", *configs, *TWO_DEMO, "-k", "site_b"
    )  # fmt: skip
    ids = [line for line in result.outlines if "::" in line]
    tasks = {i.split("::")[1] for i in ids}
    assert tasks == {
        "prepare[site_b]", "sanity_check[site_b]", "statistics[site_b]", "infer[site_b]",
        "evaluate[site_b]",
    }  # fmt: skip
    assert len(ids) > 20 and all("site_b]" in i for i in ids)


# -- real runs ---------------------------------------------------------------------------
def test_a_second_dataset_catches_a_model_that_knows_only_the_demo_set(
    run_kit, tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    run = run_kit(
        PREP, MODEL, DEMO_ONLY, METRICS,
        args=(*TWO_DEMO, "--medperf-report", str(report), "--medperf-keep",
              "--medperf-sandbox-dir", str(tmp_path)),
    )  # fmt: skip
    # every item of the good samples passes, on both datasets
    for folder in ("data_preparator", "model"):
        assert run.only(folder).with_outcome("passed") == set(run.only(folder).outcomes)
    prep = run.only("data_preparator").outcomes
    assert {"prepare[demo]::exit-status", "statistics[site_b]::statistics-valid"} <= set(prep)
    metrics = run.only("metrics")
    assert {n.split("::")[0] for n in metrics.outcomes if "::" in n} == {
        "evaluate[model,demo]", "evaluate[model,site_b]",
        "evaluate[model_demo_only,demo]", "evaluate[model_demo_only,site_b]",
    }  # fmt: skip
    # the demo-only model: fine on demo, broken on site_b only, where its infer raises
    demo_only = run.only("model_demo_only")
    assert demo_only.with_outcome("failed") == {
        "infer[site_b]::exit-status",
        "infer[site_b]::outputs-present",  # nothing written before it raised
    }
    assert all(n.startswith("infer[site_b]") for n in demo_only.with_outcome("failed"))
    message = demo_only.messages["infer[site_b]::exit-status"]
    assert "KeyError: \"no calibration for case 'case_101'\"" in message
    assert "infer[site_b]" in message or "site_b" in message
    # its evaluate on site_b did not run (no predictions); everything else of metrics passed
    assert metrics.with_outcome("skipped") == {
        n for n in metrics.outcomes if n.startswith("evaluate[model_demo_only,site_b]")
    }
    assert "did not succeed" in metrics.messages["evaluate[model_demo_only,site_b]::exit-status"]

    data = json.loads(report.read_text())
    # each task ran once per dataset (first runs: one log each; -as-root etc. are extra)
    logs = report.with_name("report-logs")
    first_runs = sorted(
        f"{p.parent.name.split('-')[1]}/{p.stem}" for p in logs.rglob("*.log") if "--" not in p.stem
    )
    assert first_runs == [
        "data_preparator/prepare-demo", "data_preparator/prepare-site_b",
        "data_preparator/sanity_check-demo", "data_preparator/sanity_check-site_b",
        "data_preparator/statistics-demo", "data_preparator/statistics-site_b",
        "metrics/evaluate-model-demo", "metrics/evaluate-model-site_b",
        "metrics/evaluate-model_demo_only-demo",
        "model/infer-demo", "model/infer-site_b",
        "regression/infer-demo", "regression/infer-site_b",
    ]  # fmt: skip
    # each dataset imported into the sandbox once
    (sandbox,) = [p for p in tmp_path.iterdir() if p.is_dir() and (p / "inputs").is_dir()]
    imported = sorted(p.name for p in (sandbox / "inputs").iterdir() if "demo-data" in p.name)
    assert imported == ["demo-data-demo", "demo-data-site_b"]
    # the model x dataset matrix: a row per model and dataset, named by the datasets' names
    cells = {(c["model"], c["dataset"]): c for c in data["matrix"]}
    assert sorted(cells) == [
        ("model", "demo"), ("model", "site_b"),
        ("model_demo_only", "demo"), ("model_demo_only", "site_b"),
    ]  # fmt: skip
    assert cells[("model", "site_b")]["metrics"]["num_cases"] == 4
    assert cells[("model", "demo")]["metrics"]["num_cases"] == 6
    red = ("model_demo_only", "site_b")
    assert [c["verdict"] for key, c in sorted(cells.items()) if key != red] == ["pass"] * 3
    assert cells[("model_demo_only", "site_b")]["failed"] == [
        "infer::exit-status",
        "infer::outputs-present",
    ]
    tasks = {t["name"]: t for c in data["configs"] for t in c["tasks"]}
    assert tasks["infer[site_b]"]["dataset"] == "site_b"
    assert tasks["statistics[demo]"]["dataset"] == "demo"


def test_two_prepared_datasets_give_each_model_two_rows(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-v",
        "--medperf-config", str(MODEL), "--medperf-config", str(METRICS),
        "--medperf-data", f"a={DATA['prepared']}", "--medperf-data", f"b={DATA['prepared']}",
    )  # fmt: skip
    result.assert_outcomes(passed=30)
    result.stdout.fnmatch_lines(
        [
            "*container_config.yaml::infer[[]a]::exit-status PASSED*",  # [[] is fnmatch's [
            "*container_config.yaml::evaluate[[]b]::results-valid PASSED*",
            "model x dataset",
            "*model *a *1 *6 *1 *1 *pass",
            "*model *b *1 *6 *1 *1 *pass",
        ]
    )
