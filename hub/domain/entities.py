"""Every type the write path can change, by GraphQL type name (fill sheets, imports). A new writable type adds one entry."""

from __future__ import annotations

from hub.domain.enterprises import ENTERPRISE
from hub.domain.flood_points import FLOOD_POINT
from hub.domain.households import HOUSEHOLD
from hub.domain.persons import PERSON
from hub.domain.write_path import Writable

WRITABLES: dict[str, Writable] = {w.type_name: w for w in (PERSON, HOUSEHOLD, ENTERPRISE, FLOOD_POINT)}
