"""Script and CA containers without an engine (issue #28 items 2 and 4): the steps and
chains the graph makes for them, what MedPerf hands a CA's tasks, and how
cert-files-present reads a certificate folder."""

from __future__ import annotations

import os
from pathlib import Path

from test_graph import PREP, SAMPLES, at, graph, named

from pytest_medperf.checks.catalogue import rule
from pytest_medperf.checks.certs import _node_problems, _root_problems
from pytest_medperf.engine.inputs import pki
from pytest_medperf.engine.inputs.ca_inputs import ca_environment
from pytest_medperf.engine.steps import Purpose, Step

SCRIPT = SAMPLES / "script" / "container_config.yaml"
CA = SAMPLES / "ca" / "container_config.yaml"
DEMO, SITE_B = SAMPLES / "data" / "demo", SAMPLES / "data" / "site_b"


def test_prepare_feeds_run_script_unless_prepared_data_is_given() -> None:
    chain = graph(PREP, SCRIPT, demo_data=named(DEMO))
    assert chain.closure([at(SCRIPT, "run_script")]) == [
        at(PREP, "prepare"),
        at(SCRIPT, "run_script"),
    ]
    assert chain.chain_groups()[SCRIPT] == PREP  # one chain: one xdist worker
    given = graph(PREP, SCRIPT, data=named(SAMPLES / "data" / "prepared"))
    assert given.dependencies(at(SCRIPT, "run_script")) == []


def test_run_script_runs_once_per_dataset() -> None:
    two = graph(SCRIPT, data=named(DEMO, SITE_B))
    assert [s.name for s in two.steps(SCRIPT)] == ["run_script[demo]", "run_script[site_b]"]


def test_a_ca_runs_its_four_tasks_once_whatever_the_datasets() -> None:
    ca = graph(CA, data=named(DEMO, SITE_B))
    assert [s.name for s in ca.steps(CA)] == [
        "trust",
        "get_client_cert",
        "get_server_cert",
        "verify_cert",
    ]
    assert ca.dependencies(at(CA, "verify_cert")) == [at(CA, "get_client_cert")]
    assert ca.dependencies(at(CA, "trust")) == []


def test_verify_cert_works_asks_for_a_run_on_a_foreign_certificate() -> None:
    extra = rule("verify-cert-works").extra_runs
    assert extra is not None and extra.purpose is Purpose.FOREIGN_CERT
    foreign = extra.steps(Step("verify_cert"))
    assert [s.label for s in foreign] == ["verify_cert-foreign-cert"]
    assert graph(CA).dependencies(at(CA, "verify_cert", purpose=Purpose.FOREIGN_CERT)) == [
        at(CA, "verify_cert")
    ]


def test_each_ca_task_gets_the_environment_medperf_sets() -> None:
    """cli/medperf/certificates.py: the email (and key type) or the aggregator's address."""
    client = ca_environment("get_client_cert")
    assert (
        set(client) == {"MEDPERF_INPUT_CN", "MEDPERF_KEY_TYPE"}
        and "@" in client["MEDPERF_INPUT_CN"]
    )
    assert set(ca_environment("get_server_cert")) == {"MEDPERF_INPUT_CN"}
    assert ca_environment("verify_cert")["MEDPERF_INPUT_CN"] == client["MEDPERF_INPUT_CN"]
    assert ca_environment("trust") == {}


def test_a_node_folder_needs_a_key_and_a_certificate_in_pem(tmp_path: Path) -> None:
    ca = pki.new_authority()
    good = ca.issue("site@example.org", "EC").write(tmp_path / "good")
    assert _node_problems(good) == []
    (good / pki.CERT_FILE).unlink()
    assert _node_problems(good) == ["crt.crt: missing"]
    (good / pki.CERT_FILE).write_text("not a certificate\n")
    (good / pki.KEY_FILE).write_bytes(ca.root_pem)  # a certificate where the key belongs
    assert _node_problems(good) == [
        "key.key: not an unencrypted private key in PEM form",
        "crt.crt: not a certificate in PEM form",
    ]
    assert _node_problems(tmp_path / "absent") == ["key.key: missing", "crt.crt: missing"]


def test_trust_must_leave_a_cas_certificate(tmp_path: Path) -> None:
    ca = pki.new_authority()
    assert _root_problems(tmp_path) == ["*.crt: missing"]
    leaf = tmp_path / "leaf.crt"
    leaf.write_bytes(ca.issue("site@example.org").cert_pem)
    assert _root_problems(tmp_path) == ["leaf.crt: not a CA's certificate in PEM form"]
    ca.write_root(tmp_path)
    assert _root_problems(tmp_path) == []


def test_a_volume_key_medperf_does_not_offer_a_script_or_ca_task_is_refused(
    tmp_path: Path,
) -> None:
    """MedPerf mounts only the keys it offers; a declared other key is a KeyError there."""
    import pytest

    from pytest_medperf.config.loader import load_container_config
    from pytest_medperf.errors import ConfigErrors

    volume = "{mount_path: /mlcommons/volumes/x, type: directory}"
    for task, key in (("run_script", "predictions"), ("get_client_cert", "node_cert_folder")):
        path = tmp_path / task / "container_config.yaml"
        path.parent.mkdir()
        path.write_text(
            "container_type: DockerImage\nimage: example/x:0.1\ntasks:\n"
            f"  {task}:\n    input_volumes:\n      {key}: {volume}\n"
        )
        with pytest.raises(ConfigErrors) as caught:
            load_container_config(path)
        assert f"MedPerf supplies no volume '{key}' to {task}" in str(caught.value)
    for config in (SCRIPT, CA):  # the samples, and MedPerf's own layouts, load
        assert load_container_config(config).tasks


def test_a_broken_ca_config_is_named_not_a_traceback(tmp_path: Path) -> None:
    import pytest

    from pytest_medperf.config.loader import load_container_config
    from pytest_medperf.engine.inputs.ca_inputs import write_ca_config
    from pytest_medperf.engine.sandbox import Sandbox
    from pytest_medperf.errors import InputMissing

    folder = tmp_path / "ca"
    (folder / "workspace").mkdir(parents=True)
    (folder / "container_config.yaml").write_text(CA.read_text())
    config = load_container_config(folder / "container_config.yaml")
    sandbox = Sandbox(os.getuid(), os.getgid(), base=tmp_path)
    try:
        written = write_ca_config(sandbox, config)  # none beside it: MedPerf's mock CA's
        assert '"address": "https://127.0.0.1"' in written.read_text()
        (folder / "workspace" / "ca_config.json").write_text("{'address': 1")
        with pytest.raises(InputMissing, match=r"ca_config\.json: the CA config cannot be read"):
            write_ca_config(sandbox, config)
        (folder / "workspace" / "ca_config.json").write_text("[1, 2]")
        with pytest.raises(InputMissing, match="is a JSON list, not an object"):
            write_ca_config(sandbox, config)
    finally:
        sandbox.close()
