"""Departments keep their own templates through the API: validated, versioned, owner-only."""

from __future__ import annotations

from sqlalchemy import func, select

from hub.data.models import SavedTemplate
from tests.conftest import graphql
from tests.test_exports import GOOD

SAVE = """mutation($d: String!, $v: Int) { saveTemplate(definition: $d, version: $v) {
  template { id title version department } errors { field code message currentVersion } } }"""
DELETE = """mutation($id: String!, $v: Int!) { deleteTemplate(id: $id, version: $v) { errors { field code message currentVersion } } }"""


async def saved_rows(engine, template_id: str) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(SavedTemplate).where(SavedTemplate.template_id == template_id))).scalar_one()


async def test_save_update_export_delete(as_user, engine):
    definition = GOOD.format(id="weijian-health-list")
    async with as_user("weijian") as health:
        created = await graphql(health, SAVE, {"d": definition})
        assert created["saveTemplate"] == {
            "template": {"id": "weijian-health-list", "title": "测试表", "version": 1, "department": "weijian"},
            "errors": [],
        }
        listed = await graphql(health, "{ templates { id version } }")
        assert {"id": "weijian-health-list", "version": 1} in listed["templates"]
        response = await health.get("/exports/weijian-health-list.xlsx", params={"region": "350304100001"})
        assert response.status_code == 200

        renamed = await graphql(health, SAVE, {"d": definition.replace("测试表", "健康名单"), "v": 1})
        assert renamed["saveTemplate"]["template"]["version"] == 2
        stale = await graphql(health, SAVE, {"d": definition, "v": 1})
        assert stale["saveTemplate"] == {
            "template": None,
            "errors": [
                {
                    "field": "version",
                    "code": "CONFLICT",
                    "message": "version：表样 `weijian-health-list` 现在是第 2 版，不是第 1 版；请重新读取后再改一次",
                    "currentVersion": 2,
                }
            ],
        }
    async with as_user("minzheng") as civil_affairs:
        refused = await graphql(civil_affairs, DELETE, {"id": "weijian-health-list", "v": 2})
        assert refused["deleteTemplate"]["errors"] == [
            {"field": "department", "code": "FORBIDDEN", "message": "department：只有 weijian 的部门分析员能修改其表样，民政局不能", "currentVersion": None}
        ]
    assert await saved_rows(engine, "weijian-health-list") == 2
    async with as_user("weijian") as health:
        deleted = await graphql(health, DELETE, {"id": "weijian-health-list", "v": 2})
        assert deleted["deleteTemplate"]["errors"] == []
        response = await health.get("/exports/weijian-health-list.xlsx")
        assert response.status_code == 404
    assert await saved_rows(engine, "weijian-health-list") == 3  # the deletion is a version too


async def test_a_departments_saved_template_is_its_own(as_user, client, engine):
    """Its title and query say what the department collects: another department, even one that could run
    it, neither lists, looks up, exports nor uploads it."""
    definition = GOOD.format(id="weijian-own-list")
    async with as_user("weijian") as health:
        assert (await graphql(health, SAVE, {"d": definition}))["saveTemplate"]["errors"] == []
    async with as_user("minzheng") as civil_affairs:
        # 民政局 reads what the template asks: it is its owner, not its grants, that keeps it out.
        await graphql(civil_affairs, '{ persons(regionCode: "350304100001", first: 1) { nodes { name healthStatus } } }')
        listed = {t["id"] for t in (await graphql(civil_affairs, "{ templates { id } }"))["templates"]}
        looked_up = await graphql(civil_affairs, '{ template(id: "weijian-own-list") { id } }')
        exported = await civil_affairs.get("/exports/weijian-own-list.xlsx", params={"region": "350304100001"})
        missing = await civil_affairs.get("/exports/no-such-template.xlsx", params={"region": "350304100001"})
    assert "weijian-own-list" not in listed and "dibao-dongtai" in listed and looked_up == {"template": None}
    assert (exported.status_code, exported.json()) == (404, {"errors": [{"code": "NOT_FOUND", "message": "没有模板 `weijian-own-list`"}]})
    assert (missing.status_code, missing.json()["errors"][0]["message"]) == (404, "没有模板 `no-such-template`")
    listed_by_admin = {t["id"] for t in (await graphql(client, "{ templates { id } }"))["templates"]}
    assert "weijian-own-list" in listed_by_admin


async def test_refused_saves_write_nothing(as_user, engine):
    async with as_user("minzheng") as civil_affairs:
        other = await graphql(civil_affairs, SAVE, {"d": GOOD.format(id="not-mine")})
        shipped = await graphql(civil_affairs, SAVE, {"d": GOOD.format(id="dibao-dongtai").replace("weijian", "minzheng")})
        definition = GOOD.format(id="broken-form").replace("department: weijian", "department: minzheng")
        broken = await graphql(civil_affairs, SAVE, {"d": definition.replace("healthStatus", "chronicDiseases")})
    assert other["saveTemplate"]["errors"] == [
        {"field": "department", "code": "FORBIDDEN", "message": "department：只有 weijian 的部门分析员能修改其表样，民政局不能", "currentVersion": None}
    ]
    assert shipped["saveTemplate"]["errors"] == [
        {"field": "id", "code": "FORBIDDEN", "message": "id：`dibao-dongtai` 是随仓库发布的表样（templates/dibao-dongtai.yaml），请换一个编号", "currentVersion": None}
    ]
    # minzheng may not read Person.chronicDiseases: the query does not validate in its view
    assert broken["saveTemplate"]["errors"] == [
        {
            "field": "definition",
            "code": "INVALID",
            "message": "definition：第 8 行：query 不符合部门 minzheng 可见的数据范围：Cannot query field 'chronicDiseases' on type 'Person'.",
            "currentVersion": None,
        }
    ]
    for template_id in ("not-mine", "dibao-dongtai", "broken-form"):
        assert await saved_rows(engine, template_id) == 0


async def test_grassroots_roles_have_no_template_mutations(as_user):
    async with as_user("dongxing") as cadre:
        response = await cadre.post("/graphql", json={"query": SAVE, "variables": {"d": "x"}}, headers={"accept": "application/graphql-response+json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Cannot query field 'saveTemplate' on type 'Mutation'."


async def test_a_hidden_field_is_refused_in_the_same_words_as_a_missing_one(as_user, engine):
    definition = GOOD.format(id="minzheng-probe").replace("department: weijian", "department: minzheng")
    async with as_user("minzheng") as civil_affairs:
        answers = {
            name: (await graphql(civil_affairs, SAVE, {"d": definition.replace("healthStatus", name)}))["saveTemplate"]["errors"]
            for name in ("employer", "employerr", "emplyer")  # hidden from 民政局; close to it; nowhere
        }
    for name, errors in answers.items():
        assert errors == [
            {
                "field": "definition",
                "code": "INVALID",
                "message": f"definition：第 8 行：query 不符合部门 minzheng 可见的数据范围：Cannot query field '{name}' on type 'Person'.",
                "currentVersion": None,
            }
        ]
    assert await saved_rows(engine, "minzheng-probe") == 0


async def test_another_departments_view_is_not_an_oracle(as_user, engine):
    # 民政局 cannot learn what 卫健委's view holds by saving a template in 卫健委's name.
    probe = GOOD.format(id="weijian-probe")
    async with as_user("minzheng") as civil_affairs:
        answers = [
            (await graphql(civil_affairs, SAVE, {"d": probe.replace("healthStatus", name)}))["saveTemplate"]["errors"]
            for name in ("chronicDiseases", "nothing")
        ]
    assert answers == [
        [{"field": "department", "code": "FORBIDDEN", "message": "department：只有 weijian 的部门分析员能修改其表样，民政局不能", "currentVersion": None}]
    ] * 2
    assert await saved_rows(engine, "weijian-probe") == 0


async def test_a_definitions_shape_is_refused_in_chinese_with_its_line(as_user, engine):
    """What the YAML reader itself checks (keys, kinds of value, syntax) reads as the template's other checks do."""
    mine = GOOD.format(id="shape-probe").replace("department: weijian", "department: minzheng")
    definitions = {
        "missing": mine.replace("title: 测试表\n", ""),
        "unknown key": mine + "footer: 制表人\n",
        "not a list": mine.split("columns:")[0] + "columns: 姓名\n",
        "empty header": mine.replace("header: 姓名", "header: ''"),
        "twice": mine + "rows: persons\n",
        "not yaml": mine.replace("title: 测试表", "title: [测试表"),
        "unknown column key": mine.replace("    path: name\n", "    path: name\n    colour: red\n"),
        "variable": mine.replace("region: {label: 区划}", "region: {lable: 区划}"),
    }
    async with as_user("minzheng") as civil_affairs:
        messages = {
            name: [e["message"] for e in (await graphql(civil_affairs, SAVE, {"d": definition}))["saveTemplate"]["errors"]]
            for name, definition in definitions.items()
        }
    keys = "columns, department, description, group_by, id, layout, page, query, rows, signature, subtotals, title, variables"
    assert messages == {
        "missing": ["definition：第 1 行：模板：缺少 `title`"],
        "unknown key": [f"definition：第 19 行：模板：未知的键 `footer`（可用的键：{keys}）"],
        "not a list": ["definition：第 14 行：columns 须为列表"],
        "empty header": ["definition：第 15 行：header 须为非空文本"],
        "twice": ["definition：第 19 行：`rows` 出现了两次"],
        "not yaml": ["definition：第 3 行：不是有效的 YAML，请检查这一行附近的括号、引号和缩进（解析器：expected ',' or ']', but got ':'）"],
        "unknown column key": ["definition：第 17 行：列：未知的键 `colour`（可用的键：fill, header, join, number_format, path, value, width, wrap）"],
        "variable": ["definition：第 13 行：变量 $region：未知的键 `lable`（可用的键：default, label）"],
    }
    assert await saved_rows(engine, "shape-probe") == 0
