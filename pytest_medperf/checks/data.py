"""statistics-valid, results-valid, sanity-check-rejects-bad-data, deterministic."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema

from ..config.schema import load_schema
from ..config.yamlsafe import read_yaml
from ..errors import ConfigError, KitError
from ..links import same_bytes, tree_entries
from . import Finding, Outcome, task_check

if TYPE_CHECKING:
    from ..session import TaskRun
    from . import CheckContext


def _json_path(parts: list[Any] | tuple[Any, ...]) -> str:
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def json_problems(value: Any, path: tuple[Any, ...] = ()) -> list[str]:
    """Why a loaded YAML value cannot be stored as JSON (NaN, Inf, non-string keys...)."""
    where = _json_path(path)
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return []
    if isinstance(value, float):
        return [] if math.isfinite(value) else [f"{where} is {value}, which JSON cannot hold"]
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            if not isinstance(key, str):
                found.append(
                    f"{_json_path((*path, key))}: the key {key!r} is a {type(key).__name__}, "
                    "not a string"
                )
            found += json_problems(item, (*path, key))
        return found
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in json_problems(item, (*path, i))]
    return [f"{where} is a {type(value).__name__}, which JSON cannot hold"]


def _validate_document(
    run: TaskRun, rule_id: str, what: str, schema: dict[str, Any], schema_name: str, fix: str
) -> Outcome:
    output = run.task.output("output_path")
    if output is None:
        return Outcome.skipped(f"{run.task.name} declares no output_path")
    host = run.outputs["output_path"]
    if host.is_symlink():  # never read through a container's link (see outputs-present)
        return Outcome.skipped(f"{what} is a symbolic link (see outputs-present)")
    if not host.is_file() or host.stat().st_size == 0:
        return Outcome.skipped(f"{what} was not written (see outputs-present)")
    shown = f"{what} ({output.mount_path})"
    try:
        data = read_yaml(host, what=what, shown=shown).data
    except ConfigError as exc:
        return _fail(run, rule_id, f"{shown} cannot be read: {exc.problem}", (exc.location(),), fix)
    if data is None:
        return _fail(
            run,
            rule_id,
            f"{shown} is empty (it loads as null); MedPerf reports "
            f"'{what.split('.')[0].capitalize()} file is empty'.",
            (),
            fix,
        )
    if not isinstance(data, dict):
        return _fail(
            run,
            rule_id,
            f"{shown} is a {type(data).__name__}, not a mapping.",
            (f"$ is a {type(data).__name__}",),
            fix,
        )
    problems = json_problems(data)
    if problems:
        return _fail(
            run,
            rule_id,
            f"{shown} cannot be stored as JSON, as MedPerf stores it.",
            tuple(problems[:8]),
            fix,
        )
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        evidence = tuple(
            f"{_json_path(tuple(e.absolute_path))}: {_schema_message(e)}" for e in errors[:8]
        )
        return _fail(run, rule_id, f"{shown} does not match {schema_name}.", evidence, fix)
    return Outcome.passed()


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "anyOf" and error.validator_value and "$ref" in str(error.schema):
        return f"{error.instance!r} is not a number, nor a mapping or list of numbers"
    if error.validator == "minProperties":
        return "the mapping is empty"
    return error.message


def _fail(run: TaskRun, rule_id: str, summary: str, evidence: tuple[str, ...], fix: str) -> Outcome:
    return Outcome.failed(Finding(rule_id, run.task.name, summary, evidence, fix))


def load_user_schema(path: Path, option: str) -> dict[str, Any]:
    """A benchmark owner's schema (JSON or YAML); KitError names the option when it is bad."""
    try:
        data = read_yaml(path, what="schema").data
    except ConfigError as exc:
        raise KitError(f"{option} {path}: {exc.problem}") from None
    if not isinstance(data, dict):
        raise KitError(f"{option} {path}: a JSON Schema is a mapping.")
    try:
        jsonschema.Draft202012Validator.check_schema(data)
    except jsonschema.SchemaError as exc:
        raise KitError(f"{option} {path}: not a valid JSON Schema: {exc.message}") from None
    return data


def _schema_for(ctx: CheckContext, kind: str) -> tuple[dict[str, Any], str]:
    """The benchmark owner's schema when given, else the kit's default in schemas/."""
    return ctx.schemas.get(kind) or (
        load_schema(f"{kind}.schema.json"),
        f"the default schema (schemas/{kind}.schema.json)",
    )


@task_check("statistics-valid", frozenset({"statistics"}))
def statistics_valid(run: TaskRun, ctx: CheckContext) -> Outcome:
    return _validate_document(
        run,
        "statistics-valid",
        "statistics.yaml",
        *_schema_for(ctx, "statistics"),
        "write statistics.yaml with yaml.safe_dump of a mapping of plain numbers, strings, "
        "lists and mappings (convert numpy values with float() / int()).",
    )


@task_check("results-valid", frozenset({"evaluate"}))
def results_valid(run: TaskRun, ctx: CheckContext) -> Outcome:
    return _validate_document(
        run,
        "results-valid",
        "results.yaml",
        *_schema_for(ctx, "results"),
        "write results.yaml with yaml.safe_dump of a mapping of metric name to a finite number "
        "(nested mappings allowed; convert numpy values with float(), replace NaN by a "
        "defined value).",
    )


@task_check("sanity-check-rejects-bad-data", frozenset({"sanity_check"}))
def sanity_check_rejects_bad_data(run: TaskRun, ctx: CheckContext) -> Outcome:
    if not run.result.succeeded:
        return Outcome.skipped("sanity_check does not accept the good data (see exit-status)")
    accepted = []
    for corruption, bad_run in ctx.corrupted_sanity_runs():
        if bad_run is None:
            continue
        if bad_run.result.succeeded:
            accepted.append(corruption)
    if not accepted:
        return Outcome.passed()
    return Outcome.failed(
        Finding(
            "sanity-check-rejects-bad-data",
            run.task.name,
            f"sanity_check exited 0 on data the kit broke on purpose ({len(accepted)} of "
            f"{len(ctx.corrupted_sanity_runs())} corruptions got through), so MedPerf would "
            "register a broken dataset.",
            tuple(f"accepted: {c}" for c in accepted),
            "make sanity_check exit non-zero when cases are missing, when labels are missing, "
            "and when a case file is empty or unreadable.",
        )
    )


@task_check("deterministic", frozenset({"infer", "evaluate"}))
def deterministic(run: TaskRun, ctx: CheckContext) -> Outcome:
    if not ctx.determinism:
        return Outcome.skipped("opt-in: give --medperf-determinism to run infer and evaluate twice")
    if not run.result.succeeded:
        return Outcome.skipped("the first run did not succeed (see exit-status)")
    again = ctx.second_run()
    if again is None or not again.result.succeeded:
        return Outcome.skipped("the second run did not succeed")
    for volume in run.task.outputs:
        difference = first_difference(run.outputs[volume.key], again.outputs[volume.key])
        if difference:
            return Outcome.failed(
                Finding(
                    "deterministic",
                    run.task.name,
                    "two runs on the same input gave different outputs.",
                    (f"{volume.mount_path}: {difference}",),
                    "seed every random generator (random, numpy, torch), sort what you list "
                    "from disk, and leave timestamps out of the outputs.",
                )
            )
    return Outcome.passed("two runs gave identical outputs")


def first_difference(first: Path, second: Path) -> str | None:
    """The first entry (in sorted order) that differs between two output trees.

    A symbolic link is compared as a link (its target text), never followed: an
    output's link names a path in a container, not on this host.
    """
    entries_a, entries_b = tree_entries(first), tree_entries(second)
    for name in sorted(entries_a.keys() | entries_b.keys()):
        shown = first.name if name == "." else name
        if name not in entries_a or name not in entries_b:
            which = "second" if name not in entries_a else "first"
            return f"{shown} exists only in the {which} run"
        (kind_a, link_a), (kind_b, link_b) = entries_a[name], entries_b[name]
        if kind_a != kind_b:
            return f"{shown} is a {kind_a} in the first run and a {kind_b} in the second"
        if kind_a == "link" and link_a != link_b:
            return f"{shown} is a link to {link_a!r} in the first run, to {link_b!r} in the second"
        if kind_a == "file":
            a, b = _under(first, name), _under(second, name)
            if not same_bytes(a, b):
                return f"{shown} differs{_first_line_diff(a, b)}"
    return None


def _under(root: Path, name: str) -> Path:
    return root if name == "." else root / name


def _first_line_diff(a: Path, b: Path) -> str:
    try:
        with open(a, errors="strict") as left, open(b, errors="strict") as right:
            for number, (x, y) in enumerate(zip(left, right, strict=False), start=1):
                x, y = x.rstrip("\n"), y.rstrip("\n")
                if x != y:
                    return f" at line {number}: {x[:80]!r} then {y[:80]!r}"
    except (UnicodeDecodeError, OSError):
        return ""
    return ""
