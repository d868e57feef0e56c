"""exit-status and outputs-present: did the task finish, and did it leave its outputs."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING

from ..config.yamlsafe import read_yaml
from ..digests import ancestors, is_under
from ..errors import ConfigError
from ..links import link_problems, regular_files
from . import Finding, Outcome, task_check

if TYPE_CHECKING:
    from ..runners.base import FsChange
    from ..session import TaskRun
    from . import CheckContext

OUTPUT_TASKS = frozenset({"prepare", "statistics", "infer", "evaluate"})


def log_evidence(run: TaskRun, lines: int = 12) -> tuple[str, ...]:
    tail = run.result.log_tail(lines)
    if not tail:
        return ("(the container printed nothing)",)
    return tuple(f"| {line}" for line in tail)


@task_check("exit-status")
def exit_status(run: TaskRun, ctx: CheckContext | None = None) -> Outcome:
    result = run.result
    task = run.task.name
    if result.start_error:
        return Outcome.failed(Finding("exit-status", task, result.start_error, fix=_start_fix(run)))
    if result.stopped_for:
        return Outcome.failed(
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
        return Outcome.failed(
            Finding(
                "exit-status",
                task,
                f"the task was still running after the {run.spec.timeout:g} s timeout "
                "(--medperf-timeout) and was killed.",
                log_evidence(run),
                "make the task finish sooner on this data, or raise --medperf-timeout if "
                "the benchmark allows that long.",
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
        evidence = log_evidence(run)
        if run.reproduce:
            evidence += (f"reproduce: {run.reproduce}",)
        else:
            fix += (
                " (rerun with --medperf-keep to keep the mounted folders and get the command "
                "that reproduces the run)"
            )
        return Outcome.failed(Finding("exit-status", task, summary, evidence, fix + "."))
    return Outcome.passed(f"exit status 0 in {result.duration:.1f} s")


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


def _start_fix(run: TaskRun) -> str:
    args = run.task.run_args
    if args.entrypoint:
        return (
            f"check that {args.entrypoint!r} exists in the image and is executable; "
            "an entrypoint is one program, its arguments go in command."
        )
    if args.command:
        return f"check that {args.command[0]!r} exists in the image and is on PATH."
    return "check the image's ENTRYPOINT and CMD."


def outputs_problems(run: TaskRun) -> list[str]:
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
        problem = _output_problem(host, volume.type)
        if problem is None and volume.key == "report_file":
            problem = report_problem(host)
        if problem:
            problems.append(f"{label}: {problem}")
    return problems


@task_check("outputs-present", OUTPUT_TASKS)
def outputs_present(run: TaskRun, ctx: CheckContext | None = None) -> Outcome:
    problems = outputs_problems(run)
    if not problems:
        return Outcome.passed()
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
    return Outcome.failed(Finding("outputs-present", run.task.name, summary, evidence, fix))


def stray_writes(run: TaskRun) -> list[FsChange]:
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
    """Why prepare's report_file is not a YAML table of cases, or None.

    MedPerf loads it into a table: a mapping of column to {case: value} (what
    pandas' to_dict() writes) or of case to {column: value}, or a list of rows.
    """
    try:
        data = read_yaml(path, what="report file").data
    except ConfigError as exc:
        return f"it cannot be read: {exc.problem}"
    rows = list(data.values()) if isinstance(data, dict) else data
    if not isinstance(rows, list) or not rows:
        return "it is not a table of cases (a non-empty mapping of mappings, or a list of rows)"
    for row in rows:
        if not isinstance(row, dict):
            return f"the entry {row!r} is not a mapping: a table row or column maps names to values"
        nested = [k for k, v in row.items() if isinstance(v, (dict, list))]
        if nested:
            return f"the value of {nested[0]!r} is nested; a table cell holds a plain value"
    return None


def _output_problem(host: Path, expected: str) -> str | None:
    if not host.exists() and not host.is_symlink():
        return "it does not exist after the run"
    if expected == "directory":
        if not host.is_dir():
            return "it is a file, but the config declares a directory"
        if not regular_files(host):
            return "the directory holds no file"
        return None
    if host.is_dir():
        return "it is a directory, but the config declares a file"
    if host.lstat().st_size == 0:
        return "the file is empty (0 bytes)"
    return None
