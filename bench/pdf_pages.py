"""Rendering a PDF page by page keeps memory flat: peak RSS for a 5-page and a 50-page PDF.

`python -m bench.pdf_pages` makes both PDFs (A4 pages drawn with Pillow), then renders every
page of each in a fresh process exactly as `GET /documents/{id}/versions/{n}/pages/{p}.png`
does — open the file, render one page, stamp the watermark, encode PNG — and prints that
process's peak RSS. Ten times the pages should cost about the same memory (ratio ≈ 1).
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hub.data.models import DocumentKind
from hub.forms import document_files
from tests.support.document_files import pdf

SIZES = (5, 50)


def _peak_mb() -> float:
    # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over fork and exec, so the child
    # would report the parent's peak (which held the 50 pages while drawing them).
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def render_all(path: Path) -> None:
    """In the child: every page in turn, as the hub serves them; print pages, seconds, RSS before and at peak."""
    data = path.read_bytes()
    pages = document_files.inspect(data).pages
    before = _peak_mb()
    text = document_files.watermark_text("吴国栋", "应急管理局", dt.datetime.now(dt.UTC))
    started = time.perf_counter()
    for number in range(1, pages + 1):
        document_files.page_png(DocumentKind.PDF, data, None, number, text)
    print(pages, round(time.perf_counter() - started, 2), round(before, 1), round(_peak_mb(), 1))


def main() -> None:
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for pages in SIZES:
            path = Path(folder) / f"{pages}.pdf"
            path.write_bytes(pdf(pages))
            line = subprocess.run(
                [sys.executable, "-m", "bench.pdf_pages", "--child", str(path)], check=True, capture_output=True, text=True
            ).stdout.split()
            results[pages] = (int(line[0]), float(line[1]), float(line[2]), float(line[3]), path.stat().st_size)
    for pages, (rendered, seconds, before, peak, size) in results.items():
        print(
            f"{pages:>3} pages ({size / 1024:,.0f} KB): rendered {rendered} pages in {seconds:.2f} s "
            f"({seconds / rendered * 1000:.0f} ms/page); RSS before rendering {before:.1f} MB, peak {peak:.1f} MB "
            f"(+{peak - before:.1f} MB)"
        )
    small, large = results[SIZES[0]], results[SIZES[-1]]
    ratio = large[3] / small[3]
    growth = (large[3] - large[2]) / max(small[3] - small[2], 0.1)
    print(f"RESULT pdf_pages peak_rss_ratio={ratio:.2f} rendering_growth_ratio={growth:.2f} (50 vs 5 pages)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        render_all(args.child)
    else:
        main()
