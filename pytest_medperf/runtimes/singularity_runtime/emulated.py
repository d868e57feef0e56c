"""--medperf-runtime singularity where no singularity or apptainer binary is installed:
each task runs on Docker with the semantics of MedPerf's Singularity command line
(emulation.py), and every report names the runtime "singularity (emulated on docker)"."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

from ..base import EMULATED_SINGULARITY, Progress, RunResult, RunSpec
from ..docker_runtime.containers import not_started
from ..docker_runtime.runner import DockerRunner
from .emulation import emulated_cli_argv, emulated_kwargs, refusal


class EmulatedSingularityRunner(DockerRunner):
    name = EMULATED_SINGULARITY

    def run(self, spec: RunSpec, progress: Progress | None = None) -> RunResult:
        refused = refusal(spec)
        if refused is not None:
            result = not_started(spec, time.monotonic(), refused)
        else:
            result = super().run(spec, progress)
        return dataclasses.replace(result, runtime=self.name)

    def create_kwargs(self, spec: RunSpec) -> dict[str, Any]:
        return emulated_kwargs(spec, self.image_facts(spec.image), _identity_dir(spec))

    def command_line(self, spec: RunSpec) -> list[str]:
        kwargs = emulated_kwargs(spec, self.image_facts(spec.image), _identity_dir(spec))
        return emulated_cli_argv(spec, kwargs)


def _identity_dir(spec: RunSpec) -> Path | None:
    """Beside the run's /tmp (in its run folder, removed with the sandbox): the generated
    /etc/passwd and /etc/group."""
    tmp = next((m.host for m in spec.mounts if m.container == "/tmp"), None)
    return tmp.parent / "identity" if tmp is not None else None
