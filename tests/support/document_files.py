"""Small files for the document centre's tests and benchmark, made on the spot (no binaries in the repository)."""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook
from PIL import Image, ImageDraw, ImageFont

from hub.demo.documents import docx

__all__ = ["docx", "docx_bomb", "encrypted_pdf", "pdf", "xlsx"]


def pdf(pages: int, width: int = 595, height: int = 842) -> bytes:
    """A PDF of `pages` A4 pages (at 72 dpi), each with a framed title and its number."""
    font = ImageFont.load_default(36)
    images = []
    for number in range(1, pages + 1):
        page = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(page)
        draw.rectangle((40, 40, width - 40, 130), outline="black", width=3)
        draw.text((60, 65), f"Flood inspection - page {number}", fill="black", font=font)
        for line in range(8):
            draw.line((60, 200 + line * 60, width - 60, 200 + line * 60), fill=(160, 160, 160), width=2)
        images.append(page)
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=72)
    return out.getvalue()


def encrypted_pdf() -> bytes:
    """A PDF with a standard security handler whose password is not empty: it does not open without it."""
    plain = pdf(1)
    xref = plain.index(b"xref")
    encrypt = b"99 0 obj<< /Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> /P -4 >>endobj\n"
    trailer = plain[xref:].replace(b"trailer\n<<", b"trailer\n<<\n/Encrypt 99 0 R\n/ID [<00112233445566778899aabbccddeeff><00112233445566778899aabbccddeeff>]")
    return plain[:xref] + encrypt + trailer


def xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)


def docx_bomb(megabytes: int = 40) -> bytes:
    """A docx whose document.xml unpacks to `megabytes` MB of blanks from a few tens of kilobytes."""
    return _zip({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": " " * (megabytes * 1024 * 1024)})


def _zip(members: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text.encode("utf-8"))
    return out.getvalue()
