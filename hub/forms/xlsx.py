"""Writing a template's rows into an xlsx in the department's paper format, as a stream.

The sheet goes straight into the zip entry of the file being sent (an xlsx is a
zip, and a zip can be written front to back), so compressed bytes leave page by
page: memory stays flat however many rows there are, and the download starts
before the last row is read. openpyxl builds the workbook, the styles and the
sheet's parts before and after the rows (views, columns, merges, page setup);
the rows themselves are written here as XML text, since building an element per
cell was most of an export's time. The small parts (styles, workbook, content
types) follow the sheet at the end.

Layout: merged title and subtitle, merged multi-level headers, borders, wrapped
headers, frozen header rows repeated on every printed page, paper size and
orientation, margins, page numbers, optional village subtotals, and the
signature lines in the page footer.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments.comment_sheet import CommentRecord
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.page import PageMargins
from openpyxl.writer.excel import ExcelWriter
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import tostring

from hub.forms.templates import PAPERS, Column, Layout, Template

THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
TITLE_FONT = Font(name="宋体", size=16, bold=True)
HEADER_FONT = Font(name="宋体", size=11, bold=True)
BODY_FONT = Font(name="宋体", size=10)
HEADER_FILL = PatternFill("solid", fgColor="F2F2F2")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center")
SIGNATURE = ("填报单位（盖章）：", "填报人：", "审核人：", "填报日期：")
SIGNATURE_GAP = " " * 24  # room to sign after each label
UNLOCKED = Protection(locked=False)
OPEN_FILL = PatternFill("solid", fgColor="FFF2CC")  # a fill sheet's open columns, header and cells: light yellow
OPEN_NOTE = "填报列：请在本列填写，其他列已锁定"
KEY_HEADER = "__key__:"  # the fill sheet's hidden key column starts with this, then the template id
BOOLEAN = {True: "是", False: "否"}


def values_at(node: Any, path: tuple[str, ...]) -> tuple[list[Any], bool]:
    """The values at a dot path, and whether the path went through a list."""
    values, through_list = [node], False
    for name in path:
        next_values = []
        for value in values:
            item = value.get(name) if isinstance(value, dict) else None
            through_list |= isinstance(item, list)
            next_values.extend(item if isinstance(item, list) else [item])
        values = next_values
    return values, through_list


def value_at(node: Any, path: tuple[str, ...]) -> Any:
    values, _ = values_at(node, path)
    return values[0] if len(values) == 1 else None


def text_width(text: str) -> int:
    """Width in Excel's character units: CJK and full-width characters take two."""
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)


def lines_needed(value: Any, width: float) -> int:
    if value is None:
        return 1
    usable = max(1.0, width - 1)
    return sum(max(1, -(-text_width(part) // int(usable))) for part in str(value).split("\n"))


DEFAULT_WIDTH = 8.43  # Excel's width of a column nobody widened
LINE_HEIGHT = 14  # points per line of 10–11 pt text
WRITABLE_ROW = 26  # points: a row of a form with blank columns, tall enough to write in by hand


def break_before_bracket(text: str, width: float) -> str:
    """A header too wide for its column breaks before its unit bracket, never inside it:
    家庭月人均收入（元） prints as 家庭月人均收入 / （元）."""
    head, bracket, unit = text.rpartition("（")
    if not bracket or not head or lines_needed(text, width) == 1 or "\n" in text:
        return text
    return f"{head}\n（{unit}"


def _age(born: str | None, today: dt.date) -> int | None:
    if not born:
        return None
    birth = dt.date.fromisoformat(born)
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


class Chunks:
    """A write-only, unseekable file: what zipfile writes waits here until `take()`."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class _SheetAlreadyWritten(ExcelWriter):
    """openpyxl's package writer, minus copying the sheet: it went into the archive as it was written."""

    def write_worksheet(self, ws) -> None:
        ws._drawing = SpreadsheetDrawing()
        ws._rels = ws._writer._rels
        self.manifest.append(ws)


class _SheetParts(WorksheetWriter):
    """openpyxl's worksheet writer, its parts serialised straight into the zip entry.

    `write_top()` writes what goes before the rows, `write_tail()` what goes after;
    the rows in between are `SheetWriter`'s.
    """

    def get_stream(self):
        self.out.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{SHEET_MAIN_NS}">'.encode())
        try:
            while True:
                element = yield
                if element is not None:
                    self.out.write(tostring(element))
        except GeneratorExit:
            self.out.write(b"</worksheet>")


_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")  # control characters XML 1.0 cannot carry
MAX_CELL_TEXT = 32767  # characters a spreadsheet cell holds


def cell_text(value: str) -> str:
    """Text as a cell keeps it: cut to a cell's size, without the characters XML cannot carry."""
    text = value[:MAX_CELL_TEXT]
    return _NOT_IN_XML.sub("", text) if _NOT_IN_XML.search(text) else text


def shown_value(column: Column, node: dict, today: dt.date) -> Any:
    """A path column's value in a row, as the sheet shows it (labels, 是/否, dates, joined lists)."""
    values, through_list = values_at(node, column.path)
    if column.value == "age":
        return _age(values[0], today)
    shown = [_shown(column, v) for v in values if v is not None]
    if through_list:  # every member's value, each in its own words, joined
        return column.join.join(str(v) for v in shown) if shown else None
    return shown[0] if shown else None


def _shown(column: Column, raw: Any) -> Any:
    if column.kind == "enum":
        return column.labels.get(raw, raw)
    if column.kind == "boolean":
        return BOOLEAN.get(raw, raw)
    if column.kind == "date" and isinstance(raw, str) and len(raw) == 10:
        return dt.date.fromisoformat(raw)
    return raw


def sheet_title(title: str) -> str:
    """A template's title as Excel takes a sheet's name: at most 31 characters, none of []:*?/\\, no quote at either
    end (a title such as “2024/2025年低保名册”, typed on a blank, would otherwise fail every export)."""
    cleaned = re.sub(r"[\[\]:*?/\\]", "-", title).strip("'")[:31].strip("'")
    return cleaned or "Sheet1"


def cell_xml(reference: str, value: Any, style: int) -> str:
    """One cell as SpreadsheetML, as openpyxl writes it: text inline (never a formula, whatever it
    starts with), numbers as numbers, dates as serial numbers (their style gives the format)."""
    styled = f' s="{style}"' if style else ""
    if value is None or value == "":
        return f'<c r="{reference}"{styled}/>' if style else ""
    if isinstance(value, str):
        text = cell_text(value)
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        space = ' xml:space="preserve"' if text != text.strip() else ""
        return f'<c r="{reference}"{styled} t="inlineStr"><is><t{space}>{text}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{reference}"{styled} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float, Decimal)):
        if isinstance(value, float) and not math.isfinite(value):
            return f'<c r="{reference}"{styled}/>' if style else ""
        return f'<c r="{reference}"{styled} t="n"><v>{value:.16g}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{reference}"{styled} t="n"><v>{to_excel(value):.16g}</v></c>'
    return cell_xml(reference, str(value), style)


class SheetWriter:
    def __init__(
        self, template: Template, unit: str, today: dt.date, fill_key: Callable[[dict], str | None] | None = None,
        region: str | None = None,
    ) -> None:
        """`fill_key` makes a fill sheet: protected, only fill columns open, a hidden key column last.
        `region` is the name of the region the form covers."""
        self.template = template
        self.today = today
        self.fill_key = fill_key
        self.out = Chunks()
        self.archive = zipfile.ZipFile(self.out, "w", zipfile.ZIP_DEFLATED)
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet(title=sheet_title(template.title))
        self.sheet._id = 1
        self.entry = self.archive.open(self.sheet.path[1:], "w")
        self.parts = _SheetParts(self.sheet, out=self.entry)
        self.sheet._writer = self.parts  # the package writer takes the sheet's relationships from it
        self._pending: list[str] = []  # rows' XML not yet in the zip entry
        self._pending_size = 0
        self._finished = False
        self.columns = template.columns
        # The key column of a fill sheet is one more than the template's.
        self._letters = [get_column_letter(i) for i in range(1, len(template.columns) + 2)]
        self.levels = max(len(c.headers) for c in self.columns)
        self.row = 0
        self.number = 0
        self.totals: dict[tuple[str, ...], float] = {p: 0 for p in template.subtotals}
        self._groups: dict[str, list[dict]] = {}
        self._styles: dict[tuple, int] = {}  # style combination -> its index in the workbook, see `_cell`
        body = template.layout.font("body") if template.layout is not None else None
        self._body_font = Font(name=body[0], size=body[1], bold=body[2]) if body else BODY_FONT
        self._body_styles = [self._body_style(c) for c in self.columns]
        # Wide enough for a short header on one line; long headers wrap.
        self.widths = [
            max(c.width or 0, text_width(c.headers[-1]) + 3 if text_width(c.headers[-1]) <= 16 else 8, 4) for c in self.columns
        ] if template.layout is None else [c.width or DEFAULT_WIDTH for c in self.columns]  # a paper form's own widths, as they are
        # Blank columns are filled in by hand on the printed form: its rows need room to write.
        self._writable = WRITABLE_ROW if any(c.path is None and c.value is None for c in self.columns) else None
        self._set_up(unit, region)

    # --- layout before the first row: widths, freeze, print titles, page setup -------------

    def _set_up(self, unit: str, region: str | None) -> None:
        sheet, template, width = self.sheet, self.template, len(self.columns)
        for index, column_width in enumerate(self.widths, 1):
            sheet.column_dimensions[get_column_letter(index)].width = column_width
        if self.fill_key is not None:
            sheet.column_dimensions[get_column_letter(width + 1)].hidden = True
            sheet.protection.sheet = True  # only the fill columns' cells are unlocked
            sheet.protection.formatColumns = False  # cadres may still widen columns
        layout = template.layout
        first_header = 3 if layout is None else layout.header_top
        last_header = first_header + self.levels - 1 if layout is None else len(layout.rows)
        sheet.freeze_panes = f"A{last_header + 1}"
        sheet.print_title_rows = f"{first_header}:{last_header}" if layout is None else layout.print_rows
        sheet.page_setup.paperSize = PAPERS[template.paper]
        sheet.page_setup.orientation = template.orientation
        if template.fit_to_width:
            sheet.sheet_properties.pageSetUpPr.fitToPage = True
            sheet.page_setup.fitToWidth = 1
            sheet.page_setup.fitToHeight = 0
        sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.6, bottom=0.7, header=0.3, footer=0.3)
        sheet.print_options.horizontalCentered = True
        for footer in (sheet.oddFooter, sheet.evenFooter):
            footer.center.text = "第 &P 页 共 &N 页"
            if template.signature:
                # In the footer, the signature lines print on every page, with its rows: never alone on
                # a last page (where a row after the table would go when the rows end at a page's foot).
                footer.left.text, footer.right.text = (
                    f"{SIGNATURE[0]}{SIGNATURE_GAP}{SIGNATURE[1]}{SIGNATURE_GAP}", f"{SIGNATURE[2]}{SIGNATURE_GAP}{SIGNATURE[3]}{SIGNATURE_GAP}"
                )
        # Widths and frozen panes go before the rows, so they are set above.
        self.parts.write_top()
        self.entry.write(b"<sheetData>")
        if layout is not None:
            self._paper_form_rows(layout)
            return

        self._append([self._cell(template.title, TITLE_FONT, CENTER)], height=32)
        self._merge(1, 1, 1, width)
        # As a paper form has it: whose figures these are, then who printed them and when.
        covers = f"填报单位（地区）：{region}        " if region else ""
        subtitle = f"{covers}导出单位：{unit}        导出日期：{self.today.year}年{self.today.month}月{self.today.day}日"
        self._append([self._cell(subtitle, BODY_FONT, Alignment(horizontal="left", vertical="center"))], height=20)
        self._merge(2, 1, 2, width)
        for level in range(self.levels):
            cells, lines = [], 1
            for index, (column, width) in enumerate(zip(self.columns, self.widths, strict=True), 1):
                text = column.headers[level] if level < len(column.headers) else None
                is_open = self.fill_key is not None and column.fill
                if is_open and level == len(column.headers) - 1:  # the column's own header says it is to be filled
                    self._note(f"{get_column_letter(index)}{first_header + level}", OPEN_NOTE)
                if text is not None and len(column.headers) == level + 1:  # group headers span wider
                    text = break_before_bracket(text, width * 0.9)  # bold text runs wider
                    lines = max(lines, lines_needed(text, width * 0.9))
                cells.append(self._cell(text, HEADER_FONT, CENTER, BORDER, OPEN_FILL if is_open else HEADER_FILL))
            if self.fill_key is not None and level == 0:
                cells.append(self._cell(f"{KEY_HEADER}{template.id}", BODY_FONT))
            self._append(cells, height=max(24, lines * LINE_HEIGHT + 6))
        self._merge_headers(first_header)

    def _paper_form_rows(self, layout: Layout) -> None:
        """An onboarded form's own rows above the data, cell for cell: texts, merges, heights, fonts."""
        # Kept on the writer: styles are cached by the objects' ids, which must not be reused while it writes.
        fonts = self._layout_fonts = {role: Font(name=f[0], size=f[1], bold=f[2]) for role in ("title", "header") if (f := layout.font(role))}
        title_row = next((i for i, row in enumerate(layout.rows[: layout.header_top - 1], 1) if any(row)), None)
        open_notes = {}
        if self.fill_key is not None:  # each open column's note on its lowest header cell (the top-left of a merge)
            merges = [range_boundaries(m) for m in layout.merges]
            for index, column in enumerate(self.columns, 1):
                if column.fill:
                    row = len(layout.rows)
                    anchor = next(((r0, c0) for c0, r0, c1, r1 in merges if r0 <= row <= r1 and c0 <= index <= c1), (row, index))
                    open_notes[anchor] = True
        for number, (row, height) in enumerate(zip(layout.rows, layout.heights, strict=True), 1):
            cells = []
            for index, text in enumerate(row, 1):
                if number == title_row:
                    cells.append(self._cell(text, fonts.get("title", TITLE_FONT), CENTER))
                elif number < layout.header_top:
                    cells.append(self._cell(text, self._body_font, LEFT))
                else:
                    is_open = self.fill_key is not None and self.columns[index - 1].fill
                    if (number, index) in open_notes:
                        self._note(f"{get_column_letter(index)}{number}", OPEN_NOTE)
                    cells.append(self._cell(text, fonts.get("header", HEADER_FONT), CENTER, BORDER, OPEN_FILL if is_open else None))
            if self.fill_key is not None and number == layout.header_top:
                cells.append(self._cell(f"{KEY_HEADER}{self.template.id}", BODY_FONT))
            self._append(cells, height=height)
        for merged in layout.merges:
            self.sheet.merged_cells.add(merged)

    def _paper_form_footer(self, layout: Layout) -> None:
        top = self.row
        for row in layout.footer:
            self._append([self._cell(text, self._body_font, LEFT) for text in row])
        for merged in layout.footer_merges:
            first_column, first_row, last_column, last_row = range_boundaries(merged)
            self._merge(top + first_row, first_column, top + last_row, last_column)

    def _merge_headers(self, top: int) -> None:
        columns = self.columns
        for index, column in enumerate(columns, 1):  # a shorter header spans down to the last header row
            depth = len(column.headers)
            if depth < self.levels:
                self._merge(top + depth - 1, index, top + self.levels - 1, index)
        for level in range(self.levels):  # a group header over its columns merges across
            start = 0
            while start < len(columns):
                end = start
                if len(columns[start].headers) > level + 1:
                    key = columns[start].headers[: level + 1]
                    while (
                        end + 1 < len(columns)
                        and len(columns[end + 1].headers) > level + 1
                        and columns[end + 1].headers[: level + 1] == key
                    ):
                        end += 1
                self._merge(top + level, start + 1, top + level, end + 1)
                start = end + 1

    # --- rows --------------------------------------------------------------------------

    def add_nodes(self, nodes: Iterable[dict]) -> None:
        if self.template.group_by is None:
            for node in nodes:
                self._data_row(node)
            return
        # A group's rows must sit together: they are held until the end, in the order
        # their groups first appear (per-town forms are small).
        for node in nodes:
            self._groups.setdefault(str(value_at(node, self.template.group_by) or ""), []).append(node)

    def take(self) -> bytes:
        """The compressed bytes written since the last call: send them."""
        self._flush()
        return self.out.take()

    def finish(self) -> bytes:
        """Write what remains (groups, totals, signature, the package's other parts); return the last bytes."""
        template = self.template
        for group, nodes in self._groups.items():
            self.number = 0
            group_totals = {p: 0 for p in template.subtotals}
            for node in nodes:
                for p in template.subtotals:
                    group_totals[p] += value_at(node, p) or 0
                self._data_row(node)
            self._total_row(f"{group} 小计", group_totals)
        if template.subtotals:
            self._total_row("合计", self.totals)
        if template.layout is not None:
            self._paper_form_footer(template.layout)
        self._flush()
        self.entry.write(b"</sheetData>")
        self.parts.write_tail()  # merges, protection, print options, margins, page setup, footer
        self.parts.close()
        self.entry.close()
        self._finished = True
        _SheetAlreadyWritten(self.workbook, self.archive).save()
        return self.out.take()

    def close(self) -> None:
        """Let go of a half-written file when the export stops early (after `finish` it does nothing)."""
        if not self._finished:
            self._finished = True
            self.parts.close()
            self.entry.close()
            self.archive.close()

    def _data_row(self, node: dict) -> None:
        self.number += 1
        for p in self.template.subtotals:
            self.totals[p] += value_at(node, p) or 0
        values = [self._value(column, node) for column in self.columns]
        cells = [self._cell(value, *style) for value, style in zip(values, self._body_styles, strict=True)]
        if self.fill_key is not None:
            cells = [
                self._cell(value, *style[:3], OPEN_FILL, *style[4:], protection=UNLOCKED) if column.fill else cell
                for cell, value, style, column in zip(cells, values, self._body_styles, self.columns, strict=True)
            ]
            cells.append(self._cell(self.fill_key(node), BODY_FONT))
        # Rows do not grow by themselves in every spreadsheet program: give wrapped text its height.
        lines = max(
            (lines_needed(v, w) for c, v, w in zip(self.columns, values, self.widths, strict=True) if c.wrap and v is not None),
            default=1,
        )
        wrapped = lines * LINE_HEIGHT + 4 if lines > 1 else None
        self._append(cells, height=max(filter(None, (wrapped, self._writable)), default=None))

    def _value(self, column: Column, node: dict) -> Any:
        if column.value == "row_number":
            return self.number
        if column.path is None:
            return None  # a blank column to fill in
        return shown_value(column, node, self.today)

    def _total_row(self, label: str, totals: dict[tuple[str, ...], float]) -> None:
        font = Font(name="宋体", size=10, bold=True)
        cells = []
        for index, (column, style) in enumerate(zip(self.columns, self._body_styles, strict=True)):
            value = label if index == 0 else totals.get(column.path) if column.path in totals else None
            cells.append(self._cell(value, font, *style[1:]))
        self._append(cells)
        # The label spans the columns before the first total, so it is readable in a narrow 序号 column.
        first_total = next((i for i, c in enumerate(self.columns) if c.path in totals), len(self.columns))
        self._merge(self.row, 1, self.row, max(1, first_total))

    # --- cells -------------------------------------------------------------------------

    def _body_style(self, column: Column) -> tuple:
        align = Alignment(vertical="center", wrap_text=column.wrap, horizontal="center" if column.value == "row_number" else None)
        number_format = column.number_format or ("yyyy-mm-dd" if column.kind == "date" else None)
        return self._body_font, align, BORDER, None, number_format

    def _cell(self, value: Any, font: Font, alignment: Alignment | None = None, border: Border | None = None,
              fill: PatternFill | None = None, number_format: str | None = None,
              protection: Protection | None = None) -> tuple[Any, int]:
        """A cell for `_append`: its value and the index of its style in the workbook.

        Each combination of style objects is registered with the workbook once (openpyxl
        otherwise hashes the style on every cell).
        """
        key = (id(font), id(alignment), id(border), id(fill), number_format, id(protection))
        style = self._styles.get(key)
        if style is None:
            cell = WriteOnlyCell(self.sheet)
            for name, part in (("font", font), ("alignment", alignment), ("border", border), ("fill", fill),
                               ("number_format", number_format), ("protection", protection)):
                if part is not None:
                    setattr(cell, name, part)
            style = self._styles[key] = cell.style_id if cell.has_style else 0
        return value, style

    def _note(self, reference: str, text: str) -> None:
        """A comment on a cell; openpyxl writes the comments' parts with the package."""
        note = CommentRecord(ref=reference, author="一张表")
        note.text.t = text
        self.sheet._comments.append(note)

    def _append(self, cells: list[tuple[Any, int]], height: float | None = None) -> None:
        self.row += 1
        row = self.row
        xml = "".join(cell_xml(f"{letter}{row}", value, style) for letter, (value, style) in zip(self._letters, cells, strict=False))
        custom = f' ht="{height:g}" customHeight="1"' if height is not None else ""
        self._pending.append(f'<row r="{row}"{custom}>{xml}</row>')
        self._pending_size += len(xml)
        if self._pending_size > 1 << 16:  # write to the zip entry in blocks, not row by row
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self.entry.write("".join(self._pending).encode())
            self._pending.clear()
            self._pending_size = 0

    def _merge(self, first_row: int, first_column: int, last_row: int, last_column: int) -> None:
        if (first_row, first_column) != (last_row, last_column):
            self.sheet.merged_cells.add(f"{get_column_letter(first_column)}{first_row}:{get_column_letter(last_column)}{last_row}")
