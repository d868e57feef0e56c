"""The throwaway CA (engine/inputs/pki.py): what it issues is what MedPerf's layout and a
CA container's checks expect, and its checks tell a signed certificate from a foreign one."""

from __future__ import annotations

from pathlib import Path

from pytest_medperf.engine.inputs import pki


def test_issued_certificate_is_signed_by_its_authority_and_not_by_another() -> None:
    ca, other = pki.new_authority(), pki.new_authority("another")
    for key_type in ("RSA", "EC"):
        issued = ca.issue("site@example.org", key_type)  # type: ignore[arg-type]
        cert = pki.load_certificate(issued.cert_pem)
        assert cert is not None and pki.common_name(cert) == "site@example.org"
        assert pki.signed_by(cert, ca.cert)
        assert not pki.signed_by(cert, other.cert)
        assert pki.is_private_key(issued.key_pem)
        assert not pki.is_ca(cert)
    assert pki.is_ca(ca.cert) and pki.signed_by(ca.cert, ca.cert)


def test_rsa_authority_signs_a_server_certificate_for_an_address(tmp_path: Path) -> None:
    ca = pki.new_authority(key_type="RSA")
    folder = ca.issue("172.18.0.2", "RSA", server=True).write(tmp_path / "node")
    assert sorted(p.name for p in folder.iterdir()) == ["crt.crt", "key.key"]
    cert = pki.load_certificate((folder / "crt.crt").read_bytes())
    assert cert is not None and pki.signed_by(cert, ca.cert)
    root = ca.write_root(tmp_path / "ca")
    assert root.name == "root.crt" and pki.load_certificate(root.read_bytes()) == ca.cert
    assert len(pki.fingerprint(ca.cert)) == 64


def test_garbage_is_neither_a_certificate_nor_a_key() -> None:
    assert pki.load_certificate(b"not a certificate") is None
    assert not pki.is_private_key(b"")
