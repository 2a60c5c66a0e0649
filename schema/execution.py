"""Execution with a short path for plain leaf fields.

A plain leaf field (a column: no resolver, no arguments, a scalar or enum
type) needs only `getattr` and the type's serialisation. graphql-core still
builds a Path, a ResolveInfo and an argument dict for each one, and on lists
of thousands of rows with a dozen columns that bookkeeping is most of the
request. Here such fields are answered directly, and so are masked columns (a
department's view masks them with a one-line resolver, schema/projection.py: here the
mask, then the type's serialisation, never a value as it is); everything else —
relations, resolvers, nulls in non-null fields, values that fail to serialise — takes
graphql-core's full path, with its error handling.

A list of objects whose selection is plain leaves and relations marked DIRECT
(schema/fields.py: the resolver answers exactly what its loader loads) whose
values are loaded already (look-ahead, resolvers/prefetch.py) is planned once
per selection and completed by a function compiled for that plan, rows below
included: a town's 1,708 households and their members without graphql-core's
per-field machinery. Anything the plan does not cover takes the full path for
the whole list (tests/test_narrowing.py compares both, `HUB_FAST_ROWS=0`).

A query that is one root lookup of plain leaves (`person(id: $id) { id name … }`: a field
marked LOOKUP, schema/fields.py) is planned once per validated document (`LookupPlan`) and run
without graphql-core's execution at all: its variables and arguments coerced as graphql-core
coerces them, strawberry's own resolver called, the row built by the compiled builder. For a
one-row lookup graphql-core's execution context, field collection and completion were a third
of the request's CPU. Anything else — an error in coercion or in the resolver, a value the
builder cannot complete — answers through the full path instead; a lookup is a read through a
loader, so running it again there answers the same, from the loader's cache.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sized
from dataclasses import dataclass
from inspect import isawaitable
from operator import attrgetter
from typing import Any, NamedTuple

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLBoolean,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    OperationType,
    Undefined,
)
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.pyutils import Path
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.types.base_scalars import isoformat
from strawberry.types.field import StrawberryField

from hub.data.models import LabelledEnum
from resolvers.prefetch import RELATIONS


class _NotPlain:
    pass


NOT_PLAIN = _NotPlain()
_NOT_LOADED = object()  # a relation's value is not loaded yet, or needs the full path
_SERIALISE = object()


_AS_IS: dict[Any, dict[type, Any]] = {}  # per leaf type, built once (compiled rows are kept by its identity)
_NOTHING_AS_IS: dict[type, Any] = {}


def _as_is(field_type: Any) -> dict[type, Any]:
    leaf = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    as_is = _AS_IS.get(leaf)
    if as_is is None:
        as_is = _AS_IS[leaf] = _as_is_for(leaf)
    return as_is


def _as_is_for(leaf: Any) -> dict[type, Any]:
    """For a leaf type, the Python types whose values serialise without the type's coercion (None: as
    they are; else the function that gives what the coercion would): the common cases, read in C."""
    if leaf is GraphQLString:
        return {str: None}
    if leaf is GraphQLBoolean:
        return {bool: None}
    if leaf is GraphQLID:
        return {str: None, int: str}
    if leaf.coerce_output_value is isoformat:  # strawberry's Date, DateTime and Time
        return {dt.date: dt.date.isoformat, dt.datetime: dt.datetime.isoformat, dt.time: dt.time.isoformat}
    enum_class = getattr(leaf, "wrapped_cls", None)
    if enum_class is not None and issubclass(enum_class, LabelledEnum):
        return {enum_class: attrgetter("_name_")}
    return {}


class Leaf(NamedTuple):
    """A field answered from its row's attribute, and how."""

    attribute: str
    serialise: Any
    nullable: bool
    as_is: dict[type, Any]  # the Python types whose values serialise as they are (see `_as_is`); none when masked


def plain_leaf(parent_type: GraphQLObjectType, field_name: str) -> Leaf | _NotPlain:
    """How to answer the field when it is a plain column or a masked one, else NOT_PLAIN."""
    field_def = parent_type.fields.get(field_name)
    if field_def is None or field_def.args:
        return NOT_PLAIN
    definition = (field_def.extensions or {}).get("strawberry-definition")
    if not isinstance(definition, StrawberryField) or definition.extensions:
        return NOT_PLAIN
    mask = definition.metadata.get("mask")
    if definition.base_resolver is not None and mask is None:
        return NOT_PLAIN
    nullable = not isinstance(field_def.type, GraphQLNonNull)
    leaf = field_def.type.of_type if isinstance(field_def.type, GraphQLNonNull) else field_def.type
    if not isinstance(leaf, GraphQLLeafType):
        return NOT_PLAIN
    if mask is not None:  # a masked column (schema/projection.py): masked, then coerced; never a value as it is
        coerce = _serialiser(leaf)
        return Leaf(definition.metadata["reads"], lambda value: coerce(mask(value)), nullable, _NOTHING_AS_IS)
    return Leaf(definition.python_name, _serialiser(leaf), nullable, _as_is(field_def.type))


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
    """Plain leaves and planned lists take the short path (see above); lists of objects are counted for the access log."""

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
            self._row_plans.clear()
        return response

    def _leaf_rows(self, object_type: GraphQLObjectType, field_details_list: Any, items: Any) -> list | None:
        """A list of objects whose selection is plain leaves and loaded relations (see `_row_plan`),
        completed in one loop; None (the full path) as soon as any value needs graphql-core's handling."""
        plan = self._row_plan(object_type, field_details_list)
        if plan is None:
            return None
        counted = [0]
        rows = self._rows(plan, items, counted)
        if rows is not None:
            self.context_value.rows_returned += counted[0]  # the lists inside, counted as the full path counts them
        return rows

    def _row_plan(self, object_type: GraphQLObjectType, field_details_list: Any) -> tuple | None:
        """The rows' builder (see `_compile`) and the relations it is given, or None if a field is selected
        that is neither a plain leaf nor a relation field that answers exactly what its loader loads
        (`metadata["direct"]`). The plan has per field (response name, False, attribute, types serialised
        as they are, serialiser, nullable) or (response name, True, loader, key attribute, nullable, is list,
        the rows' builder and relations). Memoised per request, as graphql-core memoises the selection."""
        collected = self.collect_subfields(object_type, field_details_list)
        key = id(collected.grouped_field_set)
        if key in self._row_plans:
            return self._row_plans[key][1]
        self._row_plans[key] = (collected, None)  # while planning: a selection that nests itself takes the full path
        fast = self.context_value.settings.fast_rows
        plan: list | None = None if collected.new_defer_usages else []
        for response_name, details in collected.grouped_field_set.items() if plan is not None else ():
            leaf = self._leaf_plan(object_type, details[0].node) if len(details) == 1 else None
            if leaf is not None:
                plan.append((response_name, False, leaf.attribute, leaf.as_is if fast else _NOTHING_AS_IS, leaf.serialise, leaf.nullable))
                continue
            loaded = self._loaded_plan(object_type, details) if fast else None
            if loaded is None:
                plan = None
                break
            plan.append((response_name, True, *loaded))
        compiled = None if plan is None else (_builder(plan), tuple(entry for entry in plan if entry[1]))
        self._row_plans[key] = (collected, compiled)
        return compiled

    def _loaded_plan(self, parent_type: GraphQLObjectType, details: Any) -> tuple | None:
        """(loader, key attribute, nullable, is list, the rows' builder) for a direct relation field, else None."""
        node = details[0].node
        if len(details) != 1 or node.arguments or node.directives:
            return None
        field_def = parent_type.fields.get(node.name.value)
        definition = (field_def.extensions or {}).get("strawberry-definition") if field_def else None
        relation = RELATIONS.get(parent_type.name, {}).get(node.name.value)
        if relation is None or not isinstance(definition, StrawberryField) or field_def.args or definition.extensions:
            return None
        if not definition.metadata.get("direct"):
            return None
        nullable = not isinstance(field_def.type, GraphQLNonNull)
        inner = field_def.type if nullable else field_def.type.of_type
        is_list = isinstance(inner, GraphQLList)
        if is_list:
            if not isinstance(inner.of_type, GraphQLNonNull):
                return None
            inner = inner.of_type.of_type
        if not isinstance(inner, GraphQLObjectType) or inner.is_type_of is not None or inner.name != relation.target:
            return None
        plan = self._row_plan(inner, details)
        return None if plan is None else (relation.loader, relation.key, nullable, is_list, plan)

    def _rows(self, compiled: tuple, items: Any, counted: list[int]) -> list | None:
        build, relations = compiled
        return build(items, counted, self._loaded, relations)

    def _loaded(self, entry: tuple, item: Any, counted: list[int]) -> Any:
        """A direct relation's completed value, if its loader has it already (see `Context.load_now`)."""
        _, _, spec, key, nullable, is_list, plan = entry
        parent_key = getattr(item, key, None)
        if parent_key is None:
            return _NOT_LOADED
        future = self.context_value.loader(spec).load(parent_key)
        if not future.done() or future.cancelled() or future.exception() is not None:
            return _NOT_LOADED
        value = future.result()
        if value is None:
            return None if nullable else _NOT_LOADED
        if is_list:
            if not isinstance(value, list):
                return _NOT_LOADED
            counted[0] += len(value)
            rows = self._rows(plan, value, counted)
        else:
            rows = self._rows(plan, (value,), counted)
            rows = rows and rows[0]
        return _NOT_LOADED if rows is None else rows

    # Plans per (type, field), shared by all requests; keyed by the type object, not its id.
    _leaf_plans: dict[tuple[GraphQLObjectType, str], Leaf | _NotPlain] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # graphql-core memoises each selection's grouped field set, so every row of
        # a list comes with the same object: plan it once per request.
        self._selection_plans: dict[int, tuple[GroupedFieldSet, list[tuple[str, Any]], dict]] = {}
        self._row_plans: dict[int, tuple[Any, list | None]] = {}  # see `_row_plan`

    def _leaf_plan(self, parent_type: GraphQLObjectType, node: Any) -> Leaf | None:
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
            attribute, serialise, nullable, _ = leaf
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


_builders: dict[tuple, Any] = {}


def _builder(plan: list) -> Any:
    """The plan's rows built by a function written for it (as graphql-jit does for JavaScript): one
    `getattr`, one type test and one dict display per field instead of a loop over the plan. Kept per
    plan shape (response names, attributes, leaf serialisers): relations come in as arguments."""
    shape = tuple((e[0], True) if e[1] else (e[0], False, e[2], id(e[3]), e[4], e[5]) for e in plan)
    build = _builders.get(shape)
    if build is None:
        if len(_builders) > 1000:
            _builders.clear()
        build = _builders[shape] = _compile(plan)
    return build


def _compile(plan: list) -> Any:
    names: dict[str, Any] = {"NOT_LOADED": _NOT_LOADED, "SERIALISE": _SERIALISE, "Undefined": Undefined}
    lines = ["def build(items, counted, loaded, relations):", " rows = []", " for item in items:", "  if item is None:", "   return None"]
    fields = []
    relation = 0
    for index, entry in enumerate(plan):
        value = f"f{index}"
        fields.append(f"{entry[0]!r}: {value}")
        if entry[1]:
            lines += [f"  {value} = loaded(relations[{relation}], item, counted)", f"  if {value} is NOT_LOADED:", "   return None"]
            relation += 1
            continue
        _, _, attribute, as_is, serialise, nullable = entry
        names[f"a{index}"], names[f"s{index}"] = as_is, serialise
        lines += [f"  v = getattr(item, {attribute!r}, None)", "  if v is None:"]
        lines += [f"   {value} = None"] if nullable else ["   return None"]
        lines += [
            "  else:",
            f"   c = a{index}.get(type(v), SERIALISE)",
            "   if c is None:",
            f"    {value} = v",
            "   else:",
            "    try:",
            f"     {value} = s{index}(v) if c is SERIALISE else c(v)",
            "    except Exception:",  # the full path reports it properly
            "     return None",
            f"    if {value} is None or {value} is Undefined:",
            "     return None",
        ]
    lines += ["  rows.append({" + ", ".join(fields) + "})", " return rows"]
    exec(compile("\n".join(lines), "<schema.execution rows>", "exec"), names)  # noqa: S102 - code written from the plan's names
    return names["build"]


@dataclass(frozen=True)
class LookupPlan:
    """A query that is one root lookup whose selection is plain leaves, and the builder of its row."""

    operation: OperationDefinitionNode
    node: FieldNode
    response_name: str
    field: GraphQLField
    parent_type: GraphQLObjectType
    nullable: bool
    build: Callable[..., list | None]

    async def run(self, schema: GraphQLSchema, variables: dict[str, Any] | None, context: Any) -> dict[str, Any] | None:
        """The answer's data, or None: then the full path answers (errors included)."""
        coerced = get_variable_values(schema, self.operation.variable_definitions or (), variables or {}, max_errors=50)
        if isinstance(coerced, list):
            return None
        try:
            arguments = get_argument_values(self.field, self.node, coerced)
        except GraphQLError:
            return None
        info = GraphQLResolveInfo(
            self.node.name.value, [self.node], self.field.type, self.parent_type, Path(None, self.response_name, self.parent_type.name),
            schema, {}, None, self.operation, coerced, context, optimized_is_awaitable, None, None,
        )
        try:
            value = self.field.resolve(None, info, **arguments)
            if isawaitable(value):
                value = await value
        except Exception:  # noqa: BLE001 - the full path reports it, located, as graphql-core does
            return None
        if value is None:
            return {self.response_name: None} if self.nullable else None
        rows = self.build((value,), [0], None, ())
        return None if rows is None else {self.response_name: rows[0]}


def lookup_plan(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> LookupPlan | None:
    """The document's plan if it is a query of one LOOKUP root field selecting plain leaves only
    (no fragments, no directives, no `__typename`), else None."""
    if len(document.definitions) != 1 or not isinstance(operation := document.definitions[0], OperationDefinitionNode):
        return None
    if operation.operation is not OperationType.QUERY or operation.directives:
        return None
    if operation_name is not None and (operation.name is None or operation.name.value != operation_name):
        return None
    if len(operation.selection_set.selections) != 1 or not isinstance(node := operation.selection_set.selections[0], FieldNode):
        return None
    parent_type = schema.query_type
    field = parent_type.fields.get(node.name.value) if parent_type else None
    definition = (field.extensions or {}).get("strawberry-definition") if field else None
    if node.directives or node.selection_set is None or not isinstance(definition, StrawberryField) or not definition.metadata.get("lookup"):
        return None
    nullable = not isinstance(field.type, GraphQLNonNull)
    object_type = field.type if nullable else field.type.of_type
    if not isinstance(object_type, GraphQLObjectType) or object_type.is_type_of is not None:
        return None
    plan: list[tuple] = []
    names: dict[str, str] = {}
    for selection in node.selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.directives or selection.arguments or selection.selection_set:
            return None
        response_name = (selection.alias or selection.name).value
        if response_name in names:  # the same field asked twice answers once, where first asked
            if names[response_name] != selection.name.value:
                return None
            continue
        leaf = plain_leaf(object_type, selection.name.value)
        if leaf is NOT_PLAIN:
            return None
        names[response_name] = selection.name.value
        plan.append((response_name, False, leaf.attribute, leaf.as_is, leaf.serialise, leaf.nullable))
    return LookupPlan(operation, node, (node.alias or node.name).value, field, parent_type, nullable, _builder(plan))
