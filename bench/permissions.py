"""Permission and jurisdiction overhead: the nested read as `licheng-minzheng` vs as `admin`;
and masking overhead: the same read as 卫健委 (`weijian`) vs as `admin`.

Same query, same rows (西天尾镇 lies in 荔城区, and every field asked is granted to
民政局), both over HTTP in the same run. The district analyst's request goes
through 民政局's schema projection and her jurisdiction's scope; the admin's
through the full schema with no scope. Target: ratio ≤ 1.10.

卫健委 is granted ID numbers and phone numbers masked: the second pair reads them (and
the other fields in its view) for the same rows, the admin in clear, 卫健委 masked.
Target: ratio ≤ 1.10 as well.

    python -m bench.permissions [--scale 300] [--rounds 10]
"""

from __future__ import annotations

import httpx
import orjson
from sqlalchemy import text

from bench.common import (
    bench_settings,
    interleaved,
    report,
    run_from_command_line,
    seeded_engine,
    token_for,
)
from bench.nested_read import QUERY, TOWN
from hub.web.app import create_app
from hub.web.background_server import serve_in_thread


async def main(scale: int, rounds: int) -> None:
    settings = bench_settings(scale)
    engine = await seeded_engine(settings, scale)
    async with engine.connect() as connection:
        town = (await connection.execute(text("SELECT code FROM regions WHERE name = :n"), {"n": TOWN})).scalar_one()
    tokens = {user: await token_for(engine, user) for user in ("admin", "licheng-minzheng", "weijian")}
    await engine.dispose()

    with serve_in_thread(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:

            def as_user(username: str, query: str = QUERY):
                async def run() -> bytes:
                    response = await client.post(
                        "/graphql",
                        json={"query": query, "variables": {"town": town}},
                        headers={"authorization": f"Bearer {tokens[username]}"},
                    )
                    response.raise_for_status()
                    return response.content

                return run

            admin, analyst = as_user("admin"), as_user("licheng-minzheng")
            admin_body, analyst_body = orjson.loads(await admin()), orjson.loads(await analyst())
            assert "errors" not in analyst_body, analyst_body["errors"]
            assert admin_body == analyst_body, "the two callers must see the same rows"
            times = await interleaved(rounds, warmup=2, admin_full_schema=admin, licheng_minzheng_projection=analyst)

            admin_clear, masking = as_user("admin", MASKED_QUERY), as_user("weijian", MASKED_QUERY)
            clear_body, masked_body = orjson.loads(await admin_clear()), orjson.loads(await masking())
            assert "errors" not in masked_body, masked_body["errors"]
            assert _ids(clear_body) == _ids(masked_body), "the two callers must see the same rows"
            assert _masked(masked_body) and not _masked(clear_body)
            masked_times = await interleaved(rounds, warmup=2, admin_in_clear=admin_clear, weijian_masked=masking)
    ratios = report("permission and scope overhead (same rows)", times, "admin_full_schema", "ratio ≤ 1.10")
    masked_ratios = report("masking overhead (same rows, ID and phone numbers masked)", masked_times, "admin_in_clear", "ratio ≤ 1.10")
    print(f"RESULT permissions ratio={ratios['licheng_minzheng_projection']:.2f} masked_ratio={masked_ratios['weijian_masked']:.2f}")


# The nested read's rows with what 卫健委 may read of them: ID and phone numbers masked.
MASKED_QUERY = QUERY.replace("id address lowIncome", "id address").replace(
    "members { id name idNumber gender birthDate relationToHead }", "members { id name idNumber phone gender relationToHead }"
)


def _members(body: dict) -> list[dict]:
    return [m for v in body["data"]["region"]["children"]["nodes"] for h in v["households"]["nodes"] for m in h["members"]]


def _ids(body: dict) -> list[str]:
    return [m["id"] for m in _members(body)]


def _masked(body: dict) -> bool:
    return all("*" in m["idNumber"] for m in _members(body))


if __name__ == "__main__":
    run_from_command_line(main, __doc__)
