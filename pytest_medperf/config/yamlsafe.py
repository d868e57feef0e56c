"""Reading YAML the way the kit can trust: bounded size, strict UTF-8, safe tags,
no duplicate keys, a cap on alias expansion, and line numbers for every key."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError

MAX_BYTES = 1 << 20  # a container config is a few hundred bytes; 1 MiB is generous
MAX_ALIASES = 100  # real configs use none; a billion-laughs file uses thousands


@dataclass(frozen=True)
class LoadedYaml:
    data: Any
    root: yaml.Node | None

    def line_of(self, key_path: tuple[str | int, ...]) -> int | None:
        """1-based line of the value at key_path, or of its nearest parent that exists."""
        node = self.root
        line = None
        for part in key_path:
            if node is None:
                break
            line = node.start_mark.line + 1
            node = _child(node, part)
        if node is not None:
            line = node.start_mark.line + 1
        return line


def _child(node: yaml.Node, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == str(part):
                return value_node
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and counts alias expansions."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                event = self.peek_event()
                raise yaml.constructor.ConstructorError(
                    None, None, f"more than {MAX_ALIASES} aliases (*name)", event.start_mark
                )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:
                duplicate = False
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            with contextlib.suppress(TypeError):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path, *, what: str = "YAML file", shown: str | None = None) -> LoadedYaml:
    """Load one YAML document; every failure is a ConfigError naming file, line and column."""
    shown = shown or str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(shown, f"the {what} does not exist.") from None
    except IsADirectoryError:
        raise ConfigError(shown, f"expected a {what}, found a directory.") from None
    except OSError as exc:
        raise ConfigError(shown, f"the {what} cannot be read: {exc.strerror}.") from None
    if len(raw) > MAX_BYTES:
        raise ConfigError(
            shown,
            f"the {what} is {len(raw)} bytes; the kit reads at most {MAX_BYTES} bytes.",
            fix="a container config is a few hundred bytes: check that this is the right file.",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            shown, f"byte {exc.start} is not valid UTF-8.", line=line, fix="save the file as UTF-8."
        ) from None
    if "{{cookiecutter." in text.replace(" ", ""):
        raise ConfigError(
            shown,
            f"this {what} is a cookiecutter template, not YAML until it is rendered.",
            fix="render it first (`medperf container create` or `cookiecutter TEMPLATE_FOLDER`), "
            "then give the rendered file.",
        )
    root: yaml.Node | None = None
    try:
        loader = _StrictLoader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        raise _marked_error(shown, exc, root) from None
    except yaml.YAMLError as exc:
        raise ConfigError(shown, f"invalid YAML: {exc}.") from None
    except RecursionError:
        raise ConfigError(shown, "the YAML nests too deeply to be a config.") from None
    return LoadedYaml(data=data, root=root)


UNSAFE_TAG = "could not determine a constructor for the tag "


def _marked_error(shown: str, exc: yaml.MarkedYAMLError, root: yaml.Node | None) -> ConfigError:
    """A syntax error at a line and column; an object-building tag also at its key path,
    since the author searches their code for the key, not the line."""
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    key_path: tuple[str | int, ...] | None = None
    if problem.startswith(UNSAFE_TAG):
        tag = problem[len(UNSAFE_TAG) :].strip("'\"").replace("tag:yaml.org,2002:", "!!")
        key_path = _path_to_mark(root, mark) if root is not None and mark else None
        problem = (
            f"a YAML tag that builds an object is not allowed here: {tag} "
            "(yaml.safe_load, which MedPerf uses, refuses it)"
        )
        fix = (
            "convert the value to a plain type first (float(x), int(x), str(x), x.tolist() for "
            "numpy values) and write the file with yaml.safe_dump, which refuses such objects."
        )
    else:
        problem = "invalid YAML: " + problem
        fix = "correct the YAML syntax at that place."
    error = ConfigError(
        shown,
        f"{problem}.",
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
        fix=fix,
    )
    error.key_path = key_path
    return error


def _path_to_mark(node: yaml.Node, mark: yaml.Mark) -> tuple[str | int, ...] | None:
    """The key path of the innermost value that starts at the mark."""
    if node.start_mark.index == mark.index and not isinstance(
        node, (yaml.MappingNode, yaml.SequenceNode)
    ):
        return ()
    children: list[tuple[str | int, yaml.Node]] = []
    if isinstance(node, yaml.MappingNode):
        children = [(str(k.value), v) for k, v in node.value]
    elif isinstance(node, yaml.SequenceNode):
        children = list(enumerate(node.value))
    for part, child in children:
        if child.start_mark.index <= mark.index <= child.end_mark.index:
            below = _path_to_mark(child, mark)
            if below is not None:
                return (part, *below)
            return (part,)
    return () if node.start_mark.index == mark.index else None


def kind_of(value: Any) -> str:
    """A loaded YAML value's type in an author's words ("a boolean", "a mapping")."""
    if value is None:
        return "null"
    for kind, words in (
        (bool, "a boolean"),
        (int, "an integer"),
        (float, "a float"),
        (str, "a string"),
        (list, "a list"),
        (dict, "a mapping"),
    ):
        if isinstance(value, kind):
            return words
    return type(value).__name__
