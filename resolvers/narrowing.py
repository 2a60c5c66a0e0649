"""Reading only the columns a document asks for, in the loaders that fill lists.

A nested read lists thousands of rows, and every column of them cost CPU to decode,
convert (an enum per enum column) and copy into a record, whatever the document
selected: 7 of the 23 columns of `persons` in the benchmark's read. So, once per
validated document and view (`narrowing`, kept with the prepared document), each
loader declared `narrowable` is given the columns its rows are read for anywhere in
the document — the union over every place it is used — and the request reads through
that narrowed twin (`Context.narrowing`; the same loader for every caller of the spec
in the request, so nothing is loaded twice).

A column is known to be read when the field is a plain column, a masked column (the
projection tags it, `reads`), a relation or connection keyed by it, or when the loader's
own resolvers read it (`narrowable(reads=…)`). Any other field on the rows (a resolver
such as `age` or `history`) and the loader reads whole rows, as before. Only loaders
whose rows reach nothing but their own fields are declared narrowable; lookups by id
(also used to check writes and scopes) never are.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
)
from graphql.utilities import get_operation_ast

from hub.domain.context import LoaderSpec
from resolvers.prefetch import RELATIONS, Relation

# Narrowable loaders, with the columns of their rows their own resolvers read beyond the selection.
NARROWABLE: dict[LoaderSpec, tuple[str, ...]] = {}
# Connection fields (GraphQL type → field → the relation of its pages' rows).
CONNECTIONS: dict[str, dict[str, Relation]] = {}


def narrowable(spec: LoaderSpec, reads: tuple[str, ...] = ()) -> None:
    NARROWABLE[spec] = reads


def connections(type_name: str, **fields: Relation) -> None:
    CONNECTIONS.setdefault(type_name, {}).update(fields)


def _relation(type_name: str, field_name: str) -> Relation | None:
    return RELATIONS.get(type_name, {}).get(field_name) or CONNECTIONS.get(type_name, {}).get(field_name)


class _Walk:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.wanted: dict[LoaderSpec, set[str] | None] = {}

    def fields(self, owner: Any, selection_set: SelectionSetNode) -> Iterator[tuple[Any, FieldNode]]:
        """(type, field) for each field of the selection, fragments spread (@skip/@include ignored: a superset)."""
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield owner, selection
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                yield from self.fields(self.schema.get_type(condition.name.value) if condition else owner, selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                yield from self.fields(self.schema.get_type(fragment.type_condition.name.value), fragment.selection_set)

    def walk(self, owner: Any, selection_set: SelectionSetNode) -> None:
        for parent, node in self.fields(owner, selection_set):
            field_def = getattr(parent, "fields", {}).get(node.name.value)
            if field_def is None:  # __typename
                continue
            relation = _relation(parent.name, node.name.value)
            if relation is not None and relation.loader in NARROWABLE:
                rows = self.row_selections(get_named_type(field_def.type), relation, node)
                columns = self.columns(relation, rows)
                before = self.wanted.get(relation.loader, set())
                self.wanted[relation.loader] = None if columns is None or before is None else before | columns
            if node.selection_set is not None:
                self.walk(get_named_type(field_def.type), node.selection_set)

    def row_selections(self, field_type: Any, relation: Relation, node: FieldNode) -> list[tuple[Any, FieldNode]]:
        """The fields selected on the loaded rows: directly, or under a connection's `nodes` / `edges.node`."""
        if node.selection_set is None:
            return []
        selected = list(self.fields(field_type, node.selection_set))
        if field_type.name == relation.target:
            return selected
        rows = []
        for _, field in selected:
            if field.selection_set is None:
                continue
            if field.name.value == "nodes":
                rows += self.fields(self.schema.get_type(relation.target), field.selection_set)
            elif field.name.value == "edges":
                edge_type = get_named_type(self.schema.get_type(field_type.name).fields["edges"].type)
                for _, edge_field in self.fields(edge_type, field.selection_set):
                    if edge_field.name.value == "node" and edge_field.selection_set is not None:
                        rows += self.fields(self.schema.get_type(relation.target), edge_field.selection_set)
        return rows

    def columns(self, relation: Relation, rows: list[tuple[Any, FieldNode]]) -> set[str] | None:
        """The columns of the loaded rows these fields read, or None when one of them may read any."""
        table_columns = set(relation.loader.table.c.keys())
        needed = set(NARROWABLE[relation.loader])
        for owner, node in rows:
            name = node.name.value
            if name == "__typename":
                continue
            if not isinstance(owner, GraphQLObjectType) or owner.name != relation.target:
                return None
            column = _column_read(owner, name)
            if column is None or column not in table_columns:
                return None
            needed.add(column)
        return needed


def _column_read(owner: GraphQLObjectType, name: str) -> str | None:
    """The one column of the row this field reads, if that is known."""
    relation = _relation(owner.name, name)
    if relation is not None:
        return relation.key
    field_def = owner.fields.get(name)
    definition = (field_def.extensions or {}).get("strawberry-definition") if field_def else None
    if definition is None or field_def.args or definition.extensions:
        return None
    if definition.base_resolver is None:
        return definition.python_name
    return definition.metadata.get("reads")  # a masked column (schema/projection.py)


def narrowing(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> dict[LoaderSpec, LoaderSpec]:
    """Per narrowable loader the document uses, its twin reading only the columns the document needs."""
    operation = get_operation_ast(document, operation_name)
    root = operation and schema.get_root_type(operation.operation)
    if root is None:
        return {}
    walk = _Walk(schema, document)
    walk.walk(root, operation.selection_set)
    return {spec: spec.narrowed(columns) for spec, columns in walk.wanted.items() if columns is not None}
