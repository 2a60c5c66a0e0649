"""A department's view of the one schema: only its granted fields, masked where granted so.

Built once per department (and per grassroots role) at start-up through
strawberry's `Schema.get_fields`. A field that is not granted does not exist
in that view: introspection and GraphiQL do not show it, and a query asking
for it is refused by validation, before anything runs, with an error naming
it. Relations follow from grants (a relation shows when its target type has
a visible field, and what choosing its rows tells — `reveals` metadata, as
`Household.head` tells `Person.relationToHead` — is granted `read`); filter
arguments show only when the field they filter on is granted `read`, so a
filter cannot rebuild a field that is hidden or masked. Input types list only
the fields the view may write (`sets` metadata), and a mutation shows only when
the view may set every field its input requires.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import MISSING, dataclass
from functools import cached_property

from graphql import GraphQLNamedType, GraphQLObjectType, GraphQLSchema, get_named_type
from strawberry.types.arguments import StrawberryArgument
from strawberry.types.field import StrawberryField
from strawberry.types.fields.resolver import StrawberryResolver
from strawberry.utils.str_converters import to_camel_case

from hub.access.masking import MASKS
from hub.access.policy import BASE_TYPES, Mode

# Types whose rows only grants (or the admin's whole view) can show.
RESTRICTED_TYPES = (*BASE_TYPES, "AccessLogEntry")

Visibility = dict[str, dict[str, Mode]]  # type -> field -> mode


Targets = dict[tuple[str, str], str]  # (type, field) -> the object type it leads to


def relation_targets(schema: GraphQLSchema) -> Targets:
    """For every object-valued field of the full schema, the type whose rows it returns.

    Connections and edges count as their node type: `Query.households` leads to `Household`.
    """

    def rows_of(named: GraphQLNamedType) -> str:
        if isinstance(named, GraphQLObjectType) and ("nodes" in named.fields or "node" in named.fields):
            return rows_of(get_named_type(named.fields.get("nodes", named.fields.get("node")).type))
        return named.name

    return {
        (type_.name, name): rows_of(get_named_type(field.type))
        for type_ in schema.type_map.values()
        if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__")
        for name, field in type_.fields.items()
        if isinstance(get_named_type(field.type), GraphQLObjectType)
    }


@dataclass(frozen=True)
class Projection:
    visibility: Visibility
    targets: Targets
    writable: frozenset[str] = frozenset()  # types whose mutations show
    # `Type.field`s input types list (None: all, for views that read every field anyway).
    settable: frozenset[str] | None = None

    def reads(self, ref: str) -> bool:
        """Whether the view reads `Type.field` in full."""
        return _mode(self.visibility, ref) is Mode.READ

    def masked_fields(self) -> frozenset[str]:
        return self._masked

    @cached_property
    def _masked(self) -> frozenset[str]:  # asked for on every request (the access log): the view never changes
        return frozenset(f"{t}.{f}" for t, fields in self.visibility.items() for f, mode in fields.items() if mode is Mode.MASKED)

    def fields(self, type_name: str, fields: list[StrawberryField]) -> list[StrawberryField]:
        granted = self.visibility.get(type_name)
        kept = []
        for field in fields:
            name = _graphql_name(field)
            target = self.targets.get((type_name, name))
            if "sets" in field.metadata:  # a field of an input type
                if self._may_set(field):
                    kept.append(field)
            elif field.metadata.get("indicators"):
                kept.append(field)  # indicator values: each indicator's grants are data, checked when the field runs
            elif type_name == "Mutation":
                if field.metadata.get("writes") in self.writable and self._usable(field):
                    kept.append(field)
            elif target is not None:
                # A relation: shown when it leads to visible rows, or to plumbing (page info, errors),
                # and what choosing its rows tells (`reveals`, e.g. who the head is) is read in full.
                leads = target in self.visibility or target not in RESTRICTED_TYPES
                revealed = field.metadata.get("reveals")
                if leads and (revealed is None or _mode(self.visibility, revealed) is Mode.READ):
                    kept.append(_without_hidden_arguments(field, self.visibility))
            elif granted is not None:
                if name in granted:
                    masked = granted[name] is Mode.MASKED
                    kept.append(_masked(field, MASKS[f"{type_name}.{name}"]) if masked else field)
            elif type_name not in BASE_TYPES:
                kept.append(field)  # leaves of connections and page info; their types show only if reachable
        return kept

    def _may_set(self, field: StrawberryField) -> bool:
        # Inputs of the workflows (indicators, requests, tasks) set no record field: the role decides when they run.
        return self.settable is None or "sets" not in field.metadata or field.metadata["sets"] in self.settable

    def _usable(self, mutation: StrawberryField) -> bool:
        """A mutation shows when each input it takes keeps a field and every required one."""
        for argument in mutation.arguments:
            input_type = argument.type
            while hasattr(input_type, "of_type"):  # optional, list
                input_type = input_type.of_type
            definition = getattr(input_type, "__strawberry_definition__", None)
            if definition is None or not definition.is_input:
                continue
            settable = [self._may_set(f) for f in definition.fields]
            required = [self._may_set(f) for f in definition.fields if f.default is MISSING and f.default_factory is MISSING]
            if not any(settable) or not all(required):
                return False
        return True


def reveals(field: StrawberryField) -> dict[str, str]:
    """GraphQL argument name -> the `Type.field` it filters on (from `filter_arg` metadata)."""
    return {_graphql_name(a): a.metadata["reveals"] for a in field.arguments if "reveals" in a.metadata}


def _without_hidden_arguments(field: StrawberryField, visibility: Visibility) -> StrawberryField:
    hidden = {arg for arg, ref in reveals(field).items() if _mode(visibility, ref) is not Mode.READ}
    if not hidden:
        return field
    projected = copy.copy(field)
    projected.arguments = [a for a in field.arguments if _graphql_name(a) not in hidden]
    return projected


def _masked(field: StrawberryField, mask: Callable[[str | None], str | None]) -> StrawberryField:
    attribute = field.python_name

    # No annotations: strawberry then keeps the field's own type. It passes the row as `root`.
    def masked(root):  # noqa: ANN001, ANN202
        return mask(getattr(root, attribute))

    projected = copy.copy(field)
    projected.base_resolver = StrawberryResolver(masked)
    # The one column it reads (resolvers/narrowing.py), and how it is masked (planned rows, schema/execution.py).
    projected.metadata = {**field.metadata, "reads": attribute, "mask": mask}
    return projected


def _mode(visibility: Visibility, ref: str) -> Mode | None:
    type_name, _, field_name = ref.partition(".")
    return visibility.get(type_name, {}).get(field_name)


def _graphql_name(item: StrawberryField | StrawberryArgument) -> str:
    return item.graphql_name or to_camel_case(item.python_name)
