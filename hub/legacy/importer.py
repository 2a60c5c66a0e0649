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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, true

from hub.access.policy import Mode, ReadScope
from hub.access.write_check import WriteRefused, check_write
from hub.data.identifiers import parse_id_number
from hub.data.models import (
    ChangeSource,
    Gender,
    HealthStatus,
    Household,
    LabelledEnum,
    Person,
    Region,
    ResidenceStatus,
)
from hub.domain.context import Context
from hub.domain.entities import WRITABLES
from hub.domain.history import as_text
from hub.domain.persons import person_reachable
from hub.domain.write_path import FieldProblem, apply_change, check_changes
from hub.forms.untrusted_xlsx import SheetRefused, first_sheet_rows
from hub.legacy import normalise
from hub.yamlfile import load

persons = Person.__table__
households = Household.__table__
regions = Region.__table__

@dataclass(frozen=True)
class LedgerField:
    """A hub field a ledger column may feed: how its cells are read and where the value goes."""

    normalise: Callable[[Any], Any]
    type_name: str | None  # "Person" or "Household"; None for a key that is not stored
    field: str  # the GraphQL field: write checks, history and messages name it
    column: str | None = None  # the table column, when it differs from the hub field's name


FIELDS: dict[str, LedgerField] = {
    "name": LedgerField(normalise.name, "Person", "name"),
    "id_number": LedgerField(normalise.id_number, "Person", "idNumber"),
    "gender": LedgerField(normalise.gender, "Person", "gender"),
    "birth_date": LedgerField(normalise.date, "Person", "birthDate"),
    "ethnicity": LedgerField(normalise.text, "Person", "ethnicity"),
    "relation_to_head": LedgerField(normalise.text, "Person", "relationToHead"),
    "phone": LedgerField(normalise.mobile, "Person", "phone"),
    "health_status": LedgerField(lambda v: normalise.choice(HealthStatus, v), "Person", "healthStatus"),
    "chronic_diseases": LedgerField(normalise.text, "Person", "chronicDiseases"),
    "employer": LedgerField(normalise.text, "Person", "employer"),
    "recent_status": LedgerField(normalise.text, "Person", "recentStatus"),
    "head_name": LedgerField(normalise.name, None, "headName"),  # groups a person ledger's rows into households
    "address": LedgerField(normalise.text, "Household", "address"),
    "household_phone": LedgerField(normalise.mobile, "Household", "phone", column="phone"),
    "grid_name": LedgerField(normalise.text, "Household", "gridName"),
    "low_income": LedgerField(normalise.boolean, "Household", "lowIncome"),
}
# What a row must carry, and what identifies a person rather than being updated on one.
REQUIRED = {"person": ("name", "id_number"), "household": ("name", "id_number", "address")}
IDENTITY = ("name", "id_number", "gender", "birth_date")
# Person fields the import may update on people already in the hub (identity fields stay as they are).
UPDATABLE = ("phone", "health_status", "chronic_diseases", "employer", "recent_status", "relation_to_head", "ethnicity")
# Household fields a household ledger may update on households already in the hub.
HOUSEHOLD_UPDATABLE = ("address", "household_phone", "grid_name", "low_income")
BUILT_IN = {"person": "person-ledger.yaml", "household": "household-ledger.yaml"}


def column_of(hub_field: str) -> str:
    return FIELDS[hub_field].column or hub_field


def label_of(hub_field: str) -> str:
    """The field's Chinese name, as the hub's forms print it: what a cadre's report names."""
    spec = FIELDS[hub_field]
    if spec.type_name is None:
        return "户主姓名"
    table = WRITABLES[spec.type_name].table
    return table.c[column_of(hub_field)].info.get("label", spec.field)


class ImportError_(Exception):
    """The file or the mapping cannot be imported at all (as opposed to rejected rows): HTTP status and code beside the message."""

    def __init__(self, message: str, status: int = 400, code: str = "INVALID") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Mapping:
    village: str
    columns: dict[str, tuple[str, ...]]  # hub field -> header texts (normalised)
    source: str
    rows: str = "person"  # "person": one row per person; "household": one row per household, its head's


def built_in_mapping(kind: str) -> Mapping:
    return load_mapping(Path(__file__).parent / BUILT_IN[kind])


def load_mapping(path: Path) -> Mapping:
    root = load(path)
    root.only_keys({"village", "rows", "columns"}, "the mapping")
    village = root.require("village", "the mapping").text("village")
    rows = root.get("rows").text("rows") if root.get("rows") is not None else "person"
    if rows not in REQUIRED:
        raise root.get("rows").error(f"rows: `person` (one row per person) or `household` (one row per household), not `{rows}`")
    columns_node = root.require("columns", "the mapping")
    columns: dict[str, tuple[str, ...]] = {}
    for hub_field, node in columns_node.mapping("columns").items():
        if hub_field not in FIELDS:
            raise node.error(f"unknown hub field `{hub_field}` (fields: {', '.join(FIELDS)})")
        headers = node.sequence(hub_field) if isinstance(node.value, list) else [node]
        columns[hub_field] = tuple(normalise.header(h.text(hub_field)) for h in headers)
    for required in REQUIRED[rows]:
        if required not in columns:
            why = "people are matched by it" if required != "address" else "a household ledger's rows are households"
            raise columns_node.error(f"columns: map `{required}`: {why}")
    if rows == "household" and "head_name" in columns:
        raise columns_node.error("columns: a household ledger's `name` is the head's; leave `head_name` out")
    return Mapping(village, columns, str(path), rows)


@dataclass
class Row:
    number: int
    values: dict[str, Any]
    # What a new row writes, checked and normalised by the write path: type name -> column -> value.
    new_values: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejected:
    """A row left out of the import: a stable code and the reasons, in Chinese, for the cadre."""

    row: int
    code: str  # INVALID, FORBIDDEN, ALREADY_REGISTERED, ADDRESS_TAKEN, DUPLICATE_ID, or the write path's code
    reason: str

    @classmethod
    def of(cls, row: int, problems: list[FieldProblem]) -> Rejected:
        return cls(row, problems[0].code, "；".join(p.message for p in problems))


@dataclass
class Plan:
    """What an import would do: computed without writing anything."""

    new_people: list[Row] = field(default_factory=list)
    updates: list[tuple[Row, Any, dict[str, Any]]] = field(default_factory=list)  # row, current person, changes
    household_updates: list[tuple[Row, Any, dict[str, Any]]] = field(default_factory=list)  # row, current household, changes
    unchanged: list[Row] = field(default_factory=list)
    duplicates: list[tuple[int, int]] = field(default_factory=list)  # (row, the row it repeats)
    rejected: list[Rejected] = field(default_factory=list)
    new_households: dict[tuple[str, str], list[Row]] = field(default_factory=dict)
    kind: str = "person"  # the mapping's `rows`
    writable: set[str] = field(default_factory=set)  # hub fields the importer may write
    refused: dict[str, str] = field(default_factory=dict)  # hub field -> why the importer may not write it
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (Type.field, why): columns left out

    def summary(self) -> dict[str, Any]:
        updated = {row.number for row, _, _ in self.updates} | {row.number for row, _, _ in self.household_updates}
        return {
            "new": len(self.new_people),
            "updated": len(updated),
            "unchanged": len(self.unchanged),
            "duplicates": len(self.duplicates),
            "rejected": len(self.rejected),
            "newHouseholds": len(self.new_households),
            "updatedHouseholds": len(self.household_updates),
            "rejectedRows": [{"row": r.row, "code": r.code, "reason": r.reason} for r in sorted(self.rejected, key=lambda r: r.row)],
            "skippedColumns": [{"field": ref, "reason": reason} for ref, reason in self.skipped],
        }


def read_rows(data: bytes | Path, mapping: Mapping, progress: Callable[[int], None] | None = None) -> tuple[list[Row], list[Rejected]]:
    """Normalised rows and rejected rows (row number, reasons) of the first sheet.

    Read through `untrusted_xlsx` (bounded, hardened XML); a file it refuses is an `ImportError_`.
    """
    index: dict[str, int] | None = None
    rows: list[Row] = []
    rejected: list[Rejected] = []
    for number, cells in enumerate(_sheet_rows(data), 1):
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
                values[hub_field] = FIELDS[hub_field].normalise(raw)
            except ValueError as error:
                reasons.append(f"{label_of(hub_field)}：{error}")
        for required in REQUIRED[mapping.rows]:
            if not reasons and not values.get(required):
                reasons.append(f"{label_of(required)}：未填写")
        if not reasons:
            citizen = parse_id_number(values["id_number"])
            for derived, expected in (("gender", Gender(citizen.gender)), ("birth_date", citizen.birth_date)):
                if values.get(derived) not in (None, expected):
                    reasons.append(f"{label_of(derived)}：填的是 {_shown(values[derived])}，与身份证号（{_shown(expected)}）不符")
            values["gender"], values["birth_date"] = Gender(citizen.gender), citizen.birth_date
        if reasons:
            rejected.append(Rejected(number, "INVALID", "；".join(reasons)))
        else:
            rows.append(Row(number, values))
        if progress and number % 1000 == 0:
            progress(number)
    if index is None:
        expected = "、".join(headers[0] for headers in mapping.columns.values())
        raise ImportError_(f"没有找到表头行：表头要有身份证号一列，且至少一半的列能对上这些列名（或其常见写法）：{expected}")
    return rows, rejected


def _shown(value: Any) -> str:
    return value.label if isinstance(value, LabelledEnum) else as_text(value)


def _sheet_rows(data: bytes | Path) -> Iterator[tuple[Any, ...]]:
    try:
        yield from first_sheet_rows(data, data_only=True)
    except SheetRefused as refused:  # the CLI and the endpoint report it as any file that cannot be imported
        raise ImportError_(str(refused), refused.status, refused.code) from None


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


def _household_key(row: Row, rows: str) -> tuple[str, str]:
    """Which new household a row belongs to: its head's name and its address."""
    head = row.values["name"] if rows == "household" else row.values.get("head_name") or row.values["name"]
    return head, row.values.get("address") or ""


async def plan_import(ctx: Context, mapping: Mapping, rows: list[Row], rejected: list[Rejected]) -> tuple[Plan, Any]:
    """Compare the file with the hub; return the plan and the target village row."""
    check_reads(ctx, mapping)
    result = Plan(rejected=list(rejected), kind=mapping.rows)
    _check_columns(ctx, result, {f for row in rows[:1] for f in row.values})
    async with ctx.engine.connect() as connection:
        stmt = select(regions).where(regions.c.code == mapping.village)
        if ctx.scope is not None:
            stmt = stmt.where(ctx.scope.regions())
        village = (await connection.execute(stmt)).one_or_none()
        if village is None:
            raise ImportError_(f"村（社区）：您的辖区内没有代码为 {mapping.village} 的地区", 404, "NOT_FOUND")
        unique = _deduplicate(rows, result)
        # People are matched across the city, but only those within the importer's reach are touched.
        reachable = person_reachable(ctx.scope) if ctx.scope is not None else true()
        numbers = [r.values["id_number"] for r in unique]
        existing = {
            p.id_number: p
            for p in await _rows_where_in(connection, select(persons, reachable.label("reachable")), persons.c.id_number, numbers)
        }
        addresses = {
            row.address: row.id
            for row in (await connection.execute(select(households.c.id, households.c.address).where(households.c.village_id == village.id))).all()
        }
        homes = {}
        if mapping.rows == "household":
            ids = sorted({p.household_id for p in existing.values() if p.reachable})
            homes = {h.id: h for h in await _rows_where_in(connection, select(households), households.c.id, ids)}
    for row in unique:
        person = existing.get(row.values["id_number"])
        if person is None:
            _plan_new_person(ctx, row, addresses, result)
        elif not person.reachable:  # where it is registered is not said: it may be outside the importer's view
            result.rejected.append(Rejected(row.number, "ALREADY_REGISTERED", f"{label_of('id_number')}：已在系统中登记，不能作为新人员导入"))
        else:
            _plan_update(ctx, row, person, homes.get(person.household_id), result)
    return result, village


def _read_mode(ctx: Context, ref: str) -> Mode | None:
    """How the caller's view shows `Type.field`: in full, masked, or not at all."""
    policy, caller = ctx.policy, ctx.caller
    scope = policy.roles[caller.role].read
    if scope is ReadScope.EVERYTHING:
        return Mode.READ
    type_name, _, field_name = ref.partition(".")
    if scope is ReadScope.BASE_DATA:
        visible = policy.base_visibility()
    elif caller.department in policy.departments:
        visible = policy.department_visibility(caller.department)
    else:
        return None
    return visible.get(type_name, {}).get(field_name)


def note_access(ctx: Context, mapping: Mapping, kind: str, apply: bool) -> None:
    """What the access log keeps of an import: the village, dry run or not, and the sensitive fields matching reads by value."""
    ctx.audit.update(
        operation_type="mutation" if apply else "query",
        operation_name=f"legacyImport {mapping.village} {kind}{'' if apply else ' dryRun'}"[:128],
        sensitive_fields=sorted({f"{FIELDS[f].type_name}.{FIELDS[f].field}" for f in mapping.columns if FIELDS[f].type_name} & ctx.policy.sensitive),
    )


def check_reads(ctx: Context, mapping: Mapping) -> None:
    """Refuse the whole import unless the caller reads in full every field it is matched or compared on.

    Matching a ledger against the hub reads by value: "unchanged" for one ID number
    and "new" for another would rebuild a masked number, digit by digit. So the
    answer is decided from the mapping and the caller's grants alone, before any
    row is looked at: the same refusal whatever the ledger holds.
    """
    compared = ["id_number", *(["address"] if "address" in mapping.columns else [])]
    for hub_field in (*UPDATABLE, *HOUSEHOLD_UPDATABLE):  # what an update compares with the stored value
        spec = FIELDS[hub_field]
        if hub_field in mapping.columns and hub_field not in compared:
            try:
                check_write(ctx.policy, ctx.caller, spec.type_name, spec.field)
            except WriteRefused:
                continue  # left out of the import, never compared
            compared.append(hub_field)
    refs = [f"{FIELDS[f].type_name}.{FIELDS[f].field}" for f in compared]
    masked = [ref for ref in refs if _read_mode(ctx, ref) is Mode.MASKED]
    hidden = [ref for ref in refs if _read_mode(ctx, ref) is None]
    if masked or hidden:
        what = "；".join(
            part for part in (
                f"只能看到脱敏后的 {'、'.join(masked)}" if masked else "",
                f"无权查看 {'、'.join(hidden)}" if hidden else "",
            ) if part
        )
        raise ImportError_(
            f"{ctx.caller.org_unit}不能导入这份台账：导入要按这些字段与系统中的记录逐条比对，而您{what}，"
            "比对结果会透露看不到的数据",
            403, "FORBIDDEN",
        )


async def _rows_where_in(connection: Any, query: Any, column: Any, values: list[Any], chunk: int = 5000) -> list[Any]:
    """`query` for rows whose `column` is among `values`, a few thousand bound values at a time."""
    rows = []
    for start in range(0, len(values), chunk):
        rows += (await connection.execute(query.where(column.in_(values[start : start + chunk])))).all()
    return rows


def _check_columns(ctx: Context, result: Plan, present: set[str]) -> None:
    """The importer's role decides, as for any write: a column it may not write is left out, and said so.

    Person.name and Household.address are checked even when absent: creating people and households needs them.
    """
    for hub_field, spec in FIELDS.items():
        if spec.type_name is None or (hub_field not in present and hub_field not in ("name", "address")):
            continue
        try:
            check_write(ctx.policy, ctx.caller, spec.type_name, spec.field)
        except WriteRefused as refused:
            result.refused[hub_field] = str(refused)
            if hub_field in present and hub_field not in IDENTITY:  # identity is only written on new people
                result.skipped.append((f"{spec.type_name}.{spec.field}", str(refused)))
            continue
        result.writable.add(hub_field)


def _deduplicate(rows: list[Row], result: Plan) -> list[Row]:
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
            result.rejected.append(Rejected(row.number, "DUPLICATE_ID", f"{label_of('id_number')}：与第 {earlier.number} 行相同，但其他内容不同"))
    return unique


def _plan_new_person(ctx: Context, row: Row, addresses: dict[str, int], result: Plan) -> None:
    if "name" in result.refused:
        result.rejected.append(Rejected(row.number, "FORBIDDEN", f"新增人员：{result.refused['name']}"))
        return
    key = _household_key(row, result.kind)
    new_household = key[1] not in addresses
    if not new_household and result.kind == "household":
        result.rejected.append(Rejected(row.number, "ADDRESS_TAKEN", f"{label_of('address')}：系统中该地址已有一户，户主不是此人"))
        return
    if new_household and "address" in result.refused:
        result.rejected.append(Rejected(row.number, "FORBIDDEN", f"新增户：{result.refused['address']}"))
        return
    # A new row is a write like any other: the write path's checks and normalisation, not the ledger's alone.
    problems = _check_new(ctx, row, "Person", result.writable | {"id_number"}, exclude={"gender", "birth_date"})
    if new_household:
        problems += _check_new(ctx, row, "Household", result.writable | {"address"})
    if problems:
        result.rejected.append(Rejected.of(row.number, problems))
        return
    if new_household:
        result.new_households.setdefault(key, []).append(row)
    else:
        row.values["household_id"] = addresses[key[1]]
    result.new_people.append(row)


def _check_new(ctx: Context, row: Row, type_name: str, writable: set[str], exclude: set[str] = frozenset()) -> list[FieldProblem]:
    """The row's values of `type_name`'s fields through the write path's `check_changes`; kept on the row for the insert."""
    entity = WRITABLES[type_name]
    changes = {
        column_of(f): (spec.field, row.values[f])
        for f, spec in FIELDS.items()
        if spec.type_name == type_name and f in writable and f not in exclude and row.values.get(f) is not None
    }
    values, problems = check_changes(ctx, type_name, entity.table, changes, entity.validators)
    row.new_values[type_name] = values
    return problems


def _changes(row: Row, current: Any, fields: tuple[str, ...], writable: set[str]) -> dict[str, Any]:
    """column -> new value, for the fields the row carries, the importer may write, and that differ."""
    return {
        column_of(f): row.values[f]
        for f in fields
        if f in writable and f in row.values and as_text(row.values[f]) != as_text(getattr(current, column_of(f)))
        and not (row.values[f] is None and f == "address")  # a household keeps its address when the cell is blank
    }


def _plan_update(ctx: Context, row: Row, person: Any, home: Any | None, result: Plan) -> None:
    changes = _changes(row, person, UPDATABLE, result.writable)
    home_changes = _changes(row, home, HOUSEHOLD_UPDATABLE, result.writable) if home is not None else {}
    problems: list[FieldProblem] = []
    for type_name, wanted in (("Person", changes), ("Household", home_changes)):  # as every write is checked
        entity = WRITABLES[type_name]
        by_column = {column_of(f): FIELDS[f].field for f in FIELDS if FIELDS[f].type_name == type_name}
        checked, found = check_changes(ctx, type_name, entity.table, {c: (by_column[c], v) for c, v in wanted.items()}, entity.validators)
        wanted.update(checked)
        problems += found
    if problems:
        result.rejected.append(Rejected.of(row.number, problems))
        return
    if changes:
        result.updates.append((row, person, changes))
    if home_changes:
        result.household_updates.append((row, home, home_changes))
    if not changes and not home_changes:
        result.unchanged.append(row)


async def apply_import(ctx: Context, result: Plan, village: Any, progress: Callable[[int, int], None] | None = None) -> None:
    """Everything in one transaction: new households and people, then updates with their history."""
    total = len(result.new_people) + len(result.updates) + len(result.household_updates)
    done = 0
    now = dt.datetime.now(dt.UTC)
    async with ctx.engine.begin() as connection:
        household_ids: dict[tuple[str, str], int] = {}
        for key, members in result.new_households.items():
            values = {"village_id": village.id, "address": key[1] or f"{village.name}（地址待补）", "updated_at": now}
            for column in ("phone", "grid_name", "low_income"):
                given = [m.new_values["Household"][column] for m in members if m.new_values["Household"].get(column) is not None]
                if given:  # a person ledger repeats these on every member: any one says it
                    values[column] = any(given) if column == "low_income" else given[0]
            inserted = await connection.execute(households.insert().values(**values))
            household_ids[key] = inserted.inserted_primary_key[0]
        new_people = []
        for row in result.new_people:
            key = _household_key(row, result.kind)
            values = {**row.new_values["Person"], "gender": row.values["gender"], "birth_date": row.values["birth_date"]}
            new_people.append(
                {
                    **{c: None for c in ("phone", "health_status", "chronic_diseases", "employer", "recent_status")},
                    "ethnicity": "汉族",
                    "relation_to_head": "户主" if key[0] == row.values["name"] else "家庭成员",
                    **values,
                    "household_id": row.values.get("household_id") or household_ids[key],
                    "residence_status": ResidenceStatus.RESIDENT,
                    "health_status": values.get("health_status") or HealthStatus.HEALTHY,
                    "version": 1,
                    "updated_at": now,
                }
            )
        for start in range(0, len(new_people), 2000):
            await connection.execute(persons.insert(), new_people[start : start + 2000])
            done += len(new_people[start : start + 2000])
            if progress:
                progress(done, total)
        for type_name, table, updates in (("Person", persons, result.updates), ("Household", households, result.household_updates)):
            by_column = {column_of(f): FIELDS[f].field for f in FIELDS if FIELDS[f].type_name == type_name}
            for row, current, changes in updates:
                fields = {column: by_column[column] for column in changes}
                saved = await apply_change(connection, ctx, type_name, table, current, current.version, changes, fields, ChangeSource.IMPORT)
                if saved is None:  # edited in the hub since the plan was made: undo everything
                    raise ImportError_(f"第 {row.number} 行：导入期间有人在系统中修改了这条记录，整个导入已撤销，请重新导入", 409, "CONFLICT")
                done += 1
                if progress and done % 500 == 0:
                    progress(done, total)
    if progress:
        progress(total, total)
