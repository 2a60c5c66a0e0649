"""`hub serve --workers 2`: two processes on one port, and what each keeps to itself stays right.

A revoked token is refused by every worker at most `HUB_TOKEN_CACHE_SECONDS` after the revocation
(the documented delay: each worker remembers a verified token that long), and each worker's batch
of access-log rows is written when the server stops.
"""

from __future__ import annotations

import json
import time
import uuid

import httpx
from sqlalchemy import func, select

from hub.access import accounts
from hub.data.models import AccessLogEntry
from tests.support.hub_process import HubProcess, hub_process

CACHE_SECONDS = 1.0
QUERY = {"query": "{ regions(level: TOWN) { totalCount } }"}


def ask(hub: HubProcess, token: str) -> tuple[str, int]:
    """One request on a connection of its own (so the kernel may hand it to either worker)."""
    request_id = f"workers-{uuid.uuid4().hex}"
    response = httpx.post(f"{hub.url}/graphql", json=QUERY, headers={"authorization": f"Bearer {token}", "x-request-id": request_id})
    return request_id, response.status_code


def worker_of(hub: HubProcess) -> dict[str, int]:
    """Which process answered each request, from the JSON request log lines."""
    lines = (json.loads(line) for line in hub.log_lines() if line.startswith("{"))
    return {line["request_id"]: line["pid"] for line in lines if line.get("logger") == "hub.http"}


def ask_until_both_workers_answered(hub: HubProcess, token: str) -> dict[str, int]:
    """Request ids and their statuses, asked until each of the two workers answered at least one."""
    statuses: dict[str, int] = {}
    for _ in range(200):
        request_id, status = ask(hub, token)
        statuses[request_id] = status
        answered_by = worker_of(hub)
        if len(statuses) >= 10 and len({answered_by.get(r) for r in statuses} - {None}) == 2:
            return statuses
    raise AssertionError(f"200 requests, yet not both workers answered: {set(worker_of(hub).values())}")


async def test_two_workers_refuse_a_revoked_token_within_the_cache_delay_and_lose_no_log_row(settings, engine, tmp_path):
    token = await accounts.issue_token(engine, "yingji")
    env = {"HUB_TOKEN_CACHE_SECONDS": str(CACHE_SECONDS), "HUB_LOG_FORMAT": "json", "HUB_LOG_REQUESTS": "1"}
    with hub_process(settings.database_url, tmp_path, tmp_path / "hub.log", serve_args=("--workers", "2"), **env) as hub:
        before = ask_until_both_workers_answered(hub, token)  # both now hold the token in their caches
        assert set(before.values()) == {200}
        assert await accounts.revoke_tokens(engine, prefix=token[: accounts.PREFIX_LENGTH]) == 1
        time.sleep(CACHE_SECONDS)
        after = ask_until_both_workers_answered(hub, token)
        assert set(after.values()) == {401}, after
        assert len(set(worker_of(hub).values())) == 2
    # Each worker wrote its last batch of access-log rows as it stopped: one per answered request.
    async with engine.connect() as connection:
        logged = (await connection.execute(
            select(func.count()).select_from(AccessLogEntry).where(AccessLogEntry.request_id.in_(before))
        )).scalar_one()
    assert logged == len(before)
