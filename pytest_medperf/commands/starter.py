"""`python -m pytest_medperf init`: a starter container that passes the kit as written."""

from __future__ import annotations

import shutil
from pathlib import Path

TEMPLATES = Path(__file__).parent.parent / "templates"
KINDS = ("model", "data_preparator", "metrics")
SCRIPTS = {"model": "infer.py", "data_preparator": "preparator.py", "metrics": "evaluate.py"}
CASES = {
    "case_001": ("0.1 0.2 0.1 0.3", "0"),
    "case_002": ("0.9 0.8 0.7 0.9", "1"),
    "case_003": ("0.2 0.1 0.2 0.2", "0"),
    "case_004": ("0.8 0.9 0.9 0.6", "1"),
}
CHECK_ARGS = {
    "model": "--medperf-data demo/prepared",
    "data_preparator": "--medperf-demo-data demo",
    "metrics": "--medperf-data demo/prepared --medperf-predictions demo/predictions",
}


class StarterError(Exception):
    """The target folder cannot take a starter (the message says why)."""


def write_starter(kind: str, folder: Path, image: str | None = None) -> list[Path]:
    """Write Dockerfile, container_config.yaml, project/, workspace/ and demo/ into folder."""
    if kind not in KINDS:
        raise StarterError(f"--kind {kind!r}: choose one of {', '.join(KINDS)}.")
    if folder.exists() and any(folder.iterdir()):
        raise StarterError(f"{folder} is not empty; give a new or empty folder.")
    image = image or f"my-{kind.replace('_', '-')}:0.1"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "project").mkdir()
    (folder / "workspace").mkdir()
    source = TEMPLATES / kind
    (folder / "Dockerfile").write_text(
        (TEMPLATES / "Dockerfile").read_text().replace("{image}", image)
    )
    (folder / "container_config.yaml").write_text(
        (source / "container_config.yaml").read_text().replace("{image}", image)
    )
    shutil.copyfile(source / SCRIPTS[kind], folder / "project" / SCRIPTS[kind])
    shutil.copyfile(source / "parameters.yaml", folder / "workspace" / "parameters.yaml")
    _demo_data(kind, folder / "demo")
    (folder / "README.md").write_text(_readme(kind, image))
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _write_cases(data: Path, labels: Path, suffix: str) -> None:
    data.mkdir(parents=True)
    labels.mkdir(parents=True)
    for case, (values, _) in CASES.items():
        (data / f"{case}{suffix}").write_text(values + "\n")
    rows = "".join(f"{case},{label}\n" for case, (_, label) in CASES.items())
    (labels / "labels.csv").write_text("case,label\n" + rows)


def _demo_data(kind: str, demo: Path) -> None:
    if kind == "data_preparator":
        _write_cases(demo / "raw" / "data", demo / "raw" / "labels", ".txt")
        (demo / "paths.yaml").write_text("data_path: raw/data\nlabels_path: raw/labels\n")
        return
    _write_cases(demo / "prepared" / "data", demo / "prepared" / "labels", ".txt")
    if kind == "metrics":
        (demo / "predictions").mkdir()
        rows = "".join(f"{case},{label}\n" for case, (_, label) in CASES.items())
        (demo / "predictions" / "predictions.csv").write_text("case,prediction\n" + rows)


def _readme(kind: str, image: str) -> str:
    return f"""# A MedPerf {kind.replace("_", " ")} container (pytest-medperf starter)

Build the image, then check it the way MedPerf will run it:

    docker build -t {image} .
    pytest --medperf-config container_config.yaml {CHECK_ARGS[kind]}

- `project/{SCRIPTS[kind]}`: your code; the container_config.yaml says how it is called.
- `workspace/parameters.yaml`: mounted read-only at /mlcommons/volumes/parameters/.
- `demo/`: a tiny dataset for the check; replace it with a small sample of real data.

MedPerf runs the container as a non-root user, with no network and read-only
inputs: write only to the output mounts and /tmp.
"""
