"""Filing a data request: ask the hub before asking the villages (问库不问人).

Each column is classified against the one schema and the filer's own view of it:
held and granted (answered from the hub), held but not granted (the department
is told which field and why), or not held (collected by the villages). A request
whose columns are all held and granted is answered at once with a template of
its own (a saved query plus a plain layout, owned by the department); any other
request keeps that template as the export of its result.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import yaml
from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub import clock
from hub.access.jurisdiction import Subtree
from hub.data.models import (
    IndicatorEntity,
    Periodicity,
    RegionLevel,
    RequestStatus,
    Role,
)
from hub.domain import indicators as library_domain
from hub.domain import requests as domain
from hub.domain.context import Context
from hub.domain.write_path import FieldProblem, field_message
from hub.forms import column_matching
from resolvers.regions import region_by_code

HELD_GRANTED, HELD_NOT_GRANTED, NOT_HELD = "HELD_GRANTED", "HELD_NOT_GRANTED", "NOT_HELD"


@dataclass
class ColumnAsked:
    path: str | None = None
    label: str | None = None
    indicator: str | None = None
    define: library_domain.Definition | None = None


@dataclass
class Filing:
    title: str
    purpose: str
    legal_basis: str
    region_code: str
    entity: str
    filters: list[str]
    columns: list[ColumnAsked]
    period: str
    deadline: dt.date
    recurrence: str


class Problems(Exception):
    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems


def _invalid(field: str, reason: str, code: str = "INVALID") -> FieldProblem:
    return FieldProblem(field, code, field_message(field, reason))


def walk(schema: GraphQLSchema, type_name: str, path: list[str]) -> tuple[str, str, Any] | None:
    """(type, field, leaf type) at the end of a dot path of single-object hops; None if the schema has no such path."""
    current = schema.get_type(type_name)
    for depth, name in enumerate(path):
        if not isinstance(current, GraphQLObjectType) or name not in current.fields:
            return None
        field_type = current.fields[name].type
        field_type = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
        if isinstance(field_type, GraphQLList) or current.fields[name].args and depth < len(path) - 1:
            return None
        named = get_named_type(field_type)
        if depth == len(path) - 1:
            return (current.name, name, named) if is_leaf_type(named) and not current.fields[name].args else None
        current = named
    return None


def _by_label(schema: GraphQLSchema, type_name: str, label: str) -> list[str]:
    """Paths whose field is described by `label`: the row's own leaves first, else those one object away."""
    row_type = schema.get_type(type_name)
    own = [name for name, f in row_type.fields.items() if f.description == label and walk(schema, type_name, [name])]
    if own:
        return own
    found = []
    for name, f in row_type.fields.items():
        target = get_named_type(f.type)
        if isinstance(target, GraphQLObjectType) and not f.args and not isinstance(getattr(f.type, "of_type", f.type), GraphQLList):
            found += [f"{name}.{leaf}" for leaf, g in target.fields.items() if g.description == label and walk(schema, type_name, [name, leaf])]
    return found


@dataclass
class Classified:
    header: str
    status: str
    reason: str
    path: str | None = None
    indicator: Any = None  # the indicator's row (existing), or its checked definition (new)
    new: dict | None = None

    def as_json(self) -> dict:
        key = None if self.indicator is None else (self.indicator["key"] if isinstance(self.indicator, dict) else self.indicator.key)
        return {"header": self.header, "status": self.status, "reason": self.reason, "path": self.path, "indicator": key}


async def _classify_column(
    ctx: Context, full: GraphQLSchema, view: GraphQLSchema, lib: library_domain.Library, entity: IndicatorEntity,
    asked: ColumnAsked, where: str, held: Any,
) -> Classified:
    type_name = domain.ROWS[entity].type_name
    given = [x for x in (asked.path, asked.label, asked.indicator, asked.define) if x is not None]
    if len(given) != 1:
        raise Problems([_invalid(where, "path、label、indicator、define 四者填且只填一项")])
    if asked.label is not None:
        paths = _by_label(full, type_name, asked.label.strip())
        if not paths:
            raise Problems([_invalid(f"{where}.label", f"数据中心的{entity.label}没有名为“{asked.label}”的栏目；请引用指标库中的指标，或在 define 中定义新指标")])
        if len(paths) > 1:
            raise Problems([_invalid(f"{where}.label", f"“{asked.label}”可指 {'、'.join(paths)}，请改用 path 指明")])
        asked = ColumnAsked(path=paths[0])
    if asked.path is not None:
        found = walk(full, type_name, asked.path.split("."))
        if found is None:
            raise Problems([_invalid(f"{where}.path", f"{type_name} 没有字段路径“{asked.path}”")])
        header = full.get_type(found[0]).fields[found[1]].description or found[1]
        visible = walk(view, type_name, asked.path.split("."))
        if visible is None:
            ref = _first_hidden(full, view, type_name, asked.path.split("."))
            return Classified(header, HELD_NOT_GRANTED, f"数据中心有此数据（{ref}），但本部门未获授权读取；请先申请授权", asked.path)
        return Classified(header, HELD_GRANTED, "数据中心已有，本部门已获授权", asked.path)
    if asked.indicator is not None:
        found = lib.readable(ctx, asked.indicator)
        if found is None:
            raise Problems([_invalid(f"{where}.indicator", library_domain.not_readable(f"{where}.indicator", asked.indicator).split("：", 1)[1], "NOT_FOUND")])
        indicator = found[0]
        if indicator.entity is not entity:
            raise Problems([_invalid(f"{where}.indicator", f"指标“{indicator.key}”描述的是{indicator.entity.label}，这项任务填报的是{entity.label}")])
        header = indicator.name
        if await held(indicator):
            return Classified(header, HELD_GRANTED, "指标已采集，数据中心已有", indicator=indicator)
        return Classified(header, NOT_HELD, "指标尚未采集到本期，须由村（社区）填报", indicator=indicator)
    row, problems = library_domain.check_definition(ctx, asked.define, f"{where}.define.")
    if problems:
        raise Problems(problems)
    if row["entity"] is not entity:
        raise Problems([_invalid(f"{where}.define.entity", f"新指标描述的是{row['entity'].label}，这项任务填报的是{entity.label}")])
    if held_field := _held_under(full, entity, row["name"]):
        # Collected anew, a field the hub holds would bypass its grant (a birth date rebuilds a masked ID number):
        # named by path, it is classified as held, and waits for a grant if the department has none.
        raise Problems([_invalid(f"{where}.define.label", f"数据中心已有“{held_field.label}”（{held_field.ref}）：请用 path 引用该字段（{held_field.dotted}），不必新定义指标", "HELD")])
    return Classified(row["name"], NOT_HELD, "新定义的指标，须由村（社区）填报", indicator=row, new=row)


def _held_under(full: GraphQLSchema, entity: IndicatorEntity, label: str) -> column_matching.Candidate | None:
    """The field of the rows (or of a record one step away) that a new indicator's label names, by its label or a synonym."""
    wanted = column_matching.normalise(label)
    found = column_matching.candidates(full, domain.ROWS[entity].list_field, column_matching.vocabulary())
    return next((c for c in found if wanted in c.names), None)


def _first_hidden(full: GraphQLSchema, view: GraphQLSchema, type_name: str, path: list[str]) -> str:
    current = type_name
    for name in path:
        shown = view.get_type(current)
        if not isinstance(shown, GraphQLObjectType) or name not in shown.fields:
            return f"{current}.{name}"
        current = get_named_type(full.get_type(current).fields[name].type).name
    return ".".join(path)


def _choice(enum: type, value: str, field: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        options = "、".join(f"{m.value}（{m.label}）" for m in enum)
        raise Problems([_invalid(field, f"未知取值“{value}”，可选：{options}")]) from None


async def file_request(ctx: Context, full: GraphQLSchema, view: GraphQLSchema, given: Filing) -> tuple[Any, list[Classified], list[FieldProblem]]:
    """Check everything, classify the columns, and record the request with its reviews; nothing is written on any problem."""
    try:
        return (*await _file(ctx, full, view, given), [])
    except Problems as problems:
        return None, [], problems.problems


async def _file(ctx: Context, full: GraphQLSchema, view: GraphQLSchema, given: Filing) -> tuple[Any, list[Classified]]:
    caller = ctx.caller
    if caller.role is not Role.DEPARTMENT_ANALYST or not caller.department:
        raise Problems([_invalid("input", f"{caller.role.label}不能发起填报任务，由部门发起", "FORBIDDEN")])
    problems = [_invalid(f"input.{name}", "不能为空") for name, value in (("title", given.title), ("purpose", given.purpose), ("legalBasis", given.legal_basis)) if not value.strip()]
    if given.deadline < clock.today():
        problems.append(_invalid("input.deadline", f"{given.deadline.isoformat()} 早于今天（{clock.today().isoformat()}），截止日期不能是过去的日子"))
    if not given.columns:
        problems.append(_invalid("input.columns", "请至少列出一个栏目"))
    if problems:
        raise Problems(problems)
    entity = _choice(IndicatorEntity, given.entity, "input.entity")
    recurrence = _choice(Periodicity, given.recurrence, "input.recurrence")
    region = await region_by_code(ctx, given.region_code, "input.regionCode") if len(given.region_code) == 12 and given.region_code.isdigit() else None
    if region is None:  # outside the analyst's jurisdiction reads the same as missing
        raise Problems([_invalid("input.regionCode", f"找不到统计用区划代码为 {given.region_code} 的区划", "NOT_FOUND")])
    rows = domain.ROWS[entity]
    list_field = view.query_type.fields.get(rows.list_field)
    if list_field is None:  # its rows would reach the department by name (TaskRow.label), and its template cannot list them
        raise Problems([_invalid("input.entity", f"本部门未获授权读取{entity.label}名单，不能就{entity.label}发起填报任务：请先向数据中心申请授权", "NOT_GRANTED")])
    usable = {name for name, arg in (list_field.args.items() if list_field else []) if get_named_type(arg.type).name == "Boolean"}
    for i, name in enumerate(given.filters):
        column = _snake(name)
        if name not in usable or column not in rows.table.c:
            raise Problems([_invalid(f"input.filters[{i}]", f"不支持的筛选条件“{name}”，可用：{'、'.join(sorted(n for n in usable if _snake(n) in rows.table.c)) or '无'}")])
    filters = [_snake(f) for f in given.filters]
    subtree = Subtree.of(region.code, region.level)
    row_ids = domain.row_query(entity, subtree, filters).subquery()
    async with ctx.engine.connect() as connection:
        per_village = dict((await connection.execute(select(row_ids.c[1], func.count()).group_by(row_ids.c[1]))).all())
    row_count = sum(per_village.values())
    if row_count == 0:
        raise Problems([_invalid("input.regionCode", f"{region.name}没有符合条件的{entity.label}")])

    lib = await library_domain.library(ctx)

    async def held(indicator: Any) -> bool:
        period = _period_for(indicator, given.period, "input.period")
        values = library_domain.values
        stmt = select(func.count()).select_from(values).where(
            values.c.indicator_id == indicator.id, values.c.period == period, values.c.value.is_not(None), values.c.entity_id.in_(select(row_ids.c[0]))
        )
        async with ctx.engine.connect() as connection:
            return await connection.scalar(stmt) == row_count

    classified = []
    for i, asked in enumerate(given.columns):
        column = await _classify_column(ctx, full, view, lib, entity, asked, f"input.columns[{i}]", held)
        if column.new is not None:
            _period_for(column.new, given.period, "input.period")
        classified.append(column)
    keys = [c.new["key"] for c in classified if c.new]
    if len(keys) != len(set(keys)):
        raise Problems([_invalid("input.columns", "同一个新指标定义了两次")])

    statuses = {c.status for c in classified}
    status = RequestStatus.NEEDS_GRANT if HELD_NOT_GRANTED in statuses else (
        RequestStatus.ANSWERED_FROM_HUB if statuses == {HELD_GRANTED} else RequestStatus.IN_REVIEW
    )
    towns = await _towns(ctx, per_village)
    now = dt.datetime.now(dt.UTC)
    async with ctx.engine.begin() as connection:
        for i, column in enumerate(classified):
            if column.new is not None:
                created, problems = await library_domain.insert_definition(connection, ctx, column.new, [], f"input.columns[{i}].define.")
                if problems:
                    raise Problems(problems)
                column.indicator = created
        request = (await connection.execute(domain.requests.insert().values(
            title=given.title.strip(), purpose=given.purpose.strip(), legal_basis=given.legal_basis.strip(), department=caller.department,
            filed_by=caller.username, filed_at=now, region_id=region.id, entity=entity, filters=",".join(filters),
            columns=json.dumps([c.as_json() for c in classified], ensure_ascii=False), period=given.period, deadline=given.deadline,
            recurrence=recurrence, status=status, hub_cells=row_count * len(classified) if status is RequestStatus.ANSWERED_FROM_HUB else 0,
            village_count=len(per_village), version=1, updated_at=now,
        ).returning(*domain.requests.c))).one()
        await domain.record(connection, ctx, request.id, None, RequestStatus.FILED.value)
        await domain.record(connection, ctx, request.id, RequestStatus.FILED.value, status.value)
        if status is not RequestStatus.NEEDS_GRANT:
            await _reviews(connection, request, towns, per_village, len(classified), now)
    return request, classified


def _period_for(indicator: Any, period: str, field: str) -> str:
    periodicity = indicator["periodicity"] if isinstance(indicator, dict) else indicator.periodicity
    key = indicator["key"] if isinstance(indicator, dict) else indicator.key
    if periodicity is Periodicity.NONE:
        return ""
    form, example = library_domain.PERIOD_FORMS[periodicity]
    if not form.match(period or ""):
        raise Problems([_invalid(field, f"指标“{key}”{periodicity.label}填报，期别应写成 {example} 的形式，填写的是“{period}”")])
    return period


def _snake(name: str) -> str:
    return "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in name)


async def _towns(ctx: Context, per_village: dict[int, int]) -> dict[int, list[int]]:
    """Town id -> its villages among the rows."""
    regions = domain.regions
    async with ctx.engine.connect() as connection:
        pairs = (await connection.execute(select(regions.c.id, regions.c.parent_id).where(regions.c.id.in_(list(per_village))))).all()
    towns: dict[int, list[int]] = {}
    for village, town in pairs:
        towns.setdefault(town, []).append(village)
    return towns


async def _reviews(connection: AsyncConnection, request: Any, towns: dict[int, list[int]], per_village: dict[int, int], width: int, now: dt.datetime) -> None:
    """One review per target town: waiting in its queue, or the cells the hub answered for it (its burden figures)."""
    answered = request.status is RequestStatus.ANSWERED_FROM_HUB
    for town, villages in sorted(towns.items()):
        await connection.execute(domain.reviews.insert().values(
            request_id=request.id, town_id=town, status=request.status,
            hub_cells=sum(per_village[v] for v in villages) * width if answered else 0, version=1, updated_at=now,
        ))


def template_definition(request: Any, region_code: str, columns: list[dict]) -> str:
    """The request's own template: its rows with the asked columns (indicator columns as aliased `indicator` fields)."""
    entity = request.entity
    rows = domain.ROWS[entity]
    arguments = ["regionCode: $region"]
    if entity is IndicatorEntity.VILLAGE:
        arguments.append(f"level: {RegionLevel.VILLAGE.value}")
    arguments += [f"{camel(f)}: true" for f in request.filters.split(",") if f]
    tree: dict[str, Any] = {}
    layout = [{"header": "序号", "value": "row_number", "width": 6}]
    for i, column in enumerate(columns):
        if column["indicator"]:
            alias = f"c{i + 1}"
            period = f', period: "{request.period}"' if request.period else ""
            tree[f'{alias}: indicator(key: "{column["indicator"]}"{period})'] = {}
            layout.append({"header": column["header"], "path": alias, "width": 14})
        else:
            node = tree
            for name in column["path"].split("."):
                node = node.setdefault(name, {})
            layout.append({"header": column["header"], "path": column["path"], "width": 16})
    query = (
        f"query($region: String!, $first: Int, $after: String) {{\n  {rows.list_field}({', '.join(arguments)}, first: $first, after: $after) {{\n"
        f"    pageInfo {{ hasNextPage endCursor }}\n    nodes {{ {selection(tree)} }}\n  }}\n}}\n"
    )
    return yaml.safe_dump({
        "id": template_id(request.id), "title": request.title, "department": request.department,
        "description": f"填报任务 {request.id}：{request.purpose}", "query": query, "rows": rows.list_field,
        "variables": {"region": {"label": "统计用区划代码", "default": region_code}},
        "columns": layout,
    }, allow_unicode=True, sort_keys=False)


def template_id(request_id: int) -> str:
    return f"request-{request_id}"


def selection(tree: dict[str, Any]) -> str:
    return " ".join(name if not children else f"{name} {{ {selection(children)} }}" for name, children in tree.items())


def camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)
