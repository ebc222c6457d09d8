"""When a text may arrive: local hours per day, in every zone the recipient
could be in.

A `Schedule` is the intersection of every rule that applies to a person
(Rapport's own window and each jurisdiction's, from `jurisdictions`):
per weekday the hours they all allow, and the dates some of them bar (legal
holidays). It is built once per set of rules and reused.

A confirmed zone is used alone. With only candidates (from the number), the
message may go only when it is inside the day's window in all of them at once;
if they share no window in the coming week, it waits until the zone that opens
last opens: the first moment that is inside a window everywhere it can be.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from chalicelib.domain.jurisdictions import Hours, Jurisdiction, barred_holiday

Interval = tuple[datetime, datetime]
HORIZON_DAYS = 7
WEEK = range(7)


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _meet(a: Hours | None, b: Hours | None) -> Hours | None:
    if a is None or b is None:
        return None
    opens, closes = max(a[0], b[0]), min(a[1], b[1])
    return (opens, closes) if opens < closes else None


@dataclass(frozen=True, eq=False)  # built once per set of rules (`schedule`): identity is equality
class Schedule:
    week: tuple[Hours | None, ...]  # Monday..Sunday: the hours every rule allows; None: no text that day
    holiday_rules: tuple[Jurisdiction, ...] = ()  # rules that also bar their legal holidays

    def hours_on(self, day: date) -> Hours | None:
        hours = self.week[day.weekday()]
        if hours is not None and self.holiday_rules and any(barred_holiday(r, day) for r in self.holiday_rules):
            return None
        return hours


@lru_cache(maxsize=1024)
def schedule(rules: tuple[Jurisdiction, ...], opens: time, closes: time) -> Schedule:
    """Rapport's own daily window met with every rule's hours, per weekday."""
    week: list[Hours | None] = [(opens, closes) for _ in WEEK]
    for rule in rules:
        if rule.week is not None:
            week = [_meet(hours, rule.week[day]) for day, hours in enumerate(week)]
    return Schedule(tuple(week), tuple(rule for rule in rules if rule.holidays))


def daily(opens: time, closes: time) -> Schedule:
    """The same window every day, no rule beyond it."""
    return schedule((), opens, closes)


def _local_window(zone: ZoneInfo, day: date, hours: Hours) -> Interval:
    return (
        datetime.combine(day, hours[0], zone).astimezone(UTC),
        datetime.combine(day, hours[1], zone).astimezone(UTC),
    )


def next_open_in_zone(now: datetime, zone_name: str, plan: Schedule) -> datetime:
    """`now` if it is inside the zone's window for its local day, else when a window next opens."""
    zone = _zone(zone_name)
    local = now.astimezone(zone)
    today = local.date()
    hours = plan.hours_on(today)
    if hours is not None and hours[0] <= local.time() < hours[1]:
        return now
    for ahead in range(HORIZON_DAYS + 2):
        day = today + timedelta(days=ahead)
        hours = hours if ahead == 0 else plan.hours_on(day)
        if hours is not None:
            start, end = _local_window(zone, day, hours)
            if end > now:
                return max(start, now)
    return now + timedelta(days=HORIZON_DAYS)  # no window this week (no table row does this): look again then


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _windows(zone: ZoneInfo, days: Iterable[date], plan: Schedule) -> list[Interval]:
    return [_local_window(zone, day, hours) for day in days if (hours := plan.hours_on(day)) is not None]


@lru_cache(maxsize=4096)
def _shared_windows(zones: tuple[str, ...], first_day: date, plan: Schedule) -> tuple[Interval, ...]:
    days = [first_day + timedelta(days=n) for n in range(-1, HORIZON_DAYS + 1)]
    shared: list[Interval] | None = None
    for name in zones:
        windows = _windows(_zone(name), days, plan)
        shared = windows if shared is None else _intersect(shared, windows)
    return tuple(shared or ())


def next_open(now: datetime, zones: tuple[str, ...], plan: Schedule) -> datetime:
    """`now` if every zone is inside its window, else the earliest instant when all are."""
    if len(zones) == 1:
        return next_open_in_zone(now, zones[0], plan)
    for start, end in _shared_windows(tuple(sorted(zones)), now.astimezone(UTC).date(), plan):
        if end > now:
            return max(start, now)
    return max(next_open_in_zone(now, name, plan) for name in zones)


@dataclass(frozen=True)
class Closure:
    """Why a moment is outside the window: the rule, where, and what day it is there."""

    rule: Jurisdiction | None  # None: Rapport's own daily window
    zone: str
    local: datetime
    hours: Hours | None  # the rule's hours that day; None if the day is barred
    holiday: str | None = None  # the legal holiday that bars the day


def closed_by(
    now: datetime, zones: tuple[str, ...], rules: tuple[Jurisdiction, ...], opens: time, closes: time
) -> Closure | None:
    """The first rule (states first, then countries, then Rapport's window) that
    `now` breaks in any of the zones; None if it breaks none."""
    ordered = sorted(rules, key=lambda rule: "-" not in rule.code)  # a state's rule is the more specific
    for name in zones:
        local = now.astimezone(_zone(name))
        day, at = local.date(), local.time()
        for rule in ordered:
            if rule.week is None:
                continue
            hours = rule.week[day.weekday()]
            holiday = barred_holiday(rule, day)
            if hours is None or holiday or not hours[0] <= at < hours[1]:
                return Closure(rule, name, local, None if holiday else hours, holiday)
        if not opens <= at < closes:
            return Closure(None, name, local, (opens, closes))
    return None
