"""Households (户): lookups, filtered lists, members and the village's household list."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Row

from hub.models import Household, HousingSafetyGrade, Person
from resolvers.context import Context
from resolvers.dataloaders import ChildPages, RowByKey, RowsByKey
from resolvers.lists import child_page, root_page
from resolvers.pagination import Page
from resolvers.regions import Subtree, subtree

households = Household.__table__
persons = Person.__table__

HOUSEHOLD_BY_ID = RowByKey(households.c.id)
HOUSEHOLD_MEMBERS = RowsByKey(persons.c.household_id, order_by=persons.c.id)
VILLAGE_HOUSEHOLDS = ChildPages(households.c.village_id, households.c.id)

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
        where = []
        if self.subtree is not None:
            where.append(households.c.village_id.in_(self.subtree.region_ids()))
        for flag in ("low_income", "extreme_poverty", "elderly_alone", "poverty_monitored"):
            value = getattr(self, flag)
            if value is not None:
                where.append(households.c[flag] == value)
        if self.housing_safety_grade is not None:
            where.append(households.c.housing_safety_grade == self.housing_safety_grade)
        return where


async def household(ctx: Context, household_id: int) -> Row | None:
    return await ctx.load(HOUSEHOLD_BY_ID, household_id)


async def list_households(
    ctx: Context, *, region_code: str | None, first: int | None, after: str | None, **flags
) -> Page:
    filter_ = HouseholdFilter(subtree=await subtree(ctx, region_code), **flags)
    return await root_page(ctx, households.c.id, filter_.clauses(), first, after)


async def village_households(
    ctx: Context, village: Row, first: int | None, after: str | None, **flags
) -> Page:
    return await child_page(ctx, VILLAGE_HOUSEHOLDS, village.id, first, after, HouseholdFilter(**flags))


async def members(ctx: Context, household: Row) -> list[Row]:
    return await ctx.load(HOUSEHOLD_MEMBERS, household.id)


async def head(ctx: Context, household: Row) -> Row | None:
    return next((m for m in await members(ctx, household) if m.relation_to_head == HEAD_RELATION), None)
