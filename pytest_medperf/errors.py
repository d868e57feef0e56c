"""The kit's own errors: each carries one sentence a container author can act on.

Anything the user gave us (a config, a data folder, the engine) that is wrong
ends up as one of these, so the plugin can show the sentence instead of a
traceback.
"""

from __future__ import annotations


class KitError(Exception):
    """A problem the kit explains in plain words; never shown with a traceback."""


class ConfigError(KitError):
    """A container config that cannot be used, located by file and key path."""

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        key: str | None = None,
        fix: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        self.fix = fix
        self.line = line
        self.column = column
        super().__init__(self.sentence())

    def location(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
            if self.column is not None:
                where += f", column {self.column}"
        if self.key:
            where += f", key {self.key}"
        return where

    def sentence(self) -> str:
        text = f"{self.location()}: {self.problem}"
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


class ConfigErrors(KitError):
    """Several problems found in one config, reported together."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        super().__init__("\n".join(e.sentence() for e in errors))


class EngineUnavailable(KitError):
    """No container engine answers (daemon stopped, socket missing, no permission)."""


class InputMissing(KitError):
    """A task needs an input the user did not give; the message names the option."""


class MedPerfFormatWarning(UserWarning):
    """A config the kit still runs but current MedPerf no longer loads (a legacy mlcube.yaml).

    `-W error::pytest_medperf.MedPerfFormatWarning` turns it into a config-valid failure.
    """
