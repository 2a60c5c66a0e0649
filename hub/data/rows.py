"""Rows in and out: many keys in one bound parameter, and plain slotted records for what comes back.

Keys travel as ONE bound parameter (a PostgreSQL array, or a JSON array that
SQLite unpacks with json_each), so the SQL text is the same for 3 keys or
30,000: no parameter-count limits, and the statement cache always hits.

SQLAlchemy's `Row` answers a missing attribute through a slow Python
fallback, and graphql-core asks every resolved object for `__await__`: on
20,000 rows that alone cost hundreds of milliseconds. A slotted dataclass per
table answers in C, and reads its columns as fast as a Row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import make_dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Table,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql


def key_in(column: Column, keys: Sequence[Any] | None, dialect: str) -> ColumnElement[bool]:
    """`column IN keys`; with keys None, a placeholder named KEYS whose value `key_values` gives at execution."""
    name = None if keys is not None else KEYS
    if dialect == "postgresql":
        return column == any_(bindparam(name, None if keys is None else list(keys), type_=postgresql.ARRAY(column.type)))
    value = None if keys is None else key_values(keys, dialect)
    return column.in_(select(literal_column("value")).select_from(func.json_each(bindparam(name, value))))


KEYS = "keys"


def key_values(keys: Sequence[Any], dialect: str) -> Any:
    return list(keys) if dialect == "postgresql" else json.dumps(list(keys))


@cache
def record_class(table: Table, columns: tuple[str, ...] | None = None) -> type:
    """The record of a whole row, or of `columns` only (a read that selects some columns, in table order)."""
    names = [c.name for c in table.columns] if columns is None else list(columns)
    return make_dataclass(f"{table.name}_record", names, slots=True, repr=False, eq=False)
