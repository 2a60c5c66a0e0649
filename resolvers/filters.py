"""Text matching that treats the user's input literally."""

from __future__ import annotations

from sqlalchemy import Column, ColumnElement


def contains(column: Column, text: str) -> ColumnElement[bool]:
    # autoescape: a "%" or "_" typed by a user matches itself, not any character.
    return column.contains(text.strip(), autoescape=True)
