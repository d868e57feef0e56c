"""Where a Singularity site's SIF comes from, through the FAKE binary (tests/fakes/
singularity records every call): `build X.sif docker://IMAGE` with --medperf-pull (as
MedPerf), docker-daemon:// for a local image (the kit's one deviation, said in the
summary), docker-archive:// for archives, and encrypted SIFs and archives decrypted into
the kit's private folder and removed afterwards."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest
from conftest import DATA
from docker.errors import ImageNotFound
from local_registry import LocalRegistry, push, untag
from test_artifact_encrypted import gpg_encrypt
from test_container_types import model_config

FAKES = Path(__file__).parent.parent / "fakes"
ARGS = ("--medperf-data", str(DATA["prepared"]), "--medperf-runtime", "singularity")


@dataclass
class Fake:
    log: Path
    cache: Path

    def calls(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def builds(self) -> list[list[str]]:
        return [c["argv"] for c in self.calls() if c["argv"][1] == "build"]

    def runs(self) -> list[dict]:
        return [c for c in self.calls() if c["argv"][1] in ("run", "exec")]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Fake:
    monkeypatch.setenv("PATH", f"{FAKES}:/usr/bin:/bin")
    found = Fake(tmp_path / "calls.jsonl", tmp_path / "cache")
    monkeypatch.setenv("FAKE_SINGULARITY_LOG", str(found.log))
    monkeypatch.setenv("XDG_CACHE_HOME", str(found.cache))  # the SIF cache: not the user's
    return found


def report_of(path: Path) -> dict:
    (config,) = json.loads(path.read_text())["configs"]
    return config


def notes_of(config: dict) -> list[str]:
    (check,) = [c for c in config["checks"] if c["id"] == "image-available"]
    return check["notes"]


def test_a_local_image_is_converted_from_the_engine_and_the_summary_says_so(
    run_kit, fake: Fake, tmp_path: Path
) -> None:
    image = "pytest-medperf/sample-model:0.1"
    config = model_config(tmp_path, "DockerImage", image)
    report = tmp_path / "report.json"
    run = run_kit(config, args=(*ARGS, "--medperf-report", str(report))).only("model")
    assert run.outcomes["image-available"] == "passed", run.messages
    (build,) = fake.builds()
    assert build[1:2] == ["build"] and build[2].endswith(".sif")
    assert build[3] == f"docker-daemon://{image}"
    image_id = docker.from_env().images.get(image).id.removeprefix("sha256:")
    sif = fake.cache / "pytest-medperf" / "sif" / f"{image_id[:32]}.sif"
    (call,) = fake.runs()
    assert call["argv"][call["argv"].index("none") + 1] == str(sif)
    assert any("docker-daemon://" in n and "deviation" in n for n in notes_of(report_of(report)))


def test_pull_converts_from_the_registry_as_medperf_does(
    run_kit, fake: Fake, registry: LocalRegistry, tmp_path: Path
) -> None:
    client = docker.from_env()
    reference = registry.name()
    dockerfile = f"FROM pytest-medperf/sample-model:0.1\nLABEL test.sif={uuid.uuid4().hex}\n"
    image, _ = client.images.build(
        fileobj=io.BytesIO(dockerfile.encode()), tag=reference, rm=True, forcerm=True
    )
    try:
        digest = push(client, reference)
        untag(client, reference)
        config = model_config(tmp_path, "DockerImage", reference)
        report = tmp_path / "report.json"
        args = (*ARGS, "--medperf-pull", "--medperf-report", str(report))
        run = run_kit(config, args=args).only("model")
        assert run.outcomes["image-available"] == "passed", run.messages
        (build,) = fake.builds()
        assert build[3] == f"docker://{reference}"
        sif = fake.cache / "pytest-medperf" / "sif" / f"{digest.replace(':', '_')}.sif"
        assert sif.is_file()
        (call,) = fake.runs()
        assert str(sif) in call["argv"]
        found = report_of(report)
        assert found["image_hash"] == digest
        assert any("Docker Hub only" in n for n in notes_of(found))
    finally:
        with contextlib.suppress(ImageNotFound):  # untagging its only tag removed it
            client.images.remove(image.id, force=True)


def test_an_archive_is_converted_with_docker_archive(run_kit, fake: Fake, tmp_path: Path) -> None:
    client = docker.from_env()
    tag = f"pytest-medperf/test-sif-archive-{uuid.uuid4().hex[:12]}:1"
    client.images.get("pytest-medperf/sample-model:0.1").tag(tag)
    archive = tmp_path / "model" / "model.tar"
    archive.parent.mkdir()
    try:
        subprocess.run(["docker", "save", "-o", str(archive), tag], check=True)
    finally:
        untag_quietly(client, tag)
    file_hash = hashlib.sha256(archive.read_bytes()).hexdigest()
    config = model_config(tmp_path, "DockerArchive", "model.tar")
    run = run_kit(config, args=(*ARGS, "--medperf-image-hash", file_hash)).only("model")
    assert run.outcomes["image-available"] == "passed", run.messages
    (build,) = fake.builds()
    assert build[3] == f"docker-archive://{archive}"
    assert build[2].endswith(".sif")
    (call,) = fake.runs()
    sif = fake.cache / "pytest-medperf" / "sif" / f"{file_hash}.sif"
    assert str(sif) in call["argv"]
    with pytest.raises(ImageNotFound):  # converted from the file: nothing loaded into Docker
        client.images.get(tag)


def untag_quietly(client: docker.DockerClient, tag: str) -> None:
    with contextlib.suppress(ImageNotFound):
        client.images.remove(tag)


@pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg is not installed")
def test_an_encrypted_sif_runs_decrypted_and_is_removed(
    run_kit, fake: Fake, tmp_path: Path
) -> None:
    owner = tmp_path / "owner"
    owner.mkdir()
    plain = owner / "model.sif"
    plain.write_bytes(os.urandom(4096))
    key = owner / "sif.key"
    key.write_text(uuid.uuid4().hex)
    (tmp_path / "model").mkdir()
    gpg_encrypt(plain, key, tmp_path / "model" / "model.sif.gpg", owner / "gnupg")
    config = model_config(tmp_path, "EncryptedSingularityFile", "model.sif.gpg")
    args = (*ARGS, "--medperf-decryption-key", str(key))
    run = run_kit(config, args=args).only("model")
    assert run.outcomes["image-available"] == "passed", run.messages
    (call,) = fake.runs()
    sif = call["argv"][call["argv"].index("none") + 1]
    assert call["files"][sif] == hashlib.sha256(plain.read_bytes()).hexdigest()
    assert not Path(sif).exists()  # the decrypted SIF is gone
    assert fake.builds() == []


@pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg is not installed")
def test_an_encrypted_archive_is_converted_then_removed(
    run_kit, fake: Fake, tmp_path: Path
) -> None:
    owner = tmp_path / "owner"
    owner.mkdir()
    plain = owner / "model.tar"
    plain.write_bytes(os.urandom(4096))  # the fake converts anything
    key = owner / "tar.key"
    key.write_text(uuid.uuid4().hex)
    (tmp_path / "model").mkdir()
    gpg_encrypt(plain, key, tmp_path / "model" / "model.tar.gpg", owner / "gnupg")
    config = model_config(tmp_path, "EncryptedDockerArchive", "model.tar.gpg")
    run = run_kit(config, args=(*ARGS, "--medperf-decryption-key", str(key))).only("model")
    assert run.outcomes["image-available"] == "passed", run.messages
    (build,) = fake.builds()
    decrypted = build[3].removeprefix("docker-archive://")
    assert build[3].startswith("docker-archive://") and "decrypted-" in decrypted
    (call,) = fake.runs()
    sif = call["argv"][call["argv"].index("none") + 1]
    assert not Path(decrypted).exists() and not Path(sif).exists()
    assert not (fake.cache / "pytest-medperf" / "sif").exists() or not any(
        (fake.cache / "pytest-medperf" / "sif").iterdir()
    )  # a decrypted container's SIF is never cached


def test_a_failed_conversion_fails_image_available(
    run_kit, fake: Fake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_SINGULARITY_BUILD_FAILS", "1")
    config = model_config(tmp_path, "DockerImage", "pytest-medperf/sample-model:0.1")
    run = run_kit(config, args=ARGS).only("model")
    assert run.outcomes["image-available"] == "failed"
    assert "fake build failure" in run.messages["image-available"]
    assert not any((fake.cache / "pytest-medperf" / "sif").glob("*.sif"))


def test_gpus_on_a_machine_without_one_fail_before_starting(
    run_kit, fake: Fake, tmp_path: Path
) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.sif").write_bytes(b"sif")
    config = model_config(tmp_path, "SingularityFile", "model.sif")
    config.write_text(config.read_text().replace("command:", "gpus: all\n      command:", 1))
    run = run_kit(config, args=ARGS).only("model")
    if any(Path("/dev").glob("nvidia[0-9]*")):
        pytest.skip("this machine has a GPU")
    assert run.outcomes["infer::exit-status"] == "failed"
    message = run.messages["infer::exit-status"]
    assert "no NVIDIA GPU" in message and "--medperf-gpus 0" in message
    assert fake.runs() == []  # never started


def test_a_gpu_count_option_is_a_usage_error(pytester: pytest.Pytester, fake, tmp_path) -> None:
    config = model_config(tmp_path, "DockerImage", "pytest-medperf/sample-model:0.1")
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--medperf-config", str(config), *ARGS, "--medperf-gpus", "2"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*Cannot use gpu count when running singularity*"])


# Every config shape, the argv MedPerf builds for it (contract.md §3), host paths shown as
# HOST: (run_args written into the good model's config, argv after the binary, extra env).
B = [
    "--bind", "HOST:/mlcommons/volumes/data:ro",
    "--bind", "HOST:/mlcommons/volumes/parameters/parameters.yaml:ro",
    "--bind", "HOST:/mlcommons/volumes/additional_files:ro",
    "--bind", "HOST:/mlcommons/volumes/predictions:rw",
    "--bind", "HOST:/tmp:rw",
]  # fmt: skip
N = ["--net", "--network", "none", "SIF"]
C = ["python3", "/project/infer.py"]
SHAPES = [
    ("command", "command: [python3, /project/infer.py]", ["run", "-eC", *B, *N, *C], {}),
    ("no run_args command", "shm_size: 1g", ["run", "-eC", *B, *N], {}),
    (
        "entrypoint and command",
        "entrypoint: /bin/sh\n      command: [-c, 'echo hi']",
        ["exec", "-eC", *B, *N, "/bin/sh", "-c", "echo hi"],
        {},
    ),
    ("entrypoint alone", "entrypoint: /opt/run.sh", ["exec", "-eC", *B, *N, "/opt/run.sh"], {}),
    (
        "command as a string",
        "command: python3 /project/infer.py --mode 'a b'",
        ["run", "-eC", *B, *N, *C, "--mode", "a b"],
        {},
    ),
    (
        "environment",
        "command: [python3, /project/infer.py]\n      environment: {OMP_NUM_THREADS: '1'}",
        ["run", "-eC", *B, *N, *C],
        {"SINGULARITYENV_OMP_NUM_THREADS": "1"},
    ),
    (
        "gpus all",
        "command: [python3, /project/infer.py]\n      gpus: all",
        ["run", "-eC", *B, "--nv", *N, *C],
        {},
    ),
    (
        "one device",
        "command: [python3, /project/infer.py]\n      gpus: device=0",
        ["run", "-eC", *B, "--nv", "--nvccli", "-c", "--writable-tmpfs", *N, *C],
        {"NVIDIA_VISIBLE_DEVICES": "0"},
    ),
    (
        # several ids fail config-valid (MedPerf's Docker runner cannot pass them), so
        # a Singularity site gives them as MedPerf's --gpus: here --medperf-gpus
        "device list (--medperf-gpus)",
        "command: [python3, /project/infer.py]",
        ["run", "-eC", *B, "--nv", "--nvccli", "-c", "--writable-tmpfs", *N, *C],
        {"NVIDIA_VISIBLE_DEVICES": "0,1"},
    ),
]
GPU_OPTION = {"device list (--medperf-gpus)": ("--medperf-gpus", "device=0,1")}


@pytest.mark.parametrize(
    ("shape", "run_args", "expected", "env"), SHAPES, ids=[shape[0] for shape in SHAPES]
)
def test_the_kit_calls_the_fake_with_medperfs_argv(
    run_kit,
    fake: Fake,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    shape,
    run_args,
    expected,
    env,
) -> None:
    import pytest_medperf.runtimes.gpu as gpu

    monkeypatch.setattr(gpu, "nvidia_devices", lambda dev=None: ["nvidia0"])  # no GPU here
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.sif").write_bytes(b"sif")
    config = model_config(tmp_path, "SingularityFile", "model.sif")
    config.write_text(
        config.read_text().replace("command: [python3, /project/infer.py]", run_args, 1)
    )
    run = run_kit(config, args=(*ARGS, *GPU_OPTION.get(shape, ()))).only("model")
    assert run.outcomes["config-valid"] == "passed", run.messages
    (call,) = fake.runs()
    argv = call["argv"]
    assert Path(argv[0]).name == "singularity"
    shown = []
    for word in argv[1:]:
        if word == str(folder / "model.sif"):
            shown.append("SIF")
        elif ":/" in word and word.startswith("/"):
            host, _, rest = word.partition(":")
            assert Path(host).exists() or "pytest-medperf-" in host
            shown.append(f"HOST:{rest}")
        else:
            shown.append(word)
    assert shown == expected
    assert call["env"] == env
