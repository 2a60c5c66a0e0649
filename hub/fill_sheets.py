"""Fill sheets (填报表): a template's form with the base columns pre-filled and locked.

Only the template's `fill: true` columns are open. A hidden key column names,
per row, the records those columns belong to and the version each was at, so
the filled sheet can come back: `POST /fill-sheets` checks every cell (the
same write check and normalisation as any mutation), reports rows edited in
the hub since the sheet was made as conflicts, and applies all changes in one
transaction — or none. Cells equal to the hub's values change nothing, so the
same sheet uploaded twice writes once.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field, replace
from typing import Any

from graphql import (
    FieldNode,
    GraphQLSchema,
    NameNode,
    SelectionSetNode,
    get_named_type,
    print_ast,
)
from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from sqlalchemy import select
from strawberry.utils.str_converters import to_snake_case

from hub.exports import KEY_HEADER
from hub.models import ChangeSource
from hub.templates import Column, Template
from hub.untrusted_xlsx import first_sheet_rows
from resolvers.context import Context
from resolvers.dataloaders import key_in
from resolvers.history import as_text
from resolvers.writes import Writable, apply_change, check_changes, conflict


class FillSheetError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class FillColumn:
    index: int  # position among the template's columns
    column: Column
    owner: tuple[str, ...]  # path from the row to the record the value belongs to
    type_name: str
    field: str  # GraphQL name
    attribute: str  # table column


@dataclass
class FillPlan:
    template: Template
    columns: list[FillColumn]
    owners: list[tuple[tuple[str, ...], str]]  # (owner path, type) in key order
    query: str  # the template's query, also selecting each owner's id and version


def plan(template: Template, schema: GraphQLSchema, writables: dict[str, Writable]) -> FillPlan:
    node_type = get_named_type(get_named_type(schema.query_type.fields[_root_field(template).name.value].type).fields["nodes"].type)
    columns = []
    for index, column in enumerate(template.columns):
        if not column.fill or column.path is None:
            continue
        owner_type = node_type
        for name in column.path[:-1]:
            owner_type = get_named_type(owner_type.fields[name].type)
        if owner_type.name not in writables:
            raise FillSheetError(400, f"template {template.id}: column {'/'.join(column.headers)} belongs to {owner_type.name}, which cannot be written")
        columns.append(FillColumn(index, column, column.path[:-1], owner_type.name, column.path[-1], to_snake_case(column.path[-1])))
    if not columns:
        raise FillSheetError(400, f"template {template.id} has no column to fill in")
    owners = list(dict.fromkeys((c.owner, c.type_name) for c in columns))
    return FillPlan(template, columns, owners, print_ast(_with_keys(template, [o for o, _ in owners])))


def _root_field(template: Template) -> FieldNode:
    operation = template.document.definitions[0]
    return next(s for s in operation.selection_set.selections if isinstance(s, FieldNode) and (s.alias or s.name).value == template.rows)


def _with_keys(template: Template, owners: list[tuple[str, ...]]):
    """The template's document, also selecting `id` and `version` of every owner record."""
    operation = template.document.definitions[0]
    selection_set = operation.selection_set
    for owner in owners:
        selection_set = _add_fields(selection_set, (template.rows, "nodes", *owner), ("id", "version"))
    return replace(template.document, definitions=(replace(operation, selection_set=selection_set), *template.document.definitions[1:]))


def _add_fields(selection_set: SelectionSetNode, path: tuple[str, ...], names: tuple[str, ...]) -> SelectionSetNode:
    """A copy of the (immutable) selection set with `names` selected at `path`."""
    if not path:
        present = {s.name.value for s in selection_set.selections if isinstance(s, FieldNode)}
        extra = tuple(FieldNode(name=NameNode(value=n), arguments=(), directives=()) for n in names if n not in present)
        return replace(selection_set, selections=(*selection_set.selections, *extra))
    selections = tuple(
        replace(s, selection_set=_add_fields(s.selection_set, path[1:], names))
        if isinstance(s, FieldNode) and (s.alias or s.name).value == path[0]
        else s
        for s in selection_set.selections
    )
    return replace(selection_set, selections=selections)


def key_of(fill_plan: FillPlan, node: dict) -> str | None:
    """`Person:123:7|Household:55:3`: each owner's type, id and version, for the upload to find them."""
    parts = []
    for owner, type_name in fill_plan.owners:
        record = node
        for name in owner:
            record = record.get(name) if isinstance(record, dict) else None
        if record is None:
            return None  # e.g. a household without a head: nothing to fill on this row
        parts.append(f"{type_name}:{record['id']}:{record['version']}")
    return "|".join(parts)


# --- upload ----------------------------------------------------------------------------------


@dataclass
class Report:
    template: str
    rows: int = 0
    changed_cells: int = 0
    unchanged_rows: int = 0
    applied: bool = False
    problems: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "rows": self.rows,
            "changedCells": self.changed_cells,
            "unchangedRows": self.unchanged_rows,
            "applied": self.applied,
            "problems": self.problems,
        }


def read_sheet(data: bytes) -> tuple[str, list[tuple[int, str, list[Any]]]]:
    """(template id, [(row number, key, cell values)]) from an uploaded fill sheet.

    Read through `untrusted_xlsx` (bounded, hardened XML): it raises `SheetRefused`.
    """
    template_id, key_column, rows = None, None, []
    for number, values in enumerate(first_sheet_rows(data, data_only=False), 1):
        if key_column is None:
            for index, value in enumerate(values):
                if isinstance(value, str) and value.startswith(KEY_HEADER):
                    template_id, key_column = value[len(KEY_HEADER):], index
            continue
        key = values[key_column] if key_column < len(values) else None
        if isinstance(key, str) and key:
            rows.append((number, key, list(values[:key_column])))
    if template_id is None:
        raise FillSheetError(400, "表中没有隐藏的关键列：请上传从 /fill-sheets/{模板}.xlsx 下载并填好的填报表")
    return template_id, rows


def _cell_value(column: Column, raw: Any) -> Any:
    """What a cadre typed, in the hub's terms: labels back to enum names, 是/否 to booleans, dates."""
    if isinstance(raw, str):
        raw = raw.strip()
        if raw == "":
            return None
    if raw is None:
        return None
    if column.kind == "enum":
        by_label = {label: name for name, label in column.labels.items()}
        if raw in by_label:
            return by_label[raw]
        if raw in column.labels:
            return raw
        raise ValueError(f"must be one of {'、'.join(column.labels.values())}, got {raw!r}")
    if column.kind == "boolean":
        if raw in ("是", True):
            return True
        if raw in ("否", False):
            return False
        raise ValueError(f"must be 是 or 否, got {raw!r}")
    if column.kind == "date":
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        try:
            return dt.date.fromisoformat(str(raw))
        except ValueError:
            raise ValueError(f"must be a date like 2026-11-28, got {raw!r}") from None
    if column.kind == "number":
        if isinstance(raw, (int, float)):
            return raw
        raise ValueError(f"must be a number, got {raw!r}")
    return raw if isinstance(raw, str) else str(raw)  # text: a formula stays its text


async def apply_upload(ctx: Context, fill_plan: FillPlan, rows: list[tuple[int, str, list[Any]]], writables: dict[str, Writable]) -> Report:
    template = fill_plan.template
    report = Report(template.id, rows=len(rows))

    def problem(row: int, column: Column | None, field_name: str, code: str, message: str) -> None:
        report.problems.append(
            {"row": row, "column": "/".join(column.headers) if column else None, "field": field_name, "code": code, "message": message}
        )

    # 1. What each row asks: owner records and their new values.
    wanted: list[tuple[int, dict[str, tuple[int, int]], dict[tuple[str, int], dict[str, tuple[Any, FillColumn]]]]] = []
    for number, key, values in rows:
        try:
            owners = {type_name: (int(record_id), int(version)) for type_name, record_id, version in (p.split(":") for p in key.split("|"))}
            if {t for _, t in fill_plan.owners} - set(owners):
                raise ValueError
        except ValueError:
            problem(number, None, "key", "INVALID", "the hidden key column was changed; download a new fill sheet")
            continue
        changes: dict[tuple[str, int], dict[str, tuple[Any, FillColumn]]] = {}
        for fill in fill_plan.columns:
            raw = values[fill.index] if fill.index < len(values) else None
            try:
                value = _cell_value(fill.column, raw)
            except ValueError as error:
                problem(number, fill.column, fill.field, "INVALID", f"{fill.field}: {error}")
                continue
            record_id, _ = owners[fill.type_name]
            changes.setdefault((fill.type_name, record_id), {})[fill.attribute] = (value, fill)
        wanted.append((number, owners, changes))

    # 2. The records as they are now, within the caller's jurisdiction.
    current: dict[tuple[str, int], Any] = {}
    for type_name in {t for _, t in fill_plan.owners}:
        entity = writables[type_name]
        ids = [owners[type_name][0] for _, owners, _ in wanted if type_name in owners]
        stmt = select(entity.table).where(key_in(entity.table.c.id, ids, ctx.dialect))
        if ctx.scope is not None:
            stmt = stmt.where(entity.in_scope(ctx.scope))
        async with ctx.engine.connect() as connection:
            for row in (await connection.execute(stmt)).all():
                current[type_name, row.id] = row

    # 3. Only real changes count; each is checked like any write, and must start from the sheet's version.
    planned = []
    for number, owners, changes in wanted:
        row_changed = False
        for (type_name, record_id), cells in changes.items():
            before = current.get((type_name, record_id))
            if before is None:
                problem(number, None, "key", "NOT_FOUND", f"row {number}: no {type_name} {record_id} within your jurisdiction")
                continue
            diff = {attr: (value, fill) for attr, (value, fill) in cells.items() if as_text(value) != as_text(getattr(before, attr))}
            if not diff:
                continue
            row_changed = True
            entity = writables[type_name]
            values, problems = check_changes(ctx, type_name, entity.table, {a: (f.field, v) for a, (v, f) in diff.items()}, entity.validators)
            for p in problems:
                fill = next(f for _, f in diff.values() if f.field == p.field)
                problem(number, fill.column, p.field, p.code, p.message)
            sheet_version = owners[type_name][1]
            if before.version != sheet_version:
                first = next(iter(diff.values()))[1]
                problem(
                    number, first.column, first.field, "CONFLICT",
                    f"row {number}: this {type_name} was changed in the hub after the sheet was made "
                    f"(now version {before.version}, the sheet has {sheet_version}); download a new fill sheet",
                )
            if not problems:
                report.changed_cells += len(values)
                planned.append((entity, before, sheet_version, values, {a: f.field for a, (_, f) in diff.items()}))
        if not row_changed:
            report.unchanged_rows += 1
    if report.problems or not planned:
        report.changed_cells = 0  # the count is of cells written: with any problem, none is
        return report

    # 4. All or nothing: a record saved by someone else meanwhile undoes the whole upload.
    try:
        async with ctx.engine.begin() as connection:
            for entity, before, version, values, fields in planned:
                saved = await apply_change(
                    connection, ctx, entity.type_name, entity.table, before, version, values, fields, ChangeSource.FILL_SHEET
                )
                if saved is None:
                    raise _SavedMeanwhile(entity.type_name, before.id, version)
    except _SavedMeanwhile as race:
        c = conflict(race.type_name, race.record_id, race.version + 1, race.version)
        problem(0, None, c.field, c.code, c.message)
        report.changed_cells = 0
        return report
    report.applied = True
    return report


class _SavedMeanwhile(Exception):
    def __init__(self, type_name: str, record_id: int, version: int) -> None:
        super().__init__(type_name)
        self.type_name, self.record_id, self.version = type_name, record_id, version


BAD_CELL = PatternFill("solid", fgColor="FFC7CE")


def mark_problems(data: bytes, template: Template, report: Report) -> bytes:
    """The uploaded sheet back, each refused cell filled red with the reason as a comment."""
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[0]
    sheet.protection.sheet = False  # so the cadre can correct the marked cells in place
    columns = {"/".join(c.headers): index for index, c in enumerate(template.columns, 1)}
    for problem in report.problems:
        if not problem["row"]:
            continue
        cell = sheet.cell(row=problem["row"], column=columns.get(problem["column"], 1))
        cell.fill = BAD_CELL
        cell.comment = Comment(problem["message"], "一张表")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
