"""Golden results for regression suites (issue #13): one reviewed YAML file per
container x model x dataset, and the comparison of a new statistics.yaml or
results.yaml with it.

Numbers agree within `atol + rtol * |baseline|` (numpy's isclose rule), NaN equals
NaN, and everything else (strings, booleans, nulls, keys, list lengths) must be
the same. Nothing here runs a container or imports pytest: the rule that uses it
reads two mappings and gets back the rows of a table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_RTOL = 1e-6
DEFAULT_ATOL = 1e-9
BASELINE_VERSION = 1
MISSING = "(absent)"


@dataclass(frozen=True)
class BaselineSettings:
    """--medperf-baseline DIR, its tolerances, and whether this session may write it."""

    root: Path
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    update: bool = False  # --medperf-update-baseline: the only way anything is written
    resource_tolerance: float = 0.5  # --medperf-resource-tolerance, a fraction


@dataclass(frozen=True)
class Difference:
    """One row of the table a `matches-baseline` failure prints."""

    path: str  # JSON path, e.g. $.per_class.tumor
    baseline: str
    now: str
    difference: str


@dataclass(frozen=True)
class Recorded:
    """What produced a baseline: a changed image is the usual reason values move."""

    image: str | None
    parameters_sha256: str | None
    kit_version: str

    def changes_from(self, other: Recorded) -> list[str]:
        """Sentences naming what differs between this (stored) and `other` (now)."""
        found = []
        if self.image != other.image:
            found.append(f"the image changed ({self.image} then, {other.image} now)")
        if self.parameters_sha256 != other.parameters_sha256:
            found.append(
                f"the parameters file changed (sha256 {_short(self.parameters_sha256)} then, "
                f"{_short(other.parameters_sha256)} now)"
            )
        if self.kit_version != other.kit_version:
            found.append(f"the kit changed ({self.kit_version} then, {other.kit_version} now)")
        return found


@dataclass(frozen=True)
class Entry:
    """One baseline file: which output of which step, what produced it, its values."""

    kind: str  # "results" or "statistics"
    config: str
    model: str | None
    dataset: str
    recorded: Recorded
    values: Mapping[str, Any]

    def to_yaml(self) -> str:
        data = {
            "version": BASELINE_VERSION,
            "kind": self.kind,
            "config": self.config,
            "model": self.model,
            "dataset": self.dataset,
            "recorded": {
                "image": self.recorded.image,
                "parameters_sha256": self.recorded.parameters_sha256,
                "kit_version": self.recorded.kit_version,
            },
            "values": _plain(self.values),
        }
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def entry_path(root: Path, kind: str, config: str, model: str | None, dataset: str) -> Path:
    """Where an entry lives: <root>/<config folder>/<kind>[-<model>]/<dataset>.yaml,
    names a reviewer can read in a pull request's file list."""
    folder = Path(config).parent.name or _slug(config)
    name = kind if model is None else f"{kind}-{_slug(model)}"
    return root / _slug(folder) / name / f"{_slug(dataset)}.yaml"


def read_entry(path: Path) -> Entry:
    """Load a baseline file; ValueError says what is wrong with it."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION:
        raise ValueError(f"{path}: not a pytest-medperf baseline (version {BASELINE_VERSION})")
    recorded = data.get("recorded") or {}
    values = data.get("values")
    if not isinstance(values, dict):
        raise ValueError(f"{path}: values must be a mapping")
    return Entry(
        kind=str(data.get("kind")),
        config=str(data.get("config")),
        model=data.get("model"),
        dataset=str(data.get("dataset")),
        recorded=Recorded(
            image=recorded.get("image"),
            parameters_sha256=recorded.get("parameters_sha256"),
            kit_version=str(recorded.get("kit_version")),
        ),
        values=values,
    )


def compare(
    baseline: Any,
    now: Any,
    *,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    path: str = "$",
) -> list[Difference]:
    """Every place where `now` leaves the baseline, in document order."""
    if _is_number(baseline) and _is_number(now):
        if _numbers_agree(baseline, now, rtol, atol):
            return []
        return [Difference(path, _show(baseline), _show(now), _delta(baseline, now))]
    if isinstance(baseline, dict) and isinstance(now, dict):
        found: list[Difference] = []
        for key in list(baseline) + [k for k in now if k not in baseline]:
            where = f"{path}.{key}" if _plain_key(key) else f"{path}[{key!r}]"
            if key not in now:
                found.append(Difference(where, _show(baseline[key]), MISSING, "removed"))
            elif key not in baseline:
                found.append(Difference(where, MISSING, _show(now[key]), "added"))
            else:
                found += compare(baseline[key], now[key], rtol=rtol, atol=atol, path=where)
        return found
    if isinstance(baseline, list) and isinstance(now, list):
        if len(baseline) != len(now):
            return [
                Difference(path, f"{len(baseline)} items", f"{len(now)} items", "length changed")
            ]
        found = []
        for index, (a, b) in enumerate(zip(baseline, now, strict=True)):
            found += compare(a, b, rtol=rtol, atol=atol, path=f"{path}[{index}]")
        return found
    if type(baseline) is type(now) and baseline == now:
        return []
    what = "changed" if type(baseline) is type(now) else "type changed"
    return [Difference(path, _show(baseline), _show(now), what)]


def table(rows: list[Difference], limit: int = 20) -> list[str]:
    """The rows as an aligned text table (key path, baseline, now, difference)."""
    head = Difference("key path", "baseline", "now", "difference")
    shown = [head, *rows[:limit]]
    widths = [max(len(getattr(r, f)) for r in shown) for f in ("path", "baseline", "now")]
    lines = [
        f"{r.path:<{widths[0]}}  {r.baseline:<{widths[1]}}  {r.now:<{widths[2]}}  {r.difference}"
        for r in shown
    ]
    if len(rows) > limit:
        lines.append(f"... and {len(rows) - limit} more")
    return lines


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numbers_agree(a: float, b: float, rtol: float, atol: float) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(b - a) <= atol + rtol * abs(a)


def _delta(a: float, b: float) -> str:
    if any(isinstance(x, float) and not math.isfinite(x) for x in (a, b)):
        return "changed"
    change = b - a
    relative = f" ({change / a:+.2%})" if a else ""
    return f"{change:+.6g}{relative}"


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        text = yaml.safe_dump(_plain(value), default_flow_style=True, width=1000).strip()
        return text if len(text) <= 40 else text[:37] + "..."
    return repr(value) if isinstance(value, str) else str(value)


def _plain(value: Any) -> Any:
    """Mappings and lists as plain dict/list (MappingProxy and friends dump badly)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _plain_key(key: Any) -> bool:
    return isinstance(key, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key) is not None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"


def _short(digest: str | None) -> str:
    return digest[:12] if digest else "none"


# -- resource profiles (issue #27): stored beside the golden values, compared to warn --

PROFILE_FIGURES = {"peak_memory_bytes": "peak memory", "cpu_s": "CPU time"}


def profile_path(root: Path, config: str, task: str, model: str | None, dataset: str) -> Path:
    """<root>/<config folder>/resources/<task>[-<model>]/<dataset>.yaml"""
    folder = Path(config).parent.name or _slug(config)
    name = task if model is None else f"{task}-{_slug(model)}"
    return root / _slug(folder) / "resources" / name / f"{_slug(dataset)}.yaml"


def profile_yaml(
    config: str,
    task: str,
    model: str | None,
    dataset: str,
    image: str | None,
    resources: Mapping[str, Any],
    kit_version: str,
) -> str:
    """A stored profile (schemas/resources-baseline.schema.json)."""
    data = {
        "version": BASELINE_VERSION,
        "kind": "resources",
        "config": config,
        "task": task,
        "model": model,
        "dataset": dataset,
        "recorded": {"image": image, "kit_version": kit_version},
        "resources": dict(resources),
    }
    return yaml.safe_dump(data, sort_keys=False)


def read_profile(path: Path) -> Mapping[str, Any]:
    """A stored profile's figures; ValueError says what is wrong with the file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("kind") != "resources":
        raise ValueError(f"{path}: not a pytest-medperf resource profile")
    figures = data.get("resources")
    if not isinstance(figures, dict):
        raise ValueError(f"{path}: resources must be a mapping")
    return figures


def profile_growth(
    stored: Mapping[str, Any], now: Mapping[str, Any], tolerance: float
) -> list[str]:
    """Sentences for each figure (peak memory, CPU time) that grew by more than the
    tolerance; a figure unknown then or now is not compared."""
    from ...observe.footprint import show_bytes, show_seconds

    found = []
    for key, name in PROFILE_FIGURES.items():
        then, later = stored.get(key), now.get(key)
        if not (isinstance(then, (int, float)) and isinstance(later, (int, float))):
            continue
        before, after = float(then), float(later)
        if before <= 0:
            continue
        if after > before * (1 + tolerance):
            show = show_seconds if key == "cpu_s" else (lambda n: show_bytes(int(n)))
            found.append(
                f"{name} grew from {show(before)} to {show(after)} "
                f"({(after - before) / before:+.0%}; tolerance {tolerance:.0%})"
            )
    return found
