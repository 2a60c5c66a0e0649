"""Households (户): which are within a caller's reach, and the rules of writing them."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from hub.access.jurisdiction import Subtree
from hub.data.models import Household
from hub.domain.write_path import Writable, mobile, non_negative, not_in_future

households = Household.__table__


def household_in(subtree: Subtree) -> ColumnElement[bool]:
    return households.c.village_id.in_(subtree.region_ids())


HOUSEHOLD = Writable(
    "Household",
    households,
    household_in,
    {"phone": mobile, "low_income_since": not_in_future, "income_per_person_monthly": non_negative, "subsidy_monthly": non_negative},
)
