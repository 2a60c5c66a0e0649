"""Templates (表样): saved queries with a spreadsheet layout, read from `templates/*.yaml`.

Loaded and validated at start-up against the schema — the query validates in its
owner department's view, `rows` names a paged connection, every column
path is selected — with errors naming the file and line. See docs/templates.md.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    get_named_type,
    parse,
    print_ast,
    validate,
)
from openpyxl.utils.cell import range_boundaries

from hub.forms.download_links import LINK_PARAMS
from hub.yamlfile import CHINESE, DataFileError, Node, load

TEMPLATE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
PAPERS = {"A3": 8, "A4": 9}  # openpyxl / Excel paper size codes
ORIENTATIONS = ("portrait", "landscape")
COMPUTED = ("row_number", "age")
PAGE_VARIABLES = ("first", "after")
TEMPLATE_KEYS = {
    "id", "title", "department", "description", "query", "rows", "variables", "page",
    "group_by", "subtotals", "signature", "columns", "layout",
}
LAYOUT_KEYS = {"rows", "heights", "merges", "header_top", "print_rows", "fonts", "footer", "footer_merges"}
FONT_ROLES = ("title", "header", "body")
COLUMN_KEYS = {"header", "path", "value", "width", "number_format", "wrap", "join", "fill"}


@dataclass(frozen=True)
class Column:
    headers: tuple[str, ...]
    path: tuple[str, ...] | None
    value: str | None  # computed: row_number or age
    width: float | None
    number_format: str | None
    wrap: bool
    join: str
    fill: bool
    kind: str = "text"  # text, number, date, boolean, enum
    labels: dict[str, str] = field(default_factory=dict, hash=False)  # enum name -> Chinese label


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    type: str  # GraphQL type as declared, e.g. "String!"
    default: Any
    required: bool


@dataclass(frozen=True)
class Layout:
    """An onboarded paper form's own top rows (title, subtitle, headers, units) and footer rows, as its blank has them."""

    rows: tuple[tuple[str | None, ...], ...]
    heights: tuple[float | None, ...]
    merges: tuple[str, ...]
    header_top: int  # the first header row (rows above it are the title and subtitle)
    print_rows: str  # rows repeated on every printed page, e.g. "3:5"
    fonts: tuple[tuple[str, str, float, bool], ...]  # (role, name, size, bold) for title, header, body
    footer: tuple[tuple[str | None, ...], ...]
    footer_merges: tuple[str, ...]  # rows counted from the first footer row

    def font(self, role: str) -> tuple[str, float, bool] | None:
        return next(((name, size, bold) for r, name, size, bold in self.fonts if r == role), None)


@dataclass(frozen=True)
class Template:
    id: str
    title: str
    department: str
    description: str | None
    query: str
    document: DocumentNode = field(repr=False, hash=False)
    rows: str
    variables: tuple[Variable, ...]
    paper: str
    orientation: str
    fit_to_width: bool
    group_by: tuple[str, ...] | None
    subtotals: tuple[tuple[str, ...], ...]
    signature: bool
    columns: tuple[Column, ...]
    source: str
    version: int | None = None  # saved templates: their version; shipped files are versioned by git
    layout: Layout | None = None


@cache
def runnable(template: Template, schema: GraphQLSchema) -> bool:
    """Whether every field and filter the template asks exists in this (department's) schema."""
    return not validate(schema, template.document)


class TemplateVariableError(ValueError):
    """A variable of an export or a download link is missing, unknown or ill-typed."""


def template_variables(template: Template, params: dict[str, str]) -> dict[str, Any]:
    names = {v.name for v in template.variables}
    unknown = sorted(set(params) - names)
    if unknown:
        takes = "、".join(sorted(names)) or "无"
        raise TemplateVariableError(f"没有变量 `{unknown[0]}`（表样 {template.id} 的变量：{takes}）")
    values: dict[str, Any] = {}
    for variable in template.variables:
        raw = params.get(variable.name)
        if raw is None or raw == "":
            if variable.required:
                raise TemplateVariableError(f"缺少变量 `{variable.name}`（{variable.label}）")
            if variable.default is not None:
                values[variable.name] = variable.default
            continue
        base = variable.type.rstrip("!")
        if base == "Int":
            try:
                values[variable.name] = int(raw)
            except ValueError:
                raise TemplateVariableError(f"变量 `{variable.name}`（{variable.label}）应为整数，收到 {raw!r}") from None
        elif base == "Boolean":
            if raw not in ("true", "false"):
                raise TemplateVariableError(f"变量 `{variable.name}`（{variable.label}）应为 true 或 false，收到 {raw!r}")
            values[variable.name] = raw == "true"
        else:
            values[variable.name] = raw
    return values


def templates_dir() -> Path:
    return Path(os.environ.get("HUB_TEMPLATES_DIR") or Path(__file__).resolve().parents[2] / "templates")


def load_templates(full: GraphQLSchema, departments: dict[str, GraphQLSchema], directory: Path | None = None) -> dict[str, Template]:
    directory = directory or templates_dir()
    templates = {}
    for path in sorted(directory.glob("*.yaml")):
        template = load_template(path, full, departments)
        templates[template.id] = template
    return templates


def load_template(path: Path, full: GraphQLSchema, departments: dict[str, GraphQLSchema]) -> Template:
    template = parse_template(load(path, CHINESE), full, departments)
    if template.id != path.stem:
        raise DataFileError(f"{path}:1: id `{template.id}` 须与文件名 `{path.stem}` 相同")
    return template


def parse_template(root: Node, full: GraphQLSchema, departments: dict[str, GraphQLSchema]) -> Template:
    root.only_keys(TEMPLATE_KEYS, "模板")
    what = "模板"
    template_id = root.require("id", what).text("id")
    if not TEMPLATE_ID.match(template_id):
        raise root.require("id", what).error(f"id `{template_id}` 须由 2 到 64 个 a-z、0-9 或 '-' 组成")
    title = root.require("title", what).text("title")
    department_node = root.require("department", what)
    department = department_node.text("department")
    if department not in departments:
        raise department_node.error(f"没有部门 `{department}`（可用的部门：{', '.join(departments)}）")
    description = root.get("description").text("description") if root.get("description") else None

    query_node = root.require("query", what)
    query = query_node.text("query")
    try:
        document = parse(query)
    except GraphQLSyntaxError as error:
        raise _query_error(query_node, error) from None
    # Only the owner's view, with suggestions hidden: a field hidden from the owner is refused
    # in the same words as one that exists nowhere (the view is a part of the full schema).
    errors = validate(departments[department], document, hide_suggestions=True)
    if errors:
        raise _query_error(query_node, errors[0], f"不符合部门 {department} 可见的数据范围")
    operation = _only_query(document, query_node)
    declared = {d.variable.name.value: d for d in operation.variable_definitions}
    for name in PAGE_VARIABLES:
        if name not in declared:
            raise query_node.error(f"query 须声明 ${name}（导出时用 $first 和 $after 分页读取各行）")

    rows_node = root.require("rows", what)
    rows = rows_node.text("rows")
    rows_field, node_type = _rows_connection(operation, rows, full, rows_node)

    variables = _variables(root.get("variables"), declared, full, root)
    columns = tuple(_column(node, rows_field, node_type, full) for node in root.require("columns", what).sequence("columns"))
    if not columns:
        raise root.require("columns", what).error("columns：至少要有一列")
    selected = {c.path for c in columns if c.path}

    page = root.get("page")
    paper, orientation, fit = "A4", "portrait", True
    if page is not None:
        page.only_keys({"paper", "orientation", "fit_to_width"}, "page")
        if page.get("paper") is not None:
            paper = page.get("paper").text("page.paper")
            if paper not in PAPERS:
                raise page.get("paper").error(f"page.paper 须为 {'、'.join(PAPERS)} 之一，收到 `{paper}`")
        if page.get("orientation") is not None:
            orientation = page.get("orientation").text("page.orientation")
            if orientation not in ORIENTATIONS:
                raise page.get("orientation").error(f"page.orientation 须为 portrait（纵向）或 landscape（横向），收到 `{orientation}`")
        if page.get("fit_to_width") is not None:
            fit = _bool(page.get("fit_to_width"), "page.fit_to_width")

    group_by = None
    if root.get("group_by") is not None:
        group_node = root.get("group_by")
        group_by = tuple(group_node.text("group_by").split("."))
        _selected_path(rows_field, group_by, group_node, "group_by")
    subtotals: tuple[tuple[str, ...], ...] = ()
    if root.get("subtotals") is not None:
        subtotal_paths = []
        for node in root.get("subtotals").sequence("subtotals"):
            sub_path = tuple(node.text("subtotals").split("."))
            if sub_path not in selected:
                raise node.error(f"subtotals：`{'.'.join(sub_path)}` 不是任何一列的 path")
            if next(c for c in columns if c.path == sub_path).kind != "number":
                raise node.error(f"subtotals：`{'.'.join(sub_path)}` 不是数字列")
            subtotal_paths.append(sub_path)
        subtotals = tuple(subtotal_paths)
    signature = _bool(root.get("signature"), "signature") if root.get("signature") is not None else True
    layout = _layout(root.get("layout"), len(columns)) if root.get("layout") is not None else None

    return Template(
        template_id, title, department, description, query, document, rows, variables, paper, orientation, fit,
        group_by, subtotals, signature, columns, root.file, layout=layout,
    )


def _cells(node: Node, what: str, width: int) -> tuple[tuple[str | None, ...], ...]:
    rows = []
    for row in node.sequence(what):
        cells = row.sequence(what)
        if len(cells) != width:
            raise row.error(f"{what}：每行须有与列数相同的 {width} 格，这一行有 {len(cells)} 格")
        rows.append(tuple(None if c.value is None else str(c.value) for c in cells))
    return tuple(rows)


def _ranges(node: Node | None, what: str, height: int, width: int) -> tuple[str, ...]:
    ranges, taken = [], set()
    for item in node.sequence(what) if node is not None else []:
        text = item.text(what)
        try:
            first_column, first_row, last_column, last_row = range_boundaries(text)
        except (ValueError, TypeError):
            raise item.error(f"{what}：`{text}` 不是单元格区域（如 A3:B4）") from None
        if not (1 <= first_row <= last_row <= height and 1 <= first_column <= last_column <= width):
            raise item.error(f"{what}：`{text}` 超出了 {height} 行 {width} 列的范围")
        cells = {(r, c) for r in range(first_row, last_row + 1) for c in range(first_column, last_column + 1)}
        if cells & taken:
            raise item.error(f"{what}：`{text}` 与另一个合并区域重叠")
        taken |= cells
        ranges.append(text)
    return tuple(ranges)


def _layout(node: Node, width: int) -> Layout:
    node.only_keys(LAYOUT_KEYS, "layout")
    rows = _cells(node.require("rows", "layout"), "layout.rows", width)
    header_top = node.require("header_top", "layout").value
    if not isinstance(header_top, int) or not 1 <= header_top <= len(rows):
        raise node.require("header_top", "layout").error(f"layout.header_top 须为 layout.rows 中的一行（1 到 {len(rows)}）")
    heights_node = node.get("heights")
    heights = tuple(h.value for h in heights_node.sequence("layout.heights")) if heights_node is not None else (None,) * len(rows)
    if len(heights) != len(rows) or not all(h is None or isinstance(h, (int, float)) and 0 < h <= 409 for h in heights):
        raise (heights_node or node).error("layout.heights：layout.rows 的每行一个行高（磅，最大 409）或 ~")
    print_rows = node.get("print_rows").text("layout.print_rows") if node.get("print_rows") else f"{header_top}:{len(rows)}"
    if not re.fullmatch(r"\d+:\d+", print_rows) or not 1 <= int(print_rows.split(":")[0]) <= int(print_rows.split(":")[1]) <= len(rows):
        raise node.get("print_rows").error(f"layout.print_rows 须为 layout.rows 的 {len(rows)} 行之内的行范围，如 3:4")
    fonts = []
    for role, font in (node.get("fonts").mapping("layout.fonts") if node.get("fonts") else {}).items():
        parts = font.plain()
        if role not in FONT_ROLES or not (isinstance(parts, list) and len(parts) == 3 and isinstance(parts[0], str)
                                           and isinstance(parts[1], (int, float)) and isinstance(parts[2], bool)):
            raise font.error(f"layout.fonts：请按 [字体, 字号, 是否加粗] 给出 {', '.join(FONT_ROLES)}，如 [宋体, 16, true]")
        fonts.append((role, parts[0], parts[1], parts[2]))
    footer = _cells(node.get("footer"), "layout.footer", width) if node.get("footer") is not None else ()
    return Layout(
        rows, heights, _ranges(node.get("merges"), "layout.merges", len(rows), width), header_top, print_rows, tuple(fonts),
        footer, _ranges(node.get("footer_merges"), "layout.footer_merges", len(footer), width),
    )


def _query_error(node: Node, error: GraphQLError, what: str = "不是有效的 GraphQL") -> DataFileError:
    # The query is a block scalar starting on the line after `query:`.
    line = node.line + (error.locations[0].line if error.locations else 0)
    return DataFileError(f"{node.file}:{line}: query {what}：{error.message}")


def _only_query(document: DocumentNode, node: Node) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation.value != "query":
        raise node.error("query 须恰好包含一个 query 操作")
    return operations[0]


def _rows_connection(operation: OperationDefinitionNode, rows: str, schema: GraphQLSchema, node: Node) -> tuple[FieldNode, GraphQLObjectType]:
    """The root field named (or aliased) `rows`, which must be a connection selecting pageInfo and nodes."""
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode) and (selection.alias or selection.name).value == rows:
            connection = get_named_type(schema.query_type.fields[selection.name.value].type)
            if not isinstance(connection, GraphQLObjectType) or "nodes" not in connection.fields:
                raise node.error(f"rows：`{rows}` 不是可分页的列表（connection）")
            sub = {s.name.value: s for s in selection.selection_set.selections if isinstance(s, FieldNode)}
            page_info = sub.get("pageInfo")
            page_fields = {s.name.value for s in page_info.selection_set.selections} if page_info else set()
            if not {"hasNextPage", "endCursor"} <= page_fields:
                raise node.error(f"rows：请在 `{rows}` 上选取 `pageInfo {{ hasNextPage endCursor }}`，以便分页")
            args = {a.name.value for a in selection.arguments}
            if not {"first", "after"} <= args:
                raise node.error(f"rows：请给 `{rows}` 传入 `first: $first, after: $after`")
            if "nodes" not in sub:
                raise node.error(f"rows：请在 `{rows}` 上选取 `nodes {{ … }}`")
            return sub["nodes"], get_named_type(connection.fields["nodes"].type)
    raise node.error(f"rows：query 中没有根字段 `{rows}`")


def _variables(node: Node | None, declared: dict, schema: GraphQLSchema, root: Node) -> tuple[Variable, ...]:
    given = node.mapping("variables") if node is not None else {}
    variables = []
    for name, definition in declared.items():
        if name in PAGE_VARIABLES:
            continue
        if name in LINK_PARAMS:
            raise (node or root).error(f"variables：${name} 留给下载链接使用（{', '.join(LINK_PARAMS)}）")
        entry = given.get(name)
        if entry is None:
            raise (node or root).error(f"variables：请给 ${name} 一个中文名称（label）")
        entry.only_keys({"label", "default"}, f"变量 ${name}")
        label = entry.require("label", f"变量 ${name}").text(f"变量 ${name} 的 label")
        default_node = entry.get("default")
        type_text = print_ast(definition.type)
        variables.append(
            Variable(name, label, type_text, default_node.value if default_node else None, type_text.endswith("!") and default_node is None)
        )
    for name, entry in given.items():
        if name not in declared:
            raise entry.error(f"variables：query 没有声明 ${name}")
    return tuple(variables)


def _column(node: Node, rows_field: FieldNode, node_type: GraphQLObjectType, schema: GraphQLSchema) -> Column:
    node.only_keys(COLUMN_KEYS, "列")
    header_node = node.require("header", "列")
    if isinstance(header_node.value, list):
        headers = tuple(h.text("header") for h in header_node.sequence("header"))
    else:
        headers = (header_node.text("header"),)
    value = node.get("value").text("value") if node.get("value") else None
    if value is not None and value not in COMPUTED:
        raise node.get("value").error(f"value 须为 {'、'.join(COMPUTED)} 之一，收到 `{value}`")
    path = tuple(node.get("path").text("path").split(".")) if node.get("path") else None
    fill = _bool(node.get("fill"), "fill") if node.get("fill") else False
    if path is None and value != "row_number" and not fill:
        raise node.error(f"列 {'/'.join(headers)}：请给出 `path`、`value: row_number`，或用 `fill: true` 留作空白填报列")
    if value == "age" and path is None:
        raise node.error("value：age 需要出生日期的 `path`")
    kind, labels = "number" if value in COMPUTED else "text", {}
    if path is not None:
        leaf = _selected_path(rows_field, path, node.get("path"), "path", node_type, schema)
        kind, labels = column_kind(leaf)
    width = node.get("width")
    if width is not None and (not isinstance(width.value, (int, float)) or not 1 <= width.value <= 200):
        raise width.error(f"width 须为 1 到 200 之间的字符数，收到 {width.value!r}")
    join = node.get("join").value if node.get("join") else "、"
    return Column(
        headers, path, value, width.value if width else None,
        node.get("number_format").text("number_format") if node.get("number_format") else None,
        _bool(node.get("wrap"), "wrap") if node.get("wrap") else False, join, fill,
        "number" if value == "age" else kind, labels,
    )


def _selected_path(rows_field: FieldNode, path: tuple[str, ...], node: Node, what: str, node_type=None, schema=None):
    """Check the query selects `path` under the rows' nodes; return the leaf's GraphQL type."""
    selection = rows_field.selection_set
    current = node_type
    leaf = None
    for depth, name in enumerate(path):
        match = None
        if selection is not None:
            match = next((s for s in selection.selections if isinstance(s, FieldNode) and (s.alias or s.name).value == name), None)
        if match is None:
            raise node.error(f"{what}：query 没有选取 `{'.'.join(path)}`（`{'.'.join(path[:depth]) or 'nodes'}` 下没有 `{name}`）")
        if current is not None:
            leaf = current.fields[match.name.value].type
            current = get_named_type(leaf)
        selection = match.selection_set
    if selection is not None:
        raise node.error(f"{what}：`{'.'.join(path)}` 是对象，请指明它的某个字段")
    return leaf


def column_kind(leaf) -> tuple[str, dict[str, str]]:
    named = get_named_type(leaf) if leaf is not None else None
    if isinstance(named, GraphQLEnumType):
        return "enum", {name: value.description or name for name, value in named.values.items()}
    name = getattr(named, "name", "")
    return {"Int": "number", "Float": "number", "Date": "date", "DateTime": "date", "Boolean": "boolean"}.get(name, "text"), {}


def _bool(node: Node, what: str) -> bool:
    if not isinstance(node.value, bool):
        raise node.error(f"{what} 须为 true 或 false，收到 {node.value!r}")
    return node.value
