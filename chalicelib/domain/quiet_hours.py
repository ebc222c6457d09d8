"""When a text may arrive: a daily local window, in every zone the recipient
could be in.

A confirmed zone is used alone. With only candidates (from the number), the
message may go only when it is inside the window in all of them at once; if
they share no window in the coming week, it waits until the zone that opens
last opens: the first moment that is 08:00 or later everywhere.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

Interval = tuple[datetime, datetime]
HORIZON_DAYS = 7


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local_window(zone: ZoneInfo, day: date, opens: time, closes: time) -> Interval:
    return (
        datetime.combine(day, opens, zone).astimezone(UTC),
        datetime.combine(day, closes, zone).astimezone(UTC),
    )


def next_open_in_zone(now: datetime, zone_name: str, opens: time, closes: time) -> datetime:
    """`now` if it is inside the zone's window, else when the window next opens."""
    zone = _zone(zone_name)
    local = now.astimezone(zone)
    if opens <= local.time() < closes:
        return now
    day = local.date() if local.time() < opens else local.date() + timedelta(days=1)
    return _local_window(zone, day, opens, closes)[0]


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


@lru_cache(maxsize=4096)
def _shared_windows(zones: tuple[str, ...], first_day: date, opens: time, closes: time) -> tuple[Interval, ...]:
    days = [first_day + timedelta(days=n) for n in range(-1, HORIZON_DAYS + 1)]
    shared: list[Interval] | None = None
    for name in zones:
        windows = [_local_window(_zone(name), day, opens, closes) for day in days]
        shared = windows if shared is None else _intersect(shared, windows)
    return tuple(shared or ())


def next_open(now: datetime, zones: tuple[str, ...], opens: time, closes: time) -> datetime:
    """`now` if every zone is inside its window, else the earliest instant when all are."""
    if len(zones) == 1:
        return next_open_in_zone(now, zones[0], opens, closes)
    for start, end in _shared_windows(tuple(sorted(zones)), now.astimezone(UTC).date(), opens, closes):
        if end > now:
            return max(start, now)
    return max(next_open_in_zone(now, name, opens, closes) for name in zones)
