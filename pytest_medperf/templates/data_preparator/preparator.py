"""prepare, sanity_check, statistics: the three tasks of a MedPerf data preparator.

prepare turns raw cases into the benchmark's format; sanity_check must exit
non-zero on anything a model should not see; statistics summarises the data.
Replace the bodies with your own; keep the exits and the output paths.
"""

import csv
import os
import shutil
import sys

import yaml

VOL = "/mlcommons/volumes"


def case_names(folder):
    return sorted(name for name in os.listdir(folder) if not name.startswith("."))


def prepare():
    for name in case_names(f"{VOL}/raw_data"):
        shutil.copyfile(f"{VOL}/raw_data/{name}", f"{VOL}/data/{name}")
    shutil.copyfile(f"{VOL}/raw_labels/labels.csv", f"{VOL}/labels/labels.csv")
    print(f"prepare: {len(case_names(f'{VOL}/data'))} cases")


def read_labels():
    with open(f"{VOL}/labels/labels.csv", newline="") as handle:
        return {row["case"]: row["label"] for row in csv.DictReader(handle)}


def sanity_check():
    cases = case_names(f"{VOL}/data")
    problems = [] if cases else ["no cases"]
    try:
        labels = read_labels()
    except (OSError, KeyError) as exc:
        labels, problems = {}, [*problems, f"labels unreadable: {exc}"]
    for name in cases:
        if os.path.getsize(f"{VOL}/data/{name}") == 0:
            problems.append(f"{name} is empty")
        if os.path.splitext(name)[0] not in labels:
            problems.append(f"{name} has no label")
    for problem in problems:
        print(f"sanity_check: {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)


def statistics():
    labels = read_labels()
    summary = {"cases": len(case_names(f"{VOL}/data")), "labelled": len(labels)}
    with open(f"{VOL}/statistics/statistics.yaml", "w") as out:
        yaml.safe_dump(summary, out)


if __name__ == "__main__":
    {"prepare": prepare, "sanity_check": sanity_check, "statistics": statistics}[sys.argv[1]]()
