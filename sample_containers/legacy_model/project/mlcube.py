"""A MedPerf model in the legacy MLCube form: one argparse sub-command per task.

MLCube calls the image's ENTRYPOINT with the task name and --name=value
arguments whose paths point into /mlcube_ioN mounts.
"""

import argparse
import os

import yaml


def infer(args):
    with open(args.weights) as handle:
        threshold = float(yaml.safe_load(handle)["threshold"])
    with open(args.parameters_file) as handle:
        margin = float((yaml.safe_load(handle) or {}).get("margin", 0.0))
    cases = sorted(f[:-4] for f in os.listdir(args.data_path) if f.endswith(".csv"))
    with open(os.path.join(args.output_path, "predictions.csv"), "w") as out:
        out.write("case,prediction\n")
        for case in cases:
            with open(os.path.join(args.data_path, case + ".csv")) as handle:
                values = [float(v) for v in handle.read().split(",")]
            out.write(f"{case},{int(sum(values) / len(values) > threshold + margin)}\n")
    print(f"infer: {len(cases)} predictions written")


def main():
    parser = argparse.ArgumentParser(prog="mlcube.py")
    tasks = parser.add_subparsers(dest="task", required=True)
    run = tasks.add_parser("infer")
    run.add_argument("--data_path", required=True)
    run.add_argument("--parameters_file", required=True)
    run.add_argument("--weights", required=True)
    run.add_argument("--output_path", required=True)
    args = parser.parse_args()
    infer(args)


if __name__ == "__main__":
    main()
