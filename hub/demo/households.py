"""Households and persons: sizes, categories, members, health, employment and ID numbers, streamed village by village."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass

from hub.data.identifiers import id_number_check_char
from hub.data.models import (
    EmploymentStatus,
    Gender,
    HealthStatus,
    HousingSafetyGrade,
    KeyCareReason,
    RegionLevel,
    ResidenceStatus,
)
from hub.demo.drawing import (
    EXTREME_POVERTY_STANDARD,
    LOW_INCOME_STANDARD,
    REFERENCE_DATE,
    REFERENCE_TIME,
    Drawing,
    Row,
    Weighted,
)
from hub.demo.regions import Place

HOUSEHOLD_SIZE = Weighted(zip(range(1, 7), (11, 23, 26, 22, 11, 7)))  # mean ≈ 3.2


MINORITIES = ("畲族", "回族", "满族", "苗族", "壮族")


CHRONIC_DISEASES = ("高血压", "糖尿病", "冠心病", "慢性阻塞性肺疾病", "脑卒中后遗症", "慢性肾病", "类风湿关节炎")


SERIOUS_DISEASES = ("恶性肿瘤", "尿毒症", "重性精神障碍", "白血病", "严重心力衰竭")


DISABILITY_TYPE = Weighted(zip(("肢体", "视力", "听力", "言语", "智力", "精神", "多重"), (45, 12, 15, 3, 8, 10, 7)))


DISABILITY_GRADE = Weighted(zip((1, 2, 3, 4), (10, 20, 30, 40)))


HOUSING_GRADE = Weighted(zip(HousingSafetyGrade, (62, 33, 4, 1)))


HOUSING_GRADE_VULNERABLE = Weighted(zip(HousingSafetyGrade, (35, 45, 15, 5)))


WORKING_AGE_EMPLOYMENT = Weighted(zip(
    (EmploymentStatus.EMPLOYED, EmploymentStatus.FLEXIBLE, EmploymentStatus.FARMING, EmploymentStatus.UNEMPLOYED),
    (45, 22, 23, 10),
))


OUTSIDE_EMPLOYERS = (
    "莆田市第一医院", "莆田学院", "莆田市公共交通集团有限公司", "国网福建省电力有限公司莆田供电公司",
    "中国移动通信集团福建有限公司莆田分公司", "外出务工（福州）", "外出务工（厦门）", "外出务工（泉州）",
)


ILLNESS_NOTES = (
    "病情稳定，按时服药，家属照料到位。",
    "近期住院治疗后出院，已协助办理医保报销，网格员每周电话回访。",
    "血压控制一般，已联系家庭医生上门随访。",
    "行动不便，已安排镇卫生院定期送药上门。",
)


DISABILITY_NOTES = (
    "已发放残疾人两项补贴，生活基本自理，家属照料。",
    "申请的辅助器具（轮椅）已到位，近期情况稳定。",
    "需专人照护，已落实重度残疾人护理补贴。",
)


LOW_INCOME_NOTES = (
    "家庭收入无明显变化，继续享受低保。",
    "子女务工收入增加，下季度复核家庭经济状况。",
    "户主住院，已申请临时救助。",
    "低保年审完成，保障金按月足额发放。",
)


@dataclass(slots=True)
class HouseholdPlan:
    """What is drawn up front for a household: it fixes the region totals."""

    size: int
    low_income: bool
    extreme_poverty: bool
    elderly_alone: bool
    poverty_monitored: bool


@dataclass(frozen=True, slots=True)
class Member:
    relation: str
    gender: Gender
    age: int
    surname: str


class Households(Drawing):
    """Household plans fix every region's totals first; rows are drawn later, as they are written."""

    scale: int
    used_ids: set[str]
    town_employers: dict[str, list[str]]

    def _plan_households(self) -> None:
        rng = self.rng
        featured_village = self._featured_village(self.featured["low_income_village"])
        for village in self.villages:
            count = max(1, round(self.scale * rng.uniform(0.7, 1.3)))
            featured = village is featured_village
            low_income_at: set[int] = set()
            if featured:
                count = max(count, self.featured["min_households"])
                low_income_at = set(rng.sample(range(count), self.featured["low_income_households"]))
            for i in range(count):
                r = rng.random()
                low_income = i in low_income_at if featured else r < 0.05
                extreme = 0.05 <= r < 0.06
                monitored = 0.06 <= r < 0.08
                elderly_alone = not monitored and rng.random() < 0.04
                if elderly_alone:
                    size = 1
                elif extreme:
                    size = 1 if rng.random() < 0.7 else 2
                else:
                    size = HOUSEHOLD_SIZE.pick(rng)
                village.households.append(HouseholdPlan(size, low_income, extreme, elderly_alone, monitored))
            village.household_count = count
            village.population = sum(h.size for h in village.households)
        for level in (RegionLevel.TOWN, RegionLevel.DISTRICT, RegionLevel.CITY):
            for place in self.regions:
                if place.level is level:
                    place.household_count = sum(c.household_count for c in place.children)
                    place.population = sum(c.population for c in place.children)


    def household_total(self) -> int:
        return sum(v.household_count for v in self.villages)


    def person_total(self) -> int:
        return sum(v.population for v in self.villages)


    def households_and_persons(self) -> Iterator[tuple[Row, list[Row]]]:
        """One household row with its person rows at a time, village after village."""
        household_id = person_id = 0
        for village in self.villages:
            employers = self.town_employers.get(village.parent.code, [])
            for index, plan in enumerate(village.households):
                household_id += 1
                persons = self._persons(village, plan, household_id, person_id, employers)
                person_id += len(persons)
                yield self._household_row(village, plan, household_id, index, persons), persons


    def _household_row(self, village: Place, plan: HouseholdPlan, household_id: int, index: int,
                       persons: list[Row]) -> Row:
        rng = self.rng
        vulnerable = plan.low_income or plan.extreme_poverty or plan.poverty_monitored
        if plan.extreme_poverty:
            income = rng.randrange(0, 400, 10)
            subsidy = EXTREME_POVERTY_STANDARD * plan.size
        elif plan.low_income:
            income = rng.randrange(150, 750, 10)
            subsidy = max(100, round((LOW_INCOME_STANDARD - income) * plan.size, -1))
        elif plan.poverty_monitored:
            income, subsidy = rng.randrange(900, 1500, 10), None
        else:
            income, subsidy = max(900, round(rng.lognormvariate(math.log(2600), 0.45), -1)), None
        low_income_since = None
        if plan.low_income:
            low_income_since = dt.date(2014, 1, 1) + dt.timedelta(days=rng.randrange(4656))  # to 2026-09
        phone = next((p["phone"] for p in persons if p["phone"]), None)
        return {
            "id": household_id,
            "village_id": village.id,
            "address": f"{village.full_name}{rng.choice(village.roads)}{rng.randint(1, 200)}号",
            "grid_name": f"第{index // 30 + 1}网格",
            "phone": phone,
            "low_income": plan.low_income,
            "extreme_poverty": plan.extreme_poverty,
            "elderly_alone": plan.elderly_alone,
            "poverty_monitored": plan.poverty_monitored,
            "low_income_since": low_income_since,
            "income_per_person_monthly": float(income),
            "subsidy_monthly": None if subsidy is None else float(subsidy),
            "housing_safety_grade": (HOUSING_GRADE_VULNERABLE if vulnerable else HOUSING_GRADE).pick(rng),
            "version": 1,
            "updated_at": REFERENCE_TIME,
        }


    def _members(self, plan: HouseholdPlan) -> list[Member]:
        """Relations and ages of a household: children are 22+ years younger than both parents."""
        rng = self.rng
        size = plan.size
        head_gender = Gender.MALE if rng.random() < 0.78 else Gender.FEMALE
        head_surname = self.surname()
        other = Gender.FEMALE if head_gender is Gender.MALE else Gender.MALE
        if size == 1:
            age = rng.randint(66, 94) if plan.elderly_alone or plan.extreme_poverty else rng.randint(22, 88)
            return [Member("户主", head_gender, age, head_surname)]
        r = rng.random()
        if size >= 4 and r < 0.15:
            # Three generations: the head, a married son and grandchildren.
            head_age = rng.randint(56, 78)
            spouse_age = min(99, max(40, head_age + rng.randint(-5, 4)))
            son_age = min(head_age, spouse_age) - rng.randint(22, 32)
            members = [
                Member("户主", head_gender, head_age, head_surname),
                Member("配偶", other, spouse_age, self.surname()),
                Member("子", Gender.MALE, son_age, head_surname),
                Member("儿媳", Gender.FEMALE, max(20, son_age + rng.randint(-4, 3)), self.surname()),
            ]
            youngest_parent = min(son_age, members[3].age)
            for _ in range(size - 4):
                gender = rng.choice((Gender.MALE, Gender.FEMALE))
                members.append(Member("孙子" if gender is Gender.MALE else "孙女", gender,
                                      max(0, youngest_parent - rng.randint(22, 35)), head_surname))
            return members
        head_age = rng.randint(30, 50) if r < 0.30 else rng.randint(26, 75)
        members = [Member("户主", head_gender, head_age, head_surname)]
        parent_ages = [head_age]
        if size > 2 or rng.random() >= 0.25:  # otherwise a single parent with one child
            spouse_age = max(20, head_age + rng.randint(-5, 4))
            members.append(Member("配偶", other, spouse_age, self.surname()))
            parent_ages.append(spouse_age)
        # Children take the father's surname.
        child_surname = head_surname if head_gender is Gender.MALE or len(members) == 1 else members[1].surname
        if r < 0.30 and size >= 3:
            # Leave at least one place for a child.
            slots = min(2, size - len(members) - 1)
            for relation, gender in rng.sample((("父亲", Gender.MALE), ("母亲", Gender.FEMALE)), slots):
                age = head_age + rng.randint(22, 34)
                if age <= 99:
                    surname = head_surname if relation == "父亲" else self.surname()
                    members.append(Member(relation, gender, age, surname))
        while len(members) < size:
            gender = rng.choice((Gender.MALE, Gender.FEMALE))
            members.append(Member("子" if gender is Gender.MALE else "女", gender,
                                  max(0, min(parent_ages) - rng.randint(22, 38)), child_surname))
        return members


    def _persons(self, village: Place, plan: HouseholdPlan, household_id: int, last_person_id: int,
                 employers: list[str]) -> list[Row]:
        rng = self.rng
        vulnerable = plan.low_income or plan.extreme_poverty
        rows = []
        for offset, member in enumerate(self._members(plan), start=1):
            birth = REFERENCE_DATE - dt.timedelta(days=member.age * 365 + member.age // 4 + rng.randrange(365))
            age = _age(birth)
            head = member.relation == "户主"
            residence = ResidenceStatus.RESIDENT
            if not head and 18 <= age <= 45 and rng.random() < 0.06:
                residence = ResidenceStatus.MOVED_OUT
            elif not head and age >= 75 and rng.random() < 0.03:
                residence = ResidenceStatus.DECEASED
            health, chronic, disability_type, disability_grade = self._health(age, vulnerable and head)
            employment, employer, pension, medical = self._employment(age, health, disability_grade, employers)
            alive = residence is not ResidenceStatus.DECEASED
            key_care = self._key_care(health, age, disability_grade) if alive else None
            note_date = note = None
            if key_care or (head and plan.low_income):
                note_date = REFERENCE_DATE - dt.timedelta(days=rng.randint(1, 90))
                notes = (ILLNESS_NOTES if key_care is KeyCareReason.ILLNESS
                         else DISABILITY_NOTES if key_care is KeyCareReason.DISABILITY else LOW_INCOME_NOTES)
                note = f"{note_date.month}月{note_date.day}日入户走访：{rng.choice(notes)}"
            has_phone = age >= 18 and alive and (age < 80 or rng.random() < 0.5)
            rows.append(
                {
                    "id": last_person_id + offset,
                    "household_id": household_id,
                    "name": member.surname + self.given_name(member.gender),
                    "id_number": self.id_number(village.district_code, birth, member.gender),
                    "gender": member.gender,
                    "birth_date": birth,
                    "ethnicity": "汉族" if rng.random() < 0.995 else rng.choice(MINORITIES),
                    "relation_to_head": member.relation,
                    "phone": self.mobile() if has_phone else None,
                    "residence_status": residence,
                    "employment_status": employment,
                    "employer": employer,
                    "pension_insurance": pension,
                    "medical_insurance": medical,
                    "health_status": health,
                    "chronic_diseases": chronic,
                    "disability_type": disability_type,
                    "disability_grade": disability_grade,
                    "key_care_reason": key_care,
                    "recent_status": note,
                    "recent_status_date": note_date,
                    "version": 1,
                    "updated_at": REFERENCE_TIME,
                }
            )
        return rows


    def _health(self, age: int, vulnerable: bool) -> tuple[HealthStatus, str | None, str | None, int | None]:
        rng = self.rng
        r = rng.random()
        extra = 0.12 if vulnerable else 0.0
        p_disabled = 0.03 + extra + (0.03 if age >= 60 else 0.0)
        p_serious = p_disabled + 0.01 + extra / 2 + (0.01 if age >= 60 else 0.0)
        p_chronic = p_serious + (0.02 if age < 40 else 0.12 if age < 60 else 0.35) + extra
        if r < p_disabled:
            return HealthStatus.DISABLED, None, DISABILITY_TYPE.pick(rng), DISABILITY_GRADE.pick(rng)
        if r < p_serious:
            return HealthStatus.SERIOUS, rng.choice(SERIOUS_DISEASES), None, None
        if r < p_chronic and age >= 18:
            return HealthStatus.CHRONIC, "、".join(rng.sample(CHRONIC_DISEASES, rng.choice((1, 1, 2)))), None, None
        return HealthStatus.HEALTHY, None, None, None


    def _key_care(self, health: HealthStatus, age: int, disability_grade: int | None) -> KeyCareReason | None:
        r = self.rng.random()
        if health is HealthStatus.SERIOUS and r < 0.7:
            return KeyCareReason.ILLNESS
        if health is HealthStatus.CHRONIC and age >= 70 and r < 0.15:
            return KeyCareReason.ILLNESS
        if health is HealthStatus.DISABLED and r < (0.8 if disability_grade in (1, 2) else 0.2):
            return KeyCareReason.DISABILITY
        return None


    def _employment(self, age: int, health: HealthStatus, disability_grade: int | None,
                    employers: list[str]) -> tuple[EmploymentStatus | None, str | None, str | None, str | None]:
        rng = self.rng
        resident_medical = "城乡居民医保" if rng.random() < 0.97 else "未参保"
        if age < 6:
            return None, None, None, resident_medical
        if age < 16 or (age < 22 and rng.random() < 0.7):
            return EmploymentStatus.STUDENT, None, None, resident_medical
        resident_pension = "城乡居民养老保险" if rng.random() < 0.88 else "未参保"
        if health is HealthStatus.SERIOUS or (disability_grade is not None and disability_grade <= 2):
            return EmploymentStatus.UNABLE, None, resident_pension, resident_medical
        if age >= 60:
            r = rng.random()
            if r < 0.35:
                return EmploymentStatus.RETIRED, None, "城镇职工养老保险", "城镇职工医保"
            if r < 0.75 and age < 80:
                return EmploymentStatus.FARMING, None, resident_pension, resident_medical
            status = EmploymentStatus.UNABLE if age >= 80 else EmploymentStatus.RETIRED
            return status, None, resident_pension, resident_medical
        status = WORKING_AGE_EMPLOYMENT.pick(rng)
        if status is EmploymentStatus.EMPLOYED:
            employer = rng.choice(employers) if employers and rng.random() < 0.6 else rng.choice(OUTSIDE_EMPLOYERS)
            return status, employer, "城镇职工养老保险", "城镇职工医保"
        return status, None, resident_pension, resident_medical


    def id_number(self, district_code: str, birth: dt.date, gender: Gender) -> str:
        """A unique GB 11643 number; the sequence code's parity carries the gender."""
        prefix = f"{district_code}{birth.year:04d}{birth.month:02d}{birth.day:02d}"
        sequence = self.rng.randrange(500) * 2 + (1 if gender is Gender.MALE else 0)
        for _ in range(500):
            first17 = f"{prefix}{sequence:03d}"
            if first17 not in self.used_ids:
                self.used_ids.add(first17)
                return first17 + id_number_check_char(first17)
            sequence = (sequence + 2) % 1000
        raise RuntimeError(f"no free ID sequence code left for {prefix}")


def _age(birth: dt.date) -> int:
    return REFERENCE_DATE.year - birth.year - ((REFERENCE_DATE.month, REFERENCE_DATE.day) < (birth.month, birth.day))
