"""Legacy ledgers import with an exact report: new, updated, unchanged, duplicates, rejected with reasons."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, func, select

from hub.access.accounts import caller_named
from hub.data.models import Change, Household, Person
from hub.domain.context import Context
from hub.forms.untrusted_xlsx import NOT_XLSX_MESSAGE
from hub.legacy.importer import (
    ImportError_,
    apply_import,
    built_in_mapping,
    plan_import,
    read_rows,
)
from tests.conftest import graphql
from tests.support.messy_ledger import write_household_ledger, write_ledger
from tests.test_queries import region_code

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def people_count(engine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(Person))).scalar_one()


@contextlib.asynccontextmanager
async def imports_undone(engine):
    """What the test imports is removed afterwards: other tests count 东星社区's rows."""
    tables = (Change.__table__, Person.__table__, Household.__table__)
    async with engine.connect() as conn:
        last = {t.name: (await conn.execute(select(func.coalesce(func.max(t.c.id), 0)))).scalar_one() for t in tables}
    yield
    async with engine.begin() as conn:
        for table in tables:
            await conn.execute(delete(table).where(table.c.id > last[table.name]))


@pytest.fixture
async def ledger(tmp_path, engine):
    """A messy one-row-per-person ledger for 东星社区."""
    path = tmp_path / "东星社区花名册.xlsx"
    async with imports_undone(engine):
        yield path, write_ledger(path, rows=40, seed=11, bad_rows=3, duplicate_rows=2, upgrade15=2)


async def post(client, path, **params):
    return await client.post("/imports", params=params, content=path.read_bytes(), headers={"content-type": XLSX})


async def test_dry_run_reports_exactly_and_writes_nothing(as_user, client, engine, ledger):
    path, truth = ledger
    village = await region_code(client, "东星社区")
    before = await people_count(engine)
    async with as_user("dongxing") as cadre:
        response = await post(cadre, path, village=village)
    report = response.json()
    assert response.status_code == 200, report
    assert report["applied"] is False and report["village"] == "东星社区"
    assert report["new"] == len(truth.people)
    assert (report["updated"], report["unchanged"]) == (0, 0)
    assert report["duplicates"] == len(truth.duplicates)
    assert {r["row"] for r in report["rejectedRows"]} == set(truth.bad)
    assert all(r["reason"] for r in report["rejectedRows"])
    assert await people_count(engine) == before


async def test_apply_then_again_changes_nothing(as_user, client, engine, ledger):
    path, truth = ledger
    village = await region_code(client, "东星社区")
    before = await people_count(engine)
    async with as_user("dongxing") as cadre:
        applied = (await post(cadre, path, village=village, apply="true")).json()
        assert applied["applied"] is True and applied["new"] == len(truth.people)
        assert await people_count(engine) == before + len(truth.people)
        again = (await post(cadre, path, village=village, apply="true")).json()
    assert (again["new"], again["updated"], again["unchanged"]) == (0, 0, len(truth.people))
    assert await people_count(engine) == before + len(truth.people)
    someone = truth.people[0]
    data = await graphql(client, "query($n: String) { person(idNumber: $n) { name gender birthDate household { village { name } } } }", {"n": someone["id_number"]})
    assert data["person"]["name"] == someone["name"]
    assert data["person"]["birthDate"] == someone["birth_date"].isoformat()
    assert data["person"]["household"]["village"]["name"] == "东星社区"


def with_new_phone(path, truth, tmp_path) -> tuple[Any, dict]:
    """The ledger with its first good row's phone changed (full-width digits, spaces): the copy and that row's person."""
    workbook = load_workbook(path)
    ws = workbook.active
    header = [c.value for c in ws[truth.header_row]]
    phone_column = next(i for i, h in enumerate(header, 1) if h and "电话" in h)
    target_row = truth.first_data_row
    while target_row in truth.bad or target_row in truth.duplicates:
        target_row += 1
    ws.cell(row=target_row, column=phone_column).value = "１３８ ００１３ ８０００"
    changed = tmp_path / "changed.xlsx"
    workbook.save(changed)
    id_column = next(i for i, h in enumerate(header, 1) if h and "身份证" in h)
    number = str(ws.cell(row=target_row, column=id_column).value)
    person = next(p for p in truth.people if p["id_number"].endswith(number.replace(" ", "")[-4:]) and p["name"].replace(" ", "") in str(ws.cell(row=target_row, column=2).value).replace(" ", ""))
    return changed, person


async def test_changed_values_update_with_history(as_user, client, ledger, tmp_path):
    path, truth = ledger
    village = await region_code(client, "东星社区")
    async with as_user("dongxing") as cadre:
        await post(cadre, path, village=village, apply="true")
    changed, person = with_new_phone(path, truth, tmp_path)
    async with as_user("dongxing") as cadre:
        report = (await post(cadre, changed, village=village, apply="true")).json()
    assert report["updated"] == 1
    data = await graphql(client, "query($n: String) { person(idNumber: $n) { phone history { nodes { field newValue source } } } }", {"n": person["id_number"]})
    assert data["person"]["phone"] == "13800138000"
    assert {"field": "phone", "newValue": "13800138000", "source": "IMPORT"} in data["person"]["history"]["nodes"]


async def test_a_person_edited_in_the_hub_during_an_import_undoes_the_whole_import(as_user, client, engine, settings, schemas, ledger, tmp_path):
    path, truth = ledger
    village = await region_code(client, "东星社区")
    async with as_user("dongxing") as cadre:
        await post(cadre, path, village=village, apply="true")
    changed, person = with_new_phone(path, truth, tmp_path)
    caller = await caller_named(engine, "dongxing")
    context = Context.for_caller(engine, settings, schemas.policy, caller, "test")
    mapping = replace(built_in_mapping("person"), village=village)
    plan, target = await plan_import(context, mapping, *read_rows(changed, mapping))
    assert plan.summary()["updated"] == 1
    query = "query($n: String) { person(idNumber: $n) { id version phone history { totalCount } } }"
    async with as_user("dongxing") as cadre:  # a grid visit lands between the plan and its application
        before = (await graphql(cadre, query, {"n": person["id_number"]}))["person"]
        visit = "mutation($id: ID!, $v: Int!) { recordVisit(id: $id, version: $v, visit: {recentStatus: \"在家\"}) { errors { message } } }"
        assert (await graphql(cadre, visit, {"id": before["id"], "v": before["version"]}))["recordVisit"]["errors"] == []
    with pytest.raises(ImportError_) as refused:
        await apply_import(context, plan, target)
    assert (str(refused.value), refused.value.code) == ("第 4 行：导入期间有人在系统中修改了这条记录，整个导入已撤销，请重新导入", "CONFLICT")
    after = (await graphql(client, query, {"n": person["id_number"]}))["person"]
    assert (after["phone"], after["version"], after["history"]["totalCount"]) == (before["phone"], before["version"] + 1, before["history"]["totalCount"] + 2)


async def test_bad_files_and_places(as_user, client, ledger):
    path, _ = ledger
    chengxiang = await region_code(client, "城厢区")
    async with as_user("dongxing") as cadre:
        not_xlsx = await cadre.post("/imports", content=b"PK\x03\x04broken", headers={"content-type": XLSX})
        elsewhere = await post(cadre, path, village=chengxiang)
        wrong_type = await cadre.post("/imports", content=b"a,b", headers={"content-type": "text/csv"})
    assert (not_xlsx.status_code, not_xlsx.json()) == (400, {"errors": [{"message": NOT_XLSX_MESSAGE, "code": "NOT_XLSX"}]})
    assert (elsewhere.status_code, elsewhere.json()) == (404, {"errors": [{"message": f"村（社区）：您的辖区内没有代码为 {chengxiang} 的地区", "code": "NOT_FOUND"}]})
    assert wrong_type.status_code == 415


def test_cli_dry_run(settings, ledger, capsys, monkeypatch):
    from hub.cli import main

    path, truth = ledger
    monkeypatch.setenv("HUB_DATABASE_URL", settings.database_url)
    main(["import", str(path), "--as", "dongxing", "--village", "350304100001"])
    out = capsys.readouterr()
    assert "dry run: nothing written" in out.err
    for row in truth.bad:
        assert f"row {row}:" in out.out


# --- one row per household ------------------------------------------------------------

HOUSEHOLD_OF = """query($n: String) { person(idNumber: $n) { name relationToHead household {
  id address phone gridName lowIncome members { id }
  history { nodes { field oldValue newValue source username } } } } }"""


@pytest.fixture
async def household_ledger(tmp_path, engine):
    """A messy one-row-per-household ledger for 东星社区: 12 households, 2 broken, 2 repeated."""
    path = tmp_path / "东星社区户册.xlsx"
    async with imports_undone(engine):
        yield path, write_household_ledger(path, households=12, seed=5, bad_rows=2, duplicate_rows=2)


def edit(path, target, row: int, changes: dict[str, object]):
    """Save a copy of the ledger with cells of `row` changed, found by their header text."""
    workbook = load_workbook(path)
    sheet = workbook.active
    header = [c.value for c in sheet[2 if sheet.cell(2, 1).value == "序号" else 3]]
    for title, value in changes.items():
        sheet.cell(row=row, column=header.index(title) + 1).value = value
    workbook.save(target)
    return target


async def test_a_household_ledger_creates_heads_and_households_without_what_the_cadre_may_not_write(as_user, client, engine, household_ledger):
    path, truth = household_ledger
    village = await region_code(client, "东星社区")
    before = await people_count(engine)
    async with as_user("dongxing") as cadre:
        report = (await post(cadre, path, village=village, rows="household")).json()
        assert (report["new"], report["newHouseholds"], report["updated"], report["duplicates"]) == (10, 10, 0, 2)
        # The check character's wording is the identifiers module's; the column and the code are the import's.
        assert [(r["row"], r["code"], r["reason"].partition("：")[0]) for r in report["rejectedRows"]] == [(7, "INVALID", "公民身份号码"), (11, "INVALID", "姓名")]
        assert report["rejectedRows"][1]["reason"] == "姓名：未填写"
        # 低保 is decided by civil affairs: a village's ledger cannot set it.
        assert report["skippedColumns"] == [{"field": "Household.lowIncome", "reason": "lowIncome：村（社区）干部无权修改 Household.lowIncome"}]
        assert await people_count(engine) == before
        applied = (await post(cadre, path, village=village, rows="household", apply="true")).json()
        assert applied["applied"] is True and await people_count(engine) == before + 10
        again = (await post(cadre, path, village=village, rows="household", apply="true")).json()
        assert (again["new"], again["updated"], again["unchanged"]) == (0, 0, 10)
    head = truth.people[1]
    data = (await graphql(client, HOUSEHOLD_OF, {"n": head["id_number"]}))["person"]
    assert (data["name"], data["relationToHead"]) == (head["name"], "户主")
    assert {k: data["household"][k] for k in ("address", "phone", "gridName", "lowIncome")} == {
        "address": head["address"], "phone": head["phone"], "gridName": head["grid_name"], "lowIncome": False,
    }
    assert len(data["household"]["members"]) == 1  # the head; the rest of the family is not in this ledger


async def test_a_household_ledger_updates_households_with_history_and_civil_affairs_sets_low_income(as_user, client, household_ledger, tmp_path):
    path, truth = household_ledger
    village = await region_code(client, "东星社区")
    async with as_user("dongxing") as cadre:
        await post(cadre, path, village=village, rows="household", apply="true")
        moved = edit(path, tmp_path / "moved.xlsx", 4, {"所属网格": " 第９网格", "联系电话": "１３９ ０５９４ ００１２"})
        report = (await post(cadre, moved, village=village, rows="household", apply="true")).json()
    assert (report["updated"], report["updatedHouseholds"], report["unchanged"]) == (1, 1, 9)
    head = truth.people[1]  # sheet row 4 holds the second household
    household = (await graphql(client, HOUSEHOLD_OF, {"n": head["id_number"]}))["person"]["household"]
    assert (household["gridName"], household["phone"]) == ("第9网格", "13905940012")
    assert {"field": "gridName", "oldValue": head["grid_name"], "newValue": "第9网格", "source": "IMPORT", "username": "dongxing"} in household["history"]["nodes"]

    approved = edit(path, tmp_path / "approved.xlsx", 4, {"是否低保": "是"})
    async with as_user("minzheng") as civil_affairs:  # city-wide, writes 低保 fields only
        report = (await post(civil_affairs, approved, village=village, rows="household", apply="true")).json()
    assert report["skippedColumns"] == [
        {"field": f"Household.{field}", "reason": f"{field}：部门数据分析人员（民政局）无权修改 Household.{field}"}
        for field in ("address", "phone", "gridName")
    ]
    # Its older grid and phone are not written back: those columns are not civil affairs'.
    assert (report["updated"], report["updatedHouseholds"], report["unchanged"]) == (1, 1, 9)
    household = (await graphql(client, HOUSEHOLD_OF, {"n": head["id_number"]}))["person"]["household"]
    assert (household["lowIncome"], household["gridName"]) == (True, "第9网格")
    assert {"field": "lowIncome", "oldValue": "false", "newValue": "true", "source": "IMPORT", "username": "minzheng"} in household["history"]["nodes"]


async def test_household_rows_never_reach_outside_the_jurisdiction_or_take_an_address(as_user, client, engine, tmp_path):
    from openpyxl import Workbook

    from hub.data.identifiers import id_number_check_char

    outsider = (await graphql(client, "query($c: String) { persons(regionCode: $c, first: 1) { nodes { idNumber name } } }",
                              {"c": await region_code(client, "溪白村")}))["persons"]["nodes"][0]
    taken = (await graphql(client, "query($c: String) { households(regionCode: $c, first: 1) { nodes { address } } }",
                           {"c": await region_code(client, "东星社区")}))["households"]["nodes"][0]["address"]
    fresh = [f"35030419800101{i}05" for i in (1, 2)]
    fresh = [n + id_number_check_char(n) for n in fresh]
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["户主姓名", "户主身份证号码", "家庭住址", "所属网格"])
    sheet.append([outsider["name"], outsider["idNumber"], "东星社区某巷1号", "第1网格"])
    sheet.append(["陈新户", fresh[0], taken, "第1网格"])
    sheet.append(["陈另户", fresh[1], "东星社区新建巷8号", "第1网格"])
    path = tmp_path / "hand-made.xlsx"
    workbook.save(path)
    before = await people_count(engine)
    async with imports_undone(engine), as_user("dongxing") as cadre:
        report = (await post(cadre, path, village=await region_code(client, "东星社区"), rows="household", apply="true")).json()
        bad_kind = await post(cadre, path, rows="family")
        added = await people_count(engine) - before
    assert report["rejectedRows"] == [
        {"row": 2, "code": "ALREADY_REGISTERED", "reason": "公民身份号码：已在系统中登记，不能作为新人员导入"},
        {"row": 3, "code": "ADDRESS_TAKEN", "reason": "家庭住址：系统中该地址已有一户，户主不是此人"},
    ]
    assert report["new"] == added == 1
    assert (bad_kind.status_code, bad_kind.json()) == (400, {"errors": [{"message": "rows 只能是 `person`（每行一人）或 `household`（每行一户），不是 `family`", "code": "INVALID"}]})


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("village: '350304100001'\nrows: family\ncolumns: {name: 姓名, id_number: 身份证号}\n",
         "m.yaml:2: rows: `person` (one row per person) or `household` (one row per household), not `family`"),
        ("village: '350304100001'\nrows: household\ncolumns:\n  name: 户主姓名\n  id_number: 身份证号\n",
         "m.yaml:4: columns: map `address`: a household ledger's rows are households"),
        ("village: '350304100001'\ncolumns:\n  name: 姓名\n  idNumber: 身份证号\n",
         "m.yaml:4: unknown hub field `idNumber`"),
    ],
)
def test_mapping_files_are_checked_with_file_and_line(tmp_path, text, error):
    from hub.legacy.importer import load_mapping
    from hub.yamlfile import DataFileError

    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError) as raised:
        load_mapping(path)
    assert str(raised.value).replace(str(tmp_path) + "/", "").startswith(error)


# --- what an import may tell, and what it may write -------------------------------------


def hand_made(tmp_path, name: str, header: list[str], *rows: list[object]):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(header)
    for row in rows:
        workbook.active.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


async def test_a_masked_id_number_cannot_be_matched_so_the_import_is_refused_whatever_the_ledger_holds(as_user, client, engine, tmp_path):
    from hub.data.identifiers import id_number_check_char

    village = await region_code(client, "东星社区")
    registered = (await graphql(client, "query($c: String) { persons(regionCode: $c, first: 1) { nodes { name idNumber } } }", {"c": village}))["persons"]["nodes"][0]
    number = registered["idNumber"]
    # Numbers that fit what 住建局 sees of it (350304********1234): same region, same last four, a valid check character.
    candidates = [n for n in (f"{number[:6]}{y}0101{number[14:17]}" for y in range(1950, 2000)) if n != number[:17] and id_number_check_char(n) == number[17]][:5]
    header = ["姓名", "身份证号", "家庭住址"]
    one = hand_made(tmp_path, "one.xlsx", header, [registered["name"], number, "东星社区某巷1号"])
    others = hand_made(tmp_path, "others.xlsx", header, *([registered["name"], c + number[17], "东星社区某巷1号"] for c in candidates))
    assert candidates
    before = await people_count(engine)
    async with as_user("zhujian") as housing:
        answers = [await post(housing, path, village=village, apply=apply) for path in (one, others) for apply in ("false", "true")]
    expected = {"errors": [{"code": "FORBIDDEN", "message": (
        "住建局不能导入这份台账：导入要按这些字段与系统中的记录逐条比对，而您只能看到脱敏后的 Person.idNumber，比对结果会透露看不到的数据"
    )}]}
    assert [(a.status_code, a.json()) for a in answers] == [(403, expected)] * 4
    assert await people_count(engine) == before


async def test_new_rows_go_through_the_write_paths_checks(as_user, client, engine, tmp_path):
    from hub.data.identifiers import id_number_check_char

    village = await region_code(client, "东星社区")
    numbers = [n + id_number_check_char(n) for n in (f"35030419800202{i}06" for i in (1, 2))]
    path = hand_made(
        tmp_path, "long.xlsx", ["户主姓名", "户主身份证号码", "家庭住址", "所属网格"],
        ["王" * 40, numbers[0], "东星社区" + "长" * 196, "第1网格"],  # 32 and 128 characters fit
        ["王正常", numbers[1], "东星社区正常巷2号", "第1网格"],
    )
    before = await people_count(engine)
    async with imports_undone(engine), as_user("dongxing") as cadre:
        response = await post(cadre, path, village=village, rows="household", apply="true")
        report = response.json()
        assert response.status_code == 200, report
        assert [(r["row"], r["code"]) for r in report["rejectedRows"]] == [(2, "INVALID")]
        assert "name" in report["rejectedRows"][0]["reason"] and "address" in report["rejectedRows"][0]["reason"]
        assert (report["new"], report["newHouseholds"]) == (1, 1)
        assert await people_count(engine) == before + 1
        stored = await graphql(client, "query($n: String) { person(idNumber: $n) { name } }", {"n": numbers[0]})
        assert stored["person"] is None


async def test_the_report_speaks_chinese_with_codes(as_user, client, engine, tmp_path):
    from hub.data.identifiers import id_number_check_char

    numbers = [n + id_number_check_char(n) for n in (f"35030419900307{i}02" for i in (1, 2, 3))]  # women born 1990-03-07
    header = ["姓名", "身份证号", "性别", "出生日期", "联系电话", "民族", "与户主关系", "户主姓名", "家庭住址"]
    path = hand_made(
        tmp_path, "mixed.xlsx", header,
        ["林一", numbers[0], "男", None, None],
        ["林二", numbers[1], None, None, "0594-2345678"],
        [None, numbers[2], None, None, None],
        ["林三", numbers[0], "女", "1990-03-07", "13800138000"],
    )
    no_header = hand_made(tmp_path, "no-header.xlsx", ["序号", "备注"], [1, "无"])
    async with imports_undone(engine), as_user("dongxing") as cadre:
        report = (await post(cadre, path, village=await region_code(client, "东星社区"))).json()
        headless = await post(cadre, no_header, village=await region_code(client, "东星社区"))
    assert (headless.status_code, headless.json()["errors"][0]["code"]) == (400, "INVALID")
    assert headless.json()["errors"][0]["message"].startswith("没有找到表头行：表头要有身份证号一列，且至少一半的列能对上这些列名（或其常见写法）：姓名、")
    assert report["rejectedRows"] == [
        {"row": 2, "code": "INVALID", "reason": "性别：填的是 男，与身份证号（女）不符"},
        {"row": 3, "code": "INVALID", "reason": "联系电话：0594-2345678 是固定电话号码：请填写手机号码（1 开头的 11 位数字）"},
        {"row": 4, "code": "INVALID", "reason": "姓名：未填写"},
    ]
    assert report["new"] == 1
