"""A sample certificate authority for pytest-medperf: MedPerf's four CA tasks on a root
made when the image is built (python3 ca.py init).

Usage: ca.py TASK [MODE]. Modes for the kit's own violation samples:
  get_client_cert no-crt          writes key.key but no crt.crt;
  verify_cert accept-anything     exits 0 whatever the certificate.
"""

import datetime
import json
import os
import shutil
import sys
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT = Path("/project/ca")
CA_CONFIG = Path("/mlcommons/volumes/ca_config/ca_config.json")
PKI = Path("/mlcommons/volumes/pki_assets")


def name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def pem_key(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def init():
    """The root: an RSA key and a self-signed CA certificate, kept in the image."""
    ROOT.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("pytest-medperf sample CA"))
        .issuer_name(name("pytest-medperf sample CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (ROOT / "root.key").write_bytes(pem_key(key))
    (ROOT / "root.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def read_config():
    """The CA config MedPerf mounts: this CA needs its address and port."""
    config = json.loads(CA_CONFIG.read_text())
    for key in ("address", "port"):
        if key not in config:
            sys.exit(f"ca_config.json has no {key!r}")
    return config


def root():
    key = serialization.load_pem_private_key((ROOT / "root.key").read_bytes(), password=None)
    return key, x509.load_pem_x509_certificate((ROOT / "root.crt").read_bytes())


def issue(server, mode):
    read_config()
    common_name = os.environ.get("MEDPERF_INPUT_CN")
    if not common_name:
        sys.exit("MEDPERF_INPUT_CN is not set")
    key_type = "RSA" if server else os.environ.get("MEDPERF_KEY_TYPE", "RSA")
    if key_type == "EC":
        key = ec.generate_private_key(ec.SECP384R1())
    elif key_type == "RSA":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        sys.exit(f"unsupported MEDPERF_KEY_TYPE {key_type!r}")
    root_key, root_cert = root()
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name(common_name))
        .issuer_name(root_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    (PKI / "key.key").write_bytes(pem_key(key))
    if mode != "no-crt":
        (PKI / "crt.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    print(f"issued a certificate for {common_name} ({key_type} key)")


def trust():
    read_config()
    shutil.copyfile(ROOT / "root.crt", PKI / "root.crt")
    print("wrote the root certificate")


def verify(mode):
    read_config()
    if mode == "accept-anything":
        print("certificate accepted")
        return
    expected = os.environ.get("MEDPERF_INPUT_CN")
    cert = x509.load_pem_x509_certificate((PKI / "crt.crt").read_bytes())
    _, root_cert = root()
    try:
        root_cert.public_key().verify(
            cert.signature,
            cert.tbs_certificate_bytes,
            padding.PKCS1v15(),
            cert.signature_hash_algorithm,
        )
    except (InvalidSignature, TypeError, ValueError):
        sys.exit("the certificate was not signed by this CA")
    found = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not found or found[0].value != expected:
        sys.exit(f"the certificate names {found[0].value if found else None!r}, not {expected!r}")
    print("certificate verified")


if __name__ == "__main__":
    task, mode = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "")
    if task == "init":
        init()
    elif task == "trust":
        trust()
    elif task in ("get_client_cert", "get_server_cert"):
        issue(task == "get_server_cert", mode)
    elif task == "verify_cert":
        verify(mode)
    else:
        sys.exit(f"unknown task {task!r}")
