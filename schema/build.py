"""Builds the schema once per process, with the guards that protect the server."""

from __future__ import annotations

from collections.abc import Iterator

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.schema.config import StrawberryConfig

from hub.settings import Settings
from schema.execution import FastLeafExecutionContext
from schema.query import Query


class HubSchema(strawberry.Schema):
    """The one schema. Department projections (field grants) hook in through `get_fields`."""

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

    class Guards(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            context = self.execution_context
            context.parse_options["max_tokens"] = settings.max_tokens
            context.validation_rules = (*context.validation_rules, *rules)
            yield

    return Guards


def build_schema(settings: Settings) -> HubSchema:
    return HubSchema(
        query=Query,
        config=StrawberryConfig(disable_field_suggestions=True),
        extensions=[guards(settings)],
        execution_context_class=FastLeafExecutionContext,
    )
