"""What a real-sized prepared dataset costs the kit (issue 24).

For each size (default 0.1 and 1 GB; --5gb adds 5 GB), a prepared dataset of 20,000
case files is made under --dir (default /tmp): image blobs (`case_NNNNN.img`, the bytes
of the dataset, which the sample model does not read, as a model reads only what it
needs) and 200 small `case_NNNNN.csv` cases it predicts. Then, alternated, each --runs
times:
  bare   `docker run` of the sample model's infer as MedPerf runs it: the data mounted
         read-only where it is, parameters and additional files read-only, --network
         none, -u 1000:1000 (as the kit runs when invoked as root; else your uid:gid);
  kit    a whole `pytest --medperf-config model --medperf-data DIR` session, every
         default rule (a process of its own: its peak RSS from wait4), with its sandbox
         in a folder of its own whose size is sampled while it runs (the extra disk).
A third alternated run, the kit on the sample's 6-case dataset, tells the session's fixed
cost from what the dataset costs; a fourth, a pytest session that only imports docker-py,
jsonschema and PyYAML and makes the bare run from one test, is the floor of any plugin
built on those libraries. Prints medians, kit/bare, the sandbox's peak size and
the kit's peak RSS. Targets at 1 GB and 20,000 files: kit/bare <= 1.5, extra disk
<= 100 MB, RSS <= 150 MB. It asserts nothing. The generated data is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / "sample_containers" / "model"
SMALL = REPO / "sample_containers" / "data" / "prepared"  # 6 cases
IMAGE = "pytest-medperf/sample-model:0.1"
FILES, CSV_CASES = 20_000, 200
VOL = "/mlcommons/volumes"


def user() -> str:
    return "1000:1000" if os.getuid() == 0 else f"{os.getuid()}:{os.getgid()}"


def make_dataset(root: Path, total_bytes: int) -> Path:
    """data/ with FILES case files (CSV_CASES of them small .csv cases), labels/."""
    data = root / "data"
    data.mkdir(parents=True)
    (root / "labels").mkdir()
    blobs = FILES - CSV_CASES
    size = max(1, total_bytes // blobs)
    chunk = os.urandom(size)
    for i in range(blobs):
        (data / f"case_{i:05d}.img").write_bytes(chunk)
    for i in range(CSV_CASES):
        (data / f"case_{blobs + i:05d}.csv").write_text("0.3,0.1,0.2,0.5\n")
    (root / "labels" / "labels.csv").write_text("case,label\n")
    return root


def tree_size(root: Path) -> int:
    """Bytes on disk below root (st_blocks), links not followed."""
    total, pending = 0, [os.fspath(root)]
    while pending:
        try:
            with os.scandir(pending.pop()) as entries:
                for item in entries:
                    try:
                        info = item.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += info.st_blocks * 512
                    if item.is_dir(follow_symlinks=False):
                        pending.append(item.path)
        except OSError:
            continue
    return total


def bare(dataset: Path, work: Path) -> float:
    out = Path(tempfile.mkdtemp(dir=work, prefix="bare-out-"))
    tmp = Path(tempfile.mkdtemp(dir=work, prefix="bare-tmp-"))
    for folder in (out, tmp):
        folder.chmod(0o777)
    argv = bare_argv(dataset, out, tmp)
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
    elapsed = time.perf_counter() - started
    shutil.rmtree(out)
    shutil.rmtree(tmp)
    return elapsed


def bare_argv(dataset: Path, out: Path, tmp: Path) -> list[str]:
    workspace = MODEL / "workspace"
    return [
        "docker", "run", "--rm", "-u", user(), "--network", "none",
        "--volume", f"{dataset / 'data'}:{VOL}/data:ro",
        "--volume", f"{workspace / 'parameters.yaml'}:{VOL}/parameters/parameters.yaml:ro",
        "--volume", f"{workspace / 'additional_files'}:{VOL}/additional_files:ro",
        "--volume", f"{out}:{VOL}/predictions:rw",
        "--volume", f"{tmp}:/tmp:rw",
        IMAGE, "python3", "/project/infer.py",
    ]  # fmt: skip


FLOOR_TEST = """
import json, os, subprocess
import docker, jsonschema, yaml  # what any kit built on the design card's libraries loads

def test_bare_run():
    subprocess.run(json.loads(os.environ["FLOOR_ARGV"]), check=True)
"""


def floor(dataset: Path, work: Path) -> float:
    """A pytest session that imports docker-py, jsonschema and PyYAML and makes the same
    bare `docker run` from one test: the least any pytest plugin on these libraries costs."""
    project = Path(tempfile.mkdtemp(dir=work, prefix="floor-"))
    (project / "test_floor.py").write_text(FLOOR_TEST)
    out = Path(tempfile.mkdtemp(dir=work, prefix="floor-out-"))
    out.chmod(0o777)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_floor.py"]
    env = {
        **os.environ,
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "FLOOR_ARGV": json.dumps(bare_argv(dataset, out, out)),
    }
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=project, env=env, stdout=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - started
    shutil.rmtree(project)
    if done.returncode != 0:
        print(f"  the floor session failed (status {done.returncode})")
    shutil.rmtree(out)
    return elapsed


def kit(dataset: Path, work: Path) -> tuple[float, int, float, int]:
    """Session wall time, the sandbox's peak size (bytes), peak RSS (MB), exit status."""
    project = Path(tempfile.mkdtemp(dir=work, prefix="project-"))
    sandboxes = project / "sandboxes"
    sandboxes.mkdir()
    argv = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        "-p", "pytest_medperf.plugin.hooks",
        "--medperf-config", str(MODEL / "container_config.yaml"),
        "--medperf-data", str(dataset), "--medperf-sandbox-dir", str(sandboxes),
    ]  # fmt: skip
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_size(sandboxes))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=project, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    left = list(sandboxes.iterdir())
    shutil.rmtree(project)
    if left:
        print(f"  the kit left {len(left)} sandbox(es) behind")
    return wall, peak, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def measure(gigabytes: float, work: Path, runs: int) -> None:
    root = Path(tempfile.mkdtemp(dir=work, prefix="dataset-"))
    root.chmod(0o755)  # mkdtemp makes 0o700: the task's user must read it
    try:
        started = time.perf_counter()
        dataset = make_dataset(root, int(gigabytes * 1e9))
        made = time.perf_counter() - started
        print(f"{gigabytes:g} GB, {FILES} files: made in {made:.0f} s")
        bare(dataset, work)  # warm the page cache and the image once, for both
        kit(SMALL, work)  # and the kit's bytecode cache
        bares, kits, smalls, floors, peaks, rsses, statuses = [], [], [], [], [], [], []
        for _ in range(runs):
            bares.append(bare(dataset, work))
            smalls.append(kit(SMALL, work)[0])
            floors.append(floor(dataset, work))
            wall, peak, rss, status = kit(dataset, work)
            kits.append(wall)
            peaks.append(peak)
            rsses.append(rss)
            statuses.append(status)
        b, k, s = statistics.median(bares), statistics.median(kits), statistics.median(smalls)
        print(
            f"  bare docker run   median {b:6.2f} s  (runs {', '.join(f'{x:.2f}' for x in bares)})"
        )
        print(
            f"  kit session       median {k:6.2f} s  (runs {', '.join(f'{x:.2f}' for x in kits)})"
        )
        print(f"  kit on 6 files    median {s:6.2f} s  (the session's fixed cost, same rules)")
        print(f"  kit/bare          {k / b:6.2f}   (target <= 1.5 at 1 GB)")
        f = statistics.median(floors)
        print(
            f"  pytest floor/bare {f / b:6.2f}   (pytest + docker-py + jsonschema + PyYAML and the"
            " bare run: no plugin on them can do better)"
        )
        print(f"  dataset's cost    {k - s:+6.2f} s  (kit on it - kit on 6 files)")
        print(
            f"  extra disk        {max(peaks) / 1e6:6.1f} MB peak sandbox size (target <= 100 MB)"
        )
        print(f"  kit peak RSS      {max(rsses):6.1f} MB (target <= 150 MB)")
        print(f"  kit exit statuses {statuses} (0: every item passed)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="0.1,1", help="GB, comma-separated (default 0.1,1)")
    parser.add_argument("--5gb", dest="five", action="store_true", help="add a 5 GB dataset")
    parser.add_argument("--runs", type=int, default=3, help="kit and bare runs each (default 3)")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")] + ([5.0] if args.five else [])
    free = shutil.disk_usage(args.dir).free
    if free < (max(sizes) * 1e9) * 1.2 + 1e9:
        print(f"not enough free disk in {args.dir} ({free / 1e9:.1f} GB) for {max(sizes):g} GB")
        return 1
    work = Path(tempfile.mkdtemp(dir=args.dir, prefix="medperf-datasets-"))
    # An installed kit runs from bytecode pip compiled; where writing it is forbidden
    # (PYTHONDONTWRITEBYTECODE), each session would compile the kit again (~0.1 s): a
    # private cache, removed with `work`, measures the installed case.
    os.environ.update(PYTHONPYCACHEPREFIX=str(work / "pycache"), PYTHONDONTWRITEBYTECODE="")
    try:
        for size in sizes:
            measure(size, work, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
