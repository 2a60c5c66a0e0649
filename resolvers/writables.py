"""Every type the write path can change, by GraphQL type name (fill sheets, imports)."""

from __future__ import annotations

from hub.domain.write_path import Writable
from resolvers.enterprises import ENTERPRISE
from resolvers.flood_points import FLOOD_POINT
from resolvers.households import HOUSEHOLD
from resolvers.persons import PERSON

WRITABLES: dict[str, Writable] = {w.type_name: w for w in (PERSON, HOUSEHOLD, ENTERPRISE, FLOOD_POINT)}
