"""The items of a config itself: config-valid (the file, and the inputs this session
gives it) and image-available (the image, got as a site gets it)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from ...checks import Finding, Verdict
from ...checks.portable import hard_problems, soft_problems
from ...config.mlcube import LegacyFormatNotice
from ...config.model import KIND_WORDS
from ...config.yamlsafe import read_yaml
from ...engine.federation import ADMIN_TASK, FL_TASKS
from ...errors import ConfigError, ConfigErrors
from ...runtimes.base import ImageInfo
from ..kit import KIT_KEY
from ..warning_types import MedPerfFormatWarning, MedPerfTaskWarning
from .items import CheckFailed, KitItem, skip_here


class ConfigValidItem(KitItem):
    """The config file, and the inputs this session gives it that MedPerf would refuse
    (a declared parameters_file with no usable parameters file): judged without running."""

    def runtest(self) -> None:
        loaded = self.kit_session.configs.config(self.config_path)
        if isinstance(loaded, ConfigErrors):
            errors = loaded.errors
            summary = "cannot be used by MedPerf"
            fix = (
                "correct each key named above; schemas/container_config.schema.json "
                "describes what MedPerf accepts."
            )
        else:
            if loaded.format == "mlcube":
                self._warn_legacy()
            self._tell_tasks(loaded.other_tasks, loaded.ignored_tasks)
            errors = self.kit_session.inputs.input_problems(self.config_path)
            summary = "cannot run in MedPerf with the inputs of this session"
            fix = (
                "give each task what MedPerf can take (a parameters file, gpus this runtime "
                "accepts), as each line above says."
            )
            if not errors:
                return
        shown = errors[0].file
        evidence = tuple(
            f"{_where(e)}: {e.problem}" + (f" Fix: {e.fix}" if e.fix else "") for e in errors
        )
        count = f"{len(errors)} problem" + ("s" if len(errors) > 1 else "")
        self.finding = Finding(
            "config-valid",
            None,
            f"{shown} {summary} ({count}).",
            evidence,
            fix,
        )
        raise CheckFailed(self.finding)

    def _tell_tasks(self, other: Mapping[str, str], ignored: tuple[str, ...]) -> None:
        """Tasks MedPerf runs that the kit does not run yet: a note in the header; names
        MedPerf never runs: a warning (MedPerf ignores them, the config stays valid)."""
        notes = [
            f"{name} is a {KIND_WORDS[kind]} task MedPerf runs; the kit checked this config "
            "and its image, and does not run this task yet."
            for name, kind in other.items()
            if not _runs_in_federation(name, other)
        ]
        self.notes = (*self.notes, *notes)
        for name in ignored:
            warnings.warn_explicit(
                MedPerfTaskWarning(
                    f"{self.config.stash[KIT_KEY].shown[self.config_path]}, key tasks.{name}: "
                    f"MedPerf never runs a task named {name!r} and ignores it; so does the kit. "
                    "Remove it, or correct its spelling if it was meant to be one MedPerf runs."
                ),
                MedPerfTaskWarning,
                str(self.config_path),
                1,
            )

    def _warn_legacy(self) -> None:
        """A warning pytest shows in its summary; under -W error::...MedPerfFormatWarning a
        config-valid failure with the same words, not a traceback."""
        notice = LegacyFormatNotice(self.config.stash[KIT_KEY].shown[self.config_path])
        try:
            warnings.warn_explicit(
                MedPerfFormatWarning(notice.warning_text()),
                MedPerfFormatWarning,
                str(self.config_path),
                1,
            )
        except MedPerfFormatWarning:
            self.finding = Finding(
                "config-valid",
                None,
                notice.problem,
                ("warnings filter: MedPerfFormatWarning is an error in this session",),
                f"{notice.command} writes the equivalent container_config.yaml.",
            )
            raise CheckFailed(self.finding) from None


def _where(error: Any) -> str:
    parts = []
    if error.line is not None:
        parts.append(f"line {error.line}" + (f", column {error.column}" if error.column else ""))
    if error.key:
        parts.append(error.key)
    return " ".join(parts) if parts else error.file


class ImageAvailableItem(KitItem):
    def runtest(self) -> None:
        found = self.kit_session.configs.image(self.config_path)
        if isinstance(found, ImageInfo):  # its id and hash: in the record (reports/junit.py)
            self.notes = found.notes
            return
        if found.cause in ("config", "unsupported"):
            skip_here(found.reason)
        config = self.kit_session.configs.config(self.config_path)
        image = getattr(config, "image", "?")
        self.finding = Finding("image-available", None, found.reason, (f"image: {image}",))
        raise CheckFailed(self.finding)


class SingularityPortableItem(KitItem):
    """singularity-portable: what MedPerf's Singularity path does with this config, from
    the config and the image's metadata (no run), under either runtime."""

    def runtest(self) -> None:
        try:
            raw = read_yaml(self.config_path).data
        except ConfigError:
            skip_here("the config cannot be read (config-valid says why)")
        problems = hard_problems(raw)
        if problems:
            count = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
            self.finding = Finding(
                "singularity-portable",
                None,
                f"MedPerf's Singularity runner refuses or crashes on this config ({count}); "
                "many sites, HPC clusters above all, run MedPerf with Singularity.",
                tuple(problems),
            )
            raise CheckFailed(self.finding)
        if isinstance(self.kit_session.configs.config(self.config_path), ConfigErrors):
            skip_here("the config does not load (config-valid says why)")
        image = self.kit_session.configs.image(self.config_path)
        facts = self.kit_session.site.facts(image if isinstance(image, ImageInfo) else None)
        self.apply(Verdict.passed(warnings=tuple(soft_problems(raw, facts))))


def _runs_in_federation(name: str, other: Mapping[str, str]) -> bool:
    """The kit runs an FL config's tasks in a local federation (all three needed) and an
    admin's get_experiment_status against it (engine/federation/)."""
    return name == ADMIN_TASK or (name in FL_TASKS and set(FL_TASKS) <= set(other))
