"""A model that runs fine as the image's user 1000 in WORKDIR /app, in one of the ways
(argv[1]) that break where a site runs it: another uid, or Singularity."""

import getpass
import os
import sys

DATA = "/mlcommons/volumes/data"
OUT = "/mlcommons/volumes/predictions"


def write_predictions():
    cases = sorted(f[:-4] for f in os.listdir(DATA) if f.endswith(".csv"))
    with open(os.path.join(OUT, "predictions.csv"), "w") as out:
        out.write("case,prediction\n")
        for case in cases:
            out.write(f"{case},1\n")
    print(f"{len(cases)} predictions written", flush=True)


def good():
    """Predictions only: works as any uid, under Docker and Singularity."""
    write_predictions()


def cache_in_home():
    """Keeps its feature cache under ~/.cache for the next run (HOME is / at a site)."""
    write_predictions()
    cache = os.path.expanduser("~/.cache/site-model")
    os.makedirs(cache, exist_ok=True)
    with open(os.path.join(cache, "features.bin"), "wb") as handle:
        handle.write(b"\0" * 1024)


def look_up_user():
    """Names the user in its run record (the lookup fails for a uid passwd lacks)."""
    write_predictions()
    print(f"run by {getpass.getuser()}", flush=True)


def relative_settings():
    """Reads its thresholds from settings.yaml, relative to WORKDIR (Singularity starts
    in HOME instead)."""
    write_predictions()
    with open("settings.yaml") as handle:
        print(f"thresholds: {handle.read().strip()}", flush=True)


MODES = {
    "good": good,
    "cache-in-home": cache_in_home,
    "look-up-user": look_up_user,
    "relative-settings": relative_settings,
}

if __name__ == "__main__":
    MODES[sys.argv[1]]()
