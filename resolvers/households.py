"""Households (户): lookups, filtered lists, members and the village's household list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from strawberry.types import Info

from hub.access.jurisdiction import Subtree
from hub.data.models import HousingSafetyGrade, Person, RegionLevel
from hub.domain.context import Context, then
from hub.domain.households import HOUSEHOLD, household_in, households
from hub.domain.write_path import (
    FieldProblem,
    WriteResult,
    create_record,
    field_message,
)
from resolvers.dataloaders import ChildPages, RowByKey, RowsByKey, equal_to
from resolvers.narrowing import connections, narrowable
from resolvers.pages import child_page, root_page
from resolvers.pagination import Page
from resolvers.prefetch import Relation, relations
from resolvers.regions import REGION_BY_ID, region_by_code, subtree

persons = Person.__table__


HOUSEHOLD_BY_ID = RowByKey(households.c.id, household_in)
HOUSEHOLD_MEMBERS = RowsByKey(persons.c.household_id, order_by=persons.c.id)
VILLAGE_HOUSEHOLDS = ChildPages(households.c.village_id, households.c.id)

_members = Relation(HOUSEHOLD_MEMBERS, "id", "Person")
relations(
    "Household",
    members=_members,
    head=_members,
    memberCount=_members,
    village=Relation(REGION_BY_ID, "village_id", "Region"),
)
connections("Region", households=Relation(VILLAGE_HOUSEHOLDS, "id", "Household"))
narrowable(HOUSEHOLD_MEMBERS, reads=("relation_to_head",))  # `head` picks the 户主
narrowable(VILLAGE_HOUSEHOLDS)

HEAD_RELATION = "户主"


@dataclass(frozen=True)
class HouseholdFilter:
    subtree: Subtree | None = None
    low_income: bool | None = None
    extreme_poverty: bool | None = None
    elderly_alone: bool | None = None
    poverty_monitored: bool | None = None
    housing_safety_grade: HousingSafetyGrade | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        where = equal_to(
            households, self, "low_income", "extreme_poverty", "elderly_alone", "poverty_monitored", "housing_safety_grade"
        )
        if self.subtree is not None:
            where.append(household_in(self.subtree))
        return where


async def household(ctx: Context, household_id: int) -> Any:
    return await ctx.load(HOUSEHOLD_BY_ID, household_id)


def household_by_id(ctx: Context, household_id: int) -> Any:
    return ctx.load_now(HOUSEHOLD_BY_ID, household_id)


async def list_households(info: Info, *, region_code: str | None, first: int | None, after: str | None, **flags) -> Page:
    filter_ = HouseholdFilter(subtree=await subtree(info.context, region_code), **flags)
    return await root_page(info, "Household", households.c.id, filter_.clauses(), first, after, household_in)


async def village_households(info: Info, village: Any, first: int | None, after: str | None, **flags) -> Page:
    return await child_page(info, VILLAGE_HOUSEHOLDS, "Household", village.id, first, after, HouseholdFilter(**flags))


def members(ctx: Context, household: Any) -> Any:
    return ctx.load_now(HOUSEHOLD_MEMBERS, household.id)


def head(ctx: Context, household: Any) -> Any:
    return then(members(ctx, household), lambda rows: next((m for m in rows if m.relation_to_head == HEAD_RELATION), None))


def member_count(ctx: Context, household: Any) -> Any:
    return then(members(ctx, household), len)


async def create_household(ctx: Context, village_code: str, changes: dict[str, tuple[str, Any]]) -> WriteResult:
    """A new household in a village of the caller's jurisdiction."""
    village = await region_by_code(ctx, village_code, "villageCode")  # scoped: outside is not found
    if village is None or village.level is not RegionLevel.VILLAGE:
        problem = FieldProblem("villageCode", "NOT_FOUND", field_message("villageCode", f"找不到代码为 {village_code} 的村（社区）"))
        return WriteResult(None, [problem])
    return await create_record(ctx, HOUSEHOLD, ("village_id", village.id), changes)
