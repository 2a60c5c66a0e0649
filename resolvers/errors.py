"""Errors a client caused and can fix. Everything else is masked by the HTTP layer."""

from __future__ import annotations


class UserInputError(Exception):
    """Bad input: the message names the field and the reason; shown to the client as is."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
