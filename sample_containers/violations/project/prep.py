"""A data preparator whose sanity_check is too strict: it rejects good data.

prepare copies the cases and statistics counts them, as a working preparator
would; sanity_check demands more cases than a demo dataset has.
"""

import os
import shutil
import sys

VOL = "/mlcommons/volumes"


def prepare():
    for name in sorted(os.listdir(f"{VOL}/raw_data")):
        shutil.copyfile(f"{VOL}/raw_data/{name}", f"{VOL}/data/{name}")
    shutil.copyfile(f"{VOL}/raw_labels/labels.csv", f"{VOL}/labels/labels.csv")


def sanity_check():
    cases = os.listdir(f"{VOL}/data")
    if len(cases) < 100:
        print(f"sanity_check: found {len(cases)} cases, at least 100 required", file=sys.stderr)
        sys.exit(3)


def statistics():
    with open(f"{VOL}/statistics/statistics.yaml", "w") as out:
        out.write(f"num_cases: {len(os.listdir(f'{VOL}/data'))}\n")


if __name__ == "__main__":
    {"prepare": prepare, "sanity_check": sanity_check, "statistics": statistics}[sys.argv[1]]()
