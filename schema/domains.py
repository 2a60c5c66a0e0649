"""The domains that make up the one schema. Adding a domain adds its module here, one line.

Each module contributes a `Query` (lookups and lists) and, where it is written, a
`Mutation` (each mutation names the type it writes in its `writes` metadata, so a
department's view shows it only where that type may be written).
"""

from __future__ import annotations

import strawberry

from schema import (
    access_log,
    documents,
    enterprises,
    events,
    flood_points,
    households,
    indicators,
    persons,
    regions,
    requests,
    templates,
)

DOMAINS = (regions, households, persons, enterprises, flood_points, events, indicators, requests, templates, documents, access_log)


def _merged(name: str, description: str) -> type:
    parts = tuple(getattr(domain, name) for domain in DOMAINS if hasattr(domain, name))
    # Fields come in the order of DOMAINS, in the schema as in schema.graphql.
    return strawberry.type(type(name, parts, {}), description=description)


Query = _merged("Query", "查询入口")
Mutation = _merged("Mutation", "修改入口：只改传入的字段；每次修改须带上读取时的版本号")
Subscription = _merged("Subscription", "实时推送入口（WebSocket，graphql-transport-ws 协议）")
