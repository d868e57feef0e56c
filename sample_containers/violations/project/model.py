"""A model that breaks the MedPerf contract in one chosen way (argv[1]).

Each mode mimics a real bug a container author makes; the kit must name
exactly the rule it breaks and no other.
"""

import contextlib
import os
import sys
import time

DATA = "/mlcommons/volumes/data"
OUT = "/mlcommons/volumes/predictions"


def write_predictions(folder=OUT):
    cases = sorted(f[:-4] for f in os.listdir(DATA) if f.endswith(".csv"))
    with open(os.path.join(folder, "predictions.csv"), "w") as out:
        out.write("case,prediction\n")
        for case in cases:
            out.write(f"{case},1\n")


def crash_after_writing():
    """Writes its predictions, then crashes while cleaning up."""
    write_predictions()
    raise RuntimeError("cleanup failed: could not release the inference session")


def hang_after_writing():
    """Writes its predictions, then waits forever for a worker that never answers."""
    write_predictions()
    print("waiting for worker threads ...", flush=True)
    while True:
        time.sleep(1)


def forget_outputs():
    """Computes predictions and prints them, but never writes them to disk."""
    cases = sorted(f[:-4] for f in os.listdir(DATA) if f.endswith(".csv"))
    print(f"computed {len(cases)} predictions")


def write_to_wrong_folder():
    """Writes predictions to /tmp (allowed) instead of the predictions mount."""
    write_predictions("/tmp")
    print("predictions written to /tmp/predictions.csv")


def phone_home():
    """Sends usage telemetry and swallows the error: the task still succeeds."""
    import socket
    import urllib.request

    try:
        urllib.request.urlopen("https://telemetry.example.com/v1/usage", data=b"{}", timeout=5)
    except OSError as exc:
        print(f"telemetry unavailable ({exc}); continuing")
    with contextlib.suppress(OSError):
        socket.create_connection(("203.0.113.7", 8443), timeout=5).close()
    write_predictions()


def download_weights():
    """Downloads its weights at run time, and crashes when that fails."""
    import urllib.request

    urllib.request.urlretrieve("https://weights.example.org/resnet50.pth", "/tmp/weights.pth")
    write_predictions()


def cache_in_world_writable_dir():
    """Caches features in /opt/cache, which the image made world-writable."""
    with open("/opt/cache/features.csv", "w") as out:
        out.write("case,mean\n")
    write_predictions()


def cache_in_root_owned_dir():
    """Writes its predictions, then a cache copy into a root-owned folder of the image."""
    write_predictions()
    with open("/opt/model-cache/predictions.csv", "w") as out:
        out.write("cache\n")


def read_root_only_file():
    """Checks a licence file that only root can read, before predicting."""
    with open("/opt/license.key") as handle:
        handle.read()
    write_predictions()


def normalize_inputs_in_place():
    """Tries to rewrite the input cases in place, logs the failure, and carries on."""
    name = sorted(os.listdir(DATA))[0]
    try:
        with open(os.path.join(DATA, name), "a") as handle:
            handle.write("\n")
    except OSError as exc:
        print(f"could not normalize {name} in place: {exc}")
    write_predictions()


def random_predictions():
    """Predicts with an unseeded random generator: two runs disagree."""
    import random

    cases = sorted(f[:-4] for f in os.listdir(DATA) if f.endswith(".csv"))
    with open(os.path.join(OUT, "predictions.csv"), "w") as out:
        out.write("case,prediction\n")
        for case in cases:
            out.write(f"{case},{random.random():.6f}\n")


def slow_but_correct():
    """A correct model that takes a few seconds (benchmarks: SLOW_SECONDS, default 5)."""
    time.sleep(float(os.environ.get("SLOW_SECONDS", "5")))
    write_predictions()


def ignore_sigterm():
    """Writes its predictions, then ignores SIGTERM and never ends."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    write_predictions()
    while True:
        time.sleep(1)


def fill_tmp():
    """Writes to /tmp until the disk is full, then keeps trying."""
    chunk = b"\0" * (1 << 20)
    with open("/tmp/fill.bin", "wb") as out:
        while True:
            try:
                out.write(chunk)
                out.flush()
            except OSError:
                time.sleep(0.1)


def fork_many():
    """Starts two hundred worker processes at once."""
    import subprocess

    workers = [subprocess.Popen(["sleep", "30"]) for _ in range(200)]
    print(f"started {len(workers)} workers")


def eat_memory():
    """Holds a gigabyte in memory."""
    hoard = bytearray(1 << 30)
    hoard[:: 1 << 12] = b"x" * len(hoard[:: 1 << 12])
    write_predictions()


MODES = {
    "ignore-sigterm": ignore_sigterm,
    "fill-tmp": fill_tmp,
    "fork-many": fork_many,
    "eat-memory": eat_memory,
    "slow-but-correct": slow_but_correct,
    "random-predictions": random_predictions,
    "phone-home": phone_home,
    "download-weights": download_weights,
    "cache-in-world-writable-dir": cache_in_world_writable_dir,
    "cache-in-root-owned-dir": cache_in_root_owned_dir,
    "read-root-only-file": read_root_only_file,
    "normalize-inputs-in-place": normalize_inputs_in_place,
    "crash-after-writing": crash_after_writing,
    "hang-after-writing": hang_after_writing,
    "forget-outputs": forget_outputs,
    "write-to-wrong-folder": write_to_wrong_folder,
}

if __name__ == "__main__":
    MODES[sys.argv[1]]()
