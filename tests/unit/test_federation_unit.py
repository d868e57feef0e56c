"""A federation's parts without an engine: the files MedPerf would write (PKI layout,
cols.yaml), plan.yaml read back, who took part, the rules' verdicts on made-up runs, the
member's docker arguments and the ledger's network."""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

import yaml
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from pytest_medperf.checks.base import CheckContext
from pytest_medperf.checks.federation import fl_verdict, took_part
from pytest_medperf.config import ContainerConfig, RunArgs, TaskSpec
from pytest_medperf.engine.federation import Collaborator, FederationOutcome
from pytest_medperf.engine.federation.files import names_aggregator, read_plan, write_files
from pytest_medperf.engine.inputs.pki import load_certificate
from pytest_medperf.engine.runs import FinishedRun
from pytest_medperf.interrupts.ledger import Ledger
from pytest_medperf.observe.netwatch import Attempt
from pytest_medperf.runtimes.base import NetworkObservation, RunResult, RunSpec
from pytest_medperf.runtimes.docker_runtime.args import create_kwargs, docker_cli_argv

ADDRESS = "medperf-aggregator-0123abcd"
CONTEXT = CheckContext(lambda: None, lambda: None, lambda: [])


def test_the_files_have_medperfs_pki_layout(tmp_path: Path) -> None:
    files = write_files(tmp_path, ADDRESS, ["col1@example.org", "col2@example.org"])
    assert yaml.safe_load(files.aggregator_config.read_text()) == {
        "address": ADDRESS,
        "port": 50273,
        "admin_port": 50274,
    }
    assert [p.suffix for p in files.ca_folder.iterdir()] == [".crt"]  # one root, alone
    node = files.aggregator_node
    assert sorted(p.name for p in node.iterdir()) == ["crt.crt", "key.key"]
    key = load_pem_private_key((node / "key.key").read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)  # RSA for the aggregator's address
    cert = load_certificate((node / "crt.crt").read_bytes())
    assert cert is not None and ADDRESS in cert.subject.rfc4514_string()
    listed = yaml.safe_load(files.collaborators_list.read_text())
    assert set(listed) == {"col1@example.org", "col2@example.org"}
    for label, folder in files.nodes.items():
        key = load_pem_private_key((folder / "key.key").read_bytes(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)  # EC for collaborators
        certificate = base64.b64decode(listed[label]["certificate"])
        assert certificate == (folder / "crt.crt").read_bytes()
        assert listed[label]["email"] == label
    assert all(p.stat().st_mode & 0o004 for p in tmp_path.rglob("*"))  # any uid reads


def test_the_plan_names_the_aggregator_wherever_a_framework_puts_it() -> None:
    openfl = {"network": {"settings": {"agg_addr": ADDRESS, "agg_port": 50273}}}
    flower = {"config": {"rounds": 2}, "aggregator": {"address": ADDRESS, "port": "50273"}}
    assert names_aggregator(openfl, ADDRESS, 50273) == (True, True)
    assert names_aggregator(flower, ADDRESS, 50273) == (True, True)
    assert names_aggregator({"rounds": 2}, ADDRESS, 50273) == (False, False)
    assert names_aggregator([ADDRESS, 1], ADDRESS, 50273) == (True, False)


def test_an_empty_or_missing_plan_says_so(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    assert read_plan(plan)[1] == "plan.yaml is not a file"
    plan.touch()
    assert "empty (MedPerf created it empty" in str(read_plan(plan)[1])
    plan.write_text("a: [1\n")
    assert read_plan(plan)[0] is None and read_plan(plan)[1]
    plan.write_text("a: 1\n")
    assert read_plan(plan) == ({"a": 1}, None)


def _run(task: str, exit_code: int = 0, outputs: dict[str, Path] | None = None) -> FinishedRun:
    config = ContainerConfig(Path("c.yaml"), "DockerImage", "img", {})
    spec = RunSpec("img", None, None, {}, (), "54321:54321", f"medperf-{task}")
    result = RunResult(exit_code, 1.0, "docker", "54321:54321", tail=("boom",))
    return FinishedRun(
        config, TaskSpec(task, RunArgs(), (), ()), spec, result, {}, outputs or {}, Path(".")
    )


def _member(label: str, code: int = 0, stopped: bool = False, reached: bool = True):
    run = _run("train", code)
    connect = (Attempt("tcp", "172.18.0.2:50273", 0.0),) if reached else ()
    seen = replace(run.result, network=NetworkObservation(True, ()))
    return Collaborator(label, "prepared", replace(run, result=seen), stopped, connect)


def test_took_part_means_connected_and_did_not_fail() -> None:
    assert took_part(_member("a"))
    assert took_part(_member("a", code=137, stopped=True))  # still running at the end
    assert not took_part(_member("a", code=1))
    assert not took_part(_member("a", reached=False))
    unwatched = replace(_member("a"), reached=None)
    assert took_part(unwatched)  # not watched: how it ended is all there is


def _federation(tmp_path: Path, *members: Collaborator, code: int = 0) -> FederationOutcome:
    report = tmp_path / "report.yaml"
    report.write_text("rounds: 2\n")
    weights = tmp_path / "weights"
    weights.mkdir(exist_ok=True)
    (weights / "w.json").write_text("{}")
    outputs = {"report_path": report, "output_weights": weights}
    return FederationOutcome(
        _run("generate_plan"),
        ADDRESS,
        50273,
        50274,
        aggregator=_run("start_aggregator", code, outputs),
        collaborators=members,
    )


def test_a_crashed_collaborator_fails_exit_status_with_medperfs_exit_0(tmp_path: Path) -> None:
    outcome = _federation(tmp_path, _member("col1"), _member("col2", code=1))
    verdict = fl_verdict("train", "exit-status", outcome, CONTEXT)
    assert verdict.status == "failed" and verdict.finding is not None
    assert "collaborator col2 (dataset prepared)" in verdict.finding.summary
    assert "`medperf dataset train` prints the container's error and still exits 0" in (
        verdict.finding.summary
    )
    completes = fl_verdict("start_aggregator", "federation-completes", outcome, CONTEXT)
    assert completes.finding is not None and "col2 did not take part" in completes.finding.summary
    assert fl_verdict("start_aggregator", "exit-status", outcome, CONTEXT).status == "passed"


def test_a_collaborator_stopped_after_the_aggregator_passes_saying_so(tmp_path: Path) -> None:
    outcome = _federation(tmp_path, _member("col1", code=137, stopped=True))
    verdict = fl_verdict("train", "exit-status", outcome, CONTEXT)
    assert verdict.status == "passed" and "as MedPerf's CI does: col1" in verdict.notes[0]


def test_talks_only_to_aggregator_names_each_host(tmp_path: Path) -> None:
    member = _member("col1")
    attempts = (Attempt("dns", "telemetry.example.org", 0.0), Attempt("tcp", "1.2.3.4:443", 0.0))
    seen = replace(member.run.result, network=NetworkObservation(True, attempts))
    outcome = _federation(tmp_path, replace(member, run=replace(member.run, result=seen)))
    verdict = fl_verdict("train", "talks-only-to-aggregator", outcome, CONTEXT)
    assert verdict.finding is not None
    assert verdict.finding.evidence == (
        "col1: looked up the host name telemetry.example.org",
        "col1: opened a TCP connection to 1.2.3.4:443",
    )
    assert (
        fl_verdict(
            "train", "talks-only-to-aggregator", _federation(tmp_path, _member("c")), CONTEXT
        ).status
        == "passed"
    )


def test_an_aggregator_without_report_fails_outputs_present(tmp_path: Path) -> None:
    outcome = _federation(tmp_path, _member("col1"))
    assert fl_verdict("start_aggregator", "outputs-present", outcome, CONTEXT).status == "passed"
    (tmp_path / "report.yaml").write_text("")
    verdict = fl_verdict("start_aggregator", "outputs-present", outcome, CONTEXT)
    assert verdict.finding is not None and "is empty" in verdict.finding.summary


def test_a_member_joins_its_network_with_medperfs_ports() -> None:
    spec = RunSpec(
        "img", None, None, {}, (), "1:1", "agg", network="fl-net", ports=("127.0.0.1:5:5",)
    )
    kwargs = create_kwargs(spec)
    assert kwargs["network_mode"] == "fl-net"
    assert kwargs["ports"] == {"5/tcp": ("127.0.0.1", 5)}
    argv = docker_cli_argv(spec)
    assert argv[argv.index("--network") + 1] == "fl-net" and "-p" in argv
    assert create_kwargs(replace(spec, network=None, ports=()))["network_mode"] == "none"


def test_a_forced_exit_names_the_network_and_its_removal() -> None:
    ledger = Ledger()
    ledger.add_network("medperf-fl-1")
    assert "networks left: medperf-fl-1" in "\n".join(ledger.leftovers_text())
    assert "docker network rm medperf-fl-1" in ledger.removal_command()
    ledger.drop_network("medperf-fl-1")
    assert ledger.empty()


def test_an_aggregator_that_ends_before_any_collaborator_starts(tmp_path: Path) -> None:
    outcome = _federation(tmp_path, code=1)  # no collaborator ever started
    completes = fl_verdict("start_aggregator", "federation-completes", outcome, CONTEXT)
    assert completes.finding is not None
    assert "no collaborator started" in completes.finding.summary
    for rule in ("exit-status", "non-root", "talks-only-to-aggregator"):
        verdict = fl_verdict("train", rule, outcome, CONTEXT)
        assert verdict.status == "skipped" and "start_aggregator's exit-status" in str(
            verdict.reason
        )


def test_non_root_compares_a_failed_member_with_the_federation_as_root(tmp_path: Path) -> None:
    failed = _federation(tmp_path, _member("col1"), _member("col2", code=1))
    same_as_root = _federation(tmp_path, _member("col1"), _member("col2", code=1))
    works_as_root = _federation(tmp_path, _member("col1"), _member("col2"))
    verdict = fl_verdict("train", "non-root", failed, CONTEXT, lambda: works_as_root)
    assert verdict.finding is not None
    assert verdict.finding.summary.startswith("collaborator col2 works as root but fails")
    assert fl_verdict("train", "non-root", failed, CONTEXT, lambda: same_as_root).status == (
        "passed"
    )
    assert fl_verdict("train", "non-root", failed, CONTEXT, lambda: None).status == "skipped"
    asked: list[int] = []
    fine = _federation(tmp_path, _member("col1"))
    assert fl_verdict("train", "non-root", fine, CONTEXT, lambda: asked.append(1)).status == (
        "passed"
    )
    assert asked == []  # nothing failed: no second federation
