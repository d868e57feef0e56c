"""One federation's run: generate_plan, then the aggregator, the collaborators and any
admin's task on a network of their own, each member's launch in a thread of its own."""

from __future__ import annotations

import dataclasses
import secrets
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...config import ContainerConfig, TaskSpec
from ...errors import KitError
from ...interrupts import checkpoint
from ...runtimes.base import ImageInfo, NetworkObservation
from ..launch import Member
from ..runs import FinishedRun, NotRun
from .files import ADMIN_PORT, PORT, FederationFiles, names_aggregator, read_plan, write_files
from .outcome import Collaborator, FederationOutcome
from .tasks import ADMIN, ADMIN_TASK, fl_tasks

if TYPE_CHECKING:
    from .run import Federations

CAP = 600.0  # seconds a federation may take when --medperf-timeout gives no limit
GRACE = 10.0  # seconds collaborators get to end by themselves after the aggregator


class OneFederation:
    def __init__(
        self,
        owner: Federations,
        config: ContainerConfig,
        image: ImageInfo,
        tasks: dict,
        user: str | None = None,
    ) -> None:
        self.owner = owner
        self.user = user  # "0:0": every member as root (for non-root), else the site's uid
        self.options = owner.options
        self.config = config
        self.image = image
        self.tasks: dict[str, TaskSpec] = tasks
        self.shown = owner.configs.shown(config.path)
        token = secrets.token_hex(4)
        self.token = token
        self.address = f"medperf-aggregator-{token}"
        self.labels = [f"col{n}@example.org" for n in range(1, self.options.collaborators + 1)]

    def _launch(self, *args: Any, label: str | None = None, **kwargs: Any) -> FinishedRun:
        if self.user is not None and label is not None:
            label += "-as-root"
        return self.owner.launcher.launch(*args, user=self.user, label=label, **kwargs)

    def run(self) -> FederationOutcome:
        datasets = [d.name for d in self.options.data] or [""]
        self.datasets = {  # each collaborator's, found before anything starts
            label: datasets[number % len(datasets)] for number, label in enumerate(self.labels)
        }
        for name in dict.fromkeys(self.datasets.values()):
            self.owner.inputs.prepared_data("train", name)
        root = self.owner.sandbox.get().new_dir("federation", Path(self.shown).parent.name)
        files = write_files(root, self.address, self.labels, (ADMIN,))
        plan = self._generate_plan(files)
        checkpoint()  # a run a signal stopped is no result to judge
        outcome = FederationOutcome(plan, self.address, PORT, ADMIN_PORT)
        if not plan.result.succeeded:
            return dataclasses.replace(
                outcome,
                members_not_run=NotRun("upstream", "generate_plan failed (see its exit-status)"),
            )
        plan_path = plan.outputs["plan_path"]
        data, problem = read_plan(plan_path)
        outcome = dataclasses.replace(outcome, plan_data=data, plan_problem=problem)
        if problem is None and not all(names_aggregator(data, self.address, PORT)):
            problem = "plan.yaml does not name the aggregator (see plan-valid)"
        if problem is not None:  # one cause, one failure: plan-valid names it
            return dataclasses.replace(
                outcome, members_not_run=NotRun("upstream", f"no plan to run: {problem}")
            )
        return self._members(outcome, files, plan_path)

    def _inputs(self, task: str, given: dict[str, Path]) -> dict[str, Path]:
        """What MedPerf mounts for the task: the federation's files, and the two inputs
        it always offers (parameters_file, additional_files) where declared."""
        found: dict[str, Path] = {}
        for volume in self.tasks[task].inputs:
            if volume.key in given:
                found[volume.key] = given[volume.key]
            elif volume.key == "additional_files":
                found[volume.key] = self.owner.inputs.workspace.additional_files(self.config)
            elif volume.key == "parameters_file":
                found[volume.key] = self.owner.inputs.parameters.file_for(self.config, task)
            else:
                raise KitError(f"{task}: MedPerf offers no input {volume.key} to this task")
        return found

    def _generate_plan(self, files: FederationFiles) -> FinishedRun:
        training = self.options.training_config or (
            self.config.path.parent / "workspace" / "training_config.yaml"
        )
        if not training.is_file():
            raise KitError(
                f"generate_plan needs a training config: give --medperf-training-config FILE "
                f"({training} does not exist)."
            )
        inputs = self._inputs(
            "generate_plan",
            {"training_config_path": training, "aggregator_config_path": files.aggregator_config},
        )
        launched = self._launch(
            self.shown,
            self.config,
            self.image,
            self.tasks["generate_plan"],
            inputs,
            label="generate_plan",
        )
        return launched

    def _members(
        self, outcome: FederationOutcome, files: FederationFiles, plan: Path
    ) -> FederationOutcome:
        runner: Any = self.owner.runner
        network = runner.private_network(f"medperf-fl-{self.token}")
        cap = self.options.timeout or CAP
        try:
            ports = (f"127.0.0.1:{PORT}:{PORT}", f"127.0.0.1:{ADMIN_PORT}:{ADMIN_PORT}")
            network.member(self.address)
            aggregator = MemberThread(
                lambda: self._launch(
                    self.shown,
                    self.config,
                    self.image,
                    self.tasks["start_aggregator"],
                    self._inputs(
                        "start_aggregator",
                        {
                            "node_cert_folder": files.aggregator_node,
                            "ca_cert_folder": files.ca_folder,
                            "plan_path": plan,
                            "collaborators": files.collaborators_list,
                        },
                    ),
                    label="start_aggregator",
                    member=Member(self.address, network.name, ports),
                )
            )
            address = self._address_of(network, aggregator)
            members: list[tuple[str, str, Any, MemberThread]] = []
            if address is not None:
                members += [
                    self._collaborator(network, files, plan, label, self.datasets[label], address)
                    for label in self.labels
                ]
            admins = {
                path: self._admin(network, files, plan, path, config, number)
                for number, (path, config) in enumerate(self.owner.admins(), 1)
                if address is not None
            }
            ended = aggregator.join(cap)
            if not ended:
                runner.stop_run(self.address)
                aggregator.join(30)
            grace_end = time.monotonic() + GRACE
            stopped: set[str] = set()
            for label, _, _, member in members:
                if not member.join(max(grace_end - time.monotonic(), 0.0)):
                    runner.stop_run(member.name)
                    stopped.add(label)
                    member.join(30)
            for asking in admins.values():  # an admin still asking is stopped too
                if isinstance(asking, MemberThread) and not asking.join(
                    max(grace_end - time.monotonic(), 0.0)
                ):
                    runner.stop_run(asking.name)
                    asking.join(30)
            collaborators = tuple(
                self._collaborator_outcome(label, dataset, holder, member, label in stopped)
                for label, dataset, holder, member in members
            )
            admin = {
                path: member.result() if isinstance(member, MemberThread) else member
                for path, member in admins.items()
            }
            return dataclasses.replace(
                outcome,
                admin=admin,
                aggregator=aggregator.result(),
                collaborators=collaborators,
                timed_out=not ended,
                cap=cap,
                watch_note=network.problem,
            )
        finally:
            network.close()

    def _address_of(self, network: Any, aggregator: MemberThread) -> str | None:
        """The aggregator's address on the network, once its container runs."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and aggregator.alive():
            found = network.address_of(self.address)
            if found:
                return str(found)
            time.sleep(0.05)
        return None

    def _collaborator(
        self,
        network: Any,
        files: FederationFiles,
        plan: Path,
        label: str,
        dataset: str,
        address: str,
    ) -> tuple[str, str, Any, MemberThread]:
        number = self.labels.index(label) + 1
        name = f"medperf-train-{self.token}-{number}"
        holder = network.holder(
            self.image.reference, f"medperf-fl-holder-{self.token}-{number}", address
        )
        network.member(name)
        prepared = self.owner.inputs.prepared_data("train", dataset)
        inputs = self._inputs(
            "train",
            {
                "data_path": prepared.data,
                "labels_path": prepared.labels,
                "node_cert_folder": files.nodes[label],
                "ca_cert_folder": files.ca_folder,
                "plan_path": plan,
            },
        )
        member = MemberThread(
            lambda: self._launch(
                self.shown,
                self.config,
                self.image,
                self.tasks["train"],
                inputs,
                label=f"train-{number}",
                member=Member(
                    name, holder.network_mode, environment={"MEDPERF_PARTICIPANT_LABEL": label}
                ),
            ),
            name,
        )
        return label, dataset, holder, member

    def _admin(
        self,
        network: Any,
        files: FederationFiles,
        plan: Path,
        path: Path,
        config: ContainerConfig,
        number: int,
    ) -> MemberThread | NotRun:
        """An admin's get_experiment_status, on the federation's network as an admin's
        machine reaches the aggregator (network on, MEDPERF_ADMIN_PARTICIPANT_CN)."""
        image = self.owner.configs.image(path)
        if isinstance(image, NotRun):
            return image
        name = f"medperf-admin-{self.token}-{number}"
        network.member(name)
        spec = fl_tasks(config)[ADMIN_TASK]
        given = {
            "node_cert_folder": files.nodes[ADMIN],
            "ca_cert_folder": files.ca_folder,
            "plan_path": plan,
        }
        inputs = {v.key: given[v.key] for v in spec.inputs if v.key in given}
        shown = self.owner.configs.shown(path)
        environment = {"MEDPERF_ADMIN_PARTICIPANT_CN": ADMIN}
        return MemberThread(
            lambda: self._launch(
                shown,
                config,
                image,
                spec,
                inputs,
                label=ADMIN_TASK,
                member=Member(name, network.name, environment=environment),
            ),
            name,
        )

    def _collaborator_outcome(
        self, label: str, dataset: str, holder: Any, member: MemberThread, stopped: bool
    ) -> Collaborator:
        run = member.result()
        watch = holder.watch
        if watch is None:
            seen = NetworkObservation(False, note=None)
            reached = None
        else:
            seen = NetworkObservation(True, tuple(watch.since(0)))
            reached = tuple(watch.reached())
        run = dataclasses.replace(run, result=dataclasses.replace(run.result, network=seen))
        return Collaborator(label, dataset or "the only one", run, stopped, reached)


class MemberThread:
    """One member's launch in a thread of its own."""

    def __init__(self, work: Any, name: str = "") -> None:
        self.name = name
        self._result: FinishedRun | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, args=(work,), daemon=True)
        self._thread.start()

    def _work(self, work: Any) -> None:
        try:
            self._result = work()
        except BaseException as exc:  # handed to the asking thread by result()
            self._error = exc

    def alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, seconds: float) -> bool:
        """Wait up to `seconds` for the member's end; a signal stops the wait (the kit's
        watcher has killed the containers: no result to report)."""
        deadline = time.monotonic() + seconds
        while self._thread.is_alive() and time.monotonic() < deadline:
            self._thread.join(min(0.2, max(deadline - time.monotonic(), 0.0)))
            checkpoint()
        return not self._thread.is_alive()

    def result(self) -> FinishedRun:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result
