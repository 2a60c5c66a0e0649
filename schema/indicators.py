"""The indicator library (指标库): definitions, their values on records, and writing them."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from hub.data.models import ChangeSource, IndicatorEntity, IndicatorType, Periodicity
from hub.data.models import Indicator as IndicatorModel
from hub.domain import indicators as domain
from hub.domain import requests as requests_domain
from resolvers import indicators as resolvers
from resolvers.errors import int_id
from schema.errors import FieldError, field_errors
from schema.fields import gql_enum

c = IndicatorModel.__table__.c
IndicatorEntityEnum = gql_enum(IndicatorEntity, "指标描述的对象")
IndicatorTypeEnum = gql_enum(IndicatorType, "指标的数据类型")
PeriodicityEnum = gql_enum(Periodicity, "填报周期")


@strawberry.type(description="指标（指标库中的一项定义）")
class Indicator:
    key: str = strawberry.field(description=c.key.info["label"])
    name: str = strawberry.field(description=c.name.info["label"], name="label")
    entity: IndicatorEntityEnum = strawberry.field(description=c.entity.info["label"])
    value_type: IndicatorTypeEnum = strawberry.field(description=c.value_type.info["label"], name="type")
    unit: str | None = strawberry.field(description=c.unit.info["label"])
    max_length: int | None = strawberry.field(description=c.max_length.info["label"])
    min_value: float | None = strawberry.field(description=c.min_value.info["label"])
    max_value: float | None = strawberry.field(description=c.max_value.info["label"])
    pattern: str | None = strawberry.field(description=c.pattern.info["label"])
    periodicity: PeriodicityEnum = strawberry.field(description=c.periodicity.info["label"])
    owner_department: str = strawberry.field(description=c.owner_department.info["label"])
    sensitive: bool = strawberry.field(description=c.sensitive.info["label"])
    legal_basis: str = strawberry.field(description=c.legal_basis.info["label"])

    @strawberry.field(description="可选值（单选类型）")
    def choices(self) -> list[str] | None:
        return None if self.choices is None else self.choices.split("|")  # type: ignore[attr-defined]


@strawberry.type(description="一个对象某期的指标值（无权明文读取的敏感指标为脱敏值）")
class IndicatorValue:
    indicator: Indicator = strawberry.field(description="指标")
    entity_id: strawberry.ID = strawberry.field(description="对象记录ID")
    period: str = strawberry.field(description="期别（不分期的指标为空）")
    value: str | None = strawberry.field(description="值（文本形式；是否为 true/false）")
    version: int = strawberry.field(description="版本（尚无值时为 0；修改时带上）")


@strawberry.input(description="把指标库中的指标授权给另一部门读取")
class IndicatorGrantInput:
    department: str = strawberry.field(description="部门代码（如 minzheng）")
    mode: str = strawberry.field(description="read 明文，masked 脱敏（仅敏感指标）")
    purpose: str = strawberry.field(description="用途或依据")


@strawberry.input(description="指标定义；类型、周期用英文代码（INTEGER、MONTH 等）")
class IndicatorInput:
    key: str = strawberry.field(description=c.key.info["label"])
    label: str = strawberry.field(description=c.name.info["label"])
    entity: str = strawberry.field(description="描述对象：VILLAGE、HOUSEHOLD、PERSON、ENTERPRISE、FLOOD_POINT")
    type: str = strawberry.field(description="数据类型：INTEGER、DECIMAL、TEXT、DATE、BOOLEAN、CHOICE")
    legal_basis: str = strawberry.field(description=c.legal_basis.info["label"])
    unit: str | None = strawberry.field(default=None, description=c.unit.info["label"])
    max_length: int | None = strawberry.field(default=None, description=c.max_length.info["label"])
    choices: list[str] | None = strawberry.field(default=None, description="可选值（单选类型）")
    min_value: float | None = strawberry.field(default=None, description=c.min_value.info["label"])
    max_value: float | None = strawberry.field(default=None, description=c.max_value.info["label"])
    pattern: str | None = strawberry.field(default=None, description=c.pattern.info["label"])
    periodicity: str = strawberry.field(default="NONE", description="填报周期：NONE、MONTH、QUARTER、YEAR")
    sensitive: bool = strawberry.field(default=False, description=c.sensitive.info["label"])
    grants: list[IndicatorGrantInput] = strawberry.field(default_factory=list, description="授权其他部门读取")


def definition_of(given: IndicatorInput) -> domain.Definition:
    return domain.Definition(
        key=given.key, label=given.label, entity=given.entity, type=given.type, unit=given.unit, max_length=given.max_length,
        choices=given.choices, min_value=given.min_value, max_value=given.max_value, pattern=given.pattern,
        periodicity=given.periodicity, sensitive=given.sensitive, legal_basis=given.legal_basis,
        grants=[(g.department, g.mode, g.purpose) for g in given.grants],
    )


@strawberry.input(description="一个对象的一个指标值")
class IndicatorValueInput:
    key: str = strawberry.field(description="指标编码")
    entity_id: strawberry.ID = strawberry.field(description="对象记录ID（村、户、人员、企业或易涝点）")
    value: str | None = strawberry.field(description="值（文本形式；空表示清除）")
    version: int = strawberry.field(description="读取时的版本号；尚无值时填 0")


def value_changes(given: list[IndicatorValueInput], name: str = "values") -> list[domain.ValueChange]:
    return [
        domain.ValueChange(v.key, int_id(v.entity_id, f"{name}[{i}].entityId"), v.value, v.version, f"{name}[{i}]")
        for i, v in enumerate(given)
    ]


def shown_values(shown: list[resolvers.Shown]) -> list[IndicatorValue]:
    return [IndicatorValue(indicator=s.indicator, entity_id=strawberry.ID(str(s.entity_id)), period=s.period, value=s.value, version=s.version) for s in shown]


Period = Annotated[str | None, strawberry.argument(description="期别：按月 2026-11，按季 2026-Q4，按年 2026；不分期的指标不填")]


def indicator_fields(entity: IndicatorEntity) -> tuple[Any, Any]:
    """`indicator(key, period)` (one value, for templates' columns) and `indicatorValues(keys, period)`, for one record type.

    The record is already within the caller's jurisdiction; which indicators the caller
    may read is data (the indicator's owner and grants), checked when the field runs.
    """

    async def indicator(root: strawberry.Parent[Any], info: Info, key: Annotated[str, strawberry.argument(description="指标编码")], period: Period = None) -> str | None:
        return await resolvers.value_of(info.context, entity, root.id, key, period)

    async def indicator_values(
        root: strawberry.Parent[Any], info: Info, keys: Annotated[list[str], strawberry.argument(description="指标编码")], period: Period = None
    ) -> list[IndicatorValue]:
        return shown_values(await resolvers.values_of(info.context, entity, root.id, keys, period))

    metadata = {"indicators": True}  # shown in every view: grants are per indicator, checked at run time
    return (
        strawberry.field(resolver=indicator, description="指标值（指标库中的一项；无权读取的指标报错）", metadata=metadata),
        strawberry.field(resolver=indicator_values, description="指标值（指标库中的多项）", metadata=metadata),
    )


@strawberry.type(description="定义指标的结果")
class IndicatorPayload:
    indicator: Indicator | None = strawberry.field(description="新定义的指标")
    errors: list[FieldError] = strawberry.field(description="错误；为空表示成功（有错误时什么都没有写入）")


@strawberry.type(description="填写指标值的结果")
class IndicatorValuesPayload:
    values: list[IndicatorValue] = strawberry.field(description="写入后的值")
    errors: list[FieldError] = strawberry.field(description="错误；为空表示成功（有错误时什么都没有写入）")


@strawberry.type
class Query:
    @strawberry.field(description="指标库：我可以读取的指标")
    async def indicators(self, info: Info) -> list[Indicator]:
        ctx = info.context
        lib = await domain.library(ctx)
        return [i for i in sorted(lib.by_key.values(), key=lambda i: i.key) if lib.read_mode(ctx, i) is not None]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="在指标库中定义一项指标（属于本部门）", metadata={"writes": "Indicator"})
    async def define_indicator(self, info: Info, input: Annotated[IndicatorInput, strawberry.argument(description="指标定义")]) -> IndicatorPayload:
        created, problems = await domain.define(info.context, definition_of(input))
        return IndicatorPayload(indicator=created, errors=field_errors(problems))

    @strawberry.mutation(description="填写本村（社区）对象的指标值（带版本号，留修改记录）", metadata={"writes": "IndicatorValue"})
    async def set_indicator_values(
        self, info: Info, values: Annotated[list[IndicatorValueInput], strawberry.argument(description="指标值")], period: Period = None
    ) -> IndicatorValuesPayload:
        changes = value_changes(values)

        async def not_handed_in(connection: Any) -> tuple[list[Any], None]:
            return await requests_domain.check_not_locked(connection, info.context, changes, period), None

        return await write(info.context, changes, period, ChangeSource.API, not_handed_in)


async def write(ctx: Any, changes: list[domain.ValueChange], period: str | None, source: ChangeSource, before: Any = None) -> IndicatorValuesPayload:
    """Write values all or nothing; `before(connection)` runs first in the same transaction (a task's checks) and
    answers its problems and, for a task's fill, the task and round its changes belong to (`history.TaskFill`)."""
    lib = await domain.library(ctx)
    async with ctx.engine.begin() as connection:
        problems, task = await before(connection) if before else ([], None)
        written = []
        if not problems:
            written, problems = await domain.write_values(connection, ctx, lib, changes, period, source, task)
        if problems:
            await connection.rollback()
            return IndicatorValuesPayload(values=[], errors=field_errors(problems))
    by_id = {i.id: i for i in lib.by_key.values()}
    return IndicatorValuesPayload(
        values=[IndicatorValue(indicator=by_id[r.indicator_id], entity_id=strawberry.ID(str(r.entity_id)), period=r.period, value=r.value, version=r.version) for r in written],
        errors=[],
    )
