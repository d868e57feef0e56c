"""A tiny MedPerf model: a case is positive when its mean intensity passes a threshold.

The threshold ("weights") comes from additional_files, as real weights would;
parameters.yaml holds the decision margin.
"""

import argparse
import os

import yaml

VOL = "/mlcommons/volumes"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data_path", default=f"{VOL}/data")
    parser.add_argument("--parameters_file", default=f"{VOL}/parameters/parameters.yaml")
    parser.add_argument("--weights", default=f"{VOL}/additional_files/weights.yaml")
    parser.add_argument("--output_path", default=f"{VOL}/predictions")
    args = parser.parse_args()

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
            mean = sum(values) / len(values)
            out.write(f"{case},{int(mean > threshold + margin)}\n")
    print(f"infer: {len(cases)} predictions written")


if __name__ == "__main__":
    main()
