"""Flood points (易涝点) and their photos' metadata, near the villages' enterprises."""

from __future__ import annotations

import datetime as dt
import hashlib

from hub.data.models import FloodPointStatus, RegionLevel, RiskLevel
from hub.demo.drawing import CHINA_TZ, REFERENCE_TIME, Drawing, Row, Weighted
from hub.demo.regions import Place

FLOOD_RISK = Weighted(zip((RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.LOW), (25, 45, 30)))


FLOOD_STATUS = Weighted(zip((FloodPointStatus.ACTIVE, FloodPointStatus.FIXING, FloodPointStatus.FIXED), (60, 25, 15)))


FLOOD_DESCRIPTIONS = (
    "强降雨时积水深约{depth}厘米，影响约{homes}户居民出行。",
    "地势低洼，排水管径偏小，台风期间曾积水{depth}厘米。",
    "紧邻溪流，涨潮叠加暴雨时易倒灌，积水约{depth}厘米。",
    "积水最深{depth}厘米，汛期需设置警示并安排专人值守。",
)


class FloodPoints(Drawing):
    """Flood points per town; the featured town has its real count."""

    flood_point_rows: list[Row]
    photo_rows: list[Row]

    def _build_flood_points(self) -> None:
        rng = self.rng
        featured_town = self.featured["town"]
        enterprises_by_village: dict[int, list[Row]] = {}
        featured_enterprise = next(r for r in self.enterprise_rows if r["name"] == self.featured["enterprise"]["name"])
        # The featured enterprise is next to exactly one point, so it is left out of the random picks.
        for row in self.enterprise_rows:
            if row is not featured_enterprise:
                enterprises_by_village.setdefault(row["village_id"], []).append(row)
        featured_pending = True
        for town in (p for p in self.regions if p.level is RegionLevel.TOWN):
            if town.name == featured_town:
                # The enterprise's village gets the first point, which is the one next to it.
                home = next(v for v in town.children if v.id == featured_enterprise["village_id"])
                picks = [home] + [rng.choice(town.children) for _ in range(self.featured["flood_points"] - 1)]
            else:
                picks = [rng.choice(town.children) for _ in range(rng.randint(0, 4))]
            for village in sorted(picks, key=lambda v: v.id):
                nearby: int | None
                if featured_pending and village.id == featured_enterprise["village_id"]:
                    nearby, featured_pending = featured_enterprise["id"], False
                else:
                    candidates = enterprises_by_village.get(village.id, [])
                    nearby = rng.choice(candidates)["id"] if candidates and rng.random() < 0.4 else None
                self._add_flood_point(village, nearby, many_photos=town.name == featured_town)


    def _add_flood_point(self, village: Place, nearby_enterprise_id: int | None, many_photos: bool) -> None:
        rng = self.rng
        taken = {r["name"] for r in self.flood_point_rows if r["village_id"] == village.id}
        name = self._flood_point_name(village)
        while name in taken:
            name = self._flood_point_name(village)
        point_id = len(self.flood_point_rows) + 1
        self.flood_point_rows.append(
            {
                "id": point_id,
                "name": name,
                "village_id": village.id,
                "longitude": round(village.longitude + rng.uniform(-0.004, 0.004), 6),
                "latitude": round(village.latitude + rng.uniform(-0.004, 0.004), 6),
                "description": rng.choice(FLOOD_DESCRIPTIONS).format(
                    depth=rng.randrange(20, 90, 5), homes=rng.randint(5, 80)
                ),
                "risk_level": FLOOD_RISK.pick(rng),
                "status": FLOOD_STATUS.pick(rng),
                "responsible_person": self.person_name(),
                "responsible_phone": self.mobile(),
                "nearby_enterprise_id": nearby_enterprise_id,
                "version": 1,
                "updated_at": REFERENCE_TIME,
            }
        )
        for _ in range(rng.randint(1, 3) if many_photos else rng.randint(0, 2)):
            photo_id = len(self.photo_rows) + 1
            taken_at = dt.datetime(2026, rng.randint(6, 10), rng.randint(1, 28), rng.randint(7, 18),
                                   rng.randrange(60), rng.randrange(60), tzinfo=CHINA_TZ)
            key = f"demo/flood-points/{point_id}/{photo_id}.jpg"
            self.photo_rows.append(
                {
                    "id": photo_id,
                    "flood_point_id": point_id,
                    "file_name": f"IMG_{taken_at:%Y%m%d_%H%M%S}.jpg",
                    "content_type": "image/jpeg",
                    "size_bytes": rng.randint(300_000, 4_500_000),
                    # No bytes exist for demo photos; a stable digest of the key stands in.
                    "sha256": hashlib.sha256(f"hub-demo:{key}".encode()).hexdigest(),
                    "storage_key": key,
                    "caption": rng.choice((f"{name}积水情况", f"{name}整治前", f"{name}排水沟清淤后")),
                    "taken_at": taken_at.astimezone(dt.UTC),
                }
            )


    def _flood_point_name(self, village: Place) -> str:
        rng = self.rng
        road = rng.choice(village.roads)
        return rng.choice(
            (
                f"{village.name}{road}下穿通道",
                f"{village.name}{road}低洼地段",
                f"{village.name}{road}排洪渠沿线",
                f"{village.name}{road}桥头",
                f"{village.name}农贸市场周边",
            )
        )
