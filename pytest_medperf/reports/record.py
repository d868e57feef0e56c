"""What one item contributes to the reports: a typed, frozen record, built once by the
item and read by every writer (terminal, JSON, JUnit, Markdown).

Under xdist a record crosses the wire from worker to controller as plain data:
to_wire() gives the dict that travels, from_wire() reads it back."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

Json = Any  # a value json.dumps takes (metrics, as MedPerf's results.yaml holds them)


@dataclass(frozen=True)
class ConfigInfo:
    """What is known of the item's config: its format and kinds, its image, the engine."""

    format: str | None = None
    kinds: tuple[str, ...] = ()
    image: str | None = None
    image_id: str | None = None
    image_hash: str | None = None
    image_source: str | None = None
    engine: str | None = None  # the Docker engine that ran the config (None: not Docker)

    def updated(self, newer: ConfigInfo) -> ConfigInfo:
        """This info with what `newer` knows (a field it leaves empty keeps its value)."""
        given = {name: getattr(newer, name) for name in _CONFIG_FIELDS if getattr(newer, name)}
        return replace(self, **given)


_CONFIG_FIELDS = ("format", "kinds", "image", "image_id", "image_hash", "image_source", "engine")


@dataclass(frozen=True)
class RunInfo:
    """The item's step's run: what a finished run gave, or only that it did not run."""

    ran: bool = False
    timed_out: bool = False
    exit_code: int | None = None
    duration: float | None = None
    runtime: str | None = None
    user: str | None = None
    user_why: str | None = None  # why that uid (kit_options.run_user), for the summary
    log_path: str | None = None
    model: str | None = None
    dataset: str | None = None
    has_metrics: bool = False  # an evaluate: its metrics (None when unreadable) are shown
    metrics: Json = None
    resources: dict[str, Any] | None = None  # observe/footprint.Resources as plain data
    cases: int | None = None  # entries of the data mount: the time per case

    def updated(self, newer: RunInfo) -> RunInfo:
        """A step's run as its items report it, in order: a finished run's facts replace
        what was known (metrics stay unless the newer record has them); an item whose
        step did not run says only that it did not time out."""
        if not newer.ran:
            return replace(self, timed_out=False)
        if newer.has_metrics or not self.has_metrics:
            return newer
        return replace(newer, has_metrics=True, metrics=self.metrics)


@dataclass(frozen=True)
class ItemRecord:
    """One item's line in the reports."""

    config: str  # the config's name as node ids show it
    rule: str
    outcome: str  # passed | failed | skipped
    config_info: ConfigInfo = field(default_factory=ConfigInfo)
    step: str | None = None  # None: a config-level item (config-valid, image-available)
    message: str | None = None
    evidence: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    run: RunInfo | None = None  # None for config-level items
    source: str | None = None  # a benchmark owner's rule: where it is defined
    consequence: str | None = None  # the kit's rules: checks/catalogue.py's consequence

    @property
    def advice(self) -> bool:
        """An advice rule that found something and passed (without --medperf-strict)."""
        return self.consequence == "advice" and self.outcome == "passed" and bool(self.message)

    # -- across xdist's wire -----------------------------------------------------------
    def to_wire(self) -> dict[str, Any]:
        """Plain data for xdist's wire (a report's attributes must be serialisable)."""
        return asdict(self)

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> ItemRecord:
        """The record a worker sent (to_wire), read back on the controller."""
        info, run = wire["config_info"], wire["run"]
        return replace(
            cls(**{k: v for k, v in wire.items() if k not in ("config_info", "run")}),
            config_info=ConfigInfo(**{**info, "kinds": tuple(info["kinds"])}),
            evidence=tuple(wire["evidence"]),
            notes=tuple(wire["notes"]),
            warnings=tuple(wire["warnings"]),
            run=RunInfo(**run) if run is not None else None,
        )
