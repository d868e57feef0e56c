"""The rules on a local federation (engine/federation/): plan-valid, federation-completes,
talks-only-to-aggregator, and the sandbox's rules on each member's run. A verdict per
(task, rule); several collaborators give one verdict, naming the first that breaks it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..engine.federation.files import names_aggregator, read_plan
from ..engine.federation.tasks import ADMIN_TASK
from ..observe.links import regular_files
from .base import CheckContext, Finding, Verdict
from .basic import exit_status, log_evidence
from .isolation import _non_root_fix, inputs_untouched, no_network, no_writes_outside, non_root

if TYPE_CHECKING:
    from ..engine.federation import Collaborator, FederationOutcome
    from ..engine.runs import FinishedRun

TRAIN_EXITS_0 = (
    "`medperf dataset train` prints the container's error and still exits 0, so a site "
    "sees no failed command: only this run shows it."
)
FL_RULES: dict[str, tuple[str, ...]] = {
    "generate_plan": (
        "exit-status",
        "plan-valid",
        "no-network",
        "no-writes-outside",
        "inputs-untouched",
        "non-root",
    ),
    "start_aggregator": (
        "exit-status",
        "federation-completes",
        "outputs-present",
        "no-writes-outside",
        "inputs-untouched",
        "non-root",
    ),
    "train": (
        "exit-status",
        "talks-only-to-aggregator",
        "no-writes-outside",
        "inputs-untouched",
        "non-root",
    ),
    "get_experiment_status": (
        "exit-status",
        "outputs-present",
        "no-writes-outside",
        "inputs-untouched",
        "non-root",
    ),
}
NO_ROOT_RERUN = "a federation's member is not rerun as root (the whole federation would be)"
SAME_RULE: dict[str, Callable[..., Verdict]] = {
    "no-writes-outside": no_writes_outside,
    "inputs-untouched": inputs_untouched,
    "no-network": no_network,
}


def fl_verdict(
    task: str,
    rule: str,
    outcome: FederationOutcome,
    ctx: CheckContext,
    as_root: Callable[[], FederationOutcome | None] = lambda: None,
) -> Verdict:
    """The rule's verdict on the task's run(s) in this federation; as_root: the whole
    federation once more as root (non-root asks for it when a member failed by itself)."""
    if rule == "non-root" and task in ("start_aggregator", "train"):
        if outcome.members_not_run is not None:
            return Verdict.skipped(f"{task} did not run: {outcome.members_not_run.reason}")
        if task == "train" and not outcome.collaborators:
            return _train_verdict(rule, outcome, ctx)
        return _members_non_root(task, outcome, as_root)
    if task == "generate_plan":
        return _plan_verdict(rule, outcome, ctx)
    if outcome.members_not_run is not None:
        return Verdict.skipped(f"{task} did not run: {outcome.members_not_run.reason}")
    if task == "start_aggregator":
        assert outcome.aggregator is not None
        return _aggregator_verdict(rule, outcome, outcome.aggregator, ctx)
    return _train_verdict(rule, outcome, ctx)


def _plan_verdict(rule: str, outcome: FederationOutcome, ctx: CheckContext) -> Verdict:
    run = outcome.plan
    if rule == "exit-status":
        return exit_status(run)
    if rule == "plan-valid":
        return _plan_valid(outcome)
    if rule == "non-root":
        return non_root(run, ctx)
    return SAME_RULE[rule](run, ctx)


def _plan_valid(outcome: FederationOutcome) -> Verdict:
    run = outcome.plan
    if not run.result.succeeded:
        return Verdict.skipped("not judged: the task failed (see exit-status)")
    where = f"plan.yaml ({run.outputs['plan_path']})"
    problem = outcome.plan_problem
    if problem is None and not isinstance(outcome.plan_data, dict):
        problem = f"plan.yaml holds a {type(outcome.plan_data).__name__}, not a mapping"
    if problem is None:
        has_address, has_port = names_aggregator(outcome.plan_data, outcome.address, outcome.port)
        missing = [
            what
            for what, found in (
                (f"address {outcome.address}", has_address),
                (f"port {outcome.port}", has_port),
            )
            if not found
        ]
        if not missing:
            return Verdict.passed()
        problem = (
            f"the plan does not name the aggregator's {' or '.join(missing)} from the "
            "aggregator config, so collaborators cannot find the aggregator"
        )
    return Verdict.failed(
        Finding(
            "plan-valid",
            "generate_plan",
            f"{problem}. MedPerf uploads plan.yaml as the training plan; the aggregator and "
            "every collaborator read their address and port from it.",
            (where,),
            "write plan.yaml as a YAML mapping that carries the address and port of "
            "the aggregator config mounted at aggregator_config_path.",
        )
    )


def _aggregator_verdict(
    rule: str, outcome: FederationOutcome, run: FinishedRun, ctx: CheckContext
) -> Verdict:
    if rule == "exit-status":
        if outcome.timed_out:
            return Verdict.passed("the aggregator did not end in time: federation-completes")
        return exit_status(run)
    if rule == "federation-completes":
        return _completes(outcome, run)
    if rule == "outputs-present":
        return _aggregator_outputs(run)
    if rule == "non-root":
        return _member_non_root(run, ctx)
    return SAME_RULE[rule](run, ctx)


def _completes(outcome: FederationOutcome, run: FinishedRun) -> Verdict:
    problems: list[str] = []
    if outcome.timed_out:
        problems.append(f"the aggregator was still running after {outcome.cap:g} s")
    elif not run.result.succeeded:
        problems.append(f"the aggregator exited with status {run.result.exit_code}")
    if not outcome.collaborators:
        problems.append(
            "no collaborator started: the aggregator ended before it joined its network"
        )
    absent = [c for c in outcome.collaborators if not took_part(c)]
    problems += [f"{c.label} did not take part: {_why_absent(c)}" for c in absent]
    if not problems:
        how = (
            "each collaborator connected to the aggregator's address"
            if all(c.reached is not None for c in outcome.collaborators)
            else f"connections were not observed ({outcome.watch_note}); each collaborator "
            "ended well or ran until the aggregator ended"
        )
        return Verdict.passed(how)
    return Verdict.failed(
        Finding(
            "federation-completes",
            "start_aggregator",
            f"the federation did not complete: {'; '.join(problems)}. MedPerf's training "
            "event closes only on the aggregator's report after every collaborator trained.",
            log_evidence(run, 8),
            "run the aggregator and collaborators by hand with the kit's --medperf-keep "
            "folders; the aggregator must wait for every collaborator in cols.yaml, finish "
            "its rounds and exit 0.",
        )
    )


def took_part(member: Collaborator) -> bool:
    """A collaborator took part when it connected to the aggregator (seen on its network
    device, where the kit watches) and did not fail: it exited 0, or still ran when the
    aggregator had ended (the kit stops it then, as MedPerf's CI does)."""
    ended_well = member.stopped or member.run.result.succeeded
    return ended_well and (member.reached is None or bool(member.reached))


def _why_absent(member: Collaborator) -> str:
    result = member.run.result
    if not (member.stopped or result.succeeded):
        return f"its train exited with status {result.exit_code} (see train's exit-status)"
    return "it never connected to the aggregator's address"


def _aggregator_outputs(run: FinishedRun) -> Verdict:
    if not run.result.succeeded:
        return Verdict.skipped("not judged: the task failed (see exit-status)")
    problems: list[str] = []
    report = run.outputs.get("report_path")
    if report is not None and (
        report.is_symlink() or not report.is_file() or report.stat().st_size == 0
    ):
        problems.append(f"report_path ({report}) is empty: MedPerf created it before the run")
    weights = run.outputs.get("output_weights")
    if weights is not None and not _has_file(weights):
        problems.append(f"output_weights ({weights}) holds no file")
    if not problems:
        return Verdict.passed()
    return Verdict.failed(
        Finding(
            "outputs-present",
            "start_aggregator",
            "the aggregator exited 0 but left its outputs empty: "
            + "; ".join(problems)
            + ". MedPerf closes the training event with report.yaml and refuses a missing one.",
            tuple(problems),
            "write report.yaml at report_path and the final weights under output_weights "
            "before the aggregator exits.",
        )
    )


def _has_file(folder: Path) -> bool:
    return folder.is_dir() and any(True for _ in regular_files(folder))


def _member_non_root(run: FinishedRun, ctx: CheckContext) -> Verdict:
    if run.result.succeeded:
        return Verdict.passed()
    return Verdict.skipped(NO_ROOT_RERUN)


def _failed_by_itself(run: FinishedRun, stopped: bool = False) -> bool:
    result = run.result
    return not (stopped or result.succeeded or result.timed_out or result.start_error)


def _members_non_root(
    task: str, outcome: FederationOutcome, as_root: Callable[[], FederationOutcome | None]
) -> Verdict:
    """A member that failed by itself is judged by the same member in the whole
    federation run again as root: working there, it fails only for its uid."""
    if task == "start_aggregator":
        assert outcome.aggregator is not None
        failed = [("the aggregator", outcome.aggregator)]
    else:
        failed = [
            (f"collaborator {m.label}", m.run)
            for m in outcome.collaborators
            if _failed_by_itself(m.run, m.stopped)
        ]
    failed = [(who, run) for who, run in failed if _failed_by_itself(run)]
    if not failed:
        return Verdict.passed()
    root = as_root()
    if root is None or root.members_not_run is not None:
        return Verdict.skipped("the kit could not run the federation a second time as root")
    for who, run in failed:
        if task == "start_aggregator":
            works = root.aggregator is not None and root.aggregator.result.succeeded
        else:
            label = who.removeprefix("collaborator ")
            works = any(
                m.label == label and (m.stopped or m.run.result.succeeded)
                for m in root.collaborators
            )
        if works:
            denied = [d for d in run.result.denied if not d.read_only]
            evidence: tuple[str, ...] = (
                "as root (uid 0), in a second federation: it did its part",
                f"as uid {run.result.user}: exit status {run.result.exit_code}",
            )
            evidence += tuple(f"denied: {d.path} (log: {d.line})" for d in denied[:5])
            if not denied:
                evidence += log_evidence(run, 6)
            return Verdict.failed(
                Finding(
                    "non-root",
                    task,
                    f"{who} works as root but fails as uid {run.result.user}, the non-root "
                    "user MedPerf runs it as.",
                    evidence,
                    _non_root_fix(denied),
                )
            )
    return Verdict.passed()  # fails as root too: not a permission problem


def _train_verdict(rule: str, outcome: FederationOutcome, ctx: CheckContext) -> Verdict:
    members = outcome.collaborators
    if not members:
        return Verdict.skipped(
            "train did not run: the aggregator ended before it joined its network "
            "(see start_aggregator's exit-status)"
        )
    if rule == "talks-only-to-aggregator":
        return _talks_only(outcome)
    for member in members:
        run = member.run
        if rule == "exit-status":
            if member.stopped:
                continue
            verdict = exit_status(run)
        elif rule == "non-root":
            verdict = Verdict.passed() if member.stopped else _member_non_root(run, ctx)
        else:
            verdict = SAME_RULE[rule](run, ctx)
        if verdict.status != "passed":
            return _named(verdict, member, note=TRAIN_EXITS_0 if rule == "exit-status" else "")
    stopped = [m.label for m in members if m.stopped]
    if rule == "exit-status" and stopped:
        return Verdict.passed(
            f"stopped by the kit after the aggregator ended, as MedPerf's CI does: "
            f"{', '.join(stopped)}"
        )
    return Verdict.passed()


def _named(verdict: Verdict, member: Collaborator, note: str) -> Verdict:
    """A collaborator's verdict, naming it (and its dataset) in the finding."""
    found = verdict.finding
    if found is None:
        return verdict
    summary = f"collaborator {member.label} (dataset {member.dataset}): {found.summary}"
    if note:
        summary += f" {note}"
    return Verdict.failed(Finding(found.rule, "train", summary, found.evidence, found.fix))


def _talks_only(outcome: FederationOutcome) -> Verdict:
    evidence: list[str] = []
    targets: set[str] = set()
    partial = False
    for member in outcome.collaborators:
        seen = member.run.result.network
        if seen is not None and seen.observed:
            counts = Counter(a.describe() for a in seen.attempts)
            targets |= {a.target for a in seen.attempts}
            evidence += [
                f"{member.label}: {what}" + (f" ({n} times)" if n > 1 else "")
                for what, n in counts.items()
            ]
        else:
            partial = True
            for line in member.run.result.network_lines:
                evidence.append(f"{member.label}: log: {line.line}")
                if line.host:
                    targets.add(line.host)
    if not evidence:
        if partial:
            return Verdict.passed(
                f"observation partial ({outcome.watch_note}); no log shows a network error"
            )
        return Verdict.passed()
    return Verdict.failed(
        Finding(
            "talks-only-to-aggregator",
            "train",
            "MedPerf accepts this run (it checks nothing about a collaborator's network), but "
            f"a collaborator tried to reach {', '.join(sorted(targets)[:4]) or 'another host'}, "
            f"not the aggregator ({outcome.address}:{outcome.port}). MedPerf runs train with the "
            "network on, so at a site this attempt reaches its host: a data owner must be able "
            "to trust that training talks to the aggregator alone."
            + (" Observation was partial, so this rests on the log." if partial else ""),
            tuple(evidence[:12]),
            "remove downloads, telemetry and uploads from train; reach only the aggregator "
            "named in the plan.",
        )
    )


def admin_verdict(rule: str, run: FinishedRun, ctx: CheckContext) -> Verdict:
    """An FL admin's get_experiment_status, run against the live aggregator."""
    if rule == "exit-status":
        return exit_status(run)
    if rule == "non-root":
        return _member_non_root(run, ctx)
    if rule != "outputs-present":
        return SAME_RULE[rule](run, ctx)
    if not run.result.succeeded:
        return Verdict.skipped("not judged: the task failed (see exit-status)")
    status = run.outputs["output_status_file"]
    data, problem = read_plan(status)
    if problem is None and not isinstance(data, dict):
        problem = "it is not a YAML mapping"
    if problem is None:
        return Verdict.passed()
    problem = problem.replace("plan.yaml", "the status file")
    return Verdict.failed(
        Finding(
            "outputs-present",
            ADMIN_TASK,
            f"the status file ({status}) cannot be shown: {problem}. MedPerf reads it with "
            "yaml.safe_load, prints it and keeps it as the experiment's status.",
            (str(status),),
            "write the aggregator's status as a YAML mapping at output_status_file.",
        )
    )


def fl_log(task: str, outcome: FederationOutcome) -> FinishedRun | None:
    """The run whose log a task's item shows: the aggregator's, the first collaborator
    that failed (else the first one), generate_plan's."""
    if task == "generate_plan":
        return outcome.plan
    if task == "start_aggregator":
        return outcome.aggregator
    if task == ADMIN_TASK:
        return None
    members = outcome.collaborators
    failed = [m for m in members if not (m.stopped or m.run.result.succeeded)]
    chosen = failed or list(members)
    return chosen[0].run if chosen else None
