"""Resource profiles and budgets without an engine (issue #27): budget entries read as
an owner writes them, the figures as people read them, growth against a stored profile,
and the cgroup tree the meter reads (a real folder laid out as the kernel lays it out).
On real containers: tests/docker/test_resources.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_medperf.checks.budget import Budget, budgets_for, parse_budget
from pytest_medperf.checks.compare.baseline_store import profile_growth
from pytest_medperf.errors import KitError
from pytest_medperf.observe.footprint import count_cases, disk_use, show_bytes, show_seconds
from pytest_medperf.runtimes.base import Usage
from pytest_medperf.runtimes.docker_runtime.meter import (
    CgroupTree,
    Sampler,
    cgroup_tree,
    merged,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("infer:memory=100MiB", Budget("infer", "memory", 100 << 20)),
        ("*:memory=2GiB", Budget("*", "memory", 2 << 30)),
        ("prepare:output=4096", Budget("prepare", "output", 4096)),
        ("evaluate:cpu=90s", Budget("evaluate", "cpu", 90)),
        ("infer:wall=10m", Budget("infer", "wall", 600)),
        (" infer : wall = 1.5h ", Budget("infer", "wall", 5400)),
        ("infer:Memory=1.5gib", Budget("infer", "memory", 1.5 * (1 << 30))),
    ],
)
def test_budget_entries(text: str, expected: Budget) -> None:
    assert parse_budget(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("infer=100MiB", "give TASK:RESOURCE=LIMIT"),
        ("inference:memory=1GiB", "'inference' is not a MedPerf task"),
        ("infer:disk=1GiB", "no resource 'disk'; give memory, wall, cpu or output"),
        ("infer:memory=100MB", "the limit '100MB' is not bytes, or a number with KiB, MiB"),
        ("infer:wall=10min", "the limit '10min' is not seconds, or a number with s, m or h"),
        ("infer:cpu=-1s", "is not seconds"),
    ],
)
def test_bad_budget_entries_say_what_to_give(text: str, says: str) -> None:
    with pytest.raises(KitError) as caught:
        parse_budget(text)
    assert says in str(caught.value) and repr(text) in str(caught.value)


def test_a_tasks_own_budget_wins_over_star_and_a_later_entry_over_an_earlier() -> None:
    given = [
        parse_budget("infer:memory=1GiB"),
        parse_budget("*:memory=8GiB"),
        parse_budget("*:wall=1h"),
        parse_budget("*:wall=2h"),
    ]
    picked = budgets_for("infer", given)
    assert picked["memory"].limit == 1 << 30 and picked["wall"].limit == 7200
    assert budgets_for("evaluate", given)["memory"].limit == 8 << 30
    assert budgets_for("evaluate", [parse_budget("infer:cpu=1s")]) == {}


def test_figures_as_people_read_them() -> None:
    assert show_bytes(336_592_896) == "321 MiB"
    assert show_bytes(100 << 20) == "100 MiB"
    assert show_bytes(2 << 30) == "2 GiB"
    assert show_bytes(4600) == "4.5 KiB"
    assert show_bytes(12) == "12 bytes"
    assert show_seconds(0.042) == "42 ms"
    assert show_seconds(4.24) == "4.2 s"
    assert show_seconds(600) == "10 min"
    assert show_seconds(9000) == "2.5 h"


def test_growth_beyond_the_tolerance_is_named_and_unknown_figures_are_not_compared() -> None:
    stored = {"peak_memory_bytes": 100 << 20, "cpu_s": 2.0}
    grown = profile_growth(stored, {"peak_memory_bytes": 160 << 20, "cpu_s": 2.9}, 0.5)
    assert grown == ["peak memory grew from 100 MiB to 160 MiB (+60%; tolerance 50%)"]
    assert profile_growth(stored, {"peak_memory_bytes": None, "cpu_s": 9.0}, 0.5) == [
        "CPU time grew from 2 s to 9 s (+350%; tolerance 50%)"
    ]
    assert profile_growth({"peak_memory_bytes": None}, {"peak_memory_bytes": 5}, 0.5) == []


def test_disk_use_counts_files_not_links_and_cases_are_data_entries(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "a.csv").write_bytes(b"x" * 10)
    (out / "sub" / "b.csv").write_bytes(b"y" * 5)
    (out / "link").symlink_to("/etc/passwd")
    assert disk_use([out]) == (15, 2)
    assert disk_use([out / "a.csv"]) == (10, 1)
    assert disk_use([tmp_path / "missing"]) is None
    assert count_cases({"data_path": out}) == 3
    assert count_cases({"labels_path": out}) is None


def _v1_tree(root: Path, parent: str, peak: int, cpu_ns: int) -> None:
    for hierarchy in ("memory", "cpuacct", "pids"):
        (root / hierarchy / parent).mkdir(parents=True)
    (root / "memory" / "docker").mkdir()
    (root / "memory" / parent / "memory.max_usage_in_bytes").write_text(f"{peak}\n")
    (root / "cpuacct" / parent / "cpuacct.usage").write_text(f"{cpu_ns}\n")


def test_a_v1_parent_is_read_then_removed_from_every_hierarchy(tmp_path: Path) -> None:
    _v1_tree(tmp_path, "medperf-infer-1", 340_000_000, 1_500_000_000)
    tree = CgroupTree(1, tmp_path)
    usage = tree.read("/medperf-infer-1")
    assert usage is not None
    assert (usage.peak_memory_bytes, usage.cpu_s, usage.memory_source) == (
        340_000_000,
        1.5,
        "cgroup",
    )
    for hierarchy in ("memory", "cpuacct"):  # cgroupfs removes a cgroup's files with it
        for file in (tmp_path / hierarchy / "medperf-infer-1").iterdir():
            file.unlink()
    tree.remove("/medperf-infer-1")
    assert list(tmp_path.glob("*/medperf-infer-1")) == []
    assert tree.read("/medperf-infer-1") is None  # a run that never started


def test_a_v2_parent_without_memory_peak_has_cpu_but_unknown_memory(tmp_path: Path) -> None:
    (tmp_path / "medperf-infer-2").mkdir()
    (tmp_path / "medperf-infer-2" / "cpu.stat").write_text("usage_usec 250000\nuser_usec 1\n")
    usage = CgroupTree(2, tmp_path).read("/medperf-infer-2")
    assert usage is not None
    assert (usage.cpu_s, usage.peak_memory_bytes, usage.memory_source) == (0.25, None, None)
    # Then the run's memory is sampled, its CPU time still the parent's.
    assert not CgroupTree(2, tmp_path).visible("/medperf-infer-2")
    sampled = Usage(0.2, 300 << 20, "sampled")
    assert merged(usage, sampled) == Usage(0.25, 300 << 20, "sampled")
    (tmp_path / "medperf-infer-2" / "memory.peak").write_text("123456\n")
    assert CgroupTree(2, tmp_path).visible("/medperf-infer-2")
    usage = CgroupTree(2, tmp_path).read("/medperf-infer-2")
    assert usage is not None and usage.peak_memory_bytes == 123456
    assert merged(usage, Usage()) == Usage(0.25, 123456, "cgroup")


def test_the_cgroup_parent_is_used_only_where_the_kit_can_own_it(tmp_path: Path) -> None:
    (tmp_path / "memory" / "docker").mkdir(parents=True)
    v1 = {"CgroupDriver": "cgroupfs", "CgroupVersion": "1"}
    assert cgroup_tree(v1, remote=False, root=tmp_path) == CgroupTree(1, tmp_path)
    assert cgroup_tree(v1, remote=True, root=tmp_path) is None
    assert cgroup_tree({**v1, "CgroupDriver": "systemd"}, remote=False, root=tmp_path) is None
    # v2 with Docker's default parent absent here: not the engine's tree.
    assert cgroup_tree({**v1, "CgroupVersion": "2"}, remote=False, root=tmp_path) is None


def test_the_sampler_keeps_the_highest_reading() -> None:
    sampler = Sampler(lambda: {})
    sampler.take({"memory_stats": {"usage": 10, "max_usage": 300}, "cpu_stats": {}})
    sampler.take({"memory_stats": {"usage": 50}, "cpu_stats": {"cpu_usage": {"total_usage": 7e8}}})
    sampler.take({"memory_stats": {}, "cpu_stats": {"cpu_usage": {"total_usage": 900_000_000}}})
    usage = sampler.stop()
    assert (usage.peak_memory_bytes, usage.cpu_s, usage.memory_source) == (300, 0.9, "sampled")
    assert Sampler(lambda: {}).stop().memory_source is None


def test_the_sweep_removes_parents_whose_container_is_gone(tmp_path: Path) -> None:
    for name in ("medperf-infer-gone", "medperf-infer-alive", "other"):
        (tmp_path / "memory" / name).mkdir(parents=True)
    (tmp_path / "memory" / "medperf-infer-busy").mkdir()
    (tmp_path / "memory" / "medperf-infer-busy" / "child").mkdir()  # rmdir refuses it
    CgroupTree(1, tmp_path).sweep({"medperf-infer-alive"})
    left = sorted(p.name for p in (tmp_path / "memory").iterdir())
    assert left == ["medperf-infer-alive", "medperf-infer-busy", "other"]
