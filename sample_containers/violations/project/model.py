"""A model that breaks the MedPerf contract in one chosen way (argv[1]).

Each mode mimics a real bug a container author makes; the kit must name
exactly the rule it breaks and no other.
"""

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


MODES = {
    "crash-after-writing": crash_after_writing,
    "hang-after-writing": hang_after_writing,
    "forget-outputs": forget_outputs,
    "write-to-wrong-folder": write_to_wrong_folder,
}

if __name__ == "__main__":
    MODES[sys.argv[1]]()
