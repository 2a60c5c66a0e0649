"""The hub's one clock: what "today" is for every rule that depends on the date.

Validators (no date in the future, an ID number's birth date), ages and the
date a recent status was last changed all ask here, so a test can pin the day
and the server and the test agree on it, across midnight too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

_pinned: dt.date | None = None
_shift = dt.timedelta()


def today() -> dt.date:
    return _pinned or dt.date.today()


def now() -> dt.datetime:
    """The time (UTC) for rules that expire: sign-in sessions and lockouts; tests move it with `moved`."""
    return dt.datetime.now(dt.UTC) + _shift


@contextlib.contextmanager
def pinned(day: dt.date) -> Iterator[dt.date]:
    """Make `today()` answer `day` until the block ends (tests)."""
    global _pinned
    previous, _pinned = _pinned, day
    try:
        yield day
    finally:
        _pinned = previous


@contextlib.contextmanager
def moved(by: dt.timedelta) -> Iterator[None]:
    """Make `now()` run `by` ahead until the block ends (tests of expiry)."""
    global _shift
    previous, _shift = _shift, _shift + by
    try:
        yield
    finally:
        _shift = previous
