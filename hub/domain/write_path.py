"""The one write path: permission, validation, optimistic version check — all or nothing.

Every mutation describes its changes as {column: value}; this applies them in
one transaction, or refuses them all with errors that name each field.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Select,
    Table,
    Update,
    bindparam,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.utils.str_converters import to_camel_case

from hub import clock
from hub.access.jurisdiction import Subtree
from hub.access.write_check import WriteRefused, check_write
from hub.data.identifiers import InvalidIdentifier, validate_mobile
from hub.data.models import ChangeSource
from hub.data.rows import record_class
from hub.domain import history
from hub.domain.context import Context


@dataclass
class FieldProblem:
    field: str
    code: str  # INVALID, FORBIDDEN, NOT_FOUND, CONFLICT
    message: str  # in Chinese, for the cadre; `code` is for programs
    current_version: int | None = None


def field_message(field: str, reason: str, label: str | None = None) -> str:
    """`phone（联系电话）：…`: the name the caller sent (as the API and programs know it), its Chinese label, the reason."""
    return f"{field}（{label}）：{reason}" if label else f"{field}：{reason}"


def column_label(table: Table, column: str) -> str | None:
    return table.c[column].info.get("label")


@dataclass
class WriteResult:
    record: Any | None
    problems: list[FieldProblem]


Validator = Callable[[Any], Any]  # returns the normalised value or raises ValueError with the reason


@dataclass(frozen=True)
class Writable:
    """What the write path needs to know of a type: its table, which rows are in a caller's reach, its field rules."""

    type_name: str
    table: Table
    in_scope: Callable[[Subtree], ColumnElement[bool]]
    validators: dict[str, Validator]


async def update_entity(
    ctx: Context, entity: Writable, record_id: int, version: int, changes: dict[str, tuple[str, Any]]
) -> WriteResult:
    result = await update_record(
        ctx,
        type_name=entity.type_name,
        table=entity.table,
        record_id=record_id,
        version=version,
        changes=changes,
        validators=entity.validators,
        in_scope=entity.in_scope,
    )
    if result.record is not None:  # later fields of this request read the new values
        ctx.saved(entity.table, result.record)
    return result


def not_in_future(day: dt.date) -> dt.date:
    today = clock.today()
    if day > today:
        raise ValueError(f"{day.isoformat()} 晚于今天（{today.isoformat()}），不能填将来的日期")
    return day


def mobile(value: str) -> str:
    try:
        return validate_mobile(value)
    except InvalidIdentifier as error:
        raise ValueError(str(error)) from None


def non_negative(value: float) -> float:
    if value < 0:
        raise ValueError(f"不能为负数，填写的是 {value}")
    return value


def normalise(column: Column, value: Any, validate: Validator | None) -> Any:
    """Trim text, treat blank as null, enforce NOT NULL and the column's length, then the field's own rule."""
    if isinstance(value, str):
        value = value.strip() or None
    if value is None:
        if not column.nullable:
            raise ValueError("不能为空")
        return None
    length = getattr(column.type, "length", None)
    if isinstance(value, str) and length and len(value) > length:
        raise ValueError(f"最多 {length} 个字，填写了 {len(value)} 个字")
    return validate(value) if validate is not None else value


def check_changes(
    ctx: Context, type_name: str, table: Table, changes: dict[str, tuple[str, Any]], validators: dict[str, Validator]
) -> tuple[dict[str, Any], list[FieldProblem]]:
    """Write check and normalisation of every change: (column -> value, problems)."""
    problems: list[FieldProblem] = []
    values: dict[str, Any] = {}
    for column, (field, value) in changes.items():
        try:
            check_write(ctx.policy, ctx.caller, type_name, field)
            values[column] = normalise(table.c[column], value, validators.get(column))
        except WriteRefused as refused:
            problems.append(FieldProblem(field, "FORBIDDEN", str(refused)))
        except ValueError as error:
            problems.append(FieldProblem(field, "INVALID", field_message(field, str(error), column_label(table, column))))
    return values, problems


async def apply_change(
    connection: AsyncConnection,
    ctx: Context,
    type_name: str,
    table: Table,
    before: Any,
    version: int,
    values: dict[str, Any],
    fields: dict[str, str],  # column -> GraphQL field name, for the history
    source: ChangeSource = ChangeSource.API,
    task: history.TaskFill | None = None,
) -> Any | None:
    """Update one record read earlier if it is still at `version`, with its history: the new row, or None if someone saved first."""
    values, fields = with_dates(table, values, fields)
    after = (await connection.execute(_update_statement(table, tuple(values)), _update_params(before.id, version, values))).one_or_none()
    if after is not None:
        await _record_history(connection, ctx, type_name, before.id, version, before._mapping, values, fields, source, task)
    return after


def with_dates(table: Table, values: dict[str, Any], fields: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Add the dates the hub keeps itself: a column declared `info["dates"] = other` takes today's
    date when `other` changes, unless the same write sets it. Every write passes here, whatever
    its path (mutation, fill sheet, import), so the rule holds everywhere and its history is kept."""
    stamped = [column for column, source in _dating_columns(table) if source in values and column not in values]
    if not stamped:
        return values, fields
    today = clock.today()
    return values | dict.fromkeys(stamped, today), fields | {column: to_camel_case(column) for column in stamped}


@functools.cache
def _dating_columns(table: Table) -> tuple[tuple[str, str], ...]:
    return tuple((column.name, column.info["dates"]) for column in table.c if "dates" in column.info)


async def _record_history(
    connection: AsyncConnection, ctx: Context, type_name: str, record_id: int, version: int,
    old: Mapping[str, Any], values: dict[str, Any], fields: dict[str, str], source: ChangeSource = ChangeSource.API,
    task: history.TaskFill | None = None,
) -> None:
    # The history goes in the same transaction: no change without its record, nor the reverse.
    old_new = {fields[column]: (old[column], value) for column, value in values.items()}
    await history.record(connection, ctx, type_name, record_id, version + 1, old_new, source, task)


def _update_params(record_id: int, version: int, values: dict[str, Any]) -> dict[str, Any]:
    return {f"new_{column}": value for column, value in values.items()} | {
        "record_id": record_id, "expected_version": version, "updated_at": dt.datetime.now(dt.UTC)
    }


def _new_values(table: Table, columns: tuple[str, ...]) -> dict[str, Any]:
    return {column: bindparam(f"new_{column}") for column in columns} | {
        "version": table.c.version + 1, "updated_at": bindparam("updated_at")
    }


@functools.lru_cache(maxsize=512)
def _update_statement(table: Table, columns: tuple[str, ...]) -> Update:
    # Built once per set of columns: building the statement cost as much as running it on SQLite.
    # RETURNING hands back the new row in the update's own round trip: no re-read.
    return (
        update(table)
        .where(table.c.id == bindparam("record_id"), table.c.version == bindparam("expected_version"))
        .values(_new_values(table, columns))
        .returning(*table.c)
    )


@functools.lru_cache(maxsize=512)
def _update_from_before_statement(
    table: Table, columns: tuple[str, ...], in_scope: Callable[[Subtree], ColumnElement[bool]], scope: Subtree | None
) -> Update:
    """PostgreSQL: UPDATE … FROM the row as it was, RETURNING the new row and the old values the history needs.

    One statement instead of a read and an update. The old values come from the
    statement's snapshot; if another writer commits first, the version check
    fails and nothing is returned, so they are never stale.
    """
    before = select(table.c.id, *(table.c[c] for c in columns)).where(table.c.id == bindparam("record_id")).subquery("before")
    where = [table.c.id == before.c.id, table.c.version == bindparam("expected_version"), *_in_reach(in_scope, scope)]
    return update(table).where(*where).values(_new_values(table, columns)).returning(*table.c, *(before.c[c] for c in columns))


@functools.lru_cache(maxsize=512)
def _before_statement(
    table: Table, columns: tuple[str, ...], in_scope: Callable[[Subtree], ColumnElement[bool]], scope: Subtree | None
) -> Select:
    """The columns about to change, as they are: for the history (SQLite cannot return old values from an UPDATE)."""
    return select(table.c.id, *(table.c[c] for c in columns)).where(table.c.id == bindparam("record_id"), *_in_reach(in_scope, scope))


@functools.lru_cache(maxsize=512)
def _version_statement(table: Table, in_scope: Callable[[Subtree], ColumnElement[bool]], scope: Subtree | None) -> Select:
    return select(table.c.version).where(table.c.id == bindparam("record_id"), *_in_reach(in_scope, scope))


def _in_reach(in_scope: Callable[[Subtree], ColumnElement[bool]], scope: Subtree | None) -> list[ColumnElement[bool]]:
    return [] if scope is None else [in_scope(scope)]


def conflict(type_name: str, record_id: int, current: int, version: int) -> FieldProblem:
    message = field_message(
        "version", f"{type_name} {record_id} 已被他人修改，现在是第 {current} 版，不是第 {version} 版；请重新读取后再改一次"
    )
    return FieldProblem("version", "CONFLICT", message, current)


def not_found(field: str, type_name: str, record_id: Any) -> FieldProblem:
    # Out of the caller's jurisdiction reads the same as missing: existence does not leak.
    return FieldProblem(field, "NOT_FOUND", field_message(field, f"找不到 id 为 {record_id} 的 {type_name}"))


async def update_record(
    ctx: Context,
    *,
    type_name: str,
    table: Table,
    record_id: int,
    version: int,
    changes: dict[str, tuple[str, Any]],  # column -> (GraphQL field name, value)
    validators: dict[str, Validator],
    in_scope: Callable[[Subtree], ColumnElement[bool]],
) -> WriteResult:
    values, problems = check_changes(ctx, type_name, table, changes, validators)
    if not changes:
        problems.append(FieldProblem("input", "INVALID", field_message("input", "请至少填写一个要修改的字段")))
    if problems:
        return WriteResult(None, problems)

    values, fields = with_dates(table, values, {column: field for column, (field, _) in changes.items()})
    async with ctx.engine.begin() as connection:
        updated = await _update_returning_old(connection, ctx, table, in_scope, record_id, version, values)
        if updated is None:  # out of the caller's jurisdiction looks the same as missing: existence does not leak
            current = (await connection.execute(_version_statement(table, in_scope, ctx.scope), {"record_id": record_id})).scalar_one_or_none()
            if current is None:
                return WriteResult(None, [not_found("id", type_name, record_id)])
            return WriteResult(None, [conflict(type_name, record_id, current, version)])
        row, old = updated
        await _record_history(connection, ctx, type_name, record_id, version, old, values, fields)
    return WriteResult(record_class(table)(*row), [])


async def _update_returning_old(
    connection: AsyncConnection, ctx: Context, table: Table, in_scope: Callable[[Subtree], ColumnElement[bool]],
    record_id: int, version: int, values: dict[str, Any],
) -> tuple[Sequence[Any], Mapping[str, Any]] | None:
    """The new row and the changed columns' old values; None if the record is missing, out of reach or not at `version`."""
    columns = tuple(values)
    params = _update_params(record_id, version, values)
    if ctx.dialect == "postgresql":
        row = (await connection.execute(_update_from_before_statement(table, columns, in_scope, ctx.scope), params)).one_or_none()
        if row is None:
            return None
        width = len(table.c)
        return row[:width], dict(zip(columns, row[width:], strict=True))
    before = (await connection.execute(_before_statement(table, columns, in_scope, ctx.scope), {"record_id": record_id})).one_or_none()
    if before is None:
        return None
    row = (await connection.execute(_update_statement(table, columns), params)).one_or_none()
    return None if row is None else (row, before._mapping)


async def create_record(
    ctx: Context,
    entity: Writable,
    parent: tuple[str, Any],  # (column, id) tying the record to what contains it, already checked in scope
    changes: dict[str, tuple[str, Any]],
    derived: dict[str, Any] | None = None,  # values the hub works out itself (e.g. from an ID number)
    unique: tuple[str, str] | None = None,  # (column, GraphQL field) that must not exist yet anywhere
) -> WriteResult:
    """Insert a record through the same checks as an update; its fields' history starts from nothing."""
    values, problems = check_changes(ctx, entity.type_name, entity.table, changes, entity.validators)
    # A field given but refused is reported once, for its reason; "required" is for fields not given.
    missing = [c for c in entity.table.c if not c.nullable and c.default is None and c.server_default is None
               and not c.primary_key and c.name not in changes and c.name not in (derived or {}) and c.name != parent[0]]
    problems += [FieldProblem(to_camel_case(c.name), "INVALID", field_message(to_camel_case(c.name), "必填", c.info.get("label"))) for c in missing]
    if problems:
        return WriteResult(None, problems)
    table = entity.table
    values, fields = with_dates(table, values, {column: field for column, (field, _) in changes.items()})
    async with ctx.engine.begin() as connection:
        if unique is not None:
            column, field = unique
            taken = (await connection.execute(select(table.c.id).where(table.c[column] == values[column]))).first()
            if taken is not None:  # anywhere in the city; where is not said, it may be outside the caller's view
                return WriteResult(None, [FieldProblem(field, "CONFLICT", field_message(field, "已在系统中登记", column_label(table, column)))])
        row_values = {**values, **(derived or {}), parent[0]: parent[1], "version": 1, "updated_at": dt.datetime.now(dt.UTC)}
        row = (await connection.execute(table.insert().values(**row_values).returning(*table.c))).one()  # no re-read
        old_new = {field: (None, row_values[column]) for column, field in fields.items()}
        await history.record(connection, ctx, entity.type_name, row.id, 1, old_new)
    record = record_class(table)(*row)
    ctx.saved(table, record)
    return WriteResult(record, [])
