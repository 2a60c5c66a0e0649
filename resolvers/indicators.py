"""Indicator values on their records: grants checked once per field, values batched per request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hub.access.policy import Mode
from hub.data.models import IndicatorEntity
from hub.domain import indicators as domain
from hub.domain.context import Context
from resolvers.errors import UserInputError


@dataclass(frozen=True)
class ValueOf:
    """(indicator id, record id, period) -> the value row or None: one statement per batch."""

    def __hash__(self) -> int:
        return hash(ValueOf)

    async def batch(self, ctx: Context, keys: Sequence[tuple[int, int, str]]) -> list[Any]:
        rows = await domain.values_for(ctx, {k[0] for k in keys}, {k[1] for k in keys}, {k[2] for k in keys})
        found = {(r.indicator_id, r.entity_id, r.period): r for r in rows}
        return [found.get(key) for key in keys]


VALUE_OF = ValueOf()


@dataclass
class Shown:
    """An indicator value as the caller reads it (masked where granted so)."""

    indicator: Any
    entity_id: int
    period: str
    value: str | None
    version: int


async def readable(ctx: Context, entity: IndicatorEntity, key: str, field: str = "key") -> tuple[Any, Mode]:
    """The indicator and how the caller reads it; unknown and not granted are refused alike, naming the key."""
    found = (await domain.library(ctx)).readable(ctx, key)
    if found is None:
        raise UserInputError(domain.not_readable(field, key), field=field)
    indicator, mode = found
    if indicator.entity is not entity:
        raise UserInputError(f"{field}：指标“{key}”描述的是{indicator.entity.label}，不是{entity.label}", field=field)
    return found


def kept_period(indicator: Any, period: str | None) -> str:
    try:
        return domain.check_period(indicator, period)
    except ValueError as error:
        raise UserInputError(str(error), field="period") from None


async def values_of(ctx: Context, entity: IndicatorEntity, record_id: int, keys: list[str], period: str | None, field: str = "keys") -> list[Shown]:
    shown = []
    for key in keys:
        indicator, mode = await readable(ctx, entity, key, field)
        at = kept_period(indicator, period)
        row = await ctx.load(VALUE_OF, (indicator.id, record_id, at))
        domain.note_read(ctx, indicator, mode)
        shown.append(Shown(indicator, record_id, at, domain.shown(row.value if row else None, mode), row.version if row else 0))
    return shown


async def value_of(ctx: Context, entity: IndicatorEntity, record_id: int, key: str, period: str | None) -> str | None:
    (value,) = await values_of(ctx, entity, record_id, [key], period, "key")
    return value.value
