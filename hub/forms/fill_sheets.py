"""Fill sheets (填报表): a template's form with the base columns pre-filled and locked.

Only the template's `fill: true` columns are open. A hidden key column names,
per row, the records those columns belong to and the version each was at, and
the row's own record, so the filled sheet can come back: `POST /fill-sheets`
first makes the download's check, then looks each row up through the caller's
view (rows out of reach are not found; locked cells must still show what the
hub shows), checks every open cell (the same write check and normalisation as
any mutation), reports rows edited in the hub since the sheet was made as conflicts, and applies all changes in one
transaction — or none. Cells equal to the hub's values change nothing, so the
same sheet uploaded twice writes once.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field, replace
from decimal import Decimal
from inspect import isawaitable
from typing import Any, Protocol

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLSchema,
    NameNode,
    SelectionSetNode,
    execute,
    get_named_type,
    parse,
    print_ast,
    validate,
)
from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from sqlalchemy import select
from strawberry.utils.str_converters import to_snake_case

from hub import clock
from hub.access.policy import Mode
from hub.data.models import ChangeSource
from hub.data.rows import key_in
from hub.domain.context import Context
from hub.domain.history import as_text
from hub.domain.write_path import Writable, apply_change, check_changes
from hub.forms.templates import Column, Template
from hub.forms.untrusted_xlsx import first_sheet_rows
from hub.forms.xlsx import KEY_HEADER, cell_text, shown_value


class CallerView(Protocol):
    """The caller's view of the schema (`schema.build.CallerView`): its GraphQL schema, and the projection that
    says which fields it reads masked (None: the whole schema, nothing masked)."""

    _schema: GraphQLSchema
    projection: Any


class FillSheetError(Exception):
    def __init__(self, status: int, message: str, code: str = "INVALID") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


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
    row_type: str  # the type of the template's rows: the key names each row's record too
    document: DocumentNode  # the template's query, also selecting each row's id, each owner's id and version

    @property
    def query(self) -> str:
        return print_ast(self.document)


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
            raise FillSheetError(
                400, f"表样 {template.id} 的填报列「{'/'.join(column.headers)}」属于 {owner_type.name}，数据中心不能写入", "INVALID"
            )
        columns.append(FillColumn(index, column, column.path[:-1], owner_type.name, column.path[-1], to_snake_case(column.path[-1])))
    if not columns:
        raise FillSheetError(400, f"表样 {template.id} 没有可填报的列", "INVALID")
    owners = list(dict.fromkeys((c.owner, c.type_name) for c in columns))
    return FillPlan(template, columns, owners, node_type.name, _with_keys(template, [o for o, _ in owners]))


def check_readable(fill_plan: FillPlan, schema: CallerView, who: str) -> None:
    """Every open column must be read in full: a masked value shown in the sheet could be neither
    compared with the hub's nor written back."""
    projection = schema.projection
    for fill in fill_plan.columns:
        if projection is not None and projection.visibility.get(fill.type_name, {}).get(fill.field) is not Mode.READ:
            raise FillSheetError(
                403, f"{who}只能脱敏读取 {fill.type_name}.{fill.field}，不能用填报表 {fill_plan.template.id} 填写这一列", "FORBIDDEN"
            )


def _root_field(template: Template) -> FieldNode:
    return _root_field_of(template.document, template.rows)


def _root_field_of(document: DocumentNode, rows: str) -> FieldNode:
    operation = document.definitions[0]
    return next(s for s in operation.selection_set.selections if isinstance(s, FieldNode) and (s.alias or s.name).value == rows)


def _with_keys(template: Template, owners: list[tuple[str, ...]]):
    """The template's document, also selecting `id` and `version` of every owner record."""
    operation = template.document.definitions[0]
    selection_set = _add_fields(operation.selection_set, (template.rows, "nodes"), ("id",))
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
    """`Person:123:7|Household:55`: each owner's type, id and version, then the row's record, for the upload to find them."""
    parts = []
    for owner, type_name in fill_plan.owners:
        record = node
        for name in owner:
            record = record.get(name) if isinstance(record, dict) else None
        if record is None:
            return None  # e.g. a household without a head: nothing to fill on this row
        parts.append(f"{type_name}:{record['id']}:{record['version']}")
    parts.append(f"{fill_plan.row_type}:{node['id']}")
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
            "problems": sorted(self.problems, key=lambda p: p["row"]),  # in sheet order, whichever check found them
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
        raise ValueError(f"应填写{'、'.join(column.labels.values())}之一，表中为“{raw}”")
    if column.kind == "boolean":
        if raw in ("是", True):
            return True
        if raw in ("否", False):
            return False
        raise ValueError(f"应填写“是”或“否”，表中为“{raw}”")
    if column.kind == "date":
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        try:
            return dt.date.fromisoformat(str(raw))
        except ValueError:
            raise ValueError(f"应填写日期，如 2026-11-28，表中为“{raw}”") from None
    if column.kind == "number":
        if isinstance(raw, (int, float)):
            return raw
        raise ValueError(f"应填写数字，表中为“{raw}”")
    return raw if isinstance(raw, str) else str(raw)  # text: a formula stays its text


# What the report says, in the cadre's words; the code beside each is for programs.
KEY_CHANGED = "第{row}行：隐藏的键列被改动，请重新下载填报表"
NOT_IN_REACH = "第{row}行：在您的管辖范围内找不到这一行的记录，请重新下载填报表"
LOCKED = "第{row}行「{column}」列是锁定列，不能在填报表中修改；请改回原值，只填写黄色的填报列"
CHANGED_IN_HUB = "第{row}行：这条记录在填报表导出后已在数据中心被修改，请重新下载填报表后再填写"
SAVED_MEANWHILE = "上传过程中有记录被他人修改，本次填报未写入任何内容，请重新下载填报表后再填写"
CELL = "第{row}行「{column}」：{error}"
DUPLICATE = "第{row}行与第{other}行是同一条记录，填写的内容不一致，请只保留一行"


async def apply_upload(
    ctx: Context, schema: CallerView, fill_plan: FillPlan, rows: list[tuple[int, str, list[Any]]], writables: dict[str, Writable]
) -> Report:
    """Check a filled sheet against the hub as the caller sees it, then apply every change or none.

    The caller must already have passed the download's check (`check_readable` and the template's):
    each row is then looked up through the caller's own view, so no answer depends on what they cannot read.
    """
    template = fill_plan.template
    report = Report(template.id, rows=len(rows))

    def problem(row: int, column: Column | None, field_name: str | None, code: str, message: str) -> None:
        report.problems.append(
            {"row": row, "column": "/".join(column.headers) if column else None, "field": field_name, "code": code, "message": message}
        )

    # 1. What each row asks: its record, the owner records and their new values.
    asked: list[tuple[int, int, dict[str, tuple[int, int]], list[Any]]] = []
    for number, key, values in rows:
        try:
            *owner_parts, row_part = key.split("|")
            owners = {type_name: (int(record_id), int(version)) for type_name, record_id, version in (p.split(":") for p in owner_parts)}
            row_type, row_id = row_part.split(":")
            if row_type != fill_plan.row_type or set(owners) != {t for _, t in fill_plan.owners}:
                raise ValueError
            asked.append((number, int(row_id), owners, values))
        except ValueError:
            problem(number, None, "key", "INVALID", KEY_CHANGED.format(row=number))

    # 2. Each row as the template shows it to the caller now: missing if out of reach, its locked cells as they must stay.
    nodes = await _rows_as_seen(ctx, schema, fill_plan, sorted({row_id for _, row_id, _, _ in asked}))
    today = clock.today()
    wanted: list[tuple[int, dict[str, tuple[int, int]], dict[tuple[str, int], dict[str, tuple[Any, FillColumn]]]]] = []
    for number, row_id, owners, values in asked:
        node = nodes.get(row_id)
        if node is None or any(
            _record_at(node, owner) is None or int(_record_at(node, owner)["id"]) != owners[type_name][0]
            for owner, type_name in fill_plan.owners
        ):
            problem(number, None, "key", "NOT_FOUND", NOT_IN_REACH.format(row=number))
            continue
        open_columns = {fill.index for fill in fill_plan.columns}
        for index, column in enumerate(template.columns):
            if column.fill or index in open_columns or column.value == "row_number":
                continue
            shown = shown_value(column, node, today) if column.path is not None else None
            if not same_cell(shown, values[index] if index < len(values) else None):
                header = "/".join(column.headers)
                problem(number, column, column.path[-1] if column.path else None, "LOCKED_CELL", LOCKED.format(row=number, column=header))
        changes: dict[tuple[str, int], dict[str, tuple[Any, FillColumn]]] = {}
        for fill in fill_plan.columns:
            raw = values[fill.index] if fill.index < len(values) else None
            try:
                value = _cell_value(fill.column, raw)
            except ValueError as error:
                problem(number, fill.column, fill.field, "INVALID", CELL.format(row=number, column="/".join(fill.column.headers), error=error))
                continue
            record_id, _ = owners[fill.type_name]
            changes.setdefault((fill.type_name, record_id), {})[fill.attribute] = (value, fill)
        wanted.append((number, owners, changes))

    # 3. The records as they are now, within the caller's jurisdiction.
    current: dict[tuple[str, int], Any] = {}
    for type_name in {t for _, t in fill_plan.owners}:
        entity = writables[type_name]
        ids = [owners[type_name][0] for _, owners, _ in wanted]
        stmt = select(entity.table).where(key_in(entity.table.c.id, ids, ctx.dialect))
        if ctx.scope is not None:
            stmt = stmt.where(entity.in_scope(ctx.scope))
        async with ctx.engine.connect() as connection:
            for row in (await connection.execute(stmt)).all():
                current[type_name, row.id] = row

    # 4. Only real changes count; each is checked like any write, and must start from the sheet's version.
    # Rows naming the same record must agree: the value is then written once.
    first_seen: dict[tuple[str, int, str], tuple[int, Any]] = {}
    planned: dict[tuple[str, int], tuple[int, Writable, Any, int, dict[str, Any], dict[str, str]]] = {}
    for number, owners, changes in wanted:
        row_changed = False
        for (type_name, record_id), cells in changes.items():
            before = current.get((type_name, record_id))
            if before is None:
                problem(number, None, "key", "NOT_FOUND", NOT_IN_REACH.format(row=number))
                continue
            diff = {}
            for attr, (value, fill) in cells.items():
                seen = first_seen.setdefault((type_name, record_id, attr), (number, value))
                if as_text(seen[1]) != as_text(value):
                    problem(number, fill.column, fill.field, "DUPLICATE_RECORD", DUPLICATE.format(row=number, other=seen[0]))
                elif seen[0] == number and as_text(value) != as_text(getattr(before, attr)):
                    diff[attr] = (value, fill)
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
                problem(number, first.column, first.field, "CONFLICT", CHANGED_IN_HUB.format(row=number))
            if not problems:
                report.changed_cells += len(values)
                planned[type_name, record_id] = (
                    number, entity, before, sheet_version, values, {a: f.field for a, (_, f) in diff.items()}
                )
        if not row_changed:
            report.unchanged_rows += 1
    if report.problems or not planned:
        report.changed_cells = 0  # the count is of cells written: with any problem, none is
        return report

    # 5. All or nothing: a record saved by someone else meanwhile undoes the whole upload.
    try:
        async with ctx.engine.begin() as connection:
            for number, entity, before, version, values, fields in planned.values():
                saved = await apply_change(
                    connection, ctx, entity.type_name, entity.table, before, version, values, fields, ChangeSource.FILL_SHEET
                )
                if saved is None:
                    raise _SavedMeanwhile(number)
    except _SavedMeanwhile as race:
        problem(race.row, None, "version", "CONFLICT", CHANGED_IN_HUB.format(row=race.row))
        report.changed_cells = 0
        return report
    report.applied = True
    return report


def _record_at(node: dict, path: tuple[str, ...]) -> dict | None:
    record = node
    for name in path:
        record = record.get(name) if isinstance(record, dict) else None
    return record


async def _rows_as_seen(ctx: Context, schema: CallerView, fill_plan: FillPlan, row_ids: list[int]) -> dict[int, dict]:
    """The template's rows with these ids, through the caller's view: the template's selection of a row,
    asked of the root lookup by id (`household(id:)`); a row out of the caller's reach is missing."""
    if not row_ids:
        return {}
    lookup = next(
        name for name, f in schema._schema.query_type.fields.items() if get_named_type(f.type).name == fill_plan.row_type and "id" in f.args
    )
    nodes = _root_field_of(fill_plan.document, fill_plan.template.rows)
    selection = next(s for s in nodes.selection_set.selections if isinstance(s, FieldNode) and s.name.value == "nodes").selection_set
    # One operation however many rows: built here and run directly, it is not a client's query for the alias limit.
    body = " ".join(f"r{row_id}: {lookup}(id: {orjson.dumps(str(row_id)).decode()}) {print_ast(selection)}" for row_id in row_ids)
    document = parse(f"query {{ {body} }}")
    errors = validate(schema._schema, document)
    if errors:
        raise FillSheetError(400, f"填报表 {fill_plan.template.id} 的行无法按编号核对：{errors[0].message}")
    result = execute(schema._schema, document, context_value=ctx)
    if isawaitable(result):
        result = await result
    if result.errors:
        raise result.errors[0].original_error or result.errors[0]
    return {row_id: node for row_id in row_ids if (node := result.data[f"r{row_id}"]) is not None}


def same_cell(shown: Any, raw: Any) -> bool:
    """Whether a cell read back holds what the download wrote (see `hub.exports.cell_xml`)."""
    def written(value: Any) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, bool) or isinstance(value, dt.date):
            return value
        if isinstance(value, (int, float, Decimal)):
            return float(f"{value:.16g}")
        return cell_text(str(value))

    return written(shown) == written(raw)


class _SavedMeanwhile(Exception):
    def __init__(self, row: int) -> None:
        super().__init__(row)
        self.row = row


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
