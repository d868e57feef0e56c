"""The inputs a session gives each task, as MedPerf gives them: the parameters file
(judged by config-valid before anything runs), per-config parameters and additional
files, demo data with paths.yaml at its root, an empty metadata folder for a prepared
dataset without one, and MEDPERF_LOGLEVEL. Container tests run real containers."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import pytest
from conftest import DATA, GOOD

PARAMS = "/mlcommons/volumes/parameters/parameters.yaml"
MODEL = GOOD["model"].parent


def _model(folder: Path, script: str, *, workspace: bool = True, env: str = "") -> Path:
    """A copy of the sample model whose infer first runs `script` (sh), then predicts."""
    folder.mkdir(parents=True)
    if workspace:
        shutil.copytree(MODEL / "workspace", folder / "workspace")
    else:
        shutil.copytree(
            MODEL / "workspace" / "additional_files", folder / "workspace" / "additional_files"
        )
    config = folder / "container_config.yaml"
    environment = f"\n      environment: {env}" if env else ""
    config.write_text(
        f"""container_type: DockerImage
image: pytest-medperf/sample-model:0.1
tasks:
  infer:
    run_args:
      command: [sh, -c, '{script} && exec python3 /project/infer.py']{environment}
    input_volumes:
      data_path: {{mount_path: /mlcommons/volumes/data, type: directory}}
      parameters_file: {{mount_path: {PARAMS}, type: file}}
      additional_files: {{mount_path: /mlcommons/volumes/additional_files, type: directory}}
    output_volumes:
      output_path: {{mount_path: /mlcommons/volumes/predictions, type: directory}}
"""
    )
    return config


def _wants(who: str) -> str:
    """A shell test that passes only when the parameters file says who: <who>."""
    return (
        f'grep -qx "who: {who}" {PARAMS} || {{ echo "wrong parameters:"; cat {PARAMS}; exit 4; }}'
    )


DATA_ARGS = ("--medperf-data", str(DATA["prepared"]))


# -- parameters: what MedPerf would refuse is a config-valid failure, nothing runs ----------
def test_missing_parameters_file_fails_config_valid_and_skips_the_task(
    run_kit, tmp_path: Path
) -> None:
    config = _model(tmp_path / "model", "true", workspace=False)
    run = run_kit(config, args=DATA_ARGS).only("model")
    assert run.outcomes["config-valid"] == "failed"
    message = run.messages["config-valid"]
    assert "tasks.infer.input_volumes.parameters_file" in message
    assert str(tmp_path / "model" / "workspace" / "parameters.yaml") in message
    assert "--medperf-parameters" in message and "Traceback" not in message
    # The task does not also fail exit-status: every item of it is skipped with the reason.
    task_items = {k: v for k, v in run.outcomes.items() if k.startswith("infer::")}
    assert set(task_items.values()) == {"skipped"}
    assert "no parameters file at" in run.messages["infer::exit-status"]
    assert run.outcomes["image-available"] == "passed"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("just-a-string\n", "holds a single string ('just-a-string'), not a mapping"),
        ("42\n", "holds a single value (42), not a mapping"),
        ("margin: [0.1\n", "is not YAML that MedPerf can read (line 2, column 1"),
        (b"margin: \xff\n", "byte 8 is not valid UTF-8"),
    ],
)
def test_parameters_file_medperf_cannot_take(run_kit, tmp_path: Path, content, words) -> None:
    params = tmp_path / "site-params.yaml"
    if isinstance(content, bytes):
        params.write_bytes(content)
    else:
        params.write_text(content)
    run = run_kit(GOOD["model"], args=(*DATA_ARGS, "--medperf-parameters", str(params)))
    run = run.only("model")
    assert run.with_outcome("failed") == {"config-valid"}, run.messages
    message = run.messages["config-valid"]
    assert words in message
    assert "given by --medperf-parameters" in message
    assert "tasks.infer.input_volumes.parameters_file" in message


def test_parameters_problems_stop_the_chain_at_the_preparator(run_kit, tmp_path: Path) -> None:
    """Every task that declares parameters_file is named; what depends on them is skipped."""
    params = tmp_path / "p.yaml"
    params.write_text("- 1\n")
    prep = GOOD["data_preparator"]
    run = run_kit(
        prep,
        GOOD["model"],
        args=(
            "--medperf-demo-data",
            str(DATA["demo"]),
            "--medperf-parameters",
            f"data_preparator={params}",
        ),
    )
    preparator = run.only("data_preparator")
    message = preparator.messages["config-valid"]
    for task in ("prepare", "sanity_check", "statistics"):
        assert f"tasks.{task}.input_volumes.parameters_file" in message
    assert preparator.with_outcome("failed") == {"config-valid"}, preparator.messages
    model = run.only("model")
    assert model.outcomes["infer::exit-status"] == "skipped"
    assert "prepare of" in model.messages["infer::exit-status"]


def test_an_empty_parameters_file_is_an_empty_mapping(run_kit, tmp_path: Path) -> None:
    """MedPerf's submit stores an empty file as {} and mounts yaml.safe_dump of it."""
    params = tmp_path / "empty.yaml"
    params.write_text("# no parameters yet\n")
    config = _model(tmp_path / "model", f'test "$(cat {PARAMS})" = "{{}}"')
    run = run_kit(config, args=(*DATA_ARGS, "--medperf-parameters", str(params)))
    assert set(run.outcomes.values()) == {"passed"}, run.messages


def test_the_container_reads_what_medperf_writes(run_kit, tmp_path: Path) -> None:
    """The file mounted is yaml.safe_dump of the parameters: comments gone, keys sorted."""
    params = tmp_path / "p.yaml"
    params.write_text("# site settings\nwho: a   # me\nmargin: 0.0\n")
    script = f'test "$(cat {PARAMS})" = "$(printf "margin: 0.0\\nwho: a")"'
    config = _model(tmp_path / "model", script)
    run = run_kit(config, args=(*DATA_ARGS, "--medperf-parameters", str(params)))
    assert set(run.outcomes.values()) == {"passed"}, run.messages
    assert params.read_text() == "# site settings\nwho: a   # me\nmargin: 0.0\n"


# -- per-config parameters and additional files --------------------------------------------
def _two_models(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    a = _model(tmp_path / "model_a", _wants("a"))
    b = _model(tmp_path / "model_b", _wants("b"))
    pa, pb = tmp_path / "pa.yaml", tmp_path / "pb.yaml"
    pa.write_text("who: a\n")
    pb.write_text("who: b\n")
    return a, b, pa, pb


def test_each_config_gets_its_own_parameters_file(run_kit, tmp_path: Path) -> None:
    a, b, pa, pb = _two_models(tmp_path)
    by_folder = ("--medperf-parameters", f"model_a={pa}", "--medperf-parameters", f"model_b={pb}")
    run = run_kit(a, b, args=(*DATA_ARGS, *by_folder))
    assert set(run.outcomes.values()) == {"passed"}, run.messages
    # By the config's path as given, and a bare path as the default for the others.
    run = run_kit(
        a,
        b,
        args=(*DATA_ARGS, "--medperf-parameters", str(pb), "--medperf-parameters", f"{a}={pa}"),
    )
    assert set(run.outcomes.values()) == {"passed"}, run.messages
    # Swapped: each container sees the other's file and says so.
    swapped = ("--medperf-parameters", f"model_a={pb}", "--medperf-parameters", f"model_b={pa}")
    run = run_kit(a, b, args=(*DATA_ARGS, *swapped))
    assert run.only("model_a").outcomes["infer::exit-status"] == "failed"
    assert "wrong parameters:" in run.only("model_a").messages["infer::exit-status"]
    assert run.only("model_b").outcomes["infer::exit-status"] == "failed"


def test_per_config_parameters_from_the_ini_file(pytester: pytest.Pytester, tmp_path) -> None:
    a, b, pa, pb = _two_models(tmp_path)
    pytester.makeini(
        f"""
        [pytest]
        medperf_config =
            {a}
            {b}
        medperf_data = {DATA["prepared"]}
        medperf_parameters =
            model_a={pa}
            model_b={pb}
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "exit-status")
    result.assert_outcomes(passed=2, deselected=16)


def test_a_path_with_an_equals_sign_is_a_path(run_kit, tmp_path: Path) -> None:
    config = _model(tmp_path / "model", _wants("a"))
    params = tmp_path / "margin=0.yaml"
    params.write_text("who: a\n")
    run = run_kit(config, args=(*DATA_ARGS, "--medperf-parameters", str(params)))
    assert set(run.outcomes.values()) == {"passed"}, run.messages


def test_per_config_additional_files(run_kit, tmp_path: Path) -> None:
    """Weights of its own for one model; the other keeps its workspace's."""
    heavy = tmp_path / "heavy"
    heavy.mkdir()
    (heavy / "weights.yaml").write_text("threshold: 99\n")
    weights = "/mlcommons/volumes/additional_files/weights.yaml"
    own = _model(tmp_path / "model_h", f"grep -q 99 {weights}")
    other = _model(tmp_path / "model_l", f"! grep -q 99 {weights}")
    run = run_kit(own, other, args=(*DATA_ARGS, "--medperf-additional-files", f"model_h={heavy}"))
    assert set(run.outcomes.values()) == {"passed"}, run.messages


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ("nomodel=p.yaml", "'nomodel' matches no config of this session"),
        ("model=p.yaml", "'model' matches several configs"),
        ("{tmp}/a/model=", "no path after '='"),
    ],
)
def test_a_config_name_that_matches_none_or_two_is_a_usage_error(
    pytester: pytest.Pytester, tmp_path: Path, entry: str, words: str
) -> None:
    one = _model(tmp_path / "a" / "model", "true")
    two = _model(tmp_path / "b" / "model", "true")
    entry = entry.format(tmp=tmp_path)  # a config named by its folder's path
    result = pytester.runpytest(
        "--medperf-config", str(one), "--medperf-config", str(two), "--medperf-parameters", entry
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--medperf-parameters {entry}: {words}*"])
    assert "Traceback" not in result.stderr.str()


def test_two_bare_paths_are_a_usage_error(pytester: pytest.Pytester, tmp_path: Path) -> None:
    result = pytester.runpytest(
        "--medperf-config",
        str(GOOD["model"]),
        "--medperf-parameters",
        "p.yaml",
        "--medperf-parameters",
        "q.yaml",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--medperf-parameters: two paths for every config*"])


# -- demo data: paths.yaml at the root only ------------------------------------------------
def _tarball(source: Path, dest: Path, top: str) -> Path:
    with tarfile.open(dest, "w:gz") as archive:
        archive.add(source, arcname=top)
    return dest


def test_demo_tarball_with_a_top_folder_is_refused_as_medperf_would(
    run_kit, tmp_path: Path
) -> None:
    demo = _tarball(DATA["demo"], tmp_path / "demo.tar.gz", "demo")
    run = run_kit(GOOD["data_preparator"], args=("--medperf-demo-data", str(demo)))
    run = run.only("data_preparator")
    assert run.outcomes["prepare::exit-status"] == "failed"
    message = run.messages["prepare::exit-status"]
    assert "MedPerf reads paths.yaml only at the root of the unpacked archive" in message
    assert "it is in demo/ (demo/paths.yaml)" in message
    assert "tar -czf demo.tar.gz -C demo ." in message
    assert run.outcomes["sanity_check::exit-status"] == "skipped"
    # Packed from inside the folder, as the message says: it works.
    good = _tarball(DATA["demo"], tmp_path / "good.tar.gz", ".")
    run = run_kit(GOOD["data_preparator"], args=("--medperf-demo-data", str(good)))
    assert set(run.outcomes.values()) == {"passed"}, run.messages


def test_demo_folder_one_level_up_names_the_right_folder(run_kit, tmp_path: Path) -> None:
    shutil.copytree(DATA["demo"], tmp_path / "outer" / "demo")
    run = run_kit(GOOD["data_preparator"], args=("--medperf-demo-data", str(tmp_path / "outer")))
    message = run.only("data_preparator").messages["prepare::exit-status"]
    assert "only at the root of the folder" in message
    assert f"Give --medperf-demo-data {tmp_path / 'outer' / 'demo'} instead" in message


# -- metadata: a prepared dataset without metadata/ gets an empty folder -------------------
PREP_CHECKING_METADATA = """container_type: DockerImage
image: pytest-medperf/violations:0.1
tasks:
  prepare:
    run_args: {command: python3 /project/prep.py prepare}
    input_volumes:
      data_path: {mount_path: /mlcommons/volumes/raw_data, type: directory}
      labels_path: {mount_path: /mlcommons/volumes/raw_labels, type: directory}
    output_volumes:
      output_path: {mount_path: /mlcommons/volumes/data, type: directory}
      output_labels_path: {mount_path: /mlcommons/volumes/labels, type: directory}
      metadata_path: {mount_path: /mlcommons/volumes/metadata, type: directory}
  sanity_check:
    run_args:
      command:
        - sh
        - -c
        - test -d /m && test -z "$(ls -A /m)" && python3 /project/prep.py sanity_check proper
    input_volumes:
      data_path: {mount_path: /mlcommons/volumes/data, type: directory}
      labels_path: {mount_path: /mlcommons/volumes/labels, type: directory}
      metadata_path: {mount_path: /m, type: directory}
  statistics:
    run_args: {command: [sh, -c, 'test -d /m && python3 /project/prep.py statistics']}
    input_volumes:
      data_path: {mount_path: /mlcommons/volumes/data, type: directory}
      labels_path: {mount_path: /mlcommons/volumes/labels, type: directory}
      metadata_path: {mount_path: /m, type: directory}
    output_volumes:
      output_path: {mount_path: /mlcommons/volumes/statistics/statistics.yaml, type: file}
"""


def test_prepared_data_without_metadata_gets_an_empty_folder(run_kit, tmp_path: Path) -> None:
    config = tmp_path / "prep" / "container_config.yaml"
    config.parent.mkdir()
    config.write_text(PREP_CHECKING_METADATA)
    assert not (DATA["prepared"] / "metadata").exists()
    run = run_kit(config, args=DATA_ARGS).only("prep")
    for task in ("sanity_check", "statistics"):
        assert run.outcomes[f"{task}::exit-status"] == "passed", run.messages


def test_prepare_may_leave_its_metadata_folder_empty(run_kit, tmp_path: Path) -> None:
    """MedPerf does not mind an empty metadata folder; sanity_check gets it as written."""
    config = tmp_path / "prep" / "container_config.yaml"
    config.parent.mkdir()
    config.write_text(PREP_CHECKING_METADATA)
    run = run_kit(config, args=("--medperf-demo-data", str(DATA["demo"]))).only("prep")
    assert run.outcomes["prepare::outputs-present"] == "passed", run.messages
    assert run.outcomes["sanity_check::exit-status"] == "passed", run.messages


# -- MEDPERF_LOGLEVEL ----------------------------------------------------------------------
LOGLEVEL = (
    'test "$MEDPERF_LOGLEVEL" = DEBUG || { echo "MEDPERF_LOGLEVEL=[$MEDPERF_LOGLEVEL]"; exit 5; }'
)


def test_container_loglevel_sets_medperf_loglevel(run_kit, tmp_path: Path) -> None:
    config = _model(tmp_path / "model", LOGLEVEL)
    run = run_kit(config, args=(*DATA_ARGS, "--medperf-container-loglevel", "debug"))
    assert set(run.outcomes.values()) == {"passed"}, run.messages
    # Without the option nothing is added.
    run = run_kit(config, args=DATA_ARGS).only("model")
    assert "MEDPERF_LOGLEVEL=[]" in run.messages["infer::exit-status"]


def test_medperf_loglevel_wins_over_the_config(run_kit, tmp_path: Path) -> None:
    config = _model(tmp_path / "model", LOGLEVEL, env="{MEDPERF_LOGLEVEL: info}")
    run = run_kit(config, args=DATA_ARGS).only("model")
    assert "MEDPERF_LOGLEVEL=[info]" in run.messages["infer::exit-status"]
    run = run_kit(config, args=(*DATA_ARGS, "--medperf-container-loglevel", "Debug"))
    assert set(run.outcomes.values()) == {"passed"}, run.messages
