"""A tiny MedPerf metrics container: accuracy, sensitivity and specificity."""

import csv
import os

import yaml

VOL = "/mlcommons/volumes"


def read_csv(path, column):
    with open(path, newline="") as handle:
        return {row["case"]: int(row[column]) for row in csv.DictReader(handle)}


def main():
    predictions = read_csv(os.path.join(f"{VOL}/predictions", "predictions.csv"), "prediction")
    labels = read_csv(os.path.join(f"{VOL}/labels", "labels.csv"), "label")
    cases = sorted(labels)
    tp = sum(1 for c in cases if labels[c] == 1 and predictions.get(c) == 1)
    tn = sum(1 for c in cases if labels[c] == 0 and predictions.get(c) == 0)
    pos = sum(labels[c] for c in cases)
    neg = len(cases) - pos
    results = {
        "accuracy": round((tp + tn) / len(cases), 6),
        "sensitivity": round(tp / pos, 6) if pos else 0.0,
        "specificity": round(tn / neg, 6) if neg else 0.0,
        "num_cases": len(cases),
    }
    with open(f"{VOL}/results/results.yaml", "w") as out:
        yaml.safe_dump(results, out)
    print("evaluate:", results)


if __name__ == "__main__":
    main()
