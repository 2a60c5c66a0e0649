"""/metrics, /healthz, /readyz and the JSON log lines."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import replace

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from hub.data import migrate
from hub.data.database import create_engine
from hub.data.models import AccessLogEntry
from hub.web.app import create_app
from hub.web.observability import MAX_OPERATION_NAMES, HubMetrics
from tests.conftest import graphql
from tests.support.hub_process import hub_process

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def samples(client: httpx.AsyncClient) -> dict[tuple[str, frozenset], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_count_operations_exports_uploads_and_the_pool(as_user, client):
    async with as_user("minzheng") as civil_affairs, as_user("dongxing") as cadre:
        before = await samples(civil_affairs)
        for _ in range(2):
            await graphql(civil_affairs, "query VillageCount { regions(level: VILLAGE) { totalCount } }")
        refused = await civil_affairs.post("/graphql", json={"query": "query Nope { noSuchField }"})
        export = await civil_affairs.get("/exports/dibao-dongtai.xlsx")
        bad_upload = await cadre.post("/fill-sheets", content=b"not a workbook", headers={"content-type": XLSX})
        unsigned = await httpx.AsyncClient(transport=civil_affairs._transport, base_url="http://hub.test").post("/graphql", json={"query": "{ __typename }"})
        await asyncio.sleep(0)  # the access log's background tasks have run with the responses
        after = await samples(civil_affairs)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert refused.status_code == 200 and export.status_code == 200 and bad_upload.status_code == 400 and unsigned.status_code == 401
    assert grew("hub_operations_total", operation="VillageCount", department="minzheng", outcome="ok") == 2
    assert grew("hub_operations_total", operation="other", department="minzheng", outcome="refused") == 1  # no valid document
    assert grew("hub_operations_total", operation="export", department="minzheng", outcome="ok") == 1
    assert grew("hub_operations_total", operation="fillSheetUpload", department="VILLAGE_CADRE", outcome="refused") == 1
    assert grew("hub_operation_duration_seconds_count", operation="VillageCount") == 2
    assert grew("hub_http_requests_total", route="/graphql", method="POST", status="200") == 3
    assert grew("hub_http_requests_total", route="/graphql", method="POST", status="401") == 1
    assert grew("hub_http_requests_total", route="/exports/{template}.xlsx", method="GET", status="200") == 1
    assert grew("hub_http_request_duration_seconds_count", route="/fill-sheets") == 1
    assert grew("hub_uploads_total", kind="fill_sheet", outcome="refused") == 1
    logged = await graphql(client, 'query { accessLog(username: "minzheng", first: 1) { nodes { operationName rowCount } } }')
    assert logged["accessLog"]["nodes"] == [{"operationName": "export dibao-dongtai", "rowCount": grew("hub_export_rows_total", kind="export")}]
    assert grew("hub_export_rows_total", kind="export") > 0
    assert ("hub_db_pool_connections_in_use", frozenset()) in after
    assert ("hub_db_pool_checkouts_waiting", frozenset()) in after
    assert value(after, "hub_db_pool_size") == 10
    assert value(after, "hub_subscriptions") == 0  # none exist yet; the gauge is there for them


async def test_metrics_are_for_this_machine_or_the_metrics_token(app, settings, engine, schemas):
    elsewhere = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.1.2.3", 4000)), base_url="http://hub.test")
    async with elsewhere:
        refused = await elsewhere.get("/metrics")
    assert (refused.status_code, refused.text) == (403, "metrics: only from this machine unless HUB_METRICS_TOKEN is set\n")

    guarded = create_app(replace(settings, metrics_token="s3cret-metrics"), engine=engine, schemas=schemas)
    transport = httpx.ASGITransport(app=guarded, client=("10.1.2.3", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as remote:
        without = await remote.get("/metrics")
        wrong = await remote.get("/metrics", headers={"authorization": "Bearer nope"})
        right = await remote.get("/metrics", headers={"authorization": "Bearer s3cret-metrics"})
    assert (without.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert "hub_http_requests_total" in right.text


async def test_operation_names_are_capped(engine):
    metrics = HubMetrics(engine)
    assert metrics.operation_label("legacyImport 350304100201 person dryRun") == "legacyImport"  # the entry point, not its arguments
    names = [metrics.operation_label(f"Op{i}") for i in range(1, MAX_OPERATION_NAMES + 5)]
    assert names[:MAX_OPERATION_NAMES - 1] == [f"Op{i}" for i in range(1, MAX_OPERATION_NAMES)]
    assert names[MAX_OPERATION_NAMES - 1:] == ["other"] * 5
    assert metrics.operation_label("Op3") == "Op3"  # a name already counted keeps its series
    assert metrics.operation_label(None) == "other"


async def test_healthz_and_readyz(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready", "checks": {"database": "ok", "migrations": "ok", "assets": "ok"}})


async def test_readyz_names_an_old_schema_and_missing_assets(settings, schemas, tmp_path):
    behind = replace(settings, data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}", assets_dir=tmp_path / "none")
    engine = create_engine(behind)
    try:
        await migrate.upgrade(engine, "0003")
        app = create_app(behind, engine=engine, schemas=schemas)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as client:
            ready = await client.get("/readyz")
    finally:
        await engine.dispose()
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "not ready",
        "checks": {
            "database": "ok",
            "migrations": f"at 0003, head is {migrate.head_revision()}: run `hub db upgrade`",
            "assets": "missing: run `hub assets install`",
        },
    }


async def test_json_log_lines_carry_the_request_id(settings, tokens, tmp_path):
    with hub_process(settings.database_url, tmp_path, tmp_path / "hub.log", HUB_LOG_FORMAT="json", HUB_LOG_REQUESTS="1") as hub:
        async with httpx.AsyncClient(base_url=hub.url, headers={"authorization": f"Bearer {tokens['yingji']}"}) as client:
            answer = await client.post("/graphql", json={"query": "{ regions(level: TOWN) { totalCount } }"}, headers={"x-request-id": "trace-me-17"})
            fresh = await client.get("/healthz")
    assert answer.status_code == 200 and answer.headers["x-request-id"] == "trace-me-17"
    assert len(fresh.headers["x-request-id"]) == 32  # none given: the hub made one, and said which
    assert "server" not in answer.headers and "date" in answer.headers  # what it runs on is nobody's business
    lines = [json.loads(line) for line in hub.log_lines() if line.startswith("{")]
    assert lines and len(lines) == len([line for line in hub.log_lines() if line.strip()])  # every line is JSON
    (access,) = [line for line in lines if line.get("request_id") == "trace-me-17"]
    assert access["logger"] == "hub.http" and access["route"] == "/graphql" and access["status"] == 200
    assert access["message"].startswith("POST /graphql 200 ")
    (health,) = [line for line in lines if line.get("request_id") == fresh.headers["x-request-id"]]
    assert health["route"] == "/healthz"


async def test_every_request_has_one_id_the_answer_and_the_access_log_share(client, engine):
    """The client's well-formed `X-Request-Id`, else a new one: 32 hex digits, never the same twice."""
    fresh = [(await client.post("/graphql", json={"query": "{ regions(level: TOWN) { totalCount } }"})).headers["x-request-id"] for _ in range(3)]
    assert len(set(fresh)) == 3 and all(re.fullmatch("[0-9a-f]{32}", rid) for rid in fresh), fresh
    # Not a counter a client could read how many requests others sent from: consecutive ids share nothing.
    assert len({rid[:16] for rid in fresh}) == 3 and len({rid[16:] for rid in fresh}) == 3, fresh
    malformed = await client.post("/graphql", json={"query": "{ regions { totalCount } }"}, headers={"x-request-id": "two words"})
    replaced = malformed.headers["x-request-id"]
    assert re.fullmatch("[0-9a-f]{32}", replaced) and replaced not in fresh
    async with engine.connect() as connection:
        logged = (await connection.execute(select(AccessLogEntry.request_id).where(AccessLogEntry.request_id.in_([*fresh, replaced])))).scalars().all()
    assert sorted(logged) == sorted([*fresh, replaced])
