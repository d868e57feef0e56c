"""What the work pool hands back for a key: its value or error (Done), and the two
errors of a key that never ran (NotStarted, DependencyFailed). Apart from the pool so
its callers can judge an end without reaching into the pool's threading."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class NotStarted(Exception):
    """The executor was cancelled or closed before this key could start."""

    def __init__(self, key: object) -> None:
        super().__init__(f"{key!r} was not started: the run was cancelled or closed first")
        self.key = key


class DependencyFailed(Exception):
    """A key's dependency raised (the default when no on_dependency_failure is given)."""

    def __init__(self, key: object, dependency: object, error: BaseException) -> None:
        super().__init__(f"{key!r} did not run: its dependency {dependency!r} failed: {error}")
        self.key, self.dependency, self.error = key, dependency, error


@dataclass(frozen=True)
class Done(Generic[K, V]):
    """A finished key: its value, or the exception its run raised."""

    key: K
    value: V | None = None
    error: BaseException | None = None

    def unwrap(self) -> V:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]
