"""Permission and jurisdiction overhead: the nested read as `licheng-minzheng` vs as `admin`.

Same query, same rows (西天尾镇 lies in 荔城区, and every field asked is granted to
民政局), both over HTTP in the same run. The district analyst's request goes
through 民政局's schema projection and her jurisdiction's scope; the admin's
through the full schema with no scope. Target: ratio ≤ 1.10.

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
    tokens = {user: await token_for(engine, user) for user in ("admin", "licheng-minzheng")}
    await engine.dispose()

    with serve_in_thread(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:

            def as_user(username: str):
                async def run() -> bytes:
                    response = await client.post(
                        "/graphql",
                        json={"query": QUERY, "variables": {"town": town}},
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
    ratios = report("permission and scope overhead (same rows)", times, "admin_full_schema", "ratio ≤ 1.10")
    print(f"RESULT permissions ratio={ratios['licheng_minzheng_projection']:.2f}")


if __name__ == "__main__":
    run_from_command_line(main, __doc__)
