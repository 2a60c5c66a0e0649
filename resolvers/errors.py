"""Errors a client caused and can fix. Everything else is masked by the HTTP layer."""

from __future__ import annotations

# Record ids and cursor keys are INTEGER columns: 32-bit on PostgreSQL. A value outside
# this range names no record; sent to the database it would fail differently on each engine.
INTEGER_MIN, INTEGER_MAX = -(2**31), 2**31 - 1


class UserInputError(Exception):
    """Bad input: the message names the field and the reason; shown to the client as is."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def int_id(value: str, field: str = "id") -> int:
    """A record id from its GraphQL ID: digits only, within the id column's range."""
    if value.isascii() and value.isdigit() and 1 <= int(value) <= INTEGER_MAX:
        return int(value)
    raise UserInputError(f"{field}：{value!r} 不是记录编号", field=field)
