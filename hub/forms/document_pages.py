"""A workbook's sheets and a Word document's text as pages of pictures, drawn on the server.

A viewer sees every kind of document the same way: page images stamped with who is looking
(`document_files.watermarked`), never the file's own markup. A sheet is cut as Excel prints
it — its first row repeated as the header on every page, `ROWS_PER_PAGE` rows a page, and
when it is too wide for one page, bands of columns (down, then over); row numbers on the
left so a page can be matched with the rows GraphQL answers. A Word document's headings,
paragraphs and tables are wrapped and laid out on A4 pages.

The layout of a file depends only on its preview (stored by content), so it is made once
and kept for a few files (`layout_of`); drawing one page is then a few milliseconds.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from PIL import Image, ImageDraw

from hub.data.blobs import BlobStore
from hub.data.models import DocumentKind
from hub.forms.document_files import font, png, watermarked
from hub.forms.untrusted_xlsx import off_loop

PAGE_SIZE = (1240, 1754)  # A4 at 150 dpi, as a PDF page is rendered
MARGIN = 90
ROWS_PER_PAGE = 40
ROW_HEIGHT = 34
TABLE_FONT = 18
COLUMN_MIN, COLUMN_MAX = 48, 420  # pixels: a long cell is cut with “…”, the whole text stays in GraphQL
WIDTH_SAMPLE = 200  # rows measured for a column's width: enough for a ledger, bounded for a huge one
BODY_FONT = 26
HEADING_FONTS = {1: 44, 2: 36, 3: 31}
GRID = (150, 150, 150)
HEADER_FILL = (232, 236, 242)
NUMBERS_FILL = (245, 245, 245)
INK = (20, 20, 20)
FAINT = (110, 110, 110)


def cell_text(value: Any) -> str | None:
    """A cell as people read it: whole numbers without “.0”, 是/否 for true/false, dates as ISO text."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


Draw = Callable[[ImageDraw.ImageDraw], None]


@dataclass
class Layout:
    """A file cut into pages: how to draw each, and what the read log says was seen."""

    pages: list[Draw] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    sheet_pages: dict[int, list[int]] = field(default_factory=dict)  # sheet index -> its page numbers (from 1)

    def add(self, draw: Draw, part: str) -> int:
        self.pages.append(draw)
        self.parts.append(part)
        return len(self.pages)


def lay_out(kind: DocumentKind, preview: dict[str, Any]) -> Layout:
    """Pages of a workbook or a Word document, from its preview. Blocking."""
    layout = Layout()
    if kind is DocumentKind.XLSX:
        for index, sheet in enumerate(preview.get("sheets", [])):
            layout.sheet_pages[index] = _sheet_pages(layout, sheet)
    else:
        _document_pages(layout, preview.get("blocks", []))
    total = len(layout.pages)
    layout.pages = [_with_footer(draw, number, total) for number, draw in enumerate(layout.pages, 1)]
    return layout


def _with_footer(draw: Draw, number: int, total: int) -> Draw:
    def drawn(canvas: ImageDraw.ImageDraw) -> None:
        draw(canvas)
        canvas.text((PAGE_SIZE[0] // 2, PAGE_SIZE[1] - MARGIN // 2), f"第 {number} 页 / 共 {total} 页", font=font(18), fill=FAINT, anchor="mm")

    return drawn


def render(layout: Layout, number: int, watermark: str) -> bytes:
    """Page `number` (from 1) drawn, stamped with `watermark`, as PNG. Blocking."""
    image = Image.new("RGB", PAGE_SIZE, "white")
    layout.pages[number - 1](ImageDraw.Draw(image))
    return png(watermarked(image, watermark))


# --- a sheet: header row repeated, rows page by page, bands of columns ---


def _fit(text: str, width: int, face: Any) -> str:
    """The text cut to `width` pixels, ending in “…” when cut."""
    text = " ".join(text.split())
    if face.getlength(text) <= width:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits with the ellipsis
        middle = (low + high + 1) // 2
        if face.getlength(text[:middle] + "…") <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low] + "…"


def _widths(rows: list[list[Any]], columns: int) -> list[int]:
    face, bold = font(TABLE_FONT), font(TABLE_FONT, bold=True)
    widths = [COLUMN_MIN] * columns
    for number, row in enumerate(rows[: WIDTH_SAMPLE + 1]):
        for index, value in enumerate(row):
            text = cell_text(value)
            if text:
                measured = math.ceil((bold if number == 0 else face).getlength(" ".join(text.split()))) + 17
                widths[index] = min(COLUMN_MAX, max(widths[index], measured))
    return widths


def _bands(widths: list[int], room: int) -> list[tuple[int, int]]:
    """Columns in bands [start, end) that each fit `room` pixels (a band holds one column at least)."""
    bands, start, used = [], 0, 0
    for index, width in enumerate(widths):
        if index > start and used + width > room:
            bands.append((start, index))
            start, used = index, 0
        used += width
    bands.append((start, len(widths)))
    return bands


def _sheet_pages(layout: Layout, sheet: dict[str, Any]) -> list[int]:
    rows: list[list[Any]] = sheet["rows"]
    name = sheet["name"]
    columns = max((len(r) for r in rows), default=0)
    if not rows or not columns:
        return [layout.add(lambda canvas: _title(canvas, f"工作表“{name}”", "（空工作表）"), f"工作表“{name}”（空）")]
    widths = _widths(rows, columns)
    numbers_width = int(font(TABLE_FONT).getlength(str(len(rows)))) + 24
    bands = _bands(widths, PAGE_SIZE[0] - 2 * MARGIN - numbers_width)
    body = list(range(1, len(rows))) or [0]  # a sheet of its header row alone shows that row once
    chunks = [body[i: i + ROWS_PER_PAGE] for i in range(0, len(body), ROWS_PER_PAGE)]
    numbers = []
    for band_number, band in enumerate(bands, 1):
        for chunk_number, chunk in enumerate(chunks, 1):
            letters = f"，{column_letters(band[0])}–{column_letters(band[1] - 1)} 列" if len(bands) > 1 else ""
            span = f"第 {chunk[0] + 1}–{chunk[-1] + 1} 行{letters}"
            where = f"第 {(band_number - 1) * len(chunks) + chunk_number}/{len(bands) * len(chunks)} 页 · {span}"
            numbers.append(layout.add(
                _table_page(name, where, rows, chunk, band, widths, numbers_width),
                f"工作表“{name}”{span}",
            ))
    return numbers


def _title(canvas: ImageDraw.ImageDraw, title: str, note: str) -> int:
    canvas.text((MARGIN, MARGIN), title, font=font(26, bold=True), fill=INK)
    canvas.text((MARGIN, MARGIN + 42), note, font=font(18), fill=FAINT)
    return MARGIN + 84


def _table_page(name: str, where: str, rows: list[list[Any]], chunk: list[int], band: tuple[int, int], widths: list[int], numbers_width: int) -> Draw:
    def draw(canvas: ImageDraw.ImageDraw) -> None:
        top = _title(canvas, f"工作表“{name}”", where)
        face, bold = font(TABLE_FONT), font(TABLE_FONT, bold=True)
        shown = ([0] if chunk != [0] else []) + chunk  # the header row on every page
        right = MARGIN + numbers_width + sum(widths[band[0]: band[1]])
        bottom = top + ROW_HEIGHT * len(shown)
        canvas.rectangle((MARGIN, top, MARGIN + numbers_width, bottom), fill=NUMBERS_FILL)
        canvas.rectangle((MARGIN + numbers_width, top, right, top + ROW_HEIGHT), fill=HEADER_FILL)
        for line, index in enumerate(shown):
            y = top + line * ROW_HEIGHT
            middle = y + ROW_HEIGHT // 2
            canvas.text((MARGIN + numbers_width - 8, middle), str(index + 1), font=face, fill=FAINT, anchor="rm")
            x = MARGIN + numbers_width
            values = rows[index]
            for column in range(*band):
                width = widths[column]
                value = values[column] if column < len(values) else None
                text = cell_text(value)
                if text:
                    number = isinstance(value, int | float) and not isinstance(value, bool) and index != 0
                    text = _fit(text, width - 16, bold if index == 0 else face)
                    anchor, at = ("rm", x + width - 8) if number else ("lm", x + 8)
                    canvas.text((at, middle), text, font=bold if index == 0 else face, fill=INK, anchor=anchor)
                x += width
            canvas.line((MARGIN, y, right, y), fill=GRID)
        canvas.line((MARGIN, bottom, right, bottom), fill=GRID)
        x = MARGIN
        for width in [0, numbers_width, *widths[band[0]: band[1]]]:
            x += width
            canvas.line((x, top, x, bottom), fill=GRID)

    return draw


# --- a Word document: headings, paragraphs and tables wrapped onto A4 pages ---

TOKENS = re.compile(r"[A-Za-z0-9_.,:;!?'\"()%/+\-]+|\s|.", re.DOTALL)
CLOSING = set("，。、；：？！）】》」』”’…,.;:?!)")  # never starts a line: it hangs in the margin instead


@functools.lru_cache(maxsize=65_536)
def _length(face: Any, token: str) -> float:
    """A token's width: the same characters come back again and again in a document."""
    return face.getlength(token)


def _wrap(text: str, width: int, face: Any) -> list[str]:
    """Lines of at most `width` pixels: Chinese breaks between any two characters, a Latin word stays whole if it fits.

    Widths are added up token by token (measuring the growing line again each time was
    quadratic: seconds for a long report)."""
    lines: list[str] = []
    for paragraph in text.replace("\t", "    ").split("\n"):
        line, used = "", 0.0
        for token in TOKENS.findall(paragraph):
            size = _length(face, token)
            if used + size <= width or (token in CLOSING and line):
                line, used = line + token, used + size
                continue
            if line.strip():
                lines.append(line.rstrip())
            line, used = ("", 0.0) if token.isspace() else (token, size)
            while used > width:  # a word longer than the line: cut it
                cut = max(1, len(_fit(line, width, face).rstrip("…")))
                lines.append(line[:cut])
                line = line[cut:]
                used = face.getlength(line)
        lines.append(line.rstrip())
    return lines


class _Pages:
    """Blocks placed top to bottom; a new page when the next line does not fit."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.ops: list[Draw] = []
        self.y = MARGIN
        self.count = 0

    def room(self, height: int) -> None:
        if self.y + height > PAGE_SIZE[1] - MARGIN and self.y > MARGIN:
            self.finish()

    def finish(self) -> None:
        ops = self.ops

        def draw(canvas: ImageDraw.ImageDraw) -> None:
            for op in ops:
                op(canvas)

        self.count += 1
        self.layout.add(draw, f"第 {self.count} 页")
        self.ops, self.y = [], MARGIN

    def text(self, x: int, text: str, face: Any, anchor: str = "la") -> None:
        y = self.y
        self.ops.append(lambda canvas: canvas.text((x, y), text, font=face, fill=INK, anchor=anchor))


def _document_pages(layout: Layout, blocks: list[dict[str, Any]]) -> None:
    pages = _Pages(layout)
    width = PAGE_SIZE[0] - 2 * MARGIN
    for block in blocks:
        if block["kind"] == "TABLE":
            _table_block(pages, block.get("rows") or [], width)
            continue
        level = block["level"]
        size = HEADING_FONTS.get(level, 28) if level else BODY_FONT
        face = font(size, bold=bool(level))
        line_height = int(size * 1.6)
        if level:
            pages.room(line_height * 2)  # a heading does not end a page alone
            pages.y += size // 2
        for line in _wrap(block["text"], width, face):
            pages.room(line_height)
            if level == 1:
                pages.text(PAGE_SIZE[0] // 2, line, face, "ma")  # a title is centred, as in a 纪要 or 通知
            else:
                pages.text(MARGIN, line, face)
            pages.y += line_height
        pages.y += size // 2
    if pages.ops or not pages.count:
        pages.finish()


def _table_block(pages: _Pages, rows: list[list[str]], width: int) -> None:
    columns = max((len(r) for r in rows), default=0)
    if not columns:
        return
    face = font(22)
    line_height = 32
    column_width = width // columns
    most_lines = (PAGE_SIZE[1] - 2 * MARGIN) // line_height - 1
    for row in rows:
        cells = [_wrap(row[c] if c < len(row) else "", column_width - 16, face)[:most_lines] for c in range(columns)]
        height = max(len(c) for c in cells) * line_height + 12
        pages.room(height)
        top = pages.y

        def draw(canvas: ImageDraw.ImageDraw, top: int = top, cells: list[list[str]] = cells, height: int = height) -> None:
            canvas.rectangle((MARGIN, top, MARGIN + column_width * columns, top + height), outline=GRID)
            for index, lines in enumerate(cells):
                x = MARGIN + index * column_width
                if index:
                    canvas.line((x, top, x, top + height), fill=GRID)
                for number, line in enumerate(lines):
                    canvas.text((x + 8, top + 6 + number * line_height), line, font=face, fill=INK)

        pages.ops.append(draw)
        pages.y += height
    pages.y += BODY_FONT // 2


# --- layouts kept per preview: content-addressed, so a key's layout never changes ---

_layouts: OrderedDict[str, Layout] = OrderedDict()
_layouts_lock = threading.Lock()
LAYOUTS_KEPT = 8


async def layout_of(store: BlobStore, kind: DocumentKind, preview_key: str) -> Layout:
    with _layouts_lock:
        if preview_key in _layouts:
            _layouts.move_to_end(preview_key)
            return _layouts[preview_key]
    data = await store.get(preview_key)
    made = await off_loop(lambda: lay_out(kind, orjson.loads(data or b"{}")))
    with _layouts_lock:
        _layouts[preview_key] = made
        while len(_layouts) > LAYOUTS_KEPT:
            _layouts.popitem(last=False)
    return made
