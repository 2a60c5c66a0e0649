"""client_examples/ run against a live hub (127.0.0.1 only), with a demo user's token from HUB_TOKEN."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import client_as, graphql

EXAMPLES = Path(__file__).resolve().parent.parent / "client_examples"
TIMEOUT = 60  # seconds


async def _run(command: list[str], token: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("HUB_TOKEN", "HUB")}
    if token is not None:
        env["HUB_TOKEN"] = token
    # In a thread: the live server may share this event loop.
    return await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)


async def test_query_py_prints_dongxing_low_income_households(app, tokens, live_server):
    url = f"{live_server.rstrip('/')}/graphql"
    assert url.startswith("http://127.0.0.1:")
    ran = await _run([sys.executable, str(EXAMPLES / "query.py"), url], tokens["minzheng"])
    assert ran.returncode == 0, ran.stderr
    async with client_as(app, tokens["minzheng"]) as client:
        data = await graphql(
            client,
            """query($n: String) { regions(nameContains: $n) { nodes { code } } }""",
            {"n": "东星社区"},
        )
        (village,) = [r["code"] for r in data["regions"]["nodes"]]
        households = (await graphql(
            client,
            "query($r: String!) { households(regionCode: $r, lowIncome: true, first: 1000) { totalCount nodes { address subsidyMonthly head { name age } members { name } } } }",
            {"r": village},
        ))["households"]
    expected = [
        f"{h['head']['name']}（{h['head']['age']}岁） {h['address']}  保障金 {h['subsidyMonthly']} 元/月  {len(h['members'])} 人"
        for h in households["nodes"]
    ]
    assert households["totalCount"] == 16
    assert ran.stdout.splitlines() == [*expected, "共 16 户"]


async def test_curl_sh_answers_as_the_emergency_department(app, tokens, live_server):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    url = f"{live_server.rstrip('/')}/graphql"
    ran = await _run(["sh", str(EXAMPLES / "curl.sh"), url], tokens["yingji"])
    assert ran.returncode == 0, ran.stderr
    villages, flood_points = (json.loads(line) for line in ran.stdout.splitlines() if line.strip())
    async with client_as(app, tokens["yingji"]) as client:
        expected_villages = await graphql(client, "{ regions(level: VILLAGE) { totalCount } }")
        expected_points = await graphql(
            client,
            "query($t: String) { floodPoints(regionCode: $t) { totalCount nodes { name riskLevel status nearbyEnterprise { name } } } }",
            {"t": "350304100000"},
        )
    assert villages == {"data": expected_villages}
    assert flood_points == {"data": expected_points}
    assert flood_points["data"]["floodPoints"]["totalCount"] > 0


@pytest.mark.parametrize("command", [[sys.executable, str(EXAMPLES / "query.py")], ["sh", str(EXAMPLES / "curl.sh")]], ids=["query.py", "curl.sh"])
async def test_without_hub_token_the_examples_say_what_to_do(live_server, command):
    ran = await _run([*command, f"{live_server.rstrip('/')}/graphql"], None)
    assert ran.returncode != 0 and ran.stdout == ""
    user = "minzheng" if "query.py" in command[-1] else "yingji"
    assert ran.stderr.strip() == f"HUB_TOKEN is not set: export HUB_TOKEN=$(.venv/bin/hub token issue {user}) first (未设置 HUB_TOKEN)"
