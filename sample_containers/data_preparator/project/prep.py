"""A tiny MedPerf data preparator: raw text scans -> normalized CSV cases.

Tasks (first argument): prepare, sanity_check, statistics. Paths default to
MedPerf's mount paths, so the container config needs no extra arguments.
"""

import argparse
import csv
import os
import sys

import yaml

VOL = "/mlcommons/volumes"


def read_params(path):
    if path and os.path.isfile(path):
        with open(path) as handle:
            return yaml.safe_load(handle) or {}
    return {}


def read_labels(folder):
    path = os.path.join(folder, "labels.csv")
    with open(path, newline="") as handle:
        return {row["case"]: int(row["label"]) for row in csv.DictReader(handle)}


def read_case(path):
    with open(path) as handle:
        return [float(v) for v in handle.read().replace(",", " ").split()]


def prepare(args):
    params = read_params(args.parameters_file)
    scale = float(params.get("scale", 255))
    labels = read_labels(args.labels_path)
    cases = sorted(f[:-4] for f in os.listdir(args.data_path) if f.endswith(".txt"))
    for case in cases:
        values = read_case(os.path.join(args.data_path, case + ".txt"))
        with open(os.path.join(args.output_path, case + ".csv"), "w") as out:
            out.write(",".join(f"{v / scale:.6f}" for v in values) + "\n")
    with open(os.path.join(args.output_labels_path, "labels.csv"), "w") as out:
        out.write("case,label\n")
        for case in cases:
            out.write(f"{case},{labels[case]}\n")
    if args.report_file:
        # The table MedPerf polls during prepare: one row per case, with a status.
        report = {case: {"status": "done", "values": 16} for case in cases}
        with open(args.report_file, "w") as out:
            yaml.safe_dump(report, out)
    if args.metadata_path:
        with open(os.path.join(args.metadata_path, "metadata.yaml"), "w") as out:
            yaml.safe_dump({"scale": scale, "cases": len(cases)}, out)
    print(f"prepared {len(cases)} cases")


def sanity_check(args):
    problems = []
    if args.metadata_path and not os.path.isfile(os.path.join(args.metadata_path, "metadata.yaml")):
        problems.append("metadata.yaml missing")
    cases = sorted(f[:-4] for f in os.listdir(args.data_path) if f.endswith(".csv"))
    if not cases:
        problems.append("no cases in the data folder")
    try:
        labels = read_labels(args.labels_path)
    except (OSError, KeyError, ValueError) as exc:
        labels = {}
        problems.append(f"labels unreadable: {exc}")
    for case in cases:
        try:
            values = read_case(os.path.join(args.data_path, case + ".csv"))
        except ValueError as exc:
            problems.append(f"{case}: unreadable ({exc})")
            continue
        if len(values) != 16:
            problems.append(f"{case}: expected 16 values, found {len(values)}")
        elif not all(0.0 <= v <= 1.0 for v in values):
            problems.append(f"{case}: values outside [0, 1]")
        if case not in labels:
            problems.append(f"{case}: no label")
    if problems:
        for problem in problems:
            print("sanity_check:", problem, file=sys.stderr)
        sys.exit(1)
    print(f"sanity_check: {len(cases)} cases look fine")


def statistics(args):
    labels = read_labels(args.labels_path)
    cases = sorted(f[:-4] for f in os.listdir(args.data_path) if f.endswith(".csv"))
    means = [sum(read_case(os.path.join(args.data_path, c + ".csv"))) / 16 for c in cases]
    stats = {
        "num_cases": len(cases),
        "positives": sum(labels.get(c, 0) for c in cases),
        "mean_intensity": round(sum(means) / len(means), 6) if means else 0.0,
    }
    with open(args.output_path, "w") as out:
        yaml.safe_dump(stats, out)
    print("statistics:", stats)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("task", choices=["prepare", "sanity_check", "statistics"])
    parser.add_argument("--data_path", default=f"{VOL}/data")
    parser.add_argument("--labels_path", default=f"{VOL}/labels")
    parser.add_argument("--parameters_file", default=f"{VOL}/parameters/parameters.yaml")
    parser.add_argument("--output_path", default=None)
    parser.add_argument("--output_labels_path", default=f"{VOL}/labels")
    parser.add_argument("--report_file", default=None)
    parser.add_argument("--metadata_path", default=None)
    args = parser.parse_args()
    if args.task == "prepare":
        if args.data_path == f"{VOL}/data":
            args.data_path = f"{VOL}/raw_data"
        if args.labels_path == f"{VOL}/labels":
            args.labels_path = f"{VOL}/raw_labels"
        args.output_path = args.output_path or f"{VOL}/data"
        prepare(args)
    elif args.task == "sanity_check":
        sanity_check(args)
    else:
        args.output_path = args.output_path or f"{VOL}/statistics/statistics.yaml"
        statistics(args)


if __name__ == "__main__":
    main()
