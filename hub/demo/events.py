"""2024年第3号台风“格美” over 西天尾镇 (landfall in Putian, 25 July 2024): the demo's past event.

Every one of the town's 17 villages sent an 初报 and some a 续报, each passed by the town
(one 初报 sent back and corrected first); damaged houses are registered against the
villages' own households; 青春之家 is among the enterprises hit; each of the 24 flood points
has a report, with a generated photo when a blob store is given. The event is closed.
Deterministic: the same seed gives the same rows.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.data.blobs import BlobStore
from hub.data.identifiers import subtree_bounds
from hub.data.models import (
    AffectedEnterprise,
    DamagedHouse,
    DamageReport,
    Enterprise,
    Event,
    EventKind,
    EventStatus,
    FloodPoint,
    FloodPointReport,
    HouseDamage,
    Household,
    Photo,
    Region,
    RegionLevel,
    ReportKind,
    ReviewStatus,
    SiteCondition,
)
from hub.domain.photos import process

NAME = "2024年第3号台风“格美”"
CHINA = dt.timezone(dt.timedelta(hours=8))
LANDFALL = dt.datetime(2024, 7, 25, 19, 50, tzinfo=CHINA)
TOWN = "西天尾镇"
FEATURED_ENTERPRISE = "青春之家（福建）体育用品有限公司"
CONDITIONS = ((SiteCondition.FLOODED, 40, 90), (SiteCondition.PONDING, 10, 40), (SiteCondition.RECEDED, 0, 5))
SCENES = (
    "涵洞积水约{depth}厘米，已设警示牌，车辆绕行。",
    "路面积水约{depth}厘米，抽水泵两台正在排水，网格员现场值守。",
    "低洼处进水约{depth}厘米，已转移临街商户货物，暂无人员被困。",
)


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


def photo_bytes(rng: random.Random, title: str) -> bytes:
    """A plausible scene: sky, buildings, a band of brown water, and the point's name."""
    image = Image.new("RGB", (1200, 900), (150, 160, 170))
    draw = ImageDraw.Draw(image)
    for x in range(0, 1200, 150):
        height = rng.randint(250, 500)
        draw.rectangle((x + 10, 900 - height, x + 140, 900), fill=(rng.randint(150, 210),) * 3)
    water = rng.randint(560, 700)
    draw.rectangle((0, water, 1200, 900), fill=(120, 100, 70))
    draw.text((40, 40), title.encode("ascii", "replace").decode(), fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


async def seed_events(conn: AsyncConnection, seed: int, photos: BlobStore | None) -> dict[str, int]:
    rng = random.Random(seed * 31 + 13)
    # Core rows (the seed works on a connection, not a session).
    town = (await conn.execute(select(Region.__table__).where(Region.name == TOWN, Region.level == RegionLevel.TOWN))).one()
    low, high = subtree_bounds(town.code, town.level)
    villages = (await conn.execute(
        select(Region.__table__).where(Region.level == RegionLevel.VILLAGE, Region.code.between(low, high)).order_by(Region.code)
    )).all()
    event_id = (await conn.execute(Event.__table__.insert().values(
        kind=EventKind.TYPHOON, name=NAME, region_id=town.id, scope_low=low, scope_high=high, status=EventStatus.CLOSED,
        started_on=dt.date(2024, 7, 24), ended_on=dt.date(2024, 7, 28), opened_by="xitianwei",
        opened_unit="西天尾镇基层治理协同中心", version=2, updated_at=_utc(dt.datetime(2024, 7, 28, 18, 0, tzinfo=CHINA)),
    ).returning(Event.id))).scalar_one()
    counts = {"events": 1, "damage_reports": 0, "damaged_houses": 0, "affected_enterprises": 0, "flood_point_reports": 0, "photos": 0}
    for index, village in enumerate(villages):
        await _village_reports(conn, rng, event_id, village, index, counts)
    await _flood_point_reports(conn, rng, event_id, [v.id for v in villages], photos, counts)
    return counts


async def _village_reports(conn: AsyncConnection, rng: random.Random, event_id: int, village: Any, index: int, counts: dict[str, int]) -> None:
    households = (await conn.execute(select(Household.id).where(Household.village_id == village.id).order_by(Household.id))).scalars().all()
    enterprises = (await conn.execute(select(Enterprise.id, Enterprise.name).where(Enterprise.village_id == village.id).order_by(Enterprise.id))).all()
    population = village.population or 2000
    affected = rng.randint(population // 20, population // 6)
    area = round(rng.uniform(30, 260), 1)
    first = {
        "affected_population": affected, "relocated_population": affected // rng.randint(3, 6),
        "relief_needed_population": affected // rng.randint(8, 15), "deaths": 0, "missing": 0,
        "crop_affected_area": area, "crop_disaster_area": round(area * 0.5, 1), "crop_lost_area": round(area * 0.1, 1),
        "direct_loss": round(rng.uniform(20, 180), 2),
    }
    houses = [(h, HouseDamage.GENERAL, rng.randint(1, 2)) for h in rng.sample(households, min(len(households), rng.randint(1, 4)))]
    hit = [e for e in enterprises if e.name == FEATURED_ENTERPRISE] or enterprises[: rng.randint(0, 1)]
    reports = [(ReportKind.INITIAL, first, houses, "村（社区）两委干部逐户排查后初报。", None)]
    if index == 2:  # one 初报 the town sent back: 受灾人口 counted migrant workers who were away
        reports.insert(0, (ReportKind.INITIAL, first | {"affected_population": affected + 60}, houses, "初报。", "SENT_BACK"))
    if index % 3 == 0 or village.name == "东星社区":  # later rounds found more
        more = first | {
            "affected_population": int(affected * 1.3), "relocated_population": int(first["relocated_population"] * 1.2),
            "crop_affected_area": round(area * 1.2, 1), "direct_loss": round(first["direct_loss"] * 1.4, 2),
        }
        worse = [(h, HouseDamage.SEVERE if n == 0 else d, r) for n, (h, d, r) in enumerate(houses)]
        reports.append((ReportKind.FOLLOW_UP, more, worse, "续报：新增受灾户，1 户房屋复核为严重损坏。", "复核后 1 户房屋由一般损坏改为严重损坏"))
    for sequence, (kind, figures, register, notes, extra) in enumerate(reports, 1):
        sent_back = extra == "SENT_BACK"
        reported_at = LANDFALL + dt.timedelta(hours=3 + 20 * (sequence - 1), minutes=7 * index)
        rooms = {"collapsed_rooms": 0, "severely_damaged_rooms": 0, "generally_damaged_rooms": 0}
        for _, damage, count in register:
            rooms[{HouseDamage.COLLAPSED: "collapsed_rooms", HouseDamage.SEVERE: "severely_damaged_rooms", HouseDamage.GENERAL: "generally_damaged_rooms"}[damage]] += count
        report_id = (await conn.execute(DamageReport.__table__.insert().values(
            event_id=event_id, village_id=village.id, kind=kind, sequence=sequence, **figures, **rooms, notes=notes,
            explanation=None if sent_back else extra, reported_by=f"cadre-{village.code}", reported_at=_utc(reported_at),
            review_status=ReviewStatus.SENT_BACK if sent_back else ReviewStatus.PASSED,
            review_reason="受灾人口含外出务工人员，请核减后重报" if sent_back else None,
            reviewed_by="xitianwei", reviewed_at=_utc(reported_at + dt.timedelta(hours=2)),
        ).returning(DamageReport.id))).scalar_one()
        if register:
            await conn.execute(DamagedHouse.__table__.insert(), [
                {"report_id": report_id, "household_id": h, "damage": d, "rooms": r} for h, d, r in register
            ])
        if hit:
            await conn.execute(AffectedEnterprise.__table__.insert(), [
                {"report_id": report_id, "enterprise_id": e.id, "note": "厂区进水约 30 厘米，原料仓库受淹，停产 2 天" if e.name == FEATURED_ENTERPRISE else "厂房屋面局部受损"}
                for e in hit
            ])
        counts["damage_reports"] += 1
        counts["damaged_houses"] += len(register)
        counts["affected_enterprises"] += len(hit)


async def _flood_point_reports(
    conn: AsyncConnection, rng: random.Random, event_id: int, village_ids: list[int], photos: BlobStore | None, counts: dict[str, int]
) -> None:
    points = (await conn.execute(select(FloodPoint.__table__).where(FloodPoint.village_id.in_(village_ids)).order_by(FloodPoint.id))).all()
    for index, point in enumerate(points):
        condition, shallow, deep = CONDITIONS[index % len(CONDITIONS)]
        depth = rng.randint(shallow, deep)
        reported_at = LANDFALL + dt.timedelta(hours=1, minutes=11 * index)
        report_id = (await conn.execute(FloodPointReport.__table__.insert().values(
            event_id=event_id, flood_point_id=point.id, village_id=point.village_id, condition=condition, water_depth_cm=depth,
            text=SCENES[index % len(SCENES)].format(depth=depth), reported_by="网格员", reported_at=_utc(reported_at),
        ).returning(FloodPointReport.id))).scalar_one()
        await conn.execute(FloodPoint.__table__.update().where(FloodPoint.id == point.id).values(condition=condition))
        counts["flood_point_reports"] += 1
        if photos is None:
            continue
        processed = process(photo_bytes(rng, f"{point.id} {reported_at:%Y-%m-%d %H:%M}"))
        display, _ = await photos.put(processed.display)
        thumbnail, _ = await photos.put(processed.thumbnail)
        await conn.execute(Photo.__table__.insert().values(
            flood_point_report_id=report_id, village_id=point.village_id, content_type="image/jpeg", width=processed.width,
            height=processed.height, size_bytes=len(processed.display), display_key=display, thumbnail_key=thumbnail,
            caption=f"{point.name}现场", taken_at=_utc(reported_at - dt.timedelta(minutes=5)), uploaded_by="网格员",
            uploaded_at=_utc(reported_at),
        ))
        counts["photos"] += 1
