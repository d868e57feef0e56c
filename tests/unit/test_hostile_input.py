"""Hostile and broken input is refused with a clear message, and nothing outside the
sandbox is read or written; a property test feeds random configs to the loader."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import GOOD
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_medperf.config import load_config
from pytest_medperf.errors import ConfigErrors


@pytest.mark.parametrize(
    "mount", ["/", "/proc", "/proc/self", "/etc", "/sys/x", "/a/../etc", "/tmp"]
)
def test_dangerous_mount_paths_are_refused(tmp_path: Path, mount: str) -> None:
    data = yaml.safe_load(GOOD["model"].read_text())
    data["tasks"]["infer"]["input_volumes"]["data_path"]["mount_path"] = mount
    path = tmp_path / "container_config.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigErrors) as caught:
        load_config(path)
    (error,) = caught.value.errors
    assert error.key == "tasks.infer.input_volumes.data_path.mount_path"
    assert "system directory" in error.problem or "contains '..'" in error.problem


def test_a_huge_config_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "container_config.yaml"
    path.write_text("# padding\n" * 200_000)
    with pytest.raises(ConfigErrors) as caught:
        load_config(path)
    assert "the kit reads at most 1048576 bytes" in caught.value.errors[0].problem


# -- the loader never crashes ----------------------------------------------------------
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=12)
)
keys = st.sampled_from(
    [
        "container_type",
        "image",
        "tasks",
        "infer",
        "prepare",
        "evaluate",
        "run_args",
        "input_volumes",
        "output_volumes",
        "data_path",
        "output_path",
        "mount_path",
        "type",
        "command",
        "entrypoint",
        "gpus",
        "docker",
        "parameters",
        "inputs",
        "outputs",
    ]
) | st.text(max_size=8)
trees = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5),
    max_leaves=25,
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=trees, name=st.sampled_from(["container_config.yaml", "mlcube.yaml"]))
def test_random_configs_load_or_raise_the_kits_error(tmp_path: Path, tree, name: str) -> None:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(tree, allow_unicode=True))
    try:
        load_config(path)
    except ConfigErrors as exc:
        assert exc.errors and all(e.file for e in exc.errors)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=300))
def test_random_bytes_load_or_raise_the_kits_error(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "container_config.yaml"
    path.write_bytes(raw)
    try:
        loaded = load_config(path)
    except ConfigErrors as exc:
        # Refused in the kit's words: each error names the file and says what is wrong.
        assert exc.errors
        for error in exc.errors:
            assert error.file.endswith("container_config.yaml") and error.problem.strip()
    else:
        assert loaded.path == path and loaded.image and loaded.tasks
