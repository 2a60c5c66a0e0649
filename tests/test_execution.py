"""The short path for plain leaves answers exactly what graphql-core's full path answers."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from hub.domain.context import Context
from schema.build import guards
from schema.domains import Mutation, Query

QUERY = """
query($town: String!) {
  region(code: $town) {
    code name level population areaKm2
    children(first: 5) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { code name } }
      nodes {
        name
        households(first: 20) {
          nodes {
            id address lowIncome housingSafetyGrade incomePerPersonMonthly lowIncomeSince memberCount
            head { name }
            members { id name idNumber gender birthDate age relationToHead healthStatus keyCareReason disabilityGrade recentStatusDate }
          }
        }
        floodPoints { nodes { name riskLevel status longitude photos { fileName takenAt sizeBytes } nearbyEnterprise { name floodRisk } } }
      }
    }
  }
}
"""


async def test_fast_and_full_paths_agree(engine, settings, schemas):
    plain = strawberry.Schema(
        query=Query, mutation=Mutation, config=StrawberryConfig(disable_field_suggestions=True), extensions=[guards(settings)]
    )

    async def run(schema) -> dict:
        context = Context(engine, settings, "test", policy=schemas.policy)
        result = await schema.execute(QUERY, variable_values={"town": "350304100000"}, context_value=context)
        assert result.errors is None, result.errors
        return result.data

    fast, full = await run(schemas.full), await run(plain)
    assert fast == full
    villages = fast["region"]["children"]["nodes"]
    assert sum(len(h["members"]) for v in villages for h in v["households"]["nodes"]) > 100
