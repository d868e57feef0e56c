"""matches-baseline: statistics.yaml and results.yaml against the reviewed golden values
of the same container x model x dataset (opt-in: --medperf-baseline DIR)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from ...config.yamlsafe import read_yaml
from ...errors import ConfigError
from ...version import __version__
from ..base import Finding, Verdict, task_check
from .baseline_store import Entry, Recorded, compare, entry_path, read_entry, table

if TYPE_CHECKING:
    from ...engine.runs import FinishedRun
    from ..base import CheckContext

KIND_OF_TASK = {"statistics": "statistics", "evaluate": "results"}


@task_check("matches-baseline", frozenset(KIND_OF_TASK))
def matches_baseline(run: FinishedRun, ctx: CheckContext) -> Verdict:
    settings, identity = ctx.baseline, ctx.identity
    if settings is None or identity is None:
        return Verdict.skipped("opt-in: give --medperf-baseline DIR")
    kind = KIND_OF_TASK[run.task.name]
    where = entry_path(settings.root, kind, identity.config, identity.model, identity.dataset)
    now_recorded = Recorded(identity.image_id, _parameters_hash(run), __version__)

    def fail(summary: str, evidence: tuple[str, ...], fix: str) -> Verdict:
        return Verdict.failed(Finding("matches-baseline", run.task.name, summary, evidence, fix))

    output = run.outputs.get("output_path")
    try:
        if output is None or output.is_symlink():
            raise ConfigError(str(output), "not written")
        values = read_yaml(output, what=f"{kind}.yaml").data
    except ConfigError:
        values = None
    if not isinstance(values, dict):
        return fail(
            f"{kind}.yaml cannot be compared with the baseline: it is not a readable mapping "
            f"(see {'results-valid' if kind == 'results' else 'statistics-valid'}).",
            (f"baseline: {where}",),
            f"make {kind}.yaml valid first.",
        )
    entry = Entry(kind, identity.config, identity.model, identity.dataset, now_recorded, values)
    if settings.update:
        return _record(where, entry, settings.rtol, settings.atol)
    if not where.is_file():
        return fail(
            f"no baseline is stored for {_who(identity)}.",
            (f"expected: {where}",),
            "record it once with --medperf-update-baseline, review the new file and commit it.",
        )
    try:
        stored = read_entry(where)
    except (ValueError, OSError) as exc:
        return fail(
            f"the baseline {where} cannot be read.",
            (str(exc),),
            "restore it from version control, or record it again with --medperf-update-baseline.",
        )
    rows = compare(stored.values, values, rtol=settings.rtol, atol=settings.atol)
    if not rows:
        return Verdict.passed()
    because = stored.recorded.changes_from(now_recorded)
    evidence = tuple(table(rows))
    evidence += (f"baseline: {where} (rtol {settings.rtol:g}, atol {settings.atol:g})",)
    evidence += tuple(f"since the baseline, {sentence}" for sentence in because)
    return fail(
        f"{len(rows)} value(s) of {kind}.yaml differ from the baseline for {_who(identity)}"
        + (" — " + because[0] if because else "")
        + ".",
        evidence,
        "if the change is intended, run with --medperf-update-baseline and review the diff "
        "of the baseline file before you commit it; otherwise find what changed the values.",
    )


def _record(where: Path, entry: Entry, rtol: float, atol: float) -> Verdict:
    """--medperf-update-baseline: write the entry and say what it changed."""
    if where.is_file():
        try:
            old = read_entry(where)
            rows = compare(old.values, entry.values, rtol=rtol, atol=atol)
        except (ValueError, OSError):
            rows = None
        if rows == [] and old.recorded == entry.recorded:
            return Verdict.passed(f"baseline {where} is up to date")
        note = (
            f"baseline {where} refreshed: "
            + (
                f"{len(rows)} value(s) changed ({', '.join(r.path for r in rows[:5])})"
                if rows
                else "values unchanged, provenance updated"
            )
            if rows is not None
            else f"baseline {where} was unreadable and is written anew"
        )
    else:
        note = f"baseline {where} recorded (new)"
    where.parent.mkdir(parents=True, exist_ok=True)
    where.write_text(entry.to_yaml(), encoding="utf-8")
    return Verdict.passed(note)


def _parameters_hash(run: FinishedRun) -> str | None:
    path = run.inputs.get("parameters_file")
    if path is None or not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _who(identity: object) -> str:
    model = getattr(identity, "model", None)
    text = f"{getattr(identity, 'config', '?')}"
    if model:
        text += f" with model {model}"
    return text + f" on dataset {getattr(identity, 'dataset', '?')}"
