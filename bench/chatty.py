"""What a task that prints ~300 MB costs the kit (issue 11).

A model prints 3 million progress lines (~300 MB) and then writes its predictions.
Measured:
  bare   `docker run` with MedPerf's flags, output to /dev/null (the task's own time);
  kit    a whole `pytest --medperf-config ...` session on the same task (a process of
         its own: its peak RSS is read from wait4), and the task's run inside it
         (from the JSON report).
Targets: kit peak RSS <= 150 MB; kit wall <= 1.3 x bare. It prints; it asserts nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "sample_containers" / "data" / "prepared"
CONFIG = """container_type: DockerImage
image: pytest-medperf/hostile:0.1
tasks:
  infer:
    run_args:
      command: python3 /project/hostile.py chatty
    input_volumes:
      data_path: {mount_path: /mlcommons/volumes/data, type: directory}
    output_volumes:
      output_path: {mount_path: /mlcommons/volumes/predictions, type: directory}
"""


def bare(root: Path) -> float:
    out = root / "bare-out"
    out.mkdir()
    out.chmod(0o777)
    argv = [
        "docker", "run", "--rm", "-u", "1000:1000", "--network", "none",
        "--volume", f"{DATA / 'data'}:/mlcommons/volumes/data:ro",
        "--volume", f"{out}:/mlcommons/volumes/predictions:rw",
        "pytest-medperf/hostile:0.1", "python3", "/project/hostile.py", "chatty",
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def kit(root: Path) -> tuple[float, float, float, int]:
    """Session wall time, the task's time, peak RSS (MB) and the log's size."""
    config = root / "chatty" / "container_config.yaml"
    config.parent.mkdir()
    config.write_text(CONFIG)
    report = root / "report.json"
    argv = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        "-p", "pytest_medperf.plugin.hooks", "--medperf-config", str(config),
        "--medperf-data", str(DATA), "--medperf-report", str(report),
    ]  # fmt: skip
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=root, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        print(f"the kit's session ended with status {status}")
    data = json.loads(report.read_text())
    task = next(t for c in data["configs"] for t in c["tasks"] if t.get("log_path"))
    size = Path(task["log_path"]).stat().st_size
    return wall, task["duration"], usage.ru_maxrss / 1024, size


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="medperf-chatty-"))
    try:
        bare_time = bare(root)
        wall, task, rss, size = kit(root)
        print(f"log size                {size / 1e6:8.1f} MB")
        print(f"bare docker run         {bare_time:8.2f} s")
        print(f"kit session (pytest)    {wall:8.2f} s   kit/bare {wall / bare_time:5.2f}")
        print(f"the task inside the kit {task:8.2f} s   task/bare {task / bare_time:5.2f}")
        print(f"kit peak RSS            {rss:8.1f} MB  rss/150 MB {rss / 150:5.2f}")
        print("targets: kit/bare <= 1.30; peak RSS <= 150 MB")
    finally:
        subprocess.run(["rm", "-rf", str(root)], check=False)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main())
