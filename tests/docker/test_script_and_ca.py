"""Script and CA containers run as MedPerf runs them (issue #28 items 2 and 4): the good
samples pass every item, the chain prepare -> run_script, what each task is given, and
nothing is left behind. Each violation sample (one rule each) runs in test_samples.py."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from conftest import DATA, GOOD, SAMPLES, kit_containers, tree_digest

SCRIPT = SAMPLES / "script" / "container_config.yaml"
CA = SAMPLES / "ca" / "container_config.yaml"
MODEL_ASSET = SAMPLES / "data" / "model_asset"
SCRIPT_ITEMS = {
    "exit-status",
    "outputs-present",
    "results-valid",
    "no-network",
    "no-writes-outside",
    "inputs-untouched",
    "non-root",
}


def _sandboxes() -> list[Path]:
    return sorted(Path(tempfile.gettempdir()).glob(f"pytest-medperf-{os.getpid()}-*"))


def test_good_script_passes_every_item_and_leaves_nothing(run_kit) -> None:
    before = tree_digest(SAMPLES)
    run = run_kit(
        SCRIPT,
        args=("--medperf-data", str(DATA["prepared"]), "--medperf-model-files", str(MODEL_ASSET)),
    ).only("script")
    assert set(run.outcomes.values()) == {"passed"}, run.messages
    assert {name.split("::")[1] for name in run.outcomes if "::" in name} == SCRIPT_ITEMS
    assert tree_digest(SAMPLES) == before
    assert kit_containers() == [] and _sandboxes() == []


def test_script_determinism_is_opt_in_and_compares_the_results_folder(run_kit) -> None:
    run = run_kit(
        SCRIPT,
        args=(
            "--medperf-data", str(DATA["prepared"]), "--medperf-model-files", str(MODEL_ASSET),
            "--medperf-determinism",
        ),
    ).only("script")  # fmt: skip
    assert run.outcomes["run_script::deterministic"] == "passed", run.messages


def test_prepare_feeds_run_script_in_one_session(run_kit) -> None:
    """Without --medperf-data, run_script reads what the preparator's prepare wrote."""
    run = run_kit(
        GOOD["data_preparator"],
        SCRIPT,
        args=("--medperf-demo-data", str(DATA["demo"]), "--medperf-model-files", str(MODEL_ASSET)),
    )
    assert set(run.outcomes.values()) == {"passed"}, run.messages
    assert "run_script::results-valid" in run.only("script").outcomes


def test_run_script_without_the_model_asset_names_the_option(run_kit) -> None:
    run = run_kit(SCRIPT, args=("--medperf-data", str(DATA["prepared"]))).only("script")
    assert run.with_outcome("failed") == {"run_script::exit-status"}
    assert "give --medperf-model-files DIR" in run.messages["run_script::exit-status"]


def test_model_files_option_also_works_as_an_ini_setting(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        f"""
        [pytest]
        medperf_config = {SCRIPT}
        medperf_data = {DATA["prepared"]}
        medperf_model_files = {MODEL_ASSET}
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "run_script")
    result.assert_outcomes(passed=len(SCRIPT_ITEMS), deselected=3)


def test_good_ca_passes_every_item_and_verify_cert_refuses_a_foreign_certificate(
    run_kit,
) -> None:
    before = tree_digest(SAMPLES)
    run = run_kit(CA).only("ca")
    assert set(run.outcomes.values()) == {"passed"}, run.messages
    items = {name for name in run.outcomes if "::" in name}
    for task in ("trust", "get_client_cert", "get_server_cert"):
        assert f"{task}::cert-files-present" in items
    assert "verify_cert::verify-cert-works" in items
    assert not any(name.endswith("::no-network") for name in items)  # MedPerf gives CAs network
    assert tree_digest(SAMPLES) == before
    assert kit_containers() == [] and _sandboxes() == []


def test_verify_cert_without_get_client_cert_is_not_run_and_says_why(
    run_kit, tmp_path: Path
) -> None:
    text = CA.read_text()
    verify_only = "container_type" + text.split("container_type", 1)[1]
    kept = verify_only.split("  trust:")[0] + "  verify_cert:" + text.split("  verify_cert:")[1]
    config = tmp_path / "container_config.yaml"
    config.write_text(kept)
    run = run_kit(config)
    outcomes = {k.split("::", 1)[1]: v for k, v in run.outcomes.items() if "verify_cert" in k}
    assert outcomes["verify_cert::exit-status"] == "failed", run.messages
    message = next(m for k, m in run.messages.items() if k.endswith("verify_cert::exit-status"))
    assert "has no get_client_cert task" in message


@pytest.mark.parametrize(
    ("content", "says"),
    [("", "is empty (0 bytes)"), ("# no metrics", "is empty (it loads as null)")],
    ids=["zero-bytes", "null"],
)
def test_an_empty_results_file_is_no_results_without_an_error(
    run_kit, tmp_path: Path, content: str, says: str
) -> None:
    """script_execution.get_results: a missing, empty or null results.yaml is {}."""
    config = tmp_path / "empty_results" / "container_config.yaml"
    config.parent.mkdir()
    write = f"open('/mlcommons/volumes/results/results.yaml', 'w').write({content!r})"
    config.write_text(
        SCRIPT.read_text().replace(
            "command: [python3, /project/script.py]", f'command: [python3, -c, "{write}"]'
        )
    )
    run = run_kit(
        config,
        args=("--medperf-data", str(DATA["prepared"]), "--medperf-model-files", str(MODEL_ASSET)),
    ).only("empty_results")
    assert run.with_outcome("failed") == {"run_script::results-valid"}, run.messages
    message = run.messages["run_script::results-valid"]
    assert (
        says in message
        and "MedPerf would record no results for this run, without an error" in message
    )


def test_the_json_report_names_the_script_and_ca_kinds(run_kit, tmp_path: Path) -> None:
    import json

    import jsonschema

    from pytest_medperf.config.schema import load_schema

    report = tmp_path / "report.json"
    run_kit(
        SCRIPT,
        CA,
        args=(
            "--medperf-data", str(DATA["prepared"]), "--medperf-model-files", str(MODEL_ASSET),
            "--medperf-report", str(report),
        ),
    )  # fmt: skip
    data = json.loads(report.read_text())
    jsonschema.validate(data, load_schema("report.schema.json"))
    assert sorted(kind for config in data["configs"] for kind in config["kinds"]) == [
        "ca",
        "script",
    ]


def test_verify_cert_with_pki_assets_as_an_output_starts_with_the_certificate(
    run_kit, tmp_path: Path
) -> None:
    """MedPerf's mock CA declares verify_cert's pki_assets among its outputs: MedPerf still
    writes the certificate there before the run."""
    text = CA.read_text()
    head, verify = text.split("  verify_cert:")
    verify = verify.replace(
        "      pki_assets: {mount_path: /mlcommons/volumes/pki_assets, type: directory}\n", ""
    )
    verify += (
        "    output_volumes:\n"
        "      pki_assets: {mount_path: /mlcommons/volumes/pki_assets, type: directory}\n"
    )
    config = tmp_path / "ca_output" / "container_config.yaml"
    config.parent.mkdir()
    config.write_text(head + "  verify_cert:" + verify)
    run = run_kit(config).only("ca_output")
    assert run.outcomes["verify_cert::exit-status"] == "passed", run.messages
    assert run.outcomes["verify_cert::verify-cert-works"] == "passed", run.messages
