"""Hostile parameters files without an engine: a mapping or the kit's own error, never
anything else (the inputs each task gets on a real run: tests/docker/test_inputs.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


# -- hostile parameters files: a mapping or the kit's own error, never anything else ------
@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("day: 2020-13-45\n", "month must be in 1..12"),
        ("n: !!int foo\n", "invalid literal for int()"),
        ("[" * 100_000, "fails (maximum recursion depth exceeded"),
        ("? [a]\n: 1\n", "found unhashable key"),
    ],
)
def test_parameters_that_break_safe_load(tmp_path: Path, text: str, words: str) -> None:
    from pytest_medperf.engine.inputs.parameters import ParametersUnusable, load_parameters

    path = tmp_path / "parameters.yaml"
    path.write_text(text)
    with pytest.raises(ParametersUnusable, match=re.escape(words)):
        load_parameters(path)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_parameters_file_loads_or_raises_the_kits_error(tmp_path: Path, raw: bytes) -> None:
    from pytest_medperf.engine.inputs.parameters import (
        ParametersUnusable,
        load_parameters,
        medperf_text,
    )

    path = tmp_path / "parameters.yaml"
    path.write_bytes(raw)
    try:
        loaded = load_parameters(path)
    except ParametersUnusable as exc:
        assert exc.problem and exc.fix
    else:
        assert isinstance(loaded, dict)
        medperf_text(loaded)
