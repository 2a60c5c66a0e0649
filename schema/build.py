"""Builds the schema once per process, with the guards that protect the server."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    execute,
    validate,
)
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.extensions import ParserCache, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.field import StrawberryField
from strawberry.types.graphql import OperationType

from hub.access.access_log import AccessLogExtension, OperationNotes
from hub.access.policy import Policy, ReadScope, load_policy
from hub.data.models import Role
from hub.domain.context import LoaderSpec
from hub.settings import Settings
from resolvers.narrowing import narrowing
from schema.domains import Mutation, Query, Subscription
from schema.execution import FastLeafExecutionContext, LookupPlan, lookup_plan
from schema.inputs import nul_error
from schema.projection import Projection, relation_targets


@dataclass(frozen=True)
class Prepared:
    """A document this view parsed and validated without errors, and the operation it names."""

    document: DocumentNode
    operation_type: OperationType
    narrowing: dict[LoaderSpec, LoaderSpec]  # loaders it reads fewer columns through (resolvers/narrowing.py)
    lookup: LookupPlan | None  # a root lookup of plain leaves, run outside graphql-core (schema/execution.py)
    notes: OperationNotes  # for the access log: the same every time it runs


class HubSchema(strawberry.Schema):
    """The one schema, or a department's projection of it (see `schema.projection`)."""

    def __init__(self, *args: Any, projection: Projection | None = None, **kwargs: Any) -> None:
        self.projection = projection  # set first: strawberry calls get_fields while it builds
        # (query text, operation name) -> what strawberry's pipeline found the first time
        self.prepared: OrderedDict[tuple[str, str | None], Prepared] = OrderedDict()
        super().__init__(*args, **kwargs)

    def remember(self, query: str, operation_name: str | None, prepared: Prepared) -> None:
        self.prepared[(query, operation_name)] = prepared
        if len(self.prepared) > VALIDATION_CACHE_SIZE:
            self.prepared.popitem(last=False)

    async def run(
        self, query: str, variables: dict[str, Any] | None, context: Any, operation_name: str | None, allowed: set[OperationType]
    ) -> ExecutionResult:
        """`execute`, with a short path for an operation this view has validated before.

        strawberry's pipeline (execution context, extension hooks, the parse and validation
        caches' look-ups) cost a one-row lookup about a tenth of its CPU. A document it parsed and
        validated without errors (see `guards`) depends only on its text and this view: run
        again, it goes straight to graphql-core with what the pipeline would do around it — the
        operation-type check, the NUL check on its variables, the access log's notes (made once). Anything
        else, and every error, takes strawberry's own path, so answers stay the same.
        """
        prepared = self.prepared.get((query, operation_name))
        if prepared is None or prepared.operation_type not in allowed or nul_error(prepared.document, variables, query):
            return await self.execute(
                query, variable_values=variables, context_value=context, operation_name=operation_name, allowed_operation_types=allowed
            )
        self.prepared.move_to_end((query, operation_name))
        prepared.notes.note(context.audit)
        if context.settings.narrow_reads:
            context.narrowing = prepared.narrowing
        if prepared.lookup is not None and context.settings.fast_rows:
            data = await prepared.lookup.run(self._schema, variables, context)
            if data is not None:
                context.audit["row_count"] = context.rows_returned
                return ExecutionResult(data=data, errors=None)
        try:
            result = execute(
                self._schema, prepared.document, variable_values=variables, operation_name=operation_name, context_value=context,
                is_awaitable=optimized_is_awaitable, executor_class=FastLeafExecutionContext, operation_extensions=None,
            )
            if isawaitable(result):
                result = await result
        except Exception as error:  # noqa: BLE001 - as strawberry answers an exception outside resolvers
            return PreExecutionError(data=None, errors=[error if isinstance(error, GraphQLError) else GraphQLError(str(error), original_error=error)])
        context.audit["row_count"] = context.rows_returned
        return ExecutionResult(data=result.data, errors=result.errors)

    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        fields = super().get_fields(type_definition)
        return fields if self.projection is None else self.projection.fields(type_definition.name, fields)

    def process_errors(self, errors, execution_context=None) -> None:
        # Client errors are answers, not incidents; the HTTP layer logs the
        # unexpected ones once, with the request id.
        pass


def guards(settings: Settings) -> type[SchemaExtension]:
    """Token, depth and alias limits, checked before execution.

    The rule classes are made once here: strawberry's own limiter extensions
    build new rule classes per instance, which would defeat any validation cache.
    """
    rules = (max_depth_rule(settings.max_depth, None, None), max_aliases_rule(settings.max_aliases))
    # Validation depends only on the schema and the document: remember it for repeated queries
    # (clients send the same few operations again and again).
    validated: OrderedDict[tuple[int, str], list] = OrderedDict()

    class Guards(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            context = self.execution_context
            context.parse_options["max_tokens"] = settings.max_tokens
            context.validation_rules = (*context.validation_rules, *rules)
            yield

        def on_validate(self) -> Iterator[None]:
            # Validate here, with every "Did you mean …" hidden: suggestions would name
            # types and fields of other departments' views. strawberry then skips its own pass.
            context = self.execution_context
            key = (id(context.schema), context.query or "")
            errors = validated.get(key) if context.query else None
            if errors is None:
                errors = validate(
                    context.schema._schema,
                    context.graphql_document,
                    (*context.validation_rules, MaybeNullValidationRule, OneOfInputValidationRule),
                    hide_suggestions=True,
                )
                if context.query:
                    validated[key] = errors
                    if len(validated) > VALIDATION_CACHE_SIZE:
                        validated.popitem(last=False)
            else:
                validated.move_to_end(key)
            if not errors and context.query and isinstance(context.schema, HubSchema):
                document, operation_name = context.graphql_document, context.operation_name
                schema = context.schema._schema
                prepared = Prepared(
                    document, context.operation_type, narrowing(schema, document, operation_name), lookup_plan(schema, document, operation_name),
                    OperationNotes.of(context.schema, document, operation_name, context.context.policy.sensitive),
                )
                context.schema.remember(context.query, operation_name, prepared)
                if sum(isinstance(d, OperationDefinitionNode) for d in document.definitions) == 1:
                    # strawberry names the one operation itself; clients mostly send no operationName
                    context.schema.remember(context.query, None, prepared)
            if not errors:  # variables change from request to request: checked after the cache
                nul = nul_error(context.graphql_document, context.variables, context.query)
                errors = [nul] if nul else errors
            context.pre_execution_errors = list(errors)
            yield

    return Guards


VALIDATION_CACHE_SIZE = 1000
# Workflow mutations each view shows (by their `writes` metadata); who may act is checked by role when they run.
DEPARTMENT_WORKFLOWS = ("Template", "Indicator", "Request", "TaskCheck", "Document")  # templates, indicators, filing, checking submissions, documents
GRASSROOTS_WORKFLOWS = frozenset({"IndicatorValue", "Task", "Review", "TaskCheck", "Document"})  # filling and submitting, town review and checks, documents


def build_schema(settings: Settings, projection: Projection | None = None) -> HubSchema:
    writes = projection is None or projection.writable
    return HubSchema(
        projection=projection,
        query=Query,
        mutation=Mutation if writes else None,
        # The live board pushes events' reports: a view that reads no event has nothing to subscribe to.
        subscription=Subscription if projection is None or projection.reads("Event.id") else None,
        config=StrawberryConfig(disable_field_suggestions=True),
        extensions=[lambda: ParserCache(maxsize=1000), guards(settings), AccessLogExtension],
        execution_context_class=FastLeafExecutionContext,
    )


class Schemas:
    """The full schema and every projection the policy defines, built once at start-up."""

    def __init__(self, settings: Settings, policy: Policy | None = None) -> None:
        self.full = build_schema(settings)
        self.policy = policy or load_policy(self.full._schema)
        targets = relation_targets(self.full._schema)
        self.base_data = build_schema(
            settings, Projection(self.policy.base_visibility(), targets, self.policy.base_data_writable() | GRASSROOTS_WORKFLOWS)
        )
        self.departments = {
            # Departments keep their own templates, and write the fields they own.
            key: build_schema(
                settings,
                Projection(
                    self.policy.department_visibility(key),
                    targets,
                    frozenset({*DEPARTMENT_WORKFLOWS, *(ref.partition(".")[0] for ref in department.writes)}),
                    department.writes,
                ),
            )
            for key, department in self.policy.departments.items()
        }

    def for_caller(self, role: Role, department: str | None) -> HubSchema | None:
        """The caller's view; None for an analyst whose department the policy does not know."""
        scope = self.policy.roles[role].read
        if scope is ReadScope.EVERYTHING:
            return self.full
        if scope is ReadScope.BASE_DATA:
            return self.base_data
        return self.departments.get(department or "")
