"""Deterministic, Putian-shaped demo rows for every table of the one schema.

Geography (codes, names, coordinates, areas) comes from putian.yaml plus a
random stream per town that does not depend on the seed, so village names stay
the same whatever seed is used. Everything else is drawn from one
`random.Random(seed)` in a fixed order, relative to a fixed reference date.

Small tables are built in memory; households and persons are streamed village
by village so that a million-person data set never sits in memory at once.

Each domain's draws live in its own module (regions, households, enterprises, flood
points); this class runs them in the one fixed order."""

from __future__ import annotations

import random
from typing import Any

from hub.demo.drawing import REFERENCE_DATE, Row
from hub.demo.enterprises import Enterprises
from hub.demo.flood_points import FloodPoints
from hub.demo.households import Households
from hub.demo.regions import Place, Regions, load_geography

__all__ = ["REFERENCE_DATE", "DemoGenerator", "load_geography"]


class DemoGenerator(Regions, Households, Enterprises, FloodPoints):
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

