"""An FL config and a config with a task name MedPerf never runs, through a real session
(issue #28 item 1): config-valid passes, the kind is named, no false claim."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFIG = """container_type: DockerImage
image: pytest-medperf/violations:0.1
tasks:
  train:
    input_volumes:
      data_path: {mount_path: /mlcommons/volumes/data, type: directory}
  infer:
    input_volumes:
      data_path: {mount_path: /mlcommons/volumes/data, type: directory}
    output_volumes:
      output_path: {mount_path: /mlcommons/volumes/predictions, type: directory}
  download: {}
"""


def test_fl_and_unknown_tasks_are_read_as_medperf_reads_them(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    config = tmp_path / "container_config.yaml"
    config.write_text(CONFIG)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-v", "--medperf-config", str(config),
        "-k", "config-valid or image-available",
    )  # fmt: skip
    result.assert_outcomes(passed=2, deselected=result.parseoutcomes().get("deselected", 0))
    out = result.stdout.str()
    assert "train is a FL task MedPerf runs; the kit checked this config and its image" in out
    assert "MedPerf never runs a task named 'download' and ignores it; so does the kit" in out
    assert "is not a MedPerf task" not in out and "runs only prepare" not in out
    node_ids = [line for line in result.stdout.lines if "::" in line and "PASSED" in line]
    assert not any("train" in line or "download" in line for line in node_ids), node_ids
