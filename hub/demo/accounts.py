"""Demo org units and users: a city department for each policy key, plus 西天尾镇 and 东星社区.

No tokens are seeded: `hub token issue USERNAME` gives one. Every demo user has the first password
FIRST_PASSWORD (README), which the pages make them change at their first sign-in.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.access.accounts import add_org_unit, add_user
from hub.access.passwords import set_password
from hub.data.models import OrgUnitKind, Region, Role

CITY = "莆田市"
DISTRICT = "荔城区"
TOWN = "西天尾镇"
VILLAGE = "东星社区"
FIRST_PASSWORD = "Putian-2026"

# (name, kind, department key, region name)
ORG_UNITS: tuple[tuple[str, OrgUnitKind, str | None, str], ...] = (
    ("数字办", OrgUnitKind.DEPARTMENT, "shuziban", CITY),
    ("民政局", OrgUnitKind.DEPARTMENT, "minzheng", CITY),
    ("卫健委", OrgUnitKind.DEPARTMENT, "weijian", CITY),
    ("人社局", OrgUnitKind.DEPARTMENT, "renshe", CITY),
    ("应急管理局", OrgUnitKind.DEPARTMENT, "yingji", CITY),
    ("住建局", OrgUnitKind.DEPARTMENT, "zhujian", CITY),
    ("残联", OrgUnitKind.DEPARTMENT, "canlian", CITY),
    ("市场监管局", OrgUnitKind.DEPARTMENT, "shichang", CITY),
    ("农业农村局", OrgUnitKind.DEPARTMENT, "nongye", CITY),
    ("荔城区民政局", OrgUnitKind.DEPARTMENT, "minzheng", DISTRICT),
    ("西天尾镇基层治理协同中心", OrgUnitKind.TOWN_CENTRE, None, TOWN),
    ("东星社区居委会", OrgUnitKind.VILLAGE_COMMITTEE, None, VILLAGE),
)

# (username, display name, org unit, role, jurisdiction's region name)
USERS: tuple[tuple[str, str, str, Role, str], ...] = (
    ("admin", "林志强", "数字办", Role.ADMIN, CITY),
    ("minzheng", "陈丽华", "民政局", Role.DEPARTMENT_ANALYST, CITY),
    ("weijian", "黄建明", "卫健委", Role.DEPARTMENT_ANALYST, CITY),
    ("renshe", "郑晓燕", "人社局", Role.DEPARTMENT_ANALYST, CITY),
    ("yingji", "吴国栋", "应急管理局", Role.DEPARTMENT_ANALYST, CITY),
    ("zhujian", "许文斌", "住建局", Role.DEPARTMENT_ANALYST, CITY),
    ("canlian", "蔡秀琴", "残联", Role.DEPARTMENT_ANALYST, CITY),
    ("shichang", "方志伟", "市场监管局", Role.DEPARTMENT_ANALYST, CITY),
    ("nongye", "朱海龙", "农业农村局", Role.DEPARTMENT_ANALYST, CITY),
    ("licheng-minzheng", "翁丽娟", "荔城区民政局", Role.DEPARTMENT_ANALYST, DISTRICT),
    ("xitianwei", "李文辉", "西天尾镇基层治理协同中心", Role.TOWN_COORDINATOR, TOWN),
    ("dongxing", "王秀英", "东星社区居委会", Role.VILLAGE_CADRE, VILLAGE),
    ("dongxing-wangge", "刘志明", "东星社区居委会", Role.GRID_WORKER, VILLAGE),
)


async def _region_codes(conn: AsyncConnection, names: set[str]) -> dict[str, str]:
    # Codes are looked up, not written here, so that they follow the geography file.
    rows = await conn.execute(
        select(Region.name, func.min(Region.code), func.count())
        .where(Region.name.in_(names))
        .group_by(Region.name)
    )
    codes: dict[str, str] = {}
    for name, code, count in rows:
        if count != 1:
            raise ValueError(f"demo accounts: region name {name!r} is ambiguous ({count} regions)")
        codes[name] = code
    if missing := names - codes.keys():
        raise ValueError(f"demo accounts: no region named {', '.join(sorted(missing))}")
    return codes


async def seed_accounts(conn: AsyncConnection) -> dict[str, int]:
    """Add the demo org units and users within the caller's transaction; return rows per table."""
    codes = await _region_codes(conn, {region for *_, region in ORG_UNITS} | {region for *_, region in USERS})
    for name, kind, department, region in ORG_UNITS:
        await add_org_unit(conn, name, kind, department, codes[region])
    for username, display_name, org_unit, role, region in USERS:
        await add_user(conn, username, display_name, org_unit, role, codes[region])
        await set_password(conn, username, FIRST_PASSWORD, must_change=True)
    return {"org_units": len(ORG_UNITS), "users": len(USERS)}
