"""Exports printed: each xlsx converted to PDF by LibreOffice, then read back with poppler.

Checks what a cadre sees on paper, for every shipped template: the template's paper size and
orientation, the Chinese title, headers, signature labels and page-number footer, the header rows
repeated on every page of a multi-page form, data on every page (never a page of only headers and
footer), and headers never broken inside their unit brackets. Needs `libreoffice` (Debian: libreoffice-calc), a CJK font (fonts-noto-cjk) and
poppler's `pdfinfo`/`pdftotext`/`pdffonts` (poppler-utils) — .ci/run installs them. Without them
the tests are skipped, unless HUB_REQUIRE_OFFICE=1 (CI), where that fails instead.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook

from hub.forms.templates import load_templates
from tests.conftest import client_as
from tests.test_exports import demo_event

CONVERT_TIMEOUT = 120  # seconds; a cold LibreOffice profile takes a few
TOOL_TIMEOUT = 30
POINTS = {("A4", "portrait"): (595.3, 841.9), ("A4", "landscape"): (841.9, 595.3), ("A3", "landscape"): (1190.6, 841.9),
          ("A3", "portrait"): (841.9, 1190.6)}
TOLERANCE = 2.0  # points
SIGNATURE_LABELS = ("填报单位（盖章）", "填报人", "审核人", "填报日期")
CJK_FONT = re.compile(r"CJK|Song|Sun|Hei|Ming|Kai|Fang|WenQuanYi|Fallback", re.IGNORECASE)
OWNERS = {"shuziban": "admin"}  # department -> a demo user of it (the others are named after their department)


@dataclass(frozen=True)
class Case:
    template: str
    paper: tuple[str, str]  # what the template's YAML says: (paper, orientation)
    headers: tuple[str, ...]  # header texts (short enough not to wrap) that must be printed
    multipage: bool = False  # the default variables give two or more pages


CASES = (
    Case("dibao-shouru", ("A3", "landscape"), ("序号", "村（社区）", "户主情况", "公民身份号码", "家庭住址", "家庭收入及保障情况")),
    Case("dibao-jiankang", ("A4", "portrait"), ("序号", "户主", "公民身份号码", "家庭住址", "家庭成员健康状况", "健康随访")),
    # 东星社区's working-age people: about 120 rows, three A4 pages.
    Case("jiuye-shebao", ("A4", "landscape"), ("序号", "基本信息", "公民身份号码", "就业情况", "社会保险参保情况"), multipage=True),
)


def _office_or_skip() -> dict[str, str]:
    """The tools' paths; skip when one is missing, except in CI (HUB_REQUIRE_OFFICE=1), where that fails."""
    wanted = {
        "libreoffice": ("libreoffice", "soffice"),
        "pdfinfo": ("pdfinfo",),
        "pdftotext": ("pdftotext",),
        "pdffonts": ("pdffonts",),
    }
    found, missing = {}, []
    for tool, names in wanted.items():
        path = next((p for p in map(shutil.which, names) if p), None)
        if path:
            found[tool] = path
        else:
            missing.append(tool)
    fc_list = shutil.which("fc-list")
    if fc_list and not subprocess.run([fc_list, ":lang=zh", "family"], check=False, capture_output=True, text=True, timeout=10).stdout.strip():
        missing.append("a Chinese font")
    if missing:
        reason = (f"PDF export test needs {', '.join(missing)} "
                  "(apt-get install libreoffice-calc fonts-noto-cjk poppler-utils)")
        if os.environ.get("HUB_REQUIRE_OFFICE") == "1":
            pytest.fail(reason + " (HUB_REQUIRE_OFFICE=1)")
        pytest.skip(reason + "; set HUB_REQUIRE_OFFICE=1 to make this a failure")
    return found


async def _run(*command: str | Path, timeout: float = TOOL_TIMEOUT) -> str:
    """Run a command without blocking the event loop; its stdout, or a failure naming the command."""
    process = await asyncio.create_subprocess_exec(
        *map(str, command), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        pytest.fail(f"{Path(str(command[0])).name} did not finish within {timeout} s: {command}")
    if process.returncode != 0:
        pytest.fail(f"{command} exited {process.returncode}: {stderr.decode(errors='replace')}")
    return stdout.decode("utf-8", errors="replace")


@dataclass
class Printed:
    template: object
    xlsx: Path
    pdf: Path
    pages: int
    size: tuple[float, float]
    text: str  # the whole document, pdftotext -layout
    fonts: str  # pdffonts


@pytest.fixture(scope="module")
async def printed(app, tokens, schemas, tmp_path_factory) -> dict[str, Printed]:
    """Every shipped template downloaded as its owner department with the default variables, and printed to PDF."""
    tools = _office_or_skip()
    work = tmp_path_factory.mktemp("export-pdf")
    # The shipped forms, read from templates/*.yaml as the hub reads them at start-up.
    templates = load_templates(schemas.full._schema, {key: s._schema for key, s in schemas.departments.items()})
    for case in CASES:
        template = templates[case.template]
        assert (template.paper, template.orientation) == case.paper, f"{case.template}'s page: changed in its YAML?"
    files = []
    for template in templates.values():
        async with client_as(app, tokens[OWNERS.get(template.department, template.department)]) as client:
            params = {"event": await demo_event(client)} if template.id == "taifeng-mopai" else {}
            response = await client.get(f"/exports/{template.id}.xlsx", params=params)
        assert response.status_code == 200, response.text
        path = work / f"{template.id}.xlsx"
        path.write_bytes(response.content)
        files.append(path)

    # One LibreOffice run for all files (its start-up is most of the time), with a profile of its
    # own: runs in parallel, or as root, do not share ~/.config/libreoffice.
    out = work / "pdf"
    await _run(
        tools["libreoffice"], f"-env:UserInstallation={(work / 'lo-profile').as_uri()}",
        "--headless", "--norestore", "--convert-to", "pdf", "--outdir", out, *files,
        timeout=CONVERT_TIMEOUT,
    )
    result = {}
    for template_id in templates:
        pdf = out / f"{template_id}.pdf"
        assert pdf.is_file(), f"LibreOffice wrote no {pdf.name}; it has {sorted(p.name for p in out.iterdir())}"
        info = await _run(tools["pdfinfo"], pdf)
        size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.MULTILINE)
        pages = re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)
        assert size and pages, info
        result[template_id] = Printed(
            template=templates[template_id],
            xlsx=work / f"{template_id}.xlsx",
            pdf=pdf,
            pages=int(pages[1]),
            size=(float(size[1]), float(size[2])),
            text=await _run(tools["pdftotext"], "-layout", pdf, "-"),
            fonts=await _run(tools["pdffonts"], pdf),
        )
    return result


def _squeezed(text: str) -> str:
    """Without whitespace: pdftotext drops or adds spaces between Chinese and digits (第1 页共3 页)."""
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.template)
async def test_printed_on_the_templates_paper(printed, case: Case) -> None:
    got = printed[case.template]
    width, height = POINTS[case.paper]
    assert abs(got.size[0] - width) <= TOLERANCE and abs(got.size[1] - height) <= TOLERANCE, (
        f"{case.template}: page {got.size[0]} x {got.size[1]} pts, expected {case.paper} ≈ {width} x {height}"
    )
    if case.multipage:
        assert got.pages >= 2, f"{case.template}: {got.pages} page(s); the case is meant to cover a multi-page form"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.template)
async def test_chinese_text_is_printed(printed, case: Case) -> None:
    got = printed[case.template]
    template = got.template
    text, flat = got.text, _squeezed(got.text)
    leaf_and_group = {h for column in template.columns for h in column.headers}
    assert set(case.headers) <= leaf_and_group, f"{case.template}: headers not in the template: {set(case.headers) - leaf_and_group}"

    assert template.title in text
    for header in case.headers:
        assert header in text, f"{case.template}: header {header} not printed"
    assert "导出日期" in text and "东星社区" in text  # the subtitle, and the data itself
    if template.subtotals:
        assert "合计" in text
    for label in SIGNATURE_LABELS:
        assert label in text, f"{case.template}: signature label {label} not printed"
    # The footer 第 &P 页 共 &N 页, on every page.
    for page in range(1, got.pages + 1):
        assert f"第{page}页共{got.pages}页" in flat, f"{case.template}: no footer 第 {page} 页 共 {got.pages} 页"
    # The Chinese is drawn with a CJK font, not boxes from a Latin fallback.
    embedded = [line.split()[0] for line in got.fonts.splitlines()[2:] if line.strip()]
    assert any(CJK_FONT.search(name) for name in embedded), f"{case.template}: no CJK font embedded: {embedded}"


async def test_header_rows_repeat_on_every_page(printed) -> None:
    """Print titles: page 2 of a long list starts with the header rows again (but not the title)."""
    tools = _office_or_skip()
    (case,) = [case for case in CASES if case.multipage]
    got = printed[case.template]
    assert got.pages >= 2
    for page in range(2, got.pages + 1):
        text = await _run(tools["pdftotext"], "-layout", "-f", str(page), "-l", str(page), got.pdf, "-")
        lines = [line for line in text.splitlines() if line.strip()]
        top = "\n".join(lines[:4])
        for header in case.headers:
            assert header in top, f"{case.template}: header {header} not at the top of page {page}:\n{top}"
        assert got.template.title not in text
        assert f"第{page}页共{got.pages}页" in _squeezed(text)
    last = await _run(tools["pdftotext"], "-layout", "-f", str(got.pages), "-l", str(got.pages), got.pdf, "-")
    assert all(label in last for label in SIGNATURE_LABELS), "the signature block belongs on the last page"


async def _pages(printed: Printed) -> list[str]:
    tools = _office_or_skip()
    return [
        await _run(tools["pdftotext"], "-layout", "-f", str(page), "-l", str(page), printed.pdf, "-")
        for page in range(1, printed.pages + 1)
    ]


def _row_texts(printed: Printed) -> list[set[str]]:
    """Each data row's longer texts, as the xlsx holds them (rows after the headers, but subtotals and 合计)."""
    ws = load_workbook(printed.xlsx).active
    levels = max(len(c.headers) for c in printed.template.columns)
    rows = []
    for row in ws.iter_rows(min_row=3 + levels, values_only=True):
        if row[0] is None or row[0] == "合计":
            break
        if isinstance(row[0], str) and "小计" in row[0]:
            continue
        rows.append({_squeezed(v) for v in row if isinstance(v, str) and len(v) >= 3})
    return rows


SHIPPED = sorted(path.stem for path in (Path(__file__).resolve().parent.parent / "templates").glob("*.yaml"))


@pytest.mark.parametrize("template_id", SHIPPED)
async def test_every_page_carries_data_and_the_signature_lines(printed, template_id) -> None:
    """No page holds only the headers and the footer; each page carries the signature lines."""
    got = printed[template_id]
    rows = _row_texts(got)
    assert rows and all(rows), f"{template_id}: rows without text to look for: {rows[:3]}"
    pages = await _pages(got)
    assert len(pages) == got.pages
    for number, text in enumerate(pages, 1):
        flat = _squeezed(text)
        assert any(value in flat for row in rows for value in row), f"{template_id}: page {number} has no data row:\n{text}"
        if got.template.signature:
            assert all(label in text for label in SIGNATURE_LABELS), f"{template_id}: page {number} lacks the signature lines"
    last_page = _squeezed(pages[-1])
    assert any(value in last_page for value in rows[-1]), f"{template_id}: the last row is not on the last page"


@pytest.mark.parametrize("template_id", SHIPPED)
async def test_headers_are_not_broken_inside_brackets(printed, template_id) -> None:
    """家庭月人均收入（元） may wrap before its bracket, never inside it (家庭月人均收入（ / 元）)."""
    (first_page, *_) = await _pages(printed[template_id])
    header_lines = first_page.split(printed[template_id].template.title, 1)[1].splitlines()[:8]
    bracketed = [h for c in printed[template_id].template.columns for h in c.headers if "（" in h]
    for line in header_lines:
        for piece in line.split():
            assert piece.count("（") == piece.count("）"), f"{template_id}: a header broken inside its bracket: {piece!r} in\n{line}"
    for header in bracketed:
        unit = header[header.rindex("（"):]
        assert any(unit in line for line in header_lines), f"{template_id}: {unit} of {header} not printed whole"
