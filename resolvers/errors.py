"""Errors a client caused and can fix. Everything else is masked by the HTTP layer."""

from __future__ import annotations


class UserInputError(Exception):
    """Bad input: the message names the field and the reason; shown to the client as is."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def int_id(value: str, field: str = "id") -> int:
    """A record id from its GraphQL ID."""
    try:
        return int(value)
    except ValueError:
        raise UserInputError(f"{field}: {value!r} is not a record id", field=field) from None
