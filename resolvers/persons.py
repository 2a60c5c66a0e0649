"""Persons (人员): lookups and the filtered lists the forms need."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from strawberry.types import Info

from hub import clock
from hub.access.jurisdiction import Subtree
from hub.data.identifiers import InvalidIdentifier, parse_id_number
from hub.data.models import Gender, HealthStatus, KeyCareReason, ResidenceStatus
from hub.domain import persons as persons_domain
from hub.domain.context import Context
from hub.domain.persons import person_in, person_reachable, persons
from hub.domain.write_path import WriteResult, not_found
from resolvers.dataloaders import RowByKey, equal_to
from resolvers.errors import UserInputError
from resolvers.filters import contains
from resolvers.households import HOUSEHOLD_BY_ID
from resolvers.pages import root_page
from resolvers.pagination import Page
from resolvers.prefetch import Relation, relations
from resolvers.regions import subtree

PERSON_BY_ID = RowByKey(persons.c.id, person_reachable)
PERSON_BY_ID_NUMBER = RowByKey(persons.c.id_number, person_reachable)

relations("Person", household=Relation(HOUSEHOLD_BY_ID, "household_id", "Household"))


def _birthday_years_ago(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February in a non-leap year
        return today.replace(year=today.year - years, day=28)


@dataclass(frozen=True)
class PersonFilter:
    subtree: Subtree | None = None
    key_care: bool | None = None
    key_care_reason: KeyCareReason | None = None
    health_status: HealthStatus | None = None
    gender: Gender | None = None
    residence_status: ResidenceStatus | None = None
    min_age: int | None = None
    max_age: int | None = None
    name_contains: str | None = None
    today: dt.date | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        where = equal_to(persons, self, "key_care_reason", "health_status", "gender", "residence_status")
        if self.subtree is not None:
            where.append(person_in(self.subtree))
        if self.key_care is not None:
            where.append(persons.c.key_care_reason.is_not(None) if self.key_care else persons.c.key_care_reason.is_(None))
        today = self.today or clock.today()
        if self.min_age is not None:  # at least min_age: born on or before today minus min_age years
            where.append(persons.c.birth_date <= _birthday_years_ago(today, self.min_age))
        if self.max_age is not None:  # at most max_age: born after today minus (max_age + 1) years
            where.append(persons.c.birth_date > _birthday_years_ago(today, self.max_age + 1))
        if self.name_contains:
            where.append(contains(persons.c.name, self.name_contains))
        return where


async def person(ctx: Context, person_id: int | None, id_number: str | None) -> Any:
    if (person_id is None) == (id_number is None):
        raise UserInputError("person：id 和 idNumber 须给出其中一个，且只给一个", field="id")
    if person_id is not None:
        return await ctx.load(PERSON_BY_ID, person_id)
    try:
        number = parse_id_number(id_number).number
    except InvalidIdentifier as error:
        raise UserInputError(f"idNumber：{error}", field="idNumber") from None
    return await ctx.load(PERSON_BY_ID_NUMBER, number)


async def list_persons(
    info: Info, *, region_code: str | None, first: int | None, after: str | None, **filters
) -> Page:
    for bound in ("min_age", "max_age"):
        value = filters.get(bound)
        if value is not None and not 0 <= value <= 150:
            name = "minAge" if bound == "min_age" else "maxAge"
            raise UserInputError(f"{name}：须在 0 到 150 之间，收到 {value}", field=name)
    filter_ = PersonFilter(subtree=await subtree(info.context, region_code), **filters)
    return await root_page(info, "Person", persons.c.id, filter_.clauses(), first, after, person_in)


async def create_person(ctx: Context, household_id: int, changes: dict[str, tuple[str, Any]]) -> WriteResult:
    """A person born into or moving into a household in the caller's jurisdiction."""
    household = await ctx.load(HOUSEHOLD_BY_ID, household_id)  # scoped: outside is not found
    if household is None:
        return WriteResult(None, [not_found("householdId", "Household", household_id)])
    return await persons_domain.create_person(ctx, household.id, changes)
