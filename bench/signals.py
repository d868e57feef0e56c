"""Signals at random instants against real sessions on the sample chain (issue #22).

Each round starts the kit on the three good sample configs with two demo datasets (as
`make demo` does), sends SIGINT or SIGTERM after a random delay (start-up included:
from 0 s to about the chain's length), and records how long the session took to end
after its signal, its exit status, and what it left: containers with its pid's label and
sandbox folders with its pid. A round whose session ended before its signal is counted
apart. With --second, a second signal follows the first after a random 0-1 s (the forced
exit: then leftovers are expected and are removed by the command the kit printed).

    python bench/signals.py [--rounds 24] [--max-delay 3.5] [--seed N] [--second]

It prints one line a round and a summary; it asserts nothing (the tests do).
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_containers"
CHAIN = [
    "--medperf-config", str(SAMPLES / "data_preparator" / "container_config.yaml"),
    "--medperf-config", str(SAMPLES / "model" / "container_config.yaml"),
    "--medperf-config", str(SAMPLES / "metrics" / "container_config.yaml"),
    "--medperf-demo-data", str(SAMPLES / "data" / "demo"),
    "--medperf-demo-data", f"site_b={SAMPLES / 'data' / 'site_b'}",
]  # fmt: skip
# 2: pytest's interrupted status; 128 + N: a signal while the session was ending
EXPECTED = {signal.SIGINT: {2, 130}, signal.SIGTERM: {2, 143}}


def leftovers(pid: int) -> tuple[int, int]:
    found = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=io.github.pytest-medperf.pid={pid}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    folders = list(Path(tempfile.gettempdir()).glob(f"pytest-medperf-{pid}-*"))
    return len(found), len(folders)


def one_round(rng: random.Random, max_delay: float, second: bool) -> dict[str, object]:
    sig = rng.choice([signal.SIGINT, signal.SIGTERM])
    delay = rng.uniform(0.0, max_delay)
    with tempfile.TemporaryDirectory() as cwd:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *CHAIN],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        time.sleep(delay)
        ended_first = proc.poll() is not None
        sent = time.monotonic()
        if not ended_first:
            proc.send_signal(sig)
            if second:
                time.sleep(rng.uniform(0.0, 1.0))
                if proc.poll() is None:
                    proc.send_signal(sig)
        try:
            out, _ = proc.communicate(timeout=120)
            took = time.monotonic() - sent
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            took = float("inf")
    containers, folders = leftovers(proc.pid)
    if second and (containers or folders):
        command = next((ln for ln in out.splitlines() if "remove them with: " in ln), None)
        if command is not None:
            subprocess.run(command.split("remove them with: ", 1)[1], shell=True, check=False)
    return {
        "signal": signal.Signals(sig).name,
        "delay": delay,
        "ended_before": ended_first,
        "took": took,
        "status": proc.returncode,
        "containers": containers,
        "folders": folders,
        "expected_status": ended_first or proc.returncode in EXPECTED[sig],
        # Python and pytest still starting, the plugin not yet loaded: the signal's own
        # default action ends the process, with nothing of the kit made yet.
        "before_kit": proc.returncode == -sig,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=24)
    parser.add_argument("--max-delay", type=float, default=3.5)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--second", action="store_true")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"signals on the sample chain: {args.rounds} rounds, seed {seed}")
    rows = []
    for number in range(1, args.rounds + 1):
        row = one_round(rng, args.max_delay, args.second)
        rows.append(row)
        print(
            f"{number:3d} {row['signal']:7s} at {row['delay']:5.2f} s: "
            + (
                "ended before the signal"
                if row["ended_before"]
                else f"ended {row['took']:5.2f} s later, exit {row['status']}"
            )
            + f", left {row['containers']} container(s), {row['folders']} folder(s)",
            flush=True,
        )
    signalled = [r for r in rows if not r["ended_before"]]
    slowest = max((float(r["took"]) for r in signalled), default=0.0)  # type: ignore[arg-type]
    print(
        f"summary: {len(signalled)} signalled ({len(rows) - len(signalled)} ended first); "
        f"slowest end {slowest:.2f} s after its signal; "
        f"{sum(1 for r in signalled if float(r['took']) > 10)} over 10 s; "  # type: ignore[arg-type]
        f"{sum(1 for r in rows if r['before_kit'])} ended by the signal's default action "
        "before the plugin was loaded; "
        f"other unexpected exit status "
        f"{sum(1 for r in rows if not r['expected_status'] and not r['before_kit'])}; "
        f"leftovers: {sum(int(r['containers']) for r in rows)} container(s), "  # type: ignore[call-overload]
        f"{sum(int(r['folders']) for r in rows)} folder(s)"  # type: ignore[call-overload]
        + (" (before the printed command ran)" if args.second else "")
    )


if __name__ == "__main__":
    main()
