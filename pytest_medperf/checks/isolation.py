"""no-network, no-writes-outside, inputs-untouched, non-root: the sandbox's clauses."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ..observe.digests import is_under
from ..runtimes.base import is_singularity
from .at_site import homeless_write, passwd_signs
from .base import OFFLINE_TASKS, Finding, Verdict, task_check
from .basic import log_evidence, outputs_problems, stray_writes

if TYPE_CHECKING:
    from ..engine.runs import FinishedRun
    from ..runtimes.base import DeniedAccess, FsChange
    from .base import CheckContext


@task_check("no-network", OFFLINE_TASKS)
def no_network(run: FinishedRun, ctx: CheckContext) -> Verdict:
    seen = run.result.network
    from_log = run.result.network_lines
    log_lines = tuple(f"log: {item.line}" for item in from_log)
    if seen is not None and seen.observed:
        if not seen.attempts:
            return Verdict.passed()
        counts = Counter(a.describe() for a in seen.attempts)
        evidence = tuple(
            f"{what}" + (f" ({n} times)" if n > 1 else "") for what, n in counts.items()
        )
        targets = sorted({a.target for a in seen.attempts})
        return Verdict.failed(
            Finding(
                "no-network",
                run.task.name,
                _network_summary(run, targets) + " A benchmark forbids the attempt: a data "
                "owner must be able to trust that nothing tries to leave.",
                evidence + log_lines,
                "remove downloads, telemetry and uploads; ship weights in the image or in "
                "additional_files, and set libraries offline (e.g. HF_HUB_OFFLINE=1).",
            )
        )
    why = (seen.note if seen is not None else None) or "this runtime cannot be observed"
    if not from_log:
        return Verdict.passed(f"observation partial ({why}); the log shows no network error")
    hosts = sorted({item.host for item in from_log if item.host})
    return Verdict.failed(
        Finding(
            "no-network",
            run.task.name,
            _network_summary(run, hosts, "the log shows that")
            + f" Observation was partial ({why}), so this rests on the log alone.",
            log_lines,
            "remove downloads, telemetry and uploads; ship weights in the image or in "
            "additional_files.",
        )
    )


def _network_summary(run: FinishedRun, targets: list[str], seen: str = "the kit saw that") -> str:
    """The truth about MedPerf first: it runs every task with no network and checks
    nothing about it, so a caught attempt leaves MedPerf's run as it was."""
    what = f"tried to reach {', '.join(targets[:4])}" if targets else "tried to use the network"
    if run.result.succeeded:
        return (
            f"MedPerf accepts this run (it exits 0; MedPerf runs tasks with no network and "
            f"checks nothing about network use), but {seen} the task {what}; the network "
            "is off, so nothing left."
        )
    return (
        f"{seen.capitalize()} the task {what}; MedPerf runs tasks with no network, so the "
        "attempt failed (the run's failure is exit-status's)."
    )


def _outputs_and_tmp(run: FinishedRun) -> list[str]:
    return [v.mount_path for v in run.task.outputs] + ["/tmp"]


def _input_mounts(run: FinishedRun) -> list[str]:
    return [v.mount_path for v in run.task.inputs]


@task_check("no-writes-outside")
def no_writes_outside(run: FinishedRun, ctx: CheckContext) -> Verdict:
    written = stray_writes(run)
    tried = [
        d
        for d in run.result.denied
        if _write_attempt_outside(run, d) and not homeless_write(run, d.path)
    ]
    if not written and not tried:
        return Verdict.passed()
    evidence = tuple(f"{c.kind}: {c.path}" for c in written[:10])
    evidence += tuple(f"denied: {d.path} (log: {d.line})" for d in tried[:5])
    allowed = ", ".join(_outputs_and_tmp(run))
    if run.result.succeeded:
        first = "MedPerf accepts this run (it exits 0; MedPerf checks nothing about writes), but "
    else:
        first = "Beside the run's failure (see exit-status), "
    did = "wrote" if written else "tried to write"
    after = _where_it_fails(written) if written else " The write was refused here."
    return Verdict.failed(
        Finding(
            "no-writes-outside",
            run.task.name,
            f"{first}the task {did} outside its output mounts and /tmp ({allowed}), which a "
            f"benchmark forbids.{after}",
            evidence,
            "write only to the output mounts and /tmp: point HOME, caches and temp files at "
            "/tmp (e.g. ENV HOME=/tmp, XDG_CACHE_HOME=/tmp/.cache, MPLCONFIGDIR=/tmp).",
        )
    )


def _where_it_fails(written: list[FsChange]) -> str:
    """What a write that Docker let through does at a Singularity site: Apptainer's
    --containall gives /var/tmp (like /tmp) a private writable folder, discarded at exit;
    elsewhere the image is read-only."""
    elsewhere = [c.path for c in written if not is_under(c.path, "/var/tmp")]
    if not elsewhere:
        return (
            " Under Singularity/Apptainer (--containall) /var/tmp is a private folder, "
            "discarded at exit, so the write works there too."
        )
    return (
        " Under Singularity/Apptainer the image is read-only, so at a site running it there "
        f"this write ({elsewhere[0]}) is refused, where Docker let it through."
    )


def _write_attempt_outside(run: FinishedRun, denied: DeniedAccess) -> bool:
    if any(is_under(denied.path, m) for m in _outputs_and_tmp(run) + _input_mounts(run)):
        return False  # outputs and /tmp are allowed; inputs belong to inputs-untouched
    # EROFS is always a write. EACCES on a path that still does not exist was a create.
    return denied.read_only or not denied.exists


@task_check("inputs-untouched")
def inputs_untouched(run: FinishedRun, ctx: CheckContext) -> Verdict:
    changed = [f"{key}: {what}" for key, whats in run.input_changes.items() for what in whats]
    tried = [d for d in run.result.denied if any(is_under(d.path, m) for m in _input_mounts(run))]
    if not changed and not tried:
        return Verdict.passed()
    evidence = tuple(changed[:10]) + tuple(
        f"tried to change {d.path} (log: {d.line})" for d in tried[:5]
    )
    summary = (
        "an input differs after the run."
        if changed
        else "MedPerf accepts this run (it exits 0), but the task tried to change its inputs, "
        "which a benchmark forbids: MedPerf mounts them read-only, the write was refused and "
        "the task went on."
        if run.result.succeeded
        else "the task tried to change its read-only inputs; MedPerf mounts them read-only, so "
        "the write was refused (the run's failure is exit-status's)."
    )
    return Verdict.failed(
        Finding(
            "inputs-untouched",
            run.task.name,
            summary,
            evidence,
            "treat data, labels, parameters and additional files as read-only: copy what you "
            "must change to /tmp and work there.",
        )
    )


def _non_root_fix(denied: list[DeniedAccess]) -> str:
    """The fix the evidence asks for: a denied write (a path that still does not exist
    was a create), a denied read (an existing path), or both when the log says nothing."""
    wrote = [d for d in denied if not d.exists]
    read = [d for d in denied if d.exists]
    fixes = []
    if wrote or not read:
        fixes.append(
            "write only to the output mounts and /tmp (point HOME, caches and temp files at /tmp)"
        )
    if read or not wrote:
        fixes.append("make what the task reads in the image readable (chmod a+rX)")
    return "; ".join(fixes) + "."


@task_check("non-root")
def non_root(run: FinishedRun, ctx: CheckContext) -> Verdict:
    result = run.result
    if result.succeeded and not outputs_problems(run):
        return Verdict.passed()
    if is_singularity(result.runtime):
        return Verdict.skipped(
            "under Singularity the task runs as you and the kit cannot rerun it as root"
        )
    if result.timed_out or result.start_error:
        return Verdict.passed()  # it did not finish: not a permission question
    if passwd_signs(run):
        return Verdict.skipped(
            f"uid {result.user} is not in the image's /etc/passwd and the log shows it: "
            "exit-status names that cause, which root (listed there) does not meet"
        )
    as_root = ctx.rerun_as_root()
    if as_root is None:
        return Verdict.skipped("the kit could not run the task a second time as root")
    if not (as_root.result.succeeded and not outputs_problems(as_root)):
        return Verdict.passed()  # fails as root too: not a permission problem
    denied = [d for d in result.denied if not d.read_only]
    evidence: tuple[str, ...] = (
        f"as root (uid 0): exit status {as_root.result.exit_code}, outputs present",
        f"as uid {result.user}: "
        + (f"exit status {result.exit_code}" if not result.succeeded else "outputs missing"),
    )
    evidence += tuple(f"denied: {d.path} (log: {d.line})" for d in denied[:5])
    if not denied:
        evidence += log_evidence(run, 6)
    return Verdict.failed(
        Finding(
            "non-root",
            run.task.name,
            f"the task works as root but fails as uid {result.user}, the non-root user MedPerf "
            "runs it as.",
            evidence,
            _non_root_fix(denied),
        )
    )
