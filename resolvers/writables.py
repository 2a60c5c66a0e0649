"""Every type the write path can change, by GraphQL type name (fill sheets, imports)."""

from __future__ import annotations

from resolvers.enterprises import ENTERPRISE
from resolvers.flood_points import FLOOD_POINT
from resolvers.households import HOUSEHOLD
from resolvers.persons import PERSON
from resolvers.writes import Writable

WRITABLES: dict[str, Writable] = {w.type_name: w for w in (PERSON, HOUSEHOLD, ENTERPRISE, FLOOD_POINT)}
