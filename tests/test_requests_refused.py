"""Requests and tasks refused: each bad input names its field and reason, and nothing is written; other units' requests do not exist."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from hub.data.models import (
    Change,
    DataRequest,
    Indicator,
    IndicatorValue,
    RequestReview,
    Transition,
    VillageTask,
)
from tests.conftest import graphql
from tests.test_queries import region_code
from tests.test_requests import (
    FILE,
    FILL,
    INBOX,
    PROGRESS,
    REVIEW,
    _numbers,
    one_village_request,
    request_input,
    xlsx,
)

TABLES = (DataRequest, RequestReview, VillageTask, Transition, Indicator, IndicatorValue, Change)


async def snapshot(engine) -> tuple[int, ...]:
    async with engine.connect() as connection:
        return tuple([await connection.scalar(select(func.count()).select_from(m.__table__)) for m in TABLES])


def errors(payload: dict) -> list[tuple[str, str, str]]:
    return [(e["field"], e["code"], e["message"]) for e in payload["errors"]]


async def test_bad_filings_name_the_field_and_write_nothing(as_user, client, engine):
    dongxing = await region_code(client, "东星社区")
    chengxiang_town = await region_code(client, "龙桥街道")  # 城厢区: outside 荔城区民政局's jurisdiction
    good_define = {"key": "never_written", "label": "某指标", "entity": "VILLAGE", "type": "INTEGER", "legalBasis": "某依据"}
    cases = [
        ("minzheng", request_input(dongxing, [{"path": "head.shoeSize"}], entity="HOUSEHOLD"),
         ("input.columns[0].path", "INVALID", "input.columns[0].path：Household 没有字段路径“head.shoeSize”")),
        ("minzheng", request_input(dongxing, [{"indicator": "no_such_indicator"}]),
         ("input.columns[0].indicator", "NOT_FOUND", "input.columns[0].indicator：没有可读取的指标“no_such_indicator”（指标不存在或本部门未获授权）")),
        ("minzheng", request_input(dongxing, [{"label": "鞋码"}], entity="HOUSEHOLD"),
         ("input.columns[0].label", "INVALID", "input.columns[0].label：数据中心的户没有名为“鞋码”的栏目；请引用指标库中的指标，或在 define 中定义新指标")),
        ("yingji", request_input(dongxing, [{"path": "name"}, {"define": good_define | {"type": "MONEY"}}]),
         ("input.columns[1].define.type", "INVALID", "input.columns[1].define.type（数据类型）：未知取值“MONEY”，可选：INTEGER（整数）、DECIMAL（小数）、TEXT（文本）、DATE（日期）、BOOLEAN（是否）、CHOICE（单选）")),
        ("yingji", request_input(dongxing, [{"define": good_define | {"label": ""}}]),
         ("input.columns[0].define.label", "INVALID", "input.columns[0].define.label（指标名称）：不能为空")),
        ("yingji", request_input(dongxing, [{"define": good_define | {"choices": ["有", "无"]}}]),
         ("input.columns[0].define.choices", "INVALID", "input.columns[0].define.choices（可选值（以“|”分隔））：只有单选（CHOICE）类型的指标可以设可选值，这项指标是整数")),
        ("yingji", request_input(dongxing, [{"path": "name"}], deadline="2026-11-01"),
         ("input.deadline", "INVALID", "input.deadline：2026-11-01 早于今天（2026-11-16），截止日期不能是过去的日子")),
        ("licheng-minzheng", request_input(chengxiang_town, [{"path": "name"}]),
         ("input.regionCode", "NOT_FOUND", f"input.regionCode：找不到统计用区划代码为 {chengxiang_town} 的区划")),
        ("licheng-minzheng", request_input("350304999999", [{"path": "name"}]),
         ("input.regionCode", "NOT_FOUND", "input.regionCode：找不到统计用区划代码为 350304999999 的区划")),
        ("minzheng", request_input(dongxing, [{"path": "name"}], entity="HOUSEHOLD", filters=["floodRisk"]),
         ("input.filters[0]", "INVALID", "input.filters[0]：不支持的筛选条件“floodRisk”，可用：elderlyAlone、extremePoverty、lowIncome、povertyMonitored")),
        ("minzheng", request_input(dongxing, [{"path": "address", "label": "家庭住址"}], entity="HOUSEHOLD"),
         ("input.columns[0]", "INVALID", "input.columns[0]：path、label、indicator、define 四者填且只填一项")),
    ]
    before = await snapshot(engine)
    for user, given, expected in cases:
        async with as_user(user) as analyst:
            payload = (await graphql(analyst, FILE, {"input": given}))["fileRequest"]
        assert payload["request"] is None
        assert errors(payload) == [expected], (user, given)
    assert await snapshot(engine) == before


async def test_a_field_held_but_not_granted_is_named_and_never_asked_of_villages(as_user, client, engine):
    dongxing = await region_code(client, "东星社区")
    async with as_user("nongye") as agriculture:  # 农业农村局 reads no ID numbers
        payload = (await graphql(agriculture, FILE, {"input": request_input(dongxing, [{"path": "address"}, {"label": "公民身份号码"}], entity="HOUSEHOLD")}))["fileRequest"]
    assert payload["errors"] == []
    assert payload["request"]["status"] == "NEEDS_GRANT" and payload["request"]["template"] is None
    assert [(c["status"], c["reason"]) for c in payload["columns"]] == [
        ("HELD_GRANTED", "数据中心已有，本部门已获授权"),
        ("HELD_NOT_GRANTED", "数据中心有此数据（Person.idNumber），但本部门未获授权读取；请先申请授权"),
    ]
    async with as_user("xitianwei") as town:
        assert (await graphql(town, PROGRESS, {"id": payload["request"]["id"]}))["dataRequest"] is None


async def test_reviewing_and_filling_outside_ones_town_or_village_is_not_found(as_user, client, engine, cadre_of):
    other_town = await region_code(client, "拱辰街道")
    async with as_user("yingji") as emergency:
        elsewhere = (await graphql(emergency, FILE, {"input": request_input(other_town, [{"path": "name"}, {"define": {
            "key": "elsewhere_kits", "label": "急救包（个）", "entity": "VILLAGE", "type": "INTEGER", "periodicity": "MONTH", "legalBasis": "依据"}}])}))["fileRequest"]
    assert elsewhere["request"]["status"] == "IN_REVIEW"
    request_id, task_id, key = await one_village_request(as_user, client, title="外村不可填")
    before = await snapshot(engine)
    async with as_user("xitianwei") as town:
        refused = await graphql(town, REVIEW, {"id": elsewhere["request"]["id"], "d": "APPROVE"})
        assert errors(refused["reviewRequest"]) == [("requestId", "NOT_FOUND", f"requestId：找不到 id 为 {elsewhere['request']['id']} 的填报任务")]
        assert (await graphql(town, PROGRESS, {"id": elsewhere["request"]["id"]}))["dataRequest"] is None
    async with as_user("dongxing") as cadre:
        (task,) = [t for t in (await graphql(cadre, INBOX))["inbox"]["tasks"] if t["id"] == task_id]
        entity = task["rows"][0]["entityId"]
        bad_values = [
            ({"value": "-1", "version": 0}, ("values[0].value", "INVALID", "values[0].value（急救包（个））：超出范围：应在 0 到 500 之间，填写的是 -1")),
            ({"value": "许多", "version": 0}, ("values[0].value", "INVALID", "values[0].value（急救包（个））：应填整数，填写的是“许多”")),
            ({"value": "5", "version": 3}, ("values[0].version", "CONFLICT", f"values[0].version：IndicatorValue {entity} 已被他人修改，现在是第 0 版，不是第 3 版；请重新读取后再改一次")),
        ]
        for change, expected in bad_values:
            payload = (await graphql(cadre, FILL, {"t": task_id, "values": [{"key": key, "entityId": entity} | change]}))["fillTask"]
            assert errors(payload) == [expected]
        not_in_task = (await graphql(cadre, FILL, {"t": task_id, "values": [{"key": key, "entityId": "1", "value": "5", "version": 0}]}))["fillTask"]
        assert errors(not_in_task) == [("values[0]", "NOT_IN_TASK", f"values[0]：这项任务没有要填的格：对象 1 的“{key}”")]
    async with cadre_of("溪白村") as other_cadre:
        payload = (await graphql(other_cadre, FILL, {"t": task_id, "values": [{"key": key, "entityId": entity, "value": "5", "version": 0}]}))["fillTask"]
        assert errors(payload) == [("taskId", "NOT_FOUND", f"taskId：找不到 id 为 {task_id} 的村级任务")]
        assert (await graphql(other_cadre, "query($t: ID!) { villageTask(id: $t) { id } }", {"t": task_id}))["villageTask"] is None
    async with as_user("xitianwei") as town:  # the town reviews and checks; the village fills
        payload = (await graphql(town, FILL, {"t": task_id, "values": [{"key": key, "entityId": entity, "value": "5", "version": 0}]}))["fillTask"]
        assert errors(payload) == [("taskId", "FORBIDDEN", "taskId：乡镇协同中心工作人员不能填报村级任务，由村（社区）干部或网格员填报")]
    assert await snapshot(engine) == before


async def test_other_departments_see_no_request_task_or_result_of_another(as_user, client):
    request_id, task_id, key = await one_village_request(as_user, client, title="只给应急管理局看")
    dongxing = await region_code(client, "东星社区")
    async with as_user("dongxing") as cadre:
        (task,) = [t for t in (await graphql(cadre, INBOX))["inbox"]["tasks"] if t["id"] == task_id]
        await graphql(cadre, FILL, {"t": task_id, "values": [{"key": key, "entityId": task["rows"][0]["entityId"], "value": "7", "version": 0}]})
        assert (await graphql(cadre, "{ dataRequests { totalCount nodes { id } } }"))["dataRequests"] == {"totalCount": 0, "nodes": []}  # villages see tasks, not requests
    async with as_user("yingji") as owner:
        template = (await graphql(owner, "query($id: ID!) { dataRequest(id: $id) { template { id downloadPath } } }", {"id": request_id}))["dataRequest"]["template"]
        assert xlsx(await owner.get(template["downloadPath"], params={"region": dongxing}))[0][1:] == ("东星社区", "7")
    async with as_user("minzheng") as other:
        assert (await graphql(other, "query($id: ID!) { dataRequest(id: $id) { id } }", {"id": request_id}))["dataRequest"] is None
        assert request_id not in [r["id"] for r in (await graphql(other, "{ dataRequests(first: 1000) { nodes { id } } }"))["dataRequests"]["nodes"]]
        assert (await graphql(other, "query($t: ID!) { villageTask(id: $t) { id } }", {"t": task_id}))["villageTask"] is None
        accept = await graphql(other, "mutation($t: ID!) { acceptTask(taskId: $t) { errors { code message } } }", {"t": task_id})
        assert accept["acceptTask"]["errors"] == [{"code": "NOT_FOUND", "message": f"taskId：找不到 id 为 {task_id} 的村级任务"}]
        # The result's template is its department's own: for another department it does not exist.
        response = await other.get(template["downloadPath"], params={"region": dongxing})
        assert (response.status_code, response.json()) == (404, {"errors": [{"code": "NOT_FOUND", "message": f"没有模板 `{template['id']}`"}]})
        value = await other.post("/graphql", json={"query": "query($c: String!, $k: String!) { region(code: $c) { indicator(key: $k, period: \"2026-11\") } }", "variables": {"c": dongxing, "k": key}})
        assert value.json()["errors"][0]["message"] == f"key：没有可读取的指标“{key}”（指标不存在或本部门未获授权）"
    async with as_user("dongxing") as cadre:  # a cadre may not file: the view has no fileRequest
        response = await cadre.post("/graphql", json={"query": FILE, "variables": {"input": request_input(dongxing, [{"path": "name"}])}})
        assert "Cannot query field 'fileRequest' on type 'Mutation'." in [e["message"] for e in response.json()["errors"]]


async def test_two_filings_defining_the_same_new_indicator_at_once_one_wins_the_other_is_told_so(as_user, client, engine):
    dongxing = await region_code(client, "东星社区")
    key = f"race_t{next(_numbers)}"
    definition = {"key": key, "label": "救生衣（件）", "entity": "VILLAGE", "type": "INTEGER", "periodicity": "MONTH", "legalBasis": "《防汛条例》"}
    before = await snapshot(engine)
    async with as_user("yingji") as first, as_user("yingji") as second:
        # Both pass every check before either inserts: the unique key decides, as the usual conflict.
        answers = await asyncio.gather(*(
            caller.post("/graphql", json={"query": FILE, "variables": {"input": request_input(dongxing, [{"path": "name"}, {"define": definition}])}})
            for caller in (first, second)
        ))
    assert [a.status_code for a in answers] == [200, 200]
    won, lost = sorted((a.json()["data"]["fileRequest"] for a in answers), key=lambda p: bool(p["errors"]))
    assert won["errors"] == [] and won["request"]["status"] == "IN_REVIEW"
    assert lost == {"request": None, "columns": [], "errors": [
        {"field": "input.columns[1].define.key", "code": "CONFLICT", "message": f"input.columns[1].define.key（指标编码）：指标“{key}”已在指标库中，请直接引用"}]}
    after = await snapshot(engine)
    assert after[TABLES.index(Indicator)] == before[TABLES.index(Indicator)] + 1  # one definition, one request: the loser wrote nothing
    assert after[TABLES.index(DataRequest)] == before[TABLES.index(DataRequest)] + 1


SUBMIT_TASK = "mutation($t: ID!) { submitTask(taskId: $t) { errors { field code message } } }"


async def test_values_outside_the_list_or_too_long_and_tasks_not_open_are_refused_with_nothing_written(as_user, client, engine):
    not_numeric = {"minValue": None, "maxValue": None}
    _, choice_task, choice = await one_village_request(as_user, client, title="应急广播状态", value_rule=not_numeric | {
        "label": "应急广播", "type": "CHOICE", "choices": ["正常", "故障"]})
    _, text_task, text = await one_village_request(as_user, client, title="值班安排", value_rule=not_numeric | {
        "label": "值班备注", "type": "TEXT", "maxLength": 10})
    dongxing = await region_code(client, "东星社区")
    async with as_user("yingji") as emergency:  # filed, not approved: no village has a task to fill
        waiting = (await graphql(emergency, FILE, {"input": request_input(dongxing, [{"path": "name"}, {"indicator": text}], title="值班安排（待审核）")}))["fileRequest"]
    assert waiting["request"]["status"] == "IN_REVIEW"
    before = await snapshot(engine)
    async with as_user("dongxing") as cadre:
        inbox = (await graphql(cadre, INBOX))["inbox"]["tasks"]
        assert "值班安排（待审核）" not in [t["title"] for t in inbox]
        entity = next(t for t in inbox if t["id"] == choice_task)["rows"][0]["entityId"]
        refused = [
            (choice_task, choice, "损坏", ("values[0].value", "INVALID", "values[0].value（应急广播）：不在可选值中（可选：正常、故障），填写的是“损坏”")),
            (text_task, text, "周一至周五由村委会主任带班值守", ("values[0].value", "INVALID", "values[0].value（值班备注）：最多 10 个字，填写了 15 个字")),
            ("999999", text, "主任带班", ("taskId", "NOT_FOUND", "taskId：找不到 id 为 999999 的村级任务")),
        ]
        for task_id, key, value, expected in refused:
            payload = (await graphql(cadre, FILL, {"t": task_id, "values": [{"key": key, "entityId": entity, "value": value, "version": 0}]}))["fillTask"]
            assert errors(payload) == [expected]
    assert await snapshot(engine) == before

    async with as_user("dongxing") as cadre:  # handed in, then accepted: closed to filling, nothing written
        assert (await graphql(cadre, FILL, {"t": text_task, "values": [{"key": text, "entityId": entity, "value": "主任带班", "version": 0}]}))["fillTask"]["errors"] == []
        assert (await graphql(cadre, SUBMIT_TASK, {"t": text_task}))["submitTask"]["errors"] == []
    for closer, label in ((None, "已报送"), ("yingji", "已验收")):
        if closer is not None:
            async with as_user(closer) as department:
                assert (await graphql(department, "mutation($t: ID!) { acceptTask(taskId: $t) { errors { code } } }", {"t": text_task}))["acceptTask"]["errors"] == []
        before = await snapshot(engine)
        async with as_user("dongxing") as cadre:
            payload = (await graphql(cadre, FILL, {"t": text_task, "values": [{"key": text, "entityId": entity, "value": "主任值守", "version": 1}]}))["fillTask"]
            assert errors(payload) == [("taskId", "TASK_CLOSED", f"taskId：任务状态是“{label}”，不能再填写；被退回后才能修改")]
            again = (await graphql(cadre, SUBMIT_TASK, {"t": text_task}))["submitTask"]
            assert errors(again) == [("taskId", "TASK_CLOSED", f"taskId：任务状态是“{label}”，不能再填写；被退回后才能修改")]
        assert await snapshot(engine) == before
