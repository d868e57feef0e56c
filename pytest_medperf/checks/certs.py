"""cert-files-present and verify-cert-works: a certificate authority's container leaves
what MedPerf reads after its tasks, and its verify_cert tells its own certificates from
others'."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..engine.inputs import pki
from ..engine.inputs.ca_inputs import CLIENT_CN
from .base import Finding, Verdict, task_check

if TYPE_CHECKING:
    from ..engine.runs import FinishedRun
    from .base import CheckContext

NODE_TASKS = frozenset({"get_client_cert", "get_server_cert"})
DELETED = (
    "MedPerf deletes the whole certificate folder when key.key or crt.crt is missing "
    "(commands/certificate/utils.py), so the site ends up with no certificate"
)


@task_check("cert-files-present", NODE_TASKS | {"trust"})
def cert_files_present(run: FinishedRun, ctx: CheckContext | None = None) -> Verdict:
    task = run.task.name
    volume = run.task.output("pki_assets")
    if volume is None:
        return Verdict.failed(
            Finding(
                "cert-files-present",
                task,
                f"{task} declares no pki_assets output, so it has no folder to write its "
                "certificate files into and MedPerf finds none after the run.",
                fix="declare output_volumes.pki_assets (type: directory), e.g. at "
                "/mlcommons/volumes/pki_assets.",
            )
        )
    folder = run.outputs["pki_assets"]
    problems = _root_problems(folder) if task == "trust" else _node_problems(folder)
    if not problems:
        return Verdict.passed()
    where = f"pki_assets ({volume.mount_path})"
    written = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    evidence = (
        *problems,
        f"{where} holds: {', '.join(written) if written else 'nothing'}",
    )
    if task == "trust":
        summary = (
            f"trust left no usable root certificate in {where}: MedPerf hands this folder "
            "to the aggregator and collaborators as ca_cert_folder, which find no CA to "
            "trust."
        )
        fix = (
            f"copy the CA's root certificate (PEM, a *.crt such as {pki.ROOT_FILE}) into "
            "the pki_assets folder."
        )
    else:
        names = " and ".join(f"{p.split(':')[0]}" for p in problems)
        summary = f"{task} left no usable {names} in {where}: {DELETED}."
        fix = (
            f"write the private key as {pki.KEY_FILE} and the signed certificate as "
            f"{pki.CERT_FILE} (both PEM) directly in the pki_assets folder, for the name "
            "in MEDPERF_INPUT_CN."
        )
    return Verdict.failed(Finding("cert-files-present", task, summary, evidence, fix))


def _node_problems(folder: Path) -> list[str]:
    """key.key and crt.crt, each there and readable as what it claims to be."""
    found: list[str] = []
    for name, is_ok, what in (
        (pki.KEY_FILE, pki.is_private_key, "an unencrypted private key"),
        (pki.CERT_FILE, lambda data: pki.load_certificate(data) is not None, "a certificate"),
    ):
        path = folder / name
        if path.is_symlink() or not path.is_file():
            found.append(f"{name}: missing")
        elif not is_ok(path.read_bytes()):
            found.append(f"{name}: not {what} in PEM form")
    return found


def _root_problems(folder: Path) -> list[str]:
    """At least one *.crt that is a CA's certificate (CA:TRUE, or self-issued)."""
    crts = sorted(p for p in folder.glob("*.crt") if p.is_file() and not p.is_symlink())
    if not crts:
        return ["*.crt: missing"]
    for path in crts:
        cert = pki.load_certificate(path.read_bytes())
        if cert is not None and (pki.is_ca(cert) or cert.issuer == cert.subject):
            return []
    return [f"{p.name}: not a CA's certificate in PEM form" for p in crts]


@task_check("verify-cert-works", frozenset({"verify_cert"}))
def verify_cert_works(run: FinishedRun, ctx: CheckContext) -> Verdict:
    """The first run (this CA's own certificate) passed; the kit's foreign one must fail."""
    if ctx.foreign_cert_run is None:
        return Verdict.skipped("no run on a foreign certificate in this session")
    foreign = ctx.foreign_cert_run()
    if foreign is None:
        return Verdict.skipped("the run on a foreign certificate did not happen")
    result = foreign.result
    if result.start_error or result.timed_out or result.stopped_for:
        return Verdict.skipped("the run on a foreign certificate did not finish")
    if not result.succeeded:
        return Verdict.passed()
    return Verdict.failed(
        Finding(
            "verify-cert-works",
            run.task.name,
            "verify_cert exited 0 on a certificate its CA never signed (one the kit's own "
            "throwaway CA issued for the same name): MedPerf would accept any site's or "
            "aggregator's certificate as genuine.",
            (
                f"crt.crt for {CLIENT_CN} (MEDPERF_INPUT_CN) signed by 'pytest-medperf "
                "foreign CA': exit status 0",
            ),
            "check the certificate's signature against the CA's root certificate (e.g. "
            "step certificate verify crt.crt --roots root.crt) and exit non-zero when it "
            "fails, then check the common name against MEDPERF_INPUT_CN.",
        )
    )
