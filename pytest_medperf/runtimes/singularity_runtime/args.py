"""MedPerf's Singularity command lines (its singularity_utils): the run argv with its
environment, the conversion argv, and which binary and version are there."""

from __future__ import annotations

import re
import shutil

from ...config.runargs import InvalidGpus, normalize_gpus
from ..base import RunSpec

BINARIES = ("singularity", "apptainer")  # MedPerf's order
ENV_PREFIX = "SINGULARITYENV_"


def find_binary() -> str | None:
    """The singularity or apptainer on PATH, as spython would find it; None without one."""
    for name in BINARIES:
        try:
            from spython.utils import check_install

            found = check_install(software=name, quiet=True)
        except SystemExit:  # spython exits on some errors; never end the session
            found = False
        except ImportError:
            found = shutil.which(name) is not None
        except Exception:
            found = False
        if found and shutil.which(name):
            return shutil.which(name)
    return None


class SingularityRefused(ValueError):
    """A run MedPerf's Singularity runner refuses before starting; the text is its reason."""


def singularity_argv(binary: str, spec: RunSpec, sif: str) -> tuple[list[str], dict[str, str]]:
    """The exact argv and the extra environment MedPerf's Singularity runner uses."""
    try:
        gpus = normalize_gpus(spec.gpus)
    except InvalidGpus as exc:
        raise SingularityRefused(f"Invalid gpus argument: {exc}") from None
    if isinstance(gpus, int):
        raise SingularityRefused(
            f"gpus {spec.gpus!r} is a GPU count: MedPerf's Singularity runner stops with "
            "'Cannot use gpu count when running singularity.'"
        )
    argv = [binary, "run", "-eC"]
    for mount in spec.mounts:
        argv += ["--bind", f"{mount.host}:{mount.container}:{'ro' if mount.read_only else 'rw'}"]
    env: dict[str, str] = {}
    if gpus is not None:
        argv.append("--nv")
        if isinstance(gpus, tuple):
            argv += ["--nvccli", "-c", "--writable-tmpfs"]
            env["NVIDIA_VISIBLE_DEVICES"] = ",".join(gpus)
    env.update({f"{ENV_PREFIX}{key}": value for key, value in spec.environment.items()})
    argv += ["--net", "--network", "none", sif]
    if spec.entrypoint:
        argv[1] = "exec"
        argv.append(spec.entrypoint)
    argv += list(spec.command or ())
    return argv, env


def build_argv(binary: str, output: str, source: str) -> list[str]:
    """MedPerf's conversion: `singularity build X.sif docker://IMAGE` (or another source)."""
    return [binary, "build", output, source]


def supports_nvccli(version_text: str) -> bool:
    """MedPerf picks GPU ids only with apptainer or singularity >= 3.10."""
    text = version_text.strip()
    if text.startswith("apptainer"):
        return True
    found = re.search(r"version (\d+)\.(\d+)", text)
    return found is not None and (int(found.group(1)), int(found.group(2))) >= (3, 10)
