"""Enterprise (一企一档)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from hub import models
from resolvers import regions
from schema.fields import column, gql_enum
from schema.history import history_field

if TYPE_CHECKING:
    from schema.regions import Region

c = models.Enterprise.__table__.c

RiskLevel = gql_enum(models.RiskLevel, "风险等级")


@strawberry.type(description="企业（一企一档）")
class Enterprise:
    id: strawberry.ID = column(c.id, "记录ID")
    credit_code: str = column(c.credit_code)
    name: str = column(c.name)
    legal_representative: str = column(c.legal_representative)
    phone: str | None = column(c.phone)
    address: str = column(c.address)
    industry: str = column(c.industry)
    employees: int = column(c.employees)
    safety_contact: str | None = column(c.safety_contact)
    safety_contact_phone: str | None = column(c.safety_contact_phone)
    flood_risk: RiskLevel | None = column(c.flood_risk)
    version: int = column(c.version)
    history = history_field("Enterprise")

    @strawberry.field(description="所在村（社区）")
    def village(self, info: Info) -> Annotated[Region, strawberry.lazy("schema.regions")]:
        return regions.region_by_id(info.context, self.village_id)
