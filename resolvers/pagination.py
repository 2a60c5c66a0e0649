"""Cursor pagination shared by every list: keyset on one sort column, opaque cursors.

A `Page` is what the connection types in `schema.connections` read their
fields from: `nodes` and `page_info` are plain attributes, and `count()`
runs its COUNT only when the query asks for `totalCount`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column

from resolvers.errors import INTEGER_MAX, INTEGER_MIN, UserInputError


@dataclass(frozen=True, slots=True)
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@dataclass(slots=True)
class Page:
    nodes: Sequence[Any]
    page_info: PageInfo
    sort_attr: str
    count: Callable[[], Awaitable[int]]

    def cursor(self, row: Any) -> str:
        return encode_cursor(getattr(row, self.sort_attr))


@dataclass(frozen=True, slots=True)
class PageArgs:
    """Validated `first` / `after` of one connection field. Hashable: it is part of loader keys."""

    first: int
    after: Any | None

    @classmethod
    def parse(cls, first: int | None, after: str | None, sort_column: Column, settings) -> PageArgs:
        if first is None:
            first = settings.default_page_size
        if not 0 <= first <= settings.max_page_size:
            raise UserInputError(
                f"first 须在 0 到 {settings.max_page_size} 之间，收到 {first}", field="first"
            )
        return cls(first=first, after=None if after is None else decode_cursor(after, sort_column))


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(f"k:{value}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort_column: Column) -> Any:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("k:"):
            raise ValueError
        value = raw[2:]
        if sort_column.type.python_type is not int:
            if "\x00" in value:  # PostgreSQL text cannot hold it
                raise ValueError
            return value
        key = int(value)
        if not INTEGER_MIN <= key <= INTEGER_MAX:  # no row has it; the engines would fail differently
            raise ValueError
        return key
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise UserInputError(f"after：{cursor!r} 不是这个列表给出的游标", field="after") from None


def make_page(rows: Sequence[Any], args: PageArgs, sort_attr: str, count: Callable[[], Awaitable[int]]) -> Page:
    """`rows` holds up to first + 1 rows: the extra one only says there is a next page."""
    has_next = len(rows) > args.first
    nodes = rows[: args.first]
    end_cursor = encode_cursor(getattr(nodes[-1], sort_attr)) if nodes else None
    return Page(nodes=nodes, page_info=PageInfo(has_next, end_cursor), sort_attr=sort_attr, count=count)
