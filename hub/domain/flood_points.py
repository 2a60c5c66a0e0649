"""Flood points (易涝点): which are within a caller's reach, and the rules of writing them."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from hub.access.jurisdiction import Subtree
from hub.data.models import FloodPoint
from hub.domain.write_path import Writable, mobile

flood_points = FloodPoint.__table__


def flood_point_in(subtree: Subtree) -> ColumnElement[bool]:
    return flood_points.c.village_id.in_(subtree.region_ids())


FLOOD_POINT = Writable("FloodPoint", flood_points, flood_point_in, {"responsible_phone": mobile})
