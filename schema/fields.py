"""Helpers that keep every field's Chinese label in one place: the model column."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from sqlalchemy import Column
from strawberry.utils.str_converters import to_camel_case

from hub.data.models import LabelledEnum

# A relation field whose resolver answers exactly what its loader (resolvers/prefetch.py RELATIONS) loads:
# execution may read the loaded value itself (schema/execution.py).
DIRECT = {"direct": True}
# A root field that finds one row by key through a loader, and does nothing else: a query of it alone
# may be run and completed outside graphql-core (schema/execution.py `LookupPlan`).
LOOKUP = {"lookup": True}


def column(col: Column, description: str | None = None) -> Any:
    """A plain leaf field (no resolver: strawberry's fast path) described by its column's label."""
    return strawberry.field(description=description or col.info["label"])


def input_column(col: Column) -> Any:
    """An optional input field for a column: left out (UNSET) means "keep", null means "clear"."""
    return strawberry.field(default=strawberry.UNSET, description=col.info["label"])


def gql_enum(model_enum: type[LabelledEnum], description: str) -> Any:
    """Expose a model enum in GraphQL, each value described by its Chinese label.

    The same class serves both sides: rows read from the database serialise
    as they are, and arguments arrive as members the database layer accepts.
    """
    strawberry.enum(model_enum, description=description)
    for value in model_enum.__strawberry_definition__.values:
        value.description = model_enum[value.name].label
    return model_enum


def record_input(writes: str, description: str) -> Callable[[type], type]:
    """An input type whose fields set the fields of the same name of `writes` (a base type).

    Each field keeps the `Type.field` it sets in its metadata (`sets`): a department's
    view lists only the fields that department may write, so it names nothing else.
    """

    def decorate(cls: type) -> type:
        cls = strawberry.input(description=description)(cls)
        for field in cls.__strawberry_definition__.fields:
            field.metadata = {**field.metadata, "sets": f"{writes}.{field.graphql_name or to_camel_case(field.python_name)}"}
        return cls

    return decorate


def filter_arg(description: str, reveals: str) -> Any:
    """An argument that filters on `reveals` (a `Type.field`): shown only to callers who may read that field."""
    return strawberry.argument(description=description, metadata={"reveals": reveals})


First = Annotated[int | None, strawberry.argument(description="每页条数（默认与上限见服务器配置）")]
After = Annotated[str | None, strawberry.argument(description="从此游标之后开始（上一页的 pageInfo.endCursor）")]
RegionCode = Annotated[
    str | None, strawberry.argument(description="统计用区划代码：只返回该区划及其下级区划内的记录")
]


def name_contains(reveals: str) -> Any:
    return Annotated[str | None, filter_arg("名称包含", reveals)]
Version = Annotated[int, strawberry.argument(description="读取时的版本号（乐观锁：别人已先改过则拒绝，并告知当前版本）")]


class Changes:
    """`Changes[SomeInput]`: a mutation's input argument, described once."""

    def __class_getitem__(cls, input_type: type) -> object:
        return Annotated[input_type, strawberry.argument(description="要修改的字段（只改传入的字段）")]


RecordId = Annotated[strawberry.ID, strawberry.argument(description="记录ID")]
OptionalRecordId = Annotated[strawberry.ID | None, strawberry.argument(description="记录ID")]


def changes_from(input_: Any) -> dict[str, tuple[str, Any]]:
    """The fields a GraphQL input object actually carries: column -> (GraphQL name, value)."""
    return {
        f.python_name: (f.graphql_name or to_camel_case(f.python_name), value)
        for f in input_.__strawberry_definition__.fields
        if (value := getattr(input_, f.python_name)) is not strawberry.UNSET
    }
