"""Enterprises (一企一档): names after each district's real industries, GB 32100 credit codes."""

from __future__ import annotations

import math
from typing import Any

from hub.data.identifiers import (
    CREDIT_CODE_CHARS,
    credit_code_check_char,
    organization_code_check_char,
)
from hub.data.models import RiskLevel
from hub.demo.drawing import REFERENCE_TIME, Drawing, Row, Weighted
from hub.demo.regions import Place

ENTERPRISES_PER_VILLAGE = Weighted(zip(range(5), (25, 30, 22, 13, 10)))


ENTERPRISE_FLOOD_RISK = Weighted(zip((None, RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH), (20, 50, 20, 10)))


ENTERPRISE_NAME_FORM = Weighted(zip(
    ("莆田市{brand}{ending}", "福建{brand}{ending}", "{brand}（福建）{ending}", "莆田市{district}{brand}{ending}"),
    (60, 15, 15, 10),
))


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


class Enterprises(Drawing):
    """Enterprises per village; their names become persons' employers in the same town."""

    enterprise_rows: list[Row]
    used_credit_codes: set[str]

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
