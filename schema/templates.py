"""Templates (表样) a caller may run: every field they ask is granted to the caller."""

from __future__ import annotations

import base64
import binascii
import time
from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from hub.forms.onboarding import ColumnMapping, FormRefused, onboard
from hub.forms.templates import TemplateVariableError, runnable, template_variables
from hub.forms.untrusted_xlsx import NOT_XLSX_MESSAGE, SheetRefused
from resolvers.errors import UserInputError
from schema.errors import FieldError, field_errors


def _refused(code: str, message: str, field: str = "file") -> TemplateProposal:
    return TemplateProposal(
        entity=None, columns=[], report=[], definition=None, request_columns=[], template=None,
        errors=[FieldError(field=field, code=code, message=message, current_version=None)],
    )


async def proposal_for(
    info: Info, file: str, template_id: str, mappings: list[ColumnMappingInput], save: bool, version: int | None
) -> TemplateProposal:
    try:
        data = base64.b64decode(file, validate=True)
    except (binascii.Error, ValueError):
        return _refused("NOT_XLSX", NOT_XLSX_MESSAGE)
    chosen = tuple(ColumnMapping(m.to, m.column, m.header) for m in mappings)
    try:
        proposal, template, problems = await onboard(
            info.context.templates, info.context.policy, info.context.caller, data, template_id, chosen, save, version
        )
    except FormRefused as refused:
        return _refused(refused.code, str(refused), refused.field)
    except SheetRefused as refused:
        return _refused(refused.code, str(refused))
    report = proposal.report
    return TemplateProposal(
        entity=report.entity,
        columns=[
            TemplateColumnMatch(
                column=c.index, header=c.header, status=c.status, path=c.path, value=c.value, field_label=c.field_label,
                how=c.how, confidence=round(c.confidence, 2), candidates=c.candidates, open=c.open, indicator=c.indicator,
                message=c.message,
            )
            for c in report.columns
        ],
        report=report.lines(),
        definition=proposal.definition,
        request_columns=proposal.request_columns,
        template=template,
        errors=field_errors(problems),
    )


def export_path(template_id: str, fill_sheet: bool = False) -> str:
    return f"/fill-sheets/{template_id}.xlsx" if fill_sheet else f"/exports/{template_id}.xlsx"


def _query_values(variables: object) -> dict[str, str]:
    """JSON variables as the query parameters of a download; a null leaves its variable out."""
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise UserInputError('variables：请以对象给出表样变量，如 {"region": "350304100001"}', field="variables")
    given = {}
    for name, value in variables.items():
        if isinstance(value, bool):
            given[name] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            given[name] = str(value)
        elif value is not None:
            raise UserInputError(f"variables：`{name}` 应为文字、数字或 true/false", field="variables")
    return given


@strawberry.type(description="表样的查询变量")
class TemplateVariable:
    name: str = strawberry.field(description="变量名（导出链接的参数名）")
    label: str = strawberry.field(description="中文名称")
    type: str = strawberry.field(description="GraphQL 类型")
    default: str | None = strawberry.field(description="默认值")
    required: bool = strawberry.field(description="是否必填")


@strawberry.type(description="表样：保存的查询加表格版式，一键导出 xlsx")
class Template:
    id: str = strawberry.field(description="表样编号")
    title: str = strawberry.field(description="表名")
    department: str = strawberry.field(description="所属部门")
    description: str | None = strawberry.field(description="说明")
    paper: str = strawberry.field(description="纸张（A3、A4）")
    orientation: str = strawberry.field(description="方向（portrait 纵向、landscape 横向）")
    query: str = strawberry.field(description="GraphQL 查询")
    version: int | None = strawberry.field(description="版本（通过接口保存的表样；随仓库发布的表样为空）")

    @strawberry.field(description="变量")
    def variables(self) -> list[TemplateVariable]:
        return [
            TemplateVariable(name=v.name, label=v.label, type=v.type, default=None if v.default is None else str(v.default), required=v.required)
            for v in self.variables  # type: ignore[attr-defined]
        ]

    @strawberry.field(description="导出链接（带上令牌 GET，变量作为查询参数）")
    def download_path(self) -> str:
        return export_path(self.id)

    @strawberry.field(
        description="浏览器可直接打开的下载链接：已签名、不含令牌，有效期默认 10 分钟；以当前用户届时的权限导出"
    )
    def download_link(
        self,
        info: Info,
        variables: Annotated[JSON | None, strawberry.argument(description="表样变量，如 {\"region\": \"350304100001\"}")] = None,
        fill_sheet: Annotated[bool, strawberry.argument(description="填报表（只开放要填的列）而不是打印表")] = False,
    ) -> str:
        given = _query_values(variables)
        try:
            template_variables(self, given)  # the same check as the download itself, now rather than on click
        except TemplateVariableError as error:
            raise UserInputError(str(error), field="variables") from None
        return info.context.links.make(export_path(self.id, fill_sheet), given, info.context.caller.user_id, int(time.time()))


@strawberry.type(description="保存或删除表样的结果：成功时返回表样，否则返回错误（什么都没有写入）")
class TemplatePayload:
    template: Template | None = strawberry.field(description="保存后的表样")
    errors: list[FieldError] = strawberry.field(description="错误；为空表示成功")


@strawberry.type(description="表样导入：一栏的对应结果")
class TemplateColumnMatch:
    column: int = strawberry.field(description="第几栏（从 1 起）")
    header: str = strawberry.field(description="栏目名称（多级表头用 / 连接）")
    status: str = strawberry.field(
        description="MATCHED 已对应，COMPUTED 由数据中心计算（序号、年龄），AMBIGUOUS 有歧义，NOT_GRANTED 数据中心有但本部门未获授权，UNMATCHED 未对应"
    )
    path: str | None = strawberry.field(description="对应的字段路径（如 head.idNumber）")
    value: str | None = strawberry.field(description="计算栏：row_number 序号，age 按出生日期算年龄")
    field_label: str | None = strawberry.field(description="对应字段的中文名称")
    how: str | None = strawberry.field(
        description="如何对应：exact 名称相同，synonym 同义词，normalised 规范化后相同，close 近似，computed 计算，reviewed 审核时指定"
    )
    confidence: float = strawberry.field(description="置信度（0 到 1）")
    candidates: list[str] = strawberry.field(description="有歧义时的候选字段")
    open: bool = strawberry.field(description="是否为填报列（填报表中开放填写）")
    indicator: bool = strawberry.field(description="是否作为填报任务（fileRequest）的新指标")
    message: str = strawberry.field(description="说明")


@strawberry.input(description="审核表样导入时对一栏的指定：按第几栏或栏目名称（二者选一），对应到本部门可读的字段，或留作填报列，或作为新指标")
class ColumnMappingInput:
    to: str = strawberry.field(
        description="字段路径（每行记录之下，如 head.idNumber、household.village.parent.name），或 open 留作填报列，或 indicator 作为填报任务的新指标"
    )
    column: int | None = strawberry.field(default=None, description="第几栏（从 1 起，同对应报告）")
    header: str | None = strawberry.field(default=None, description="栏目名称（同对应报告，多级表头用 / 连接，如“保障情况/月保障金”）")


@strawberry.type(description="表样导入的结果：逐栏对应报告和建议的表样定义（审核、修改后保存）；出错时只有 errors，什么都没有保存")
class TemplateProposal:
    entity: str | None = strawberry.field(description="每行一条什么记录（households、persons、enterprises、floodPoints、regions）")
    columns: list[TemplateColumnMatch] = strawberry.field(description="逐栏对应报告")
    report: list[str] = strawberry.field(description="对应报告（可读文本，每栏一行）")
    definition: str | None = strawberry.field(description="建议的表样定义（YAML，可直接交给 saveTemplate）")
    request_columns: JSON = strawberry.field(description="未对应的栏目，作为填报任务（fileRequest）的新指标栏目；须补上依据后提交")
    template: Template | None = strawberry.field(description="一并保存时：保存后的表样（本部门所有，带版本号）")
    errors: list[FieldError] = strawberry.field(description="错误；为空表示成功")


@strawberry.type
class Query:
    @strawberry.field(description="我可以运行的表样（所需字段均已授权）")
    async def templates(self, info: Info) -> list[Template]:
        return [t for t in (await info.context.templates.all_for(info.context.caller)).values() if runnable(t, info.schema._schema)]

    @strawberry.field(description="按编号取一个我可以运行的表样；不存在或无权运行时为空")
    async def template(self, info: Info, id: Annotated[str, strawberry.argument(description="表样编号")]) -> Template | None:
        template = await info.context.templates.get_for(id, info.context.caller)
        return template if template is not None and runnable(template, info.schema._schema) else None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="保存本部门的表样（新建或修改；须带上读取时的版本号）", metadata={"writes": "Template"})
    async def save_template(
        self,
        info: Info,
        definition: Annotated[str, strawberry.argument(description="表样定义（YAML，格式见 docs/templates.md）")],
        version: Annotated[int | None, strawberry.argument(description="修改时：读取时的版本号；新建时不填")] = None,
    ) -> TemplatePayload:
        template, problems = await info.context.templates.save(info.context.caller, definition, version)
        return TemplatePayload(template=template, errors=field_errors(problems))

    @strawberry.mutation(
        description="上传本部门现有的空白表样（xlsx，base64），逐栏对应数据中心的字段，返回对应报告和建议的表样定义；"
        "可逐栏改定对应关系；save 为 true 时一并保存为本部门的表样（同 saveTemplate），否则只建议、不保存",
        metadata={"writes": "Template"},
    )
    async def propose_template(
        self,
        info: Info,
        file: Annotated[str, strawberry.argument(description="空白表样 xlsx 文件，base64 编码（不超过 512 KB）")],
        id: Annotated[str, strawberry.argument(description="新表样的编号（小写字母、数字和 -，如 minzheng-dibao）")],
        mappings: Annotated[
            list[ColumnMappingInput] | None, strawberry.argument(description="审核时改定的对应关系（其余栏按自动对应）")
        ] = None,
        save: Annotated[bool, strawberry.argument(description="一并保存为本部门的表样")] = False,
        version: Annotated[int | None, strawberry.argument(description="保存时：修改已有表样须带上读取时的版本号；新建时不填")] = None,
    ) -> TemplateProposal:
        return await proposal_for(info, file, id, mappings or [], save, version)

    @strawberry.mutation(description="删除本部门保存的表样", metadata={"writes": "Template"})
    async def delete_template(
        self,
        info: Info,
        id: Annotated[str, strawberry.argument(description="表样编号")],
        version: Annotated[int, strawberry.argument(description="读取时的版本号")],
    ) -> TemplatePayload:
        problems = await info.context.templates.delete(info.context.caller, id, version)
        return TemplatePayload(template=None, errors=field_errors(problems))
