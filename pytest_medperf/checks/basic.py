"""exit-status and outputs-present: did the task finish, and did it leave its outputs."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING

from ..config.yamlsafe import read_yaml
from ..errors import ConfigError
from ..observe.digests import ancestors, is_under
from ..observe.links import link_problems, regular_files
from ..runtimes.gpu import NO_GPU, NO_GPU_FIX
from .at_site import site_explanation
from .base import Finding, Verdict, task_check
from .causes import likely_cause, medperf_says

if TYPE_CHECKING:
    from ..engine.runs import FinishedRun
    from ..runtimes.base import FsChange
    from .base import CheckContext

OUTPUT_TASKS = frozenset({"prepare", "statistics", "infer", "evaluate", "run_script"})


def log_evidence(run: FinishedRun, lines: int = 12) -> tuple[str, ...]:
    tail = run.result.log_tail(lines)
    if not tail:
        return ("(the container printed nothing)",)
    return tuple(f"| {line}" for line in tail)


@task_check("exit-status")
def exit_status(run: FinishedRun, ctx: CheckContext | None = None) -> Verdict:
    result = run.result
    task = run.task.name
    if result.start_error:
        return Verdict.failed(Finding("exit-status", task, result.start_error, fix=_start_fix(run)))
    if result.stopped_for:
        return Verdict.failed(
            Finding(
                "exit-status",
                task,
                f"the kit stopped the task: {result.stopped_for}.",
                log_evidence(run),
                "keep temporary files small and delete them when done; write only the outputs "
                "MedPerf reads.",
            )
        )
    if result.timed_out:
        return Verdict.failed(
            Finding(
                "exit-status",
                task,
                f"the task printed nothing for {run.spec.timeout:g} s (--medperf-timeout) and "
                "was killed; MedPerf's timeout, when one is set, fires on such silence too and "
                f"prints: {medperf_says(task, timed_out=True)}",
                log_evidence(run),
                "print progress while the task works (MedPerf then waits), make it finish "
                "sooner, or raise --medperf-timeout to the benchmark's timeout.",
            )
        )
    if result.exit_code != 0:
        if task == "sanity_check":
            summary = (
                f"sanity_check rejected the data (exit status {result.exit_code}); MedPerf "
                "would refuse this dataset."
            )
            fix = (
                "sanity_check must accept good prepared data: read the log lines above, and check "
                "that prepare writes what sanity_check expects."
            )
        elif result.oom_killed:
            cap = run.spec.limits.memory or "90% of this machine's memory"
            summary = (
                f"the task was killed by the memory cap (OOMKilled, exit status "
                f"{result.exit_code}): it needed more than the {cap} the kit allows a container "
                "(--medperf-memory). What it did before counts for the other rules."
            )
            fix = (
                "use less memory (smaller batches, stream the cases), or raise --medperf-memory "
                "if the data owners' machines have that much"
            )
        else:
            summary = f"the task exited with status {result.exit_code}{_signal(result.exit_code)}."
            fix = "fix the error the log shows; the task must exit 0 when it succeeds"
        summary += f" MedPerf prints: {medperf_says(task)}"
        cause = likely_cause(run)
        summary += f" {cause}" if cause else ""
        evidence = log_evidence(run)
        site = site_explanation(run) if task != "sanity_check" and not result.oom_killed else None
        if site is not None and not site.evidence and cause:
            site = None  # an unproven passwd aside would point away from the cause the log shows
        if site is not None:  # why it fails at a site: passwd, WORKDIR (at_site.py)
            summary, evidence = f"{summary} {site.summary}", site.evidence + evidence
            fix = site.fix or fix
        if run.reproduce:
            evidence += (f"reproduce: {run.reproduce}",)
        else:
            fix += (
                " (rerun with --medperf-keep to keep the mounted folders and get the command "
                "that reproduces the run)"
            )
        return Verdict.failed(Finding("exit-status", task, summary, evidence, fix + "."))
    return Verdict.passed()


def _signal(code: int | None) -> str:
    """What an exit status above 128 says: the engine reports death by signal N as 128 + N."""
    if code is None or not 128 < code < 128 + 65:
        return ""
    try:
        name = signal.Signals(code - 128).name
    except ValueError:
        return ""
    what = {
        "SIGKILL": "killed with SIGKILL, not by the memory cap: by the task itself or a process "
        "it started",
        "SIGSEGV": "a segmentation fault: native code (a library, a driver) crashed",
        "SIGABRT": "aborted: native code called abort()",
        "SIGBUS": "a bus error: native code crashed, or /dev/shm ran out (see shm_size)",
        "SIGTERM": "terminated with SIGTERM from inside the container",
    }.get(name, "killed by a signal")
    return f" (died of {name}: {what}). What it did before counts for the other rules"


def _start_fix(run: FinishedRun) -> str:
    if (run.result.start_error or "").startswith(NO_GPU):
        return NO_GPU_FIX
    args = run.task.run_args
    if args.entrypoint:
        return (
            f"check that {args.entrypoint!r} exists in the image and is executable; "
            "an entrypoint is one program, its arguments go in command."
        )
    if args.command:
        return f"check that {args.command[0]!r} exists in the image and is on PATH."
    return "check the image's ENTRYPOINT and CMD."


# Outputs MedPerf is content to find empty: it gives a dataset submitted as prepared
# without metadata an empty metadata folder itself; run_script's results folder without
# results.yaml is "no results" (results-valid says so).
MAY_BE_EMPTY = frozenset({"metadata_path", "results_path"})
EMPTY_DIRECTORY = "the directory holds no file"


def outputs_problems(run: FinishedRun) -> list[str]:
    """One line per declared output that is missing, empty or of the wrong type, and per
    symbolic link in an output that leaves it (never followed on the host)."""
    problems: list[str] = []
    for volume in run.task.outputs:
        host = run.outputs[volume.key]
        label = f"{volume.key} ({volume.type} at {volume.mount_path})"
        links = link_problems(host)
        problems += [f"{label}: {link.describe(volume.mount_path)}" for link in links[:5]]
        if len(links) > 5:
            problems.append(f"{label}: and {len(links) - 5} more such links")
        if host.is_symlink():
            continue
        if volume.key == "report_file":
            problem = report_problem(host)
        else:
            problem = _output_problem(host, volume.type)
            if volume.key in MAY_BE_EMPTY and problem == EMPTY_DIRECTORY:
                problem = None
        if problem:
            problems.append(f"{label}: {problem}")
    return problems


def report_note(run: FinishedRun) -> str | None:
    """A line for the summary when prepare declares a report_file but left it empty."""
    volume = run.task.output("report_file")
    if volume is None:
        return None
    host = run.outputs["report_file"]
    if host.is_file() and not host.is_symlink() and host.stat().st_size > 0:
        return None
    return (
        f"report_file ({volume.mount_path}) was left empty; MedPerf accepts that and "
        "sends no progress for this dataset."
    )


@task_check("outputs-present", OUTPUT_TASKS)
def outputs_present(run: FinishedRun, ctx: CheckContext | None = None) -> Verdict:
    problems = outputs_problems(run)
    if not problems:
        note = report_note(run)
        return Verdict.passed(note) if note else Verdict.passed()
    stray = [c.path for c in stray_writes(run) if c.kind == "added"][:5]
    evidence = tuple(problems)
    if stray:
        evidence += ("the task wrote, outside its output mounts: " + ", ".join(stray),)
    names = ", ".join(v.mount_path for v in run.task.outputs)
    where = (
        f"where each --name=value argument points ({names})"
        if run.task.mlcube is not None
        else f"at the mount paths the config declares ({names})"
    )
    links = any("is a symbolic link to" in p for p in problems)
    summary = f"{len(problems)} declared output(s) missing or empty after the run."
    fix = f"write the outputs {where}; MedPerf reads them from there and finds nothing else."
    if links:
        summary = (
            f"{len(problems)} problem(s) with the declared outputs after the run, links that "
            "do not stay inside their output among them."
        )
        fix += (
            " Write real files into the output; a link may only point inside its own output, "
            "relative and without climbing out with '..'."
        )
    return Verdict.failed(Finding("outputs-present", run.task.name, summary, evidence, fix))


def stray_writes(run: FinishedRun) -> list[FsChange]:
    """Changes to the image's filesystem that the task made (not the engine's mount points).

    A changed directory is left out when something below it is listed: the entry
    below says more.
    """
    mounts = [v.mount_path for v in (*run.task.inputs, *run.task.outputs)] + ["/tmp"]
    made_by_engine = set(mounts) | {a for m in mounts for a in ancestors(m)}
    changes = [
        c
        for c in run.result.changes
        if c.path not in made_by_engine and not any(is_under(c.path, m) for m in mounts)
    ]
    paths = {c.path for c in changes}
    return [
        c
        for c in changes
        if not (c.kind == "changed" and any(p != c.path and is_under(p, c.path) for p in paths))
    ]


def report_problem(path: Path) -> str | None:
    """Why MedPerf could not turn prepare's report_file into its table, or None.

    MedPerf reads the report with yaml.safe_load and builds a pandas DataFrame of
    it (a mapping of case -> row or of column -> list or {case: value}, or a list of
    rows); an absent or empty report is fine. It does so at sites that send
    progress reports, while prepare runs.
    """
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        return None
    try:
        data = read_yaml(path, what="report file").data
    except ConfigError as exc:
        return f"yaml.safe_load cannot read it: {exc.problem}"
    return table_problem(data)


def table_problem(data: object) -> str | None:
    """Where pandas' DataFrame(data) raises for a loaded YAML value (None: it builds)."""
    if data is None or isinstance(data, list):
        return None  # no report yet / a list of rows (or of values): a table
    if not isinstance(data, dict):
        return (
            f"it holds a single {type(data).__name__} ({data!r:.40}), not a table; MedPerf's "
            "pandas.DataFrame(report) raises on it"
        )
    if not data:
        return None
    columns = [v for v in data.values() if isinstance(v, (dict, list))]
    if not columns:
        first = next(iter(data))
        return (
            f"every value is a plain value ({first!r}: {data[first]!r:.40}), so it is no table "
            "of cases; MedPerf's pandas.DataFrame(report) raises 'If using all scalar values, "
            "you must pass an index'"
        )
    # Plain values next to columns are repeated along them; lists must agree in length.
    lists = {k: len(v) for k, v in data.items() if isinstance(v, list)}
    if lists and len(lists) < len(columns):
        return (
            "it mixes columns written as lists with columns written as mappings of case to "
            "value; MedPerf's pandas.DataFrame(report) cannot line them up"
        )
    if len(set(lists.values())) > 1:
        shown = ", ".join(f"{k!r}: {n}" for k, n in list(lists.items())[:4])
        return (
            f"its columns have different lengths ({shown}); MedPerf's "
            "pandas.DataFrame(report) raises 'All arrays must be of the same length'"
        )
    return None


def _output_problem(host: Path, expected: str) -> str | None:
    if not host.exists() and not host.is_symlink():
        return "it does not exist after the run"
    if expected == "directory":
        if not host.is_dir():
            return "it is a file, but the config declares a directory"
        if not regular_files(host):
            return EMPTY_DIRECTORY
        return None
    if host.is_dir():
        return "it is a directory, but the config declares a file"
    if host.lstat().st_size == 0:
        return "the file is empty (0 bytes)"
    return None
