"""A village task's base columns (基础栏目) as the caller reads them: pre-filled from the hub, read-only.

The request names its base columns by GraphQL path on its rows' type. They are read
through the caller's own view of the schema — one operation listing the rows of a batch of
tasks (under their villages' narrowest common region), paged, each level batched — so grants
and masking are the schema's, never this module's:
a path the view lacks is not granted, a masked field comes back masked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any

from graphql import GraphQLSchema, execute, parse, validate

from hub.access.access_log import selected_fields, sensitive_read
from hub.data.identifiers import region_prefix
from hub.data.models import IndicatorEntity, RegionLevel
from hub.domain import requests as domain
from hub.domain.context import Context
from hub.forms.templates import Column, column_kind
from hub.forms.xlsx import shown_value
from resolvers.requests import camel, selection, walk

NOT_GRANTED = "（未授权）"  # what a base cell the caller may not read shows instead of its value
PAGE = 500


@dataclass(frozen=True)
class BaseColumn:
    header: str
    column: Column | None  # how the value shows (labels, 是/否, dates); None: not in the caller's view


def base_columns(view: GraphQLSchema, request: Any) -> list[BaseColumn]:
    """The request's base (non-indicator) columns, each with its column if the caller's view reads its path."""
    type_name = domain.ROWS[request.entity].type_name
    found = []
    for asked in domain.columns_of(request):
        if asked["path"] is None:
            continue
        path = tuple(asked["path"].split("."))
        leaf = walk(view, type_name, list(path))
        kind, labels = column_kind(leaf[2]) if leaf else ("text", {})
        column = Column((asked["header"],), path, None, None, None, False, "、", False, kind, labels) if leaf else None
        found.append(BaseColumn(asked["header"], column))
    return found


async def base_nodes(
    ctx: Context, view: Any, entity: IndicatorEntity, filters: list[str], region_code: str, columns: list[Column]
) -> dict[int, dict[str, Any]]:
    """Record id -> its node (the columns' paths), for the rows of `entity` matching `filters` in a region, read as the
    caller reads them: one operation, paged, each level batched, however many tasks share these rows.

    `view` is the caller's schema (`schema.build.HubSchema`); rows it cannot name by id get no node.
    """
    rows = domain.ROWS[entity]
    if not columns or walk(view._schema, rows.type_name, ["id"]) is None:
        return {}
    tree: dict[str, Any] = {"id": {}}
    for column in columns:
        node = tree
        for name in column.path:
            node = node.setdefault(name, {})
    arguments = ["regionCode: $region", "first: $first", "after: $after"]
    if entity is IndicatorEntity.VILLAGE:
        arguments.append(f"level: {RegionLevel.VILLAGE.value}")
    arguments += [f"{camel(f)}: true" for f in filters]
    document = parse(
        f"query($region: String!, $first: Int, $after: String) {{ rows: {rows.list_field}({', '.join(arguments)}) "
        f"{{ pageInfo {{ hasNextPage endCursor }} nodes {{ {selection(tree)} }} }} }}"
    )
    errors = validate(view._schema, document)
    assert not errors, errors  # built from paths the view has: a problem here is a bug
    # Read through the view, so the access log names the sensitive fields read, as for any query.
    logged = ctx.audit.setdefault("sensitive_fields", [])
    logged += [f for f in sensitive_read(view, selected_fields(view._schema, document), ctx.policy.sensitive) if f not in logged]
    nodes: dict[int, dict[str, Any]] = {}
    after = None
    while True:
        result = execute(view._schema, document, context_value=ctx, variable_values={"region": region_code, "first": PAGE, "after": after})
        if isawaitable(result):
            result = await result
        if result.errors:
            raise result.errors[0].original_error or result.errors[0]
        page = result.data["rows"]
        nodes.update((int(node["id"]), node) for node in page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def base_values(columns: list[BaseColumn], node: dict[str, Any] | None, today: dt.date) -> list[str | None]:
    """A row's base values as text; every one not granted when the caller's view cannot name the row."""
    if node is None:
        return [NOT_GRANTED] * len(columns)
    return [_text(shown_value(c.column, node, today)) if c.column else NOT_GRANTED for c in columns]


def common_region(codes: set[str]) -> str:
    """The narrowest region holding every village of `codes`: the one region a batch of tasks' rows are read under.
    Within the caller's reach whenever the villages are (a jurisdiction is a whole subtree)."""
    for level in (RegionLevel.VILLAGE, RegionLevel.TOWN, RegionLevel.DISTRICT, RegionLevel.CITY):
        prefixes = {region_prefix(code, level) for code in codes}
        if len(prefixes) == 1:
            return prefixes.pop().ljust(12, "0")
    raise ValueError(f"villages of several cities: {sorted(codes)}")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
