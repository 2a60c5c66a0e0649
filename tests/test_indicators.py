"""The indicator library: definitions refused field by field, values with versions and history, grants and masks per indicator."""

from __future__ import annotations

import itertools

from sqlalchemy import func, select

from hub.data.models import AccessLogEntry, Change, Indicator, IndicatorValue
from tests.conftest import graphql
from tests.test_queries import region_code

DEFINE = """mutation($input: IndicatorInput!) { defineIndicator(input: $input) {
  indicator { key label type unit periodicity ownerDepartment choices } errors { field code message } } }"""
SET = """mutation($values: [IndicatorValueInput!]!, $period: String) { setIndicatorValues(values: $values, period: $period) {
  values { entityId period value version } errors { field code message } } }"""
READ = """query($c: String!, $keys: [String!]!, $p: String) { region(code: $c) { name indicatorValues(keys: $keys, period: $p) { indicator { key } value version } } }"""

_keys = itertools.count(1)


def new_key(stem: str) -> str:
    return f"{stem}_{next(_keys)}"


def definition(key: str, **extra) -> dict:
    return {"key": key, "label": "沙袋（袋）", "entity": "VILLAGE", "type": "INTEGER", "unit": "袋", "minValue": 0, "maxValue": 100000,
            "periodicity": "MONTH", "legalBasis": "《防汛条例》第十五条：防汛物资储备"} | extra


async def define(client, **extra) -> str:
    given = definition(new_key("sandbags")) | extra
    created = await graphql(client, DEFINE, {"input": given})
    assert created["defineIndicator"]["errors"] == [], created
    return given["key"]


async def counts(engine) -> tuple[int, int, int]:
    async with engine.connect() as connection:
        return tuple([
            await connection.scalar(select(func.count()).select_from(table))
            for table in (Indicator.__table__, IndicatorValue.__table__, Change.__table__)
        ])


async def test_bad_definitions_are_refused_by_field_and_nothing_is_written(as_user, engine):
    before = await counts(engine)
    async with as_user("yingji") as emergency:
        cases = [
            ({"type": "MONEY"}, "type", "type（数据类型）：未知取值“MONEY”，可选：INTEGER（整数）、DECIMAL（小数）、TEXT（文本）、DATE（日期）、BOOLEAN（是否）、CHOICE（单选）"),
            ({"label": "  "}, "label", "label（指标名称）：不能为空"),
            ({"choices": ["有", "无"]}, "choices", "choices（可选值（以“|”分隔））：只有单选（CHOICE）类型的指标可以设可选值，这项指标是整数"),
            ({"key": "Sand Bags"}, "key", "key（指标编码）：须以小写字母开头，只用小写字母、数字和下划线，2 到 64 个字符"),
            ({"entity": "CITY"}, "entity", "entity（描述对象）：未知取值“CITY”，可选：VILLAGE（村（社区））、HOUSEHOLD（户）、PERSON（人员）、ENTERPRISE（企业）、FLOOD_POINT（易涝点）"),
            ({"legalBasis": ""}, "legalBasis", "legalBasis（采集依据）：不能为空：写明采集这项数据的依据"),
        ]
        for change, field, message in cases:
            refused = await graphql(emergency, DEFINE, {"input": definition(new_key("bad")) | change})
            assert refused["defineIndicator"]["indicator"] is None
            assert [(e["field"], e["code"], e["message"]) for e in refused["defineIndicator"]["errors"]] == [(field, "INVALID", message)]
    async with as_user("dongxing") as cadre:
        # The cadre's view has no defineIndicator at all: refused before anything runs.
        response = await cadre.post("/graphql", json={"query": DEFINE, "variables": {"input": definition("x_cadre")}})
        assert "Cannot query field 'defineIndicator' on type 'Mutation'." in [e["message"] for e in response.json()["errors"]]
    assert await counts(engine) == before


async def test_values_keep_versions_and_history_and_fail_validation_by_field(as_user, engine, client):
    async with as_user("yingji") as emergency:
        key = await define(emergency)
    dongxing = await region_code(client, "东星社区")
    village_id = (await graphql(client, "query($c: String!) { region(code: $c) { id } }", {"c": dongxing}))["region"]["id"]
    async with as_user("dongxing") as cadre:
        first = await graphql(cadre, SET, {"period": "2026-11", "values": [{"key": key, "entityId": village_id, "value": "1200", "version": 0}]})
        assert first["setIndicatorValues"] == {"values": [{"entityId": village_id, "period": "2026-11", "value": "1200", "version": 1}], "errors": []}
        before = await counts(engine)
        bad = [
            ({"value": "-5", "version": 1}, "values[0].value", "INVALID", "values[0].value（沙袋（袋））：超出范围：应在 0 到 100000 之间，填写的是 -5"),
            ({"value": "12.5", "version": 1}, "values[0].value", "INVALID", "values[0].value（沙袋（袋））：应填整数，填写的是“12.5”"),
            ({"value": "1300", "version": 0}, "values[0].version", "CONFLICT",
             "values[0].version：IndicatorValue %s 已被他人修改，现在是第 1 版，不是第 0 版；请重新读取后再改一次" % village_id),
        ]
        for change, field, code, message in bad:
            refused = await graphql(cadre, SET, {"period": "2026-11", "values": [{"key": key, "entityId": village_id} | change]})
            assert [(e["field"], e["code"], e["message"]) for e in refused["setIndicatorValues"]["errors"]] == [(field, code, message)]
        wrong_period = await graphql(cadre, SET, {"period": "2026", "values": [{"key": key, "entityId": village_id, "value": "1", "version": 1}]})
        assert wrong_period["setIndicatorValues"]["errors"][0]["message"] == "period（期别）：指标“%s”按月填报，期别应写成 2026-11 的形式，填写的是“2026”" % key
        assert await counts(engine) == before
        second = await graphql(cadre, SET, {"period": "2026-11", "values": [{"key": key, "entityId": village_id, "value": "1300", "version": 1}]})
        assert second["setIndicatorValues"]["values"][0]["version"] == 2
    async with engine.connect() as connection:
        history = (await connection.execute(
            select(Change.field, Change.old_value, Change.new_value, Change.version, Change.username).where(Change.entity == "IndicatorValue", Change.field == key).order_by(Change.id)
        )).all()
    assert [tuple(h) for h in history] == [(key, None, "1200", 1, "dongxing"), (key, "1200", "1300", 2, "dongxing")]
    async with as_user("yingji") as emergency:
        read = await graphql(emergency, READ, {"c": dongxing, "keys": [key], "p": "2026-11"})
    assert read["region"]["indicatorValues"] == [{"indicator": {"key": key}, "value": "1300", "version": 2}]


async def test_grants_decide_who_reads_an_indicator_and_masks_sensitive_ones(as_user, client, engine):
    async with as_user("minzheng") as civil_affairs:
        secret = await define(civil_affairs, key=new_key("arrears"), label="欠缴情况", type="TEXT", minValue=None, maxValue=None, unit=None,
                              sensitive=True, periodicity="NONE",
                              grants=[{"department": "weijian", "mode": "masked", "purpose": "核对救助对象"}])
    dongxing = await region_code(client, "东星社区")
    village_id = (await graphql(client, "query($c: String!) { region(code: $c) { id } }", {"c": dongxing}))["region"]["id"]
    async with as_user("dongxing") as cadre:
        written = await graphql(cadre, SET, {"values": [{"key": secret, "entityId": village_id, "value": "欠缴物业费三千二百元整共计", "version": 0}]})
        assert written["setIndicatorValues"]["errors"] == []
    async with as_user("minzheng") as owner:
        assert (await graphql(owner, READ, {"c": dongxing, "keys": [secret]}))["region"]["indicatorValues"][0]["value"] == "欠缴物业费三千二百元整共计"
    async with as_user("weijian") as granted_masked:
        assert (await graphql(granted_masked, READ, {"c": dongxing, "keys": [secret]}))["region"]["indicatorValues"][0]["value"] == "欠缴物业费三***元整共计"
    async with engine.connect() as connection:  # sensitive indicator reads are logged like sensitive fields
        logged = (await connection.execute(select(AccessLogEntry.username, AccessLogEntry.sensitive_fields).where(
            AccessLogEntry.sensitive_fields.like(f"%{secret}%")).order_by(AccessLogEntry.id))).all()
    assert [tuple(row) for row in logged] == [("minzheng", f"Indicator.{secret}"), ("weijian", f"Indicator.{secret} (masked)")]
    async with as_user("renshe") as not_granted:
        refused = await not_granted.post("/graphql", json={"query": READ, "variables": {"c": dongxing, "keys": [secret]}})
        unknown = await not_granted.post("/graphql", json={"query": READ, "variables": {"c": dongxing, "keys": ["no_such_indicator"]}})
        listed = await graphql(not_granted, "{ indicators { key } }")
    # Not granted and not existing read the same: no oracle of which indicators exist.
    assert refused.json()["errors"][0]["message"] == f"keys：没有可读取的指标“{secret}”（指标不存在或本部门未获授权）"
    assert unknown.json()["errors"][0]["message"] == "keys：没有可读取的指标“no_such_indicator”（指标不存在或本部门未获授权）"
    assert refused.json()["data"]["region"] is None or refused.json()["data"] is None
    assert secret not in [i["key"] for i in listed["indicators"]]


async def test_cadres_write_only_their_own_villages_values(as_user, client, engine):
    async with as_user("yingji") as emergency:
        key = await define(emergency)
    other = await region_code(client, "溪白村")
    other_id = (await graphql(client, "query($c: String!) { region(code: $c) { id } }", {"c": other}))["region"]["id"]
    before = await counts(engine)
    async with as_user("dongxing") as cadre:
        refused = await graphql(cadre, SET, {"period": "2026-11", "values": [{"key": key, "entityId": other_id, "value": "5", "version": 0}]})
    assert refused["setIndicatorValues"]["errors"] == [
        {"field": "values[0].entityId", "code": "NOT_FOUND", "message": f"values[0].entityId：找不到 id 为 {other_id} 的 村（社区）"}
    ]
    async with as_user("xitianwei") as town:  # roles write indicator values as the policy says: the town does not
        dongxing_id = (await graphql(client, "query($c: String!) { region(code: $c) { id } }", {"c": await region_code(client, "东星社区")}))["region"]["id"]
        refused = await graphql(town, SET, {"period": "2026-11", "values": [{"key": key, "entityId": dongxing_id, "value": "5", "version": 0}]})
    assert refused["setIndicatorValues"]["errors"] == [{"field": "values", "code": "FORBIDDEN", "message": "values：乡镇协同中心工作人员无权填写指标值"}]
    assert await counts(engine) == before
