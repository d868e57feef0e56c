"""A data preparator with one flaw, chosen by a second argument.

prepare copies the cases and statistics counts them, as a working preparator
would. `sanity_check` (default) demands more cases than a demo dataset has;
`sanity_check accept-anything` accepts even broken data (`sanity_check proper`
does its job); `statistics null`
writes a statistics file that loads as null; `prepare report-as-list` writes a
report_file that is no table of cases.
"""

import os
import shutil
import sys

VOL = "/mlcommons/volumes"


def prepare(mode="plain"):
    for name in sorted(os.listdir(f"{VOL}/raw_data")):
        shutil.copyfile(f"{VOL}/raw_data/{name}", f"{VOL}/data/{name}")
    shutil.copyfile(f"{VOL}/raw_labels/labels.csv", f"{VOL}/labels/labels.csv")
    if mode == "report-as-list":
        # A progress report written as a bare list of counts, not a table of cases.
        with open(f"{VOL}/report/report.yaml", "w") as out:
            out.write("- 3\n- 6\n")


def sanity_check(mode="too-strict"):
    if mode == "accept-anything":
        print("sanity_check: ok")
        return
    if mode == "proper":
        cases = sorted(os.listdir(f"{VOL}/data"))
        labels = f"{VOL}/labels/labels.csv"
        empty = [c for c in cases if os.path.getsize(f"{VOL}/data/{c}") == 0]
        if not cases or not os.path.isfile(labels) or empty:
            print(
                f"sanity_check: cases={len(cases)} labels={os.path.isfile(labels)} empty={empty}",
                file=sys.stderr,
            )
            sys.exit(1)
        return
    cases = os.listdir(f"{VOL}/data")
    if len(cases) < 100:
        print(f"sanity_check: found {len(cases)} cases, at least 100 required", file=sys.stderr)
        sys.exit(3)


def statistics(mode="count"):
    with open(f"{VOL}/statistics/statistics.yaml", "w") as out:
        if mode == "null":
            out.write("null\n")
            return
        out.write(f"num_cases: {len(os.listdir(f'{VOL}/data'))}\n")


if __name__ == "__main__":
    task = {"prepare": prepare, "sanity_check": sanity_check, "statistics": statistics}
    task[sys.argv[1]](*sys.argv[2:])
