"""--medperf-pull without an engine: the registry's problems, told apart by the words the
engine uses (the pulls themselves: tests/docker/test_artifact_pull.py)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("engine_says", "reason"),
    [
        # the port holds "404": a refused connection is still "unreachable"
        ('Get "http://127.0.0.1:40479/v2/": dial tcp 127.0.0.1:40479: connect: connection '
         "refused", "cannot be reached (unreachable)"),
        ("manifest for 127.0.0.1:40479/m:1 not found: manifest unknown", "does not hold it"),
    ],
)  # fmt: skip
def test_registry_problems_are_told_apart_by_their_words(engine_says: str, reason: str) -> None:
    from pytest_medperf.runtimes.artifacts.registry import _registry_problem

    message = _registry_problem("127.0.0.1:40479/m:1", RuntimeError(engine_says))
    assert reason in message
