"""Enterprises (一企一档): which are within a caller's reach, and the rules of writing them."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from hub.access.jurisdiction import Subtree
from hub.data.models import Enterprise
from hub.domain.write_path import Writable, mobile

enterprises = Enterprise.__table__


def enterprise_in(subtree: Subtree) -> ColumnElement[bool]:
    return enterprises.c.village_id.in_(subtree.region_ids())


def _employees(value: int) -> int:
    if not 0 <= value <= 1_000_000:
        raise ValueError(f"应在 0 到 1000000 之间，填写的是 {value}")
    return value


ENTERPRISE = Writable("Enterprise", enterprises, enterprise_in, {"phone": mobile, "safety_contact_phone": mobile, "employees": _employees})
