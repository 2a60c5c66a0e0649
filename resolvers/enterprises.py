"""Enterprises (一企一档): lookups, lists and a village's enterprises."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from strawberry.types import Info

from hub.access.jurisdiction import Subtree
from hub.data.identifiers import InvalidIdentifier, validate_credit_code
from hub.data.models import RiskLevel
from hub.domain.context import Context
from hub.domain.enterprises import enterprise_in, enterprises
from resolvers.dataloaders import ChildPages, RowByKey, equal_to
from resolvers.errors import UserInputError
from resolvers.filters import contains
from resolvers.pages import child_page, root_page
from resolvers.pagination import Page
from resolvers.prefetch import Relation, relations
from resolvers.regions import REGION_BY_ID, subtree

ENTERPRISE_BY_ID = RowByKey(enterprises.c.id, enterprise_in)
ENTERPRISE_BY_CREDIT_CODE = RowByKey(enterprises.c.credit_code, enterprise_in)
VILLAGE_ENTERPRISES = ChildPages(enterprises.c.village_id, enterprises.c.id)

relations("Enterprise", village=Relation(REGION_BY_ID, "village_id", "Region"))


@dataclass(frozen=True)
class EnterpriseFilter:
    subtree: Subtree | None = None
    industry: str | None = None
    flood_risk: RiskLevel | None = None
    name_contains: str | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        where = equal_to(enterprises, self, "industry", "flood_risk")
        if self.subtree is not None:
            where.append(enterprise_in(self.subtree))
        if self.name_contains:
            where.append(contains(enterprises.c.name, self.name_contains))
        return where


async def enterprise(ctx: Context, enterprise_id: int | None, credit_code: str | None) -> Any:
    if (enterprise_id is None) == (credit_code is None):
        raise UserInputError("enterprise：id 和 creditCode 须给出其中一个，且只给一个", field="id")
    if enterprise_id is not None:
        return await ctx.load(ENTERPRISE_BY_ID, enterprise_id)
    try:
        code = validate_credit_code(credit_code)
    except InvalidIdentifier as error:
        raise UserInputError(f"creditCode：{error}", field="creditCode") from None
    return await ctx.load(ENTERPRISE_BY_CREDIT_CODE, code)


def enterprise_by_id(ctx: Context, enterprise_id: int | None) -> Any:
    return None if enterprise_id is None else ctx.load_now(ENTERPRISE_BY_ID, enterprise_id)


async def list_enterprises(
    info: Info, *, region_code: str | None, first: int | None, after: str | None, **filters
) -> Page:
    filter_ = EnterpriseFilter(subtree=await subtree(info.context, region_code), **filters)
    return await root_page(info, "Enterprise", enterprises.c.id, filter_.clauses(), first, after, enterprise_in)


async def village_enterprises(info: Info, village: Any, first: int | None, after: str | None) -> Page:
    return await child_page(info, VILLAGE_ENTERPRISES, "Enterprise", village.id, first, after)
