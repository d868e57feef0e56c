"""JSON Schema validation of container configs, with errors in an author's words."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from .runargs import (
    GPUS_FORMS,
    command_item_problem,
    environment_fix,
    environment_problem,
    shm_size_fix,
    shm_size_problem,
)
from .yamlsafe import kind_of

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
ALLOWED_RUN_ARGS = ("command", "entrypoint", "environment", "gpus", "shm_size")


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A schema from the kit's schemas/ folder (shared with editors and CI)."""
    with open(SCHEMA_DIR / name, encoding="utf-8") as handle:
        return json.load(handle)


def dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in path) if path else "(top level)"


def schema_errors(
    data: Any, schema_name: str
) -> list[tuple[tuple[str | int, ...], str, str | None]]:
    """(key path, problem, fix) for each schema violation, outermost first."""
    schema = load_schema(schema_name)
    validator = jsonschema.Draft202012Validator(schema)
    found = []
    for error in sorted(
        validator.iter_errors(data), key=lambda e: (len(e.path), list(map(str, e.path)))
    ):
        found.extend(_describe(error))
    return found


Problem = tuple[tuple[str | int, ...], str, str | None]


def _describe(error: ValidationError) -> list[Problem]:
    # jsonschema types these fields as maybe-unset; a raised error always has them.
    instance: Any = error.instance
    schema: Any = error.schema
    expected_value: Any = error.validator_value
    path: tuple[str | int, ...] = tuple(error.absolute_path)
    parent = path[-1] if path else None
    kind = error.validator
    run_arg = _run_arg_problems(path, instance)
    if run_arg is not None:
        return run_arg
    if kind == "additionalProperties":
        extra = [k for k in instance if k not in schema.get("properties", {})]
        out: list[Problem] = []
        for key in extra:
            if parent == "run_args":
                problem = (
                    f"run_args key '{key}' is not allowed: MedPerf refuses the task "
                    f"('Run args {key} are not allowed')."
                )
                fix = f"use only {', '.join(ALLOWED_RUN_ARGS)}."
            else:
                allowed = ", ".join(schema.get("properties", {})) or "none"
                problem = f"unknown key '{key}'."
                fix = f"remove it or correct its spelling; the keys allowed here are {allowed}."
            out.append(((*path, key), problem, fix))
        return out
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return [((*path, missing), f"the required key '{missing}' is missing.", f"add {missing}.")]
    if kind == "enum":
        options = ", ".join(str(o) for o in expected_value)
        return [(path, f"{instance!r} is not allowed here.", f"use one of {options}.")]
    if kind == "pattern" and parent == "mount_path":
        return [
            (
                path,
                f"mount path {instance!r} is not absolute; MedPerf mounts volumes at "
                "absolute container paths.",
                f"write it as an absolute path, e.g. '/{instance.lstrip('./')}'.",
            )
        ]
    if kind == "pattern":
        return [(path, f"{instance!r} has the wrong form.", _field_hint(parent))]
    if kind == "type":
        expected = expected_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        words = {"object": "a mapping", "array": "a list", "string": "a string"}
        return [
            (
                path,
                f"expected {words.get(expected, expected)}, found {kind_of(instance)}.",
                _field_hint(parent),
            )
        ]
    if kind in ("oneOf", "anyOf"):
        hint = _field_hint(parent) or schema.get("description")
        return [(path, f"{instance!r} has the wrong form.", hint)]
    if kind in ("minProperties", "minItems", "minLength"):
        return [(path, "must not be empty.", _field_hint(parent))]
    return [(path, error.message + ".", _field_hint(parent))]


def _run_arg_problems(path: tuple[str | int, ...], value: Any) -> list[Problem] | None:
    """shm_size and environment values: say which MedPerf runner breaks, and how. gpus is
    judged in code alone (medperf_rules.medperf_rule_errors), where MedPerf's exact reading is."""
    if len(path) >= 3 and path[-3:-1] == ("run_args", "environment"):
        problem = environment_problem(path[-1], value)
        return [(path, problem, environment_fix(path[-1], value))] if problem else []
    if path[-2:] == ("run_args", "command") and isinstance(value, list) and value:
        found: list[Problem] = [
            ((*path, index), problem, f'quote it: "{_yaml_text(item)}".')
            for index, item in enumerate(value)
            if (problem := command_item_problem(index, item))
        ]
        return found or None
    if len(path) < 2 or path[-2] != "run_args":
        return None
    if path[-1] == "gpus":
        return []
    if path[-1] == "shm_size":
        problem = shm_size_problem(value)
        return [(path, problem, shm_size_fix(value))] if problem else []
    return None


def _yaml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _field_hint(field: str | int | None) -> str | None:
    hints = {
        "command": "give a string (split like a shell would) or a list of strings.",
        "entrypoint": "give the executable as a string.",
        "environment": "give a mapping of variable name to string value.",
        "gpus": f"give {GPUS_FORMS}.",
        "shm_size": 'give bytes or a size like "2g", as a string.',
        "tasks": "give a mapping of task name to its run_args and volumes.",
        "image": "give the image reference, e.g. myorg/model:1.0.",
    }
    return hints.get(field) if isinstance(field, str) else None
