"""Event (事件), its villages' damage reports (灾情报告) and the town's board."""

from __future__ import annotations

import datetime as dt
import enum
import time
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from hub.data import models
from hub.domain import events as domain
from hub.domain.flood_point_reports import submit_flood_point_report
from hub.domain.photos import photo_path
from resolvers import enterprises, events, flood_points, households, regions
from resolvers.errors import UserInputError, int_id
from schema.connections import Connection
from schema.errors import FieldError, field_errors
from schema.fields import (
    LOOKUP,
    After,
    First,
    RecordId,
    Version,
    changes_from,
    column,
    gql_enum,
    input_column,
    record_input,
)
from schema.flood_points import SiteCondition
from schema.history import history_field

if TYPE_CHECKING:
    from schema.enterprises import Enterprise
    from schema.flood_points import FloodPoint
    from schema.households import Household
    from schema.regions import Region

e = models.Event.__table__.c
r = models.DamageReport.__table__.c
h = models.DamagedHouse.__table__.c
a = models.AffectedEnterprise.__table__.c
f = models.FloodPointReport.__table__.c
p = models.Photo.__table__.c

EventKind = gql_enum(models.EventKind, "事件类型")
EventStatus = gql_enum(models.EventStatus, "事件状态")
ReportKind = gql_enum(models.ReportKind, "报告类型（初报、续报、核报）")
ReviewStatus = gql_enum(models.ReviewStatus, "审核状态")
HouseDamage = gql_enum(models.HouseDamage, "房屋损坏程度")


@strawberry.enum(description="乡镇对灾情报告的审核意见")
class ReportReviewDecision(enum.Enum):
    PASS = strawberry.enum_value("PASS", description="通过")
    SEND_BACK = strawberry.enum_value("SEND_BACK", description="退回（须写明原因）")


@strawberry.type(description="报告的照片：上传时已按拍摄方向摆正、去掉 GPS 等 EXIF 信息，存显示图和缩略图各一份")
class Photo:
    id: strawberry.ID = column(p.id, "记录ID")
    content_type: str = column(p.content_type)
    width: int = column(p.width)
    height: int = column(p.height)
    size_bytes: int = column(p.size_bytes)
    caption: str | None = column(p.caption)
    taken_at: dt.datetime | None = column(p.taken_at)
    uploaded_by: str = column(p.uploaded_by)
    uploaded_at: dt.datetime = column(p.uploaded_at)

    @strawberry.field(description="显示图的签名链接（给 <img> 用，限时有效，只对本人有效）")
    def display_url(self, info: Info) -> str:
        return _signed(info, photo_path(self.id, "display.jpg"))

    @strawberry.field(description="缩略图的签名链接（给 <img> 用，限时有效，只对本人有效）")
    def thumbnail_url(self, info: Info) -> str:
        return _signed(info, photo_path(self.id, "thumbnail.jpg"))


def _signed(info: Info, path: str) -> str:
    ctx = info.context
    return ctx.links.make(path, {}, ctx.caller.user_id, int(time.time()))


@strawberry.type(description="易涝点报告：事件中某个易涝点的现场状况、积水深度、文字和照片")
class FloodPointReport:
    id: strawberry.ID = column(f.id, "记录ID")
    condition: SiteCondition = column(f.condition)
    water_depth_cm: int | None = column(f.water_depth_cm)
    text: str | None = column(f.text)
    reported_by: str = column(f.reported_by)
    reported_at: dt.datetime = column(f.reported_at)

    @strawberry.field(description="易涝点")
    def flood_point(self, info: Info) -> Annotated[FloodPoint, strawberry.lazy("schema.flood_points")] | None:
        return flood_points.flood_point_by_id(info.context, self.flood_point_id)

    @strawberry.field(description="事件")
    def event(self, info: Info) -> Event | None:
        return info.context.load_now(events.EVENT_BY_ID, self.event_id)

    @strawberry.field(description="照片")
    def photos(self, info: Info) -> list[Photo]:
        return info.context.load_now(events.FLOOD_POINT_REPORT_PHOTOS, self.id)


@strawberry.type(description="因灾倒塌损坏住房户台账中的一户")
class DamagedHouse:
    id: strawberry.ID = column(h.id, "记录ID")
    damage: HouseDamage = column(h.damage)
    rooms: int = column(h.rooms)

    @strawberry.field(description="户")
    def household(self, info: Info) -> Annotated[Household, strawberry.lazy("schema.households")] | None:
        return households.household_by_id(info.context, self.household_id)


@strawberry.type(description="受灾企业")
class AffectedEnterprise:
    id: strawberry.ID = column(a.id, "记录ID")
    note: str | None = column(a.note)

    @strawberry.field(description="企业")
    def enterprise(self, info: Info) -> Annotated[Enterprise, strawberry.lazy("schema.enterprises")] | None:
        return enterprises.enterprise_by_id(info.context, self.enterprise_id)


@strawberry.type(description="倒塌损坏住房按户类别分：由台账中各户在数据中心的类别算出，不需填写")
class HouseCount:
    damage: HouseDamage = strawberry.field(description="损坏程度")
    category: str = strawberry.field(description="户类别（五保户、低保户、困难户、一般户）")
    households: int = strawberry.field(description="户数")
    rooms: int = strawberry.field(description="间数")


@strawberry.type(description="村（社区）灾情报告（初报、续报、核报）：每次报告都保留，最新一次通过审核的计入汇总")
class DamageReport:
    id: strawberry.ID = column(r.id, "记录ID")
    kind: ReportKind = column(r.kind)
    sequence: int = column(r.sequence)
    affected_population: int = column(r.affected_population)
    relocated_population: int = column(r.relocated_population)
    relief_needed_population: int = column(r.relief_needed_population)
    deaths: int = column(r.deaths)
    missing: int = column(r.missing)
    collapsed_rooms: int = column(r.collapsed_rooms)
    severely_damaged_rooms: int = column(r.severely_damaged_rooms)
    generally_damaged_rooms: int = column(r.generally_damaged_rooms)
    crop_affected_area: float = column(r.crop_affected_area)
    crop_disaster_area: float = column(r.crop_disaster_area)
    crop_lost_area: float = column(r.crop_lost_area)
    direct_loss: float = column(r.direct_loss)
    notes: str | None = column(r.notes)
    explanation: str | None = column(r.explanation)
    reported_by: str = column(r.reported_by)
    reported_at: dt.datetime = column(r.reported_at)
    review_status: ReviewStatus = column(r.review_status)
    review_reason: str | None = column(r.review_reason)
    reviewed_by: str | None = column(r.reviewed_by)
    reviewed_at: dt.datetime | None = column(r.reviewed_at)
    history = history_field("DamageReport")

    @strawberry.field(description="受灾企业（家）")
    def affected_enterprise_count(self, info: Info) -> int:
        return _then_len(info.context.load_now(events.REPORT_ENTERPRISES, self.id))

    @strawberry.field(description="村（社区）")
    def village(self, info: Info) -> Annotated[Region, strawberry.lazy("schema.regions")] | None:
        return regions.region_by_id(info.context, self.village_id)

    @strawberry.field(description="事件")
    def event(self, info: Info) -> Event | None:
        return info.context.load_now(events.EVENT_BY_ID, self.event_id)

    @strawberry.field(description="因灾倒塌损坏住房户台账")
    def houses(self, info: Info) -> list[DamagedHouse]:
        return info.context.load_now(events.REPORT_HOUSES, self.id)

    @strawberry.field(description="受灾企业及情况")
    def affected_enterprises(self, info: Info) -> list[AffectedEnterprise]:
        return info.context.load_now(events.REPORT_ENTERPRISES, self.id)

    @strawberry.field(description="照片")
    def photos(self, info: Info) -> list[Photo]:
        return info.context.load_now(events.DAMAGE_REPORT_PHOTOS, self.id)

    @strawberry.field(description="倒塌损坏住房按户类别（五保、低保、困难、一般）分")
    def house_breakdown(self, info: Info) -> list[HouseCount]:
        return info.context.load_now(events.HOUSE_BREAKDOWN, self.id)


def _then_len(value: Any) -> Any:
    if isinstance(value, list):
        return len(value)

    async def later() -> int:
        return len(await value)

    return later()


@strawberry.type(description="看板上的一个村（社区）：报了没有、何时报的、最新一次报告、计入汇总的报告")
class VillageReportStatus:
    reported: bool = strawberry.field(description="是否已报")
    last_reported_at: dt.datetime | None = strawberry.field(description="最近一次报告时间")
    latest_report: DamageReport | None = strawberry.field(description="最新一次报告（不论审核状态）")
    counted_report: DamageReport | None = strawberry.field(description="计入汇总的报告（最新一次通过审核的）")
    next_kinds: list[ReportKind] = strawberry.field(description="下一次可报的报告类型：先报初报，之后续报或核报；报过核报后为空（被退回的报告不算）")

    @strawberry.field(description="村（社区）")
    def village(self, info: Info) -> Annotated[Region, strawberry.lazy("schema.regions")] | None:
        return regions.region_by_id(info.context, self.village_id)


@strawberry.type(description="汇总：各村（社区）最新一次通过审核的报告之和（只含本人辖区）")
class DamageTotals:
    villages_counted: int = strawberry.field(description="计入汇总的村（社区）数")
    affected_population: int = column(r.affected_population)
    relocated_population: int = column(r.relocated_population)
    relief_needed_population: int = column(r.relief_needed_population)
    deaths: int = column(r.deaths)
    missing: int = column(r.missing)
    collapsed_rooms: int = column(r.collapsed_rooms)
    severely_damaged_rooms: int = column(r.severely_damaged_rooms)
    generally_damaged_rooms: int = column(r.generally_damaged_rooms)
    crop_affected_area: float = column(r.crop_affected_area)
    crop_disaster_area: float = column(r.crop_disaster_area)
    crop_lost_area: float = column(r.crop_lost_area)
    direct_loss: float = column(r.direct_loss)


@strawberry.type(description="事件（台风、暴雨洪涝等）：进行中时各村（社区）报送灾情，结束后报告冻结")
class Event:
    id: strawberry.ID = column(e.id, "记录ID")
    kind: EventKind = column(e.kind)
    name: str = column(e.name)
    status: EventStatus = column(e.status)
    started_on: dt.date = column(e.started_on)
    ended_on: dt.date | None = column(e.ended_on)
    opened_by: str = column(e.opened_by)
    opened_unit: str = column(e.opened_unit)
    version: int = column(e.version)
    history = history_field("Event")

    @strawberry.field(description="涉及区划（在本人辖区之外时为空）")
    def region(self, info: Info) -> Annotated[Region, strawberry.lazy("schema.regions")] | None:
        return regions.region_by_id(info.context, self.region_id)

    @strawberry.field(description="各村（社区）的全部报告，按村、按次序（只含本人辖区）")
    def damage_reports(self, info: Info) -> list[DamageReport]:
        return events.event_reports(info.context, self.id)

    @strawberry.field(description="看板：本人辖区内每个村（社区）的报送情况")
    async def board(self, info: Info) -> list[VillageReportStatus]:
        return await events.board(info.context, self.id)  # type: ignore[return-value]

    @strawberry.field(description="各易涝点的全部报告，按易涝点、按时间（只含本人辖区）")
    def flood_point_reports(self, info: Info) -> list[FloodPointReport]:
        return info.context.load_now(events.EVENT_FLOOD_POINT_REPORTS, self.id)

    @strawberry.field(description="看板：每个已报告的易涝点的最新报告（照片和文字）")
    async def flood_point_board(self, info: Info) -> list[FloodPointReport]:
        return await events.flood_point_board(info.context, self.id)  # type: ignore[return-value]

    @strawberry.field(description="汇总：最新一次通过审核的报告之和")
    async def totals(self, info: Info) -> DamageTotals:
        return DamageTotals(**await events.totals(info.context, self.id))


@record_input("Event", "新建事件")
class NewEventInput:
    kind: EventKind = strawberry.field(description=e.kind.info["label"])
    name: str = strawberry.field(description=e.name.info["label"])
    started_on: dt.date = strawberry.field(description=e.started_on.info["label"])


@strawberry.input(description="因灾倒塌损坏住房户台账中的一户（须是本村（社区）的户）")
class DamagedHouseInput:
    household_id: strawberry.ID = strawberry.field(description="户的记录ID")
    damage: HouseDamage = strawberry.field(description=h.damage.info["label"])
    rooms: int = strawberry.field(description=h.rooms.info["label"])


@strawberry.input(description="受灾企业（须是本村（社区）的企业）")
class AffectedEnterpriseInput:
    enterprise_id: strawberry.ID = strawberry.field(description="企业的记录ID")
    note: str | None = strawberry.field(default=None, description=a.note.info["label"])


@record_input("DamageReport", "灾情报告：人口、农作物、经济损失由村（社区）填写，房屋数由住房户台账算出")
class DamageReportInput:
    kind: ReportKind = strawberry.field(description=r.kind.info["label"])
    affected_population: int = strawberry.field(description=r.affected_population.info["label"])
    relocated_population: int = strawberry.field(description=r.relocated_population.info["label"])
    relief_needed_population: int = strawberry.field(description=r.relief_needed_population.info["label"])
    deaths: int = strawberry.field(description=r.deaths.info["label"])
    missing: int = strawberry.field(description=r.missing.info["label"])
    crop_affected_area: float = strawberry.field(description=r.crop_affected_area.info["label"])
    crop_disaster_area: float = strawberry.field(description=r.crop_disaster_area.info["label"])
    crop_lost_area: float = strawberry.field(description=r.crop_lost_area.info["label"])
    direct_loss: float = strawberry.field(description=r.direct_loss.info["label"])
    notes: str | None = input_column(r.notes)
    explanation: str | None = input_column(r.explanation)
    # What the register and the enterprise list produce: who may write those figures may give them.
    houses: list[DamagedHouseInput] = strawberry.field(
        default_factory=list, description="因灾倒塌损坏住房户台账", metadata={"sets": "DamageReport.collapsedRooms"}
    )
    affected_enterprises: list[AffectedEnterpriseInput] = strawberry.field(
        default_factory=list, description="受灾企业", metadata={"sets": "DamageReport.affectedEnterpriseCount"}
    )


@record_input("FloodPointReport", "易涝点报告")
class FloodPointReportInput:
    condition: SiteCondition = strawberry.field(description=f.condition.info["label"])
    water_depth_cm: int | None = input_column(f.water_depth_cm)
    text: str | None = input_column(f.text)


@strawberry.type(description="报送易涝点报告的结果：成功时返回报告，否则返回每个字段的错误（什么都没有写入）")
class FloodPointReportPayload:
    flood_point_report: FloodPointReport | None = strawberry.field(description="易涝点报告")
    errors: list[FieldError] = strawberry.field(description="错误；为空表示成功")


@strawberry.type(description="新建或结束事件的结果：成功时返回事件，否则返回每个字段的错误（什么都没有写入）")
class EventPayload:
    event: Event | None = strawberry.field(description="事件")
    errors: list[FieldError] = strawberry.field(description="错误；为空表示成功")


@strawberry.type(description="报送或审核灾情报告的结果：成功时返回报告，否则返回每个字段的错误（什么都没有写入）")
class DamageReportPayload:
    damage_report: DamageReport | None = strawberry.field(description="灾情报告")
    errors: list[FieldError] = strawberry.field(description="错误；为空表示成功")


@strawberry.type
class Query:
    @strawberry.field(description="按记录ID查事件", metadata=LOOKUP)
    async def event(self, info: Info, id: RecordId) -> Event | None:
        return await events.event(info.context, int_id(id))

    @strawberry.field(description="事件列表（涉及本人辖区的），最新的在前")
    async def events(
        self,
        info: Info,
        status: Annotated[EventStatus | None, strawberry.argument(description="事件状态")] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Event]:
        return await events.list_events(info, status, first, after)

    @strawberry.field(description="按记录ID查灾情报告")
    async def damage_report(self, info: Info, id: RecordId) -> DamageReport | None:
        return await info.context.load(events.DAMAGE_REPORT_BY_ID, int_id(id))


EventId = Annotated[strawberry.ID, strawberry.argument(description="事件的记录ID")]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="新建事件（乡镇协同中心、应急管理局）", metadata={"writes": "Event"})
    async def open_event(
        self,
        info: Info,
        region_code: Annotated[str, strawberry.argument(description="涉及的乡镇（街道）或县（区）统计用区划代码")],
        input: Annotated[NewEventInput, strawberry.argument(description="事件信息")],
    ) -> EventPayload:
        result = await domain.open_event(info.context, region_code, changes_from(input))
        return EventPayload(event=result.record, errors=field_errors(result.problems))

    @strawberry.mutation(description="结束事件：此后报告冻结，不能再报或审核", metadata={"writes": "Event"})
    async def close_event(self, info: Info, id: RecordId, version: Version) -> EventPayload:
        result = await domain.close_event(info.context, int_id(id), version)
        return EventPayload(event=result.record, errors=field_errors(result.problems))

    @strawberry.mutation(description="村（社区）报送灾情（初报、续报、核报）", metadata={"writes": "DamageReport"})
    async def submit_damage_report(
        self,
        info: Info,
        event_id: EventId,
        village_code: Annotated[str, strawberry.argument(description="村（社区）统计用区划代码")],
        input: Annotated[DamageReportInput, strawberry.argument(description="灾情")],
    ) -> DamageReportPayload:
        changes = changes_from(input)
        given = {c: v for c, v in changes.items() if c not in ("houses", "affected_enterprises")}
        house_entries = [
            domain.HouseEntry(int_id(x.household_id, f"houses[{i}].householdId"), x.damage, x.rooms) for i, x in enumerate(input.houses)
        ]
        enterprise_entries = [
            domain.EnterpriseEntry(int_id(x.enterprise_id, f"affectedEnterprises[{i}].enterpriseId"), x.note)
            for i, x in enumerate(input.affected_enterprises)
        ]
        result = await domain.submit_damage_report(
            info.context, int_id(event_id, "eventId"), village_code, given, house_entries, enterprise_entries
        )
        return DamageReportPayload(damage_report=result.record, errors=field_errors(result.problems))

    @strawberry.mutation(description="报送易涝点现场情况（照片另用 POST /photos?floodPointReport=ID 上传）", metadata={"writes": "FloodPointReport"})
    async def report_flood_point(
        self,
        info: Info,
        event_id: EventId,
        flood_point_id: Annotated[strawberry.ID, strawberry.argument(description="易涝点的记录ID")],
        input: Annotated[FloodPointReportInput, strawberry.argument(description="现场情况")],
    ) -> FloodPointReportPayload:
        result = await submit_flood_point_report(
            info.context, int_id(event_id, "eventId"), int_id(flood_point_id, "floodPointId"), changes_from(input)
        )
        return FloodPointReportPayload(flood_point_report=result.record, errors=field_errors(result.problems))

    @strawberry.mutation(description="乡镇审核灾情报告：通过，或退回并写明原因", metadata={"writes": "DamageReport"})
    async def review_damage_report(
        self,
        info: Info,
        id: RecordId,
        decision: Annotated[ReportReviewDecision, strawberry.argument(description="审核意见")],
        reason: Annotated[str | None, strawberry.argument(description="退回原因")] = None,
    ) -> DamageReportPayload:
        result = await domain.review_damage_report(info.context, int_id(id), decision is ReportReviewDecision.PASS, reason)
        return DamageReportPayload(damage_report=result.record, errors=field_errors(result.problems))


@strawberry.type(description="看板推送的一条：新的或更新了的报告（按本人的辖区和字段授权）")
class EventUpdate:
    cursor: str = strawberry.field(description="游标：断线重连时作为 after 传回，从这里接着收，不漏一条")
    damage_report: DamageReport | None = strawberry.field(description="灾情报告（新报、审核或加了照片）")
    flood_point_report: FloodPointReport | None = strawberry.field(description="易涝点报告（新报或加了照片）")


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="看板实时推送：事件的每份新报告、每次审核、每张新照片（graphql-transport-ws）",
        metadata={"reveals": "Event.id"},
    )
    async def event_updates(
        self,
        info: Info,
        event_id: EventId,
        after: Annotated[str | None, strawberry.argument(description="从此游标之后接着推送（重连时传上次收到的 cursor）")] = None,
    ) -> AsyncGenerator[EventUpdate, None]:
        ctx = info.context
        event = await events.event(ctx, int_id(event_id, "eventId"))
        if event is None:
            raise UserInputError(f"eventId：找不到 id 为 {event_id} 的事件", field="eventId")
        if after is not None and not (after.isascii() and after.isdigit()):
            raise UserInputError(f"after：{after!r} 不是游标", field="after")
        # Only the kinds of report this subscription asked for (and its view shows) are pushed.
        kinds = frozenset(f.name for f in info.selected_fields[0].selections if hasattr(f, "name"))
        async for update in ctx.feed.updates(event.id, ctx.scope, None if after is None else int(after), kinds):
            ctx.release()  # each message is read afresh through the subscriber's own loaders
            ctx.loader(regions.REGION_BY_ID).prime(update.village.id, update.village)
            ctx.rows_returned += 1
            yield EventUpdate(cursor=str(update.cursor), damage_report=update.damage_report, flood_point_report=update.flood_point_report)
