"""Deterministic, Putian-shaped demo rows for every table of the one schema.

Geography (codes, names, coordinates, areas) comes from putian.yaml plus a
random stream per town that does not depend on the seed, so village names stay
the same whatever seed is used. Everything else is drawn from one
`random.Random(seed)` in a fixed order, relative to a fixed reference date.

Small tables are built in memory; households and persons are streamed village
by village so that a million-person data set never sits in memory at once.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import itertools
import math
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from hub.data.identifiers import (
    CREDIT_CODE_CHARS,
    credit_code_check_char,
    id_number_check_char,
    organization_code_check_char,
    validate_region_code,
)
from hub.data.models import (
    EmploymentStatus,
    FloodPointStatus,
    Gender,
    HealthStatus,
    HousingSafetyGrade,
    KeyCareReason,
    RegionLevel,
    ResidenceStatus,
    RiskLevel,
)

# Ages, dates and "recent" statuses are relative to this day, never the clock.
REFERENCE_DATE = dt.date(2026, 11, 1)
CHINA_TZ = dt.timezone(dt.timedelta(hours=8))
# Timestamps are written in UTC: SQLite drops the offset, and its CURRENT_TIMESTAMP is UTC too.
REFERENCE_TIME = dt.datetime(2026, 11, 1, 9, 0, tzinfo=CHINA_TZ).astimezone(dt.UTC)

# Demo figures (yuan per person per month), close to Putian's published standards.
LOW_INCOME_STANDARD = 850
EXTREME_POVERTY_STANDARD = 1110

Row = dict[str, Any]


class Weighted:
    """A fixed weighted choice; `rng.choices` would rebuild the cumulative weights on every call."""

    __slots__ = ("items", "cumulative", "total")

    def __init__(self, weights: Iterable[tuple[Any, float]]) -> None:
        pairs = list(weights)
        self.items = [item for item, _ in pairs]
        self.cumulative = list(itertools.accumulate(w for _, w in pairs))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect(self.cumulative, rng.random() * self.total)]


SURNAME = Weighted(zip("林陈黄郑吴李王蔡许方张刘翁宋余朱杨徐卓关何周欧詹柯",
                       (14, 12, 8, 7, 5, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 1.5, 1, 1, 1, 0.5, 0.5, 0.5)))
MALE_NAME_CHARS = "伟强志明建国文华德荣金福清海斌杰俊峰涛鹏辉兴旺宏智勇家振东阳亮坤水木成添贵锦鸿"
FEMALE_NAME_CHARS = "秀丽芳英美玉珍桂淑惠燕娟红霞琴兰萍雪梅婷颖静琳雅丹慧倩妍莹月凤碧娇"

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

HOUSEHOLD_SIZE = Weighted(zip(range(1, 7), (11, 23, 26, 22, 11, 7)))  # mean ≈ 3.2
MINORITIES = ("畲族", "回族", "满族", "苗族", "壮族")
CHRONIC_DISEASES = ("高血压", "糖尿病", "冠心病", "慢性阻塞性肺疾病", "脑卒中后遗症", "慢性肾病", "类风湿关节炎")
SERIOUS_DISEASES = ("恶性肿瘤", "尿毒症", "重性精神障碍", "白血病", "严重心力衰竭")
DISABILITY_TYPE = Weighted(zip(("肢体", "视力", "听力", "言语", "智力", "精神", "多重"), (45, 12, 15, 3, 8, 10, 7)))
DISABILITY_GRADE = Weighted(zip((1, 2, 3, 4), (10, 20, 30, 40)))
HOUSING_GRADE = Weighted(zip(HousingSafetyGrade, (62, 33, 4, 1)))
HOUSING_GRADE_VULNERABLE = Weighted(zip(HousingSafetyGrade, (35, 45, 15, 5)))
WORKING_AGE_EMPLOYMENT = Weighted(zip(
    (EmploymentStatus.EMPLOYED, EmploymentStatus.FLEXIBLE, EmploymentStatus.FARMING, EmploymentStatus.UNEMPLOYED),
    (45, 22, 23, 10),
))
ENTERPRISES_PER_VILLAGE = Weighted(zip(range(5), (25, 30, 22, 13, 10)))
ENTERPRISE_FLOOD_RISK = Weighted(zip((None, RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH), (20, 50, 20, 10)))
ENTERPRISE_NAME_FORM = Weighted(zip(
    ("莆田市{brand}{ending}", "福建{brand}{ending}", "{brand}（福建）{ending}", "莆田市{district}{brand}{ending}"),
    (60, 15, 15, 10),
))
FLOOD_RISK = Weighted(zip((RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.LOW), (25, 45, 30)))
FLOOD_STATUS = Weighted(zip((FloodPointStatus.ACTIVE, FloodPointStatus.FIXING, FloodPointStatus.FIXED), (60, 25, 15)))
OUTSIDE_EMPLOYERS = (
    "莆田市第一医院", "莆田学院", "莆田市公共交通集团有限公司", "国网福建省电力有限公司莆田供电公司",
    "中国移动通信集团福建有限公司莆田分公司", "外出务工（福州）", "外出务工（厦门）", "外出务工（泉州）",
)
MOBILE_PREFIXES = ("133", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "177", "180",
                   "181", "183", "187", "188", "189", "191", "199")

# Industry -> name endings; a district's mix of industries follows its real specialities.
INDUSTRY_NAME_ENDINGS = {
    "制鞋业": ("鞋业有限公司", "鞋服有限公司"),
    "体育用品制造": ("体育用品有限公司",),
    "工艺美术品制造": ("工艺品有限公司", "木雕工艺有限公司"),
    "家具制造": ("古典家具有限公司", "红木家具有限公司"),
    "金银珠宝首饰制造": ("珠宝首饰有限公司", "金银饰品有限公司"),
    "食品制造": ("食品有限公司",),
    "电子信息": ("电子科技有限公司",),
    "水产养殖与加工": ("水产有限公司", "海洋食品有限公司"),
    "建筑材料": ("建材有限公司",),
    "批发和零售": ("商贸有限公司",),
    "交通运输和仓储": ("物流有限公司",),
    "农业": ("农业发展有限公司",),
    "旅游服务": ("旅游发展有限公司", "酒店管理有限公司"),
}
DISTRICT_INDUSTRIES = {
    "350302": ("制鞋业", "工艺美术品制造", "电子信息", "批发和零售", "建筑材料"),
    "350303": ("食品制造", "电子信息", "制鞋业", "交通运输和仓储", "农业"),
    "350304": ("制鞋业", "体育用品制造", "金银珠宝首饰制造", "工艺美术品制造", "批发和零售"),
    "350305": ("水产养殖与加工", "建筑材料", "交通运输和仓储", "制鞋业"),
    "350322": ("家具制造", "工艺美术品制造", "制鞋业", "农业", "食品制造"),
    "350391": ("旅游服务", "水产养殖与加工", "批发和零售"),
    "350392": ("交通运输和仓储", "建筑材料", "水产养殖与加工", "食品制造"),
}
BRAND_CHARS = "鸿兴华盛源泰恒隆鑫达荣丰顺宏嘉瑞祥利成新福安远通永金锦创亿佳凯"

ILLNESS_NOTES = (
    "病情稳定，按时服药，家属照料到位。",
    "近期住院治疗后出院，已协助办理医保报销，网格员每周电话回访。",
    "血压控制一般，已联系家庭医生上门随访。",
    "行动不便，已安排镇卫生院定期送药上门。",
)
DISABILITY_NOTES = (
    "已发放残疾人两项补贴，生活基本自理，家属照料。",
    "申请的辅助器具（轮椅）已到位，近期情况稳定。",
    "需专人照护，已落实重度残疾人护理补贴。",
)
LOW_INCOME_NOTES = (
    "家庭收入无明显变化，继续享受低保。",
    "子女务工收入增加，下季度复核家庭经济状况。",
    "户主住院，已申请临时救助。",
    "低保年审完成，保障金按月足额发放。",
)
FLOOD_DESCRIPTIONS = (
    "强降雨时积水深约{depth}厘米，影响约{homes}户居民出行。",
    "地势低洼，排水管径偏小，台风期间曾积水{depth}厘米。",
    "紧邻溪流，涨潮叠加暴雨时易倒灌，积水约{depth}厘米。",
    "积水最深{depth}厘米，汛期需设置警示并安排专人值守。",
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


@dataclass(slots=True)
class HouseholdPlan:
    """What is drawn up front for a household: it fixes the region totals."""

    size: int
    low_income: bool
    extreme_poverty: bool
    elderly_alone: bool
    poverty_monitored: bool


@dataclass(frozen=True, slots=True)
class Member:
    relation: str
    gender: Gender
    age: int
    surname: str


def load_geography() -> dict[str, Any]:
    text = resources.files("hub.demo").joinpath("putian.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


class DemoGenerator:
    def __init__(self, geography: dict[str, Any], scale: int, seed: int) -> None:
        if scale < 1:
            raise ValueError(f"scale must be at least 1 household per village, got {scale}")
        self.geo = geography
        self.featured = geography["featured"]
        self.scale = scale
        self.rng = random.Random(seed)
        self.used_ids: set[str] = set()
        self.used_credit_codes: set[str] = set()
        self.regions: list[Place] = []
        self.villages: list[Place] = []
        self.enterprise_rows: list[Row] = []
        self.flood_point_rows: list[Row] = []
        self.photo_rows: list[Row] = []
        # Enterprise names per town, for persons' employer.
        self.town_employers: dict[str, list[str]] = {}
        self._build_geography()
        self._plan_households()
        self._build_enterprises()
        self._build_flood_points()
        self.region_rows = self._region_rows()

    # --- geography --------------------------------------------------------------

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

    # --- household plans (fix every region's totals before anything is written) -

    def _plan_households(self) -> None:
        rng = self.rng
        featured_village = self._featured_village(self.featured["low_income_village"])
        for village in self.villages:
            count = max(1, round(self.scale * rng.uniform(0.7, 1.3)))
            featured = village is featured_village
            low_income_at: set[int] = set()
            if featured:
                count = max(count, self.featured["min_households"])
                low_income_at = set(rng.sample(range(count), self.featured["low_income_households"]))
            for i in range(count):
                r = rng.random()
                low_income = i in low_income_at if featured else r < 0.05
                extreme = 0.05 <= r < 0.06
                monitored = 0.06 <= r < 0.08
                elderly_alone = not monitored and rng.random() < 0.04
                if elderly_alone:
                    size = 1
                elif extreme:
                    size = 1 if rng.random() < 0.7 else 2
                else:
                    size = HOUSEHOLD_SIZE.pick(rng)
                village.households.append(HouseholdPlan(size, low_income, extreme, elderly_alone, monitored))
            village.household_count = count
            village.population = sum(h.size for h in village.households)
        for level in (RegionLevel.TOWN, RegionLevel.DISTRICT, RegionLevel.CITY):
            for place in self.regions:
                if place.level is level:
                    place.household_count = sum(c.household_count for c in place.children)
                    place.population = sum(c.population for c in place.children)

    def _featured_village(self, name: str) -> Place:
        town = next(p for p in self.regions if p.level is RegionLevel.TOWN and p.name == self.featured["town"])
        return next(v for v in town.children if v.name == name)

    # --- region rows ------------------------------------------------------------

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

    # --- enterprises --------------------------------------------------------------

    def _build_enterprises(self) -> None:
        rng = self.rng
        featured = self.featured["enterprise"]
        featured_village = self._featured_village(featured["village"])
        names: set[str] = set()
        for village in self.villages:
            count = ENTERPRISES_PER_VILLAGE.pick(rng)
            specs = [(None, None)] * count
            if village is featured_village:
                specs.insert(0, (featured["name"], featured["industry"]))
            for name, industry in specs:
                industry = industry or rng.choice(DISTRICT_INDUSTRIES[village.district_code])
                if name is None:
                    name = self._enterprise_name(village, industry)
                    while name in names:
                        name = self._enterprise_name(village, industry)
                names.add(name)
                self.enterprise_rows.append(self._enterprise_row(village, name, industry, featured))
                self.town_employers.setdefault(village.parent.code, []).append(name)

    def _enterprise_name(self, village: Place, industry: str) -> str:
        rng = self.rng
        brand = rng.choice(BRAND_CHARS) + rng.choice(BRAND_CHARS)
        ending = rng.choice(INDUSTRY_NAME_ENDINGS[industry])
        district = village.parent.parent.name
        return ENTERPRISE_NAME_FORM.pick(rng).format(brand=brand, ending=ending, district=district)

    def _enterprise_row(self, village: Place, name: str, industry: str, featured: dict[str, Any]) -> Row:
        rng = self.rng
        is_featured = name == featured["name"]
        if is_featured:
            employees = featured["employees"]
        else:
            employees = min(2000, max(3, round(rng.lognormvariate(math.log(25), 1.0))))
        return {
            "id": len(self.enterprise_rows) + 1,
            "credit_code": self.credit_code(village.district_code),
            "name": name,
            "legal_representative": self.person_name(),
            "phone": self.mobile(),
            "address": f"{village.full_name}{rng.choice(village.roads)}{rng.randint(1, 300)}号",
            "village_id": village.id,
            "industry": industry,
            "employees": employees,
            "safety_contact": self.person_name(),
            "safety_contact_phone": self.mobile(),
            "flood_risk": RiskLevel.HIGH if is_featured else ENTERPRISE_FLOOD_RISK.pick(rng),
            "version": 1,
            "updated_at": REFERENCE_TIME,
        }

    def credit_code(self, division: str) -> str:
        """A unique GB 32100 code: 91 (company), division, a new-style (MA…) organisation code."""
        while True:
            body = "MA" + "".join(self.rng.choices(CREDIT_CODE_CHARS, k=6))
            first17 = "91" + division + body + organization_code_check_char(body)
            code = first17 + credit_code_check_char(first17)
            if code not in self.used_credit_codes:
                self.used_credit_codes.add(code)
                return code

    # --- flood points -------------------------------------------------------------

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

    # --- households and persons (streamed) ----------------------------------------

    def household_total(self) -> int:
        return sum(v.household_count for v in self.villages)

    def person_total(self) -> int:
        return sum(v.population for v in self.villages)

    def households_and_persons(self) -> Iterator[tuple[Row, list[Row]]]:
        """One household row with its person rows at a time, village after village."""
        household_id = person_id = 0
        for village in self.villages:
            employers = self.town_employers.get(village.parent.code, [])
            for index, plan in enumerate(village.households):
                household_id += 1
                persons = self._persons(village, plan, household_id, person_id, employers)
                person_id += len(persons)
                yield self._household_row(village, plan, household_id, index, persons), persons

    def _household_row(self, village: Place, plan: HouseholdPlan, household_id: int, index: int,
                       persons: list[Row]) -> Row:
        rng = self.rng
        vulnerable = plan.low_income or plan.extreme_poverty or plan.poverty_monitored
        if plan.extreme_poverty:
            income = rng.randrange(0, 400, 10)
            subsidy = EXTREME_POVERTY_STANDARD * plan.size
        elif plan.low_income:
            income = rng.randrange(150, 750, 10)
            subsidy = max(100, round((LOW_INCOME_STANDARD - income) * plan.size, -1))
        elif plan.poverty_monitored:
            income, subsidy = rng.randrange(900, 1500, 10), None
        else:
            income, subsidy = max(900, round(rng.lognormvariate(math.log(2600), 0.45), -1)), None
        low_income_since = None
        if plan.low_income:
            low_income_since = dt.date(2014, 1, 1) + dt.timedelta(days=rng.randrange(4656))  # to 2026-09
        phone = next((p["phone"] for p in persons if p["phone"]), None)
        return {
            "id": household_id,
            "village_id": village.id,
            "address": f"{village.full_name}{rng.choice(village.roads)}{rng.randint(1, 200)}号",
            "grid_name": f"第{index // 30 + 1}网格",
            "phone": phone,
            "low_income": plan.low_income,
            "extreme_poverty": plan.extreme_poverty,
            "elderly_alone": plan.elderly_alone,
            "poverty_monitored": plan.poverty_monitored,
            "low_income_since": low_income_since,
            "income_per_person_monthly": float(income),
            "subsidy_monthly": None if subsidy is None else float(subsidy),
            "housing_safety_grade": (HOUSING_GRADE_VULNERABLE if vulnerable else HOUSING_GRADE).pick(rng),
            "version": 1,
            "updated_at": REFERENCE_TIME,
        }

    def _members(self, plan: HouseholdPlan) -> list[Member]:
        """Relations and ages of a household: children are 22+ years younger than both parents."""
        rng = self.rng
        size = plan.size
        head_gender = Gender.MALE if rng.random() < 0.78 else Gender.FEMALE
        head_surname = self.surname()
        other = Gender.FEMALE if head_gender is Gender.MALE else Gender.MALE
        if size == 1:
            age = rng.randint(66, 94) if plan.elderly_alone or plan.extreme_poverty else rng.randint(22, 88)
            return [Member("户主", head_gender, age, head_surname)]
        r = rng.random()
        if size >= 4 and r < 0.15:
            # Three generations: the head, a married son and grandchildren.
            head_age = rng.randint(56, 78)
            spouse_age = min(99, max(40, head_age + rng.randint(-5, 4)))
            son_age = min(head_age, spouse_age) - rng.randint(22, 32)
            members = [
                Member("户主", head_gender, head_age, head_surname),
                Member("配偶", other, spouse_age, self.surname()),
                Member("子", Gender.MALE, son_age, head_surname),
                Member("儿媳", Gender.FEMALE, max(20, son_age + rng.randint(-4, 3)), self.surname()),
            ]
            youngest_parent = min(son_age, members[3].age)
            for _ in range(size - 4):
                gender = rng.choice((Gender.MALE, Gender.FEMALE))
                members.append(Member("孙子" if gender is Gender.MALE else "孙女", gender,
                                      max(0, youngest_parent - rng.randint(22, 35)), head_surname))
            return members
        head_age = rng.randint(30, 50) if r < 0.30 else rng.randint(26, 75)
        members = [Member("户主", head_gender, head_age, head_surname)]
        parent_ages = [head_age]
        if size > 2 or rng.random() >= 0.25:  # otherwise a single parent with one child
            spouse_age = max(20, head_age + rng.randint(-5, 4))
            members.append(Member("配偶", other, spouse_age, self.surname()))
            parent_ages.append(spouse_age)
        # Children take the father's surname.
        child_surname = head_surname if head_gender is Gender.MALE or len(members) == 1 else members[1].surname
        if r < 0.30 and size >= 3:
            # Leave at least one place for a child.
            slots = min(2, size - len(members) - 1)
            for relation, gender in rng.sample((("父亲", Gender.MALE), ("母亲", Gender.FEMALE)), slots):
                age = head_age + rng.randint(22, 34)
                if age <= 99:
                    surname = head_surname if relation == "父亲" else self.surname()
                    members.append(Member(relation, gender, age, surname))
        while len(members) < size:
            gender = rng.choice((Gender.MALE, Gender.FEMALE))
            members.append(Member("子" if gender is Gender.MALE else "女", gender,
                                  max(0, min(parent_ages) - rng.randint(22, 38)), child_surname))
        return members

    def _persons(self, village: Place, plan: HouseholdPlan, household_id: int, last_person_id: int,
                 employers: list[str]) -> list[Row]:
        rng = self.rng
        vulnerable = plan.low_income or plan.extreme_poverty
        rows = []
        for offset, member in enumerate(self._members(plan), start=1):
            birth = REFERENCE_DATE - dt.timedelta(days=member.age * 365 + member.age // 4 + rng.randrange(365))
            age = _age(birth)
            head = member.relation == "户主"
            residence = ResidenceStatus.RESIDENT
            if not head and 18 <= age <= 45 and rng.random() < 0.06:
                residence = ResidenceStatus.MOVED_OUT
            elif not head and age >= 75 and rng.random() < 0.03:
                residence = ResidenceStatus.DECEASED
            health, chronic, disability_type, disability_grade = self._health(age, vulnerable and head)
            employment, employer, pension, medical = self._employment(age, health, disability_grade, employers)
            alive = residence is not ResidenceStatus.DECEASED
            key_care = self._key_care(health, age, disability_grade) if alive else None
            note_date = note = None
            if key_care or (head and plan.low_income):
                note_date = REFERENCE_DATE - dt.timedelta(days=rng.randint(1, 90))
                notes = (ILLNESS_NOTES if key_care is KeyCareReason.ILLNESS
                         else DISABILITY_NOTES if key_care is KeyCareReason.DISABILITY else LOW_INCOME_NOTES)
                note = f"{note_date.month}月{note_date.day}日入户走访：{rng.choice(notes)}"
            has_phone = age >= 18 and alive and (age < 80 or rng.random() < 0.5)
            rows.append(
                {
                    "id": last_person_id + offset,
                    "household_id": household_id,
                    "name": member.surname + self.given_name(member.gender),
                    "id_number": self.id_number(village.district_code, birth, member.gender),
                    "gender": member.gender,
                    "birth_date": birth,
                    "ethnicity": "汉族" if rng.random() < 0.995 else rng.choice(MINORITIES),
                    "relation_to_head": member.relation,
                    "phone": self.mobile() if has_phone else None,
                    "residence_status": residence,
                    "employment_status": employment,
                    "employer": employer,
                    "pension_insurance": pension,
                    "medical_insurance": medical,
                    "health_status": health,
                    "chronic_diseases": chronic,
                    "disability_type": disability_type,
                    "disability_grade": disability_grade,
                    "key_care_reason": key_care,
                    "recent_status": note,
                    "recent_status_date": note_date,
                    "version": 1,
                    "updated_at": REFERENCE_TIME,
                }
            )
        return rows

    def _health(self, age: int, vulnerable: bool) -> tuple[HealthStatus, str | None, str | None, int | None]:
        rng = self.rng
        r = rng.random()
        extra = 0.12 if vulnerable else 0.0
        p_disabled = 0.03 + extra + (0.03 if age >= 60 else 0.0)
        p_serious = p_disabled + 0.01 + extra / 2 + (0.01 if age >= 60 else 0.0)
        p_chronic = p_serious + (0.02 if age < 40 else 0.12 if age < 60 else 0.35) + extra
        if r < p_disabled:
            return HealthStatus.DISABLED, None, DISABILITY_TYPE.pick(rng), DISABILITY_GRADE.pick(rng)
        if r < p_serious:
            return HealthStatus.SERIOUS, rng.choice(SERIOUS_DISEASES), None, None
        if r < p_chronic and age >= 18:
            return HealthStatus.CHRONIC, "、".join(rng.sample(CHRONIC_DISEASES, rng.choice((1, 1, 2)))), None, None
        return HealthStatus.HEALTHY, None, None, None

    def _key_care(self, health: HealthStatus, age: int, disability_grade: int | None) -> KeyCareReason | None:
        r = self.rng.random()
        if health is HealthStatus.SERIOUS and r < 0.7:
            return KeyCareReason.ILLNESS
        if health is HealthStatus.CHRONIC and age >= 70 and r < 0.15:
            return KeyCareReason.ILLNESS
        if health is HealthStatus.DISABLED and r < (0.8 if disability_grade in (1, 2) else 0.2):
            return KeyCareReason.DISABILITY
        return None

    def _employment(self, age: int, health: HealthStatus, disability_grade: int | None,
                    employers: list[str]) -> tuple[EmploymentStatus | None, str | None, str | None, str | None]:
        rng = self.rng
        resident_medical = "城乡居民医保" if rng.random() < 0.97 else "未参保"
        if age < 6:
            return None, None, None, resident_medical
        if age < 16 or (age < 22 and rng.random() < 0.7):
            return EmploymentStatus.STUDENT, None, None, resident_medical
        resident_pension = "城乡居民养老保险" if rng.random() < 0.88 else "未参保"
        if health is HealthStatus.SERIOUS or (disability_grade is not None and disability_grade <= 2):
            return EmploymentStatus.UNABLE, None, resident_pension, resident_medical
        if age >= 60:
            r = rng.random()
            if r < 0.35:
                return EmploymentStatus.RETIRED, None, "城镇职工养老保险", "城镇职工医保"
            if r < 0.75 and age < 80:
                return EmploymentStatus.FARMING, None, resident_pension, resident_medical
            status = EmploymentStatus.UNABLE if age >= 80 else EmploymentStatus.RETIRED
            return status, None, resident_pension, resident_medical
        status = WORKING_AGE_EMPLOYMENT.pick(rng)
        if status is EmploymentStatus.EMPLOYED:
            employer = rng.choice(employers) if employers and rng.random() < 0.6 else rng.choice(OUTSIDE_EMPLOYERS)
            return status, employer, "城镇职工养老保险", "城镇职工医保"
        return status, None, resident_pension, resident_medical

    # --- small draws ----------------------------------------------------------------

    def surname(self) -> str:
        return SURNAME.pick(self.rng)

    def given_name(self, gender: Gender) -> str:
        chars = MALE_NAME_CHARS if gender is Gender.MALE else FEMALE_NAME_CHARS
        if self.rng.random() < 0.8:
            return self.rng.choice(chars) + self.rng.choice(chars)
        return self.rng.choice(chars)

    def person_name(self) -> str:
        return self.surname() + self.given_name(self.rng.choice((Gender.MALE, Gender.FEMALE)))

    def mobile(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def id_number(self, district_code: str, birth: dt.date, gender: Gender) -> str:
        """A unique GB 11643 number; the sequence code's parity carries the gender."""
        prefix = f"{district_code}{birth.year:04d}{birth.month:02d}{birth.day:02d}"
        sequence = self.rng.randrange(500) * 2 + (1 if gender is Gender.MALE else 0)
        for _ in range(500):
            first17 = f"{prefix}{sequence:03d}"
            if first17 not in self.used_ids:
                self.used_ids.add(first17)
                return first17 + id_number_check_char(first17)
            sequence = (sequence + 2) % 1000
        raise RuntimeError(f"no free ID sequence code left for {prefix}")


def _age(birth: dt.date) -> int:
    return REFERENCE_DATE.year - birth.year - ((REFERENCE_DATE.month, REFERENCE_DATE.day) < (birth.month, birth.day))
