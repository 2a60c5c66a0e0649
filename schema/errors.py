"""The error shape every mutation shares: per field, with a reason."""

from __future__ import annotations

import strawberry


@strawberry.type(description="某个字段的错误：哪个字段、什么原因")
class FieldError:
    field: str = strawberry.field(description="出错的字段（GraphQL 名称）")
    code: str = strawberry.field(
        description="INVALID 格式或取值不对，FORBIDDEN 无权修改，NOT_FOUND 记录不存在，CONFLICT 版本冲突"
    )
    message: str = strawberry.field(description="原因")
    current_version: int | None = strawberry.field(description="版本冲突时，记录的当前版本")


def field_errors(problems: list) -> list[FieldError]:
    """A write's problems (`FieldProblem`s) as the payload's errors."""
    return [FieldError(**vars(problem)) for problem in problems]
