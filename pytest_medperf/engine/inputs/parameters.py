"""A container's parameters file, read the way MedPerf reads it.

MedPerf loads the submitted file with yaml.safe_load (an empty file becomes an
empty mapping), stores the result as the container's parameters (a mapping; the
client's schema refuses anything else) and, before each run, writes it back with
yaml.safe_dump to the file it mounts. The kit does the same, so a container sees
the bytes a site would give it, and a file MedPerf could not take is found before
anything runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ...errors import KitError

MAX_BYTES = 1 << 20  # parameters are a few lines; MedPerf sends them to its server as JSON


class ParametersMissing(KitError):
    """No parameters file where the kit looked."""


class ParametersUnusable(KitError):
    """A parameters file MedPerf could not take; the text says why and what to change."""

    def __init__(self, problem: str, fix: str) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem} Fix: {fix}")


def load_parameters(path: Path) -> dict[Any, Any]:
    """The parameters as MedPerf would store them; raises ParametersMissing/Unusable."""
    if not path.exists():
        raise ParametersMissing(str(path))
    if path.is_dir():
        raise ParametersUnusable(
            f"{path} is a folder, not a parameters file.", "give the path of a YAML file."
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ParametersUnusable(
            f"{path} cannot be read ({exc.strerror}).", "make the file readable."
        ) from None
    if len(raw) > MAX_BYTES:
        raise ParametersUnusable(
            f"{path} is {len(raw)} bytes; a parameters file is a few lines.",
            "keep large files in additional_files and name them in the parameters.",
        )
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ParametersUnusable(
            f"{path}: byte {exc.start} is not valid UTF-8.", "save the file as UTF-8."
        ) from None
    except yaml.YAMLError as exc:
        raise ParametersUnusable(
            f"{path} is not YAML that MedPerf can read ({_yaml_problem(exc)}); MedPerf loads "
            "it with yaml.safe_load and cannot submit it.",
            "correct the YAML at that place (tags that build Python objects are not allowed).",
        ) from None
    except (ValueError, TypeError, RecursionError) as exc:  # e.g. a date like 2020-13-45
        raise ParametersUnusable(
            f"{path}: yaml.safe_load, which MedPerf reads it with, fails ({exc}).",
            "quote values that only look like dates or numbers, and nest less deeply.",
        ) from None
    if data is None:
        return {}  # MedPerf's submit stores an empty file as an empty mapping
    if not isinstance(data, dict):
        raise ParametersUnusable(
            f"{path} holds {_kind(data)}, not a mapping: MedPerf stores a container's "
            "parameters as a mapping of names to values and refuses anything else.",
            "write the parameters as `name: value` lines (one mapping at the top level).",
        )
    return data


def medperf_text(parameters: dict[Any, Any]) -> str:
    """The file MedPerf writes and mounts for these parameters."""
    return yaml.safe_dump(parameters)


def _kind(data: object) -> str:
    if isinstance(data, list):
        return "a list"
    if isinstance(data, str):
        return f"a single string ({data[:40]!r})"
    return f"a single value ({data!r:.40})"


def _yaml_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        return where + (exc.problem or exc.context or "invalid YAML")
    return str(exc)
