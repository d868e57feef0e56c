"""What MedPerf hands a certificate authority's tasks (cli/medperf/certificates.py): the
CA's config as a JSON file (ca_config), a pki_assets folder, MEDPERF_INPUT_CN (the
user's email, or the aggregator's address) and, for get_client_cert, MEDPERF_KEY_TYPE;
and the certificates verify_cert is given: the one this CA signed (get_client_cert's
crt.crt alone in a folder, as Certificate.prepare_certificate_file writes it) and one a
throwaway CA of the kit signed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ...config import ContainerConfig
from ...errors import InputMissing
from ..sandbox import Sandbox
from . import pki

# Who the certificates are for: reserved names (RFC 2606), never a real site.
CLIENT_CN = "site@pytest-medperf.invalid"
SERVER_CN = "aggregator.pytest-medperf.invalid"
CLIENT_KEY_TYPE: pki.KeyType = "EC"  # the key type of an FL collaborator's certificate
# The CA config MedPerf's local set-up registers (examples/fl/mock_cert/workspace),
# used when no workspace/ca_config.json lies beside the config.
DEFAULT_CA_CONFIG = {
    "address": "https://127.0.0.1",
    "port": 443,
    "fingerprint": "fingerprint",
    "client_provisioner": "auth0",
    "server_provisioner": "acme",
}
CA_CONFIG_NAME = "ca_config.json"  # MedPerf's config.ca_config_file


def ca_environment(task: str) -> dict[str, str]:
    """The variables MedPerf sets for a CA task (trust gets none)."""
    if task == "get_client_cert":
        return {"MEDPERF_INPUT_CN": CLIENT_CN, "MEDPERF_KEY_TYPE": CLIENT_KEY_TYPE}
    if task == "get_server_cert":
        return {"MEDPERF_INPUT_CN": SERVER_CN}
    if task == "verify_cert":
        return {"MEDPERF_INPUT_CN": CLIENT_CN}
    return {}


def ca_config_source(config: ContainerConfig) -> Path | None:
    """The author's CA config: workspace/ca_config.json beside the config, if there."""
    found = config.path.parent / "workspace" / CA_CONFIG_NAME
    return found if found.is_file() else None


def write_ca_config(sandbox: Sandbox, config: ContainerConfig) -> Path:
    """The JSON file MedPerf mounts as ca_config (CA.prepare_config: json.dump of the
    registered config): the author's, written back as MedPerf writes it, or the default."""
    source = ca_config_source(config)
    data: object = DEFAULT_CA_CONFIG
    if source is not None:
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputMissing(
                f"{source}: the CA config cannot be read as JSON ({exc}); MedPerf registers "
                "it as a JSON object (address, port, fingerprint, client_provisioner, "
                "server_provisioner)."
            ) from None
        if not isinstance(data, dict):
            raise InputMissing(
                f"{source}: the CA config is a JSON {type(data).__name__}, not an object "
                "(address, port, fingerprint, client_provisioner, server_provisioner)."
            )
    folder = sandbox.new_dir("inputs", f"ca-config-{config.path.parent.name}")
    target = folder / CA_CONFIG_NAME
    target.write_text(json.dumps(data))
    sandbox.hand_over(folder, writable=False)
    return target


def signed_certificate(sandbox: Sandbox, client_folder: Path) -> Path:
    """A folder holding only the crt.crt get_client_cert wrote (no key, as MedPerf)."""
    folder = sandbox.new_dir("inputs", "certificate-signed")
    shutil.copyfile(client_folder / pki.CERT_FILE, folder / pki.CERT_FILE)
    sandbox.hand_over(folder, writable=False)
    return folder


def foreign_certificate(sandbox: Sandbox) -> Path:
    """A folder holding a crt.crt for the same name, signed by a CA the container never
    saw: verify_cert must refuse it."""
    folder = sandbox.new_dir("inputs", "certificate-foreign")
    issued = pki.new_authority("pytest-medperf foreign CA").issue(CLIENT_CN, CLIENT_KEY_TYPE)
    (folder / pki.CERT_FILE).write_bytes(issued.cert_pem)
    sandbox.hand_over(folder, writable=False)
    return folder
