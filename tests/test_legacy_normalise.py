"""Normalising legacy ledger cells (exact values and reasons), and the messy ledger generator."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from hub.data.identifiers import id_number_check_char, parse_id_number
from hub.data.models import (
    EmploymentStatus,
    Gender,
    HealthStatus,
    HousingSafetyGrade,
    KeyCareReason,
    ResidenceStatus,
)
from hub.legacy import normalise
from tests.support.messy_ledger import HEADERS, Ledger, write_ledger

TODAY = dt.date(2026, 11, 1)
ID = "350304199003070024"  # a woman born 1990-03-07
ID_X = "35030420240101003X"


def rejects(func: Callable[[Any], Any], value: Any, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        func(value)
    assert str(caught.value) == reason


# --- text, name, header -----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  ＡＢ\u3000１２３\xa0 x  ", "AB 123 x"),
        ("荔华路\n12号", "荔华路 12号"),
        ("学园\u200b路", "学园路"),
        ("（备注）：无", "(备注):无"),
        (12, "12"),
        (12.0, "12"),
        (12.5, "12.5"),
        (dt.date(2024, 3, 1), "2024-03-01"),
        (dt.datetime(2024, 3, 1), "2024-03-01"),
        ("", None),
        (" \u3000\xa0 ", None),
        (None, None),
    ],
)
def test_text(raw: Any, expected: str | None) -> None:
    assert normalise.text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("王  秀 英", "王秀英"),
        (" 王\u3000英 ", "王英"),
        ("林秀英", "林秀英"),
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        ("  ", None),
        (None, None),
    ],
)
def test_name(raw: Any, expected: str | None) -> None:
    assert normalise.name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("姓 名", "姓名"),
        ("姓名*", "姓名"),
        ("＊姓名", "姓名"),
        ("身份证号\n(18位)", "身份证号18位"),
        ("身份证号（18位）", "身份证号18位"),
        ("联系电话：", "联系电话"),
        (" 出生年月: ", "出生年月"),
        (2023, "2023"),
        (None, ""),
    ],
)
def test_header(raw: Any, expected: str) -> None:
    assert normalise.header(raw) == expected


# --- identifiers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (ID, ID),
        (f" {ID} ", ID),
        ("350304 19900307 0024", ID),
        ("350304-19900307-0024", ID),
        ("３５０３０４１９９００３０７００２４", ID),
        ("'" + ID, ID),
        (ID_X.lower(), ID_X),
        ("35030420240101003ｘ", ID_X),
        ("350304640229002", "350304196402290020"),
        (" 350304 640229 002 ", "350304196402290020"),
        (350304640229002, "350304196402290020"),
        (350304640229002.0, "350304196402290020"),
        ("", None),
        (None, None),
    ],
)
def test_id_number(raw: Any, expected: str | None) -> None:
    assert normalise.id_number(raw, today=TODAY) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (3.50304199003070e17, normalise.ID_STORED_AS_NUMBER),
        (350304199003070000, normalise.ID_STORED_AS_NUMBER),
        (35030419900307, normalise.ID_STORED_AS_NUMBER),
        ("350304199003070025", "校验码应为 4，填写的是 5"),
        ("35030419900307002", "应为 18 位，填写了 17 位"),
        ("3503041990030700241", "应为 18 位，填写了 19 位"),
        ("35030419900307002Y", "最后一位必须是数字或 X，填写的是 'Y'"),
        ("990304199003070024", "前两位 99 不是省级行政区划代码"),
        ("350304199002300024", "出生日期 19900230 不是真实存在的日期"),
        ("350304203001010010", "出生日期 20300101 晚于今天"),
        ("35030464022900X", "应为 15 位数字，填写的是 '35030464022900X'"),
        ("350304640230002", "出生日期 19640230 不是真实存在的日期"),
    ],
)
def test_id_number_reasons(raw: Any, reason: str) -> None:
    rejects(functools.partial(normalise.id_number, today=TODAY), raw, reason)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        (" 138 1234 5678 ", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("８６１３８１２３４５６７８", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        (13812345678, "13812345678"),
        (13812345678.0, "13812345678"),
        ("", None),
        (None, None),
    ],
)
def test_mobile(raw: Any, expected: str | None) -> None:
    assert normalise.mobile(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("0594-2345678", "0594-2345678 是固定电话号码：请填写手机号码（1 开头的 11 位数字）"),
        ("(0594)23456789", "(0594)23456789 是固定电话号码：请填写手机号码（1 开头的 11 位数字）"),
        ("０５９４ ２３４５６７８", "0594 2345678 是固定电话号码：请填写手机号码（1 开头的 11 位数字）"),
        ("2345678", "2345678 是固定电话号码：请填写手机号码（1 开头的 11 位数字）"),
        ("1381234567", "手机号码应为 11 位数字，填写了 10 位"),
        ("12812345678", "手机号码应以 13–19 开头，填写的是 12"),
        ("13812345678（儿子）", "手机号码只能包含数字（可以有空格、连字符和 +86 前缀）"),
    ],
)
def test_mobile_reasons(raw: Any, reason: str) -> None:
    rejects(normalise.mobile, raw, reason)


# --- dates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (dt.date(2024, 3, 1), dt.date(2024, 3, 1)),
        (dt.datetime(2024, 3, 1, 15, 30), dt.date(2024, 3, 1)),
        ("2024-03-01", dt.date(2024, 3, 1)),
        ("2024/3/1", dt.date(2024, 3, 1)),
        ("2024.3.1", dt.date(2024, 3, 1)),
        ("2024.03.01", dt.date(2024, 3, 1)),
        ("20240301", dt.date(2024, 3, 1)),
        ("2024年3月1日", dt.date(2024, 3, 1)),
        ("2024年3月1", dt.date(2024, 3, 1)),
        ("２０２４年３月１日", dt.date(2024, 3, 1)),
        (" 2024 年 3 月 1 日 ", dt.date(2024, 3, 1)),
        ("2024年3月", dt.date(2024, 3, 1)),
        ("2024-3", dt.date(2024, 3, 1)),
        ("1965.10", dt.date(1965, 10, 1)),
        ("2024-03-01 00:00:00", dt.date(2024, 3, 1)),
        # Excel serials: 45352 is 2024-03-01; a fraction is the time of day.
        (45352, dt.date(2024, 3, 1)),
        (45352.75, dt.date(2024, 3, 1)),
        (1, dt.date(1900, 1, 1)),
        (59, dt.date(1900, 2, 28)),
        (61, dt.date(1900, 3, 1)),
        # yyyymmdd typed into a General cell
        (20240301, dt.date(2024, 3, 1)),
        (20240301.0, dt.date(2024, 3, 1)),
        ("", None),
        (None, None),
    ],
)
def test_date(raw: Any, expected: dt.date | None) -> None:
    assert normalise.date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("2023-02-29", "'2023-02-29' 不是真实存在的日期"),
        ("2024年13月1日", "'2024年13月1日' 不是真实存在的日期"),
        ("20240231", "'20240231' 不是真实存在的日期"),
        (20241301, "'20241301' 不是真实存在的日期"),
        ("3/1/2024", "应为日期（如 2024-03-01），实为 '3/1/2024'"),
        ("2024-3/1", "应为日期（如 2024-03-01），实为 '2024-3/1'"),
        ("去年三月", "应为日期（如 2024-03-01），实为 '去年三月'"),
        ("2024", "应为日期（如 2024-03-01），实为 '2024'"),
        (True, "应为日期（如 2024-03-01），实为 'True'"),
        (60, "60 是 Excel 中 1900-02-29 的序号，这一天并不存在"),
        (0, "0 不是日期"),
        (-5, "-5 不是日期"),
        (3_000_000, "3000000 不是日期"),
        (1965, "1965 只是年份，不是日期"),
        (
            1965.1,
            (
                "1965.1 像是把年月当作数字输入，10 月这样的月份会丢掉末尾的 0："
                "请把该列设为文本格式，再输入如 1965.10"
            ),
        ),
        (dt.date(1899, 12, 31), "'1899-12-31' 不在 1900 年至 2099 年之间"),
        ("2204-03-01", "'2204-03-01' 不在 1900 年至 2099 年之间"),
    ],
)
def test_date_reasons(raw: Any, reason: str) -> None:
    rejects(normalise.date, raw, reason)


# --- yes/no, numbers ---------------------------------------------------------------


@pytest.mark.parametrize("raw", ["是", "√", "✓", "Y", "y", "yes", "YES", "1", 1, 1.0, "true", "True", "有", " 是 ", True])
def test_boolean_true(raw: Any) -> None:
    assert normalise.boolean(raw) is True


@pytest.mark.parametrize("raw", ["否", "×", "✗", "N", "n", "no", "No", "0", 0, "false", "FALSE", "无", "\u3000否", False])
def test_boolean_false(raw: Any) -> None:
    assert normalise.boolean(raw) is False


@pytest.mark.parametrize(("raw", "shown"), [("不详", "'不详'"), (2, "'2'"), ("是的", "'是的'")])
def test_boolean_reasons(raw: Any, shown: str) -> None:
    assert normalise.boolean(None) is None and normalise.boolean(" ") is None
    rejects(normalise.boolean, raw, f"应为 是 或 否（也可写 √/×、Y/N、有/无、1/0），实为 {shown}")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (850, 850.0),
        (850.5, 850.5),
        ("850", 850.0),
        ("1,200.50", 1200.5),
        ("1,234,567", 1234567.0),
        ("１，２００．５", 1200.5),
        ("850元", 850.0),
        ("850 元/月", 850.0),
        ("3人", 3.0),
        ("2.5亩", 2.5),
        ("1.5万元", 1.5),
        ("-20", -20.0),
        ("", None),
        (None, None),
    ],
)
def test_number(raw: Any, expected: float | None) -> None:
    assert normalise.number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("约800", "应为数字，实为 '约800'"),
        ("1,2", "应为数字，实为 '1,2'"),
        ("12,00", "应为数字，实为 '12,00'"),
        ("800美元", "应为数字，实为 '800美元'"),
        ("元", "应为数字，实为 '元'"),
        (True, "应为数字，实为 'True'"),
    ],
)
def test_number_reasons(raw: Any, reason: str) -> None:
    rejects(normalise.number, raw, reason)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(3, 3), (3.0, 3), ("3", 3), ("3人", 3), ("1,200", 1200), ("３", 3), (None, None), (" ", None)],
)
def test_integer(raw: Any, expected: int | None) -> None:
    result = normalise.integer(raw)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(3.5, "应为整数，实为 '3.5'"), ("2.5人", "应为整数，实为 '2.5人'"), ("三", "应为数字，实为 '三'")],
)
def test_integer_reasons(raw: Any, reason: str) -> None:
    rejects(normalise.integer, raw, reason)


# --- enums ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("男", Gender.MALE),
        (" 女 ", Gender.FEMALE),
        ("男性", Gender.MALE),
        ("M", Gender.MALE),
        ("f", Gender.FEMALE),
        ("FEMALE", Gender.FEMALE),
        ("", None),
        (None, None),
    ],
)
def test_gender(raw: Any, expected: Gender | None) -> None:
    assert normalise.gender(raw) is expected


def test_gender_reason() -> None:
    rejects(normalise.gender, "未知", "应为 男、女 之一，实为 '未知'")


@pytest.mark.parametrize(
    ("enum_class", "raw", "expected"),
    [
        (HealthStatus, "健康", HealthStatus.HEALTHY),
        (HealthStatus, "良好", HealthStatus.HEALTHY),
        (HealthStatus, "正常", HealthStatus.HEALTHY),
        (HealthStatus, "慢 性 病", HealthStatus.CHRONIC),
        (HealthStatus, "慢病", HealthStatus.CHRONIC),
        (HealthStatus, "重病", HealthStatus.SERIOUS),
        (HealthStatus, "残疾人", HealthStatus.DISABLED),
        (HealthStatus, "serious", HealthStatus.SERIOUS),
        (KeyCareReason, "因病", KeyCareReason.ILLNESS),
        (KeyCareReason, "病", KeyCareReason.ILLNESS),
        (KeyCareReason, "残", KeyCareReason.DISABILITY),
        (KeyCareReason, "DISABILITY", KeyCareReason.DISABILITY),
        (ResidenceStatus, "在册", ResidenceStatus.RESIDENT),
        (ResidenceStatus, "正常", ResidenceStatus.RESIDENT),
        (ResidenceStatus, "在家", ResidenceStatus.RESIDENT),
        (ResidenceStatus, "外出", ResidenceStatus.MOVED_OUT),
        (ResidenceStatus, "迁出", ResidenceStatus.MOVED_OUT),
        (ResidenceStatus, "已故", ResidenceStatus.DECEASED),
        (ResidenceStatus, "去世", ResidenceStatus.DECEASED),
        (ResidenceStatus, "死亡", ResidenceStatus.DECEASED),
        (EmploymentStatus, "灵活就业", EmploymentStatus.FLEXIBLE),
        (EmploymentStatus, "学生", EmploymentStatus.STUDENT),
        (EmploymentStatus, "待业", EmploymentStatus.UNEMPLOYED),
        (HousingSafetyGrade, "A级（安全）", HousingSafetyGrade.A),
        (HousingSafetyGrade, "C级(局部危险)", HousingSafetyGrade.C),
        (HousingSafetyGrade, "b级", HousingSafetyGrade.B),
        (HousingSafetyGrade, "Ｄ", HousingSafetyGrade.D),
        (HousingSafetyGrade, "整体危险", HousingSafetyGrade.D),
        (HealthStatus, " ", None),
        (HealthStatus, None, None),
    ],
)
def test_choice(enum_class: Any, raw: Any, expected: Any) -> None:
    assert normalise.choice(enum_class, raw) is expected


@pytest.mark.parametrize(
    ("enum_class", "raw", "reason"),
    [
        (HealthStatus, "一般", "应为 健康、慢性病、大病、残疾 之一，实为 '一般'"),
        (KeyCareReason, "因贫", "应为 因病、因残 之一，实为 '因贫'"),
        (ResidenceStatus, "失联", "应为 在册、迁出、死亡 之一，实为 '失联'"),
        (HousingSafetyGrade, "E级", "应为 A级（安全）、B级（基本安全）、C级（局部危险）、D级（整体危险） 之一，实为 'E级'"),
        (EmploymentStatus, 3, "应为 单位就业、灵活就业、务农、失业、在校学生、退休、无劳动能力 之一，实为 '3'"),
    ],
)
def test_choice_reasons(enum_class: Any, raw: Any, reason: str) -> None:
    rejects(functools.partial(normalise.choice, enum_class), raw, reason)


# --- the messy ledger generator ------------------------------------------------------

# Normalised header -> (key of Ledger.people, normaliser)
COLUMNS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "姓名": ("name", normalise.name),
    "性别": ("gender", normalise.gender),
    "身份证号码": ("id_number", normalise.id_number),
    "出生年月": ("birth_date", normalise.date),
    "与户主关系": ("relation_to_head", normalise.text),
    "户主姓名": ("head_name", normalise.name),
    "家庭住址": ("address", normalise.text),
    "联系电话": ("phone", normalise.mobile),
    "健康状况": ("health_status", functools.partial(normalise.choice, HealthStatus)),
    "是否低保": ("low_income", normalise.boolean),
}
ROWS, BAD, DUPLICATES, UPGRADE15 = 400, 12, 15, 20


def read_sheet(path: Path) -> list[tuple[Any, ...]]:
    workbook = load_workbook(path, read_only=True)
    rows = [tuple(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    workbook.close()
    return rows


def normalised(header: tuple[Any, ...], cells: tuple[Any, ...]) -> tuple[dict[str, Any], dict[str, str]]:
    """(values by Ledger.people key, reasons by key) of one data row."""
    values, reasons = {}, {}
    for text, raw in zip(header, cells):
        if normalise.header(text) in COLUMNS:
            key, func = COLUMNS[normalise.header(text)]
            try:
                values[key] = func(raw)
            except ValueError as error:
                reasons[key] = str(error)
    return values, reasons


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Ledger, list[tuple[Any, ...]], Path]:
    path = tmp_path_factory.mktemp("ledger") / "东星社区花名册.xlsx"
    ledger = write_ledger(path, rows=ROWS, seed=11, bad_rows=BAD, duplicate_rows=DUPLICATES, upgrade15=UPGRADE15)
    return ledger, read_sheet(path), path


def data_rows(ledger: Ledger, sheet: list[tuple[Any, ...]]) -> dict[int, tuple[Any, ...]]:
    last = ledger.first_data_row + ROWS - 1
    return {number: sheet[number - 1] for number in range(ledger.first_data_row, last + 1)}


def test_ledger_layout(generated: tuple[Ledger, list[tuple[Any, ...]], Path]) -> None:
    ledger, sheet, path = generated
    assert ledger.first_data_row == ledger.header_row + 1
    assert ledger.header_row in (2, 3)  # one or two title rows
    assert sheet[0][0] == "东星社区 2023年 人员基本信息台账"
    if ledger.header_row == 3:
        assert sheet[1][0] == "填报单位：东星社区居委会   填报日期：2023年12月"
    workbook = load_workbook(path)
    assert {str(r) for r in workbook.active.merged_cells.ranges} == {
        f"A{n}:K{n}" for n in range(1, ledger.header_row)
    }
    header = sheet[ledger.header_row - 1]
    assert header == HEADERS
    assert [normalise.header(h) for h in header] == ["序号", *COLUMNS]
    rows = data_rows(ledger, sheet)
    assert [cells[0] for cells in rows.values()] == list(range(1, ROWS + 1))
    if ledger.total_row is None:
        assert len(sheet) == ledger.first_data_row + ROWS - 1
    else:
        assert ledger.total_row == ledger.first_data_row + ROWS == len(sheet)
        assert sheet[-1][:2] == ("合计", f"共{ROWS}人")


def test_good_rows_give_back_the_people_and_duplicates_collapse(
    generated: tuple[Ledger, list[tuple[Any, ...]], Path],
) -> None:
    ledger, sheet, _ = generated
    header = sheet[ledger.header_row - 1]
    first: dict[str, tuple[int, dict[str, Any]]] = {}
    repeats = []
    for number, cells in data_rows(ledger, sheet).items():
        if number in ledger.bad:
            continue
        values, reasons = normalised(header, cells)
        assert reasons == {}, number
        assert values["name"], number
        if values["id_number"] in first:
            repeats.append(number)
            assert values == first[values["id_number"]][1], number  # the same person, however it was written
        else:
            first[values["id_number"]] = (number, values)
    assert repeats == ledger.duplicates and len(repeats) == DUPLICATES
    assert [values for _, values in first.values()] == ledger.people
    assert len(ledger.people) == ROWS - BAD - DUPLICATES


def test_bad_rows_fail_with_a_reason(generated: tuple[Ledger, list[tuple[Any, ...]], Path]) -> None:
    ledger, sheet, _ = generated
    header = sheet[ledger.header_row - 1]
    assert len(ledger.bad) == BAD
    kinds = set()
    for number, problem in ledger.bad.items():
        values, reasons = normalised(header, sheet[number - 1])
        kind = problem.split(":")[0]
        kinds.add(kind)
        if kind == "missing name":
            assert values["name"] is None and reasons == {}
        elif kind == "wrong check character":
            assert list(reasons) == ["id_number"] and reasons["id_number"].startswith("校验码应为 ")
        elif kind == "impossible birth date":
            assert list(reasons) == ["birth_date"] and reasons["birth_date"].endswith(" 不是真实存在的日期")
        else:
            assert kind == "ID number stored as a number"
            assert reasons == {"id_number": normalise.ID_STORED_AS_NUMBER}
    assert kinds == {"missing name", "wrong check character", "impossible birth date", "ID number stored as a number"}


def test_people_are_consistent_and_grouped_in_households(generated: tuple[Ledger, list[tuple[Any, ...]], Path]) -> None:
    ledger, _, _ = generated
    assert len({p["id_number"] for p in ledger.people}) == len(ledger.people)
    households: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for person in ledger.people:
        citizen = parse_id_number(person["id_number"], TODAY)
        assert person["id_number"].startswith("350304")
        assert (Gender(citizen.gender), citizen.birth_date) == (person["gender"], person["birth_date"])
        assert person["birth_date"] <= dt.date(2023, 12, 1)
        assert person["phone"] is None or normalise.mobile(person["phone"]) == person["phone"]
        households.setdefault((person["head_name"], person["address"]), []).append(person)
    assert len(households) == ledger.households
    assert sum(len(members) > 1 for members in households.values()) > ledger.households / 2
    for (head_name, _), members in households.items():
        heads = [m for m in members if m["relation_to_head"] == "户主"]
        assert len(heads) == 1 and heads[0]["name"] == head_name
        assert len({m["low_income"] for m in members}) == 1


def test_the_ledger_is_messy(generated: tuple[Ledger, list[tuple[Any, ...]], Path]) -> None:
    ledger, sheet, _ = generated
    header = [normalise.header(h) for h in sheet[ledger.header_row - 1]]
    rows = data_rows(ledger, sheet)
    good = [dict(zip(header, cells)) for n, cells in rows.items() if n not in ledger.bad]
    originals = [dict(zip(header, cells)) for n, cells in rows.items() if n not in ledger.bad and n not in ledger.duplicates]
    names = [c["姓名"] for c in good]
    assert any(" " in n.strip() or "\u3000" in n for n in names)
    assert any(n != n.strip() or n.endswith("\u3000") for n in names)
    ids = [c["身份证号码"] for c in originals]
    old = [i for i in ids if len(re.sub(r"\s", "", i)) == 15]
    assert len(old) == UPGRADE15
    assert all(normalise.id_number(i).startswith("35030419") for i in old)
    assert any("３" in i for i in ids) and any(" " in i.strip() for i in ids)
    births = [c["出生年月"] for c in good]
    assert any(isinstance(b, dt.datetime) for b in births)
    assert any(isinstance(b, int) and b < 100_000 for b in births)  # Excel serials
    assert any(isinstance(b, int) and b > 19_000_000 for b in births)  # yyyymmdd typed as a number
    texts = {b for b in births if isinstance(b, str)}
    assert any("年" in b for b in texts) and any("/" in b for b in texts) and any("." in b for b in texts)
    phones = [c["联系电话"] for c in good if c["联系电话"] is not None]
    assert any(isinstance(p, int) for p in phones) and any("１" in str(p) for p in phones)
    assert {c["性别"].strip() for c in good} == {"男", "女"}
    assert {c["是否低保"].strip() for c in good} == {"是", "否"}
    assert {"健康", "良好", "慢性病"} <= {c["健康状况"].strip() for c in good}


def test_same_seed_same_ledger(tmp_path: Path) -> None:
    one = write_ledger(tmp_path / "one.xlsx", rows=60, seed=3, bad_rows=4, duplicate_rows=3, upgrade15=2)
    two = write_ledger(tmp_path / "two.xlsx", rows=60, seed=3, bad_rows=4, duplicate_rows=3, upgrade15=2)
    other = write_ledger(tmp_path / "other.xlsx", rows=60, seed=4, bad_rows=4, duplicate_rows=3, upgrade15=2)
    assert one == two and read_sheet(tmp_path / "one.xlsx") == read_sheet(tmp_path / "two.xlsx")
    assert one.people != other.people


def test_a_village_ledger(tmp_path: Path) -> None:
    ledger = write_ledger(tmp_path / "village.xlsx", rows=30, seed=5, village="西山村")
    sheet = read_sheet(tmp_path / "village.xlsx")
    assert sheet[0][0] == "西山村 2023年 人员基本信息台账"
    if ledger.header_row == 3:
        assert sheet[1][0].startswith("填报单位：西山村村委会")
    assert all(p["address"].startswith("西山村") for p in ledger.people)
    assert ledger.bad == {} and ledger.duplicates == [] and len(ledger.people) == 30


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        ({"rows": 5, "duplicate_rows": 5}, "5 rows leave no good person for 0 bad and 5 duplicate rows"),
        ({"rows": 3, "bad_rows": 4}, "3 rows leave no good person for 4 bad and 0 duplicate rows"),
        ({"rows": 1, "bad_rows": 1}, "bad_rows=1: only 0 of 1 people are not a household head"),
        ({"rows": 10, "duplicate_rows": -1}, "bad_rows, duplicate_rows and upgrade15 cannot be negative"),
        ({"rows": 2, "upgrade15": 3}, "upgrade15=3: only 2 good people were born before 2000"),
    ],
)
def test_impossible_ledgers(tmp_path: Path, arguments: dict[str, int], reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        write_ledger(tmp_path / "x.xlsx", **arguments)
    assert str(caught.value) == reason


def test_check_character_helper_agrees() -> None:
    # The fixed IDs above are real GB 11643 numbers.
    assert ID[17] == id_number_check_char(ID[:17]) and ID_X[17] == id_number_check_char(ID_X[:17])
