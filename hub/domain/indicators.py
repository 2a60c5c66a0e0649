"""The indicator library (指标库): definitions, who reads them, and their values through one strict write.

A definition is data (the `indicators` table), and so are its grants: the owner
department reads it, other departments read it when the definition grants them
(`indicator_grants`, read or masked), grassroots roles read every indicator of
the records in their jurisdiction. Values are written with the same optimistic
version check and change history as columns (`write_path.apply_change`,
`history.record`): entity `IndicatorValue`, field = the indicator's key.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.access.masking import as_logged, mask_id_number
from hub.access.policy import INDICATOR_VALUES, Mode, ReadScope
from hub.data.models import (
    ChangeSource,
    Enterprise,
    FloodPoint,
    Household,
    Indicator,
    IndicatorEntity,
    IndicatorGrant,
    IndicatorType,
    IndicatorValue,
    Periodicity,
    Person,
    Region,
    RegionLevel,
    Role,
)
from hub.data.rows import record_class
from hub.domain import history
from hub.domain.context import Context
from hub.domain.write_path import (
    FieldProblem,
    apply_change,
    conflict,
    field_message,
    not_found,
)

indicators = Indicator.__table__
grants = IndicatorGrant.__table__
values = IndicatorValue.__table__
regions = Region.__table__
households = Household.__table__
persons = Person.__table__

KEY = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
PERIOD_FORMS = {
    Periodicity.MONTH: (re.compile(r"^\d{4}-(0[1-9]|1[0-2])$"), "2026-11"),
    Periodicity.QUARTER: (re.compile(r"^\d{4}-Q[1-4]$"), "2026-Q4"),
    Periodicity.YEAR: (re.compile(r"^\d{4}$"), "2026"),
}
TRUE, FALSE = ("true", "是", "有"), ("false", "否", "无")
LABELS = {c.name: c.info["label"] for c in indicators.c if "label" in c.info}


@dataclass(frozen=True)
class Library:
    """Every indicator by key, with its grants: read once per unit of work (the library is small)."""

    by_key: dict[str, Any]
    grants: dict[int, dict[str, str]]  # indicator id -> department -> mode

    def read_mode(self, ctx: Context, indicator: Any) -> Mode | None:
        caller = ctx.caller
        if ctx.policy.roles[caller.role].read is not ReadScope.DEPARTMENT:
            return Mode.READ  # grassroots roles and the admin read the base data of their jurisdiction
        if caller.department == indicator.owner_department:
            return Mode.READ
        mode = self.grants.get(indicator.id, {}).get(caller.department or "")
        return None if mode is None else Mode(mode)

    def readable(self, ctx: Context, key: str) -> tuple[Any, Mode] | None:
        """The indicator and how the caller reads it; None alike for unknown and not granted (no oracle)."""
        indicator = self.by_key.get(key)
        mode = None if indicator is None else self.read_mode(ctx, indicator)
        return None if mode is None else (indicator, mode)


class _LibrarySpec:
    """The whole library as one loader key: read once per unit of work, however many records ask."""

    def __hash__(self) -> int:
        return hash(_LibrarySpec)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _LibrarySpec)

    async def batch(self, ctx: Context, keys: Sequence[str]) -> list[Library]:
        async with ctx.engine.connect() as connection:
            rows = (await connection.execute(select(indicators))).all()
            granted = (await connection.execute(select(grants.c.indicator_id, grants.c.department, grants.c.mode))).all()
        by_id: dict[int, dict[str, str]] = {}
        for indicator_id, department, mode in granted:
            by_id.setdefault(indicator_id, {})[department] = mode
        make = record_class(indicators)
        return [Library({r.key: make(*r) for r in rows}, by_id)] * len(keys)


LIBRARY = _LibrarySpec()


async def library(ctx: Context) -> Library:
    return await ctx.load(LIBRARY, "all")


def note_read(ctx: Context, indicator: Any, mode: Mode) -> None:
    """A sensitive indicator read goes in the access log beside the sensitive fields (`Indicator.<key>`)."""
    if indicator.sensitive:
        logged = as_logged(f"Indicator.{indicator.key}", mode is Mode.MASKED)
        fields = ctx.audit.setdefault("sensitive_fields", [])
        if logged not in fields:
            fields.append(logged)


def not_readable(field_name: str, key: str) -> str:
    return field_message(field_name, f"没有可读取的指标“{key}”（指标不存在或本部门未获授权）")


def shown(value: str | None, mode: Mode) -> str | None:
    return mask_id_number(value) if mode is Mode.MASKED else value


# --- Definitions ------------------------------------------------------------------


@dataclass
class Definition:
    key: str | None = None
    label: str | None = None
    entity: str | None = None
    type: str | None = None
    unit: str | None = None
    max_length: int | None = None
    choices: list[str] | None = None
    min_value: float | None = None
    max_value: float | None = None
    pattern: str | None = None
    periodicity: str | None = "NONE"
    sensitive: bool = False
    legal_basis: str | None = None
    grants: list[tuple[str, str, str]] = field(default_factory=list)  # (department, mode, purpose)


def _problem(prefix: str, name: str, reason: str, column: str | None = None, code: str = "INVALID") -> FieldProblem:
    where = f"{prefix}{name}"
    return FieldProblem(where, code, field_message(where, reason, LABELS.get(column or name)))


def _choice(enum: type, value: str | None, prefix: str, name: str, column: str) -> tuple[Any, FieldProblem | None]:
    try:
        return enum(value), None
    except ValueError:
        options = "、".join(f"{m.value}（{m.label}）" for m in enum)
        return None, _problem(prefix, name, f"未知取值“{value}”，可选：{options}", column)


def check_definition(ctx: Context, d: Definition, prefix: str = "") -> tuple[dict[str, Any], list[FieldProblem]]:
    """The definition's row, or problems naming each field (prefix: where it sits in a request's input)."""
    problems: list[FieldProblem] = []
    caller = ctx.caller
    if caller.role is not Role.DEPARTMENT_ANALYST or not caller.department:
        return {}, [FieldProblem(f"{prefix}key", "FORBIDDEN", field_message(f"{prefix}key", f"{caller.role.label}不能定义指标，指标由部门定义"))]
    key = (d.key or "").strip()
    if not KEY.match(key):
        problems.append(_problem(prefix, "key", "须以小写字母开头，只用小写字母、数字和下划线，2 到 64 个字符", "key"))
    label = (d.label or "").strip()
    if not label:
        problems.append(_problem(prefix, "label", "不能为空", "name"))
    elif len(label) > 64:
        problems.append(_problem(prefix, "label", f"最多 64 个字，填写了 {len(label)} 个字", "name"))
    entity, problem = _choice(IndicatorEntity, d.entity, prefix, "entity", "entity")
    problems += [problem] if problem else []
    value_type, problem = _choice(IndicatorType, d.type, prefix, "type", "value_type")
    problems += [problem] if problem else []
    periodicity, problem = _choice(Periodicity, d.periodicity, prefix, "periodicity", "periodicity")
    problems += [problem] if problem else []
    legal_basis = (d.legal_basis or "").strip()
    if not legal_basis:
        problems.append(_problem(prefix, "legalBasis", "不能为空：写明采集这项数据的依据", "legal_basis"))
    choices = [c.strip() for c in d.choices or [] if c.strip()]
    numeric = value_type in (IndicatorType.INTEGER, IndicatorType.DECIMAL)
    if value_type is not None:
        if d.choices is not None and value_type is not IndicatorType.CHOICE:
            problems.append(_problem(prefix, "choices", f"只有单选（CHOICE）类型的指标可以设可选值，这项指标是{value_type.label}", "choices"))
        if value_type is IndicatorType.CHOICE and (len(choices) < 2 or len(set(choices)) != len(choices) or any("|" in c for c in choices)):
            problems.append(_problem(prefix, "choices", "单选类型须给出至少两个互不相同、不含“|”的可选值", "choices"))
        if d.max_length is not None and value_type is not IndicatorType.TEXT:
            problems.append(_problem(prefix, "maxLength", f"只有文本（TEXT）类型的指标可以设最大长度，这项指标是{value_type.label}", "max_length"))
        if (d.min_value is not None or d.max_value is not None) and not numeric:
            name = "minValue" if d.min_value is not None else "maxValue"
            problems.append(_problem(prefix, name, f"只有整数、小数类型的指标可以设范围，这项指标是{value_type.label}", name == "minValue" and "min_value" or "max_value"))
        if d.pattern is not None and value_type is not IndicatorType.TEXT:
            problems.append(_problem(prefix, "pattern", f"只有文本（TEXT）类型的指标可以设格式，这项指标是{value_type.label}", "pattern"))
    if d.max_length is not None and not 1 <= d.max_length <= 2000:
        problems.append(_problem(prefix, "maxLength", f"应在 1 到 2000 之间，填写的是 {d.max_length}", "max_length"))
    if d.min_value is not None and d.max_value is not None and d.min_value > d.max_value:
        problems.append(_problem(prefix, "minValue", f"最小值 {d.min_value} 大于最大值 {d.max_value}", "min_value"))
    if d.pattern is not None:
        try:
            re.compile(d.pattern)
        except re.error as error:
            problems.append(_problem(prefix, "pattern", f"不是有效的正则表达式（{error}）", "pattern"))
    for i, (department, mode, purpose) in enumerate(d.grants):
        where = f"grants[{i}]"
        if department not in ctx.policy.departments:
            problems.append(_problem(prefix, f"{where}.department", f"未知部门“{department}”"))
        if mode not in (Mode.READ.value, Mode.MASKED.value):
            problems.append(_problem(prefix, f"{where}.mode", f"只能是 read（明文）或 masked（脱敏），填写的是“{mode}”"))
        elif mode == Mode.MASKED.value and not d.sensitive:
            problems.append(_problem(prefix, f"{where}.mode", "只有敏感指标可以脱敏授权"))
        if not purpose.strip():
            problems.append(_problem(prefix, f"{where}.purpose", "不能为空：写明用途或依据"))
    if problems:
        return {}, problems
    row = {
        "key": key, "name": label, "entity": entity, "value_type": value_type, "unit": (d.unit or "").strip() or None,
        "max_length": d.max_length, "choices": "|".join(choices) if choices else None, "min_value": d.min_value,
        "max_value": d.max_value, "pattern": d.pattern, "periodicity": periodicity,
        "owner_department": caller.department, "sensitive": d.sensitive, "legal_basis": legal_basis,
    }
    return row, []


async def insert_definition(
    connection: AsyncConnection, ctx: Context, row: dict[str, Any], granted: list[tuple[str, str, str]], prefix: str = ""
) -> tuple[Any | None, list[FieldProblem]]:
    """Add a checked definition in the caller's transaction; a key already taken is a conflict.

    The unique key decides, not a look first: two filings defining the same new key at once both
    pass any look, and the second insert's unique violation is then this same answer, not an error.
    """
    stamp = {"version": 1, "updated_at": dt.datetime.now(dt.UTC)}
    try:
        async with connection.begin_nested():  # the caller's transaction survives the refused insert
            created = (await connection.execute(indicators.insert().values(**row, **stamp).returning(*indicators.c))).one()
    except IntegrityError:
        return None, [_problem(prefix, "key", f"指标“{row['key']}”已在指标库中，请直接引用", "key", "CONFLICT")]
    if granted:
        await connection.execute(
            grants.insert(), [{"indicator_id": created.id, "department": d, "mode": m, "purpose": p} for d, m, p in granted]
        )
    ctx.loader(LIBRARY).clear("all")  # later reads of this unit of work see the new indicator
    return record_class(indicators)(*created), []


async def define(ctx: Context, d: Definition) -> tuple[Any | None, list[FieldProblem]]:
    row, problems = check_definition(ctx, d)
    if problems:
        return None, problems
    async with ctx.engine.begin() as connection:
        created, problems = await insert_definition(connection, ctx, row, d.grants)
        if problems:
            await connection.rollback()
        return created, problems


# --- Values -----------------------------------------------------------------------


def check_period(indicator: Any, period: str | None, field_name: str = "period") -> str:
    """The period a value is kept under: '' for indicators that are not periodic."""
    if indicator.periodicity is Periodicity.NONE:
        return ""
    form, example = PERIOD_FORMS[indicator.periodicity]
    if period is None or not form.match(period):
        raise ValueError(
            field_message(field_name, f"指标“{indicator.key}”{indicator.periodicity.label}填报，期别应写成 {example} 的形式，填写的是“{period or ''}”", "期别")
        )
    return period


def previous_period(period: str, periodicity: Periodicity) -> str | None:
    if periodicity is Periodicity.MONTH:
        year, month = map(int, period.split("-"))
        return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"
    if periodicity is Periodicity.QUARTER:
        year, quarter = int(period[:4]), int(period[-1])
        return f"{year - 1}-Q4" if quarter == 1 else f"{year}-Q{quarter - 1}"
    if periodicity is Periodicity.YEAR:
        return str(int(period) - 1)
    return None


def parse_value(indicator: Any, raw: str | None) -> str | None:
    """The value as kept (canonical text), or ValueError with the reason in Chinese."""
    text = None if raw is None else raw.strip()
    if not text:
        return None
    kind = indicator.value_type
    if kind in (IndicatorType.INTEGER, IndicatorType.DECIMAL):
        try:
            number = Decimal(text)
            if not number.is_finite() or (kind is IndicatorType.INTEGER and number != number.to_integral_value()):
                raise InvalidOperation
        except InvalidOperation:
            raise ValueError(f"应填{kind.label}，填写的是“{text}”") from None
        low, high = indicator.min_value, indicator.max_value
        if (low is not None and number < Decimal(str(low))) or (high is not None and number > Decimal(str(high))):
            bounds = f"{_plain(low) if low is not None else '不限'} 到 {_plain(high) if high is not None else '不限'}"
            raise ValueError(f"超出范围：应在 {bounds} 之间，填写的是 {text}")
        return str(int(number)) if kind is IndicatorType.INTEGER else format(number.normalize(), "f")
    if kind is IndicatorType.TEXT:
        if indicator.max_length is not None and len(text) > indicator.max_length:
            raise ValueError(f"最多 {indicator.max_length} 个字，填写了 {len(text)} 个字")
        if indicator.pattern is not None and not re.fullmatch(indicator.pattern, text):
            raise ValueError(f"格式不对：“{text}”不符合 {indicator.pattern}")
        return text
    if kind is IndicatorType.DATE:
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError(f"应填日期（如 2026-11-16），填写的是“{text}”") from None
    if kind is IndicatorType.BOOLEAN:
        if text in TRUE or text in FALSE:
            return "true" if text in TRUE else "false"
        raise ValueError(f"应填“是”或“否”，填写的是“{text}”")
    options = indicator.choices.split("|")
    if text not in options:
        raise ValueError(f"不在可选值中（可选：{'、'.join(options)}），填写的是“{text}”")
    return text


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def village_of(entity: IndicatorEntity, entity_ids: Sequence[int]) -> Select:
    """(record id, village id) of the records an indicator describes."""
    if entity is IndicatorEntity.VILLAGE:
        return select(regions.c.id, regions.c.id).where(regions.c.id.in_(entity_ids), regions.c.level == RegionLevel.VILLAGE)
    if entity is IndicatorEntity.PERSON:
        return select(persons.c.id, households.c.village_id).join(households, persons.c.household_id == households.c.id).where(
            persons.c.id.in_(entity_ids)
        )
    table = {IndicatorEntity.HOUSEHOLD: households, IndicatorEntity.ENTERPRISE: Enterprise.__table__, IndicatorEntity.FLOOD_POINT: FloodPoint.__table__}[entity].c
    return select(table.id, table.village_id).where(table.id.in_(entity_ids))


@dataclass(frozen=True)
class ValueChange:
    key: str
    entity_id: int
    value: str | None
    version: int  # the version read; 0 when the record had no value yet
    where: str  # the input's name for it, e.g. values[2]


async def villages_in_reach(connection: AsyncConnection, ctx: Context, entity: IndicatorEntity, entity_ids: Sequence[int]) -> dict[int, int]:
    """Record id -> village id, for the records within the caller's jurisdiction (others do not exist for them)."""
    stmt = village_of(entity, entity_ids)
    if ctx.scope is not None:
        stmt = stmt.where(stmt.selected_columns[1].in_(ctx.scope.region_ids()))
    return {record_id: village_id for record_id, village_id in (await connection.execute(stmt)).all()}


def may_write(ctx: Context) -> bool:
    """Village committees (and their grid workers) keep their own records' indicators, as the policy's role writes say."""
    return INDICATOR_VALUES in ctx.policy.roles[ctx.caller.role].writes


async def write_values(
    connection: AsyncConnection, ctx: Context, lib: Library, changes: Sequence[ValueChange], period: str | None,
    source: ChangeSource = ChangeSource.API, task: history.TaskFill | None = None,
) -> tuple[list[Any], list[FieldProblem]]:
    """Check every change, then write them all with their history, or none (the caller rolls back on problems).
    A task's fill names its `task`: its changes are that task's round's (`requests.rounds`)."""
    problems: list[FieldProblem] = []
    checked: list[tuple[ValueChange, Any, str, str | None]] = []
    if not may_write(ctx):
        return [], [FieldProblem("values", "FORBIDDEN", field_message("values", f"{ctx.caller.role.label}无权填写指标值"))]
    for change in changes:
        found = lib.readable(ctx, change.key)
        if found is None:
            problems.append(FieldProblem(f"{change.where}.key", "NOT_FOUND", not_readable(f"{change.where}.key", change.key)))
            continue
        indicator = found[0]
        try:
            kept_period = check_period(indicator, period)
            value = parse_value(indicator, change.value)
        except ValueError as error:
            message = str(error) if str(error).startswith("period") else field_message(f"{change.where}.value", str(error), f"{indicator.name}")
            problems.append(FieldProblem("period" if message.startswith("period") else f"{change.where}.value", "INVALID", message))
            continue
        checked.append((change, indicator, kept_period, value))
    reach: dict[IndicatorEntity, dict[int, int]] = {}
    for entity in {indicator.entity for _, indicator, _, _ in checked}:
        ids = [c.entity_id for c, i, _, _ in checked if i.entity is entity]
        reach[entity] = await villages_in_reach(connection, ctx, entity, ids)
    for change, indicator, _, _ in checked:
        if change.entity_id not in reach[indicator.entity]:
            problems.append(not_found(f"{change.where}.entityId", indicator.entity.label, change.entity_id))
    if problems:
        return [], problems
    written = []
    for change, indicator, kept_period, value in checked:
        row, problem = await _write_one(connection, ctx, indicator, change, kept_period, value, reach[indicator.entity][change.entity_id], source, task)
        if problem is not None:
            return [], [problem]
        written.append(row)
    return written, []


async def _write_one(
    connection: AsyncConnection, ctx: Context, indicator: Any, change: ValueChange, period: str, value: str | None,
    village_id: int, source: ChangeSource, task: history.TaskFill | None,
) -> tuple[Any | None, FieldProblem | None]:
    where = (values.c.indicator_id == indicator.id) & (values.c.entity_id == change.entity_id) & (values.c.period == period)
    before = (await connection.execute(select(values).where(where))).one_or_none()
    fields = {"value": indicator.key}
    if before is None:
        if change.version != 0:
            return None, _stale(change, 0)
        stamp = {"version": 1, "updated_at": dt.datetime.now(dt.UTC)}
        try:
            async with connection.begin_nested():
                row = (await connection.execute(values.insert().values(
                    indicator_id=indicator.id, entity_id=change.entity_id, village_id=village_id, period=period, value=value, **stamp
                ).returning(*values.c))).one()
        except IntegrityError:  # someone saved the first value meanwhile
            return None, _stale(change, 1)
        await history.record(connection, ctx, "IndicatorValue", row.id, 1, {indicator.key: (None, value)}, source, task)
        return row, None
    if before.version != change.version:
        return None, _stale(change, before.version)
    after = await apply_change(connection, ctx, "IndicatorValue", values, before, change.version, {"value": value}, fields, source, task)
    return (after, None) if after is not None else (None, _stale(change, change.version + 1))


def _stale(change: ValueChange, current: int) -> FieldProblem:
    problem = conflict("IndicatorValue", change.entity_id, current, change.version)
    return FieldProblem(f"{change.where}.version", problem.code, problem.message.replace("version", f"{change.where}.version", 1), current)


def values_statement(indicator_ids: Sequence[int], entity_ids: Sequence[int], periods: Sequence[str]) -> Select:
    return select(values).where(values.c.indicator_id.in_(indicator_ids), values.c.entity_id.in_(entity_ids), values.c.period.in_(periods))


async def values_for(ctx: Context, indicator_ids: Sequence[int], entity_ids: Sequence[int], periods: Sequence[str]) -> list[Any]:
    return await ctx.records(values_statement(indicator_ids, entity_ids, periods), values)
