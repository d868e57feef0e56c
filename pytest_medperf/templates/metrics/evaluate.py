"""evaluate: compare predictions with labels and write results.yaml.

results.yaml must be a mapping of metric name to a plain, finite number (nested
mappings allowed): write it with yaml.safe_dump and convert numpy values with float().
"""

import csv

import yaml

VOL = "/mlcommons/volumes"


def read(path, column):
    with open(path, newline="") as handle:
        return {row["case"]: row[column] for row in csv.DictReader(handle)}


def main():
    predicted = read(f"{VOL}/predictions/predictions.csv", "prediction")
    truth = read(f"{VOL}/labels/labels.csv", "label")
    correct = sum(1 for case, label in truth.items() if predicted.get(case) == label)
    results = {"accuracy": round(correct / max(len(truth), 1), 6), "cases": len(truth)}
    with open(f"{VOL}/results/results.yaml", "w") as out:
        yaml.safe_dump(results, out)
    print("evaluate:", results)


if __name__ == "__main__":
    main()
