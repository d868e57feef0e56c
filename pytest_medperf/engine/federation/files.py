"""The files a federation's members are given, written as MedPerf writes them: the
aggregator config (address, port, admin_port), the collaborators list (cols.yaml:
label -> email and certificate), the PKI folders (a CA folder with one root *.crt, a
node folder with key.key and crt.crt: RSA for the aggregator's address, EC for each
collaborator's email), and plan.yaml read back."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ...config.yamlsafe import read_yaml
from ...errors import ConfigError
from ..inputs.pki import new_authority

PORT = 50273  # any port: nothing is published on an internal network
ADMIN_PORT = 50274


@dataclass(frozen=True)
class FederationFiles:
    aggregator_config: Path
    ca_folder: Path
    aggregator_node: Path
    collaborators_list: Path
    nodes: dict[str, Path]  # collaborator label -> node folder


def write_files(
    root: Path, address: str, labels: list[str], admins: tuple[str, ...] = ()
) -> FederationFiles:
    """Every file the federation needs, readable by any uid the tasks run as; admins get
    a node folder (EC, like collaborators) but are not in cols.yaml."""
    aggregator_config = root / "aggregator_config.yaml"
    aggregator_config.write_text(
        yaml.safe_dump({"address": address, "port": PORT, "admin_port": ADMIN_PORT})
    )
    authority = new_authority(key_type="RSA")
    ca_folder = authority.write_root(root / "ca").parent
    aggregator_node = authority.issue(address, "RSA", server=True).write(_folder(root / "agg"))
    nodes: dict[str, Path] = {}
    listed: dict[str, dict[str, str]] = {}
    for number, label in enumerate([*labels, *admins], 1):
        issued = authority.issue(label, "EC")
        nodes[label] = issued.write(_folder(root / f"node{number}"))
        if label in admins:
            continue
        listed[label] = {
            "email": label,
            "certificate": base64.b64encode(issued.cert_pem).decode("ascii"),
        }
    collaborators_list = root / "cols.yaml"
    collaborators_list.write_text(yaml.safe_dump(listed))
    for path in [root, *root.rglob("*")]:  # the tasks' uid is not the kit's
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return FederationFiles(aggregator_config, ca_folder, aggregator_node, collaborators_list, nodes)


def _folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def read_plan(path: Path) -> tuple[Any, str | None]:
    """plan.yaml as MedPerf reads it (yaml.safe_load), or why it cannot be read."""
    if path.is_symlink() or not path.is_file():
        return None, "plan.yaml is not a file"
    if path.stat().st_size == 0:
        return None, "plan.yaml is empty (MedPerf created it empty before the run)"
    try:
        data = read_yaml(path, what="plan.yaml").data
    except ConfigError as exc:
        return None, str(exc)
    return data, None


def names_aggregator(plan: Any, address: str, port: int) -> tuple[bool, bool]:
    """Whether the plan holds the aggregator's address and its port anywhere (a framework
    names them where it likes: OpenFL's network.settings, Flower's aggregator mapping)."""
    values = list(_values(plan))
    return address in [str(v) for v in values], any(str(v) == str(port) for v in values)


def _values(data: Any) -> Any:
    if isinstance(data, dict):
        for value in data.values():
            yield from _values(value)
    elif isinstance(data, list):
        for value in data:
            yield from _values(value)
    else:
        yield data
