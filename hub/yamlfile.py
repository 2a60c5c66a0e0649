"""YAML data files (policy, templates) read with line numbers, so errors can say where."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class DataFileError(Exception):
    """A data file is invalid: the message starts with `file:line:`."""


class Node:
    """A YAML value and where it was written."""

    __slots__ = ("file", "line", "value")

    def __init__(self, value: Any, file: str, line: int) -> None:
        self.value = value
        self.file = file
        self.line = line

    def error(self, message: str) -> DataFileError:
        return DataFileError(f"{self.file}:{self.line}: {message}")

    # Typed accessors: each names what it expected, where.
    def mapping(self, what: str) -> dict[str, Node]:
        if not isinstance(self.value, dict):
            raise self.error(f"{what} must be a mapping")
        return self.value

    def sequence(self, what: str) -> list[Node]:
        if not isinstance(self.value, list):
            raise self.error(f"{what} must be a list")
        return self.value

    def text(self, what: str) -> str:
        if not isinstance(self.value, str) or not self.value.strip():
            raise self.error(f"{what} must be a non-empty string")
        return self.value

    def get(self, key: str) -> Node | None:
        return self.mapping("this entry").get(key)

    def require(self, key: str, what: str) -> Node:
        node = self.get(key)
        if node is None:
            raise self.error(f"{what}: missing `{key}`")
        return node

    def only_keys(self, allowed: set[str], what: str) -> None:
        for key, node in self.mapping(what).items():
            if key not in allowed:
                raise node.error(f"{what}: unknown key `{key}` (expected one of {', '.join(sorted(allowed))})")

    def plain(self) -> Any:
        """The value without line information."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


def load(path: Path) -> Node:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such file") from None
    return loads(text, str(path))


def loads(text: str, path: str) -> Node:
    """Parse YAML text; `path` names it in errors (a file, or e.g. `saveTemplate`)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise DataFileError(f"{path}:{line}: not valid YAML: {getattr(error, 'problem', error)}") from None
    if root is None:
        raise DataFileError(f"{path}:1: the file is empty")
    return _convert(root, str(path))


def _convert(node: yaml.Node, file: str) -> Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        mapping: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key in mapping:
                raise DataFileError(f"{file}:{key_node.start_mark.line + 1}: `{key}` is given twice")
            mapping[key] = _convert(value_node, file)
        return Node(mapping, file, line)
    if isinstance(node, yaml.SequenceNode):
        return Node([_convert(item, file) for item in node.value], file, line)
    value = yaml.SafeLoader(" ").construct_object(node)  # scalars: ints, bools, strings as YAML types them
    return Node(value, file, line)
