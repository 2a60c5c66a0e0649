"""Legacy ledgers as communities kept them, generated for tests and the benchmark.

`write_ledger` writes a one-row-per-person 花名册 the way years of hand editing
leave it (title rows, headers that differ from the hub's, names with spaces,
full-width digits, dates in every format, old 15-digit ID numbers, repeated and
broken rows) and returns the clean truth an import has to arrive at;
`write_household_ledger` does the same for a one-row-per-household 户册. Every
choice is drawn from one `random.Random(seed)`, so a seed always gives the same
ledger.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from hub.data.identifiers import id_number_check_char
from hub.data.models import Gender, HealthStatus
from hub.demo.drawing import (
    FEMALE_NAME_CHARS,
    MALE_NAME_CHARS,
    MOBILE_PREFIXES,
    SURNAME,
    Weighted,
)
from hub.demo.households import HOUSEHOLD_SIZE, Member
from hub.demo.regions import NATURAL_VILLAGES, ROAD_SUFFIXES, ROAD_WORDS

HEADERS = ("序号", "姓 名", "性别", "身份证号码", "出生年月", "与户主关系", "户主姓名", "家庭住址", "联系电话", "健康状况", "是否低保")
HOUSEHOLD_HEADERS = ("序号", "户主姓名", "户主身份证号码", "家庭住址", "家庭人口", "联系电话", "所属网格", "是否低保")
# Where the cells a problem spoils sit in each kind of row (after 序号).
PERSON_CELLS = {"name": 0, "id_number": 2, "birth_date": 3}
HOUSEHOLD_CELLS = {"name": 0, "id_number": 1}
# The ledger was last filled in December 2023: nobody in it is born later.
LEDGER_DATE = dt.date(2023, 12, 1)
DISTRICT_CODE = "350304"  # 荔城区

# How each health status was written, label and synonyms alike.
HEALTH_SPELLINGS = {
    HealthStatus.HEALTHY: Weighted((("健康", 70), ("良好", 20), ("正常", 10))),
    HealthStatus.CHRONIC: Weighted((("慢性病", 75), ("慢病", 25))),
    HealthStatus.SERIOUS: Weighted((("大病", 60), ("重病", 40))),
    HealthStatus.DISABLED: Weighted((("残疾", 70), ("残疾人", 30))),
}
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")

Person = dict[str, Any]


@dataclass
class Ledger:
    """What an import of the written file must find."""

    people: list[Person]  # the clean truth per distinct person, in the order they first appear
    bad: dict[int, str]  # sheet row -> the problem injected into it
    duplicates: list[int]  # sheet rows repeating an earlier person
    header_row: int
    first_data_row: int
    households: int
    total_row: int | None  # the 合计 row under the data, if the ledger has one


def write_ledger(
    path: Path,
    *,
    rows: int,
    seed: int = 7,
    village: str = "东星社区",
    bad_rows: int = 0,
    duplicate_rows: int = 0,
    upgrade15: int = 0,
) -> Ledger:
    """Write `rows` data rows: distinct people, `bad_rows` broken ones and `duplicate_rows` repeats."""
    if min(bad_rows, duplicate_rows, upgrade15) < 0:
        raise ValueError("bad_rows, duplicate_rows and upgrade15 cannot be negative")
    distinct = rows - duplicate_rows
    if distinct - bad_rows < (1 if duplicate_rows else 0):
        raise ValueError(f"{rows} rows leave no good person for {bad_rows} bad and {duplicate_rows} duplicate rows")
    rng = random.Random(seed)
    community = _Community(rng, village)
    households: list[list[Person]] = []
    members: list[Person] = []
    while len(members) < distinct:
        household = community.household()[: distinct - len(members)]
        households.append(household)
        members += household

    # Broken rows are never a household's head, so every household keeps its 户主.
    non_heads = [i for i, p in enumerate(members) if p["relation_to_head"] != "户主"]
    if bad_rows > len(non_heads):
        raise ValueError(f"bad_rows={bad_rows}: only {len(non_heads)} of {distinct} people are not a household head")
    problems = itertools.cycle(_PROBLEMS)
    bad_at = {i: next(problems) for i in sorted(rng.sample(non_heads, bad_rows))}
    good = [i for i in range(distinct) if i not in bad_at]
    born_1900s = [i for i in good if members[i]["birth_date"].year < 2000]
    if upgrade15 > len(born_1900s):
        raise ValueError(f"upgrade15={upgrade15}: only {len(born_1900s)} good people were born before 2000")
    old_ids = set(rng.sample(born_1900s, upgrade15))
    # A repeat goes anywhere after the row it repeats: before member `slot`, or at the end.
    repeats_before: dict[int, list[int]] = {}
    for original in rng.choices(good, k=duplicate_rows):
        repeats_before.setdefault(rng.randint(original + 1, distinct), []).append(original)

    workbook = Workbook(write_only=True)
    sheet, header_row = _start_sheet(workbook, rng, village, "人员基本信息台账", HEADERS)
    first_data_row = header_row + 1
    ledger = Ledger(
        people=[members[i] for i in good],
        bad={},
        duplicates=[],
        header_row=header_row,
        first_data_row=first_data_row,
        households=len(households),
        total_row=None,
    )

    cells = _Cells(rng)
    row = first_data_row
    for index in range(distinct + 1):
        for original in repeats_before.get(index, ()):
            ledger.duplicates.append(row)
            # Someone with an old number may be listed again under the new one.
            old_id = original in old_ids and rng.random() < 0.5
            sheet.append([row - header_row, *cells.person(members[original], old_id=old_id)])
            row += 1
        if index == distinct:
            break
        person = members[index]
        values = cells.person(person, old_id=index in old_ids)
        if index in bad_at:
            ledger.bad[row] = bad_at[index](rng, person, values, PERSON_CELLS)
        sheet.append([row - header_row, *values])
        row += 1
    if rng.random() < 0.5:
        ledger.total_row = row
        sheet.append(["合计", f"共{rows}人"])
    workbook.save(path)
    return ledger


def write_household_ledger(
    path: Path, *, households: int, seed: int = 7, village: str = "东星社区", bad_rows: int = 0, duplicate_rows: int = 0
) -> Ledger:
    """Write one row per household (its head, address, size, phone, grid, 低保): `households` distinct ones,
    `bad_rows` of them broken, then `duplicate_rows` repeats. `people` of the result are the good heads."""
    if bad_rows > households or (duplicate_rows and bad_rows == households):
        raise ValueError(f"{households} households leave no good one for {bad_rows} bad rows and {duplicate_rows} repeats")
    rng = random.Random(seed)
    community = _Community(rng, village)
    homes = [community.household() for _ in range(households)]
    for home in homes:
        home[0]["grid_name"] = f"第{rng.randint(1, 6)}网格"
        home[0]["members"] = len(home)
    bad_at = set(rng.sample(range(households), bad_rows))
    good = [i for i in range(households) if i not in bad_at]
    order = list(range(households)) + [rng.choice(good) for _ in range(duplicate_rows)]
    workbook = Workbook(write_only=True)
    sheet, header_row = _start_sheet(workbook, rng, village, "户籍信息底册", HOUSEHOLD_HEADERS)
    ledger = Ledger(people=[homes[i][0] for i in good], bad={}, duplicates=[], header_row=header_row,
                    first_data_row=header_row + 1, households=len(good), total_row=None)
    cells = _Cells(rng)
    problems = itertools.cycle(_HOUSEHOLD_PROBLEMS)
    for row, index in enumerate(order, header_row + 1):
        values = cells.household(homes[index][0])
        if row - header_row > households:
            ledger.duplicates.append(row)
        elif index in bad_at:
            ledger.bad[row] = next(problems)(rng, homes[index][0], values, HOUSEHOLD_CELLS)
        sheet.append([row - header_row, *values])
    workbook.save(path)
    return ledger


def _start_sheet(workbook: Workbook, rng: random.Random, village: str, what: str, headers: tuple[str, ...]) -> tuple[Any, int]:
    """The sheet with its one or two merged title rows and the header row; returns it and the header's row."""
    sheet = workbook.create_sheet(what)
    last_column = get_column_letter(len(headers))
    committee = "居委会" if village.endswith("社区") else "村委会"
    titles = [f"{village} {LEDGER_DATE.year}年 {what}"]
    if rng.random() < 0.5:
        titles.append(f"填报单位：{village}{committee}   填报日期：{LEDGER_DATE.year}年{LEDGER_DATE.month}月")
    for number, title in enumerate(titles, 1):
        sheet.merged_cells.add(f"A{number}:{last_column}{number}")
        sheet.append([title])
    sheet.append(list(headers))
    return sheet, len(titles) + 1


class _Community:
    """Households of one village or community: names, unique IDs and addresses."""

    def __init__(self, rng: random.Random, village: str) -> None:
        self.rng = rng
        self.village = village
        # Communities have streets; villages have natural villages (自然村).
        if village.endswith("社区"):
            roads = rng.sample(ROAD_WORDS, 4)
            self.streets = [road + rng.choice(ROAD_SUFFIXES) for road in roads]
        else:
            self.streets = rng.sample(NATURAL_VILLAGES, 4)
        self.used_ids: set[str] = set()
        self.used_addresses: set[str] = set()

    def household(self) -> list[Person]:
        rng = self.rng
        address = self.address()
        low_income = rng.random() < 0.06
        members = self.members(HOUSEHOLD_SIZE.pick(rng))
        head = members[0]
        head_name = head.surname + self.given_name(head.gender)
        people = []
        for member in members:
            name = head_name if member is head else member.surname + self.given_name(member.gender)
            age = member.age
            birth = LEDGER_DATE - dt.timedelta(days=age * 365 + age // 4 + rng.randrange(365))
            has_phone = age >= 18 and (age < 80 or rng.random() < 0.4)
            people.append(
                {
                    "name": name,
                    "id_number": self.id_number(birth, member.gender),
                    "gender": member.gender,
                    "birth_date": birth,
                    "relation_to_head": member.relation,
                    "head_name": head_name,
                    "address": address,
                    "phone": rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}" if has_phone else None,
                    "health_status": self.health(age),
                    "low_income": low_income,
                }
            )
        return people

    def members(self, size: int) -> list[Member]:
        """The head first; children are 22+ years younger than their parents."""
        rng = self.rng
        head_gender = Gender.MALE if rng.random() < 0.78 else Gender.FEMALE
        other = Gender.FEMALE if head_gender is Gender.MALE else Gender.MALE
        head_age = rng.randint(24, 88) if size == 1 else rng.randint(28, 75)
        head_surname = SURNAME.pick(rng)
        members = [Member("户主", head_gender, head_age, head_surname)]
        parent_ages = [head_age]
        child_surname = head_surname
        if size >= 2 and rng.random() < 0.85:
            spouse_age = max(20, head_age + rng.randint(-5, 4))
            members.append(Member("配偶", other, spouse_age, SURNAME.pick(rng)))
            parent_ages.append(spouse_age)
            if other is Gender.MALE:
                child_surname = members[1].surname
        if size >= 3 and head_age < 50 and rng.random() < 0.3:
            relation, gender = rng.choice((("父亲", Gender.MALE), ("母亲", Gender.FEMALE)))
            surname = head_surname if gender is Gender.MALE else SURNAME.pick(rng)
            members.append(Member(relation, gender, head_age + rng.randint(22, 34), surname))
        while len(members) < size:
            gender = rng.choice((Gender.MALE, Gender.FEMALE))
            age = max(0, min(parent_ages) - rng.randint(22, 38))
            members.append(Member("子" if gender is Gender.MALE else "女", gender, age, child_surname))
        return members

    def given_name(self, gender: Gender) -> str:
        chars = MALE_NAME_CHARS if gender is Gender.MALE else FEMALE_NAME_CHARS
        return "".join(self.rng.choice(chars) for _ in range(2 if self.rng.random() < 0.8 else 1))

    def health(self, age: int) -> HealthStatus:
        r = self.rng.random()
        if r < (0.06 if age >= 60 else 0.03):
            return HealthStatus.DISABLED
        if r < (0.09 if age >= 60 else 0.05):
            return HealthStatus.SERIOUS
        if age >= 40 and r < (0.35 if age >= 60 else 0.17):
            return HealthStatus.CHRONIC
        return HealthStatus.HEALTHY

    def address(self) -> str:
        while True:
            address = f"{self.village}{self.rng.choice(self.streets)}{self.rng.randint(1, 300)}号"
            if self.rng.random() < 0.3:
                address += f"{self.rng.randint(1, 12)}栋{self.rng.randint(1, 18)}0{self.rng.randint(1, 4)}室"
            if address not in self.used_addresses:
                self.used_addresses.add(address)
                return address

    def id_number(self, birth: dt.date, gender: Gender) -> str:
        """A unique GB 11643 number of the district; the sequence code's parity carries the gender."""
        prefix = f"{DISTRICT_CODE}{birth:%Y%m%d}"
        sequence = self.rng.randrange(500) * 2 + (1 if gender is Gender.MALE else 0)
        while f"{prefix}{sequence:03d}" in self.used_ids:
            sequence = (sequence + 2) % 1000  # 500 numbers per day and gender: never all taken here
        first17 = f"{prefix}{sequence:03d}"
        self.used_ids.add(first17)
        return first17 + id_number_check_char(first17)


class _Cells:
    """A person's row as somebody typed it: the same truth, written in many ways."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def person(self, person: Person, *, old_id: bool) -> list[Any]:
        """Cells after 序号, in the order of HEADERS."""
        rng = self.rng
        number = person["id_number"]
        address = person["address"].translate(FULL_WIDTH) if rng.random() < 0.1 else person["address"]
        return [
            self.name(person["name"]),
            self.stray_space(person["gender"].label, 0.03),
            self.id_number(number[:6] + number[8:17] if old_id else number),
            self.birth_date(person["birth_date"]),
            self.stray_space(person["relation_to_head"], 0.03),
            self.name(person["head_name"]),
            self.stray_space(address, 0.05),
            self.phone(person["phone"]),
            self.stray_space(HEALTH_SPELLINGS[person["health_status"]].pick(rng), 0.03),
            self.stray_space("是" if person["low_income"] else "否", 0.03),
        ]

    def household(self, head: Person) -> list[Any]:
        """Cells after 序号, in the order of HOUSEHOLD_HEADERS."""
        return [
            self.name(head["name"]),
            self.id_number(head["id_number"]),
            self.stray_space(head["address"], 0.05),
            head["members"],
            self.phone(head["phone"]),
            self.stray_space(head["grid_name"], 0.05),
            self.stray_space("是" if head["low_income"] else "否", 0.03),
        ]

    def stray_space(self, value: str, chance: float) -> str:
        if self.rng.random() >= chance:
            return value
        return self.rng.choice((f" {value}", f"{value} ", f"{value}\u3000", f"\u3000{value} "))

    def name(self, name: str) -> str:
        r = self.rng.random()
        if r < 0.1:
            # "王  秀 英": spaces typed to line names up, half- or full-width.
            gaps = (" ", "  ", "\u3000")
            return name[0] + "".join(self.rng.choice(gaps) + c for c in name[1:])
        return self.stray_space(name, 0.05)

    def id_number(self, number: str) -> str:
        r = self.rng.random()
        if r < 0.06:
            return number.translate(FULL_WIDTH)
        if r < 0.10:
            return f"{number[:6]} {number[6:-4]} {number[-4:]}" if len(number) == 18 else f"{number[:6]} {number[6:]}"
        if r < 0.13 and number.endswith("X"):
            return number.lower()
        return self.stray_space(number, 0.03)

    def birth_date(self, birth: dt.date) -> Any:
        """A real date, an Excel serial in a General cell, or text in one of many formats."""
        forms: tuple[Callable[[dt.date], Any], ...] = (
            lambda d: d,
            lambda d: (d - dt.date(1899, 12, 30)).days,
            lambda d: d.isoformat(),
            lambda d: f"{d.year}/{d.month}/{d.day}",
            lambda d: f"{d.year}.{d.month}.{d.day}",
            lambda d: f"{d:%Y.%m.%d}",
            lambda d: f"{d:%Y%m%d}",
            lambda d: int(f"{d:%Y%m%d}"),
            lambda d: f"{d.year}年{d.month}月{d.day}日",
            lambda d: f"{d.year}年{d.month}月{d.day}日".translate(FULL_WIDTH),
        )
        return self.rng.choice(forms)(birth)

    def phone(self, phone: str | None) -> Any:
        if phone is None:
            return None
        r = self.rng.random()
        if r < 0.15:
            return int(phone)  # typed into a General cell
        if r < 0.23:
            return phone.translate(FULL_WIDTH)
        if r < 0.31:
            return f"{phone[:3]} {phone[3:7]} {phone[7:]}"
        if r < 0.36:
            return f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
        if r < 0.40:
            return f"+86 {phone}"
        return self.stray_space(phone, 0.05)


# Each problem spoils one cell of a row (the values of `_Cells.person`) and says what it did.


def _missing_name(rng: random.Random, person: Person, values: list[Any], at: dict[str, int]) -> str:
    values[at["name"]] = rng.choice((None, "", " "))
    return "missing name"


def _wrong_check_character(rng: random.Random, person: Person, values: list[Any], at: dict[str, int]) -> str:
    number = person["id_number"]
    wrong = rng.choice([c for c in "0123456789X" if c != number[17]])
    values[at["id_number"]] = number[:17] + wrong
    return f"wrong check character: {number[:17] + wrong} ends in {wrong}, should end in {number[17]}"


def _impossible_birth_date(rng: random.Random, person: Person, values: list[Any], at: dict[str, int]) -> str:
    year = person["birth_date"].year
    values[at["birth_date"]] = rng.choice((f"{year}-02-30", f"{year}.13.{person['birth_date'].day}", f"{year}年4月31日"))
    return f"impossible birth date: {values[at['birth_date']]}"


def _id_stored_as_number(rng: random.Random, person: Person, values: list[Any], at: dict[str, int]) -> str:
    # Excel keeps 15 significant digits of a number: the last three become 0.
    values[at["id_number"]] = float(person["id_number"][:15] + "000")
    return f"ID number stored as a number: {values[at['id_number']]:.14E}"


Problem = Callable[[random.Random, Person, list[Any], dict[str, int]], str]
_PROBLEMS: tuple[Problem, ...] = (_wrong_check_character, _impossible_birth_date, _missing_name, _id_stored_as_number)
_HOUSEHOLD_PROBLEMS: tuple[Problem, ...] = (_wrong_check_character, _missing_name, _id_stored_as_number)
