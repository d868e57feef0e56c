"""A metrics container whose results.yaml MedPerf refuses, or accepts only in another form
(argv[1])."""

import sys

RESULTS = {
    # numpy's nan, dumped as YAML: MedPerf stores it as the string "nan"
    "nan-metric": "accuracy: .nan\nnum_cases: 6\n",
    # a list of numbers instead of a mapping of metric name to number
    "list-of-numbers": "- 0.9\n- 0.8\n",
    # yaml.dump (not safe_dump) of a numpy scalar writes a Python-object tag
    "python-object-tag": "accuracy: !!python/object/apply:numpy.core.multiarray.scalar\n"
    "- !!python/object/apply:numpy.dtype [f8, false, true]\n- !!binary |\n  mpmZmZmZ7T8=\n",
    # a file that loads as null: MedPerf says "Results file is empty"
    "empty-document": "---\n# metrics were not computed\n",
    # a metric given as text: MedPerf stores it, --medperf-strict refuses it
    "string-metric": "accuracy: 0.9\ngrade: good\n",
    # nothing at all: the task forgot to write its results and still exits 0
    "nothing": "",
}

if __name__ == "__main__":
    if sys.argv[1] != "nothing":
        with open("/mlcommons/volumes/results/results.yaml", "w") as out:
            out.write(RESULTS[sys.argv[1]])
