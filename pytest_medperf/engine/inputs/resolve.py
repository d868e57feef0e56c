"""Where each task's inputs come from: the user's data, a workspace, or the outputs of
another task in the session (prepare -> sanity_check/statistics -> infer -> evaluate).

Resolution reads the outcomes of the steps a step depends on (the step graph names
them and the scheduler runs them first); it never starts a run itself."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ...config import ContainerConfig
from ...config.model import CA_TASKS
from ...config.runargs import runtime_gpus_errors
from ...errors import ConfigError, InputMissing, KitError
from ...runtimes.base import RunResult
from ..configs import Configs
from ..kit_options import KitOptions
from ..runs import NotRun, StepOutcome
from ..sandbox import LazySandbox, Sandbox
from ..scheduling.once import OnceEach
from ..steps import ConfigStep, Step
from . import pki
from .ca_inputs import signed_certificate, write_ca_config
from .datasets import (
    DATA_OPTION,
    DEMO_OPTION,
    GivenDataset,
    PreparedDataset,
    RawDataset,
    import_demo_data,
    import_prepared_data,
    mounted_parts,
)
from .parameters_files import ParametersFiles
from .workspace import WorkspaceInputs

_D = TypeVar("_D", RawDataset, PreparedDataset)


class Inputs:
    """The inputs of each step, found once per session (imported data, parameters)."""

    def __init__(
        self,
        options: KitOptions,
        configs: Configs,
        sandbox: LazySandbox,
        runtime: str,
        upstream: Callable[[ConfigStep], StepOutcome],
    ) -> None:
        self.options = options
        self.configs = configs
        self._sandbox = sandbox
        self._runtime = runtime  # the runner's name: which gpus values it accepts
        self._upstream = upstream  # a finished step's outcome (the scheduler ran it)
        # Each dataset imported into the sandbox once, by name (or why it could not be).
        # Steps run in threads (--medperf-jobs): OnceEach makes each of these once.
        self._demo: OnceEach[str, RawDataset | InputMissing] = OnceEach()
        self._prepared: OnceEach[str, PreparedDataset | InputMissing] = OnceEach()
        self._input_problems: OnceEach[Path, list[ConfigError]] = OnceEach()
        self._ca_configs: OnceEach[Path, Path] = OnceEach()
        self.parameters = ParametersFiles(options, configs, sandbox)
        self.workspace = WorkspaceInputs(options, sandbox)

    @property
    def sandbox(self) -> Sandbox:
        return self._sandbox.get()

    def resolve(self, config: ContainerConfig, step: Step) -> dict[str, Path]:
        """Every input of the step's task, by key; InputMissing or Upstream when one
        cannot be given."""
        spec = config.tasks[step.task]
        return {v.key: self._input_for(config, step, v.key) for v in spec.inputs}

    def seeds(self, config: ContainerConfig, step: Step) -> dict[str, Path]:
        """Folders whose files an output starts with: verify_cert's pki_assets declared as
        an output still holds the certificate MedPerf writes there before the run."""
        spec = config.tasks[step.task]
        if step.task == "verify_cert" and spec.output("pki_assets") is not None:
            return {"pki_assets": self._signed_certificate(config, step)}
        return {}

    def _input_for(self, config: ContainerConfig, step: Step, key: str) -> Path:
        task = step.task
        mlcube = config.tasks[task].mlcube
        if mlcube is not None:
            parameter = next(p for p in mlcube.parameters if p.name == key)
            if not parameter.supplied_by_medperf:
                return self.workspace.input_for(config, task, parameter.name, parameter.default)
        if key == "parameters_file":
            return self.parameters.file_for(config, task)
        if key == "additional_files":
            return self.workspace.additional_files(config)
        if task == "prepare":
            demo = self.demo_data(task, step.dataset)
            if key == "data_path":
                return demo.data
            if key == "labels_path":
                return demo.labels
        if task in ("sanity_check", "statistics"):
            prepared = self._prepared_for_preparator(config, step)
            return _pick(prepared, key, task)
        if task == "infer" and key == "data_path":
            return self._prepared_for_consumer(step).data
        if task == "run_script":
            if key == "model_files":
                return self._model_files()
            return _pick(self._prepared_for_consumer(step), key, task)
        if task in CA_TASKS:
            if key == "ca_config":
                return self._ca_configs.get(
                    config.path, lambda: write_ca_config(self.sandbox, config)
                )
            if key == "pki_assets" and task == "verify_cert":
                return self._signed_certificate(config, step)
            if key == "pki_assets":
                raise InputMissing(
                    f"{task} declares pki_assets among its inputs, but MedPerf gives {task} "
                    "that folder to write its certificate files into: declare it under "
                    "output_volumes."
                )
        if task == "evaluate":
            if key == "labels":
                return self._prepared_for_consumer(step).labels
            if key == "predictions":
                return self._predictions(step)
        raise KitError(f"no source for input {key} of {task}")  # the loader prevents this

    def demo_data(self, task: str, dataset: str = "") -> RawDataset:
        """The demo dataset of that name (the only one for an empty name), imported once."""
        return self._imported(
            self._demo,
            self.options.demo_data,
            dataset,
            "demo-data",
            import_demo_data,
            f"{task} needs raw demo data: give {DEMO_OPTION} PATH (a folder or .tar.gz with "
            "paths.yaml naming data_path and labels_path).",
        )

    def prepared_data(self, task: str, dataset: str = "") -> PreparedDataset:
        """The prepared dataset of that name (the only one for an empty name), imported once."""
        return self._imported(
            self._prepared,
            self.options.data,
            dataset,
            "prepared-data",
            import_prepared_data,
            f"{task} needs a prepared dataset: give {DATA_OPTION} DIR (a folder with data/ "
            "and labels/).",
        )

    def _imported(
        self,
        cache: OnceEach[str, _D | InputMissing],
        given_all: tuple[GivenDataset, ...],
        dataset: str,
        kind: str,
        importer: Callable[[Sandbox, Path, str], _D],
        none_given: str,
    ) -> _D:
        """A given dataset found (archives unpacked) once (a problem with it is kept too)."""
        given = _named(given_all, dataset)
        if given is None:
            raise InputMissing(none_given)

        def make() -> _D | InputMissing:
            try:
                return importer(self.sandbox, given.path, _import_label(kind, given, given_all))
            except InputMissing as exc:
                return exc

        found = cache.get(given.name, make)
        if isinstance(found, InputMissing):
            raise found
        return found

    def _prepared_for_preparator(self, config: ContainerConfig, step: Step) -> PreparedDataset:
        """sanity_check and statistics read what this preparator's prepare wrote."""
        if "prepare" in config.tasks and (bool(self.options.demo_data) or not self.options.data):
            return self._from_prepare(config.path, step)
        return self.prepared_data(step.task, step.dataset)

    def _prepared_for_consumer(self, step: Step) -> PreparedDataset:
        """infer and evaluate read --medperf-data, else a preparator's output in this session."""
        task = step.task
        if self.options.data:
            return self.prepared_data(task, step.dataset)
        preparators = self.configs.offering("prepare")
        if not preparators:
            return self.prepared_data(task)  # raises with the option to give
        return self._from_prepare(preparators[0], step)

    def _from_prepare(self, path: Path, step: Step) -> PreparedDataset:
        task = step.task
        outcome = self._upstream(ConfigStep(path, Step("prepare", dataset=step.dataset)))
        shown = self.configs.shown(path)
        if isinstance(outcome, NotRun):
            raise Upstream(
                f"{task} needs prepared data, but prepare of {shown} did not run: {outcome.reason}"
            )
        if not outcome.result.succeeded:
            raise Upstream(
                f"{task} needs prepared data, but prepare of {shown} did not succeed "
                f"({_verdict(outcome.result)})."
            )
        outputs = outcome.outputs
        return PreparedDataset(
            outputs["output_path"], outputs["output_labels_path"], outputs.get("metadata_path")
        )

    def _predictions(self, step: Step) -> Path:
        model_label = step.model
        if self.options.predictions is not None:
            return self.sandbox.import_input(
                self.options.predictions, "predictions", option="--medperf-predictions"
            )
        models = self.configs.models()
        if model_label:
            models = [m for m in models if self.configs.model_label(m) == model_label]
        if not models:
            raise InputMissing(
                "evaluate needs predictions: give --medperf-predictions DIR, or add a model's "
                "config to the session."
            )
        outcome = self._upstream(ConfigStep(models[0], Step("infer", dataset=step.dataset)))
        shown = self.configs.shown(models[0])
        if isinstance(outcome, NotRun):
            raise Upstream(
                f"evaluate needs predictions, but infer of {shown} did not run: {outcome.reason}"
            )
        if not outcome.result.succeeded:
            raise Upstream(
                f"evaluate needs predictions, but infer of {shown} did not succeed "
                f"({_verdict(outcome.result)})."
            )
        return outcome.outputs["output_path"]

    def _model_files(self) -> Path:
        """run_script's model asset: --medperf-model-files, mounted where it is."""
        given = self.options.model_files
        if given is None:
            raise InputMissing(
                "run_script needs the model asset's files: give --medperf-model-files DIR "
                "(the folder MedPerf mounts as model_files)."
            )
        return self.sandbox.import_input(given, "model-files", option="--medperf-model-files")

    def _signed_certificate(self, config: ContainerConfig, step: Step) -> Path:
        """The crt.crt this config's get_client_cert wrote, alone in a folder."""
        shown = self.configs.shown(config.path)
        if "get_client_cert" not in config.tasks:
            raise InputMissing(
                "verify_cert needs a certificate this CA signed: the kit takes the one "
                f"get_client_cert writes, and {shown} has no get_client_cert task."
            )
        outcome = self._upstream(ConfigStep(config.path, Step("get_client_cert")))
        if isinstance(outcome, NotRun):
            raise Upstream(
                f"verify_cert needs a certificate this CA signed, but get_client_cert of "
                f"{shown} did not run: {outcome.reason}"
            )
        folder = outcome.outputs.get("pki_assets")
        if not outcome.result.succeeded or folder is None:
            raise Upstream(
                f"verify_cert needs a certificate this CA signed, but get_client_cert of "
                f"{shown} did not succeed ({_verdict(outcome.result)})."
            )
        if not (folder / pki.CERT_FILE).is_file():
            raise Upstream(
                f"verify_cert needs a certificate this CA signed, but get_client_cert of "
                f"{shown} wrote no {pki.CERT_FILE} (see cert-files-present)."
            )
        return signed_certificate(self.sandbox, folder)

    # -- parameters: judged before anything runs, as MedPerf refuses them -------------
    def input_problems(self, path: Path) -> list[ConfigError]:
        """What MedPerf would refuse in the inputs this session gives a config, found
        without running anything (today: its parameters file). config-valid reports
        them; the tasks they concern do not run."""

        def find() -> list[ConfigError]:
            state = self.configs.state(path)
            return self.parameters.problems(path) + runtime_gpus_errors(
                state.config, state.shown, self._runtime, self.options.gpus
            )

        return self._input_problems.get(path, find)


def given_inputs(options: KitOptions) -> list[tuple[str, Path]]:
    """Every path the session was given that a task mounts, with its option."""
    found = [
        (option, part)
        for option, given in [(DATA_OPTION, options.data), (DEMO_OPTION, options.demo_data)]
        for dataset in given
        if dataset.path.is_dir()
        for part in mounted_parts(option, dataset.path)
    ]
    files = options.additional_files
    found += [
        ("--medperf-additional-files", p)
        for p in (files.default, *files.by_config.values())
        if p is not None
    ]
    if options.predictions is not None:
        found.append(("--medperf-predictions", options.predictions))
    if options.model_files is not None:
        found.append(("--medperf-model-files", options.model_files))
    return found


def _named(given: tuple[GivenDataset, ...], name: str) -> GivenDataset | None:
    """The dataset a step names; a step names none when only one was given."""
    if not name:
        return given[0] if len(given) == 1 else None
    return next((d for d in given if d.name == name), None)


def _import_label(kind: str, dataset: GivenDataset, given: tuple[GivenDataset, ...]) -> str:
    """The sandbox folder of an imported dataset: named after it when there are several."""
    return kind if len(given) == 1 else f"{kind}-{dataset.name}"


class Upstream(Exception):
    """A task's input should have come from another task that did not deliver it."""


def _pick(prepared: PreparedDataset, key: str, task: str) -> Path:
    if key == "data_path":
        return prepared.data
    if key == "labels_path":
        return prepared.labels
    if key == "metadata_path":
        if prepared.metadata is None:
            raise InputMissing(
                f"{task} declares a metadata_path input, but prepare declares no metadata_path "
                "output: MedPerf hands metadata_path to sanity_check and statistics only when "
                "prepare declares it, so the run breaks at a site. Declare metadata_path in "
                f"tasks.prepare.output_volumes, or remove it from {task}'s input_volumes."
            )
        return prepared.metadata
    raise KitError(f"no source for input {key} of {task}")


def _verdict(result: RunResult) -> str:
    if result.start_error:
        return "it could not start"
    if result.timed_out:
        return "it timed out"
    return f"exit status {result.exit_code}"
