"""YAML data files (policy, templates) read with line numbers, so errors can say where.

Errors are worded for whoever writes the file: operators' files (the policy, legacy mappings) in
English, as the hub's other start-up messages; templates, which department analysts write and save
through `saveTemplate`, in Chinese (`loads(..., CHINESE)`), as the rest of their checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class DataFileError(Exception):
    """A data file is invalid: the message starts with `file:line:`."""


# The reader's own words, by who reads them.
ENGLISH = {
    "mapping": "{what} must be a mapping",
    "list": "{what} must be a list",
    "text": "{what} must be a non-empty string",
    "missing": "{what}: missing `{key}`",
    "unknown key": "{what}: unknown key `{key}` (expected one of {allowed})",
    "entry": "this entry",
    "twice": "`{key}` is given twice",
    "not yaml": "not valid YAML: {problem}",
    "empty": "the file is empty",
}
CHINESE = {
    "mapping": "{what} 须为映射（键: 值）",
    "list": "{what} 须为列表",
    "text": "{what} 须为非空文本",
    "missing": "{what}：缺少 `{key}`",
    "unknown key": "{what}：未知的键 `{key}`（可用的键：{allowed}）",
    "entry": "此项",
    "twice": "`{key}` 出现了两次",
    "not yaml": "不是有效的 YAML，请检查这一行附近的括号、引号和缩进（解析器：{problem}）",
    "empty": "内容为空",
}


class Node:
    """A YAML value and where it was written."""

    __slots__ = ("file", "line", "phrases", "value")

    def __init__(self, value: Any, file: str, line: int, phrases: dict[str, str] = ENGLISH) -> None:
        self.value = value
        self.file = file
        self.line = line
        self.phrases = phrases

    def error(self, message: str) -> DataFileError:
        return DataFileError(f"{self.file}:{self.line}: {message}")

    # Typed accessors: each names what it expected, where.
    def _refusal(self, phrase: str, **words: str) -> DataFileError:
        return self.error(self.phrases[phrase].format(**words))

    def mapping(self, what: str) -> dict[str, Node]:
        if not isinstance(self.value, dict):
            raise self._refusal("mapping", what=what)
        return self.value

    def sequence(self, what: str) -> list[Node]:
        if not isinstance(self.value, list):
            raise self._refusal("list", what=what)
        return self.value

    def text(self, what: str) -> str:
        if not isinstance(self.value, str) or not self.value.strip():
            raise self._refusal("text", what=what)
        return self.value

    def get(self, key: str) -> Node | None:
        return self.mapping(self.phrases["entry"]).get(key)

    def require(self, key: str, what: str) -> Node:
        node = self.get(key)
        if node is None:
            raise self._refusal("missing", what=what, key=key)
        return node

    def only_keys(self, allowed: set[str], what: str) -> None:
        for key, node in self.mapping(what).items():
            if key not in allowed:
                raise node._refusal("unknown key", what=what, key=key, allowed=", ".join(sorted(allowed)))

    def plain(self) -> Any:
        """The value without line information."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


def load(path: Path, phrases: dict[str, str] = ENGLISH) -> Node:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such file") from None
    return loads(text, str(path), phrases)


def loads(text: str, path: str, phrases: dict[str, str] = ENGLISH) -> Node:
    """Parse YAML text; `path` names it in errors (a file, or e.g. `saveTemplate`)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise DataFileError(f"{path}:{line}: " + phrases["not yaml"].format(problem=getattr(error, "problem", error))) from None
    if root is None:
        raise DataFileError(f"{path}:1: " + phrases["empty"])
    return _convert(root, str(path), phrases)


def _convert(node: yaml.Node, file: str, phrases: dict[str, str]) -> Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        mapping: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key in mapping:
                raise DataFileError(f"{file}:{key_node.start_mark.line + 1}: " + phrases["twice"].format(key=key))
            mapping[key] = _convert(value_node, file, phrases)
        return Node(mapping, file, line, phrases)
    if isinstance(node, yaml.SequenceNode):
        return Node([_convert(item, file, phrases) for item in node.value], file, line, phrases)
    value = yaml.SafeLoader(" ").construct_object(node)  # scalars: ints, bools, strings as YAML types them
    return Node(value, file, line, phrases)
