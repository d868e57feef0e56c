"""Inputs an author ships beside the config rather than the data a site gives: an
mlcube.yaml's workspace/ files (parameters, weights) and the additional_files folder,
each replaced by --medperf-parameters / --medperf-additional-files when given."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from ...config import ContainerConfig
from ...errors import InputMissing
from ..kit_options import KitOptions
from ..sandbox import LazySandbox, Sandbox


class WorkspaceInputs:
    """Copies of what the author shipped, in the session's sandbox (read-only there)."""

    def __init__(self, options: KitOptions, sandbox: LazySandbox) -> None:
        self.options = options
        self._sandbox = sandbox

    @property
    def sandbox(self) -> Sandbox:
        return self._sandbox.get()

    def input_for(self, config: ContainerConfig, task: str, key: str, default: str) -> Path:
        """An mlcube.yaml input that MedPerf took from workspace/ (parameters, weights)."""
        assert config.workspace is not None
        relative = PurePosixPath(default)
        label = f"workspace-{config.path.parent.parent.name}-{key}"
        given_parameters = self.options.parameters.for_config(config.path)
        if key == "parameters_file" and given_parameters is not None:
            return self.sandbox.import_input(given_parameters, label, option="--medperf-parameters")
        given_files = self._given_additional_files(config)
        if relative.parts[:1] == ("additional_files",) and given_files:
            root = self.sandbox.import_input(
                given_files,
                "additional-files-given",
                option="--medperf-additional-files",
            )
            target = root.joinpath(*relative.parts[1:])
            if not target.exists():
                raise InputMissing(
                    f"{task} reads {key} from {default}, but {'/'.join(relative.parts[1:])} is "
                    "not in --medperf-additional-files."
                )
            return target
        source = Path(default) if relative.is_absolute() else config.workspace / default
        if not source.exists():
            raise InputMissing(
                f"{task} reads its '{key}' input from {source}, which does not exist: put it "
                "in the workspace/ folder beside mlcube.yaml (MedPerf took these inputs from "
                "there)."
            )
        return self.sandbox.import_input(source, label, option=f"workspace {key}")

    def _given_additional_files(self, config: ContainerConfig) -> Path | None:
        return self.options.additional_files.for_config(config.path)

    def additional_files(self, config: ContainerConfig) -> Path:
        """The additional_files folder (or .tar.gz) given or beside the config; an empty
        read-only folder when there is none, as MedPerf mounts."""
        given = self._given_additional_files(config)
        workspace = config.path.parent / "workspace"
        candidates = (
            [given]
            if given
            else [
                workspace / "additional_files",
                workspace / "additional_files.tar.gz",
            ]
        )
        for source in candidates:
            if source is not None and (source.exists() or source is given):
                return self.sandbox.import_input(
                    source,
                    f"additional-files-{config.path.parent.name}",
                    option="--medperf-additional-files",
                )
        # MedPerf mounts an empty folder when no additional files were submitted.
        empty = self.sandbox.new_dir("inputs", "additional-files-empty")
        self.sandbox.hand_over(empty, writable=False)
        return empty
