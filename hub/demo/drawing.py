"""What every part of the demo data draws from: the reference date, weighted choices, names and phone numbers."""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
from collections.abc import Iterable
from typing import Any

from hub.data.models import Gender

# Ages, dates and "recent" statuses are relative to this day, never the clock.
# Ages, dates and "recent" statuses are relative to this day, never the clock.
REFERENCE_DATE = dt.date(2026, 11, 1)


CHINA_TZ = dt.timezone(dt.timedelta(hours=8))


# Timestamps are written in UTC: SQLite drops the offset, and its CURRENT_TIMESTAMP is UTC too.
REFERENCE_TIME = dt.datetime(2026, 11, 1, 9, 0, tzinfo=CHINA_TZ).astimezone(dt.UTC)


# Demo figures (yuan per person per month), close to Putian's published standards.
LOW_INCOME_STANDARD = 850


EXTREME_POVERTY_STANDARD = 1110


Row = dict[str, Any]


class Weighted:
    """A fixed weighted choice; `rng.choices` would rebuild the cumulative weights on every call."""

    __slots__ = ("items", "cumulative", "total")

    def __init__(self, weights: Iterable[tuple[Any, float]]) -> None:
        pairs = list(weights)
        self.items = [item for item, _ in pairs]
        self.cumulative = list(itertools.accumulate(w for _, w in pairs))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect(self.cumulative, rng.random() * self.total)]


SURNAME = Weighted(zip("林陈黄郑吴李王蔡许方张刘翁宋余朱杨徐卓关何周欧詹柯",
                       (14, 12, 8, 7, 5, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 1.5, 1, 1, 1, 0.5, 0.5, 0.5)))


MALE_NAME_CHARS = "伟强志明建国文华德荣金福清海斌杰俊峰涛鹏辉兴旺宏智勇家振东阳亮坤水木成添贵锦鸿"


FEMALE_NAME_CHARS = "秀丽芳英美玉珍桂淑惠燕娟红霞琴兰萍雪梅婷颖静琳雅丹慧倩妍莹月凤碧娇"


MOBILE_PREFIXES = ("133", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "177", "180",
                   "181", "183", "187", "188", "189", "191", "199")


class Drawing:
    """Small draws from the generator's one random stream."""

    rng: random.Random

    def surname(self) -> str:
        return SURNAME.pick(self.rng)


    def given_name(self, gender: Gender) -> str:
        chars = MALE_NAME_CHARS if gender is Gender.MALE else FEMALE_NAME_CHARS
        if self.rng.random() < 0.8:
            return self.rng.choice(chars) + self.rng.choice(chars)
        return self.rng.choice(chars)


    def person_name(self) -> str:
        return self.surname() + self.given_name(self.rng.choice((Gender.MALE, Gender.FEMALE)))


    def mobile(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
