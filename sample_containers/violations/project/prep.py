"""A data preparator with one flaw, chosen by a second argument.

prepare copies the cases and statistics counts them, as a working preparator
would. `sanity_check` (default) demands more cases than a demo dataset has;
`sanity_check accept-anything` accepts even broken data (`sanity_check proper`
does its job); `statistics null` writes a statistics file that loads as null,
`statistics nothing` writes nothing; `prepare report-as-summary` writes a
report_file that is no table of cases (`report-as-list` and `report-as-columns`
write tables that MedPerf accepts).
"""

import os
import shutil
import sys

VOL = "/mlcommons/volumes"


def prepare(mode="plain"):
    for name in sorted(os.listdir(f"{VOL}/raw_data")):
        shutil.copyfile(f"{VOL}/raw_data/{name}", f"{VOL}/data/{name}")
    shutil.copyfile(f"{VOL}/raw_labels/labels.csv", f"{VOL}/labels/labels.csv")
    reports = {
        # a bare list of counts: pandas makes a one-column table of it (MedPerf accepts)
        "report-as-list": "- 3\n- 6\n",
        # column -> list, as pandas' to_dict("list") writes it (MedPerf accepts)
        "report-as-columns": "case: [case_001, case_002]\nstatus: [done, done]\n",
        # a summary of counts, not a table: pandas cannot make a table of plain values
        "report-as-summary": "done: 3\ntotal: 6\n",
    }
    if mode in reports:
        with open(f"{VOL}/report/report.yaml", "w") as out:
            out.write(reports[mode])


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
        if mode == "nothing":
            return  # the file the runtime made stays empty
        out.write(f"num_cases: {len(os.listdir(f'{VOL}/data'))}\n")


if __name__ == "__main__":
    task = {"prepare": prepare, "sanity_check": sanity_check, "statistics": statistics}
    task[sys.argv[1]](*sys.argv[2:])
