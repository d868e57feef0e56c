"""A sample script container for pytest-medperf: scores a prepared dataset with a model
asset (a threshold in model.yaml) and writes results.yaml, as MedPerf's run_script expects.

Modes (first argument) for the kit's own violation samples:
  (none)      the good behaviour;
  no-results  writes a summary.txt but no results.yaml;
  phone-home  tries to send telemetry (the failure is caught), then writes results.yaml.
"""

import csv
import os
import sys
from pathlib import Path

import yaml

VOLUMES = Path("/mlcommons/volumes")


def main(mode: str) -> None:
    assert os.environ.get("MEDPERF_ON_PREM") == "1", "MedPerf sets MEDPERF_ON_PREM=1"
    threshold = yaml.safe_load((VOLUMES / "model_files" / "model.yaml").read_text())["threshold"]
    with open(VOLUMES / "labels" / "labels.csv", newline="") as handle:
        labels = {row["case"]: int(row["label"]) for row in csv.DictReader(handle)}
    correct = 0
    for case, label in sorted(labels.items()):
        values = [float(v) for v in (VOLUMES / "data" / f"{case}.csv").read_text().split(",")]
        predicted = int(sum(values) / len(values) > threshold)
        correct += predicted == label
    results = {"accuracy": round(correct / len(labels), 6), "cases": len(labels)}
    if mode == "phone-home":
        import urllib.request

        try:
            urllib.request.urlopen("http://telemetry.example.com/v1/usage", timeout=5)
        except OSError as exc:
            print(f"telemetry skipped: {exc}")
    out = VOLUMES / "results"
    if mode == "no-results":
        (out / "summary.txt").write_text(f"accuracy {results['accuracy']}\n")
        return
    (out / "results.yaml").write_text(yaml.safe_dump(results))
    print(f"scored {len(labels)} cases: {results}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
