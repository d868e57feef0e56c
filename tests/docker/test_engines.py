"""More than one engine (--medperf-docker-hosts): a session spread over the main engine
and a second real one started by the tests (tests/second_engine.py); parsing and worker ->
engine choice without an engine: tests/unit/test_engines_unit.py."""

from __future__ import annotations

import json
import time
from pathlib import Path

from conftest import DATA, GOOD, SAMPLES, VIOLATIONS, private_copy

from pytest_medperf.runtimes.base import LABEL_KIT, LABEL_PID

CONFIG_LABEL = "io.github.pytest-medperf.config"


# -- two real engines --------------------------------------------------------------------
def created_on(client, since: int, folders: list[str]) -> dict[str, set[str]]:
    """Per config folder, the kit pids (LABEL_PID) that created its containers on an
    engine since a time (from the engine's own events)."""
    events = client.events(
        since=since,
        until=int(time.time()) + 1,
        filters={"event": "create", "label": CONFIG_LABEL},
        decode=True,
    )
    found: dict[str, set[str]] = {}
    for event in events:
        labels = event["Actor"]["Attributes"]
        folder = next((f for f in folders if f in labels.get(CONFIG_LABEL, "")), None)
        if folder is not None:
            found.setdefault(folder, set()).add(labels.get(LABEL_PID, "?"))
    return found


def left_by(client, pids: set[str]) -> list[str]:
    """The kit's containers (tasks and network holders) of these kit processes."""
    found = client.containers.list(all=True, sparse=True, filters={"label": LABEL_KIT})
    return [
        str((c.attrs.get("Names") or [c.id])[0])
        for c in found
        if (c.attrs.get("Labels") or {}).get(LABEL_PID) in pids
    ]


def test_two_workers_run_on_two_engines(pytester, tmp_path: Path, second_engine) -> None:
    import docker

    from pytest_medperf.runtimes.docker_runtime.engine import engine_address

    main = engine_address()
    configs = [
        private_copy(GOOD["model"], tmp_path),
        private_copy(SAMPLES / "model_strict" / "container_config.yaml", tmp_path),
    ]
    folders = [c.parent.name for c in configs]
    report = tmp_path / "report.json"
    since = int(time.time()) - 1
    result = pytester.runpytest_subprocess(
        "-n",
        "2",
        "-p",
        "no:cacheprovider",
        *[arg for config in configs for arg in ("--medperf-config", str(config))],
        "--medperf-data",
        str(DATA["prepared"]),
        "--medperf-docker-hosts",
        f"{main},{second_engine.host}",
        "--medperf-report",
        str(report),
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) > 0, result.stdout.str()
    assert outcomes.get("failed", 0) == 0 and outcomes.get("skipped", 0) == 0, result.stdout.str()

    # The report says which engine ran each config: one on each.
    data = json.loads(report.read_text())
    engine_of = {Path(c["path"]).parent.name: c["engine"] for c in data["configs"]}
    assert sorted(engine_of.values()) == sorted([main, second_engine.host]), engine_of
    for folder, engine in engine_of.items():
        assert any(folder in line and f"(engine {engine})" in line for line in result.outlines)

    # Each engine's own events agree: a config's containers were made there and only there.
    main_client, second_client = docker.from_env(), second_engine.client()
    on_main = created_on(main_client, since, folders)
    on_second = created_on(second_client, since, folders)
    assert set(on_main) == {f for f, e in engine_of.items() if e == main}, on_main
    assert set(on_second) == {f for f, e in engine_of.items() if e == second_engine.host}

    # Each engine had the kit's network holder: no-network was observed, not guessed.
    for config in data["configs"]:
        infer = next(t for t in config["tasks"] if t["name"] == "infer")
        notes = next(c["notes"] for c in infer["checks"] if c["id"] == "no-network")
        assert not any("observation partial" in n for n in notes), (config["engine"], notes)

    # Nothing left on either engine: no task container, no holder.
    pids = set().union(*on_main.values(), *on_second.values())
    assert left_by(main_client, pids) == []
    assert second_client.containers.list(all=True) == []


def test_the_network_is_watched_on_the_chosen_engine(run_kit, tmp_path, second_engine) -> None:
    """A task that hides its telemetry is caught on the second engine too: the holder is
    made there and its namespace entered."""
    config = private_copy(
        VIOLATIONS / "no-network-telemetry-swallowed" / "container_config.yaml", tmp_path
    )
    report = tmp_path / "report.json"
    result = run_kit(
        config,
        args=(
            "--medperf-data",
            str(DATA["prepared"]),
            "--medperf-docker-hosts",
            second_engine.host,
            "--medperf-report",
            str(report),
        ),
    ).only(config.parent.name)
    assert result.with_outcome("failed") == {"infer::no-network"}, result.outcomes
    assert "looked up the host name telemetry.example.com" in result.messages["infer::no-network"]
    assert json.loads(report.read_text())["configs"][0]["engine"] == second_engine.host
    assert second_engine.client().containers.list(all=True) == []


def test_a_missing_image_names_the_engine(run_kit, second_engine) -> None:
    """The images must be on every engine: one that is only on the main engine fails
    image-available on the second, naming it."""
    result = run_kit(
        GOOD["data_preparator"],
        args=("--medperf-docker-hosts", second_engine.host, "-k", "image-available"),
    ).only("data_preparator")
    assert result.outcomes == {"image-available": "failed"}
    message = result.messages["image-available"]
    assert f"not on the Docker engine at {second_engine.host}" in message
    assert "pytest-medperf/sample-prep:0.1" in message
