"""Execution with a short path for plain leaf fields.

A plain leaf field (a column: no resolver, no arguments, a scalar or enum
type) needs only `getattr` and the type's serialisation. graphql-core still
builds a Path, a ResolveInfo and an argument dict for each one, and on lists
of thousands of rows with a dozen columns that bookkeeping is most of the
request. Here such fields are answered directly; everything else — relations,
resolvers, nulls in non-null fields, values that fail to serialise — takes
graphql-core's full path, with its error handling.
"""

from __future__ import annotations

from collections.abc import Sized
from typing import Any

from graphql import (
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    Undefined,
)
from graphql.execution.collect_fields import GroupedFieldSet
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

from hub.data.models import LabelledEnum


class _NotPlain:
    pass


NOT_PLAIN = _NotPlain()


def plain_leaf(parent_type: GraphQLObjectType, field_name: str) -> tuple[str, Any, bool] | _NotPlain:
    """(python attribute, serialiser, nullable) when the field is a plain column, else NOT_PLAIN."""
    field_def = parent_type.fields.get(field_name)
    if field_def is None or field_def.args:
        return NOT_PLAIN
    definition = (field_def.extensions or {}).get("strawberry-definition")
    if not isinstance(definition, StrawberryField) or definition.base_resolver is not None or definition.extensions:
        return NOT_PLAIN
    nullable = not isinstance(field_def.type, GraphQLNonNull)
    leaf = field_def.type.of_type if isinstance(field_def.type, GraphQLNonNull) else field_def.type
    if not isinstance(leaf, GraphQLLeafType):
        return NOT_PLAIN
    return definition.python_name, _serialiser(leaf), nullable


def _serialiser(leaf: GraphQLLeafType) -> Any:
    """The leaf type's output coercion; for our enums, the member's name read directly.

    strawberry's enum coercion compares `.value` with every member, and `Enum.value`
    is a slow descriptor; the database layer already hands us members of the class.
    """
    enum_class = getattr(leaf, "wrapped_cls", None)
    if enum_class is None or not issubclass(enum_class, LabelledEnum):
        return leaf.coerce_output_value
    coerce = leaf.coerce_output_value

    def serialise(value: Any) -> Any:
        return value._name_ if type(value) is enum_class else coerce(value)

    return serialise


class FastLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Plain leaves take the short path (see above); lists of objects are counted for the access log."""

    def complete_list_value(self, return_type, field_details_list, info, path, result, position_context):  # type: ignore[override]
        item_type = return_type.of_type
        object_type = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if isinstance(object_type, GraphQLObjectType) and isinstance(result, Sized):
            self.context_value.rows_returned += len(result)
            if object_type.is_type_of is None:
                rows = self._leaf_rows(object_type, field_details_list, result)
                if rows is not None:
                    return rows
        return super().complete_list_value(return_type, field_details_list, info, path, result, position_context)

    def build_response(self, data: dict[str, Any] | None) -> Any:
        response = super().build_response(data)
        if not self.background_futures and self.async_work_finished_hook_task is None:
            # The context refers to itself (its async helpers are its own bound methods), so
            # without this everything it cached lives until the collector's next full pass:
            # an export runs hundreds of executions back to back.
            self.async_helpers = None
            self._relevant_sub_fields.clear()
            self._selection_plans.clear()
        return response

    def _leaf_rows(self, object_type: GraphQLObjectType, field_details_list: Any, items: Any) -> list | None:
        """A list of objects whose selection is plain leaves only, completed in one loop;
        None (the full path) as soon as any value needs graphql-core's handling."""
        collected = self.collect_subfields(object_type, field_details_list)
        if collected.new_defer_usages:
            return None
        _, leaves, others = self._plan(object_type, collected.grouped_field_set)
        if others:
            return None
        rows = []
        for item in items:
            if item is None:
                return None
            row = {}
            for response_name, (attribute, serialise, nullable) in leaves:
                value = getattr(item, attribute, None)
                if value is None:
                    if not nullable:
                        return None
                    row[response_name] = None
                    continue
                try:
                    coerced = serialise(value)
                except Exception:  # noqa: BLE001 - the full path reports it properly
                    return None
                if coerced is None or coerced is Undefined:
                    return None
                row[response_name] = coerced
            rows.append(row)
        return rows

    # Plans per (type, field), shared by all requests; keyed by the type object, not its id.
    _leaf_plans: dict[tuple[GraphQLObjectType, str], tuple[str, Any, bool] | _NotPlain] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # graphql-core memoises each selection's grouped field set, so every row of
        # a list comes with the same object: plan it once per request.
        self._selection_plans: dict[int, tuple[GroupedFieldSet, list[tuple[str, Any]], dict]] = {}

    def _leaf_plan(self, parent_type: GraphQLObjectType, node: Any) -> tuple[str, Any, bool] | None:
        if node.arguments or node.directives:
            return None
        key = (parent_type, node.name.value)
        plan = self._leaf_plans.get(key)
        if plan is None:
            plan = self._leaf_plans[key] = plain_leaf(parent_type, node.name.value)
        return None if plan is NOT_PLAIN else plan

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet) -> tuple:
        """(grouped field set, [(response name, leaf plan)], {response name: details} of the others)."""
        plan = self._selection_plans.get(id(grouped_field_set))
        if plan is None:
            leaves = []
            others = {}
            for response_name, details in grouped_field_set.items():
                leaf = self._leaf_plan(parent_type, details[0].node) if len(details) == 1 else None
                if leaf is None:
                    others[response_name] = details
                leaves.append((response_name, leaf))
            plan = self._selection_plans[id(grouped_field_set)] = (grouped_field_set, leaves, others)
        return plan

    def execute_fields(self, parent_type, source_value, path, grouped_field_set, position_context):  # type: ignore[override]
        _, leaves, others = self._plan(parent_type, grouped_field_set)
        if len(others) == len(leaves):
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)

        results: dict[str, Any] = {}
        slow = dict(others)
        for response_name, leaf in leaves:
            if leaf is None:
                continue
            attribute, serialise, nullable = leaf
            value = getattr(source_value, attribute, None)
            if value is None:
                if nullable:
                    results[response_name] = None
                    continue
            else:
                try:
                    coerced = serialise(value)
                except Exception:  # noqa: BLE001 - the full path reports it properly
                    coerced = Undefined
                if coerced is not Undefined and coerced is not None:
                    results[response_name] = coerced
                    continue
            slow[response_name] = grouped_field_set[response_name]
        if not slow:
            return results
        rest = super().execute_fields(parent_type, source_value, path, slow, position_context)
        if self.is_awaitable(rest):

            async def merged() -> dict[str, Any]:
                return _in_order(leaves, results, await rest)

            return merged()
        return _in_order(leaves, results, rest)


def _in_order(leaves: list[tuple[str, Any]], fast: dict[str, Any], rest: dict[str, Any]) -> dict[str, Any]:
    """Both halves, in the order the query asked for them (fields absent from both stay absent)."""
    return {name: fast[name] if name in fast else rest[name] for name, _ in leaves if name in fast or name in rest}
