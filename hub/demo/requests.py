"""Demo requests: what 西天尾镇's coordination centre received since May 2024, and what its 17 villages did with them.

45 requests reached the town (42 approved, 3 rejected with reasons, one of them
荔城区界线界桩管理维护), some more were answered by the hub and never reached it;
the approved ones became tasks across the town's villages in every state. The
same rows on every run: dates and states follow from each request's number.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.data.models import (
    DataRequest,
    Indicator,
    IndicatorEntity,
    IndicatorType,
    IndicatorValue,
    Periodicity,
    Region,
    RegionLevel,
    RequestReview,
    RequestStatus,
    TaskStatus,
    Transition,
    VillageTask,
)

TOWN = "西天尾镇"
COORDINATOR = ("xitianwei", "西天尾镇基层治理协同中心")

# (key, label, unit, owner department, legal basis)
INDICATORS = (
    ("demo_sandbags", "沙袋（袋）", "袋", "yingji", "《防汛条例》第十五条：防汛物资储备"),
    ("demo_pumps", "抽水泵（台）", "台", "yingji", "《防汛条例》第十五条：防汛物资储备"),
    ("demo_volunteers", "志愿者（人）", "人", "minzheng", "《志愿服务条例》第十条：志愿服务组织与志愿者登记"),
    ("demo_visits", "入户走访（户次）", "户次", "weijian", "国家基本公共卫生服务规范（第三版）：随访服务"),
    ("demo_trainings", "技能培训（人次）", "人次", "renshe", "《就业促进法》第四十六条：职业技能培训"),
    ("demo_cropland", "撂荒耕地（亩）", "亩", "nongye", "《耕地保护法》：撂荒耕地整治"),
)

# (title, department, indicator keys); the list repeats, month after month.
APPROVED = (
    ("防汛物资储备情况", "yingji", ("demo_sandbags", "demo_pumps")),
    ("志愿服务队伍情况", "minzheng", ("demo_volunteers",)),
    ("重点人群入户随访情况", "weijian", ("demo_visits",)),
    ("农村劳动力技能培训情况", "renshe", ("demo_trainings",)),
    ("撂荒耕地整治进展", "nongye", ("demo_cropland",)),
    ("汛前隐患排查物资清点", "yingji", ("demo_sandbags",)),
)
REJECTED = (
    ("荔城区界线界桩管理维护", "nongye", ("demo_cropland",),
     "西天尾镇各村（社区）均不在区界沿线，辖区内没有界桩；请向沿界乡镇下发"),
    ("各村志愿者花名册（含身份证号）", "minzheng", ("demo_volunteers",),
     "要求村里重报全体志愿者身份信息，志愿者登记已在数据中心，请向数据中心申请授权"),
    ("农村劳动力就业情况重复调查", "renshe", ("demo_trainings",),
     "与第 12 号任务（农村劳动力技能培训情况）内容重复，请合并"),
)
REJECTED_AT = (7, 19, 33)  # which of the 45 were rejected
ANSWERED_FROM_HUB = (("低保户基本信息核对", "minzheng", 64), ("独居老人名单", "minzheng", 40),
                     ("易涝点清单", "yingji", 120), ("企业安全联系人", "yingji", 96))
RECEIVED = 45
FIRST_DAY = dt.date(2024, 5, 6)
TABLES = ("indicators", "data_requests", "request_reviews", "village_tasks", "indicator_values", "request_transitions")


def _filed_on(number: int) -> dt.date:
    """Spread from May 2024 to October 2026, about every 20 days."""
    return FIRST_DAY + dt.timedelta(days=number * 20)


def _task_status(number: int, village: int, today_like: bool) -> TaskStatus:
    """Old requests are all accepted; the latest have villages in every state."""
    if not today_like:
        return TaskStatus.ACCEPTED
    return (TaskStatus.ACCEPTED, TaskStatus.SUBMITTED, TaskStatus.IN_PROGRESS, TaskStatus.NOT_STARTED, TaskStatus.SENT_BACK)[(number + village) % 5]


async def seed_requests(conn: AsyncConnection) -> dict[str, int]:
    town = (await conn.execute(select(Region.id, Region.code).where(Region.name == TOWN, Region.level == RegionLevel.TOWN))).one()
    villages = [row.id for row in (await conn.execute(select(Region.id).where(Region.parent_id == town.id).order_by(Region.code))).all()]
    stamp = dt.datetime.combine(FIRST_DAY, dt.time(9), dt.UTC)
    indicator_ids = {}
    for key, label, unit, department, basis in INDICATORS:
        indicator_ids[key] = (await conn.execute(Indicator.__table__.insert().values(
            key=key, name=label, entity=IndicatorEntity.VILLAGE, value_type=IndicatorType.INTEGER, unit=unit, min_value=0,
            periodicity=Periodicity.MONTH, owner_department=department, sensitive=False, legal_basis=basis, version=1, updated_at=stamp,
        ).returning(Indicator.__table__.c.id))).scalar_one()
    counts = {"data_requests": 0, "request_reviews": 0, "village_tasks": 0, "indicator_values": 0, "request_transitions": 0}
    rejected = iter(REJECTED)
    given: set[tuple[str, int, str]] = set()
    approved = 0
    for number in range(1, RECEIVED + 1):
        filed = _filed_on(number)
        if number in REJECTED_AT:
            title, department, keys, reason = next(rejected)
            status = RequestStatus.REJECTED
        else:
            title, department, keys = APPROVED[approved % len(APPROVED)]
            approved += 1
            reason, status = None, RequestStatus.APPROVED
        period = f"{filed.year}-{filed.month:02d}"
        request_id = await _request(conn, title, department, town.id, keys, period, filed, status, 0)
        review_id = await _insert(conn, RequestReview, request_id=request_id, town_id=town.id, status=status, reason=reason, hub_cells=0,
                                  version=2, updated_at=_at(filed, 2))
        await _steps(conn, request_id, filed, [(None, "FILED", None), ("FILED", "IN_REVIEW", None)], department)
        await _steps(conn, request_id, filed + dt.timedelta(days=2), [("IN_REVIEW", status.value, reason)], None, review_id)
        counts["data_requests"] += 1
        counts["request_reviews"] += 1
        counts["request_transitions"] += 3  # filed, to review, the decision
        if status is RequestStatus.APPROVED:
            recent = number > RECEIVED - 3
            for index, village in enumerate(villages):
                task_status = _task_status(number, index, recent)
                handed_in = task_status in (TaskStatus.SUBMITTED, TaskStatus.ACCEPTED)
                # The deadline is 14 days on: two villages in 17 hand in a day or two late.
                submitted = filed + dt.timedelta(days=3 + (index % 14)) if handed_in or task_status is TaskStatus.SENT_BACK else None
                await _insert(conn, VillageTask, request_id=request_id, village_id=village, status=task_status,
                              round=1 if submitted else 0, submitted_at=submitted if handed_in else None,
                              sent_back_reason="沙袋数与上月相差过大，请核实后重报" if task_status is TaskStatus.SENT_BACK else None,
                              cells=len(keys), version=1, updated_at=_at(filed, 3))
                counts["village_tasks"] += 1
                if task_status is not TaskStatus.NOT_STARTED:
                    # Two requests of one month ask the same value: the village gives it once.
                    for key in [k for k in keys if (k, village, period) not in given]:
                        given.add((key, village, period))
                        await _insert(conn, IndicatorValue, indicator_id=indicator_ids[key], entity_id=village, village_id=village,
                                      period=period, value=str(10 + (number * 7 + index * 13) % 90), version=1, updated_at=_at(filed, 4))
                        counts["indicator_values"] += 1
    for number, (title, department, cells) in enumerate(ANSWERED_FROM_HUB, start=1):
        filed = _filed_on(number * 9) + dt.timedelta(days=5)
        request_id = await _request(conn, title, department, town.id, (), "", filed, RequestStatus.ANSWERED_FROM_HUB, cells)
        await _insert(conn, RequestReview, request_id=request_id, town_id=town.id, status=RequestStatus.ANSWERED_FROM_HUB,
                      hub_cells=cells, version=1, updated_at=_at(filed, 0))
        await _steps(conn, request_id, filed, [(None, "FILED", None), ("FILED", "ANSWERED_FROM_HUB", None)], department)
        counts["data_requests"] += 1
        counts["request_reviews"] += 1
        counts["request_transitions"] += 2
    return counts | {"indicators": len(INDICATORS)}


def _at(day: dt.date, days_later: int) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=days_later), dt.time(9), dt.UTC)


async def _insert(conn: AsyncConnection, model: type, **values: object) -> int:
    return (await conn.execute(model.__table__.insert().values(**values).returning(model.__table__.c.id))).scalar_one()


async def _request(
    conn: AsyncConnection, title: str, department: str, region_id: int, keys: tuple[str, ...], period: str, filed: dt.date,
    status: RequestStatus, hub_cells: int,
) -> int:
    columns = [{"header": "村（社区）", "status": "HELD_GRANTED", "reason": "数据中心已有，本部门已获授权", "path": "name", "indicator": None}]
    labels = {key: label for key, label, *_ in INDICATORS}
    columns += [{"header": labels[key], "status": "NOT_HELD", "reason": "指标尚未采集到本期，须由村（社区）填报", "path": None, "indicator": key} for key in keys]
    return await _insert(
        conn, DataRequest, title=title, purpose=f"{title}（演示数据）", legal_basis="见各指标的采集依据", department=department,
        filed_by=department, filed_at=_at(filed, 0), region_id=region_id, entity=IndicatorEntity.VILLAGE, filters="",
        columns=json.dumps(columns, ensure_ascii=False), period=period or f"{filed.year}-{filed.month:02d}",
        deadline=filed + dt.timedelta(days=14), recurrence=Periodicity.NONE, status=status, hub_cells=hub_cells,
        village_count=17, version=1, updated_at=_at(filed, 0),
    )


async def _steps(
    conn: AsyncConnection, request_id: int, day: dt.date, steps: list[tuple[str | None, str, str | None]], department: str | None,
    review_id: int | None = None,
) -> None:
    who = (department, department) if department else COORDINATOR
    for from_status, to_status, reason in steps:
        await _insert(conn, Transition, request_id=request_id, review_id=review_id, from_status=from_status, to_status=to_status,
                      username=who[0], org_unit=who[1], at=_at(day, 0), reason=reason)
