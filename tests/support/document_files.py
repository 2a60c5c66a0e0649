"""Small files for the document centre's tests and benchmark, made on the spot (no binaries in the repository)."""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook
from PIL import Image, ImageDraw, ImageFont


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


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)


def docx(paragraphs: list[tuple[str | None, str]], table: list[list[str]] | None = None) -> bytes:
    """A docx of (style id, text) paragraphs; style "1" is named "heading 1" as a Chinese Word names it."""
    body = []
    for style, text in paragraphs:
        props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
        body.append(f"<w:p>{props}<w:r><w:t>{text}</w:t></w:r></w:p>")
    if table:
        rows = "".join("<w:tr>" + "".join(f"<w:tc><w:p><w:r><w:t>{c}</w:t></w:r></w:p></w:tc>" for c in row) + "</w:tr>" for row in table)
        body.append(f"<w:tbl>{rows}</w:tbl>")
    document = f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}"><w:body>{"".join(body)}</w:body></w:document>'
    styles = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:styles xmlns:w="{W}">'
        '<w:style w:styleId="1"><w:name w:val="heading 1"/></w:style><w:style w:styleId="2"><w:name w:val="heading 2"/></w:style></w:styles>'
    )
    return _zip({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": document, "word/styles.xml": styles})


def docx_bomb(megabytes: int = 40) -> bytes:
    """A docx whose document.xml unpacks to `megabytes` MB of blanks from a few tens of kilobytes."""
    return _zip({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": " " * (megabytes * 1024 * 1024)})


def _zip(members: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text.encode("utf-8"))
    return out.getvalue()
