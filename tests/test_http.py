"""GraphQL over HTTP: media types, status codes, guards, error masking, timeouts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hub.web.app import create_app
from resolvers import regions
from tests.conftest import client_as

GQL = "application/graphql-response+json"


async def test_get_runs_queries(client):
    response = await client.get("/graphql", params={"query": "{ regions(level: DISTRICT) { totalCount } }"}, headers={"accept": GQL})
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GQL}; charset=utf-8"
    assert response.json() == {"data": {"regions": {"totalCount": 7}}}


async def test_mutation_over_get_is_405(client):
    response = await client.get("/graphql", params={"query": "mutation { x }"}, headers={"accept": GQL})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_parse_error_is_400_without_data(client):
    response = await client.post("/graphql", json={"query": "{ regions("}, headers={"accept": GQL})
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["message"].startswith("Syntax Error")


async def test_legacy_json_clients_get_200_for_request_errors(client):
    response = await client.post("/graphql", json={"query": "{ nope }"}, headers={"accept": "application/json"})
    assert response.status_code == 200
    assert response.json() == {
        "errors": [{"message": "Cannot query field 'nope' on type 'Query'.", "locations": [{"line": 1, "column": 3}]}]
    }


async def test_no_field_suggestions(client):
    response = await client.post("/graphql", json={"query": "{ region(code: \"350300000000\") { nam } }"}, headers={"accept": GQL})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Cannot query field 'nam' on type 'Region'."


async def test_variable_coercion_error_is_a_request_error(client):
    response = await client.post(
        "/graphql", json={"query": "query($n: Int) { regions(first: $n) { totalCount } }", "variables": {"n": "many"}}, headers={"accept": GQL}
    )
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert "Int cannot represent non-integer value: 'many'" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("kwargs", "status", "message"),
    [
        ({"content": b"{", "headers": {"content-type": "application/json"}}, 400, "the request body is not valid JSON"),
        ({"json": [{"query": "{ __typename }"}]}, 400, "the request body must be a JSON object (batched requests are not supported)"),
        ({"json": {"query": 1}}, 400, "query must be a string"),
        ({"json": {"variables": {}}}, 400, "query is missing"),
        ({"json": {"query": "{ __typename }", "variables": []}}, 400, "variables must be a JSON object"),
        ({"content": b"query=x", "headers": {"content-type": "application/x-www-form-urlencoded"}}, 415, "POST bodies must be application/json (UTF-8)"),
    ],
)
async def test_malformed_requests(client, kwargs, status, message):
    headers = {"accept": GQL, **kwargs.pop("headers", {})}
    response = await client.post("/graphql", headers=headers, **kwargs)
    assert response.status_code == status
    assert response.json() == {"errors": [{"message": message}]}


async def test_oversized_body_is_413(client):
    response = await client.post("/graphql", json={"query": "{ __typename }", "pad": "x" * (1 << 20)}, headers={"accept": GQL})
    assert response.status_code == 413


async def test_unacceptable_accept_is_406(client):
    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers={"accept": "text/csv"})
    assert response.status_code == 406


async def test_page_size_limit(client):
    response = await client.post("/graphql", json={"query": "{ persons(first: 5000) { totalCount } }"}, headers={"accept": GQL})
    body = response.json()
    assert response.status_code == 200
    assert body["data"] == {"persons": None} or body["data"] is None
    assert body["errors"][0]["message"] == "first 须在 0 到 1000 之间，收到 5000"
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('{ households(regionCode: "350304999000") { totalCount } }', "regionCode：没有代码为 350304999000 的地区（或不在您的管辖范围内）"),
        ('{ households(regionCode: "3503") { totalCount } }', "regionCode：地区代码应为 12 位数字，收到 '3503'"),
        ('{ regions(after: "not-a-cursor") { totalCount } }', "after：'not-a-cursor' 不是这个列表给出的游标"),
        ('{ person(idNumber: "350304199001011235") { name } }', "idNumber：校验码应为 1，填写的是 5"),
        ("{ person { name } }", "person：id 和 idNumber 须给出其中一个，且只给一个"),
        ('{ persons(minAge: 200) { totalCount } }', "minAge：须在 0 到 150 之间，收到 200"),
    ],
)
async def test_bad_arguments_name_the_field(client, query, message):
    response = await client.post("/graphql", json={"query": query}, headers={"accept": GQL})
    assert response.status_code == 200
    assert response.json()["errors"][0]["message"] == message


async def test_depth_limit(client):
    deep = "{ regions { nodes { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { name } } } } } } } } } } } } } }"
    response = await client.post("/graphql", json={"query": deep}, headers={"accept": GQL})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "'anonymous' exceeds maximum operation depth of 12"


async def test_alias_limit(client):
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }"
    response = await client.post("/graphql", json={"query": query}, headers={"accept": GQL})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "31 aliases found. Allowed: 30"


async def test_token_limit(client):
    query = "{ " + " ".join("__typename" for _ in range(5001)) + " }"
    response = await client.post("/graphql", json={"query": query}, headers={"accept": GQL})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Syntax Error: Document contains more than 5000 tokens. Parsing aborted."


async def test_unexpected_errors_are_masked_and_logged(client, monkeypatch, caplog):
    async def broken(ctx, code, field="code"):
        raise RuntimeError("secret connection string in a stack trace")

    monkeypatch.setattr(regions, "region_by_code", broken)
    response = await client.post(
        "/graphql", json={"query": '{ region(code: "350300000000") { name } }'}, headers={"accept": GQL, "x-request-id": "req-42"}
    )
    body = response.json()
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-42"
    assert body == {
        "data": {"region": None},
        "errors": [
            {
                "message": "Internal server error (request id req-42)",
                "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                "locations": [{"line": 1, "column": 3}],
                "path": ["region"],
            }
        ],
    }
    assert "secret connection string" not in response.text
    assert any("req-42" in record.getMessage() and record.exc_info for record in caplog.records)


async def test_request_timeout(settings, engine, schemas, tokens):
    app = create_app(replace(settings, request_timeout=0.001), engine=engine, schemas=schemas)
    async with client_as(app, tokens["admin"]) as client:
        response = await client.post(
            "/graphql",
            json={"query": "{ persons(first: 1000) { totalCount nodes { name household { members { name } } } } }"},
            headers={"accept": GQL},
        )
    assert response.status_code == 504
    assert response.json() == {"errors": [{"message": "the request took longer than 0.001 s and was stopped"}]}


async def test_health(client):
    response = await client.get("/healthz")
    assert response.json() == {"status": "ok"}
