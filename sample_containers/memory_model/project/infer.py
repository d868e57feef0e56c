"""A model with a known cost: it holds MEMORY_MIB of memory (320 by default) for a
moment, burns a little CPU, and writes one prediction per case."""

import os
import sys
import time

VOL = "/mlcommons/volumes"
MIB = 1 << 20


def main():
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 320
    held = bytearray(mib * MIB)
    for offset in range(0, len(held), 4096):  # touch every page: resident, not just reserved
        held[offset] = 1
    total = sum(range(3_000_000))  # some CPU time
    time.sleep(1.5)  # held long enough for a sampling meter to see it
    cases = sorted(f[:-4] for f in os.listdir(f"{VOL}/data") if f.endswith(".csv"))
    with open(f"{VOL}/predictions/predictions.csv", "w") as out:
        out.write("case,prediction\n")
        out.writelines(f"{case},{total % 2}\n" for case in cases)
    del held
    print(f"infer: held {mib} MiB, {len(cases)} predictions written")


if __name__ == "__main__":
    main()
