"""The short path for plain leaves answers exactly what graphql-core's full path answers."""

from __future__ import annotations

import datetime as dt

import pytest
import strawberry
from sqlalchemy import Column, Integer, MetaData, Table, select
from strawberry.schema.config import StrawberryConfig

from hub.data import fast_read
from hub.data.database import StatementCounter
from hub.data.models import AccessLogEntry, Base, Gender
from hub.domain.context import Context
from schema.build import guards
from schema.domains import Mutation, Query
from tests.conftest import client_as

QUERY = """
query($town: String!) {
  region(code: $town) {
    code name level population areaKm2
    children(first: 5) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { code name } }
      nodes {
        name
        households(first: 20) {
          nodes {
            id address lowIncome housingSafetyGrade incomePerPersonMonthly lowIncomeSince memberCount
            head { name }
            members { id name idNumber gender birthDate age relationToHead healthStatus keyCareReason disabilityGrade recentStatusDate }
          }
        }
        floodPoints { nodes { name riskLevel status longitude photos { fileName takenAt sizeBytes } nearbyEnterprise { name floodRisk } } }
      }
    }
  }
}
"""


async def test_fast_and_full_paths_agree(engine, settings, schemas):
    plain = strawberry.Schema(
        query=Query, mutation=Mutation, config=StrawberryConfig(disable_field_suggestions=True), extensions=[guards(settings)]
    )

    async def run(schema) -> dict:
        context = Context(engine, settings, "test", policy=schemas.policy)
        result = await schema.execute(QUERY, variable_values={"town": "350304100000"}, context_value=context)
        assert result.errors is None, result.errors
        return result.data

    fast, full = await run(schemas.full), await run(plain)
    assert fast == full
    villages = fast["region"]["children"]["nodes"]
    assert sum(len(h["members"]) for v in villages for h in v["households"]["nodes"]) > 100



PERSON = "query Person($id: ID!) { person(id: $id) { id name idNumber phone gender birthDate relationToHead } }"
MASKED = "query Person($id: ID!) { person(id: $id) { id name idNumber phone relationToHead } }"
TWO_OPERATIONS = """
query Towns { regions(level: TOWN) { totalCount nodes { code name } } }
query Villages($town: String!) { region(code: $town) { children(first: 3) { nodes { name households(first: 2) { nodes { id members { idNumber } } } } } } }
"""
NO_SUCH_PERSON = 'mutation Edit($id: ID!) { updatePerson(id: $id, version: 1, input: {phone: "13800000000"}) { __typename } }'
# (user, query, variables, operation name): answers, errors of every kind, masking, jurisdiction.
CASES = [
    ("admin", QUERY, {"town": "350304100000"}, None),
    ("weijian", MASKED, {"id": "1"}, "Person"),  # 卫健委: ID and phone numbers masked
    ("dongxing", PERSON, {"id": "1"}, "Person"),  # outside the cadre's village: not found
    ("admin", PERSON, {}, "Person"),  # a missing variable
    ("admin", PERSON, {"id": "1\x00"}, "Person"),  # NUL in a variable
    ("admin", 'query { person(id: 1, idNumber: "350302198703069537") { name } }', None, None),  # a resolver's error
    ("minzheng", TWO_OPERATIONS, None, "Towns"),
    ("minzheng", TWO_OPERATIONS, {"town": "350304100000"}, "Villages"),
    ("admin", NO_SUCH_PERSON, {"id": "999999999"}, "Edit"),  # a mutation: refused over GET below, prepared or not
]


async def test_a_document_validated_before_answers_and_logs_the_same_through_the_short_path(app, engine, tokens):
    """`HubSchema.run` skips strawberry's pipeline for a document its view validated before: each
    case twice (the second time on the short path), same status, same bytes, same access-log row."""

    async def logged(request_id: str) -> tuple:
        columns = (AccessLogEntry.operation_type, AccessLogEntry.operation_name, AccessLogEntry.sensitive_fields,
                   AccessLogEntry.row_count, AccessLogEntry.outcome)
        async with engine.connect() as connection:
            return tuple((await connection.execute(select(*columns).where(AccessLogEntry.request_id == request_id))).one())

    views = (app.state.schemas.full, app.state.schemas.base_data, *app.state.schemas.departments.values())
    short = 0
    for number, (user, query, variables, operation) in enumerate(CASES):
        answers = []
        async with client_as(app, tokens[user]) as client:
            for turn in ("first", "again"):
                request_id = f"prepared-{number}-{turn}"
                body = {"query": query, "variables": variables, "operationName": operation}
                response = await client.post("/graphql", json=body, headers={"x-request-id": request_id})
                answers.append((response.status_code, response.content, await logged(request_id)))
            if operation == "Edit":
                refused = await client.get("/graphql", params={"query": query, "operationName": operation, "variables": '{"id": "1"}'})
                assert refused.status_code == 405 and "mutations are not allowed over GET" in refused.text
        assert answers[0] == answers[1], (user, operation, answers)
        short += any((query, operation) in view.prepared for view in views)
    assert short == len(CASES)  # each document validated the first time: the second took the short path


async def test_fast_reads_on_postgresql_return_what_sqlalchemy_returns(engine):
    """`hub.data.fast_read` (asyncpg directly, SQLAlchemy's compilation cached) against SQLAlchemy's
    own execution: every table's rows, every column type, and parameters of several types."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the fast path is PostgreSQL's")
    persons, households = Base.metadata.tables["persons"], Base.metadata.tables["households"]
    statements = [select(table).order_by(*table.primary_key.columns).limit(300) for table in Base.metadata.sorted_tables]
    statements += [
        select(persons).where(persons.c.gender == Gender.FEMALE, persons.c.birth_date < dt.date(1960, 1, 1)).order_by(persons.c.id),
        select(households).where(households.c.low_income.is_(True), households.c.id.in_([1, 2, 3, 40])).order_by(households.c.id),
    ]
    compared = 0
    counter = StatementCounter(engine)
    for stmt in statements:
        fast = await fast_read.fetch(engine, stmt)
        assert counter.count == (fast is not None)  # announced like any statement (counters, logs)
        async with engine.connect() as connection:
            ordinary = (await connection.execute(stmt)).all()
        if fast is not None:
            assert [tuple(row) for row in fast] == [tuple(row) for row in ordinary], stmt
            compared += bool(ordinary)
        counter.reset()
    counter.close()
    assert compared >= 10
    # A failing statement: None (the ordinary path will raise it), its connection closed, none kept out of the pool.
    missing = Table("no_such_table", MetaData(), Column("id", Integer))
    assert await fast_read.fetch(engine, select(missing).where(missing.c.id == 1)) is None
    assert engine.sync_engine.pool.checkedout() == 0
