"""--medperf-demo-data and --medperf-data: each repeatable, each value `NAME=PATH` or
`PATH` (named after its folder, or its archive without .tar.gz/.tgz/.tar).

A dataset's name is part of node ids (`infer[site_b]::exit-status`), so it must be
something -k and a shell take, and unique across both options. A value whose part left
of the first '=' is not such a name is a path (a path may contain '='; write `./a=b` for
a folder named `a=b`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ...engine.inputs.datasets import DATASET_NAME, GivenDataset, default_dataset_name
from ...errors import KitError

NAME_RULE = "letters, digits, '.', '_' and '-'"


def parse_datasets(
    demo: Iterable[tuple[str, Path]], data: Iterable[tuple[str, Path]]
) -> tuple[tuple[GivenDataset, ...], tuple[GivenDataset, ...]]:
    """Both options' values (text as given, the folder a relative path is relative to),
    as named datasets in the order given; KitError names the option, the value and the fix."""
    taken: dict[str, str] = {}  # name -> the value that took it
    parsed: list[tuple[GivenDataset, ...]] = []
    for option, entries in (("--medperf-demo-data", demo), ("--medperf-data", data)):
        found: list[GivenDataset] = []
        for text, base in entries:
            dataset = parse_dataset(text, base, option)
            if dataset.name in taken:
                raise KitError(
                    f"{option} {text!r}: the dataset name {dataset.name!r} is already given "
                    f"({taken[dataset.name]}); names are unique across --medperf-demo-data "
                    f"and --medperf-data. Name one: {option} OTHER_NAME={dataset.path}."
                )
            taken[dataset.name] = f"{option} {text!r}"
            found.append(dataset)
        parsed.append(tuple(found))
    return parsed[0], parsed[1]


def parse_dataset(text: str, base: Path, option: str) -> GivenDataset:
    """One value: NAME=PATH when the left of '=' is a name, else a path named after itself."""
    value = str(text).strip()
    name, sep, rest = value.partition("=")
    if sep and DATASET_NAME.fullmatch(name):
        if not rest.strip():
            raise KitError(f"{option} {text!r}: give the dataset's path after '=' ({name}=PATH).")
        path = (base / rest.strip()).absolute()
    else:
        if not value:
            raise KitError(f"{option}: an empty value; give PATH or NAME=PATH.")
        path = (base / value).absolute()
        if sep and "/" not in name and not path.exists():
            raise KitError(
                f"{option} {text!r}: {name!r} is not a dataset name (it is part of the node "
                f"ids and may hold only {NAME_RULE}), and no file of that whole name exists. "
                f"Name it: {option} NAME=PATH, e.g. {option} site_a={rest}."
            )
        name = default_dataset_name(path)
        if not DATASET_NAME.fullmatch(name):
            raise KitError(
                f"{option} {text!r}: the dataset would be named {name!r} (after its "
                f"{'archive' if path.is_file() else 'folder'}), but a dataset name is part of "
                f"the node ids and may hold only {NAME_RULE}. Name it: {option} NAME=PATH, "
                f"e.g. {option} site_a={value}."
            )
    return GivenDataset(name, path)
