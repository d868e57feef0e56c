"""infer: read the prepared cases, write one prediction per case.

Replace predict() with your model. Load weights from the image, or from
/mlcommons/volumes/additional_files if you declare that input; never download.
"""

import csv
import os

import yaml

DATA = "/mlcommons/volumes/data"
PARAMETERS = "/mlcommons/volumes/parameters/parameters.yaml"
PREDICTIONS = "/mlcommons/volumes/predictions"


def predict(case_path, threshold):
    with open(case_path) as handle:
        values = [float(v) for v in handle.read().replace(",", " ").split()]
    return int(sum(values) / max(len(values), 1) > threshold)


def main():
    with open(PARAMETERS) as handle:
        threshold = float((yaml.safe_load(handle) or {}).get("threshold", 0.5))
    cases = sorted(name for name in os.listdir(DATA) if not name.startswith("."))
    with open(os.path.join(PREDICTIONS, "predictions.csv"), "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["case", "prediction"])
        for name in cases:
            writer.writerow(
                [os.path.splitext(name)[0], predict(os.path.join(DATA, name), threshold)]
            )
    print(f"infer: {len(cases)} predictions")


if __name__ == "__main__":
    main()
