"""MedPerf's volumes as facts: where its templates mount each one, per task where they
differ, and which are files rather than folders. The loader's type rule and migrate's
conversion read the same table, so they cannot disagree."""

from __future__ import annotations

VOLUMES = "/mlcommons/volumes"
# MedPerf's default mount paths (its templates), per task where they differ.
INPUT_MOUNTS = {
    "data_path": f"{VOLUMES}/data",
    "labels_path": f"{VOLUMES}/labels",
    "metadata_path": f"{VOLUMES}/metadata",
    "predictions": f"{VOLUMES}/predictions",
    "labels": f"{VOLUMES}/labels",
    "parameters_file": f"{VOLUMES}/parameters/parameters.yaml",
    "additional_files": f"{VOLUMES}/additional_files",
    "model_files": f"{VOLUMES}/model_files",
}
PREPARE_INPUT_MOUNTS = {"data_path": f"{VOLUMES}/raw_data", "labels_path": f"{VOLUMES}/raw_labels"}
OUTPUT_MOUNTS = {
    "prepare": {
        "output_path": f"{VOLUMES}/data",
        "output_labels_path": f"{VOLUMES}/labels",
        "metadata_path": f"{VOLUMES}/metadata",
        "report_file": f"{VOLUMES}/report/report.yaml",
    },
    "statistics": {"output_path": f"{VOLUMES}/statistics/statistics.yaml"},
    "infer": {"output_path": f"{VOLUMES}/predictions"},
    "evaluate": {
        "output_path": f"{VOLUMES}/results/results.yaml",
        "local_outputs_path": f"{VOLUMES}/local_outputs",
    },
}
FILE_VOLUMES = {"parameters_file", "report_file", "ca_config"}
FILE_OUTPUT_OF = {"statistics": "output_path", "evaluate": "output_path"}


def volume_type(task: str, key: str) -> str:
    """What MedPerf mounts as this volume of this task: "file" or "directory"."""
    return "file" if key in FILE_VOLUMES or FILE_OUTPUT_OF.get(task) == key else "directory"
