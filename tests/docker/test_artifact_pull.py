"""--medperf-pull against a real registry (Debian's docker-registry on 127.0.0.1): the
kit pulls as every site does, tests what it pulled, reports the registry digest (the
hash to register) and compares it with --medperf-image-hash."""

from __future__ import annotations

import json
import uuid
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import DATA
from docker.errors import ImageNotFound
from local_registry import LocalRegistry, free_port, push, serve, untag
from test_container_types import model_config

ARGS = ("--medperf-data", str(DATA["prepared"]))


def report_of(path: Path) -> dict:
    (config,) = json.loads(path.read_text())["configs"]
    return config


def test_pushed_image_passes_and_its_registry_digest_is_reported(
    run_kit, registry: LocalRegistry, client, build, tmp_path: Path
) -> None:
    reference = registry.name()
    image_id = build(reference)
    pushed = push(client, reference)
    untag(client, reference)  # a site starts without it: the kit has to pull
    assert registry.digest(reference) == pushed
    config = model_config(tmp_path, "DockerImage", reference)
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    run = run_kit(
        config,
        args=(*ARGS, "--medperf-pull", "--medperf-report", str(report), "--junitxml", str(junit)),
    ).only("model")
    assert set(run.outcomes.values()) == {"passed"}, run.messages
    found = report_of(report)
    assert found["image_hash"] == pushed
    assert found["image_source"] == f"{reference.rsplit(':', 1)[0]}@{pushed}"
    assert found["image_id"] == image_id
    (check,) = [c for c in found["checks"] if c["id"] == "image-available"]
    assert any(pushed in note and "hash to register" in note for note in check["notes"])
    properties = {
        p.get("name"): p.get("value")
        for case in ET.parse(junit).getroot().iter("testcase")
        if case.get("name") == "image-available"
        for p in case.iter("property")
    }
    assert properties["image_hash"] == pushed
    # The kit's pulled reference is gone again; the image itself is the test's.
    with pytest.raises(ImageNotFound):
        client.images.get(f"{reference.rsplit(':', 1)[0]}@{pushed}")


def test_never_pushed_image_fails_although_it_is_local(
    run_kit, registry: LocalRegistry, build, tmp_path: Path
) -> None:
    reference = registry.name()
    build(reference)
    config = model_config(tmp_path, "DockerImage", reference)
    run = run_kit(config, args=(*ARGS, "--medperf-pull")).only("model")
    assert run.outcomes["image-available"] == "failed"
    message = run.messages["image-available"]
    assert registry.address in message and "not found" in message
    assert f"docker push {reference}" in message
    # singularity-portable judges the config alone when the image cannot be got.
    assert run.with_outcome("passed") == {"config-valid", "singularity-portable"}


def test_image_rebuilt_after_the_push_tests_the_pulled_one(
    run_kit, registry: LocalRegistry, client, build, tmp_path: Path
) -> None:
    reference = registry.name()
    pushed_id = build(reference)
    pushed = push(client, reference)
    local_id = build(reference)  # rebuilt: the tag now names another image
    config = model_config(tmp_path, "DockerImage", reference)
    report = tmp_path / "report.json"
    run = run_kit(config, args=(*ARGS, "--medperf-pull", "--medperf-report", str(report)))
    run = run.only("model")
    assert set(run.outcomes.values()) == {"passed"}, run.messages
    found = report_of(report)
    assert found["image_id"] == pushed_id != local_id
    assert found["image_hash"] == pushed
    (check,) = [c for c in found["checks"] if c["id"] == "image-available"]
    assert any("differs from the one in the registry" in note for note in check["notes"])
    assert client.images.get(reference).id == local_id  # the author's tag did not move


def test_wrong_image_hash_fails_naming_both(
    run_kit, registry: LocalRegistry, client, build, tmp_path: Path
) -> None:
    reference = registry.name()
    build(reference)
    pushed = push(client, reference)
    wrong = "sha256:" + "0" * 64
    config = model_config(tmp_path, "DockerImage", reference)
    run = run_kit(config, args=(*ARGS, "--medperf-pull", "--medperf-image-hash", wrong))
    run = run.only("model")
    assert run.outcomes["image-available"] == "failed"
    message = run.messages["image-available"]
    assert "Hash mismatch" in message and wrong in message and pushed in message
    # the right one passes
    right = run_kit(config, args=(*ARGS, "--medperf-pull", "--medperf-image-hash", pushed))
    assert right.only("model").outcomes["image-available"] == "passed"


def test_unreachable_registry_is_named(run_kit, tmp_path: Path) -> None:
    reference = f"127.0.0.1:{free_port()}/medperf-test/model-{uuid.uuid4().hex[:8]}:1"
    config = model_config(tmp_path, "DockerImage", reference)
    run = run_kit(config, args=(*ARGS, "--medperf-pull")).only("model")
    assert run.outcomes["image-available"] == "failed"
    message = run.messages["image-available"]
    assert "unreachable" in message and reference.split("/")[0] in message


def test_without_pull_a_local_image_passes_with_a_note(run_kit, tmp_path: Path) -> None:
    config = model_config(tmp_path, "DockerImage", "pytest-medperf/sample-model:0.1")
    report = tmp_path / "report.json"
    run = run_kit(config, args=(*ARGS, "--medperf-report", str(report))).only("model")
    assert run.outcomes["image-available"] == "passed"
    found = report_of(report)
    assert found["image_hash"] is None
    (check,) = [c for c in found["checks"] if c["id"] == "image-available"]
    assert any("not checked against a registry" in note for note in check["notes"])


def test_image_hash_of_a_docker_image_needs_pull(run_kit, tmp_path: Path) -> None:
    config = model_config(tmp_path, "DockerImage", "pytest-medperf/sample-model:0.1")
    run = run_kit(config, args=(*ARGS, "--medperf-image-hash", "sha256:" + "1" * 64))
    message = run.only("model").messages["image-available"]
    assert "--medperf-pull" in message


def test_a_malformed_image_hash_is_a_usage_error(pytester: pytest.Pytester, tmp_path) -> None:
    config = model_config(tmp_path, "DockerImage", "pytest-medperf/sample-model:0.1")
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--medperf-config", str(config), "--medperf-image-hash", "abc"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--medperf-image-hash 'abc'*sha256*"])


def test_a_registry_that_wants_credentials_is_named_unauthorized(run_kit, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        crypt = pytest.importorskip("crypt")  # bcrypt for htpasswd (stdlib before 3.13)
    users = "medperf:" + crypt.crypt("secret", crypt.mksalt(crypt.METHOD_BLOWFISH)) + "\n"
    auth = "auth:\n  htpasswd:\n    realm: medperf-test\n    path: ROOT/htpasswd\n"
    with serve(auth, {"htpasswd": users}) as private:
        reference = private.name()
        config = model_config(tmp_path, "DockerImage", reference)
        run = run_kit(config, args=(*ARGS, "--medperf-pull")).only("model")
    assert run.outcomes["image-available"] == "failed"
    message = run.messages["image-available"]
    assert "unauthorized" in message and private.address in message
    assert "without your credentials" in message
