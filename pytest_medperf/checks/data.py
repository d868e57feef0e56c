"""statistics-valid, results-valid, sanity-check-rejects-bad-data, deterministic."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema

from ..config.schema import load_schema
from ..config.yamlsafe import read_yaml
from ..errors import ConfigError, KitError
from .base import Finding, Verdict, task_check
from .compare.output_diff import first_difference

if TYPE_CHECKING:
    from ..engine.runs import FinishedRun
    from .base import CheckContext


def _json_path(parts: list[Any] | tuple[Any, ...]) -> str:
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def json_problems(value: Any, path: tuple[Any, ...] = ()) -> list[str]:
    """Why MedPerf's json.dumps would refuse a loaded YAML value (dates, binary, sets...).

    NaN and Infinity are not problems: MedPerf sends them as the strings "nan",
    "Infinity" and "-Infinity" (non_finite() lists them for a warning).
    """
    where = _json_path(path)
    if isinstance(value, (bool, str, int, float)) or value is None:
        return []
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                found.append(
                    f"{_json_path((*path, key))}: the key {key!r} is a {type(key).__name__}, "
                    "which JSON cannot hold as a key"
                )
            found += json_problems(item, (*path, key))
        return found
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in json_problems(item, (*path, i))]
    return [f"{where} is a {type(value).__name__} ({value!r:.60}), which JSON cannot hold"]


def non_finite(value: Any, path: tuple[Any, ...] = ()) -> list[str]:
    """The JSON paths of NaN and +-Infinity values, with what MedPerf stores instead."""
    if isinstance(value, float) and not math.isfinite(value):
        stored = "nan" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        return [f"{_json_path(path)} is {value} (MedPerf stores the string {stored!r})"]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in non_finite(item, (*path, key))]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in non_finite(item, (*path, i))]
    return []


@dataclass(frozen=True)
class _Document:
    """statistics.yaml or results.yaml: what MedPerf reads after the task, and how."""

    rule_id: str
    kind: str  # "statistics" | "results": the schema names
    what: str  # file name shown to the author
    medperf_name: str  # "Statistics" / "Results", as MedPerf's messages say
    fix: str
    missing: str  # what MedPerf does when the file is not there after the task
    no_results_when_empty: bool = False  # run_script: empty is no results, no error

    @property
    def empty_says(self) -> str:
        """MedPerf's exact words (get_results has no final period, run_statistics has)."""
        end = "." if self.kind == "statistics" else ""
        return f"{self.medperf_name} file is empty{end}"


STATISTICS = _Document(
    "statistics-valid",
    "statistics",
    "statistics.yaml",
    "Statistics",
    "write statistics.yaml with yaml.safe_dump of a mapping of plain numbers, strings, "
    "lists and mappings (convert numpy values with float() / int() first).",
    "MedPerf has no message for it and stops with a Python traceback (FileNotFoundError)",
)
RESULTS = _Document(
    "results-valid",
    "results",
    "results.yaml",
    "Results",
    "write results.yaml with yaml.safe_dump of a mapping of metric name to number "
    "(nested mappings and lists allowed; convert numpy values with float() first).",
    "MedPerf reports 'Results file does not exist'",
)


def _validate_document(run: FinishedRun, ctx: CheckContext, doc: _Document) -> Verdict:
    """Judge the file as MedPerf does after a task that exited 0 (yaml.safe_load, then
    json.dumps); after a failed task the item is skipped (step_items.py: one cause, one
    failure), as MedPerf never reads the file then."""
    output = run.task.output("output_path")
    if output is None:  # config-valid requires it; nothing to judge without it
        return Verdict.skipped(f"{run.task.name} declares no output_path")
    host = run.outputs["output_path"]
    return _judge_file(run, ctx, doc, host, f"{doc.what} ({output.mount_path})")


def _judge_file(
    run: FinishedRun, ctx: CheckContext, doc: _Document, host: Path, shown: str
) -> Verdict:
    """The file as MedPerf reads it: a safe YAML mapping it can send as JSON."""

    def fail(summary: str, evidence: tuple[str, ...] = (), fix: str = doc.fix) -> Verdict:
        return Verdict.failed(Finding(doc.rule_id, run.task.name, summary, evidence, fix))

    if host.is_symlink():  # never read through a container's link (see outputs-present)
        return fail(
            f"{shown} is a symbolic link after the run; the kit does not follow a "
            "container's link (outputs-present names its target)."
        )
    if not host.exists():
        return fail(f"{shown} does not exist after the run; {doc.missing}.")
    if not host.is_file():
        return fail(f"{shown} is not a regular file after the run.")
    if host.stat().st_size == 0:
        return fail(
            f"{shown} is empty (0 bytes): the task wrote nothing there (MedPerf creates the "
            f"file empty before the run), and MedPerf reports "
            f"'{doc.empty_says}'.",
            (f"the run's exit status was {run.result.exit_code}",)
            if run.result.exit_code not in (0, None)
            else (),
        )
    try:
        data = read_yaml(host, what=doc.what, shown=shown).data
    except ConfigError as exc:
        evidence: tuple[str, ...] = (exc.location(),)
        if exc.key_path is not None:
            evidence = (f"{_json_path(exc.key_path)} ({exc.location()})",)
        return fail(
            f"{shown} cannot be read by yaml.safe_load, as MedPerf reads it: {exc.problem}",
            evidence,
            exc.fix or doc.fix,
        )
    if data is None:
        if doc.no_results_when_empty:
            return fail(f"{shown} is empty (it loads as null): {NO_RESULTS}")
        return fail(f"{shown} is empty (it loads as null); MedPerf reports '{doc.empty_says}'.")
    if not isinstance(data, dict):
        return fail(
            f"{shown} is a {type(data).__name__}, not a mapping; MedPerf stores a mapping.",
            (f"$ is a {type(data).__name__}",),
        )
    problems = json_problems(data)
    if problems:
        return fail(
            f"{shown} cannot be sent to MedPerf's server: MedPerf converts it to JSON, "
            "which fails on these values.",
            tuple(problems[:8]),
        )
    warnings: list[str] = []
    strict_failures: list[str] = []
    nonfinite = non_finite(data)
    if nonfinite:
        (strict_failures if ctx.strict else warnings).extend(nonfinite)
    if not data and not ctx.strict:  # the strict schema requires a non-empty mapping
        warnings.append(f"$ is an empty mapping: MedPerf stores it, but it holds no {doc.kind}")
    schema, schema_name = _schema_for(ctx, doc.kind)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if strict_failures:
        return fail(
            f"{shown} holds values that MedPerf accepts but --medperf-strict refuses.",
            tuple(strict_failures[:8]),
            "write a finite number for every metric (replace NaN/Infinity by a defined value, "
            "or leave the metric out), or drop --medperf-strict.",
        )
    if errors:
        evidence = tuple(
            f"{_json_path(tuple(e.absolute_path))}: {_schema_message(e)}" for e in errors[:8]
        )
        return fail(f"{shown} does not match {schema_name}.", evidence)
    return Verdict.passed(warnings=tuple(f"{doc.what}: {w}" for w in warnings))


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "anyOf" and "metric" in str(error.schema):
        return f"{error.instance!r} is not a number, nor a mapping or list of numbers"
    if error.validator == "minProperties":
        return "the mapping is empty"
    return error.message


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
    """The benchmark owner's schema when given, else the kit's default in schemas/
    (what MedPerf accepts, or the strict one under --medperf-strict)."""
    given = ctx.schemas.get(kind)
    if given is not None:
        return given
    name = f"{kind}.strict.schema.json" if ctx.strict else f"{kind}.schema.json"
    return load_schema(name), f"the {'strict' if ctx.strict else 'default'} schema (schemas/{name})"


@task_check("statistics-valid", frozenset({"statistics"}))
def statistics_valid(run: FinishedRun, ctx: CheckContext) -> Verdict:
    return _validate_document(run, ctx, STATISTICS)


@task_check("results-valid", frozenset({"evaluate", "run_script"}))
def results_valid(run: FinishedRun, ctx: CheckContext) -> Verdict:
    if run.task.name == "run_script":
        return _script_results(run, ctx)
    return _validate_document(run, ctx, RESULTS)


NO_RESULTS = (
    "MedPerf would record no results for this run, without an error (script_execution.py "
    "reads a missing or empty results.yaml as no results)."
)
SCRIPT_RESULTS = replace(RESULTS, no_results_when_empty=True)


def _script_results(run: FinishedRun, ctx: CheckContext) -> Verdict:
    """run_script leaves results.yaml in results_path, the folder MedPerf creates before
    the run; a missing or empty file is no results to MedPerf, never an error."""
    output = run.task.output("results_path")

    def fail(summary: str) -> Verdict:
        return Verdict.failed(Finding("results-valid", run.task.name, summary, (), RESULTS.fix))

    if output is None:
        return fail(
            "run_script declares no results_path output, so MedPerf mounts no results folder "
            "and stops after the run with 'Results folder does not exist'."
        )
    shown = f"results.yaml ({output.mount_path}/results.yaml)"
    host = run.outputs["results_path"] / "results.yaml"
    if not host.is_symlink():  # a link: _judge_file names it, never follows it
        if not host.exists():
            return fail(f"{shown} does not exist after the run: {NO_RESULTS}")
        if host.is_file() and host.stat().st_size == 0:
            return fail(f"{shown} is empty (0 bytes): {NO_RESULTS}")
    return _judge_file(run, ctx, SCRIPT_RESULTS, host, shown)


@task_check("sanity-check-rejects-bad-data", frozenset({"sanity_check"}))
def sanity_check_rejects_bad_data(run: FinishedRun, ctx: CheckContext) -> Verdict:
    if not run.result.succeeded:
        return Verdict.skipped("sanity_check does not accept the good data (see exit-status)")
    accepted = []
    for corruption, bad_run in ctx.corrupted_sanity_runs():
        if bad_run is None:
            continue
        if bad_run.result.succeeded:
            accepted.append(corruption)
    if not accepted:
        return Verdict.passed()
    return Verdict.failed(
        Finding(
            "sanity-check-rejects-bad-data",
            run.task.name,
            "MedPerf accepts this sanity_check (it judges it by its exit status alone, on the "
            "data a site prepared or submitted as prepared, and never feeds it broken data), but "
            "it exited 0 on data the kit broke on purpose "
            f"({len(accepted)} of {len(ctx.corrupted_sanity_runs())} corruptions got through): "
            "a site's broken dataset would pass it too.",
            tuple(f"accepted: {c}" for c in accepted),
            "make sanity_check exit non-zero when cases are missing, when labels are missing, "
            "and when a case file is empty or unreadable.",
        )
    )


@task_check("deterministic", frozenset({"infer", "evaluate", "run_script"}))
def deterministic(run: FinishedRun, ctx: CheckContext) -> Verdict:
    if not ctx.determinism:
        return Verdict.skipped(
            "opt-in: give --medperf-determinism to run infer, evaluate and run_script twice"
        )
    if not run.result.succeeded:
        return Verdict.skipped("the first run did not succeed (see exit-status)")
    again = ctx.second_run()
    if again is None or not again.result.succeeded:
        return Verdict.skipped("the second run did not succeed")
    for volume in run.task.outputs:
        difference = first_difference(run.outputs[volume.key], again.outputs[volume.key])
        if difference:
            return Verdict.failed(
                Finding(
                    "deterministic",
                    run.task.name,
                    "two runs on the same input gave different outputs.",
                    (f"{volume.mount_path}: {difference}",),
                    "seed every random generator (random, numpy, torch), sort what you list "
                    "from disk, and leave timestamps out of the outputs.",
                )
            )
    return Verdict.passed()
