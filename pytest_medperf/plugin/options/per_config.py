"""Path options that apply to every config (a bare PATH) or to one (CONFIG=PATH).

A chain needs one parameters file per container (MedPerf's own test model ships
parameters1..4.yaml), so `--medperf-parameters` and `--medperf-additional-files`
take `CONFIG=PATH` too. A path may itself contain '=': an entry is split on its
first '=' only when the left side names a config of the session, or when no file
of the whole name exists (then the left side must name a config).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from ...errors import KitError
from ...per_config import PerConfig


def config_names(config: Path, shown: str) -> set[str]:
    """The names a config answers to in CONFIG=PATH: its path as shown, its folder's name
    (and, for the legacy <name>/mlcube/mlcube.yaml, the folder above)."""
    names = {shown, config.parent.name}
    if config.parent.name == "mlcube":
        names.add(config.parent.parent.name)
    return {n for n in names if n}


def parse_per_config(
    entries: Iterable[tuple[str, Path]],
    shown: Mapping[Path, str],
    option: str,
) -> PerConfig[Path]:
    """entries: (text as given, the folder a relative path is relative to).

    Raises KitError naming the entry: a CONFIG that matches no config or several,
    two paths for one config, or two bare paths.
    """
    default: Path | None = None
    by_config: dict[Path, Path] = {}
    for text, base in entries:
        name, sep, rest = text.partition("=")
        matches = _matches(name, base, shown) if sep and name else []
        if matches and not rest:
            raise KitError(f"{option} {text}: no path after '='; give CONFIG=PATH.")
        whole = (base / text).absolute()
        if sep and not matches and not whole.exists():
            known = ", ".join(sorted(shown.values())) or "none"
            raise KitError(
                f"{option} {text}: {name!r} matches no config of this session (configs: "
                f"{known}), and no file {text!r} exists. Give CONFIG=PATH with CONFIG a "
                "config's path or its folder name, or a bare PATH for every config."
            )
        if len(matches) > 1:
            listed = ", ".join(sorted(shown[m] for m in matches))
            raise KitError(
                f"{option} {text}: {name!r} matches several configs ({listed}); name one by "
                "its path instead."
            )
        if matches:
            config = matches[0]
            if config in by_config:
                raise KitError(
                    f"{option}: {shown[config]} is given two paths ({by_config[config]} and "
                    f"{rest}); give one."
                )
            by_config[config] = (base / rest).absolute()
            continue
        if default is not None:
            raise KitError(
                f"{option}: two paths for every config ({default} and {text}); give one, "
                "or CONFIG=PATH for each config."
            )
        default = whole
    return PerConfig(default, by_config)


def _matches(name: str, base: Path, shown: Mapping[Path, str]) -> list[Path]:
    given = (base / name).absolute()
    exact = [c for c in shown if given in (c, c.parent) or shown[c] == name]
    if exact:
        return exact
    return [c for c in shown if name in config_names(c, shown[c])]
