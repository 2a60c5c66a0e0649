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
WEST_TOWN = "350304100000"  # 西天尾镇
LICHENG = "350304000000"  # 荔城区


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


async def test_gql_client_lists_a_districts_elderly_living_alone(app, tokens, live_server):
    ran = await _run([sys.executable, str(EXAMPLES / "gql_client.py"), f"{live_server}/graphql", LICHENG], tokens["minzheng"])
    assert ran.returncode == 0, ran.stderr
    async with client_as(app, tokens["minzheng"]) as client:
        households = (await graphql(
            client,
            "query($t: String!) { households(regionCode: $t, elderlyAlone: true, first: 1000) { totalCount nodes { address head { name age } } } }",
            {"t": LICHENG},
        ))["households"]
    expected = [f"{h['head']['name']}（{h['head']['age']}岁） {h['address']}" for h in households["nodes"]]
    assert households["totalCount"] > 20  # more than a page: the client walks the cursor
    assert ran.stdout.splitlines() == [*expected, f"共 {households['totalCount']} 户独居老人"]


async def test_gql_client_checks_its_query_against_the_schema_before_sending(tmp_path, tokens, live_server):
    # The same client against a schema where the field it reads is gone: refused locally, naming the field.
    broken = tmp_path / "client_examples"
    broken.mkdir()
    (broken / "gql_client.py").write_text((EXAMPLES / "gql_client.py").read_text(encoding="utf-8"), encoding="utf-8")
    schema = (EXAMPLES.parent / "schema.graphql").read_text(encoding="utf-8")
    (tmp_path / "schema.graphql").write_text(schema.replace('    """独居老人户"""\n    elderlyAlone: Boolean = null\n', ""), encoding="utf-8")
    ran = await _run([sys.executable, str(broken / "gql_client.py"), f"{live_server}/graphql"], tokens["minzheng"])
    assert ran.returncode != 0 and ran.stdout == ""
    assert "Unknown argument 'elderlyAlone' on field 'Query.households'." in ran.stderr


# --- the TypeScript client: types generated from schema.graphql, compiled with tsc, run with node ---

TYPESCRIPT = EXAMPLES / "typescript"


def _clients_required() -> bool:
    return os.environ.get("HUB_REQUIRE_CLIENTS", "").strip().lower() in ("1", "true", "yes")


async def _built_typescript_client() -> None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        if _clients_required():
            pytest.fail("HUB_REQUIRE_CLIENTS is set but node and npm are not both on PATH")
        pytest.skip("the TypeScript client needs node and npm (set HUB_REQUIRE_CLIENTS=1 to make this a failure)")
    lock = json.loads((TYPESCRIPT / "package-lock.json").read_text())["packages"]
    installed = TYPESCRIPT / "node_modules" / ".package-lock.json"
    if not installed.is_file() or json.loads(installed.read_text())["packages"].keys() != {k for k in lock if k}:
        ran = await asyncio.to_thread(subprocess.run, [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=TYPESCRIPT,
                                      capture_output=True, text=True, timeout=300, check=False)
        assert ran.returncode == 0, f"npm ci failed:\n{ran.stdout}{ran.stderr}"
    for step in ([node, "codegen.mjs"], [node, "node_modules/typescript/bin/tsc", "-p", "."]):
        ran = await asyncio.to_thread(subprocess.run, step, cwd=TYPESCRIPT, capture_output=True, text=True, timeout=120, check=False)
        assert ran.returncode == 0, f"{' '.join(step[1:])} failed — does the client still fit schema.graphql?\n{ran.stdout}{ran.stderr}"


async def test_typescript_client_lists_a_towns_flood_points(app, tokens, live_server):
    await _built_typescript_client()
    ran = await _run(["node", str(TYPESCRIPT / "dist" / "floodPoints.js"), f"{live_server}/graphql", WEST_TOWN], tokens["yingji"])
    assert ran.returncode == 0, ran.stderr
    async with client_as(app, tokens["yingji"]) as client:
        points = (await graphql(
            client,
            "query($t: String) { floodPoints(regionCode: $t, first: 1000) { totalCount nodes { name riskLevel status responsiblePerson nearbyEnterprise { name } } } }",
            {"t": WEST_TOWN},
        ))["floodPoints"]
    expected = [
        f"{p['name']}  {p['riskLevel']}  {p['status']}  责任人 {p['responsiblePerson']}"
        + (f"  附近企业 {p['nearbyEnterprise']['name']}" if p["nearbyEnterprise"] else "")
        for p in points["nodes"]
    ]
    assert points["totalCount"] > 0
    assert ran.stdout.splitlines() == [*expected, f"共 {points['totalCount']} 处"]

    without = await _run(["node", str(TYPESCRIPT / "dist" / "floodPoints.js"), f"{live_server}/graphql"], None)
    assert (without.returncode, without.stdout) == (2, "")
    assert without.stderr.strip() == "HUB_TOKEN is not set: export HUB_TOKEN=$(.venv/bin/hub token issue yingji) first (未设置 HUB_TOKEN)"
