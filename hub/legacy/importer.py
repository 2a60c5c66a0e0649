"""Importing the ledgers communities kept for years: map, normalise, deduplicate, report, apply.

A mapping file says which hub field each (Chinese) header feeds and where new
households go. The importer finds the header row, normalises every cell
(full-width digits, stray spaces, dates as text or serials, old 15-digit ID
numbers…), deduplicates people by ID number and households by head and
address, compares with the hub, and reports new / updated / unchanged /
rejected (with reasons). Applying writes everything in one transaction, each
update with its history (source IMPORT), under the importer's permissions.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from hub.identifiers import parse_id_number
from hub.legacy import normalise
from hub.models import (
    ChangeSource,
    Gender,
    HealthStatus,
    Household,
    Person,
    Region,
    ResidenceStatus,
)
from hub.permissions import WriteRefused, check_write
from hub.yamlfile import load
from resolvers.context import Context
from resolvers.history import as_text, record

persons = Person.__table__
households = Household.__table__
regions = Region.__table__

# hub field -> (normaliser, GraphQL field name for write checks and history)
FIELDS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "name": (normalise.name, "name"),
    "id_number": (normalise.id_number, "idNumber"),
    "gender": (normalise.gender, "gender"),
    "birth_date": (normalise.date, "birthDate"),
    "ethnicity": (normalise.text, "ethnicity"),
    "relation_to_head": (normalise.text, "relationToHead"),
    "phone": (normalise.mobile, "phone"),
    "health_status": (lambda v: normalise.choice(HealthStatus, v), "healthStatus"),
    "chronic_diseases": (normalise.text, "chronicDiseases"),
    "employer": (normalise.text, "employer"),
    "recent_status": (normalise.text, "recentStatus"),
    "head_name": (normalise.name, "headName"),  # household key, not stored on the person
    "address": (normalise.text, "address"),  # the household's
    "low_income": (normalise.boolean, "lowIncome"),  # the household's
}
HOUSEHOLD_FIELDS = {"address", "low_income"}
KEY_FIELDS = {"head_name"}
# Person fields the import may update on people already in the hub (identity fields stay as they are).
UPDATABLE = ("phone", "health_status", "chronic_diseases", "employer", "recent_status", "relation_to_head", "ethnicity")


class ImportError_(Exception):
    """The file or the mapping cannot be imported at all (as opposed to rejected rows)."""


@dataclass(frozen=True)
class Mapping:
    village: str
    columns: dict[str, tuple[str, ...]]  # hub field -> header texts (normalised)
    source: str


def default_mapping() -> Mapping:
    return load_mapping(Path(__file__).parent / "person-ledger.yaml")


def load_mapping(path: Path) -> Mapping:
    root = load(path)
    root.only_keys({"village", "columns"}, "the mapping")
    village = root.require("village", "the mapping").text("village")
    columns: dict[str, tuple[str, ...]] = {}
    for hub_field, node in root.require("columns", "the mapping").mapping("columns").items():
        if hub_field not in FIELDS:
            raise node.error(f"unknown hub field `{hub_field}` (fields: {', '.join(FIELDS)})")
        headers = node.sequence(hub_field) if isinstance(node.value, list) else [node]
        columns[hub_field] = tuple(normalise.header(h.text(hub_field)) for h in headers)
    for required in ("name", "id_number"):
        if required not in columns:
            raise root.require("columns", "the mapping").error(f"columns: map `{required}`: people are matched by it")
    return Mapping(village, columns, str(path))


@dataclass
class Row:
    number: int
    values: dict[str, Any]


@dataclass
class Plan:
    """What an import would do: computed without writing anything."""

    new_people: list[Row] = field(default_factory=list)
    updates: list[tuple[Row, Any, dict[str, Any]]] = field(default_factory=list)  # row, current person, changes
    unchanged: list[Row] = field(default_factory=list)
    duplicates: list[tuple[int, int]] = field(default_factory=list)  # (row, the row it repeats)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (row, reasons)
    new_households: dict[tuple[str, str], list[Row]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "new": len(self.new_people),
            "updated": len(self.updates),
            "unchanged": len(self.unchanged),
            "duplicates": len(self.duplicates),
            "rejected": len(self.rejected),
            "newHouseholds": len(self.new_households),
            "rejectedRows": [{"row": row, "reason": reason} for row, reason in self.rejected],
        }


def read_rows(data: bytes | Path, mapping: Mapping, progress: Callable[[int], None] | None = None) -> tuple[list[Row], list[tuple[int, str]]]:
    """Normalised rows and rejected rows (row number, reasons) of the first sheet."""
    try:
        workbook = load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - zipfile, XML and openpyxl errors all mean the same to the user
        raise ImportError_("the file is not an xlsx workbook") from None
    sheet = workbook.worksheets[0]
    index: dict[str, int] | None = None
    rows: list[Row] = []
    rejected: list[tuple[int, str]] = []
    for number, cells in enumerate(sheet.iter_rows(values_only=True), 1):
        if index is None:
            index = _header_index(cells, mapping)
            continue
        if not any(c not in (None, "") for c in cells):
            continue
        first = next((str(c) for c in cells if c not in (None, "")), "")
        if "合计" in first or "小计" in first:
            continue
        values, reasons = {}, []
        for hub_field, position in index.items():
            raw = cells[position] if position < len(cells) else None
            try:
                values[hub_field] = FIELDS[hub_field][0](raw)
            except ValueError as error:
                reasons.append(f"{FIELDS[hub_field][1]}: {error}")
        if not reasons and not values.get("name"):
            reasons.append("name: missing")
        if not reasons and not values.get("id_number"):
            reasons.append("idNumber: missing")
        if not reasons:
            citizen = parse_id_number(values["id_number"])
            for derived, expected in (("gender", Gender(citizen.gender)), ("birth_date", citizen.birth_date)):
                if values.get(derived) not in (None, expected):
                    reasons.append(f"{FIELDS[derived][1]}: {as_text(values[derived])} does not match the ID number ({as_text(expected)})")
            values["gender"], values["birth_date"] = Gender(citizen.gender), citizen.birth_date
        if reasons:
            rejected.append((number, "; ".join(reasons)))
        else:
            rows.append(Row(number, values))
        if progress and number % 1000 == 0:
            progress(number)
    workbook.close()
    if index is None:
        raise ImportError_(f"no header row found: looked for {', '.join(h for hs in mapping.columns.values() for h in hs)}")
    return rows, rejected


def _header_index(cells: tuple, mapping: Mapping) -> dict[str, int] | None:
    found = {}
    normalised = [normalise.header(c) if isinstance(c, str) else "" for c in cells]
    for hub_field, headers in mapping.columns.items():
        position = next((i for i, text in enumerate(normalised) if text in headers), None)
        if position is not None:
            found[hub_field] = position
    if "id_number" not in found or len(found) * 2 < len(mapping.columns):
        return None  # a title row, or a row above the headers
    return found


async def plan_import(ctx: Context, mapping: Mapping, rows: list[Row], rejected: list[tuple[int, str]]) -> tuple[Plan, Any]:
    """Compare the file with the hub; return the plan and the target village row."""
    result = Plan(rejected=list(rejected))
    async with ctx.engine.connect() as connection:
        stmt = select(regions).where(regions.c.code == mapping.village)
        if ctx.scope is not None:
            stmt = stmt.where(ctx.scope.regions())
        village = (await connection.execute(stmt)).one_or_none()
        if village is None:
            raise ImportError_(f"village: no region has code {mapping.village} within your jurisdiction")
        seen: dict[str, Row] = {}
        unique: list[Row] = []
        for row in rows:
            earlier = seen.get(row.values["id_number"])
            if earlier is None:
                seen[row.values["id_number"]] = row
                unique.append(row)
            elif {k: as_text(v) for k, v in earlier.values.items()} == {k: as_text(v) for k, v in row.values.items()}:
                result.duplicates.append((row.number, earlier.number))
            else:
                result.rejected.append((row.number, f"repeats the ID number of row {earlier.number} with different values"))
        existing = {}
        numbers = [r.values["id_number"] for r in unique]
        for start in range(0, len(numbers), 5000):
            chunk = numbers[start : start + 5000]
            for person in (await connection.execute(select(persons).where(persons.c.id_number.in_(chunk)))).all():
                existing[person.id_number] = person
        addresses = {
            row.address: row.id
            for row in (await connection.execute(select(households.c.id, households.c.address).where(households.c.village_id == village.id))).all()
        }
    for row in unique:
        person = existing.get(row.values["id_number"])
        if person is None:
            key = (row.values.get("head_name") or row.values["name"], row.values.get("address") or "")
            if key[1] in addresses:
                row.values["household_id"] = addresses[key[1]]
            else:
                result.new_households.setdefault(key, []).append(row)
            result.new_people.append(row)
            continue
        changes = {f: row.values[f] for f in UPDATABLE if f in row.values and as_text(row.values[f]) != as_text(getattr(person, f))}
        (result.updates.append((row, person, changes)) if changes else result.unchanged.append(row))
    _check_permissions(ctx, result)
    return result, village


def _check_permissions(ctx: Context, result: Plan) -> None:
    """The importer's role decides, as for any write; refused rows join the rejected ones."""
    allowed = []
    for row, person, changes in result.updates:
        try:
            for column in changes:
                check_write(ctx.policy, ctx.caller, "Person", FIELDS[column][1])
        except WriteRefused as refused:
            result.rejected.append((row.number, str(refused)))
            continue
        allowed.append((row, person, changes))
    result.updates = allowed
    if result.new_people:
        try:
            check_write(ctx.policy, ctx.caller, "Person", "name")
        except WriteRefused as refused:
            result.rejected += [(row.number, f"new person: {refused}") for row in result.new_people]
            result.new_people, result.new_households = [], {}


async def apply_import(ctx: Context, result: Plan, village: Any, progress: Callable[[int, int], None] | None = None) -> None:
    """Everything in one transaction: new households and people, then updates with their history."""
    total = len(result.new_people) + len(result.updates)
    done = 0
    now = dt.datetime.now(dt.UTC)
    async with ctx.engine.begin() as connection:
        household_ids: dict[tuple[str, str], int] = {}
        for key, members in result.new_households.items():
            low_income = any(m.values.get("low_income") for m in members)
            inserted = await connection.execute(
                households.insert().values(village_id=village.id, address=key[1] or f"{village.name}（地址待补）", low_income=low_income, updated_at=now)
            )
            household_ids[key] = inserted.inserted_primary_key[0]
        new_people = []
        for row in result.new_people:
            key = (row.values.get("head_name") or row.values["name"], row.values.get("address") or "")
            values = {k: v for k, v in row.values.items() if k in persons.c and k not in HOUSEHOLD_FIELDS}
            new_people.append(
                {
                    **{c: None for c in ("phone", "health_status", "chronic_diseases", "employer", "recent_status")},
                    "ethnicity": "汉族",
                    "relation_to_head": "户主" if key[0] == row.values["name"] else "家庭成员",
                    **values,
                    "household_id": row.values.get("household_id") or household_ids[key],
                    "residence_status": ResidenceStatus.RESIDENT,
                    "health_status": row.values.get("health_status") or HealthStatus.HEALTHY,
                    "version": 1,
                    "updated_at": now,
                }
            )
        for start in range(0, len(new_people), 2000):
            await connection.execute(persons.insert(), new_people[start : start + 2000])
            done += len(new_people[start : start + 2000])
            if progress:
                progress(done, total)
        for row, person, changes in result.updates:
            changed = await connection.execute(
                persons.update()
                .where(persons.c.id == person.id, persons.c.version == person.version)
                .values(**changes, version=persons.c.version + 1, updated_at=now)
            )
            if changed.rowcount != 1:  # edited in the hub since the plan was made: undo everything
                raise ImportError_(f"row {row.number}: {person.name} was changed in the hub during the import; run it again")
            fields = {FIELDS[c][1]: (getattr(person, c), v) for c, v in changes.items()}
            await record(connection, ctx, "Person", person.id, person.version + 1, fields, ChangeSource.IMPORT)
            done += 1
            if progress and done % 500 == 0:
                progress(done, total)
    if progress:
        progress(total, total)

