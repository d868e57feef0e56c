"""Encrypted containers with --medperf-decryption-key: a real gpg-encrypted `docker
save` archive, decrypted as MedPerf decrypts it, loaded, run, and removed afterwards
(also after Ctrl-C); the key's content never appears anywhere the kit writes."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest
from conftest import DATA, VIOLATIONS, start_kit, wait_for_task_container
from docker.errors import APIError, ImageNotFound
from test_container_types import model_config

ARGS = ("--medperf-data", str(DATA["prepared"]))
PASSPHRASE = "correct-horse-" + uuid.uuid4().hex  # unique: searched for in every output

pytestmark = pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg is not installed")


def gpg_encrypt(plain: Path, key: Path, output: Path, home: Path) -> None:
    """gpg --batch --symmetric --passphrase-file KEY, as a private model owner does, in a
    throw-away gpg home whose agent is stopped afterwards."""
    home.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    argv = ["gpg", "--batch", "--symmetric", "--passphrase-file", str(key)]
    try:
        subprocess.run([*argv, "--output", str(output), str(plain)], env=env, check=True)
    finally:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, check=False)
        shutil.rmtree(home, ignore_errors=True)


@dataclass
class Encrypted:
    path: Path  # the .gpg file beside the config
    key: Path
    image_id: str  # the image inside (removed from the engine before the kit runs)


@pytest.fixture
def encrypted_archive(tmp_path: Path) -> Iterator[Callable[[str], Encrypted]]:
    """A real gpg-encrypted `docker save` archive of a tiny throw-away image."""
    client = docker.from_env()
    made: list[str] = []

    def make(base: str = "pytest-medperf/sample-model:0.1") -> Encrypted:
        tag = f"pytest-medperf/test-encrypted-{uuid.uuid4().hex[:12]}:1"
        dockerfile = f"FROM {base}\nLABEL test.encrypted={uuid.uuid4().hex}\n"
        image, _ = client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True)
        made.append(image.id)
        secret = tmp_path / "owner"
        secret.mkdir(exist_ok=True)
        plain = secret / "model.tar"
        subprocess.run(["docker", "save", "-o", str(plain), tag], check=True)
        key = secret / "container.key"
        key.write_text(PASSPHRASE + "\n")
        target = tmp_path / "model" / "model.tar.gpg"
        target.parent.mkdir(exist_ok=True)
        gpg_encrypt(plain, key, target, secret / "gnupg")
        plain.unlink()
        client.images.remove(image.id, force=True)
        return Encrypted(target, key, image.id)

    yield make
    for image_id in made:
        with contextlib.suppress(ImageNotFound, APIError):
            client.images.remove(image_id, force=True)


def test_encrypted_archive_is_decrypted_loaded_run_and_removed(
    run_kit, encrypted_archive, tmp_path: Path
) -> None:
    made = encrypted_archive()
    before = made.path.read_bytes()
    config = model_config(tmp_path, "EncryptedDockerArchive", "model.tar.gpg")
    report = tmp_path / "report.json"
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    run = run_kit(
        config,
        args=(
            *ARGS,
            "--medperf-decryption-key",
            str(made.key),
            "--medperf-report",
            str(report),
            "--medperf-keep",
            "--medperf-sandbox-dir",
            str(sandbox),
        ),
    ).only("model")
    assert set(run.outcomes.values()) == {"passed"}, run.messages
    found = json.loads(report.read_text())["configs"][0]
    assert found["image_id"] == made.image_id
    with pytest.raises(ImageNotFound):  # the loaded image is gone
        docker.from_env().images.get(made.image_id)
    # Even in a kept sandbox no decrypted file remains; the user's file is unchanged.
    kept = [p for p in sandbox.rglob("*") if p.is_file() and "artifacts" in p.parts]
    assert kept == []
    assert made.path.read_bytes() == before
    assert PASSPHRASE not in report.read_text()
    for log in report.with_name(report.stem + "-logs").rglob("*"):
        assert not log.is_file() or PASSPHRASE not in log.read_text(errors="replace")


def test_no_key_fails_naming_the_option(run_kit, encrypted_archive, tmp_path: Path) -> None:
    encrypted_archive()
    config = model_config(tmp_path, "EncryptedDockerArchive", "model.tar.gpg")
    run = run_kit(config, args=ARGS).only("model")
    assert run.outcomes["image-available"] == "failed"
    message = run.messages["image-available"]
    assert "--medperf-decryption-key" in message and "decryption key is not provided" in message


def test_wrong_key_fails_with_gpgs_reason_and_never_shows_a_key(
    encrypted_archive, tmp_path: Path
) -> None:
    encrypted_archive()
    wrong = tmp_path / "wrong.key"
    wrong.write_text("not-the-passphrase-" + uuid.uuid4().hex)
    config = model_config(tmp_path, "EncryptedDockerArchive", "model.tar.gpg")
    report = tmp_path / "report.json"
    proc = start_kit(
        config, tmp_path, "--medperf-decryption-key", str(wrong), "--medperf-report", str(report)
    )
    out, _ = proc.communicate(timeout=300)
    assert "image-available FAILED" in out or "image-available: FAIL" in out, out
    assert "Bad session key" in out  # gpg's own reason
    assert str(wrong) in out
    secret = wrong.read_text()
    for text in (out, report.read_text()):
        assert secret not in text and PASSPHRASE not in text


@pytest.mark.parametrize("damage", ["truncated", "missing key file"])
def test_bad_input_fails_naming_it(run_kit, encrypted_archive, tmp_path: Path, damage) -> None:
    made = encrypted_archive()
    key = made.key
    if damage == "truncated":
        made.path.write_bytes(made.path.read_bytes()[:200])
    else:
        key = tmp_path / "no-such.key"
    before = made.path.read_bytes()
    config = model_config(tmp_path, "EncryptedDockerArchive", "model.tar.gpg")
    run = run_kit(config, args=(*ARGS, "--medperf-decryption-key", str(key))).only("model")
    assert run.outcomes["image-available"] == "failed"
    message = run.messages["image-available"]
    if damage == "truncated":
        assert "gpg could not decrypt" in message and "model.tar.gpg" in message
    else:
        assert f"--medperf-decryption-key {key}: no such file" in message
    assert made.path.read_bytes() == before


def test_loaded_images_are_removed_after_ctrl_c(encrypted_archive, tmp_path: Path) -> None:
    made = encrypted_archive("pytest-medperf/violations:0.1")
    hang = (VIOLATIONS / "exit-status-timeout" / "container_config.yaml").read_text()
    hang = hang.replace("container_type: DockerImage", "container_type: EncryptedDockerArchive")
    hang = hang.replace("image: pytest-medperf/violations:0.1", "image: model.tar.gpg")
    config = made.path.parent / "container_config.yaml"
    config.write_text(hang)
    proc = start_kit(config, tmp_path, "--medperf-decryption-key", str(made.key))
    try:
        wait_for_task_container(proc.pid)
        assert docker.from_env().images.get(made.image_id)  # loaded and running
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    with pytest.raises(ImageNotFound):
        docker.from_env().images.get(made.image_id)
