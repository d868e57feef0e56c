"""The data a session feeds to tasks: MedPerf's demo-dataset form and a prepared dataset."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .config.yamlsafe import read_yaml
from .errors import ConfigError, InputMissing
from .sandbox import Sandbox

DEMO_OPTION = "--medperf-demo-data"
DATA_OPTION = "--medperf-data"


@dataclass(frozen=True)
class RawDataset:
    """Raw input of a data preparator (paths inside the sandbox)."""

    data: Path
    labels: Path
    metadata: Path | None


@dataclass(frozen=True)
class PreparedDataset:
    data: Path
    labels: Path
    metadata: Path | None


def import_demo_data(sandbox: Sandbox, source: Path) -> RawDataset:
    """Copy a demo dataset (folder or .tar.gz with paths.yaml) in and resolve its paths."""
    root = sandbox.import_input(source, "demo-data", option=DEMO_OPTION)
    paths_file = _find_paths_yaml(root)
    if paths_file is None:
        raise InputMissing(
            f"{DEMO_OPTION} {source}: no paths.yaml found. A demo dataset holds paths.yaml "
            "with data_path and labels_path, relative to it."
        )
    try:
        paths = read_yaml(paths_file, what="paths.yaml").data
    except ConfigError as exc:
        raise InputMissing(f"{DEMO_OPTION} {source}: {exc.problem}") from None
    if not isinstance(paths, dict):
        raise InputMissing(f"{DEMO_OPTION} {source}: paths.yaml must be a mapping.")
    base = paths_file.parent
    resolved = {}
    for key in ("data_path", "labels_path", "metadata_path"):
        value = paths.get(key)
        if value is None:
            if key != "metadata_path":
                raise InputMissing(f"{DEMO_OPTION} {source}: paths.yaml has no {key}.")
            resolved[key] = None
            continue
        target = (base / str(value)).resolve()
        if target != root.resolve() and root.resolve() not in target.parents:
            raise InputMissing(
                f"{DEMO_OPTION} {source}: paths.yaml {key} {value!r} points outside the dataset."
            )
        if not target.exists():
            raise InputMissing(
                f"{DEMO_OPTION} {source}: paths.yaml {key} {value!r} does not exist in the dataset."
            )
        resolved[key] = target
    return RawDataset(resolved["data_path"], resolved["labels_path"], resolved["metadata_path"])


def _find_paths_yaml(root: Path) -> Path | None:
    direct = root / "paths.yaml"
    if direct.is_file():
        return direct
    # A .tar.gz usually holds one top folder.
    found = sorted(root.glob("*/paths.yaml"))
    return found[0] if len(found) == 1 else None


def import_prepared_data(sandbox: Sandbox, source: Path) -> PreparedDataset:
    """Copy a prepared dataset (data/ and labels/, optional metadata/) in."""
    root = sandbox.import_input(source, "prepared-data", option=DATA_OPTION)
    missing = [name for name in ("data", "labels") if not (root / name).is_dir()]
    if missing:
        raise InputMissing(
            f"{DATA_OPTION} {source}: a prepared dataset holds data/ and labels/ folders; "
            f"{' and '.join(m + '/' for m in missing)} not found."
        )
    metadata = root / "metadata"
    return PreparedDataset(root / "data", root / "labels", metadata if metadata.is_dir() else None)
