"""A village task's fill sheet (任务填报表): the fill-sheet format, for a task's rows.

The sheet is a fill sheet like any other (`hub.forms.xlsx.SheetWriter` with a key):
protected, the base columns pre-filled from the hub and locked grey, only the
indicator columns open (yellow), a hidden key column last. Open cells already
hold the value of this period, or else last period's (recurring requests), so
the cadre confirms or changes it. The key header names the task — `__key__:task:12`,
which no template id can be (ids have no colon) — and each row's key names its
record and, per indicator, the version of the value the sheet was made from:
`sandbags:41:0|pumps:41:1|Region:41`.

Coming back (`POST /fill-sheets`, read by `fill_sheets.read_sheet`), each row is
compared with the task's rows as the caller reads them now: a changed key, a row
not in the task, a changed locked cell, or a value changed in the hub since the
download is a problem in the words of every fill sheet (`fill_sheets`); cells
equal to the hub's value change nothing; the rest go through the task's own write
(`fillTask`'s checks and the indicator write path), all or none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hub.data.models import IndicatorType
from hub.domain.indicators import ValueChange, parse_value
from hub.forms.fill_sheets import (
    CELL,
    CHANGED_IN_HUB,
    DUPLICATE,
    KEY_CHANGED,
    LOCKED,
    NOT_IN_REACH,
    Report,
    same_cell,
)
from hub.forms.templates import Column, Template
from hub.forms.xlsx import SheetWriter

PREFIX = "task:"
NUMBERS = (IndicatorType.INTEGER, IndicatorType.DECIMAL)


def sheet_id(task_id: Any) -> str:
    return f"{PREFIX}{task_id}"


def task_of(sheet: str) -> int | None:
    """The task a sheet's key header names; None for a template's fill sheet."""
    number = sheet[len(PREFIX):] if sheet.startswith(PREFIX) else ""
    return int(number) if number.isascii() and number.isdigit() else None


def layout(task_id: Any, title: str, base_headers: list[str], indicators: list[Any]) -> Template:
    """The sheet's layout as a template's: 序号, the base columns (locked), the indicator columns (open)."""
    columns = [Column(("序号",), None, "row_number", 6, None, False, "、", False, "number")]
    columns += [Column((header,), ("base", str(i)), None, 20, None, True, "、", False) for i, header in enumerate(base_headers)]
    columns += [
        Column((i.name,), ("cells", i.key), None, 14, None, False, "、", True, "number" if i.value_type in NUMBERS else "text")
        for i in indicators
    ]
    return Template(
        sheet_id(task_id), title, "", None, "", None, "rows", (), "A4", "landscape" if len(columns) > 6 else "portrait", True,
        None, (), True, tuple(columns), "task",
    )


@dataclass(frozen=True)
class Indicators:
    """The task's indicators by key, and the row type its keys name (`Region`, `Household` …)."""

    by_key: dict[str, Any]
    row_type: str


def nodes(rows: list[Any], indicators: Indicators) -> list[dict]:
    """The task's rows (`schema.requests.TaskRow`) as the sheet writes them, each with its key."""
    found = []
    for row in rows:
        versions = "|".join(f"{c.key}:{row.entity_id}:{c.version}" for c in row.cells)
        found.append({
            "base": {str(i): b.value for i, b in enumerate(row.base)},
            "cells": {c.key: _offered(indicators.by_key[c.key], c) for c in row.cells},
            "key": f"{versions}|{indicators.row_type}:{row.entity_id}",
        })
    return found


def _offered(indicator: Any, cell: Any) -> Any:
    """This period's value, or else last period's, as the cell holds it (numbers as numbers)."""
    value = cell.value if cell.value is not None else cell.last_period_value
    if value is None or indicator.value_type not in NUMBERS:
        return value
    number = Decimal(value)
    return int(number) if indicator.value_type is IndicatorType.INTEGER else number


def write(template: Template, rows: list[dict], unit: str, today: dt.date, region: str) -> bytes:
    writer = SheetWriter(template, unit, today, fill_key=lambda node: node["key"], region=region)
    try:
        writer.add_nodes(rows)
        return writer.take() + writer.finish()
    finally:
        writer.close()


@dataclass(frozen=True)
class Planned:
    row: int
    column: Column
    change: ValueChange


def read_back(
    template: Template, sheet_rows: list[tuple[int, str, list[Any]]], current: dict[int, Any], indicators: Indicators
) -> tuple[Report, list[Planned]]:
    """Check an uploaded task sheet against the task's rows now (`current`: record id -> TaskRow, as the caller reads them).

    Returns the report (its problems, nothing applied yet) and the cells to write.
    """
    report = Report(template.id, rows=len(sheet_rows))
    base = [(index, c) for index, c in enumerate(template.columns) if c.path and c.path[0] == "base"]
    open_columns = {c.path[1]: (index, c) for index, c in enumerate(template.columns) if c.fill}

    def problem(row: int, column: Column | None, field_name: str | None, code: str, message: str) -> None:
        report.problems.append(
            {"row": row, "column": "/".join(column.headers) if column else None, "field": field_name, "code": code, "message": message}
        )

    planned: list[Planned] = []
    first_row: dict[int, int] = {}
    for number, key, values in sheet_rows:
        try:
            *parts, row_part = key.split("|")
            row_type, record = row_part.split(":")
            versions = {}
            for part in parts:
                indicator, entity, version = part.split(":")
                if entity != record:
                    raise ValueError
                versions[indicator] = int(version)
            entity_id = int(record)
            if row_type != indicators.row_type or set(versions) != set(open_columns):
                raise ValueError
        except ValueError:
            problem(number, None, "key", "INVALID", KEY_CHANGED.format(row=number))
            continue
        row = current.get(entity_id)
        if row is None:
            problem(number, None, "key", "NOT_FOUND", NOT_IN_REACH.format(row=number))
            continue
        if entity_id in first_row:
            problem(number, None, "key", "DUPLICATE_RECORD", DUPLICATE.format(row=number, other=first_row[entity_id]))
            continue
        first_row[entity_id] = number
        for (index, column), cell in zip(base, row.base, strict=True):
            if not same_cell(cell.value, values[index] if index < len(values) else None):
                problem(number, column, None, "LOCKED_CELL", LOCKED.format(row=number, column=column.headers[0]))
        changed = False
        for cell in row.cells:
            index, column = open_columns[cell.key]
            text = _typed(values[index] if index < len(values) else None)
            try:  # checked here too, so one upload names every bad cell (the write checks them again)
                same = parse_value(indicators.by_key[cell.key], text) == cell.value
            except ValueError as error:
                problem(number, column, cell.key, "INVALID", CELL.format(row=number, column=column.headers[0], error=error))
                continue
            if same:
                continue
            changed = True
            if versions[cell.key] != cell.version:
                problem(number, column, cell.key, "CONFLICT", CHANGED_IN_HUB.format(row=number))
                continue
            planned.append(Planned(number, column, ValueChange(cell.key, entity_id, text, versions[cell.key], f"r{number}.{cell.key}")))
        report.unchanged_rows += not changed
    return report, planned


def report_problems(report: Report, planned: list[Planned], errors: list[Any]) -> None:
    """The write's refusals (`FieldError`s of the planned cells' `where`) as the sheet's problems, in its words."""
    by_where = {p.change.where: p for p in planned}
    for error in errors:
        where, _, part = error.field.rpartition(".")
        cell = by_where.get(where)
        if cell is None:  # the task itself (closed meanwhile): the message as the mutation gives it
            report.problems.append({"row": 0, "column": None, "field": error.field, "code": error.code, "message": error.message})
            continue
        header = cell.column.headers[0]
        message = CHANGED_IN_HUB.format(row=cell.row) if part == "version" else CELL.format(
            row=cell.row, column=header, error=error.message.split("：", 1)[1]
        )
        report.problems.append({"row": cell.row, "column": header, "field": cell.change.key, "code": error.code, "message": message})


def _typed(raw: Any) -> str | None:
    """What a cadre typed, as the text an indicator value is written from."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() else repr(raw)
    return str(raw).strip() or None
