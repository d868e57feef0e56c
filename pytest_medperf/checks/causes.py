"""What a failed task's evidence says about why it failed, and what MedPerf's CLI prints
for that task's failure (cli/medperf: utils.run_command and the callers that wrap it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..engine.runs import FinishedRun

GENERIC = "There was an error while executing the container"
TIMED_OUT = "Process timed out"
SANITY = (
    "The sanity check process failed. (When prepare declares a report_file, MedPerf instead "
    "warns 'The preprocessing stage finished executing, but the data doesn't appear to be "
    "ready.')"
)
# How each task's caller wraps MedPerf's ExecutionError (printed with ❌ and a final '.').
WRAPPED = {
    "infer": "Model Execution failed: ",
    "evaluate": "Metrics calculation failed: ",
    "run_script": "Script run failed: ",
}
NEAR_THE_END = 5  # log lines before the exit in which a network error counts as the cause


def medperf_says(task: str, timed_out: bool = False) -> str:
    """What `medperf test run` prints when this task exits non-zero (or times out, with a
    timeout set: MedPerf has none by default)."""
    if task == "sanity_check":
        return SANITY
    return f"{WRAPPED.get(task, '')}{TIMED_OUT if timed_out else GENERIC}."


def likely_cause(run: FinishedRun) -> str | None:
    """A sentence naming the likely cause when the log's last lines show it: a failed
    network use (the task runs with no network) or a refused write; None otherwise."""
    tail = run.result.log_tail(NEAR_THE_END)
    tail_text = "\n".join(tail)
    for item in reversed(run.result.network_lines):
        if item.line and item.line in tail_text:
            host = item.host or _last_host(run)
            what = f"could not reach {host}" if host else "failed to use the network"
            return (
                f"Likely cause: the task {what} just before it exited (log: {item.line}); "
                "MedPerf runs every task with no network, so ship what it downloads in the "
                "image or in additional_files."
            )
    for denied in run.result.denied:
        if denied.line and denied.line in tail_text:
            what = "Read-only file system" if denied.read_only else "Permission denied"
            return (
                f"Likely cause: {denied.path} was refused ({what}) just before it exited; "
                "write only to the output mounts and /tmp."
            )
    return None


def _last_host(run: FinishedRun) -> str | None:
    """The last host name the network watch saw the task look up (None: none seen)."""
    seen = run.result.network
    names = [a.target for a in seen.attempts if a.kind == "dns"] if seen is not None else []
    return names[-1] if names else None
