"""Row-level scope: a region and everything below it, as a code range.

Statistical division codes nest by prefix, so a subtree is `code BETWEEN low AND high`,
which a plain btree index serves on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, select

from hub.data.identifiers import subtree_bounds
from hub.data.models import Region, RegionLevel

regions = Region.__table__


@dataclass(frozen=True)
class Subtree:
    low: str
    high: str

    @classmethod
    def of(cls, code: str, level: RegionLevel) -> Subtree:
        return cls(*subtree_bounds(code, level))

    def regions(self) -> ColumnElement[bool]:
        return regions.c.code.between(self.low, self.high)

    def region_ids(self) -> Select:
        return select(regions.c.id).where(self.regions())


def jurisdiction(code: str, level: RegionLevel) -> Subtree | None:
    """A user's scope; None for the whole city (no filter needed: every row is in it)."""
    return None if level is RegionLevel.CITY else Subtree.of(code, level)
