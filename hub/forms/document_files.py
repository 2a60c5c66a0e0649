"""Files of the document centre: checked by content within limits, read once, shown as pictures or data.

An upload's type is decided by its bytes, never by its name or the Content-Type it came
with. A PDF must open without a password and have a sensible number of pages; an xlsx or a
docx is a zip whose members are counted and sized before anything is unpacked
(`untrusted_xlsx.check_archive`), then read with defusedxml; a JPEG or PNG goes through the
photos' checks. What a viewer sees is made here too: a PDF page rendered by PDFium
(pypdfium2, which ships it as a wheel) or an image resized, each stamped with the viewer's
name, unit and the time; an xlsx becomes a table of cell values, a docx its headings and
text — data, never markup, so nothing in a file is ever run in a browser.

Everything here blocks: call it in a worker thread (`untrusted_xlsx.off_loop`).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
import threading
import unicodedata
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pypdfium2
from defusedxml import ElementTree
from PIL import Image, ImageDraw, ImageFont

from hub.data.models import DocumentKind
from hub.domain.documents import DocumentRefused, FileFacts
from hub.domain.photos import PhotoRefused
from hub.domain.photos import process as process_image
from hub.forms.untrusted_xlsx import LIMITS, SheetRefused, check_archive, sheets

MAX_DOCUMENT_BYTES = 30 * 1024 * 1024
MAX_PAGES = 2000
MAX_TABLE_CELLS = 2_000_000  # all sheets of one workbook, as the viewer and GraphQL keep them
MAX_DOCX_XML_BYTES = 20 * 1024 * 1024  # word/document.xml, unpacked: a 500-page report is a few MB
PAGE_WIDTH = 1240  # pixels a rendered page is wide: an A4 page at 150 dpi
MAX_PAGE_PIXELS = 12_000_000  # a poster-sized page is rendered smaller, not bigger

EXTENSIONS = {
    DocumentKind.PDF: "pdf", DocumentKind.XLSX: "xlsx", DocumentKind.DOCX: "docx", DocumentKind.JPEG: "jpg", DocumentKind.PNG: "png",
}
MEDIA_TYPES = {
    DocumentKind.PDF: "application/pdf",
    DocumentKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    DocumentKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    DocumentKind.JPEG: "image/jpeg",
    DocumentKind.PNG: "image/png",
}

UNSUPPORTED = "只收 PDF、xlsx、docx、JPEG 或 PNG 文件：这个文件不是（按文件内容判断，与文件名无关）"
EMPTY = "文件是空的（0 字节）：请选择要上传的文件"
ENCRYPTED_PDF = "PDF 文件已加密（设有密码或权限限制），无法在线查看：请去掉密码后重新导出再上传"
CORRUPT_PDF = "PDF 文件已损坏，无法打开：请重新导出后上传"
CORRUPT_ZIP = "文件已损坏，无法打开：请在 Excel、WPS 或 Word 中打开后另存再上传"
MALFORMED_DOCX = "Word 文档内容损坏或含有不允许的 XML（如实体声明），无法读取：请在 Word 或 WPS 中打开后另存为 .docx 再上传"


def sniff(data: bytes) -> DocumentKind:
    """The kind of file by its first bytes (and, for a zip, by the names of its members); refused otherwise."""
    if not data:
        raise DocumentRefused(400, EMPTY, "EMPTY_FILE")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentRefused(413, f"文件超过 {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB：请压缩或分成几个文件上传", "FILE_TOO_LARGE")
    if data.startswith(b"%PDF-"):
        return DocumentKind.PDF
    if data.startswith(b"\xff\xd8\xff"):
        return DocumentKind.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return DocumentKind.PNG
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())  # the central directory only: nothing is unpacked yet
        except (zipfile.BadZipFile, OSError, ValueError):
            raise DocumentRefused(400, CORRUPT_ZIP, "CORRUPT_FILE") from None
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return DocumentKind.XLSX
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return DocumentKind.DOCX
    raise DocumentRefused(415, UNSUPPORTED, "UNSUPPORTED_MEDIA_TYPE")


def inspect(data: bytes) -> FileFacts:
    """Check an upload whole and read what its viewer needs; `DocumentRefused` says why not. Blocking."""
    kind = sniff(data)
    try:
        if kind is DocumentKind.PDF:
            return FileFacts(kind, _pdf_pages(data), None)
        if kind is DocumentKind.XLSX:
            return _workbook(data)
        if kind is DocumentKind.DOCX:
            return _docx(data)
        return FileFacts(kind, 1, process_image(data).display)
    except SheetRefused as refused:
        raise DocumentRefused(refused.status, str(refused), refused.code) from None
    except PhotoRefused as refused:
        raise DocumentRefused(refused.status, str(refused), refused.code) from None


# PDFium is not thread-safe: one call into it at a time per process.
_pdfium = threading.Lock()


def _open_pdf(data: bytes) -> pypdfium2.PdfDocument:
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as error:
        if getattr(error, "err_code", None) == pypdfium2.raw.FPDF_ERR_PASSWORD:
            raise DocumentRefused(422, ENCRYPTED_PDF, "ENCRYPTED_PDF") from None
        raise DocumentRefused(422, CORRUPT_PDF, "CORRUPT_PDF") from None
    if pypdfium2.raw.FPDF_GetSecurityHandlerRevision(document) != -1:  # opens, but with an owner password's restrictions
        document.close()
        raise DocumentRefused(422, ENCRYPTED_PDF, "ENCRYPTED_PDF")
    return document


def _pdf_pages(data: bytes) -> int:
    with _pdfium:
        document = _open_pdf(data)
        try:
            pages = len(document)
            if pages == 0:
                raise DocumentRefused(422, CORRUPT_PDF, "CORRUPT_PDF")
            if pages > MAX_PAGES:
                raise DocumentRefused(413, f"PDF 有 {pages} 页，超过上限 {MAX_PAGES} 页：请分成几个文件上传", "TOO_MANY_PAGES")
            return pages
        finally:
            document.close()


def render_pdf_page(data: bytes, number: int) -> Image.Image:
    """Page `number` (from 1) about PAGE_WIDTH pixels wide; only that page is loaded and rendered."""
    with _pdfium:
        document = _open_pdf(data)
        try:
            page = document[number - 1]
            try:
                width, height = page.get_size()
                scale = min(PAGE_WIDTH / max(width, 1), (MAX_PAGE_PIXELS / max(width * height, 1)) ** 0.5)
                bitmap = page.render(scale=scale)
                try:
                    return bitmap.to_pil().convert("RGB")  # a copy: the bitmap's buffer is freed below
                finally:
                    bitmap.close()
            finally:
                page.close()
        finally:
            document.close()


def _cell(value: Any) -> Any:
    """A cell as JSON keeps it: numbers as numbers, dates as ISO text, everything else as text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()  # Excel keeps a date as midnight of that day: a date is what was typed
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _workbook(data: bytes) -> FileFacts:
    tables, cells = [], 0
    for title, rows in sheets(data, data_only=True, limits=LIMITS):
        table = []
        for values in rows:
            cells += len(values)
            if cells > MAX_TABLE_CELLS:
                raise DocumentRefused(413, f"工作簿超过 {MAX_TABLE_CELLS // 10_000} 万个单元格：请分成几个文件上传", "FILE_TOO_LARGE")
            table.append([_cell(v) for v in values])
        while table and not any(v is not None for v in table[-1]):
            table.pop()  # trailing blank rows are formatting, not data
        tables.append({"name": title, "rows": table})
    return FileFacts(DocumentKind.XLSX, len(tables), orjson.dumps({"sheets": tables}))


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
HEADING = re.compile(r"(?:heading|标题)\s*(\d)", re.IGNORECASE)


def _docx(data: bytes) -> FileFacts:
    """Headings and paragraphs (and tables, row by row) of word/document.xml, in order."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        check_archive(archive, LIMITS, kind="docx")
        if archive.getinfo("word/document.xml").file_size > MAX_DOCX_XML_BYTES:
            raise DocumentRefused(413, f"Word 文档正文超过 {MAX_DOCX_XML_BYTES // (1024 * 1024)} MB：请分成几个文件上传", "FILE_TOO_LARGE")
        try:
            body = ElementTree.fromstring(archive.read("word/document.xml")).find(f"{W}body")
            styles = _style_names(archive)
        except Exception:  # noqa: BLE001 - defusedxml's refusals and broken XML alike: cannot be read
            raise DocumentRefused(400, MALFORMED_DOCX, "MALFORMED_DOCUMENT") from None
    if body is None:
        raise DocumentRefused(400, MALFORMED_DOCX, "MALFORMED_DOCUMENT")
    blocks = list(_blocks(body, styles))
    return FileFacts(DocumentKind.DOCX, 1, orjson.dumps({"blocks": blocks}))


def _style_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """Style id -> name ("1" -> "heading 1" in a Chinese Word): headings are known by name, ids vary."""
    if "word/styles.xml" not in archive.namelist():
        return {}
    root = ElementTree.fromstring(archive.read("word/styles.xml"))
    names = {}
    for style in root.iter(f"{W}style"):
        name = style.find(f"{W}name")
        if name is not None:
            names[style.get(f"{W}styleId", "")] = name.get(f"{W}val", "")
    return names


def _text(element: Any) -> str:
    parts = []
    for node in element.iter():
        if node.tag == f"{W}t":
            parts.append(node.text or "")
        elif node.tag == f"{W}tab":
            parts.append("\t")
        elif node.tag in (f"{W}br", f"{W}cr"):
            parts.append("\n")
    return "".join(parts)


def _blocks(body: Any, styles: dict[str, str]) -> Iterator[dict[str, Any]]:
    for child in body:
        if child.tag == f"{W}p":
            style = child.find(f"{W}pPr/{W}pStyle")
            style_id = style.get(f"{W}val", "") if style is not None else ""
            name = styles.get(style_id, style_id)
            heading = HEADING.search(name)
            level = int(heading.group(1)) if heading else (1 if name.lower() == "title" else 0)
            text = _text(child)
            if text.strip() or level:
                yield {"kind": "HEADING" if level else "PARAGRAPH", "level": level, "text": text}
        elif child.tag == f"{W}tbl":
            rows = [[_text(cell) for cell in row.findall(f"{W}tc")] for row in child.findall(f"{W}tr")]
            yield {"kind": "TABLE", "level": 0, "text": "\n".join("\t".join(row) for row in rows), "rows": rows}


# --- what a viewer sees: a page as a picture, stamped with who is looking and when ---

FONTS = (  # CJK fonts Debian (fonts-noto-cjk) and other systems put here; the first that opens is used
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-{weight}.ttc", 2),  # face 2: Simplified Chinese
    ("/usr/share/fonts/truetype/noto/NotoSansCJK-{weight}.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
)
CHINA = dt.timezone(dt.timedelta(hours=8))


@functools.cache
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A CJK font of `size` pixels (bold where the system has a bold face; the regular one otherwise)."""
    for weight in (("Bold", "Regular") if bold else ("Regular",)):
        for path, index in FONTS:
            path = path.format(weight=weight)
            if Path(path).exists():
                try:
                    return ImageFont.truetype(path, size, index=index)
                except OSError:
                    continue
    # No CJK font installed: Pillow's own font still stamps the page (Chinese then shows as boxes).
    return ImageFont.load_default(size)


def watermark_text(display_name: str, org_unit: str, at: dt.datetime) -> str:
    return f"{display_name}  {org_unit}  {at.astimezone(CHINA):%Y-%m-%d %H:%M}"


def watermarked(image: Image.Image, text: str) -> Image.Image:
    """The text tiled diagonally over the whole page, semi-transparent: readable, and on every crop of a screenshot."""
    base = image.convert("RGBA")
    width, height = base.size
    size = max(14, min(width, height) // 36)
    face = font(size)
    left, top, right, bottom = face.getbbox(text)
    tile = Image.new("RGBA", (right - left + 4 * size, bottom - top + 4 * size), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((2 * size - left, 2 * size - top), text, font=face, fill=(90, 90, 90, 72))
    tile = tile.rotate(30, expand=True, resample=Image.Resampling.BICUBIC)
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    for row, y in enumerate(range(-tile.height // 2, height, tile.height * 2 // 3)):
        shift = (row % 2) * tile.width // 2  # rows staggered, like a brick wall
        for x in range(-tile.width + shift, width, tile.width):
            layer.paste(tile, (x, y), tile)
    return Image.alpha_composite(base, layer).convert("RGB")


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False, compress_level=6)
    return out.getvalue()


def page_png(kind: DocumentKind, original: bytes, preview: bytes | None, number: int, text: str) -> bytes:
    """A PDF page or the image, watermarked with `text`, as PNG. Blocking."""
    if kind is DocumentKind.PDF:
        image = render_pdf_page(original, number)
    else:
        with Image.open(io.BytesIO(preview or b""), formats=["JPEG"]) as display:  # checked and resized at upload
            image = display.convert("RGB")
    return png(watermarked(image, text))


def clean_file_name(name: str | None, kind: DocumentKind) -> str:
    """The name as people read it, without a path, control or reserved characters, ending in the file's real type."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r'[\x00-\x1f\x7f<>:"|?*;]', "", base)
    # Invisible format characters too: a right-to-left override would show “照片\u202egpj.pdf” as “照片fdp.jpg”.
    base = "".join(c for c in base if unicodedata.category(c) not in ("Cf", "Zl", "Zp")).strip(" .")
    stem = base.rsplit(".", 1)[0].strip(" .") if "." in base else base
    return f"{(stem or '文档')[:100]}.{EXTENSIONS[kind]}"
