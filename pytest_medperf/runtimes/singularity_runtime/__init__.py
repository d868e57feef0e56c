"""The Singularity/Apptainer runtime (runner.py) and the command lines MedPerf builds for
it (args.py)."""
