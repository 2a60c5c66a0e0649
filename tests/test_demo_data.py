"""The Putian demo data set: the facts the hub's demos and forms rely on, checked with SQL on SQLite."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from itertools import islice

import orjson
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hub.data.blobs import FileBlobStore
from hub.data.identifiers import (
    parse_id_number,
    validate_credit_code,
    validate_mobile,
    validate_region_code,
)
from hub.data.models import Base
from hub.demo import DEFAULT_SCALE, DEFAULT_SEED, REFERENCE_DATE, seed_demo
from hub.demo.documents import seed_documents
from hub.demo.generator import DemoGenerator, load_geography
from hub.demo.requests import TABLES as REQUEST_TABLES

SCALE = 5  # ~5k households, ~15k persons: about two seconds
TABLES = ("regions", "enterprises", "flood_points", "flood_point_photos", "households", "persons")
DOCUMENT_TABLES = ("documents", "document_versions", "document_grants")
EVENT_TABLES = ("events", "damage_reports", "damaged_houses", "affected_enterprises", "flood_point_reports", "photos")

DISTRICTS = {
    "350302000000": "城厢区",
    "350303000000": "涵江区",
    "350304000000": "荔城区",
    "350305000000": "秀屿区",
    "350322000000": "仙游县",
    "350391000000": "湄洲岛国家旅游度假区",
    "350392000000": "湄洲湾北岸经济开发区",
}
ENTERPRISE = "青春之家（福建）体育用品有限公司"


async def new_engine(path) -> AsyncEngine:
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")

    @event.listens_for(engine.sync_engine, "connect")
    def _foreign_keys(dbapi_connection, _record):
        # SQLite only enforces foreign keys when asked: the seed must satisfy them.
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    return engine


@pytest.fixture(scope="module")
async def seeded(tmp_path_factory):
    engine = await new_engine(tmp_path_factory.mktemp("demo") / "demo.sqlite3")
    calls: list[tuple[str, int, int]] = []
    counts = await seed_demo(engine, scale=SCALE, progress=lambda *call: calls.append(call))
    yield engine, counts, calls
    await engine.dispose()


async def rows(engine: AsyncEngine, sql: str, **params) -> list[tuple]:
    async with engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql), params)).all()]


async def scalar(engine: AsyncEngine, sql: str, **params):
    async with engine.connect() as conn:
        return await conn.scalar(text(sql), params)


async def test_counts_match_the_tables(seeded):
    engine, counts, _ = seeded
    assert set(counts) == set(TABLES) | {"org_units", "users"} | set(EVENT_TABLES) | set(REQUEST_TABLES) | set(DOCUMENT_TABLES)
    for table in TABLES + EVENT_TABLES + REQUEST_TABLES + DOCUMENT_TABLES:
        assert counts[table] == await scalar(engine, f"SELECT count(*) FROM {table}")
    assert counts["persons"] > counts["households"] > 0


async def test_administrative_hierarchy(seeded):
    engine, _, _ = seeded
    assert await rows(engine, "SELECT level, count(*) FROM regions GROUP BY level ORDER BY level") == [
        ("CITY", 1), ("DISTRICT", 7), ("TOWN", 54), ("VILLAGE", 973)
    ]
    assert await rows(engine, "SELECT code, name, parent_id FROM regions WHERE level = 'CITY'") == [
        ("350300000000", "莆田市", None)
    ]
    districts = await rows(
        engine,
        "SELECT d.code, d.name FROM regions d JOIN regions c ON d.parent_id = c.id"
        " WHERE d.level = 'DISTRICT' AND c.code = '350300000000'",
    )
    assert dict(districts) == DISTRICTS


async def test_every_code_is_valid_under_its_parent(seeded):
    engine, _, _ = seeded
    regions = await rows(
        engine,
        "SELECT r.code, r.name, r.level, p.code FROM regions r LEFT JOIN regions p ON r.parent_id = p.id",
    )
    for code, name, level, parent_code in regions:
        validate_region_code(code, level, parent_code)
        # Statistical numbering: streets 0xx, towns 1xx, townships 2xx; communities 0xx, villages 2xx.
        if level == "TOWN":
            expected = {"街道": "0", "镇": "1", "乡": "2"}[next(s for s in ("街道", "镇", "乡") if name.endswith(s))]
            assert code[6] == expected, (code, name)
        if level == "VILLAGE":
            assert code[9] == ("0" if name.endswith("社区") else "2"), (code, name)


async def test_xitianwei_town(seeded):
    engine, _, _ = seeded
    villages = await rows(
        engine,
        "SELECT v.name FROM regions v JOIN regions t ON v.parent_id = t.id JOIN regions d ON t.parent_id = d.id"
        " WHERE t.name = '西天尾镇' AND d.name = '荔城区'",
    )
    names = [name for (name,) in villages]
    assert len(names) == 17 == len(set(names))
    assert "东星社区" in names
    assert await scalar(engine, "SELECT count(*) FROM regions WHERE name = '东星社区'") == 1


async def test_dongxing_has_16_low_income_households(seeded):
    engine, _, _ = seeded
    assert await scalar(
        engine,
        "SELECT count(*) FROM households h JOIN regions v ON h.village_id = v.id"
        " WHERE v.name = '东星社区' AND h.low_income",
    ) == 16


@pytest.mark.parametrize("scale", [1, 5, DEFAULT_SCALE, 100])
def test_dongxing_low_income_count_holds_at_any_scale(scale):
    generator = DemoGenerator(load_geography(), scale, 20240829)
    dongxing = next(v for v in generator.villages if v.name == "东星社区")
    assert sum(h.low_income for h in dongxing.households) == 16


async def test_xitianwei_flood_points_and_the_enterprise(seeded):
    engine, _, _ = seeded
    in_town = (
        " JOIN regions v ON {alias}.village_id = v.id JOIN regions t ON v.parent_id = t.id WHERE t.name = '西天尾镇'"
    )
    assert await scalar(engine, "SELECT count(*) FROM flood_points f" + in_town.format(alias="f")) == 24
    enterprises = await rows(engine, "SELECT e.id FROM enterprises e" + in_town.format(alias="e") + " AND e.name = :n",
                             n=ENTERPRISE)
    assert len(enterprises) == 1
    near = await rows(
        engine,
        "SELECT f.id FROM flood_points f" + in_town.format(alias="f") + " AND f.nearby_enterprise_id = :e",
        e=enterprises[0][0],
    )
    assert len(near) == 1
    # Other towns have a few points each.
    per_town = dict(await rows(
        engine,
        "SELECT t.name, count(*) FROM flood_points f JOIN regions v ON f.village_id = v.id"
        " JOIN regions t ON v.parent_id = t.id GROUP BY t.name",
    ))
    assert per_town.pop("西天尾镇") == 24
    assert per_town and max(per_town.values()) <= 4


async def test_flood_points_and_photos(seeded):
    engine, _, _ = seeded
    for name, lon, lat, phone, risk, status in await rows(
        engine, "SELECT name, longitude, latitude, responsible_phone, risk_level, status FROM flood_points"
    ):
        assert 118.4 < lon < 119.6 and 24.9 < lat < 25.8, name
        assert validate_mobile(phone) == phone
        assert risk in ("HIGH", "MEDIUM", "LOW") and status in ("ACTIVE", "FIXING", "FIXED")
    assert await scalar(engine, "SELECT count(*) FROM flood_point_photos") > 0
    # Every point in 西天尾镇 has at least one photo for the town's live view.
    assert await scalar(
        engine,
        "SELECT count(*) FROM flood_points f JOIN regions v ON f.village_id = v.id JOIN regions t ON v.parent_id = t.id"
        " WHERE t.name = '西天尾镇' AND NOT EXISTS (SELECT 1 FROM flood_point_photos p WHERE p.flood_point_id = f.id)",
    ) == 0


async def test_enterprises(seeded):
    engine, _, _ = seeded
    enterprises = await rows(
        engine,
        "SELECT e.credit_code, e.name, e.phone, e.safety_contact_phone, e.employees, v.code, v.level"
        " FROM enterprises e JOIN regions v ON e.village_id = v.id",
    )
    codes = [e[0] for e in enterprises]
    assert len(codes) == len(set(codes)) > 900
    assert len({e[1] for e in enterprises}) == len(enterprises)
    for code, name, phone, safety_phone, employees, village_code, level in enterprises:
        assert validate_credit_code(code) == code
        assert code[2:8] == village_code[:6], name  # division code of the enterprise's district
        assert validate_mobile(phone) == phone and validate_mobile(safety_phone) == safety_phone
        assert employees > 0 and level == "VILLAGE"


async def test_id_numbers_are_valid_unique_and_match_the_person(seeded):
    engine, _, _ = seeded
    persons = await rows(
        engine,
        "SELECT p.id_number, p.gender, p.birth_date, v.code FROM persons p"
        " JOIN households h ON p.household_id = h.id JOIN regions v ON h.village_id = v.id",
    )
    numbers = [p[0] for p in persons]
    assert len(numbers) == len(set(numbers))
    for number, gender, birth_date, village_code in persons:
        parsed = parse_id_number(number, REFERENCE_DATE)
        assert parsed.number == number
        assert parsed.gender == gender
        assert parsed.birth_date.isoformat() == birth_date
        assert number[:6] == village_code[:6]  # the person's district (county) code


async def test_households_and_members(seeded):
    engine, counts, _ = seeded
    members: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for household_id, relation, birth_date in await rows(
        engine, "SELECT household_id, relation_to_head, birth_date FROM persons ORDER BY id"
    ):
        members[household_id].append((relation, birth_date))
    assert len(members) == counts["households"]
    sizes = [len(m) for m in members.values()]
    assert min(sizes) >= 1 and max(sizes) <= 6
    assert 2.8 < statistics.mean(sizes) < 3.4
    for household in members.values():
        relations = Counter(r for r, _ in household)
        assert relations["户主"] == 1 and relations["配偶"] <= 1
        born = defaultdict(list)
        for relation, birth_date in household:
            born[relation].append(birth_date)
        # ISO dates compare as strings: a later date is a younger person.
        parents = born["户主"] + born["配偶"]
        for child in born["子"] + born["女"]:
            assert all(child > parent for parent in parents)
        for elder in born["父亲"] + born["母亲"]:
            assert elder < born["户主"][0]
        for grandchild in born["孙子"] + born["孙女"]:
            assert all(grandchild > parent for parent in born["子"] + born["儿媳"])


async def test_household_categories_and_money(seeded):
    engine, counts, _ = seeded
    total = counts["households"]
    shares = await rows(
        engine,
        "SELECT avg(low_income), avg(extreme_poverty), avg(elderly_alone), avg(poverty_monitored) FROM households",
    )
    low, extreme, alone, monitored = shares[0]
    assert 0.03 < low < 0.08 and 0.003 < extreme < 0.025 and 0.02 < alone < 0.06 and 0.008 < monitored < 0.04
    assert await scalar(
        engine,
        "SELECT count(*) FROM households WHERE low_income AND"
        " (subsidy_monthly IS NULL OR subsidy_monthly <= 0 OR low_income_since IS NULL)",
    ) == 0
    assert await scalar(
        engine,
        "SELECT count(*) FROM households WHERE NOT low_income AND NOT extreme_poverty AND subsidy_monthly IS NOT NULL",
    ) == 0
    # Elderly living alone: one member, 60 or older on the reference date.
    assert await scalar(
        engine,
        "SELECT count(*) FROM households h WHERE elderly_alone AND ("
        " (SELECT count(*) FROM persons p WHERE p.household_id = h.id) <> 1 OR"
        " (SELECT max(birth_date) FROM persons p WHERE p.household_id = h.id) > '1966-11-01')",
    ) == 0
    grades = dict(await rows(engine, "SELECT housing_safety_grade, count(*) FROM households GROUP BY 1"))
    assert grades["A"] + grades["B"] > 0.85 * total and grades.get("C", 0) + grades.get("D", 0) > 0
    for address, grid in await rows(
        engine,
        "SELECT h.address, h.grid_name FROM households h JOIN regions v ON h.village_id = v.id WHERE v.name = '东星社区'",
    ):
        assert address.startswith("莆田市荔城区西天尾镇东星社区") and address.endswith("号")
        assert grid.startswith("第") and grid.endswith("网格")


async def test_phones_are_valid_mobiles_for_adults_only(seeded):
    engine, _, _ = seeded
    for (phone,) in await rows(
        engine, "SELECT phone FROM persons WHERE phone IS NOT NULL UNION ALL"
        " SELECT phone FROM households WHERE phone IS NOT NULL"
    ):
        assert validate_mobile(phone) == phone
    minors_with_phone = "SELECT count(*) FROM persons WHERE phone IS NOT NULL AND birth_date > '2008-11-01'"
    assert await scalar(engine, minors_with_phone) == 0


async def test_person_attributes_are_plausible(seeded):
    engine, _, _ = seeded
    health = dict(await rows(engine, "SELECT health_status, count(*) FROM persons GROUP BY 1"))
    assert health["HEALTHY"] > sum(health.values()) / 2
    assert {"CHRONIC", "SERIOUS", "DISABLED"} <= set(health)
    assert await scalar(
        engine,
        "SELECT count(*) FROM persons WHERE (health_status = 'DISABLED') <>"
        " (disability_type IS NOT NULL AND disability_grade BETWEEN 1 AND 4)",
    ) == 0
    assert await scalar(
        engine, "SELECT count(*) FROM persons WHERE health_status = 'CHRONIC' AND chronic_diseases IS NULL"
    ) == 0
    assert await scalar(
        engine, "SELECT count(*) FROM persons WHERE key_care_reason IS NOT NULL AND (recent_status IS NULL"
        " OR recent_status_date IS NULL)"
    ) == 0
    reasons = dict(await rows(engine, "SELECT key_care_reason, count(*) FROM persons GROUP BY 1"))
    assert reasons["ILLNESS"] > 0 and reasons["DISABILITY"] > 0
    assert await scalar(
        engine, "SELECT count(*) FROM persons WHERE key_care_reason = 'DISABILITY' AND health_status <> 'DISABLED'"
    ) == 0
    # Low-income heads carry a recent status (近期动态), the one changing column of the 12-column form.
    assert await scalar(
        engine, "SELECT count(*) FROM persons p JOIN households h ON p.household_id = h.id"
        " WHERE h.low_income AND p.relation_to_head = '户主' AND p.recent_status IS NULL"
    ) == 0
    assert await scalar(engine, "SELECT count(*) FROM persons WHERE recent_status_date > :d",
                        d=REFERENCE_DATE.isoformat()) == 0
    ethnicity = dict(await rows(engine, "SELECT ethnicity, count(*) FROM persons GROUP BY 1"))
    assert ethnicity["汉族"] > 0.98 * sum(ethnicity.values())
    residence = dict(await rows(engine, "SELECT residence_status, count(*) FROM persons GROUP BY 1"))
    assert residence["RESIDENT"] > 0.9 * sum(residence.values())
    # Children under 6 have no employment status; school-age children are students.
    assert await scalar(
        engine, "SELECT count(*) FROM persons WHERE birth_date > '2020-11-01' AND employment_status IS NOT NULL"
    ) == 0
    assert await scalar(
        engine, "SELECT count(*) FROM persons WHERE birth_date BETWEEN '2011-11-01' AND '2020-11-01'"
        " AND employment_status <> 'STUDENT'"
    ) == 0
    assert await scalar(
        engine, "SELECT count(*) FROM persons WHERE employment_status = 'EMPLOYED' AND employer IS NULL"
    ) == 0


async def test_region_profiles_add_up(seeded):
    engine, counts, _ = seeded
    mismatched = await rows(
        engine,
        "SELECT v.name FROM regions v WHERE v.level = 'VILLAGE' AND ("
        " v.household_count <> (SELECT count(*) FROM households h WHERE h.village_id = v.id) OR"
        " v.population <> (SELECT count(*) FROM persons p JOIN households h ON p.household_id = h.id"
        "  WHERE h.village_id = v.id))",
    )
    assert mismatched == []
    assert await rows(engine, "SELECT population, household_count FROM regions WHERE level = 'CITY'") == [
        (counts["persons"], counts["households"])
    ]
    assert await scalar(
        engine,
        "SELECT count(*) FROM regions t WHERE t.level = 'TOWN' AND t.population <>"
        " (SELECT sum(v.population) FROM regions v WHERE v.parent_id = t.id)",
    ) == 0
    assert await scalar(
        engine,
        "SELECT count(*) FROM regions WHERE level IN ('TOWN', 'VILLAGE') AND (party_secretary IS NULL"
        " OR director IS NULL OR phone IS NULL OR address IS NULL OR area_km2 IS NULL OR area_km2 <= 0)",
    ) == 0
    city_area = await scalar(engine, "SELECT area_km2 FROM regions WHERE level = 'CITY'")
    assert 3500 < city_area < 4300


async def test_progress_reports_every_table_to_completion(seeded):
    _, counts, calls = seeded
    last: dict[str, tuple[int, int]] = {}
    for stage, done, total in calls:
        assert stage in TABLES and 0 < done <= total
        assert done > last.get(stage, (0, 0))[0]
        last[stage] = (done, total)
    assert last == {table: (counts[table], counts[table]) for table in TABLES if counts[table]}


async def test_refuses_a_non_empty_schema(seeded):
    engine, counts, _ = seeded
    with pytest.raises(ValueError, match="needs an empty schema"):
        await seed_demo(engine, scale=1)
    assert await scalar(engine, "SELECT count(*) FROM persons") == counts["persons"]


async def table_dump(engine: AsyncEngine) -> dict[str, list[tuple]]:
    return {table: await rows(engine, f"SELECT * FROM {table} ORDER BY id") for table in TABLES}


async def test_same_seed_gives_the_same_rows(tmp_path):
    dumps = []
    for name in ("a", "b"):
        engine = await new_engine(tmp_path / f"{name}.sqlite3")
        await seed_demo(engine, scale=2, seed=7)
        dumps.append(await table_dump(engine))
        await engine.dispose()
    assert dumps[0] == dumps[1]


def test_geography_is_seed_independent_people_are_not():
    first, other = (DemoGenerator(load_geography(), 2, seed) for seed in (7, 8))
    assert [(r["code"], r["name"]) for r in first.region_rows] == [(r["code"], r["name"]) for r in other.region_rows]
    people = [
        [p["id_number"] for _, persons in islice(g.households_and_persons(), 20) for p in persons]
        for g in (first, other)
    ]
    assert people[0] != people[1]


async def test_typhoon_gaemi_over_xitianwei(seeded):
    """2024年第3号台风“格美”: every village of 西天尾镇 reported, some twice; each flood point has a report; 青春之家 was hit."""
    engine, counts, _ = seeded
    (name, status), = await rows(engine, "SELECT name, status FROM events")
    assert (name, status) == ("2024年第3号台风“格美”", "CLOSED")
    per_village = await rows(engine, """SELECT r.name, count(*) FROM damage_reports d JOIN regions r ON r.id = d.village_id
                                         GROUP BY r.name ORDER BY r.name""")
    assert len(per_village) == 17
    assert dict(per_village)["东星社区"] == 2 and sum(1 for _, n in per_village if n > 1) >= 5
    assert await scalar(engine, "SELECT count(*) FROM damage_reports WHERE review_status = 'SENT_BACK'") == 1
    assert counts["flood_point_reports"] == 24 and counts["photos"] == 0  # photos only with a blob store
    assert await scalar(engine, """SELECT a.note FROM affected_enterprises a JOIN enterprises e ON e.id = a.enterprise_id
                                   WHERE e.name = '青春之家（福建）体育用品有限公司' LIMIT 1""") == "厂区进水约 30 厘米，原料仓库受淹，停产 2 天"
    # The register's rooms are the report's house figures.
    assert await rows(engine, """SELECT d.id FROM damage_reports d WHERE d.generally_damaged_rooms + d.severely_damaged_rooms
                                  <> (SELECT coalesce(sum(h.rooms), 0) FROM damaged_houses h WHERE h.report_id = d.id)""") == []


async def test_xitianwei_shares_its_flood_inspection_with_emergency_management(seeded, tmp_path):
    """With a blob store (as `hub serve --demo` has), 西天尾镇's centre has uploaded its 2024 检查材料 and 会议纪要 and
    granted 应急管理局 view-only access past the reference date; without one, no document rows at all."""
    engine, counts, _ = seeded
    assert [counts[t] for t in DOCUMENT_TABLES] == [0, 0, 0]
    store = FileBlobStore(tmp_path / "blobs")
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            added = await seed_documents(conn, DEFAULT_SEED, store)
            assert added == {"documents": 3, "document_versions": 4, "document_grants": 2}
            documents = [tuple(r) for r in (await conn.execute(text(
                """SELECT d.title, d.category, d.year, r.name, u.name, v.number, v.kind, v.page_count, v.blob_key, v.preview_key
                   FROM documents d JOIN regions r ON r.id = d.region_id JOIN org_units u ON u.id = d.owner_unit_id
                   JOIN document_versions v ON v.document_id = d.id ORDER BY d.id, v.number""")))]
            assert [d[:8] for d in documents] == [
                ("2024年汛前检查报告", "INSPECTION", 2024, "西天尾镇", "西天尾镇基层治理协同中心", 1, "PDF", 1),
                ("2024年汛前检查报告", "INSPECTION", 2024, "西天尾镇", "西天尾镇基层治理协同中心", 2, "PDF", 2),
                ("2024年汛前检查台账", "INSPECTION", 2024, "西天尾镇", "西天尾镇基层治理协同中心", 1, "XLSX", 1),
                ("2024年防汛工作会议纪要", "MEETING_MINUTES", 2024, "西天尾镇", "西天尾镇基层治理协同中心", 1, "DOCX", 1),
            ]
            for *_, blob, preview in documents:  # the files are in the store, with the previews an upload makes
                assert await store.exists(blob) and (preview is None or await store.exists(preview))
            ledger = orjson.loads(await store.get(documents[2][9]))["sheets"][0]
            assert (ledger["name"], ledger["rows"][0][0], len(ledger["rows"])) == ("汛前检查台账", "村（社区）", 1 + 17)
            grants = [tuple(r) for r in (await conn.execute(text(
                """SELECT g.category, d.title, u.name, g.mode, g.valid_from, g.valid_until, g.revoked_on FROM document_grants g
                   JOIN org_units u ON u.id = g.grantee_unit_id LEFT JOIN documents d ON d.id = g.document_id ORDER BY g.id""")))]
            assert [g[:4] for g in grants] == [("INSPECTION", None, "应急管理局", "VIEW"), (None, "2024年防汛工作会议纪要", "应急管理局", "VIEW")]
            assert all(str(g[4]) <= str(REFERENCE_DATE) < str(g[5]) and g[6] is None for g in grants)  # live on the demo's day
        finally:
            await transaction.rollback()
