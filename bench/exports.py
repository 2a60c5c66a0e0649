"""Template export: a 12-column form of ~100,000 persons vs openpyxl's write-only mode alone.

The template (defined below, written to a temporary `HUB_TEMPLATES_DIR` and validated with
`hub.templates.load_template` against the full schema and 民政局's view) lists persons:
`persons(regionCode: $region, first: $first, after: $after)`, 12 plain columns — 序号, 姓名,
公民身份号码, 性别 (enum → label), 出生日期 (date), 年龄 (computed from the birth date),
与户主关系, 联系电话, 健康状况 (enum), 人员状态 (enum), 家庭住址 (household.address), 近期动态.

Rows. The endpoint pages the template's query until the connection ends, so an export cannot be
cut at exactly N rows without changing the template's query. Instead the benchmark picks the
region (city, district or town) whose person count is closest to `--rows` and reports the exact
count: at scale 300 that is 荔城区 (350304000000) with 102,053 persons for 100,000, and
350302001000 (10,045 persons) for 10,000. Nothing is capped or filtered.

- **hub**: `GET /exports/bench-renyuan.xlsx?region=…` to a uvicorn server on 127.0.0.1 (the real
  endpoint: sign-in, 500-row pages through the schema, `hub.exports.SheetWriter`, the file
  streamed back), signed in as `admin`, the response streamed to a file.
- **floor**: the same cells — read back, before timing, from a file the hub exported, as plain
  Python lists (dates as `datetime.date`) — written with `openpyxl.Workbook(write_only=True)` to
  a file, with the same body styles as the export (宋体 10, thin borders, vertical centre, wrap
  where the column wraps, 序号 centred, `yyyy-mm-dd` on the date column), each column's style
  registered once as an openpyxl `NamedStyle` and given to a cell by name (`cell.style = …`).
  Data rows only: the export's six layout rows (title, subtitle, header, signature) and page
  setup are negligible.

The two run in turn, round after round, in one process (the server in a thread); the ratio is
the median of the per-round ratios. Target: ratio ≤ 1.5.

Peak memory: for each of 10,000 and `--rows` rows, a fresh child process starts the same app and
server, exports a small village once (imports, caches, the first page's allocations), then twice
the region: each time it collects garbage, reads its resident set (`VmRSS`), resets the kernel's
high-water mark (`/proc/self/clear_refs` ← 5), runs the export over HTTP (streamed to disk), and
reports `VmHWM − VmRSS before`: the export's peak growth of real memory (Python objects, SQLite's
cache, openpyxl's buffers), not just Python allocations as tracemalloc would. The first export
also fills SQLite's page caches (2 MB per connection, a fixed cap); the second, as in a server
that has been running, is the export's own memory. Target: the two sizes' peaks within 20% of
each other; both are printed.

Runtime is dominated by the 100,000-row exports themselves: five of them (three timed, two in the
memory child) and three floors; about 3 minutes on the shared 2-core machine on 2026-11-28.
`python -m bench` runs this one with at most 3 rounds.

    python -m bench.exports [--scale 300] [--rows 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, NamedStyle
from sqlalchemy import text

from bench.common import (
    bench_settings,
    interleaved,
    report,
    run,
    seeded_engine,
    token_for,
)

TEMPLATE_ID = "bench-renyuan"
TEMPLATE = textwrap.dedent(
    """\
    id: bench-renyuan
    title: 人员基础信息表（基准测试）
    department: minzheng
    description: 基准测试用：辖区内全部人员，一人一行，12列

    query: |
      query BenchRenyuan($region: String!, $first: Int, $after: String) {
        persons(regionCode: $region, first: $first, after: $after) {
          pageInfo { hasNextPage endCursor }
          nodes {
            name idNumber gender birthDate relationToHead phone
            healthStatus residenceStatus recentStatus
            household { address }
          }
        }
      }
    rows: persons

    variables:
      region:
        label: 统计用区划代码

    page:
      paper: A4
      orientation: landscape
      fit_to_width: true

    signature: true

    columns:
      - {header: 序号, value: row_number, width: 7}
      - {header: 姓名, path: name, width: 8}
      - {header: 公民身份号码, path: idNumber, width: 20}
      - {header: 性别, path: gender, width: 5}
      - {header: 出生日期, path: birthDate, width: 11}
      - {header: 年龄, path: birthDate, value: age, width: 5}
      - {header: 与户主关系, path: relationToHead, width: 9}
      - {header: 联系电话, path: phone, width: 13}
      - {header: 健康状况, path: healthStatus, width: 8}
      - {header: 人员状态, path: residenceStatus, width: 8}
      - {header: 家庭住址, path: household.address, width: 30, wrap: true}
      - {header: 近期动态, path: recentStatus, width: 30, wrap: true, fill: true}
    """
)
MEMORY_ROWS = 10_000
HEADER_ROWS = 3  # title, subtitle, one header level: data starts on row 4
LEVELS = ("CITY", "DISTRICT", "TOWN")
MB = 1024 * 1024


# --- set-up ------------------------------------------------------------------------------


def write_template(directory: Path) -> Path:
    path = directory / f"{TEMPLATE_ID}.yaml"
    path.write_text(TEMPLATE, encoding="utf-8")
    return path


def load_bench_template(path: Path, settings):
    """Validate the template the way the app does at start-up (full schema and 民政局's view)."""
    from hub.forms.templates import load_template
    from schema.build import Schemas

    schemas = Schemas(settings)
    return load_template(path, schemas.full._schema, {k: s._schema for k, s in schemas.departments.items()})


async def person_counts(engine) -> tuple[list[tuple[str, str, int]], list[tuple[str, int]]]:
    """Persons per city/district/town (code, name, count), and per village (code, count)."""
    from hub.data.identifiers import subtree_bounds

    async with engine.connect() as connection:
        villages = (await connection.execute(text(
            "SELECT v.code, count(*) FROM persons p JOIN households h ON p.household_id = h.id "
            "JOIN regions v ON h.village_id = v.id GROUP BY v.code ORDER BY v.code"
        ))).all()
        regions = (await connection.execute(
            text("SELECT code, name, level FROM regions WHERE level IN ('CITY', 'DISTRICT', 'TOWN') ORDER BY code")
        )).all()
    counts = []
    for code, name, level in regions:
        low, high = subtree_bounds(code, level)
        counts.append((code, name, sum(n for v, n in villages if low <= v <= high)))
    return counts, [(code, n) for code, n in villages]


def closest(counts: list[tuple[str, str, int]], rows: int) -> tuple[str, str, int]:
    return min(counts, key=lambda c: (abs(c[2] - rows), c[0]))


async def download(client: httpx.AsyncClient, region: str, path: Path, on_chunk=None) -> int:
    """One export over HTTP, streamed to `path`; the file's size. `on_chunk()` runs after each chunk."""
    async with client.stream("GET", f"/exports/{TEMPLATE_ID}.xlsx", params={"region": region}) as response:
        if response.status_code != 200:
            await response.aread()
            raise RuntimeError(f"export failed: {response.status_code} {response.text}")
        size = 0
        with path.open("wb") as file:
            async for chunk in response.aiter_bytes():
                file.write(chunk)
                size += len(chunk)
                if on_chunk is not None:
                    on_chunk()
    return size


def read_cells(path: Path, template) -> list[list]:
    """The data rows of an exported file, as plain values (dates as dates, as the exporter has them)."""
    dates = [c.kind == "date" for c in template.columns]
    workbook = load_workbook(path, read_only=True)
    rows = []
    for values in workbook.active.iter_rows(min_row=HEADER_ROWS + 1, values_only=True):
        if not values or values[0] is None:  # the blank row before the signature block
            break
        rows.append([v.date() if d and isinstance(v, dt.datetime) else v for v, d in zip(values, dates, strict=True)])
    workbook.close()
    return rows


# --- the floor: the same cells with openpyxl's write-only mode -----------------------------


def floor_writer(template):
    """Write `rows` with the export's body styles, each column's style registered once by name."""
    from hub.forms.xlsx import BODY_FONT, BORDER

    styles = []
    for index, column in enumerate(template.columns):
        number_format = column.number_format or ("yyyy-mm-dd" if column.kind == "date" else "General")
        alignment = Alignment(vertical="center", wrap_text=column.wrap, horizontal="center" if column.value == "row_number" else None)
        styles.append(NamedStyle(name=f"column{index}", font=BODY_FONT, alignment=alignment, border=BORDER, number_format=number_format))

    def write(rows: list[list], path: Path) -> None:
        workbook = Workbook(write_only=True)
        for style in styles:
            workbook.add_named_style(style)
        names = [style.name for style in styles]
        sheet = workbook.create_sheet(title=template.title[:31])
        for values in rows:
            cells = []
            for value, name in zip(values, names, strict=True):
                cell = WriteOnlyCell(sheet, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # as the exporter: text, never a formula
                cell.style = name
                cells.append(cell)
            sheet.append(cells)
        workbook.save(path)

    return write


# --- peak memory, in a child process -------------------------------------------------------


def _status(field: str) -> int:
    """A `/proc/self/status` memory line (VmRSS, VmHWM) in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")  # reset VmHWM to the current VmRSS
        return True
    except OSError:
        return False


async def memory_child(scale: int, region: str, warmup_region: str, token: str, out: Path) -> None:
    """Run in a fresh process: one export's peak memory growth, printed as a JSON line.

    Measured twice: the first export after a small warm-up (SQLite's page caches, 2 MB per
    connection, still filling), then the same export again (caches full, as in a server that has
    been running): the second is the export's own memory.
    """
    import resource

    from hub.web.app import create_app
    from hub.web.background_server import serve_in_thread

    settings = bench_settings(scale)
    runs = []
    with serve_in_thread(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=1800, headers={"authorization": f"Bearer {token}"}) as client:
            await download(client, warmup_region, out)
            for _ in range(2):
                gc.collect()
                before = _status("VmRSS")
                maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
                reset = _reset_peak()
                started = time.perf_counter()
                resident: list[int] = []  # VmRSS after each chunk received
                size = await download(client, region, out, lambda: resident.append(_status("VmRSS")))
                seconds = time.perf_counter() - started
                peak = _status("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
                baseline = before if reset else maxrss_before
                # Growth over the second half of the rows: anything kept per row shows here.
                half = resident[len(resident) // 2 :]
                runs.append({"before": before, "peak": peak, "growth": peak - baseline, "seconds": seconds, "bytes": size,
                             "second_half": max(half) - half[0]})
    print(json.dumps({**runs[1], "growth_first": runs[0]["growth"], "second_half_first": runs[0]["second_half"],
                      "method": "VmHWM after clear_refs" if reset else "ru_maxrss"}))


def measure_memory(scale: int, region: str, warmup_region: str, token: str, out: Path, templates_dir: Path) -> dict:
    env = {**os.environ, "HUB_TEMPLATES_DIR": str(templates_dir)}
    command = [sys.executable, "-m", "bench.exports", "--scale", str(scale), "--memory-child", region, warmup_region, str(out)]
    done = subprocess.run(command, env={**env, "BENCH_TOKEN": token}, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the benchmark -------------------------------------------------------------------------


async def main(scale: int, rounds: int, rows: int = 100_000) -> None:
    started = time.perf_counter()
    settings = bench_settings(scale)
    engine = await seeded_engine(settings, scale)
    counts, villages = await person_counts(engine)
    code, name, persons = closest(counts, rows)
    small_code, small_name, small_persons = closest(counts, MEMORY_ROWS)
    warmup_village = min(villages, key=lambda v: (abs(v[1] - 200), v[0]))[0]  # a village of ~200 persons
    token = await token_for(engine, "admin")
    await engine.dispose()

    with tempfile.TemporaryDirectory(prefix="bench-exports-") as work:
        work = Path(work)
        templates = work / "templates"
        templates.mkdir()
        template = load_bench_template(write_template(templates), settings)
        os.environ["HUB_TEMPLATES_DIR"] = str(templates)  # before create_app: the app loads only this template
        print(f"{name} ({code}): {persons:,} persons; memory also at {small_name} ({small_code}): {small_persons:,}",
              flush=True)

        # Peak memory first, each size in a fresh process, while this one is idle.
        memory = []
        for size_code, size_rows in ((small_code, small_persons), (code, persons)):
            print(f"peak memory: exporting {size_rows:,} rows in a child process …", flush=True)
            measured = measure_memory(scale, size_code, warmup_village, token, work / f"memory-{size_code}.xlsx", templates)
            memory.append((size_rows, measured))
        small, big = memory[0][1], memory[1][1]
        # The big child's file is the hub's export of exactly these rows: the floor writes its cells.
        cells = read_cells(work / f"memory-{code}.xlsx", template)
        assert len(cells) == persons, (len(cells), persons)
        assert [r[0] for r in cells[:3]] == [1, 2, 3] and cells[-1][0] == persons
        gc.collect()
        gc.freeze()  # the floor's 100k rows stay out of every later collection (the export's too)
        write_floor = floor_writer(template)

        from hub.web.app import create_app
        from hub.web.background_server import serve_in_thread

        with serve_in_thread(create_app(settings)) as url:
            async with httpx.AsyncClient(base_url=url, timeout=1800, headers={"authorization": f"Bearer {token}"}) as client:
                sizes = {}

                async def hub() -> None:
                    sizes["hub"] = await download(client, code, work / "hub.xlsx")

                async def floor() -> None:
                    write_floor(cells, work / "floor.xlsx")
                    sizes["floor"] = (work / "floor.xlsx").stat().st_size

                await download(client, small_code, work / "warmup.xlsx")  # this server's first export
                times = await interleaved(rounds, warmup=0, openpyxl_write_only=floor, hub_export_http=hub)
        expected = big["bytes"]
        assert abs(sizes["hub"] - expected) <= 0.01 * expected, (sizes["hub"], expected)  # the same file, give or take zip timestamps

    print(f"\n{name} ({code}): {persons:,} rows × {len(template.columns)} columns; database sqlite; "
          f"hub file {sizes['hub'] / MB:.1f} MB, floor file {sizes['floor'] / MB:.1f} MB")
    ratios = report(f"template export ({persons:,} rows) vs openpyxl write-only, same cells and styles", times,
                    "openpyxl_write_only", "ratio ≤ 1.5")
    print(f"\npeak memory growth during one export ({big['method']}, fresh process per size):")
    for size_rows, m in memory:
        print(f"  {size_rows:>9,} rows: +{m['growth'] / MB:7.1f} MB exported again, caches full (process peak "
              f"{m['peak'] / MB:.1f} MB, {m['seconds']:.1f} s); +{m['growth_first'] / MB:.1f} MB the first time")
    memory_ratio = big["growth"] / small["growth"]
    first_ratio = big["growth_first"] / small["growth_first"]
    print(f"  ratio {memory_ratio:.2f} ({persons:,} / {small_persons:,} rows; the first time {first_ratio:.2f}); "
          "target: within 20% (≤ 1.20)")
    print(f"  resident memory over the second half of the {persons:,} rows: {big['second_half_first'] / MB:+.1f} MB the "
          f"first time, {big['second_half'] / MB:+.1f} MB the second")
    print(f"total benchmark time {time.perf_counter() - started:.0f} s")
    print(f"RESULT exports ratio={ratios['hub_export_http']:.2f} rows={persons} "
          f"hub_ms={statistics.median(times['hub_export_http']) * 1000:.0f} "
          f"floor_ms={statistics.median(times['openpyxl_write_only']) * 1000:.0f} "
          f"peak_mb_{small_persons}={small['growth'] / MB:.1f} peak_mb_{persons}={big['growth'] / MB:.1f} "
          f"memory_ratio={memory_ratio:.2f} memory_ratio_first={first_ratio:.2f} "
          f"second_half_mb={big['second_half_first'] / MB:.1f}")


SUITE_ROUNDS = 3


async def suite(scale: int, rounds: int) -> None:
    """For `python -m bench`: at most 3 rounds (each writes 100,000 rows twice), 100,000 rows."""
    if rounds > SUITE_ROUNDS:
        print(f"exports: {SUITE_ROUNDS} rounds, not {rounds} (each round exports 100,000 rows; "
              f"`python -m bench.exports --rounds N` for more)", flush=True)
    await main(scale, min(rounds, SUITE_ROUNDS))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=300)
    parser.add_argument("--rows", type=int, default=100_000, help="export the region with the person count closest to this")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--memory-child", nargs=3, metavar=("REGION", "WARMUP_REGION", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        region, warmup_region, out = args.memory_child
        run(memory_child(args.scale, region, warmup_region, os.environ["BENCH_TOKEN"], Path(out)))
    else:
        run(main(args.scale, args.rounds, args.rows))
