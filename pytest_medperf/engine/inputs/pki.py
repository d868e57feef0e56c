"""A throwaway certificate authority: the certificates a session hands to tasks that
MedPerf gives a PKI (a CA's verify_cert, an FL federation's nodes), and the checks of
what a CA container wrote. Made with `cryptography`, kept in memory, written only where
a task mounts it.

MedPerf's layout (cli/medperf/config.py): a node folder holds key.key and crt.crt; a CA
folder holds the root certificate (root.crt). The aggregator's certificate is RSA and
names its address; collaborators' are EC (MEDPERF_KEY_TYPE)."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KeyType = Literal["RSA", "EC"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

KEY_FILE = "key.key"  # MedPerf's config.private_key_file
CERT_FILE = "crt.crt"  # MedPerf's config.certificate_file
ROOT_FILE = "root.crt"  # MedPerf's config.ca_certificate_file

_DAYS = 2  # a throwaway CA outlives no session


@dataclass(frozen=True)
class Issued:
    """A node's key and certificate, PEM encoded."""

    key_pem: bytes
    cert_pem: bytes

    def write(self, folder: Path) -> Path:
        """key.key and crt.crt in `folder` (made if missing), as MedPerf's node folder."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / KEY_FILE).write_bytes(self.key_pem)
        (folder / CERT_FILE).write_bytes(self.cert_pem)
        return folder


@dataclass(frozen=True)
class Authority:
    """A self-signed root that issues node certificates."""

    key: PrivateKey
    cert: x509.Certificate

    @property
    def root_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def write_root(self, folder: Path, name: str = ROOT_FILE) -> Path:
        """The root certificate alone in `folder` (an FL container's ca_cert_folder)."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_bytes(self.root_pem)
        return path

    def issue(self, common_name: str, key_type: KeyType = "RSA", server: bool = False) -> Issued:
        """A certificate for `common_name` (an email, or a server's address), signed here."""
        key = _new_key(key_type)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            _base(common_name, key)
            .issuer_name(self.cert.subject)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.SubjectAlternativeName([_alt_name(common_name)]), critical=False)
        )
        cert = builder.sign(self.key, _hash(self.key))
        return Issued(_key_pem(key), cert.public_bytes(serialization.Encoding.PEM))


def new_authority(name: str = "pytest-medperf throwaway CA", key_type: KeyType = "EC") -> Authority:
    """A fresh root: a new key each call, so nothing it signed outlives the session."""
    key = _new_key(key_type)
    cert = (
        _base(name, key)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, _hash(key))
    )
    return Authority(key, cert)


# -- reading what a CA container wrote --------------------------------------------------
def load_certificate(data: bytes) -> x509.Certificate | None:
    """A PEM (or DER) certificate, or None when the bytes are not one."""
    for loader in (x509.load_pem_x509_certificate, x509.load_der_x509_certificate):
        try:
            return loader(data)
        except ValueError:
            continue
    return None


def is_private_key(data: bytes) -> bool:
    """Whether the bytes are an unencrypted PEM (or DER) private key."""
    for loader in (serialization.load_pem_private_key, serialization.load_der_private_key):
        try:
            loader(data, password=None)
            return True
        except (ValueError, TypeError):
            continue
    return False


def is_ca(cert: x509.Certificate) -> bool:
    """Whether the certificate says it may sign others (basicConstraints CA:TRUE)."""
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether `issuer`'s key signed `cert` (the signature only; dates are not judged)."""
    public = issuer.public_key()
    algorithm = cert.signature_hash_algorithm
    try:
        if isinstance(public, rsa.RSAPublicKey) and algorithm is not None:
            public.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), algorithm)
        elif isinstance(public, ec.EllipticCurvePublicKey) and algorithm is not None:
            public.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(algorithm))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def common_name(cert: x509.Certificate) -> str | None:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER bytes, lower-case hex (the form `step certificate fingerprint`
    prints, which a CA config's fingerprint holds)."""
    return cert.fingerprint(hashes.SHA256()).hex()


# -- helpers ---------------------------------------------------------------------------
def _new_key(key_type: KeyType) -> PrivateKey:
    if key_type == "EC":
        return ec.generate_private_key(ec.SECP384R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _hash(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384:
    return hashes.SHA384() if isinstance(key, ec.EllipticCurvePrivateKey) else hashes.SHA256()


def _base(common: str, key: PrivateKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=_DAYS))
    )


def _alt_name(name: str) -> x509.GeneralName:
    """An address is an IP or DNS name; anything with '@' an email."""
    host = name.split("://", 1)[-1]
    if "@" in name:
        return x509.RFC822Name(name)
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
