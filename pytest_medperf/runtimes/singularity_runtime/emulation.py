"""MedPerf's `singularity run -eC` (or `exec` with an entrypoint) as docker-py arguments,
for machines without a singularity or apptainer binary. The facts come from Apptainer's
own source (docs/runtimes.md lists them, and what Docker cannot reproduce)."""

from __future__ import annotations

import dataclasses
import os
import pwd
from pathlib import Path
from typing import Any

from ...config.runargs import InvalidGpus, normalize_gpus
from ..base import RunSpec
from ..docker_runtime.args import create_kwargs
from ..image_facts import ImageFacts
from .args import SingularityRefused

# Apptainer's default PATH, completed into the image's (action script's fixpath).
DEFAULT_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
HOST_PASSED: tuple[str, ...] = ("TERM", "http_proxy", "HTTP_PROXY", "https_proxy")
HOST_PASSED += ("HTTPS_PROXY", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY")
HOST_PASSED += ("ftp_proxy", "FTP_PROXY")
SESSION_SIZE = "64m"  # Apptainer's `sessiondir max size`: HOME, /var/tmp (one quota there)
ENV_SCRIPT = "/.singularity.d/env/91-environment.sh"


@dataclasses.dataclass(frozen=True)
class Identity:
    """Who the task is inside: its uid, gid, name and HOME (the host user's home path)."""

    uid: int
    gid: int
    name: str
    home: str


def identity(user: str) -> Identity:
    """The run's uid:gid with the invoking user's home path (Apptainer's HOME: the host
    user's, from the host passwd database) and name; a uid that is not the invoking
    user's (the kit picked a site's) is named `site`."""
    uid_text, _, gid_text = user.partition(":")
    uid = int(uid_text)
    gid = int(gid_text) if gid_text else uid
    try:
        entry = pwd.getpwuid(os.getuid())
        name, home = entry.pw_name, entry.pw_dir or "/home/site"
    except KeyError:
        name, home = "site", "/home/site"
    return Identity(uid, gid, name if uid == os.getuid() else "site", home)


def refusal(spec: RunSpec) -> str | None:
    """What MedPerf's Singularity runner refuses before starting (a GPU count)."""
    try:
        gpus = normalize_gpus(spec.gpus)
    except InvalidGpus as exc:
        return f"Invalid gpus argument: {exc}"
    if isinstance(gpus, int):
        return str(
            SingularityRefused(
                f"gpus {spec.gpus!r} is a GPU count: MedPerf's Singularity runner stops with "
                "'Cannot use gpu count when running singularity.'"
            )
        )
    return None


def passwd_text(image_passwd: str, who: Identity) -> str:
    """The image's /etc/passwd with the user's line: rewritten if the image lists the uid
    (the image's gid and shell kept), else appended (Apptainer's files/passwd.go)."""
    lines = image_passwd.splitlines()
    for index, line in enumerate(lines):
        fields = line.split(":")
        if len(fields) >= 7 and fields[2] == str(who.uid):
            lines[index] = ":".join([who.name, "x", fields[2], fields[3], "", who.home, fields[6]])
            break
    else:
        lines.append(f"{who.name}:x:{who.uid}:{who.gid}::{who.home}:/bin/sh")
    return "\n".join(lines) + "\n"


def group_text(image_group: str, who: Identity) -> str:
    """The image's /etc/group with the user's primary group appended (files/group.go)."""
    return image_group.rstrip("\n") + f"\n{who.name}:x:{who.gid}:{who.name}\n"


def environment(spec: RunSpec, facts: ImageFacts, who: Identity) -> dict[str, str]:
    """What -e (cleanenv) leaves besides the image's ENV (Docker applies that itself):
    Apptainer's own variables, then the config's (SINGULARITYENV_), HOME last (it cannot
    be overridden)."""
    image = {k: v for k, _, v in (item.partition("=") for item in facts.env)}
    name = spec.image.replace("/", "_").replace(":", "_") + ".sif"
    env: dict[str, str] = {"LANG": "C"} if "LANG" not in image else {}
    env.update({k: os.environ[k] for k in HOST_PASSED if k in os.environ and k not in image})
    path = image.get("PATH", "")
    parts = [p for p in path.split(":") if p]
    env["PATH"] = ":".join(parts + [d for d in DEFAULT_PATH if d not in parts])
    env["LD_LIBRARY_PATH"] = ":".join(
        p for p in (image.get("LD_LIBRARY_PATH"), "/.singularity.d/libs") if p
    )
    for prefix in ("APPTAINER", "SINGULARITY"):
        env[f"{prefix}_CONTAINER"] = f"/medperf/images/{name}"
        env[f"{prefix}_NAME"] = name
        env[f"{prefix}_ENVIRONMENT"] = ENV_SCRIPT
    env["APPTAINER_COMMAND"] = "exec" if spec.entrypoint else "run"
    env["PS1"] = image.get("PS1") or "Apptainer> "
    for key, value in spec.environment.items():
        if key == "LD_LIBRARY_PATH":
            value = f"{value}:/.singularity.d/libs"
        env[key] = value
    env["HOME"] = who.home
    return env


def emulated_kwargs(spec: RunSpec, facts: ImageFacts, identity_dir: Path | None) -> dict[str, Any]:
    """docker-py arguments with Singularity's semantics: read-only image, WORKDIR and USER
    ignored (cwd = HOME, a private tmpfs), cleaned environment, the user's passwd entry,
    a private /var/tmp, no shm_size, network none, no capabilities."""
    who = identity(spec.user)
    kwargs = create_kwargs(dataclasses.replace(spec, shm_size=None))
    gpus = normalize_gpus(spec.gpus)
    kwargs["read_only"] = not isinstance(gpus, tuple)  # a GPU list adds --writable-tmpfs
    kwargs["working_dir"] = who.home
    kwargs["environment"] = environment(spec, facts, who)
    options = f"rw,nosuid,nodev,size={SESSION_SIZE}"
    kwargs["tmpfs"] = {
        who.home: f"{options},mode=0755,uid={who.uid},gid={who.gid}",
        "/var/tmp": f"{options},mode=1777",
    }
    kwargs["cap_drop"] = ["ALL"]
    kwargs["security_opt"] = ["no-new-privileges"]
    kwargs["ipc_mode"] = "private"
    if identity_dir is not None and facts.passwd is not None:
        identity_dir.mkdir(parents=True, exist_ok=True)
        (identity_dir / "passwd").write_text(passwd_text(facts.passwd, who))
        (identity_dir / "group").write_text(group_text(facts.group or "", who))
        for name in ("passwd", "group"):
            (identity_dir / name).chmod(0o644)
            kwargs["volumes"].append(f"{identity_dir / name}:/etc/{name}:ro")
    return kwargs


def emulated_cli_argv(spec: RunSpec, kwargs: dict[str, Any]) -> list[str]:
    """The equivalent `docker run` line of an emulated run (for --medperf-keep)."""
    argv = ["docker", "run", "--rm", "--name", spec.name, "-u", spec.user, "--read-only"]
    argv = argv if kwargs.get("read_only") else argv[:-1]
    argv += ["--workdir", kwargs["working_dir"], "--ipc", "private"]
    argv += ["--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--network", "none"]
    for path, options in kwargs["tmpfs"].items():
        argv += ["--tmpfs", f"{path}:{options}"]
    for volume in kwargs["volumes"]:
        argv += ["--volume", volume]
    for key, value in kwargs["environment"].items():
        argv += ["--env", f"{key}={value}"]
    if spec.entrypoint:
        argv += ["--entrypoint", spec.entrypoint]
    return [*argv, spec.image, *(spec.command or ())]
