"""A legacy MLCube model that ignores its --output_path and writes to /tmp instead."""

import argparse
import os

parser = argparse.ArgumentParser()
parser.add_argument("--data_path", required=True)
parser.add_argument("--output_path", required=True)
args = parser.parse_args()
cases = sorted(f[:-4] for f in os.listdir(args.data_path) if f.endswith(".csv"))
with open("/tmp/predictions.csv", "w") as out:  # the bug: not args.output_path
    out.write("case,prediction\n" + "".join(f"{c},1\n" for c in cases))
print(f"wrote {len(cases)} predictions")
