"""Photos of reports and flood-point reports: accepted by content within limits, stored once, served as the record is."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import func, select

from hub.access import accounts
from hub.data.models import FloodPointReport, OrgUnitKind, Photo, Role
from tests.conftest import client_as, graphql
from tests.test_events import (
    code_of,
    figures,
    open_event,
    other_town_coordinator,
    submit,
)

REPORT_FLOOD_POINT = """mutation($e: ID!, $p: ID!, $input: FloodPointReportInput!) {
  reportFloodPoint(eventId: $e, floodPointId: $p, input: $input) {
    floodPointReport { id condition waterDepthCm text floodPoint { condition } } errors { field code message } } }"""
BOARD = """query($id: ID!) { event(id: $id) { floodPointBoard { text floodPoint { name } photos { width height displayUrl thumbnailUrl } } } }"""


def jpeg(width: int = 400, height: int = 300, orientation: int | None = None, gps: bool = False) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, width // 4, height))  # a blue band on the left, to see the rotation
    exif = Image.Exif()
    exif[0x0132] = "2024:07:25 19:40:00"  # DateTime
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (25.0, 28.0, 48.0), 3: "E", 4: (119.0, 0.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png(width: int, height: int, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height)).save(out, "PNG", optimize=True)
    return out.getvalue()


_cadres: dict[str, str] = {}


async def cadre_of(engine, village: str) -> str:
    if village not in _cadres:
        code = await code_of(engine, village)
        unit = f"{village}村（居）委会（照片测试）"
        await accounts.add_org_unit(engine, unit, OrgUnitKind.VILLAGE_COMMITTEE, None, code)
        await accounts.add_user(engine, f"photo-cadre-{code}", "测试干部", unit, Role.VILLAGE_CADRE, code)
        _cadres[village] = await accounts.issue_token(engine, f"photo-cadre-{code}")
    return _cadres[village]


async def stored(app, engine) -> tuple[int, int, int]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(func.count()).select_from(Photo.__table__))).scalar_one()
        reports = (await conn.execute(select(func.count()).select_from(FloodPointReport.__table__))).scalar_one()
    return rows, reports, app.state.photo_store.count()


async def upload(client, owner: str, owner_id: str, data: bytes, caption: str | None = None):
    params = {owner: owner_id} | ({"caption": caption} if caption else {})
    return await client.post("/photos", params=params, content=data, headers={"content-type": "image/jpeg"})


async def a_flood_point(client, town_code: str) -> dict:
    data = await graphql(client, "query($c: String) { floodPoints(regionCode: $c, first: 2) { nodes { id name condition version village { name code } } } }", {"c": town_code})
    return data["floodPoints"]["nodes"]


async def test_a_flood_point_report_with_photos_sets_the_point_and_shows_on_the_board(app, as_user, client, engine):
    event = await open_event(as_user, engine)
    point, _ = await a_flood_point(client, await code_of(engine, "西天尾镇"))
    condition = "FLOODED" if point["condition"] != "FLOODED" else "PONDING"  # a change, whatever earlier reports said
    async with client_as(app, await cadre_of(engine, point["village"]["name"])) as cadre:
        reported = (await graphql(cadre, REPORT_FLOOD_POINT, {"e": event["id"], "p": point["id"], "input": {
            "condition": condition, "waterDepthCm": 45, "text": "涵洞积水 45 厘米，已设警示，车辆绕行"}}))["reportFloodPoint"]
        assert reported["errors"] == []
        report = reported["floodPointReport"]
        assert report["floodPoint"] == {"condition": condition}
        # Turned on its side by the camera, with a GPS position: stored upright, without EXIF.
        response = await upload(cadre, "floodPointReport", report["id"], jpeg(400, 300, orientation=6, gps=True), "涵洞口")
        assert response.status_code == 201, response.json()
        assert response.json()["photo"] | {"id": None} == {"id": None, "width": 300, "height": 400, "takenAt": "2024-07-25T11:40:00+00:00"}
    history = await graphql(client, "query($id: ID!) { floodPoint(id: $id) { version history { nodes { field oldValue newValue } } } }", {"id": point["id"]})
    assert {"field": "condition", "oldValue": point["condition"], "newValue": condition} in history["floodPoint"]["history"]["nodes"]

    async with as_user("xitianwei") as town_centre:
        board = (await graphql(town_centre, BOARD, {"id": event["id"]}))["event"]["floodPointBoard"]
        (row,) = [r for r in board if r["floodPoint"]["name"] == point["name"]]
        (photo,) = row["photos"]
        assert (photo["width"], photo["height"]) == (300, 400)
        served = await town_centre.get(photo["displayUrl"].split("?")[0].replace("display.jpg", "thumbnail.jpg"))
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    thumbnail = Image.open(io.BytesIO(served.content))
    assert thumbnail.size == (240, 320)
    assert thumbnail.getexif() == {}
    # The blue band was on the left; after rotating 90° clockwise it is at the top.
    assert thumbnail.getpixel((120, 10))[2] > 150 and thumbnail.getpixel((120, 310))[0] > 150

    # An <img> tag follows the signed link with no token; another town, or a view without photos, finds nothing.
    async with client_as(app, None) as browser:
        assert (await browser.get(photo["displayUrl"])).status_code == 200
        tampered = photo["displayUrl"].replace("display.jpg", "thumbnail.jpg")
        assert (await browser.get(tampered)).status_code == 403
    path = photo["displayUrl"].split("?")[0]
    async with client_as(app, await other_town_coordinator(engine)) as stranger:
        assert (await stranger.get(path)).status_code == 404
    async with as_user("minzheng") as civil_affairs:
        assert (await civil_affairs.get(path)).status_code == 404


async def test_bad_photos_are_refused_and_nothing_is_stored(app, as_user, engine):
    event = await open_event(as_user, engine)
    dongxing = await code_of(engine, "东星社区")
    async with as_user("dongxing") as cadre:
        report = (await submit(cadre, event["id"], dongxing, figures()))["damageReport"]
    before = await stored(app, engine)
    whole = jpeg()
    cases = [
        (b"%PDF-1.7 not a photo at all", 415, "UNSUPPORTED_MEDIA_TYPE", "只收 JPEG 或 PNG 照片：这个文件不是（按文件内容判断，与文件名无关）"),
        (whole[: len(whole) // 2], 422, "CORRUPT_IMAGE", "照片不完整或已损坏，请重新拍摄或上传"),
        (b"\xff\xd8\xff" + bytes(50 * 1024 * 1024), 413, "FILE_TOO_LARGE", "照片超过 15 MB"),
        (png(10_000, 10_000, "1"), 422, "IMAGE_TOO_LARGE", "照片有 10000×10000 像素，超过上限 4000 万像素"),
    ]
    async with as_user("dongxing") as cadre:
        for data, status, code, message in cases:
            response = await upload(cadre, "damageReport", report["id"], data)
            assert (response.status_code, response.json()) == (status, {"errors": [{"message": message, "code": code}]}), message
    assert len(cases[3][0]) < 20_000  # the bomb is small on the wire
    # A photo for a record one cannot write: another village's report, or by a department that writes no photos.
    async with client_as(app, await cadre_of(engine, "溪白村")) as other_cadre:
        response = await upload(other_cadre, "damageReport", report["id"], whole)
        assert (response.status_code, response.json()["errors"][0]["message"]) == (404, f"damageReport：找不到 id 为 {report['id']} 的报告")
    async with as_user("minzheng") as civil_affairs:
        response = await upload(civil_affairs, "damageReport", report["id"], whole)
        assert (response.status_code, response.json()["errors"][0]["code"]) == (403, "FORBIDDEN")
    assert await stored(app, engine) == before
    async with as_user("dongxing") as cadre:
        assert (await upload(cadre, "damageReport", report["id"], png(800, 600, "RGBA"))).status_code == 201
    after = await stored(app, engine)
    assert (after[0], after[2]) == (before[0] + 1, before[2] + 2)  # one row, a display size and a thumbnail


async def test_a_flood_point_of_another_village_or_a_closed_event(app, as_user, client, engine):
    event = await open_event(as_user, engine)
    first, second = await a_flood_point(client, await code_of(engine, "西天尾镇"))
    before = await stored(app, engine)
    async with as_user("dongxing") as cadre:
        others = [p for p in (first, second) if p["village"]["name"] != "东星社区"][0]
        refused = (await graphql(cadre, REPORT_FLOOD_POINT, {"e": event["id"], "p": others["id"], "input": {"condition": "PONDING", "waterDepthCm": -5}}))["reportFloodPoint"]
        assert refused["errors"] == [{"field": "waterDepthCm", "code": "INVALID", "message": "waterDepthCm（积水深度（厘米））：不能为负数，填写的是 -5"}]
        missing = (await graphql(cadre, REPORT_FLOOD_POINT, {"e": event["id"], "p": others["id"], "input": {"condition": "PONDING"}}))["reportFloodPoint"]
    assert missing["errors"] == [{"field": "floodPointId", "code": "NOT_FOUND", "message": f"floodPointId：事件“{event['name']}”涉及的易涝点中找不到 id 为 {others['id']} 的"}]
    async with as_user("xitianwei") as town_centre:
        await graphql(town_centre, "mutation($id: ID!, $v: Int!) { closeEvent(id: $id, version: $v) { errors { message } } }", {"id": event["id"], "v": event["version"]})
    async with client_as(app, await cadre_of(engine, others["village"]["name"])) as owner:
        late = (await graphql(owner, REPORT_FLOOD_POINT, {"e": event["id"], "p": others["id"], "input": {"condition": "PONDING"}}))["reportFloodPoint"]
    assert late["errors"][0]["message"] == f"eventId：事件“{event['name']}”已结束，报告已冻结，不能再报或审核"
    assert await stored(app, engine) == before


def test_exif_is_stripped_unless_the_policy_keeps_it():
    from hub.domain.photos import process

    upload = jpeg(400, 300, orientation=6, gps=True)
    stripped, kept = process(upload), process(upload, keep_exif=True)
    assert Image.open(io.BytesIO(stripped.display)).getexif() == {}
    exif = Image.open(io.BytesIO(kept.display)).getexif()
    assert exif[0x0112] == 1  # upright already: no viewer may turn it again
    assert exif.get_ifd(0x8825)[1] == "N"  # the GPS position, kept
    assert Image.open(io.BytesIO(kept.thumbnail)).getexif() == {}
    assert (kept.width, kept.height) == (stripped.width, stripped.height) == (300, 400)


def test_keeping_exif_needs_a_purpose(tmp_path, schemas):
    from hub.access.policy import load_policy, policy_path
    from hub.yamlfile import DataFileError

    shipped = policy_path().read_text(encoding="utf-8")
    path = tmp_path / "policy.yaml"
    path.write_text(shipped.replace("photos:\n  keep_exif: false\n", "photos:\n  keep_exif: true\n"), encoding="utf-8")
    try:
        load_policy(schemas.full._schema, path)
    except DataFileError as error:
        line = shipped.splitlines().index("  keep_exif: false") + 1  # the photos mapping starts there
        assert str(error) == f"{path}:{line}: photos: keeping EXIF (GPS) needs its purpose or legal basis: missing `purpose`"
    else:
        raise AssertionError("a policy keeping EXIF without a purpose was accepted")
    path.write_text(shipped.replace("photos:\n  keep_exif: false\n", "photos:\n  keep_exif: true\n  purpose: 灾情核查需照片拍摄位置\n"), encoding="utf-8")
    assert load_policy(schemas.full._schema, path).keep_photo_exif is True
    assert load_policy(schemas.full._schema).keep_photo_exif is False
