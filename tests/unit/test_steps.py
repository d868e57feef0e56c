"""Steps are typed values; their names are the node ids and log names users already see."""

from __future__ import annotations

import pytest

from pytest_medperf.engine.steps import Purpose, Step


@pytest.mark.parametrize("name", ["prepare", "infer", "evaluate[model_a]", "evaluate[m+]"])
def test_a_node_name_parses_back_to_the_same_step(name: str) -> None:
    assert Step.parse(name).name == name


def test_evaluate_names_its_model() -> None:
    step = Step.parse("evaluate[model_a]")
    assert (step.task, step.model, step.purpose) == ("evaluate", "model_a", Purpose.RUN)


def test_extra_runs_are_distinct_steps_of_the_same_task() -> None:
    infer = Step("infer")
    as_root, again = infer.extra(Purpose.AS_ROOT), infer.extra(Purpose.AGAIN)
    broken = Step("sanity_check").extra(Purpose.CORRUPTED, "labels folder emptied")
    assert len({infer, as_root, again}) == 3
    assert as_root.first == infer and broken.first == Step("sanity_check")
    # the run folders and log files keep the names they had
    assert [infer.label, as_root.label, again.label] == ["infer", "infer-as-root", "infer-again"]
    assert broken.label == "sanity_check-labels folder emptied"
    assert Step("evaluate", "m").extra(Purpose.AS_ROOT).label == "evaluate[m]-as-root"
