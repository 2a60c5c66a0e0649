"""Persons (人员): which are within a caller's reach, the rules of writing them, visits and newcomers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, exists, select

from hub import clock
from hub.access.jurisdiction import Subtree
from hub.data.identifiers import InvalidIdentifier, parse_id_number
from hub.data.models import Gender, Person
from hub.domain.context import Context
from hub.domain.households import household_in, households
from hub.domain.write_path import (
    FieldProblem,
    Writable,
    WriteResult,
    create_record,
    field_message,
    mobile,
    not_in_future,
    update_entity,
)

persons = Person.__table__


def person_in(subtree: Subtree) -> ColumnElement[bool]:
    """For lists of a region's persons: the region's households are listed once, then persons are
    read through them. For pages this beat checking each person's household at every level on
    SQLite (a district's page of 1,000: 27 ms against 47–178 ms)."""
    return persons.c.household_id.in_(select(households.c.id).where(household_in(subtree)))


def person_reachable(subtree: Subtree) -> ColumnElement[bool]:
    """For persons found by key: each one's own household is checked. SQLite builds an IN list
    whole before it tests one row, and a district's list (some 30,000 households at the
    benchmark's scale) took 9 ms to check a single person; this takes 0.04 ms."""
    return exists().where(households.c.id == persons.c.household_id, household_in(subtree))


def age_on(birth_date: dt.date, today: dt.date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


PERSON = Writable("Person", persons, person_reachable, {"phone": mobile, "recent_status_date": not_in_future})


async def record_visit(ctx: Context, person_id: int, version: int, changes: dict[str, tuple[str, Any]]) -> WriteResult:
    """A visit (走访): what was seen becomes the person's recent status, dated the day of the visit."""
    if not (changes.get("recent_status", (None, None))[1] or "").strip():
        reason = field_message("recentStatus", "请填写走访看到的情况", persons.c.recent_status.info["label"])
        return WriteResult(None, [FieldProblem("recentStatus", "INVALID", reason)])
    if changes.get("recent_status_date", (None, None))[1] is None:
        changes = {**changes, "recent_status_date": ("recentStatusDate", clock.today())}
    return await update_entity(ctx, PERSON, person_id, version, changes)


async def create_person(ctx: Context, household_id: int, changes: dict[str, tuple[str, Any]]) -> WriteResult:
    """A person born into or moving into a household already found within the caller's reach.

    Gender and birth date are the ID number's: the hub works them out, nobody types them.
    """
    derived = {}
    number = changes.get("id_number", (None, None))[1]
    if number:
        try:
            citizen = parse_id_number(number)
        except InvalidIdentifier as error:
            return WriteResult(None, [FieldProblem("idNumber", "INVALID", field_message("idNumber", str(error), persons.c.id_number.info["label"]))])
        changes = {**changes, "id_number": ("idNumber", citizen.number)}
        derived = {"gender": Gender(citizen.gender), "birth_date": citizen.birth_date}
    return await create_record(ctx, PERSON, ("household_id", household_id), changes, derived, unique=("id_number", "idNumber"))
