"""The access log, for administrators (no department projection includes it)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from hub.data.models import AccessLogEntry as AccessLogEntryModel
from resolvers import access_log
from schema.connections import Connection
from schema.fields import After, First, column

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


@strawberry.type
class Query:
    @strawberry.field(description="访问日志（仅系统管理员），最新的在前")
    async def access_log(
        self,
        info: Info,
        username: Annotated[str | None, strawberry.argument(description="用户名")] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[AccessLogEntry]:
        return await access_log.list_entries(info, username=username, first=first, after=after)
