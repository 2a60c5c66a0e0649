"""The access log, for administrators (no department projection includes it)."""

from __future__ import annotations

import datetime as dt

import strawberry

from hub.data.models import AccessLogEntry as AccessLogEntryModel
from schema.fields import column

c = AccessLogEntryModel.__table__.c


@strawberry.type(description="访问日志：谁在何时执行了什么操作、读取了哪些敏感字段、返回多少记录")
class AccessLogEntry:
    id: strawberry.ID = column(c.id, "记录ID")
    at: dt.datetime = column(c.at)
    username: str = column(c.username)
    org_unit: str = column(c.org_unit)
    request_id: str = column(c.request_id)
    operation_type: str = column(c.operation_type)
    operation_name: str | None = column(c.operation_name)
    row_count: int = column(c.row_count)
    outcome: str = column(c.outcome, "结果（ok 成功、error 部分出错、refused 被拒绝、timeout 超时）")

    @strawberry.field(description="读取的敏感字段（Type.field，脱敏读取注明 masked）")
    def sensitive_fields(self) -> list[str]:
        return [f for f in self.sensitive_fields.split(",") if f]  # type: ignore[attr-defined]
