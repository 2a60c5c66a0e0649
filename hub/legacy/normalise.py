"""Turning what people typed into old ledgers into the hub's values.

Every function takes one cell as openpyxl reads it (str, int, float, datetime,
date or None) and returns the hub's value, or raises `ValueError` with a reason
a cadre can act on, in Chinese; the caller prefixes the column name. A blank cell (None,
or nothing but spaces) is None.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from typing import TypeGuard, TypeVar, cast

from hub.data.identifiers import parse_id_number, upgrade_id15, validate_mobile
from hub.data.models import (
    EmploymentStatus,
    Gender,
    HealthStatus,
    HousingSafetyGrade,
    KeyCareReason,
    LabelledEnum,
    ResidenceStatus,
)

Raw = str | int | float | dt.date | None  # a datetime is a date
E = TypeVar("E", bound=LabelledEnum)

# Pasting from web pages and chat apps brings characters nobody can see.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_WHITESPACE = re.compile(r"\s+")


def _as_text(value: Raw) -> str:
    """A cell as the text it shows: 12.0 → "12", a date → "2024-03-01"."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _shown(value: Raw) -> str:
    """The value quoted as the cadre typed it, for error messages."""
    return repr(value if isinstance(value, str) else _as_text(value))


def _is_number(value: Raw) -> TypeGuard[int | float]:
    # openpyxl reads TRUE/FALSE cells as bool, which Python counts as int.
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- text ------------------------------------------------------------------------


def text(value: Raw) -> str | None:
    """NFKC (full-width → half-width), invisible characters dropped, whitespace collapsed and stripped."""
    cleaned = _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", _as_text(value)).translate(_INVISIBLE)).strip()
    return cleaned or None


def name(value: Raw) -> str | None:
    """A Chinese name: no spaces at all ("王  秀 英" → "王秀英")."""
    cleaned = text(value)
    return cleaned.replace(" ", "") if cleaned else None


def header(value: Raw) -> str:
    """A header cell reduced for matching: "姓 名*", "身份证号\\n(18位)" → "姓名", "身份证号18位"."""
    cleaned = text(value)
    return re.sub(r"[\s*:()]", "", cleaned) if cleaned else ""


# --- identifiers -----------------------------------------------------------------

ID_STORED_AS_NUMBER = "身份证号被存成了数字，末几位已丢失：请把该列设为文本格式后重新填写"
_LANDLINE = re.compile(r"(?:\(?0\d{2,3}\)?[ -]?)?[2-8]\d{6,7}")


def id_number(value: Raw, *, today: dt.date | None = None) -> str | None:
    """The 18-character number; old 15-digit numbers are upgraded. `today` bounds birth dates (tests)."""
    if _is_number(value):
        digits = _as_text(value)
        # Excel keeps 15 significant digits: an old 15-digit number survives, an 18-digit one does not.
        if len(digits) != 15:
            raise ValueError(ID_STORED_AS_NUMBER)
        return upgrade_id15(digits, today)
    cleaned = text(value)
    if cleaned is None:
        return None
    # A leading ' is how people force text in some spreadsheet programs.
    number = re.sub(r"[\s-]", "", cleaned).lstrip("'").upper()
    if len(number) == 15:
        return upgrade_id15(number, today)
    return parse_id_number(number, today).number


def mobile(value: Raw) -> str | None:
    """An 11-digit mobile number; landlines are refused (the hub texts these numbers)."""
    cleaned = text(value)  # a number cell keeps all 11 digits, so it is read as its text
    if cleaned is None:
        return None
    if _LANDLINE.fullmatch(cleaned):
        raise ValueError(f"{cleaned} 是固定电话号码：请填写手机号码（1 开头的 11 位数字）")
    return validate_mobile(cleaned)


# --- dates -----------------------------------------------------------------------

_EARLIEST = dt.date(1900, 1, 1)
_LATEST = dt.date(2099, 12, 31)
_LAST_SERIAL = (_LATEST - dt.date(1899, 12, 30)).days
_DATE_FORMS = (
    # 2024-03-01, 2024/3/1, 2024.3.1, optionally with a time as exported by other systems
    re.compile(r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?: \d{1,2}:\d{2}(?::\d{2})?)?"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
    re.compile(r"(?P<y>\d{4}) ?年 ?(?P<m>\d{1,2}) ?月 ?(?:(?P<d>\d{1,2}) ?日?)?"),
    # A month alone (2024-3, 2024.03) means its first day.
    re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})"),
)


def date(value: Raw) -> dt.date | None:
    if isinstance(value, dt.datetime):
        result = value.date()
    elif isinstance(value, dt.date):
        result = value
    elif _is_number(value):
        result = _from_number(float(value))
    else:
        cleaned = text(value)
        if cleaned is None:
            return None
        result = _from_text(cleaned, value)
    if not _EARLIEST <= result <= _LATEST:
        raise ValueError(f"{_shown(value)} 不在 1900 年至 2099 年之间")
    return result


def _from_number(value: float) -> dt.date:
    """An Excel serial (1900 date system), or yyyymmdd typed into a General cell."""
    if value.is_integer() and 19000101 <= value <= 20991231:
        return _from_text(_as_text(value), value)
    if 1900 <= value < 2100:
        # 1965.10 typed into a General cell becomes the number 1965.1, indistinguishable from January.
        if value.is_integer():
            raise ValueError(f"{_as_text(value)} 只是年份，不是日期")
        raise ValueError(
            f"{_as_text(value)} 像是把年月当作数字输入，10 月这样的月份会丢掉末尾的 0："
            "请把该列设为文本格式，再输入如 1965.10"
        )
    serial = int(value)  # a fraction is the time of day
    if not 1 <= serial <= _LAST_SERIAL:
        raise ValueError(f"{_as_text(value)} 不是日期")
    if serial == 60:
        raise ValueError("60 是 Excel 中 1900-02-29 的序号，这一天并不存在")
    # Excel counts the non-existent 1900-02-29 (serial 60), so later serials are one day ahead.
    if serial < 60:
        return dt.date(1899, 12, 31) + dt.timedelta(days=serial)
    return dt.date(1899, 12, 30) + dt.timedelta(days=serial)


def _from_text(cleaned: str, value: Raw) -> dt.date:
    for form in _DATE_FORMS:
        match = form.fullmatch(cleaned)
        if match:
            try:
                return dt.date(int(match["y"]), int(match["m"]), int(match.groupdict().get("d") or 1))
            except ValueError:
                raise ValueError(f"{_shown(value)} 不是真实存在的日期") from None
    raise ValueError(f"应为日期（如 2024-03-01），实为 {_shown(value)}")


# --- yes/no and numbers ------------------------------------------------------------

_TRUE = frozenset({"是", "√", "✓", "✔", "y", "yes", "1", "true", "有"})
_FALSE = frozenset({"否", "×", "✗", "✘", "n", "no", "0", "false", "无"})


def boolean(value: Raw) -> bool | None:
    if isinstance(value, bool):
        return value
    cleaned = text(value)
    if cleaned is None:
        return None
    if cleaned.lower() in _TRUE:
        return True
    if cleaned.lower() in _FALSE:
        return False
    raise ValueError(f"应为 是 或 否（也可写 √/×、Y/N、有/无、1/0），实为 {_shown(value)}")


# Units are dropped and the number kept as typed: "1.5万元" is 1.5.
_UNIT = re.compile(r" ?(?:万元|元/月|元|人|亩)$")
_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


def number(value: Raw) -> float | None:
    if _is_number(value):
        return float(value)
    cleaned = text(value)
    if cleaned is None:
        return None
    digits = _UNIT.sub("", cleaned)
    if not _NUMBER.fullmatch(digits):
        raise ValueError(f"应为数字，实为 {_shown(value)}")
    return float(digits.replace(",", ""))


def integer(value: Raw) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    result = number(value)
    if result is None:
        return None
    if not result.is_integer():
        raise ValueError(f"应为整数，实为 {_shown(value)}")
    return int(result)


# --- enums -----------------------------------------------------------------------

# Spellings found in ledgers besides each member's label and name.
SYNONYMS: dict[type[LabelledEnum], dict[str, LabelledEnum]] = {
    Gender: {"男性": Gender.MALE, "女性": Gender.FEMALE, "M": Gender.MALE, "F": Gender.FEMALE},
    HealthStatus: {
        "良好": HealthStatus.HEALTHY,
        "正常": HealthStatus.HEALTHY,
        "慢病": HealthStatus.CHRONIC,
        "重病": HealthStatus.SERIOUS,
        "重大疾病": HealthStatus.SERIOUS,
        "残": HealthStatus.DISABLED,
        "残疾人": HealthStatus.DISABLED,
    },
    KeyCareReason: {
        "病": KeyCareReason.ILLNESS,
        "患病": KeyCareReason.ILLNESS,
        "残": KeyCareReason.DISABILITY,
        "残疾": KeyCareReason.DISABILITY,
    },
    ResidenceStatus: {
        "正常": ResidenceStatus.RESIDENT,
        "在家": ResidenceStatus.RESIDENT,
        "外出": ResidenceStatus.MOVED_OUT,
        "已迁出": ResidenceStatus.MOVED_OUT,
        "已故": ResidenceStatus.DECEASED,
        "去世": ResidenceStatus.DECEASED,
        "已去世": ResidenceStatus.DECEASED,
    },
    EmploymentStatus: {
        "学生": EmploymentStatus.STUDENT,
        "无业": EmploymentStatus.UNEMPLOYED,
        "待业": EmploymentStatus.UNEMPLOYED,
        "已退休": EmploymentStatus.RETIRED,
        "丧失劳动能力": EmploymentStatus.UNABLE,
    },
    HousingSafetyGrade: {
        **{f"{grade.name}级": grade for grade in HousingSafetyGrade},
        "安全": HousingSafetyGrade.A,
        "基本安全": HousingSafetyGrade.B,
        "局部危险": HousingSafetyGrade.C,
        "整体危险": HousingSafetyGrade.D,
    },
}


def _key(spelling: str) -> str:
    return unicodedata.normalize("NFKC", spelling).replace(" ", "").upper()


@functools.cache
def _spellings(enum_class: type[LabelledEnum]) -> dict[str, LabelledEnum]:
    spellings = {_key(s): member for s, member in SYNONYMS.get(enum_class, {}).items()}
    for member in enum_class:
        spellings[_key(member.name)] = member
        spellings[_key(member.label)] = member
    return spellings


def choice(enum_class: type[E], value: Raw) -> E | None:
    """The member whose label, name (any case) or a known synonym was typed."""
    cleaned = text(value)
    if cleaned is None:
        return None
    member = _spellings(enum_class).get(_key(cleaned))
    if member is None:
        labels = "、".join(m.label for m in enum_class)
        raise ValueError(f"应为 {labels} 之一，实为 {_shown(value)}")
    return cast(E, member)


def gender(value: Raw) -> Gender | None:
    return choice(Gender, value)
