"""Validators for the national identifiers that cross every input boundary.

Pure functions, no database. Every rejection is an `InvalidIdentifier` (a
`ValueError`) whose message is a reason a user can act on; the caller prefixes
the field name ("idNumber：校验码应为 7，填写的是 5"). The reasons for
numbers cadres type (ID numbers, credit codes, mobile numbers) are in Chinese;
region codes are checked only when the region tree is built.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from dataclasses import dataclass
from typing import Literal

from hub import clock


class InvalidIdentifier(ValueError):
    """An identifier that fails its standard's structure or check character."""


# Province-level division codes (GB/T 2260): the first two digits of every
# citizen ID number and statistical division code.
PROVINCE_CODES = frozenset(
    f"{n:02d}"
    for n in (
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
    )
)

# --- GB 11643 citizen ID number ------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_EARLIEST_BIRTH = dt.date(1900, 1, 1)


@dataclass(frozen=True)
class CitizenId:
    number: str
    gender: Literal["MALE", "FEMALE"]
    birth_date: dt.date


def id_number_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise InvalidIdentifier(f"计算校验码需要 17 位数字，给的是 {first17!r}")
    return _ID_CHECK_CHARS[sum(map(operator.mul, map(int, first17), _ID_WEIGHTS)) % 11]


def parse_id_number(value: str, today: dt.date | None = None) -> CitizenId:
    """Validate an 18-character ID number; `today` bounds the birth date (default: the hub's clock)."""
    number = value.strip().upper()
    if len(number) != 18:
        raise InvalidIdentifier(f"应为 18 位，填写了 {len(number)} 位")
    body = number[:17]
    if not (body.isascii() and body.isdigit()):
        raise InvalidIdentifier("前 17 位必须是数字")
    if not (number[17].isdigit() or number[17] == "X"):
        raise InvalidIdentifier(f"最后一位必须是数字或 X，填写的是 {number[17]!r}")
    if number[:2] not in PROVINCE_CODES:
        raise InvalidIdentifier(f"前两位 {number[:2]} 不是省级行政区划代码")
    birth_digits = number[6:14]
    try:
        birth_date = dt.date(int(birth_digits[:4]), int(birth_digits[4:6]), int(birth_digits[6:]))
    except ValueError:
        raise InvalidIdentifier(f"出生日期 {birth_digits} 不是真实存在的日期") from None
    if birth_date < _EARLIEST_BIRTH:
        raise InvalidIdentifier(f"出生日期 {birth_digits} 早于 19000101")
    if birth_date > (today or clock.today()):
        raise InvalidIdentifier(f"出生日期 {birth_digits} 晚于今天")
    expected = id_number_check_char(body)
    if number[17] != expected:
        raise InvalidIdentifier(f"校验码应为 {expected}，填写的是 {number[17]}")
    # The 17th digit (sequence code) is odd for men, even for women.
    gender: Literal["MALE", "FEMALE"] = "MALE" if int(number[16]) % 2 else "FEMALE"
    return CitizenId(number=number, gender=gender, birth_date=birth_date)


def upgrade_id15(old: str, today: dt.date | None = None) -> str:
    """Convert a first-generation 15-digit ID (issued before 1999, two-digit year 19xx) to 18 characters."""
    old = old.strip()
    if len(old) != 15 or not (old.isascii() and old.isdigit()):
        raise InvalidIdentifier(f"应为 15 位数字，填写的是 {old!r}")
    first17 = old[:6] + "19" + old[6:]
    return parse_id_number(first17 + id_number_check_char(first17), today).number


# --- GB 32100 unified social credit code --------------------------------------

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUES = {c: i for i, c in enumerate(CREDIT_CODE_CHARS)}
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Registration authorities of GB 32100-2015 (1 编制, 5 民政, 9 工商/市场监管, N 农业, Y 其他, …).
CREDIT_AUTHORITIES = "123456789ANY"


def credit_code_check_char(first17: str) -> str:
    """Check character (position 18) of a unified social credit code."""
    try:
        total = sum(_CREDIT_VALUES[c] * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    except (KeyError, ValueError):
        raise InvalidIdentifier(
            f"计算校验码需要 17 个取自 {CREDIT_CODE_CHARS} 的字符，给的是 {first17!r}"
        ) from None
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> str:
    """Return the normalised (upper-case) code or raise with the reason."""
    code = value.strip().upper()
    if len(code) != 18:
        raise InvalidIdentifier(f"应为 18 位，填写了 {len(code)} 位")
    bad = sorted({c for c in code if c not in _CREDIT_VALUES})
    if bad:
        raise InvalidIdentifier(
            f"不允许字符 {bad[0]!r}（只能用数字和除 I、O、S、V、Z 以外的大写字母）"
        )
    if code[0] not in CREDIT_AUTHORITIES:
        raise InvalidIdentifier(f"登记管理部门代码 {code[0]} 不是 1–9、A、N、Y 之一")
    if not code[2:8].isdigit():
        raise InvalidIdentifier(f"第 3–8 位应为 6 位行政区划代码，填写的是 {code[2:8]}")
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        raise InvalidIdentifier(f"校验码应为 {expected}，填写的是 {code[17]}")
    return code


# Organisation code (GB 11714), characters 9-17 of a credit code; its own check
# character is what the registries issue, so demo codes carry a correct one.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organization_code_check_char(first8: str) -> str:
    """Check character (9th) of a GB 11714 organisation code body of 8 digits/upper-case letters."""
    if len(first8) != 8 or not re.fullmatch(r"[0-9A-Z]{8}", first8):
        raise InvalidIdentifier(f"计算校验码需要 8 位数字或大写字母，给的是 {first8!r}")
    total = sum(int(c, 36) * w for c, w in zip(first8, _ORG_WEIGHTS))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


# --- Mainland mobile numbers ---------------------------------------------------

_MOBILE = re.compile(r"1[3-9]\d{9}")


def validate_mobile(value: str) -> str:
    """Return the bare 11-digit mobile number; spaces, hyphens and a +86/86 prefix are dropped."""
    number = re.sub(r"[\s-]", "", value)
    if number.startswith("+86"):
        number = number[3:]
    elif number.startswith("86") and len(number) == 13:
        number = number[2:]
    if not re.fullmatch(r"[0-9]*", number):
        raise InvalidIdentifier("手机号码只能包含数字（可以有空格、连字符和 +86 前缀）")
    if len(number) != 11:
        raise InvalidIdentifier(f"手机号码应为 11 位数字，填写了 {len(number)} 位")
    if not _MOBILE.fullmatch(number):
        raise InvalidIdentifier(f"手机号码应以 13–19 开头，填写的是 {number[:2]}")
    return number


# --- Statistical division codes (12 digits) -----------------------------------

REGION_LEVELS = ("CITY", "DISTRICT", "TOWN", "VILLAGE")
# Significant digits per level: PPCC / PPCCDD / PPCCDDTTT / PPCCDDTTTVVV.
_PREFIX_LENGTH = {"CITY": 4, "DISTRICT": 6, "TOWN": 9, "VILLAGE": 12}
# Each level's own digits, which must not be all zero.
_OWN_PART = {"CITY": (2, 4), "DISTRICT": (4, 6), "TOWN": (6, 9), "VILLAGE": (9, 12)}


def _prefix_length(level: str) -> int:
    try:
        return _PREFIX_LENGTH[level]
    except KeyError:
        raise InvalidIdentifier(f"level must be one of {', '.join(REGION_LEVELS)}, got {level!r}") from None


def region_prefix(code: str, level: str) -> str:
    """Significant prefix of a code: every code in the subtree starts with it."""
    return code[: _prefix_length(level)]


def subtree_bounds(code: str, level: str) -> tuple[str, str]:
    """Lowest and highest 12-digit code in the subtree, for `code BETWEEN lo AND hi`."""
    prefix = region_prefix(code, level)
    return prefix.ljust(12, "0"), prefix.ljust(12, "9")


def _check_structure(code: str, level: str, what: str) -> None:
    """`what` is "" for the code itself or "parent " for its parent's code."""
    size = _prefix_length(level)
    if len(code) != 12 or not (code.isascii() and code.isdigit()):
        raise InvalidIdentifier(f"{what}must be 12 digits, got {code!r}")
    if code[:2] not in PROVINCE_CODES:
        raise InvalidIdentifier(f"{what}{code} does not start with a province code")
    if code[size:] != "0" * (12 - size):
        raise InvalidIdentifier(f"{what}{code} is not a {level} code: digits {size + 1}-12 must be 0")
    start, end = _OWN_PART[level]
    if code[start:end] == "0" * (end - start):
        raise InvalidIdentifier(f"{what}{code} is not a {level} code: digits {start + 1}-{end} must not all be 0")


def validate_region_code(code: str, level: str, parent_code: str | None) -> str:
    """Check a code's structure for its level and that it sits under its parent.

    The hub's tree starts at the city, so a CITY has no parent and every other
    level needs one.
    """
    code = code.strip()
    _check_structure(code, level, "")
    index = REGION_LEVELS.index(level)
    if index == 0:
        if parent_code is not None:
            raise InvalidIdentifier("a CITY has no parent region")
        return code
    parent_level = REGION_LEVELS[index - 1]
    if parent_code is None:
        raise InvalidIdentifier(f"a {level} needs a parent {parent_level}")
    _check_structure(parent_code, parent_level, "parent ")
    if not code.startswith(region_prefix(parent_code, parent_level)):
        raise InvalidIdentifier(f"{code} is not inside {parent_level} {parent_code}")
    return code
