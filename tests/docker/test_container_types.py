"""container_type: DockerImage, DockerArchive (loaded, then removed again),
SingularityFile (Singularity only); the encrypted types: test_artifact_encrypted.py."""

from __future__ import annotations

import contextlib
import io
import shutil
import uuid
from pathlib import Path

import docker
import pytest
from conftest import DATA, GOOD
from docker.errors import ImageNotFound


def model_config(tmp_path: Path, container_type: str, image: str) -> Path:
    folder = tmp_path / "model"
    folder.mkdir(exist_ok=True)
    text = GOOD["model"].read_text()
    text = text.replace("container_type: DockerImage", f"container_type: {container_type}")
    text = text.replace("image: pytest-medperf/sample-model:0.1", f"image: {image}")
    (folder / "container_config.yaml").write_text(text)
    if not (folder / "workspace").exists():
        shutil.copytree(GOOD["model"].parent / "workspace", folder / "workspace")
    return folder / "container_config.yaml"


def test_an_encrypted_sif_needs_the_singularity_runtime(run_kit, tmp_path: Path) -> None:
    config = model_config(tmp_path, "EncryptedSingularityFile", "model.sif.gpg")
    (config.parent / "model.sif.gpg").write_bytes(b"x")
    run = run_kit(config, args=("--medperf-data", str(DATA["prepared"]))).only("model")
    assert run.outcomes["image-available"] == "failed"
    assert "runs only under Singularity" in run.messages["image-available"]


def test_singularity_file_needs_the_singularity_runtime(run_kit, tmp_path: Path) -> None:
    config = model_config(tmp_path, "SingularityFile", "model.sif")
    (config.parent / "model.sif").write_bytes(b"x")
    run = run_kit(config, args=("--medperf-data", str(DATA["prepared"]))).only("model")
    assert "runs only under Singularity" in run.messages["image-available"]


def test_archive_url_is_not_downloaded(run_kit, tmp_path: Path) -> None:
    config = model_config(tmp_path, "DockerArchive", "https://example.org/model.tar")
    run = run_kit(config, args=("--medperf-data", str(DATA["prepared"]))).only("model")
    assert "the kit downloads nothing" in run.messages["image-available"]


def test_docker_archive_is_loaded_run_and_removed(run_kit, tmp_path: Path) -> None:
    client = docker.from_env()
    marker = uuid.uuid4().hex
    image, _ = client.images.build(
        fileobj=io.BytesIO(
            f"FROM pytest-medperf/sample-model:0.1\nLABEL test.archive={marker}\n".encode()
        ),
        tag=f"pytest-medperf/archive-test:{marker[:12]}",
        rm=True,
    )
    (tmp_path / "model").mkdir()
    archive = tmp_path / "model" / "model.tar"
    with open(archive, "wb") as out:
        for chunk in image.save(named=True):
            out.write(chunk)
    client.images.remove(image.id, force=True)
    try:
        config = model_config(tmp_path, "DockerArchive", "model.tar")
        run = run_kit(config, args=("--medperf-data", str(DATA["prepared"]))).only("model")
        assert set(run.outcomes.values()) == {"passed"}, run.messages
        with pytest.raises(ImageNotFound):  # the kit loaded it, so the kit removed it
            client.images.get(image.id)
    finally:
        with contextlib.suppress(ImageNotFound):
            client.images.remove(image.id, force=True)
