"""Legacy ledgers import with an exact report: new, updated, unchanged, duplicates, rejected with reasons."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, func, select

from hub.legacy.messy import write_ledger
from hub.models import Change, Household, Person
from tests.conftest import graphql
from tests.test_queries import region_code

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def people_count(engine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(Person))).scalar_one()


@pytest.fixture
async def ledger(tmp_path, engine):
    """A messy ledger for 东星社区; what an import adds is removed afterwards (other tests count 东星社区's rows)."""
    path = tmp_path / "东星社区花名册.xlsx"
    tables = (Change.__table__, Person.__table__, Household.__table__)
    async with engine.connect() as conn:
        last = {t.name: (await conn.execute(select(func.coalesce(func.max(t.c.id), 0)))).scalar_one() for t in tables}
    yield path, write_ledger(path, rows=40, seed=11, bad_rows=3, duplicate_rows=2, upgrade15=2)
    async with engine.begin() as conn:
        for table in tables:
            await conn.execute(delete(table).where(table.c.id > last[table.name]))


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


async def test_changed_values_update_with_history(as_user, client, ledger, tmp_path):
    path, truth = ledger
    village = await region_code(client, "东星社区")
    async with as_user("dongxing") as cadre:
        await post(cadre, path, village=village, apply="true")
    workbook = load_workbook(path)
    ws = workbook.active
    header = [c.value for c in ws[truth.header_row]]
    phone_column = next(i for i, h in enumerate(header, 1) if h and "电话" in h)
    target_row = truth.first_data_row
    while target_row in truth.bad or target_row in truth.duplicates:
        target_row += 1
    ws.cell(row=target_row, column=phone_column).value = "１３８ ００１３ ８０００"  # full-width digits, spaces
    changed = tmp_path / "changed.xlsx"
    workbook.save(changed)
    async with as_user("dongxing") as cadre:
        report = (await post(cadre, changed, village=village, apply="true")).json()
    assert report["updated"] == 1
    id_column = next(i for i, h in enumerate(header, 1) if h and "身份证" in h)
    number = str(ws.cell(row=target_row, column=id_column).value)
    person = next(p for p in truth.people if p["id_number"].endswith(number.replace(" ", "")[-4:]) and p["name"].replace(" ", "") in str(ws.cell(row=target_row, column=2).value).replace(" ", ""))
    data = await graphql(client, "query($n: String) { person(idNumber: $n) { phone history { nodes { field newValue source } } } }", {"n": person["id_number"]})
    assert data["person"]["phone"] == "13800138000"
    assert {"field": "phone", "newValue": "13800138000", "source": "IMPORT"} in data["person"]["history"]["nodes"]


async def test_bad_files_and_places(as_user, client, ledger):
    path, _ = ledger
    chengxiang = await region_code(client, "城厢区")
    async with as_user("dongxing") as cadre:
        not_xlsx = await cadre.post("/imports", content=b"PK\x03\x04broken", headers={"content-type": XLSX})
        elsewhere = await post(cadre, path, village=chengxiang)
        wrong_type = await cadre.post("/imports", content=b"a,b", headers={"content-type": "text/csv"})
    assert (not_xlsx.status_code, not_xlsx.json()) == (400, {"errors": [{"message": "the file is not an xlsx workbook"}]})
    assert (elsewhere.status_code, elsewhere.json()) == (400, {"errors": [{"message": f"village: no region has code {chengxiang} within your jurisdiction"}]})
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
