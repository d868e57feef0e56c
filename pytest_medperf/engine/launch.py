"""One container run of a task: its run folder and outputs, the RunSpec MedPerf would
start it with, the runtime's result, and what changed in its inputs."""

from __future__ import annotations

import re
import secrets
import shlex
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..config import ContainerConfig, TaskSpec, Volume
from ..config.mlcube import plan_invocation
from ..observe.digests import differences, fingerprint
from ..observe.footprint import Resources, count_cases, disk_use
from ..runtimes.base import ImageInfo, Mount, Progress, Runner, RunResult, RunSpec
from ..runtimes.gpu import gpu_refusal
from .inputs.ca_inputs import ca_environment
from .kit_options import KitOptions, parse_user
from .runs import FinishedRun
from .sandbox import LazySandbox
from .site_user import SiteUsers


@dataclass(frozen=True)
class Member:
    """How a federation's member differs from a task MedPerf runs with no network."""

    name: str  # the container's name (the aggregator's is its address)
    network: str  # the network's name, or "container:ID" of a watched holder
    ports: tuple[str, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)


class Launcher:
    """Starts task containers as MedPerf would, each in its own run folder."""

    def __init__(
        self,
        options: KitOptions,
        runner: Runner,
        sandbox: LazySandbox,
        progress: Progress | None = None,
    ) -> None:
        self.options = options
        self.runner = runner
        self._sandbox = sandbox
        self.progress = progress
        self.site = SiteUsers(options, runner)

    def launch(
        self,
        shown: str,
        config: ContainerConfig,
        image: ImageInfo | None,
        spec: TaskSpec,
        inputs: dict[str, Path],
        *,
        user: str | None = None,
        label: str | None = None,
        seeds: Mapping[str, Path] | None = None,
        member: Member | None = None,
    ) -> FinishedRun:
        """Run the task on these inputs; EngineUnavailable when the engine stops answering.
        seeds: folders whose files an output folder starts with (MedPerf wrote them);
        member: a federation member's network, ports, name and environment."""
        sandbox = self._sandbox.get()
        label = label or spec.name
        run_dir = sandbox.new_dir("runs", Path(shown).parent.name or "config", label)
        outputs: dict[str, Path] = {}
        for volume in spec.outputs:
            if volume.type == "file":
                parent = run_dir / "outputs" / volume.key
                parent.mkdir(parents=True)
                target = parent / _file_name(spec, volume)
                target.touch()
            else:
                target = run_dir / "outputs" / volume.key
                seed = (seeds or {}).get(volume.key)
                if seed is not None:
                    shutil.copytree(seed, target)
                else:
                    target.mkdir(parents=True)
            outputs[volume.key] = target
        tmp = run_dir / "tmp"
        tmp.mkdir()
        decided = self.site.user(image)
        user = user or decided.user
        sandbox.hand_over(run_dir, writable=True, owner=parse_user(user))
        run_args = spec.run_args
        command, entrypoint = run_args.command, run_args.entrypoint
        if spec.mlcube is not None:
            spec, planned, command, entrypoint = plan_invocation(spec, {**inputs, **outputs})
            mounts = [Mount(host, inside, ro) for host, inside, ro in planned]
        else:
            mounts = [Mount(inputs[v.key], v.mount_path, True) for v in spec.inputs]
            mounts += [Mount(outputs[v.key], v.mount_path, False) for v in spec.outputs]
        mounts.append(Mount(tmp, "/tmp", False))
        gpus: int | str | None = run_args.gpus
        if self.options.gpus is not None:
            gpus = self.options.gpus
        run_spec = RunSpec(
            image=image.reference if image else config.image,
            command=command,
            entrypoint=entrypoint,
            environment=self._environment(
                spec.name, {**run_args.environment, **(member.environment if member else {})}
            ),
            mounts=tuple(mounts),
            user=user,
            name=member.name
            if member
            else f"medperf-{spec.name.replace('_', '-')}-{secrets.token_hex(4)}",
            gpus=gpus,
            shm_size=self.options.shm_size or run_args.shm_size,
            timeout=self.options.timeout,
            labels={"io.github.pytest-medperf.config": shown},
            limits=self.options.limits,
            disk_watch=sandbox.root,
            log_file=self._log_file(shown, label, run_dir),
            network=member.network if member else None,
            ports=member.ports if member else (),
        )
        digests = self.options.input_digests
        before = {
            key: sandbox.access.first_before(host) or fingerprint(host, contents=digests)
            for key, host in inputs.items()
        }
        remote = getattr(self.runner, "remote", None)  # its own engine's (--medperf-docker-hosts)
        refused = gpu_refusal(run_spec.gpus, self.runner.name, remote=remote)
        if refused is not None:
            result = RunResult(None, 0.0, self.runner.name, run_spec.user, start_error=refused)
        else:
            result = self.runner.run(run_spec, self.progress)
        changed = {
            key: found
            for key, host in inputs.items()
            if (found := differences(before.pop(key), fingerprint(host, contents=digests)))
        }
        reproduce = shlex.join(self.runner.command_line(run_spec)) if self.options.keep else None
        log_path = result.log_file if self._log_kept() else None
        written, left = disk_use(outputs.values()), disk_use([tmp])
        return FinishedRun(
            config,
            spec,
            run_spec,
            result,
            inputs,
            outputs,
            run_dir,
            reproduce,
            changed,
            log_path,
            user_why=decided.why if user == decided.user else f"uid {parse_user(user)[0]}",
            image_facts=self.site.facts(image),
            resources=Resources(
                wall_s=round(result.duration, 3),
                cpu_s=round(result.usage.cpu_s, 3) if result.usage.cpu_s is not None else None,
                peak_memory_bytes=result.usage.peak_memory_bytes,
                output_bytes=written[0] if written else None,
                output_files=written[1] if written else None,
                tmp_bytes=left[0] if left else None,
                log_bytes=result.log_bytes,
                memory_source=result.usage.memory_source,
            ),
            cases=count_cases(inputs),
        )

    def _environment(self, task: str, configured: Mapping[str, str]) -> dict[str, str]:
        """The config's environment with MedPerf's own variables merged in, MedPerf's
        winning: MEDPERF_LOGLEVEL when a container log level is given, MEDPERF_ON_PREM for
        run_script (script_execution.py), a CA task's MEDPERF_INPUT_CN and key type."""
        environment = {**configured, **ca_environment(task)}
        if task == "run_script":
            environment["MEDPERF_ON_PREM"] = "1"
        if self.options.container_loglevel:
            environment["MEDPERF_LOGLEVEL"] = self.options.container_loglevel.upper()
        return environment

    def _log_kept(self) -> bool:
        return self.options.log_dir is not None or self.options.keep

    def _log_file(self, shown: str, label: str, run_dir: Path) -> Path:
        """Where a run's output is streamed: beside the report, in the kept sandbox, or in
        the run's folder (removed with the sandbox)."""
        if self.options.log_dir is not None:
            folder = self.options.log_dir / _slug(shown)
            folder.mkdir(parents=True, exist_ok=True)
            return folder / f"{_slug(label)}.log"
        if self.options.keep:
            return run_dir / f"{_slug(label)}.log"
        return run_dir / "container.log"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"


def _file_name(spec: TaskSpec, volume: Volume) -> str:
    """The host name of a file output: the mount path's name, or an mlcube default's."""
    if spec.mlcube is not None:
        parameter = next(p for p in spec.mlcube.parameters if p.name == volume.key)
        return PurePosixPath(parameter.default).name or volume.key
    return Path(volume.mount_path).name
