"""Onboarding a department's paper form: read its blank xlsx (表样) and propose a template for it.

`read_form` finds, in the first sheet, the title, the header block (several rows, merged
cells, a units row such as （元）, a row of column numbers), the first data row, a 合计 row, the
footer (填报单位、填报人、审核人、日期), the column widths, fonts, paper size, orientation and
print titles. `propose` matches the columns (hub/forms/column_matching.py) and writes the
template's YAML: the query over what the uploader's department may read, and the form's own
rows above and below the data as its `layout`, so the export is the blank with the data in it.

Uploads are untrusted: `first_sheet` bounds the file before openpyxl builds anything, and the
callers run `read_form` off the event loop.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import GraphQLSchema
from openpyxl.utils import get_column_letter

from hub.forms.column_matching import (
    AMBIGUOUS,
    COMPUTED,
    ENTITIES,
    MATCHED,
    NOT_GRANTED,
    UNMATCHED,
    ColumnMatch,
    HeaderColumn,
    MatchReport,
    match_columns,
    normalise,
    reviewed,
    vocabulary,
)
from hub.forms.template_store import Problem, TemplateStore
from hub.forms.templates import PAPERS, Template
from hub.forms.untrusted_xlsx import first_sheet, off_loop

if TYPE_CHECKING:
    from hub.access.accounts import Caller

MAX_FORM_BYTES = 512 * 1024  # a blank is a title, a header and a footer: tens of KB
MAX_COLUMNS = 100  # the widest county form seen is A3 landscape with ~40 columns
FOOTER_WORDS = ("填报单位", "填报人", "填表人", "审核人", "负责人", "制表人", "制表", "填报日期", "日期：", "注：", "说明：")
TOTAL_WORDS = ("合计", "总计")
SIGNATURE_WORDS = ("填报人", "填表人", "审核人")
NUMBERING = re.compile(r"^(\d+|[甲乙丙丁戊己庚辛])$")


class FormRefused(Exception):
    """The upload cannot be made a template: a stable `code` beside a message for the person who sent it,
    and which argument it is about (the file, or the reviewer's mappings)."""

    def __init__(self, code: str, message: str, field: str = "file") -> None:
        super().__init__(message)
        self.code = code
        self.field = field


@dataclass(frozen=True)
class ColumnMapping:
    """A reviewer's choice for one column (by position, or by its header as the report names it):
    a field path under each row, `open` (an open column of the fill sheet) or `indicator`."""

    to: str
    column: int | None = None
    header: str | None = None


@dataclass
class Form:
    """What the blank says, by row and column (1-based, columns counted from the form's first)."""

    title: str
    rows: list[list[str | None]]  # rows 1 … the last header row
    heights: list[float | None]
    merges: list[str]
    header_top: int
    header_rows: list[int]  # rows naming columns (not units, not column numbers)
    columns: list[HeaderColumn]
    widths: list[float | None]
    paper: str
    orientation: str
    fit_to_width: bool
    print_rows: str
    fonts: dict[str, tuple[str, float, bool]]
    total_row: bool
    footer: list[list[str | None]] = field(default_factory=list)
    footer_merges: list[str] = field(default_factory=list)

    @property
    def first_data_row(self) -> int:
        return len(self.rows) + 1

    @property
    def signed(self) -> bool:
        """Whether the form's own footer has the signature lines (then the page footer need not)."""
        return any(word in (text or "") for row in self.footer for text in row for word in SIGNATURE_WORDS)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def read_form(data: bytes) -> Form:
    """The form in the first sheet of an uploaded xlsx; raises `SheetRefused` or `FormRefused`."""
    sheet = first_sheet(data)
    values = {(r, c): t for (r, c), cell in sheet._cells.items() if (t := _text(cell.value)) is not None}
    if not values:
        raise FormRefused("EMPTY_SHEET", "工作表是空的：请上传画好表头的空白表样（标题、表头，可留几行空行）")
    merges = sorted((m.min_row, m.min_col, m.max_row, m.max_col) for m in sheet.merged_cells.ranges)
    _refuse_overlaps(merges)
    anchor_of = {}
    for r0, c0, r1, c1 in merges:
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                anchor_of[(r, c)] = (r0, c0)
    last_row = max(r for r, _ in values)

    def row_anchors(r: int) -> dict[tuple[int, int], str]:
        """Texts anchored in row r (a merged range's text counts in its top row)."""
        return {(rr, cc): values[(rr, cc)] for (rr, cc) in values if rr == r and anchor_of.get((rr, cc), (rr, cc)) == (rr, cc)}

    header_top = next((r for r in range(1, last_row + 1) if _is_header_row(row_anchors(r))), None)
    if header_top is None:
        raise FormRefused("NO_HEADER", "没有找到表头：表头应是标题下方的一行或几行栏目名称（至少三栏），如“序号、姓名、公民身份号码……”")
    header_rows, bottom = [header_top], header_top
    for r in range(header_top + 1, last_row + 1):
        texts = list(row_anchors(r).values())
        if not texts or any(t.startswith(TOTAL_WORDS) or t.startswith(FOOTER_WORDS) for t in texts):
            break
        if all(_is_unit(t) for t in texts) or (len(texts) >= 3 and all(NUMBERING.match(t) for t in texts)):
            bottom = r  # a units row （元） or a row of column numbers 甲 乙 1 2 3: part of the header, names no column
            continue
        if all(NUMBERING.match(t) for t in texts):
            break  # a first data row with its 序号
        header_rows.append(r)
        bottom = r
    # The columns are those the header rows reach, merged ranges included.
    spans = [c for r in range(header_top, bottom + 1) for (rr, cc) in values if rr == r for c in _span(rr, cc, merges)]
    spans += [c for (r, c), (ar, ac) in anchor_of.items() if header_top <= r <= bottom and (ar, ac) in values]
    first, last = min(spans), max(spans)
    if last - first + 1 > MAX_COLUMNS:
        raise FormRefused(
            "HEADER_TOO_WIDE", f"表头有 {last - first + 1} 栏，超过上限 {MAX_COLUMNS} 栏：请检查是否有多余的列，或把表拆成几张"
        )

    def text_at(r: int, c: int) -> str | None:
        return values.get(anchor_of.get((r, c), (r, c)))

    columns = []
    for c in range(first, last + 1):
        levels: list[str] = []
        seen: set[tuple[int, int]] = set()
        for r in header_rows:
            anchor = anchor_of.get((r, c), (r, c))
            if anchor not in seen and (text := text_at(r, c)) is not None and anchor[0] >= header_top:
                levels.append(text)
            seen.add(anchor)
        units = [text_at(r, c) for r in range(header_top, bottom + 1) if r not in header_rows and _is_unit(text_at(r, c) or "")]
        columns.append(HeaderColumn(c - first + 1, tuple(levels), units[0] if units else None))
    if not any(c.levels for c in columns):
        raise FormRefused("NO_HEADER", "没有找到表头：表头应是标题下方的一行或几行栏目名称（至少三栏），如“序号、姓名、公民身份号码……”")

    def shifted(r0: int, c0: int, r1: int, c1: int, top: int = 0) -> str:
        return f"{get_column_letter(c0 - first + 1)}{r0 - top}:{get_column_letter(c1 - first + 1)}{r1 - top}"

    block = [[values.get((r, c)) for c in range(first, last + 1)] for r in range(1, bottom + 1)]
    block_merges = [shifted(*m) for m in merges if m[2] <= bottom and m[1] >= first and m[3] <= last]
    footer_top = next(
        (r for r in range(bottom + 1, last_row + 1) if any(t.startswith(FOOTER_WORDS) or "填报" in t for t in row_anchors(r).values())), None
    )
    total_row = any(t.replace(" ", "").startswith(TOTAL_WORDS) for (r, _), t in values.items() if bottom < r < (footer_top or last_row + 1))
    footer, footer_merges = [], []
    if footer_top is not None:
        footer = [[values.get((r, c)) for c in range(first, last + 1)] for r in range(footer_top, last_row + 1)]
        footer_merges = [shifted(*m, top=footer_top - 1) for m in merges if m[0] >= footer_top and m[1] >= first and m[3] <= last]

    title_cell = next(((r, c) for r in range(1, header_top) for c in range(first, last + 1) if (r, c) in values), None)
    title = values[title_cell] if title_cell else sheet.title
    header_cell = next((r, c) for r in header_rows for c in range(first, last + 1) if (r, c) in values)
    body_cell = sheet.cell(bottom + 1, first)
    setup = sheet.page_setup
    paper = next((name for name, code in PAPERS.items() if str(code) == str(setup.paperSize)), "A4")
    return Form(
        title=title,
        rows=block,
        heights=[sheet.row_dimensions[r].height if r in sheet.row_dimensions else None for r in range(1, bottom + 1)],
        merges=block_merges,
        header_top=header_top,
        header_rows=header_rows,
        columns=columns,
        widths=[_width(sheet, c) for c in range(first, last + 1)],
        paper=paper,
        orientation=setup.orientation if setup.orientation in ("portrait", "landscape") else "portrait",
        fit_to_width=bool(sheet.sheet_properties.pageSetUpPr and sheet.sheet_properties.pageSetUpPr.fitToPage),
        print_rows=_print_rows(sheet.print_title_rows, header_top, bottom),
        fonts={
            role: (cell.font.name or "宋体", float(cell.font.size or 11), bool(cell.font.bold))
            for role, cell in (
                ("title", sheet.cell(*title_cell) if title_cell else None), ("header", sheet.cell(*header_cell)), ("body", body_cell)
            )
            if cell is not None
        },
        total_row=total_row,
        footer=footer,
        footer_merges=footer_merges,
    )


def _is_header_row(anchors: dict[tuple[int, int], str]) -> bool:
    texts = list(anchors.values())
    # 填报单位：…  年 月 日 above the header are labels with a colon, not column names.
    return len(texts) >= 3 and not all("：" in t or ":" in t for t in texts) and not all(NUMBERING.match(t) for t in texts)


def _is_unit(text: str) -> bool:
    text = unicodedata.normalize("NFKC", text).replace(" ", "")
    return len(text) >= 3 and text.startswith("(") and text.endswith(")")


def _span(r: int, c: int, merges: list[tuple[int, int, int, int]]) -> range:
    for r0, c0, r1, c1 in merges:
        if (r0, c0) == (r, c):
            return range(c0, c1 + 1)
    return range(c, c + 1)


def _refuse_overlaps(merges: list[tuple[int, int, int, int]]) -> None:
    # Sorted by top row: a range can only overlap one starting at or above its bottom.
    for i, (r0, c0, r1, c1) in enumerate(merges):
        for s0, d0, s1, d1 in merges[i + 1:]:
            if s0 > r1:
                break
            if d0 <= c1 and c0 <= d1:
                first = f"{get_column_letter(c0)}{r0}:{get_column_letter(c1)}{r1}"
                second = f"{get_column_letter(d0)}{s0}:{get_column_letter(d1)}{s1}"
                raise FormRefused(
                    "OVERLAPPING_MERGES", f"合并单元格 {first} 与 {second} 重叠，表格已损坏：请在 Excel 或 WPS 中取消这两处合并、重新合并后再上传"
                )


def _width(sheet: Any, index: int) -> float | None:
    for dimension in sheet.column_dimensions.values():
        if dimension.min and dimension.max and dimension.min <= index <= dimension.max and dimension.customWidth:
            return round(float(dimension.width), 2)
    return None


def _print_rows(given: str | None, top: int, bottom: int) -> str:
    found = re.fullmatch(r"\$?(\d+):\$?(\d+)", given or "")
    return f"{found[1]}:{found[2]}" if found and int(found[2]) <= bottom else f"{top}:{bottom}"


# --- the proposal ----------------------------------------------------------------------------


@dataclass
class Proposal:
    form: Form
    report: MatchReport
    definition: str  # the template's YAML, for review and saveTemplate
    request_columns: list[dict[str, Any]]  # unmatched columns as fileRequest columns defining new indicators


def propose(
    form: Form, full: GraphQLSchema, view: GraphQLSchema, masked: set[str], department: str, template_id: str,
    mappings: tuple[ColumnMapping, ...] = (),
) -> Proposal:
    """Match the form's columns in the department's view, apply the reviewer's mappings and write the template;
    refuses when nothing can be bound or a mapping names no column or no field of the view."""
    report = match_columns(form.columns, full, view, masked)
    if report.entity is not None and mappings:
        report = _reviewed(report, mappings, view, masked)
    bound = [c for c in report.columns if c.status in (MATCHED, COMPUTED) and c.path]
    if not bound:
        refused = [c for c in report.columns if c.status == NOT_GRANTED]
        if refused:
            names = "、".join(f"{c.label}（{c.ref}）" for c in refused)
            raise FormRefused(
                "ONLY_NOT_GRANTED",
                f"表中能对应数据中心的栏目 {names} 本部门均未获授权读取，无法生成表样，什么也没有保存：请先向数据中心申请授权",
            )
        raise FormRefused("NOTHING_MATCHED", "表中没有一栏能对应数据中心的字段，无法生成表样：可改为发起填报任务，由村（社区）填报")
    if view.query_type.fields.get(report.entity) is None:
        raise FormRefused("ONLY_NOT_GRANTED", f"本部门未获授权读取{report.entity_label}的名单，无法生成表样，什么也没有保存：请先向数据中心申请授权")
    definition = _definition(form, report, view, department, template_id)
    return Proposal(form, report, definition, _request_columns(report, template_id))


def _column_of(report: MatchReport, mapping: ColumnMapping) -> ColumnMatch:
    if (mapping.column is None) == (mapping.header is None):
        raise FormRefused("INVALID_MAPPING", f"对应关系“{mapping.to}”须指明第几栏（column）或栏目名称（header），二者选一", "mappings")
    if mapping.column is not None:
        if not 1 <= mapping.column <= len(report.columns):
            raise FormRefused("UNKNOWN_COLUMN", f"表样共 {len(report.columns)} 栏，没有第 {mapping.column} 栏", "mappings")
        return report.columns[mapping.column - 1]
    named = [c for c in report.columns if mapping.header in (c.header, c.label)]
    if not named:
        raise FormRefused(
            "UNKNOWN_COLUMN", f"表样中没有栏目“{mapping.header}”：按对应报告填写栏目名称，多级表头用 / 连接，如“保障情况/月保障金”", "mappings"
        )
    if len(named) > 1:
        places = "、".join(str(c.index) for c in named)
        raise FormRefused("UNKNOWN_COLUMN", f"栏目“{mapping.header}”有 {len(named)} 栏（第 {places} 栏）：请用第几栏（column）指明", "mappings")
    return named[0]


def _reviewed(report: MatchReport, mappings: tuple[ColumnMapping, ...], view: GraphQLSchema, masked: set[str]) -> MatchReport:
    """The report with the reviewer's choices. A path outside the view is refused with one message whether the
    hub holds it or not: what another department may read is not told by trying paths."""
    columns = list(report.columns)
    done: set[int] = set()
    for mapping in mappings:
        column = _column_of(report, mapping)
        if column.index in done:
            raise FormRefused("DUPLICATE_MAPPING", f"第 {column.index} 栏“{column.header}”指定了两次", "mappings")
        done.add(column.index)
        chosen = reviewed(column, mapping.to.strip(), view, report.entity, masked)
        if chosen is None:
            raise FormRefused(
                "UNKNOWN_PATH",
                f"第 {column.index} 栏“{column.header}”：本部门可读的{report.entity_label}字段中没有“{mapping.to}”；"
                "请填字段路径（如 head.idNumber），或 open 留作填报列，或 indicator 作为填报任务的新指标",
                "mappings",
            )
        columns[column.index - 1] = chosen
    return MatchReport(report.entity, columns)


def _q(text: Any) -> str:
    """A YAML scalar: JSON's quoting is valid YAML and says exactly what the text is."""
    return json.dumps(text, ensure_ascii=False)


def _selection(paths: list[tuple[str, ...]]) -> str:
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        for name in path:
            node = node.setdefault(name, {})

    def text(node: dict[str, Any]) -> str:
        return " ".join(name if not sub else f"{name} {{ {text(sub)} }}" for name, sub in node.items())

    return text(tree)


def _definition(form: Form, report: MatchReport, view: GraphQLSchema, department: str, template_id: str) -> str:
    entity = report.entity
    arguments = view.query_type.fields[entity].args
    region_argument = "parentCode" if entity == "regions" else "regionCode"
    filters = [f"{region_argument}: $region"] + (["level: VILLAGE"] if entity == "regions" else [])
    for rule in vocabulary().title_filters:
        if rule["entity"] == entity and rule["word"] in form.title and rule["argument"] in arguments:
            value = rule["value"]
            filters.append(f"{rule['argument']}: {'true' if value is True else value}")
    paths = [tuple(c.path.split(".")) for c in report.columns if c.path and c.status in (MATCHED, COMPUTED)]
    numbers = {"Int", "Float"}
    subtotals = [
        c.path for c in report.columns
        if form.total_row and c.status == MATCHED and c.kind in numbers and c.value is None and c.path.split(".")[-1] != "age"
        and ("(" in normalise_keep_units(c.label) or "(" in normalise_keep_units(c.field_label or "") or (c.field_label or "").endswith("数"))
    ]
    label = "乡镇（街道）统计用区划代码" if entity == "regions" else "村（社区）或乡镇（街道）统计用区划代码"
    lines = [
        f"id: {template_id}",
        f"title: {_q(form.title)}",
        f"department: {department}",
        f"description: {_q('由部门上传的空白表样生成：' + form.title)}",
        "query: |",
        "  query Onboarded($region: String!, $first: Int, $after: String) {",
        f"    {entity}({', '.join(filters)}, first: $first, after: $after) {{",
        "      pageInfo { hasNextPage endCursor }",
        f"      nodes {{ {_selection(paths)} }}",
        "    }",
        "  }",
        f"rows: {entity}",
        "variables:",
        "  region:",
        f"    label: {_q(label)}",
        "page:",
        f"  paper: {form.paper}",
        f"  orientation: {form.orientation}",
        f"  fit_to_width: {'true' if form.fit_to_width else 'false'}",
        f"signature: {'false' if form.signed else 'true'}",
    ]
    if subtotals:
        lines.append(f"subtotals: [{', '.join(subtotals)}]   # 合计 row, as the paper form has one")
    lines.append("columns:")
    for column, match, width in zip(form.columns, report.columns, form.widths, strict=True):
        lines.append(f"  - header: [{', '.join(_q(level) for level in column.levels) or _q('')}]   # {match.status}: {match.message}")
        if match.status in (MATCHED, COMPUTED) and match.path:
            lines.append(f"    path: {match.path}")
        if match.value:
            lines.append(f"    value: {match.value}")
        if match.status in (AMBIGUOUS, UNMATCHED, NOT_GRANTED) or match.open:
            lines.append("    fill: true")
        if width:
            lines.append(f"    width: {width:g}")
        if match.kind == "Float":
            lines.append('    number_format: "#,##0.00"')
    lines.append("layout:   # the paper form's own rows above and below the data, as its blank has them")
    lines.append("  rows:")
    lines += [f"    - [{', '.join('~' if t is None else _q(t) for t in row)}]" for row in form.rows]
    lines.append(f"  heights: [{', '.join('~' if h is None else f'{h:g}' for h in form.heights)}]")
    lines.append(f"  merges: [{', '.join(form.merges)}]")
    lines.append(f"  header_top: {form.header_top}")
    lines.append(f"  print_rows: \"{form.print_rows}\"")
    lines.append("  fonts:")
    lines += [f"    {role}: [{_q(name)}, {size:g}, {'true' if bold else 'false'}]" for role, (name, size, bold) in form.fonts.items()]
    if form.footer:
        lines.append("  footer:")
        lines += [f"    - [{', '.join('~' if t is None else _q(t) for t in row)}]" for row in form.footer]
        lines.append(f"  footer_merges: [{', '.join(form.footer_merges)}]")
    return "\n".join(lines) + "\n"


def normalise_keep_units(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "")


def _request_columns(report: MatchReport, template_id: str) -> list[dict[str, Any]]:
    """Unmatched columns as `fileRequest` columns, each defining a new indicator for the villages to fill
    (the analyst adds the legal basis, checks the type, and files the request)."""
    entity = ENTITIES[report.entity][2] if report.entity else None
    columns = []
    for c in report.columns:
        if not c.indicator:
            continue
        unit = re.search(r"\(([^()]*)\)$", normalise_keep_units(c.label))
        money = unit is not None and "元" in unit[1]
        columns.append({"define": {
            "key": f"{template_id.replace('-', '_')}_c{c.index}"[:64],
            "label": normalise(c.label),
            "entity": entity,
            "type": "DECIMAL" if money else "TEXT",
            "unit": unit[1] if unit else None,
            "maxLength": None if money else 200,
            "legalBasis": "",
        }})
    return columns


def masked_fields(policy: Any, department: str) -> set[str]:
    """The `Type.field`s the department reads masked (an ID number as 350304********1234)."""
    return {f"{t}.{f}" for t, fields in policy.department_visibility(department).items() for f, mode in fields.items() if mode.value == "masked"}


TEMPLATE_ID = re.compile(r"^[a-z][a-z0-9-]{1,63}$")


def propose_from_upload(
    data: bytes, full: GraphQLSchema, view: GraphQLSchema, policy: Any, department: str, template_id: str,
    mappings: tuple[ColumnMapping, ...] = (),
) -> Proposal:
    """Read and match an uploaded blank (in a worker thread: it parses); raises `FormRefused` or `SheetRefused`."""
    if not TEMPLATE_ID.match(template_id):
        raise FormRefused("INVALID_ID", f"表样编号“{template_id}”不合规：用 2 到 64 个小写字母、数字和“-”，以字母开头，如 minzheng-dibao")
    return propose(read_form(data), full, view, masked_fields(policy, department), department, template_id, mappings)


async def onboard(
    store: TemplateStore, policy: Any, caller: Caller, data: bytes, template_id: str,
    mappings: tuple[ColumnMapping, ...] = (), save: bool = False, version: int | None = None,
) -> tuple[Proposal, Template | None, list[Problem]]:
    """The one way in, over GraphQL and from the command line: the caller's department's upload, matched in its
    view and reviewed; with `save`, stored as the department's template (versioned, as `saveTemplate` does).
    Raises `FormRefused` or `SheetRefused`: nothing is saved."""
    department = caller.department
    if department is None or department not in store.departments:
        raise FormRefused("FORBIDDEN", "只有部门的分析员可以导入本部门的表样")
    if len(data) > MAX_FORM_BYTES:
        raise FormRefused("FILE_TOO_LARGE", f"表样文件超过 {MAX_FORM_BYTES // 1024} KB：空白表样只需标题、表头和表尾")
    proposal = await off_loop(
        propose_from_upload, data, store.full, store.departments[department], policy, department, template_id, mappings
    )
    if not save:
        return proposal, None, []
    template, problems = await store.save(caller, proposal.definition, version)
    return proposal, template, problems

