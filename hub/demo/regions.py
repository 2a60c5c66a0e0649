"""Regions: Putian's districts and towns from putian.yaml, villages named and placed by a stream per town."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

from hub.data.identifiers import validate_region_code
from hub.data.models import RegionLevel
from hub.demo.drawing import REFERENCE_TIME, Drawing, Row

if TYPE_CHECKING:
    from hub.demo.households import HouseholdPlan

PLACE_FIRST = "东西南北前后上下新溪林洋坑湖塘埔田桥岭坂墩港浦屿沙石霞龙凤华荔兴安宁和庄柳梧桂梅竹古岱锦"


PLACE_SECOND = "山埔洋头尾坑厝林园里庄亭溪湖坂墩塘桥岭峰田沙港浦口阳岸兜店丰"


ROAD_WORDS = (
    "学园", "荔华", "文献", "梅园", "凤山", "胜利", "延寿", "兴安", "龙德", "拱辰", "镇海", "天妃", "东圳",
    "木兰", "壶山", "绶溪", "霞皋", "迎宾", "荔港", "建设", "新华", "长寿", "步云", "九华", "西洪", "沟边",
)


ROAD_SUFFIXES = ("路", "街", "巷")


NATURAL_VILLAGES = (
    "顶厝", "下厝", "后厝", "前厝", "东头", "西头", "溪边", "埔尾", "洋中", "坑口", "后埔", "林墩", "上林",
    "下林", "新厝", "宫口", "井头", "塘边", "山尾", "大路顶",
)


@dataclass(slots=True)
class Place:
    """A region being generated (one row of `regions`)."""

    id: int
    code: str
    name: str
    level: RegionLevel
    parent: Place | None
    full_name: str
    longitude: float
    latitude: float
    area_km2: float = 0.0
    is_community: bool = False
    roads: tuple[str, ...] = ()
    children: list[Place] = field(default_factory=list)
    households: list[HouseholdPlan] = field(default_factory=list)
    population: int = 0
    household_count: int = 0

    @property
    def district_code(self) -> str:
        return self.code[:6]


def load_geography() -> dict[str, Any]:
    text = resources.files("hub.demo").joinpath("putian.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


class Regions(Drawing):
    """The region tree and its rows (一村一档 profiles included)."""

    geo: dict[str, Any]
    featured: dict[str, Any]
    regions: list[Place]
    villages: list[Place]

    def _build_geography(self) -> None:
        city_info = self.geo["city"]
        districts = self.geo["districts"]
        center = districts[0]["center"]
        city = self._add_place(city_info["code"], city_info["name"], RegionLevel.CITY, None, center[0], center[1])
        featured_names = {self.featured["low_income_village"], self.featured["enterprise"]["village"]}
        for d in districts:
            district = self._add_place(
                d["code"] + "000000", d["name"], RegionLevel.DISTRICT, city, d["center"][0], d["center"][1]
            )
            district.area_km2 = float(d["area_km2"])
        for d, district in zip(districts, city.children):
            # Statistical code ranges: streets 001.., towns 100.., townships 200..
            next_number = {"街道": 1, "镇": 100, "乡": 200}
            for t in d["towns"]:
                kind = next(k for k in next_number if t["name"].endswith(k))
                code = f"{district.code[:6]}{next_number[kind]:03d}000"
                next_number[kind] += 1
                stable = random.Random(f"putian:{code}")
                lon, lat = t.get("center") or (
                    d["center"][0] + stable.uniform(-d["spread"], d["spread"]),
                    d["center"][1] + stable.uniform(-d["spread"], d["spread"]) * 0.8,
                )
                town = self._add_place(code, t["name"], RegionLevel.TOWN, district, lon, lat)
                community_names = t.get("community_names") or self._place_names(
                    stable, t["communities"], "社区", featured_names
                )
                village_names = t.get("village_names") or self._place_names(
                    stable, t["villages"], "村", featured_names | set(community_names)
                )
                for i, name in enumerate(community_names, start=1):
                    self._add_village(stable, town, f"{code[:9]}{i:03d}", name, True)
                for i, name in enumerate(village_names, start=200):
                    self._add_village(stable, town, f"{code[:9]}{i:03d}", name, False)
        for district in city.children:
            self._share_area(district)
            district.area_km2 = round(sum(t.area_km2 for t in district.children), 2)
        city.area_km2 = round(sum(d.area_km2 for d in city.children), 2)


    def _add_place(
        self, code: str, name: str, level: RegionLevel, parent: Place | None, lon: float, lat: float
    ) -> Place:
        validate_region_code(code, level.value, parent.code if parent else None)
        place = Place(
            id=len(self.regions) + 1,
            code=code,
            name=name,
            level=level,
            parent=parent,
            full_name=(parent.full_name if parent else "") + name,
            longitude=round(lon, 6),
            latitude=round(lat, 6),
        )
        self.regions.append(place)
        if parent:
            parent.children.append(place)
        return place


    def _add_village(self, stable: random.Random, town: Place, code: str, name: str, community: bool) -> None:
        village = self._add_place(
            code,
            name,
            RegionLevel.VILLAGE,
            town,
            town.longitude + stable.uniform(-0.02, 0.02),
            town.latitude + stable.uniform(-0.02, 0.02),
        )
        village.is_community = community
        # Communities have streets; villages have natural villages (自然村).
        if community:
            roads = stable.sample(ROAD_WORDS, 4)
            village.roads = tuple(r + stable.choice(ROAD_SUFFIXES) for r in roads)
        else:
            village.roads = tuple(stable.sample(NATURAL_VILLAGES, stable.randint(3, 6)))
        self.villages.append(village)


    @staticmethod
    def _place_names(stable: random.Random, count: int, suffix: str, taken: set[str]) -> list[str]:
        names: list[str] = []
        while len(names) < count:
            name = stable.choice(PLACE_FIRST) + stable.choice(PLACE_SECOND) + suffix
            if name not in taken and name not in names:
                names.append(name)
        return names


    @staticmethod
    def _share_area(district: Place) -> None:
        """Split the district's real area over its villages (communities are small) and sum up to towns."""
        stable = random.Random(f"putian-area:{district.code}")
        villages = [v for t in district.children for v in t.children]
        weights = [stable.uniform(0.2, 0.8) if v.is_community else stable.uniform(1.0, 3.0) for v in villages]
        total = sum(weights)
        for village, weight in zip(villages, weights):
            village.area_km2 = round(district.area_km2 * weight / total, 2)
        for town in district.children:
            town.area_km2 = round(sum(v.area_km2 for v in town.children), 2)


    def _featured_village(self, name: str) -> Place:
        town = next(p for p in self.regions if p.level is RegionLevel.TOWN and p.name == self.featured["town"])
        return next(v for v in town.children if v.name == name)


    def _region_rows(self) -> list[Row]:
        rows = []
        for place in self.regions:
            profiled = place.level in (RegionLevel.TOWN, RegionLevel.VILLAGE)
            secretary = director = phone = address = None
            if profiled:
                secretary = self.person_name()
                # Often one person holds both posts (一肩挑).
                director = secretary if self.rng.random() < 0.4 else self.person_name()
                phone = f"0594-{self.rng.choice('2356789')}{self.rng.randrange(10**6):06d}"
                road = self.rng.choice(place.roads or place.children[0].roads)
                address = f"{place.full_name}{road}{self.rng.randint(1, 120)}号"
            rows.append(
                {
                    "id": place.id,
                    "code": place.code,
                    "name": place.name,
                    "level": place.level,
                    "parent_id": place.parent.id if place.parent else None,
                    "population": place.population,
                    "household_count": place.household_count,
                    "area_km2": place.area_km2,
                    "party_secretary": secretary,
                    "director": director,
                    "phone": phone,
                    "address": address,
                    "version": 1,
                    "updated_at": REFERENCE_TIME,
                }
            )
        return rows
