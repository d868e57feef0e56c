"""Why a task that failed here would fail at a site, in an author's words: a uid the
image's /etc/passwd does not list (HOME is `/`, looking the user up fails), or the
image's WORKDIR that Singularity ignores. exit-status adds this to its message."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..runtimes.base import is_singularity

if TYPE_CHECKING:
    from ..engine.runs import FinishedRun

# Log lines that show a missing passwd entry: HOME is `/`, or the lookup itself failed.
_PASSWD_SIGNS = re.compile(
    r"getpwuid\(\): uid not found|no user exists for uid|I have no name|"
    r"could not determine (the )?(current user|home directory)|"
    r"Permission denied: '/\.[A-Za-z0-9_.-]+|"
    r"mkdir(?:s)? .*'/\.",
    re.IGNORECASE,
)
# A file the task did not find, named by a quoted path.
_NOT_FOUND = re.compile(r"(?:No such file or directory|can't open file)[^']*'([^']+)'")
_FILE_LIKE = re.compile(r"\.(py|sh|ya?ml|json|txt|cfg|ini|toml|pkl|pt|pth|onnx|csv)$")


@dataclass(frozen=True)
class SiteExplanation:
    summary: str
    evidence: tuple[str, ...]
    fix: str | None  # None: the generic fix stays (the site's cause is only possible)


def site_explanation(run: FinishedRun) -> SiteExplanation | None:
    """For a failed task: the site's reason it fails (WORKDIR first, then passwd), or None."""
    return _workdir(run) or _passwd(run)


def _uid(run: FinishedRun) -> int | None:
    text = run.result.user.split(":")[0]
    return int(text) if text.isdigit() else None


def _log_lines(run: FinishedRun) -> list[str]:
    return [line.strip() for line in run.result.tail if line.strip()]


def homeless(run: FinishedRun) -> bool:
    """The task ran (on Docker) as a non-root uid the image's /etc/passwd does not list:
    HOME is `/` and a user lookup fails. Apptainer adds the entry and a writable HOME."""
    listed = run.image_facts.listed_uids()
    uid = _uid(run)
    if listed is None or uid is None or uid == 0 or uid in listed:
        return False
    return not is_singularity(run.result.runtime)


def passwd_signs(run: FinishedRun) -> list[str]:
    """The log lines of a homeless task that show it (HOME is `/`, the lookup failed)."""
    if run.result.succeeded or not homeless(run):
        return []
    return [line for line in _log_lines(run) if _PASSWD_SIGNS.search(line)]


def homeless_write(run: FinishedRun, path: str) -> bool:
    """A denied write to a dot folder in `/`: HOME's, for a homeless task (exit-status
    names that cause; no-writes-outside does not blame it twice)."""
    parent, _, name = path.rstrip("/").rpartition("/")
    return parent == "" and name.startswith(".") and bool(passwd_signs(run))


def _passwd(run: FinishedRun) -> SiteExplanation | None:
    if not homeless(run):
        return None
    uid = _uid(run)
    signs = passwd_signs(run)
    fix = (
        "do not rely on a user in the image's /etc/passwd: set HOME in the config's "
        "environment or the image (e.g. HOME: /tmp, or ENV HOME=/tmp), keep caches under "
        "/tmp, and do not look the user up (no getpass.getuser() or pwd.getpwuid); "
        f"try it with `docker run --user {uid}:{uid} IMAGE`"
    )
    said = (
        f"ran as uid {uid}, which the image's /etc/passwd does not list (as at most sites: "
        "MedPerf runs a task as the site account's own uid), so HOME is `/` and looking the "
        "user up (getpass.getuser(), pwd.getpwuid, `whoami`) fails"
    )
    if not signs:  # another cause is as likely: said briefly, the generic fix kept
        return SiteExplanation(
            f"(It ran as uid {uid}, which the image's /etc/passwd does not list, as at most "
            "sites: HOME is `/` and a user lookup fails. If that is the cause, set HOME, e.g. "
            "/tmp, in the config's environment or the image, and do not look the user up.)",
            (),
            None,
        )
    return SiteExplanation(
        f"The task {said}, and the log shows it.",
        tuple(f"passwd: {line}" for line in signs[:3]),
        fix,
    )


def _workdir(run: FinishedRun) -> SiteExplanation | None:
    workdir = run.image_facts.workdir
    if not is_singularity(run.result.runtime) or workdir in ("", "/"):
        return None
    relative = _relative_args(run)
    missing = [
        (line, path)
        for line in _log_lines(run)
        for path in _NOT_FOUND.findall(line)
        if not path.startswith(("/tmp", "/mlcommons")) and _outside_workdir(path, workdir)
    ]
    if not relative and not missing:
        return None
    named = relative[:3] or [path for _, path in missing[:3]]
    summary = (
        f"Singularity ignores the image's WORKDIR ({workdir}): the task starts in HOME, "
        f"not in {workdir}, so the relative path{'s' if len(named) > 1 else ''} "
        + ", ".join(repr(n) for n in named)
        + " cannot be found (MedPerf issue 415)."
    )
    evidence = tuple(f"relative in the command: {arg}" for arg in relative[:3])
    evidence += tuple(f"log: {line}" for line, _ in missing[:3])
    return SiteExplanation(
        summary,
        evidence,
        f"use absolute paths in the command, the entrypoint and config files (e.g. "
        f"{workdir.rstrip('/')}/{named[0].lstrip('./')}), or change directory in the "
        "entrypoint script yourself",
    )


def _outside_workdir(path: str, workdir: str) -> bool:
    return not path.startswith("/") or not path.startswith(workdir.rstrip("/") + "/")


def relative_paths(argv: list[str]) -> list[str]:
    """The arguments that name a file relative to the working directory (not the program
    looked up on PATH, not options)."""
    found = []
    for position, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
        if not value or value.startswith(("/", "-", "$")) or "://" in value:
            continue
        if position == 0 and "/" not in value:
            continue  # a program found on PATH
        if value.startswith("./") or "/" in value or _FILE_LIKE.search(value):
            found.append(value)
    return found


def run_argv(run: FinishedRun) -> list[str]:
    """What the task ran: the config's entrypoint and command, else the image's."""
    facts = run.image_facts
    entry = [run.spec.entrypoint] if run.spec.entrypoint else list(facts.entrypoint)
    command = list(run.spec.command) if run.spec.command is not None else list(facts.cmd)
    if run.spec.entrypoint and run.spec.command is None:
        command = []
    return entry + command


def _relative_args(run: FinishedRun) -> list[str]:
    return relative_paths(run_argv(run))
