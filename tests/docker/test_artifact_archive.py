"""A DockerArchive as MedPerf runs it: its first repo tag runs, an untagged archive
cannot run, its sha256 is reported and compared with --medperf-image-hash; loaded
images are removed and tags the load moved are given back."""

from __future__ import annotations

import hashlib
import json
import subprocess
import tarfile
import uuid
from pathlib import Path

import docker
import pytest
from conftest import DATA
from docker.errors import ImageNotFound
from test_container_types import model_config

ARGS = ("--medperf-data", str(DATA["prepared"]))


def unique_tag(what: str = "archive") -> str:
    return f"pytest-medperf/test-{what}-{uuid.uuid4().hex[:12]}:1"


def save(client: docker.DockerClient, names: list[str], target: Path) -> Path:
    """docker save, as an author makes an archive (several names: one archive)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["docker", "save", "-o", str(target), *names], check=True)
    return target


def manifest(path: Path) -> list[dict]:
    with tarfile.open(path) as archive:
        return json.load(archive.extractfile("manifest.json"))


def report_of(path: Path) -> dict:
    (config,) = json.loads(path.read_text())["configs"]
    return config


def test_the_first_repo_tag_runs_and_the_sha256_is_reported(
    run_kit, client, build, tmp_path: Path
) -> None:
    first, second = unique_tag(), unique_tag()
    ids = {first: build(first), second: build(second)}
    archive = save(client, [first, second], tmp_path / "model" / "model.tar")
    for tag in (first, second):
        client.images.remove(tag, force=True)
    entries = manifest(archive)
    expected_tag = entries[0]["RepoTags"][0]  # what MedPerf runs
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    config = model_config(tmp_path, "DockerArchive", "model.tar")
    report = tmp_path / "report.json"
    run = run_kit(
        config,
        args=(*ARGS, "--medperf-image-hash", digest, "--medperf-report", str(report)),
    ).only("model")
    assert set(run.outcomes.values()) == {"passed"}, run.messages
    found = report_of(report)
    assert found["image_source"] == expected_tag
    assert found["image_id"] == ids[expected_tag]
    assert found["image_hash"] == digest
    (check,) = [c for c in found["checks"] if c["id"] == "image-available"]
    assert any(digest in note and "hash to register" in note for note in check["notes"])
    for image_id in ids.values():  # the kit loaded both, so it removed both
        with pytest.raises(ImageNotFound):
            client.images.get(image_id)


def test_wrong_hash_of_an_archive_fails_naming_both(run_kit, client, build, tmp_path) -> None:
    tag = unique_tag()
    build(tag)
    archive = save(client, [tag], tmp_path / "model" / "model.tar")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    wrong = "sha256:" + "f" * 64
    config = model_config(tmp_path, "DockerArchive", "model.tar")
    run = run_kit(config, args=(*ARGS, "--medperf-image-hash", wrong)).only("model")
    assert run.outcomes["image-available"] == "failed"
    message = run.messages["image-available"]
    assert "Hash mismatch" in message and wrong in message and digest in message


def test_untagged_archive_fails_with_medperfs_reason(run_kit, client, build, tmp_path) -> None:
    image_id = build(unique_tag())
    archive = save(client, [image_id], tmp_path / "model" / "model.tar")
    assert not manifest(archive)[0].get("RepoTags")
    config = model_config(tmp_path, "DockerArchive", "model.tar")
    run = run_kit(config, args=ARGS).only("model")
    assert run.outcomes["image-available"] == "failed"
    message = run.messages["image-available"]
    assert "untagged" in message and "first repo tag" in message
    assert "docker save myorg/model:1.0" in message


def test_corrupt_archive_fails_naming_it(run_kit, tmp_path: Path) -> None:
    archive = tmp_path / "model" / "model.tar"
    archive.parent.mkdir()
    archive.write_bytes(b"not a tar archive" * 100)
    before = archive.read_bytes()
    config = model_config(tmp_path, "DockerArchive", "model.tar")
    run = run_kit(config, args=ARGS).only("model")
    assert run.outcomes["image-available"] == "failed"
    assert "model.tar is not a readable `docker save` archive" in run.messages["image-available"]
    assert archive.read_bytes() == before


def test_a_tag_the_load_moved_is_given_back(run_kit, client, build, tmp_path: Path) -> None:
    tag = unique_tag()
    archived = build(tag)
    save(client, [tag], tmp_path / "model" / "model.tar")
    client.images.remove(archived, force=True)
    local = build(tag)  # the author's newer local image under the same tag
    config = model_config(tmp_path, "DockerArchive", "model.tar")
    report = tmp_path / "report.json"
    run = run_kit(config, args=(*ARGS, "--medperf-report", str(report))).only("model")
    assert set(run.outcomes.values()) == {"passed"}, run.messages
    assert report_of(report)["image_id"] == archived  # the archive's image ran
    assert client.images.get(tag).id == local  # and the tag is the author's again
    with pytest.raises(ImageNotFound):
        client.images.get(archived)


def test_a_hash_for_one_config_by_its_folder(run_kit, client, build, tmp_path: Path) -> None:
    tag = unique_tag()
    build(tag)
    archive = save(client, [tag], tmp_path / "model" / "model.tar")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    config = model_config(tmp_path, "DockerArchive", "model.tar")
    good = run_kit(config, args=(*ARGS, "--medperf-image-hash", f"model=sha256:{digest}"))
    assert good.only("model").outcomes["image-available"] == "passed"
    wrong = run_kit(config, args=(*ARGS, "--medperf-image-hash", "model=" + "a" * 64))
    assert "Hash mismatch" in wrong.only("model").messages["image-available"]


def test_a_hash_for_no_config_is_a_usage_error(pytester: pytest.Pytester, tmp_path) -> None:
    config = model_config(tmp_path, "DockerImage", "pytest-medperf/sample-model:0.1")
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--medperf-config", str(config),
        "--medperf-image-hash", "nosuch=" + "a" * 64,
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*'nosuch' matches no config*"])
