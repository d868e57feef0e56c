"""--medperf-jobs / medperf_jobs: a whole number of at least 1, reaching the session's
settings; anything else is a usage error that says what to give."""

from __future__ import annotations

import pytest
from conftest import GOOD

from pytest_medperf.engine.scheduling.jobs import default_jobs
from pytest_medperf.plugin.options.table import KIT_KEY


@pytest.mark.parametrize(("given", "expected"), [("3", 3), ("1", 1), (None, default_jobs())])
def test_the_value_reaches_the_session_settings(
    pytester: pytest.Pytester, given: str | None, expected: int
) -> None:
    args = ["--medperf-config", str(GOOD["model"])]
    config = pytester.parseconfigure(*args, *(["--medperf-jobs", given] if given else []))
    assert config.stash[KIT_KEY].session.options.jobs == expected


def test_the_ini_setting_is_read_too(pytester: pytest.Pytester) -> None:
    ini = pytester.makeini("[pytest]\nmedperf_jobs = 5\n")
    config = pytester.parseconfigure("-c", str(ini), "--medperf-config", str(GOOD["model"]))
    assert config.stash[KIT_KEY].session.options.jobs == 5


@pytest.mark.parametrize("given", ["0", "-2", "two", "1.5", "ini:0"])
def test_anything_but_a_whole_number_of_at_least_one_is_a_usage_error(
    pytester: pytest.Pytester, given: str
) -> None:
    args = ["--medperf-config", str(GOOD["model"])]
    if given.startswith("ini:"):
        given = given.removeprefix("ini:")
        args += ["-c", str(pytester.makeini(f"[pytest]\nmedperf_jobs = {given}\n"))]
    else:
        args.append(f"--medperf-jobs={given}")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*--medperf-jobs {given!r}: give a whole number of steps at once, at least 1*"]
    )
    assert "Traceback" not in result.stderr.str()
