"""Reading the access log, newest first."""

from __future__ import annotations

from strawberry.types import Info

from hub.data.models import AccessLogEntry
from resolvers.pages import root_page
from resolvers.pagination import Page

entries = AccessLogEntry.__table__


async def list_entries(info: Info, *, username: str | None, first: int | None, after: str | None) -> Page:
    where = [] if username is None else [entries.c.username == username]
    # The log is about people, not places: jurisdiction does not narrow it.
    return await root_page(info, "AccessLogEntry", entries.c.id, where, first, after, None, descending=True)
