"""Reading an xlsx someone sent us (fill sheets, legacy ledgers): bounded before and while it is parsed.

An xlsx is a zip of XML. A few kilobytes can unpack to gigabytes (a sheet of
60 MB of rows, a cell in column XFD that makes every row 16,384 cells wide),
and its XML can declare entities. So, before openpyxl reads anything, the
archive's members and their declared sizes are checked; the XML is parsed by
defusedxml (openpyxl uses it when it is installed: entity declarations are
refused); rows are read from openpyxl's streaming parser one at a time, each
cell's position checked, trailing blanks dropped; and the parse runs in a worker
thread, a few at a time, so the server keeps answering other requests.
"""

from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import openpyxl
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._reader import (
    WorkSheetParser,  # the streaming row parser behind read-only sheets
)
from starlette.concurrency import run_in_threadpool

if not openpyxl.DEFUSEDXML:  # without it openpyxl expands entities: refuse to start rather than parse unsafely
    raise ImportError("defusedxml must be installed: uploaded sheets are parsed with it")

T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    members: int = 500  # files inside the zip; a workbook has a few dozen
    unpacked: int = 100 * 1024 * 1024  # all members, as declared: a 100,000-row ledger is ~65 MB
    ratio: int = 100  # unpacked / packed of a member over 1 MB; sheet XML packs 5–20 times
    rows: int = 200_000
    columns: int = 1024  # column AMJ; ledgers and fill sheets use a few dozen


LIMITS = Limits()
_RATIO_FROM = 1024 * 1024


class SheetRefused(Exception):
    """The file cannot be read: `status` (400, 413) and a stable `code` beside a message for the person who sent it."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


NOT_XLSX_MESSAGE = "文件不是 xlsx 工作簿或已损坏：请用 Excel 或 WPS 另存为 .xlsx 后上传"


def _not_xlsx() -> SheetRefused:
    return SheetRefused(400, "NOT_XLSX", NOT_XLSX_MESSAGE)


# What the refusals call the file: an xlsx (the fill sheets' and ledgers' wording) or a docx.
NOUNS = {"xlsx": ("工作簿", "表格"), "docx": ("文档", "文档")}


def check_archive(archive: zipfile.ZipFile, limits: Limits = LIMITS, kind: str = "xlsx") -> None:
    """Refuse a zip whose member count, declared sizes or packing ratios are absurd — before anything is unpacked."""
    whole, part = NOUNS[kind]
    members = archive.infolist()
    if len(members) > limits.members:
        raise SheetRefused(413, "FILE_TOO_COMPLEX", f"文件内含 {len(members)} 个部件，超过上限 {limits.members} 个，不像正常的{whole}")
    total = 0
    for member in members:
        total += member.file_size
        if member.file_size > _RATIO_FROM and member.file_size > limits.ratio * max(member.compress_size, 1):
            raise SheetRefused(
                413, "FILE_TOO_LARGE",
                f"文件中的 {member.filename} 解压后达 {member.file_size // (1024 * 1024)} MB，"
                f"是压缩大小的 {member.file_size // max(member.compress_size, 1)} 倍，不像正常的{part}，已拒收",
            )
    if total > limits.unpacked:
        raise SheetRefused(
            413, "FILE_TOO_LARGE",
            f"文件解压后共 {total // (1024 * 1024)} MB，超过上限 {limits.unpacked // (1024 * 1024)} MB：请分成几个文件上传",
        )


def first_sheet_rows(source: bytes | Path, *, data_only: bool, limits: Limits = LIMITS) -> Iterator[tuple[Any, ...]]:
    """The first sheet's rows as value tuples (row 1 first; missing rows as `()`), without trailing blank cells.

    Raises `SheetRefused` before parsing (not a zip, too many or too large members)
    or while reading (malformed or hostile XML, too many rows, a cell too far right).
    """
    for _, rows in sheets(source, data_only=data_only, limits=limits):
        yield from rows
        return


def _check_workbook_archive(file: io.BytesIO | Path, limits: Limits) -> None:
    """A zip holding an Office package, within the limits, before any of it is parsed."""
    try:
        with zipfile.ZipFile(file) as archive:
            if "[Content_Types].xml" not in archive.namelist():
                raise _not_xlsx()
            check_archive(archive, limits)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _not_xlsx() from None


def sheets(source: bytes | Path, *, data_only: bool, limits: Limits = LIMITS) -> Iterator[tuple[str, Iterator[tuple[Any, ...]]]]:
    """Each sheet's title and rows (as `first_sheet_rows` gives them), in the workbook's order; read each before the next."""

    def opened() -> io.BytesIO | Path:
        return io.BytesIO(source) if isinstance(source, bytes) else source

    _check_workbook_archive(opened(), limits)
    try:
        workbook = load_workbook(opened(), read_only=True, data_only=data_only)
    except Exception:  # noqa: BLE001 - XML (defusedxml's refusals included) and openpyxl errors all mean: cannot be read
        raise _malformed() from None
    try:
        for sheet in workbook.worksheets:
            yield sheet.title, _checked_rows(workbook, sheet, limits)
    finally:
        workbook.close()


def _checked_rows(workbook: Any, sheet: Any, limits: Limits) -> Iterator[tuple[Any, ...]]:
    try:
        if (sheet.max_row or 0) > limits.rows or (sheet.max_column or 0) > limits.columns:
            raise _too_big(sheet.max_row or 0, sheet.max_column or 0, limits)
        yield from _rows(workbook, sheet, limits)
    except SheetRefused:
        raise
    except Exception:  # noqa: BLE001 - as above, for the sheet's XML, which is parsed as it is read
        raise _malformed() from None


MALFORMED_MESSAGE = "工作簿内容损坏或含有不允许的 XML（如实体声明），无法读取：请在 Excel 或 WPS 中打开后另存为 .xlsx 再上传"


def _malformed() -> SheetRefused:
    return SheetRefused(400, "MALFORMED_SHEET", MALFORMED_MESSAGE)


def _too_big(rows: int, columns: int, limits: Limits) -> SheetRefused:
    if rows > limits.rows:
        return SheetRefused(413, "TOO_MANY_ROWS", f"工作表超过 {limits.rows} 行：请分成几个文件上传")
    return SheetRefused(
        400, "TOO_MANY_COLUMNS",
        f"工作表用到了第 {get_column_letter(columns)} 列，超过上限（第 {get_column_letter(limits.columns)} 列）：请删除右侧多余的列后重新保存",
    )


def _rows(workbook: Any, sheet: Any, limits: Limits) -> Iterator[tuple[Any, ...]]:
    # openpyxl's own row reader pads every row to the widest cell (or to the declared dimension):
    # a cell in column XFD would make every row 16,384 values. Each cell's position is checked here instead.
    with workbook._archive.open(sheet._worksheet_path) as source:
        parser = WorkSheetParser(
            source, sheet._shared_strings, data_only=workbook.data_only, epoch=workbook.epoch,
            date_formats=workbook._date_formats, timedelta_formats=workbook._timedelta_formats,
        )
        expected = 1
        for number, cells in parser.parse():
            if number > limits.rows:
                raise _too_big(number, 0, limits)
            if number < expected:
                continue  # a row number repeated or going backwards: the first one counts
            for _ in range(expected, number):
                yield ()
            expected = number + 1
            values: list[Any] = []
            for cell in cells:
                column = cell["column"]
                if column > limits.columns:
                    raise _too_big(0, column, limits)
                if cell["value"] is None or column < 1:
                    continue
                values.extend([None] * (column - len(values)))
                values[column - 1] = cell["value"]
            yield tuple(values)


FORM_LIMITS = Limits(members=200, unpacked=20 * 1024 * 1024, rows=2000, columns=1024)
FORM_CELLS = 50_000  # written cells of a blank form (its header, some bordered rows, the footer): a few thousand at most
FORM_MERGES = 2_000


def first_sheet(source: bytes, limits: Limits = FORM_LIMITS) -> Any:
    """The first sheet of a small workbook (a blank form), loaded whole: values, merges, widths, styles, page setup.

    A whole load builds a cell object for every written cell and for every cell of every merged
    range, so the sheet's XML is walked first (defusedxml, streaming): rows, written cells and
    merged ranges are counted and bounded before openpyxl builds anything.
    """
    _check_workbook_archive(io.BytesIO(source), limits)
    try:
        workbook = load_workbook(io.BytesIO(source), read_only=True)
        path = workbook.worksheets[0]._worksheet_path
        with workbook._archive.open(path) as xml:
            _prescan(xml, limits)
        workbook.close()
        return load_workbook(io.BytesIO(source), read_only=False).worksheets[0]
    except SheetRefused:
        raise
    except Exception:  # noqa: BLE001 - XML (defusedxml's refusals included) and openpyxl errors all mean: cannot be read
        raise _malformed() from None


def _prescan(xml: Any, limits: Limits) -> None:
    from defusedxml.ElementTree import iterparse
    from openpyxl.utils.cell import range_boundaries

    cells = merges = 0
    for _, element in iterparse(xml):
        tag = element.tag.rpartition("}")[2]
        if tag == "c":
            cells += 1
            if cells > FORM_CELLS:
                raise SheetRefused(413, "TOO_MANY_CELLS", f"工作表写有超过 {FORM_CELLS} 个单元格，不像空白表样：请只保留表头、表尾和几行空行")
        elif tag == "row" and int(element.get("r") or 0) > limits.rows:
            raise _too_big(int(element.get("r")), 0, limits)
        elif tag == "mergeCell":
            merges += 1
            first_column, first_row, last_column, last_row = range_boundaries(element.get("ref") or "")
            if merges > FORM_MERGES or (last_row or 0) > limits.rows:
                raise SheetRefused(413, "TOO_MANY_CELLS", f"合并单元格 {element.get('ref')} 超出表样的范围（{limits.rows} 行）或合并区域过多")
            if (last_column or 0) > limits.columns:
                raise _too_big(0, last_column, limits)
        if tag in ("row", "mergeCell"):
            element.clear()


_parsing = threading.BoundedSemaphore(2)  # a few parses at a time: each may hold a large sheet in memory


async def off_loop(read: Callable[..., T], *args: Any) -> T:
    """Run `read` (which parses an upload) in a worker thread, so /healthz and every other request keep answering."""

    def bounded() -> T:
        with _parsing:
            return read(*args)

    return await run_in_threadpool(bounded)
