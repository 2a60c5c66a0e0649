"""Validators of hub.identifiers: known-good values, every rejection reason, round trips."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from hub.access.masking import mask_id_number, mask_phone
from hub.data.identifiers import (
    CREDIT_AUTHORITIES,
    CREDIT_CODE_CHARS,
    CitizenId,
    InvalidIdentifier,
    credit_code_check_char,
    id_number_check_char,
    organization_code_check_char,
    parse_id_number,
    region_prefix,
    subtree_bounds,
    upgrade_id15,
    validate_credit_code,
    validate_mobile,
    validate_region_code,
)

TODAY = dt.date(2026, 11, 1)


def rejects(func, *args, reason: str, **kwargs) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        func(*args, **kwargs)
    assert str(caught.value) == reason


# --- GB 11643 citizen ID numbers ----------------------------------------------


def test_standard_example_parses():
    # The example printed in GB 11643-1999.
    assert parse_id_number("11010519491231002X") == CitizenId(
        number="11010519491231002X", gender="FEMALE", birth_date=dt.date(1949, 12, 31)
    )
    assert issubclass(InvalidIdentifier, ValueError)


def test_lower_case_x_and_spaces_are_normalised():
    assert parse_id_number("  11010519491231002x ").number == "11010519491231002X"


def test_gender_comes_from_the_17th_digit():
    first17 = "35030419900101001"  # sequence 001: odd, a man
    assert parse_id_number(first17 + id_number_check_char(first17)).gender == "MALE"
    first17 = "35030419900101002"
    assert parse_id_number(first17 + id_number_check_char(first17)).gender == "FEMALE"


def test_check_char_of_known_numbers():
    assert id_number_check_char("11010519491231002") == "X"
    assert id_number_check_char("44052418800101001") == "4"
    assert id_number_check_char("35030419990231123") == "1"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("11010519491231002", "应为 18 位，填写了 17 位"),
        ("11010519491231002X1", "应为 18 位，填写了 19 位"),
        ("", "应为 18 位，填写了 0 位"),
        ("1101051949123100AX", "前 17 位必须是数字"),
        ("１１０１０５１９４９１２３１００２X", "前 17 位必须是数字"),  # full-width digits
        ("11010519491231002Y", "最后一位必须是数字或 X，填写的是 'Y'"),
        ("99010519491231002X", "前两位 99 不是省级行政区划代码"),
        ("00010519491231002X", "前两位 00 不是省级行政区划代码"),
        ("350304199902311231", "出生日期 19990231 不是真实存在的日期"),
        ("350304199913011231", "出生日期 19991301 不是真实存在的日期"),
        ("440524188001010014", "出生日期 18800101 早于 19000101"),  # GB 11643's own 1880 example
        ("350304202611021234", "出生日期 20261102 晚于今天"),
        ("110105194912310021", "校验码应为 X，填写的是 1"),
        ("11010519491231002X"[:-1] + "5", "校验码应为 X，填写的是 5"),
    ],
)
def test_id_number_rejections(value, reason):
    rejects(parse_id_number, value, TODAY, reason=reason)


def test_birth_date_on_today_is_accepted():
    first17 = "35030420261101123"
    assert parse_id_number(first17 + id_number_check_char(first17), TODAY).birth_date == TODAY


def test_check_char_needs_17_digits():
    rejects(id_number_check_char, "1101051949123100", reason="计算校验码需要 17 位数字，给的是 '1101051949123100'")


def test_upgrade_15_digit_number():
    assert upgrade_id15("110105491231002") == "11010519491231002X"
    assert upgrade_id15(" 350304850601123 ") == "35030419850601123" + id_number_check_char("35030419850601123")


def test_upgrade_rejections():
    rejects(upgrade_id15, "11010549123100", reason="应为 15 位数字，填写的是 '11010549123100'")
    rejects(upgrade_id15, "11010549123100X", reason="应为 15 位数字，填写的是 '11010549123100X'")
    rejects(upgrade_id15, "350304990231123", reason="出生日期 19990231 不是真实存在的日期")


def test_generated_id_numbers_round_trip():
    rng = random.Random(11643)
    provinces = ["11", "35", "44", "65", "71", "82"]
    for _ in range(2000):
        birth = dt.date(1900, 1, 1) + dt.timedelta(days=rng.randrange((TODAY - dt.date(1900, 1, 1)).days + 1))
        sequence = rng.randrange(1000)
        first17 = f"{rng.choice(provinces)}{rng.randrange(10000):04d}{birth:%Y%m%d}{sequence:03d}"
        check = id_number_check_char(first17)
        parsed = parse_id_number(first17 + check.lower(), TODAY)
        assert parsed.number == first17 + check
        assert parsed.birth_date == birth
        assert parsed.gender == ("MALE" if sequence % 2 else "FEMALE")
        wrong = rng.choice([c for c in "0123456789X" if c != check])
        rejects(parse_id_number, first17 + wrong, TODAY, reason=f"校验码应为 {check}，填写的是 {wrong}")
        # MOD 11-2 catches every single-digit error and every adjacent transposition.
        position = rng.randrange(17)
        digit = rng.choice([d for d in "0123456789" if d != first17[position]])
        with pytest.raises(InvalidIdentifier):
            parse_id_number(first17[:position] + digit + first17[position + 1 :] + check, TODAY)
        position = rng.randrange(16)
        if first17[position] != first17[position + 1]:
            swapped = first17[:position] + first17[position + 1] + first17[position] + first17[position + 2 :]
            with pytest.raises(InvalidIdentifier):
                parse_id_number(swapped + check, TODAY)


# --- GB 32100 unified social credit codes ----------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y43",  # the commonly cited Fujian example
        "91110000100010433L",
        "914403001922038216",
        "91440300708461136T",
    ],
)
def test_known_credit_codes(code):
    assert validate_credit_code(code) == code
    assert credit_code_check_char(code[:17]) == code[17]
    # Characters 9-17 are a GB 11714 organisation code with its own check character.
    assert organization_code_check_char(code[8:16]) == code[16]


def test_credit_code_is_normalised():
    assert validate_credit_code(" 91350100m000100y43 ") == "91350100M000100Y43"


def test_check_char_wraps_31_to_0():
    # A sum that is a multiple of 31 gives check value 31, written as 0.
    assert credit_code_check_char("0" * 17) == "0"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("91350100M000100Y4", "应为 18 位，填写了 17 位"),
        ("91350100M000100Y433", "应为 18 位，填写了 19 位"),
        ("91350100I000100Y43", "不允许字符 'I'（只能用数字和除 I、O、S、V、Z 以外的大写字母）"),
        ("91350100M000100Y4-", "不允许字符 '-'（只能用数字和除 I、O、S、V、Z 以外的大写字母）"),
        ("B1350100M000100Y43", "登记管理部门代码 B 不是 1–9、A、N、Y 之一"),
        ("01350100M000100Y43", "登记管理部门代码 0 不是 1–9、A、N、Y 之一"),
        ("9135A100M000100Y43", "第 3–8 位应为 6 位行政区划代码，填写的是 35A100"),
        ("91350100M000100Y44", "校验码应为 3，填写的是 4"),
    ],
)
def test_credit_code_rejections(value, reason):
    rejects(validate_credit_code, value, reason=reason)


def test_credit_check_char_needs_17_valid_characters():
    rejects(
        credit_code_check_char,
        "91350100M000100Y",
        reason=f"计算校验码需要 17 个取自 {CREDIT_CODE_CHARS} 的字符，给的是 '91350100M000100Y'",
    )
    rejects(
        credit_code_check_char,
        "91350100O000100Y4",
        reason=f"计算校验码需要 17 个取自 {CREDIT_CODE_CHARS} 的字符，给的是 '91350100O000100Y4'",
    )


def test_organization_check_chars_x_and_0():
    assert organization_code_check_char("00000006") == "X"  # check value 10
    assert organization_code_check_char("00000000") == "0"  # check value 11
    rejects(
        organization_code_check_char,
        "0000000a",
        reason="计算校验码需要 8 位数字或大写字母，给的是 '0000000a'",
    )


def test_generated_credit_codes_round_trip():
    rng = random.Random(32100)
    for _ in range(2000):
        first17 = (
            rng.choice(CREDIT_AUTHORITIES)
            + rng.choice(CREDIT_CODE_CHARS)
            + f"{rng.randrange(10**6):06d}"
            + "".join(rng.choices(CREDIT_CODE_CHARS, k=9))
        )
        check = credit_code_check_char(first17)
        assert validate_credit_code((first17 + check).lower()) == first17 + check
        wrong = rng.choice([c for c in CREDIT_CODE_CHARS if c != check])
        rejects(validate_credit_code, first17 + wrong, reason=f"校验码应为 {check}，填写的是 {wrong}")
        # MOD 31 with weights coprime to 31 catches every single-character error.
        position = rng.randrange(8, 17)
        other = rng.choice([c for c in CREDIT_CODE_CHARS if c != first17[position]])
        with pytest.raises(InvalidIdentifier):
            validate_credit_code(first17[:position] + other + first17[position + 1 :] + check)


# --- mobile numbers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["13800138000", " 138 0013 8000 ", "138-0013-8000", "+86 138 0013 8000", "+8613800138000", "8613800138000"],
)
def test_mobile_forms(value):
    assert validate_mobile(value) == "13800138000"


def test_every_mobile_second_digit_3_to_9():
    for second in "3456789":
        assert validate_mobile(f"1{second}912345678") == f"1{second}912345678"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1380013800", "手机号码应为 11 位数字，填写了 10 位"),
        ("138001380001", "手机号码应为 11 位数字，填写了 12 位"),
        ("12800138000", "手机号码应以 13–19 开头，填写的是 12"),
        ("23800138000", "手机号码应以 13–19 开头，填写的是 23"),
        ("+86 12800138000", "手机号码应以 13–19 开头，填写的是 12"),
        ("138001380O0", "手机号码只能包含数字（可以有空格、连字符和 +86 前缀）"),
        ("(0594)2671234", "手机号码只能包含数字（可以有空格、连字符和 +86 前缀）"),
        ("", "手机号码应为 11 位数字，填写了 0 位"),
    ],
)
def test_mobile_rejections(value, reason):
    rejects(validate_mobile, value, reason=reason)


# --- statistical division codes --------------------------------------------------


def test_putian_hierarchy_is_valid():
    assert validate_region_code("350300000000", "CITY", None) == "350300000000"
    assert validate_region_code("350304000000", "DISTRICT", "350300000000") == "350304000000"
    assert validate_region_code("350304100000", "TOWN", "350304000000") == "350304100000"
    assert validate_region_code("350304001000", "TOWN", "350304000000") == "350304001000"
    assert validate_region_code("350304100001", "VILLAGE", "350304100000") == "350304100001"
    assert validate_region_code("350304100200", "VILLAGE", "350304100000") == "350304100200"


@pytest.mark.parametrize(
    ("code", "level", "parent", "reason"),
    [
        ("35030400000", "DISTRICT", "350300000000", "must be 12 digits, got '35030400000'"),
        ("35030400000A", "DISTRICT", "350300000000", "must be 12 digits, got '35030400000A'"),
        ("990300000000", "CITY", None, "990300000000 does not start with a province code"),
        ("350000000000", "CITY", None, "350000000000 is not a CITY code: digits 3-4 must not all be 0"),
        ("350300100000", "CITY", None, "350300100000 is not a CITY code: digits 5-12 must be 0"),
        ("350300000000", "DISTRICT", "350300000000",
         "350300000000 is not a DISTRICT code: digits 5-6 must not all be 0"),
        ("350304100000", "DISTRICT", "350300000000", "350304100000 is not a DISTRICT code: digits 7-12 must be 0"),
        ("350304000000", "TOWN", "350304000000", "350304000000 is not a TOWN code: digits 7-9 must not all be 0"),
        ("350304100001", "TOWN", "350304000000", "350304100001 is not a TOWN code: digits 10-12 must be 0"),
        ("350304100000", "VILLAGE", "350304100000",
         "350304100000 is not a VILLAGE code: digits 10-12 must not all be 0"),
        ("350300000000", "CITY", "350000000000", "a CITY has no parent region"),
        ("350304000000", "DISTRICT", None, "a DISTRICT needs a parent CITY"),
        ("350304000000", "DISTRICT", "350400000000", "350304000000 is not inside CITY 350400000000"),
        ("350304100000", "TOWN", "350305000000", "350304100000 is not inside DISTRICT 350305000000"),
        ("350304100001", "VILLAGE", "350304101000", "350304100001 is not inside TOWN 350304101000"),
        ("350304100001", "VILLAGE", "350304000000",
         "parent 350304000000 is not a TOWN code: digits 7-9 must not all be 0"),
        ("350304100000", "TOWN", "350304100000", "parent 350304100000 is not a DISTRICT code: digits 7-12 must be 0"),
        ("350304100000", "TOWN", "3503040", "parent must be 12 digits, got '3503040'"),
        ("350304100000", "PROVINCE", None, "level must be one of CITY, DISTRICT, TOWN, VILLAGE, got 'PROVINCE'"),
    ],
)
def test_region_code_rejections(code, level, parent, reason):
    rejects(validate_region_code, code, level, parent, reason=reason)


def test_region_prefix_and_subtree_bounds():
    assert region_prefix("350300000000", "CITY") == "3503"
    assert region_prefix("350304000000", "DISTRICT") == "350304"
    assert region_prefix("350304100000", "TOWN") == "350304100"
    assert region_prefix("350304100001", "VILLAGE") == "350304100001"
    assert subtree_bounds("350300000000", "CITY") == ("350300000000", "350399999999")
    assert subtree_bounds("350304000000", "DISTRICT") == ("350304000000", "350304999999")
    assert subtree_bounds("350304100000", "TOWN") == ("350304100000", "350304100999")
    assert subtree_bounds("350304100001", "VILLAGE") == ("350304100001", "350304100001")


def test_subtree_bounds_contain_exactly_the_subtree():
    lo, hi = subtree_bounds("350304100000", "TOWN")
    inside = ["350304100000", "350304100001", "350304100200"]
    outside = ["350304000000", "350304099999", "350304101000", "350304101001", "350300000000"]
    assert all(lo <= code <= hi for code in inside)
    assert not any(lo <= code <= hi for code in outside)


# --- masking ---------------------------------------------------------------------------


def test_masks():
    assert mask_id_number("350304199001011234") == "350304********1234"
    assert mask_id_number("350304900101123") == "350304*****1123"
    assert mask_id_number("1234") == "****"
    assert mask_id_number(None) is None
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0594-2671234") == "059*****1234"
    assert mask_phone("12345") == "*****"
    assert mask_phone(None) is None
