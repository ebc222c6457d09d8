"""The jurisdiction table, row by row, at its edges: hours, barred days, holidays,
daylight saving, and the state given by an import or read from the area code."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain import jurisdictions
from chalicelib.domain.contact import ConsentEvent, ConsentState, Contact, Engagement, HomeLocation, TimeZone
from chalicelib.domain.jurisdictions import AREA_CODES, BY_CODE, STATES, TABLE, Jurisdiction, applicable, holidays_in
from chalicelib.domain.phone import places_for_number
from chalicelib.domain.policy import (
    Decision,
    Intent,
    PolicySettings,
    Purpose,
    Reason,
    Verdict,
    applicable_rules,
    decide,
)
from scripts import render_jurisdictions

SETTINGS = PolicySettings()
HOUSE = (SETTINGS.opens, SETTINGS.closes)
START = datetime(2026, 1, 1, tzinfo=UTC)
FIRST_WEEK = date(2027, 2, 1)  # a Monday; no row bars a holiday that week (checked below)

ZONE = {
    "US": "America/New_York",
    "US-AL": "America/Chicago",
    "US-CT": "America/New_York",
    "US-FL": "America/New_York",
    "US-KY": "America/New_York",
    "US-LA": "America/Chicago",
    "US-MA": "America/New_York",
    "US-MD": "America/New_York",
    "US-MI": "America/Detroit",
    "US-MN": "America/Chicago",
    "US-MS": "America/Chicago",
    "US-NM": "America/Denver",
    "US-NV": "America/Los_Angeles",
    "US-OK": "America/Chicago",
    "US-PA": "America/New_York",
    "US-RI": "America/New_York",
    "US-TX": "America/Chicago",
    "US-UT": "America/Denver",
    "US-WA": "America/Los_Angeles",
    "CA": "America/Toronto",
    "GB": "Europe/London",
    "AU": "Australia/Sydney",
}
NUMBER = {"US": "+12125550123", "CA": "+14165550123", "GB": "+447700900123", "AU": "+61412345678"}
ELSEWHERE = "+447700900456"  # a number that says nothing about US states


def number_of(row: Jurisdiction) -> str:
    """A number of the row's place: its first area code, or the country's sample."""
    return NUMBER.get(row.code) or f"+1{AREA_CODES[row.code].split()[0]}5550123"


def person(phone: str, zone: str, region: str | None = None, confirmed: bool = True) -> Contact:
    home = None if region is None else HomeLocation(area="X1", region=region, confirmed_at=START if confirmed else None)
    return Contact(
        phone=phone,
        created_at=START,
        consent_event=ConsentEvent(state=ConsentState.OPTED_IN, source="import", at=START),
        time_zone=TimeZone(confirmed=zone),
        engagement=Engagement(last_inbound_at=START),
        home=home,
    )


def promo(contact: Contact, local: datetime) -> Decision:
    return decide(contact, Intent(purpose=Purpose.MARKETING), local.astimezone(UTC), SETTINGS)


def at(day: date, hhmm: time, zone: str) -> datetime:
    return datetime.combine(day, hhmm, ZoneInfo(zone))


def shift(moment: time, minutes: int) -> time:
    return (datetime.combine(FIRST_WEEK, moment) + timedelta(minutes=minutes)).time()


def effective(row: Jurisdiction, weekday: int) -> tuple[time, time] | None:
    """What the row allows that day, met with Rapport's window and the federal floor."""
    limits = [HOUSE, row.week[weekday] if row.week else HOUSE]
    if row.country == "US":
        limits.append(jurisdictions.US.hours_on(weekday))
    if any(hours is None for hours in limits):
        return None
    opens, closes = max(h[0] for h in limits if h), min(h[1] for h in limits if h)
    return (opens, closes) if opens < closes else None


def ways_to_know(row: Jurisdiction) -> list[tuple[str, Contact]]:
    """The row's place read from the number, given by a confirmed home region, and
    given by an unconfirmed import next to a number from elsewhere."""
    zone = ZONE[row.code]
    ways = [("area code", person(number_of(row), zone))]
    if row in STATES:
        state = row.code.removeprefix("US-")
        ways.append(("state given", person(ELSEWHERE, zone, region=state)))
        ways.append(("state imported", person("+12125550199", zone, region=state, confirmed=False)))
    return ways


EDGE_CASES = [
    pytest.param(row, weekday, how, contact, id=f"{row.code}-{jurisdictions.WEEKDAYS[weekday][:3]}-{how}")
    for row in TABLE
    for weekday in range(7)
    if effective(row, weekday) is not None and (weekday == 0 or effective(row, weekday) != effective(row, weekday - 1))
    for how, contact in ways_to_know(row)
]


def test_every_row_has_a_zone_a_number_and_sources() -> None:
    assert set(ZONE) == {row.code for row in TABLE}
    for row in TABLE:
        assert row.sources and all(url.startswith(("https://", "http://")) for url in row.sources)
        assert row.checked == date(2026, 11, 27) and row.status in ("read", "reported", "unconfirmed", "no rule")
        assert row.law
        if row.week is not None:
            assert len(row.week) == 7
            assert all(hours is None or hours[0] < hours[1] for hours in row.week)
    assert len({row.code for row in TABLE}) == len(TABLE)
    for state in STATES:
        assert AREA_CODES[state.code].split(), state.code


def test_the_first_week_has_no_barred_holiday() -> None:
    for row in TABLE:
        if row.holidays:
            assert not any(FIRST_WEEK + timedelta(days=n) in holidays_in(row.code, 2027) for n in range(7))


@pytest.mark.parametrize(("row", "weekday", "how", "contact"), EDGE_CASES)
def test_each_row_at_its_edges(row: Jurisdiction, weekday: int, how: str, contact: Contact) -> None:
    assert row in applicable_rules(contact), how
    zone = ZONE[row.code]
    day = FIRST_WEEK + timedelta(days=weekday)
    window = effective(row, weekday)
    assert window is not None
    opens, closes = window
    own = row.week[weekday] if row.week else None

    early = promo(contact, at(day, shift(opens, -1), zone))
    assert (early.verdict, early.reason) == (Verdict.HOLD, Reason.QUIET_HOURS)
    assert early.until == at(day, opens, zone).astimezone(UTC)
    if own is not None and own[0] == opens:
        assert early.explanation.startswith(f"{row.name}: {opens:%H:%M}-"), early.explanation
        assert f"{shift(opens, -1):%H:%M} in {zone}" in early.explanation
    assert promo(contact, at(day, opens, zone)).verdict == Verdict.SEND
    assert promo(contact, at(day, shift(closes, -1), zone)).verdict == Verdict.SEND
    late = promo(contact, at(day, closes, zone))
    assert (late.verdict, late.reason) == (Verdict.HOLD, Reason.QUIET_HOURS)
    assert late.until is not None and late.until > at(day, closes, zone)
    if own is not None and own[1] == closes:
        assert late.explanation.startswith(f"{row.name}: "), late.explanation
    elif own is None or own[1] > closes:
        assert late.explanation.startswith(("Outside 08:00-21:00", "United States (federal)")), late.explanation


@pytest.mark.parametrize("row", [row for row in TABLE if row.week is None], ids=lambda row: row.code)
def test_countries_without_an_hours_rule_keep_rapports_window(row: Jurisdiction) -> None:
    zone = ZONE[row.code]
    sunday = FIRST_WEEK + timedelta(days=6)
    contact = person(number_of(row), zone)
    assert applicable_rules(contact) == (row,)
    early = promo(contact, at(sunday, time(7, 59), zone))
    assert early.explanation.startswith(f"Outside 08:00-21:00 local time in {zone}.")
    assert promo(contact, at(sunday, time(8), zone)).verdict == Verdict.SEND
    assert promo(contact, at(sunday, time(20, 59), zone)).verdict == Verdict.SEND
    assert promo(contact, at(sunday, time(21), zone)).verdict == Verdict.HOLD


# --- daylight saving: the local hours move with the clocks -----------------------


@pytest.mark.parametrize(
    ("code", "local_day", "opens_utc"),
    [
        ("US-CT", "2027-03-13", "2027-03-13T14:00"),  # Saturday, EST: 09:00 is 14:00 UTC
        ("US-CT", "2027-03-14", "2027-03-14T13:00"),  # Sunday, clocks went forward at 02:00: EDT
        ("US-CT", "2027-11-07", "2027-11-07T14:00"),  # Sunday, back to EST at 02:00
        ("US-TX", "2027-03-14", "2027-03-14T17:00"),  # Sunday noon, CDT
        ("US-TX", "2027-11-07", "2027-11-07T18:00"),  # Sunday noon, CST again
        ("US-KY", "2027-03-14", "2027-03-14T14:00"),  # 10:00 EDT
        ("CA", "2027-03-14", "2027-03-14T14:00"),  # Sunday 10:00 EDT in Toronto
    ],
)
def test_daylight_saving_switch_days_move_the_opening(code: str, local_day: str, opens_utc: str) -> None:
    row = BY_CODE[code]
    zone = ZONE[code]
    opening = datetime.fromisoformat(opens_utc).replace(tzinfo=UTC)
    for _, contact in ways_to_know(row):
        before = decide(contact, Intent(purpose=Purpose.MARKETING), opening - timedelta(minutes=1), SETTINGS)
        assert (before.verdict, before.until) == (Verdict.HOLD, opening), before.explanation
        assert before.explanation.startswith(f"{row.name}: ")
        assert decide(contact, Intent(purpose=Purpose.MARKETING), opening, SETTINGS).verdict == Verdict.SEND
        assert opening.astimezone(ZoneInfo(zone)).date() == date.fromisoformat(local_day)


# --- barred days: Sundays and legal holidays ----------------------------------------


@pytest.mark.parametrize("code", ["US-AL", "US-LA", "US-MS", "US-RI", "US-UT"])
def test_a_barred_sunday_waits_for_the_next_open_day(code: str) -> None:
    row = BY_CODE[code]
    zone = ZONE[code]
    sunday = date(2027, 2, 7)
    monday_opens = effective(row, 0)
    assert monday_opens is not None
    for how, contact in ways_to_know(row):
        d = promo(contact, at(sunday, time(14), zone))
        assert (d.verdict, d.reason) == (Verdict.HOLD, Reason.QUIET_HOURS), how
        assert d.explanation.startswith(f"{row.name}: no marketing on Sundays; it is Sunday 14:00 in {zone}."), how
        assert d.until == at(sunday + timedelta(days=1), monday_opens[0], zone).astimezone(UTC)


@pytest.mark.parametrize(
    ("code", "holiday", "name", "reopens"),
    [
        ("US-AL", "2026-12-25T10:00", "Christmas Day", "2026-12-26T08:00"),  # Friday; Saturdays are open
        ("US-AL", "2027-01-18T10:00", "Robert E. Lee", "2027-01-19T08:00"),  # after a barred Sunday, too
        ("US-LA", "2027-02-09T10:00", "Mardi Gras", "2027-02-10T08:00"),
        ("US-RI", "2027-08-09T10:00", "Victory Day", "2027-08-10T09:00"),
        ("US-PA", "2026-11-27T10:00", "Day After Thanksgiving", "2026-11-28T08:00"),
        ("US-UT", "2027-07-23T10:00", "Pioneer Day", "2027-07-26T08:00"),  # observed Friday; Sunday barred
    ],
)
def test_a_barred_holiday_waits_for_the_next_open_day(code: str, holiday: str, name: str, reopens: str) -> None:
    row = BY_CODE[code]
    zone = ZoneInfo(ZONE[code])
    when = datetime.fromisoformat(holiday).replace(tzinfo=zone)
    for how, contact in ways_to_know(row):
        d = promo(contact, when)
        assert (d.verdict, d.reason) == (Verdict.HOLD, Reason.QUIET_HOURS), how
        assert d.explanation.startswith(f"{row.name}: no marketing on legal holidays ("), d.explanation
        assert name in d.explanation
        assert d.until == datetime.fromisoformat(reopens).replace(tzinfo=zone).astimezone(UTC), how


def test_a_holiday_bars_only_where_a_law_says_so() -> None:
    christmas = at(date(2026, 12, 25), time(10), "America/New_York")
    assert promo(person(number_of(BY_CODE["US-CT"]), "America/New_York"), christmas).verdict == Verdict.SEND


def test_holidays_are_computed_per_year() -> None:
    assert date(2027, 12, 24) in holidays_in("US-AL", 2027)  # Christmas on a Saturday: observed on Friday
    assert holidays_in("US-LA", 2031)[date(2031, 2, 25)] == "Mardi Gras"  # moves with Easter (April 13)


# --- where the person is ----------------------------------------------------------


def test_the_area_code_says_which_state() -> None:
    assert places_for_number("+12035550123") == ("US-CT",)
    assert places_for_number("+13055550123") == ("US-FL",)
    assert places_for_number("+14165550123") == ("CA-ON",)
    assert places_for_number("+18005550123") == ("US",)  # toll-free: no state
    assert places_for_number("+447700900123") == ("GB",)
    assert places_for_number("+61412345678") == ("AU",)
    assert places_for_number("+79161234567") == ("RU",)


def codes(rows: tuple[Jurisdiction, ...]) -> list[str]:
    return [row.code for row in rows]


def test_a_confirmed_home_region_wins_over_the_area_code() -> None:
    assert codes(applicable(("US-CT",), "FL", True)) == ["US", "US-FL"]
    assert codes(applicable(("US-CT",), "ON", True)) == ["CA"]


def test_an_imported_region_and_the_area_code_both_apply() -> None:
    assert codes(applicable(("US-CT",), "FL", False)) == ["US", "US-CT", "US-FL"]
    assert codes(applicable(("US-NY",), "us-ct", False)) == ["US", "US-CT"]
    assert codes(applicable(("GB",), "TX", False)) == ["US", "US-TX", "GB"]
    assert codes(applicable(("US-NY",), "North", False)) == ["US"]  # not a state or province: ignored


def test_a_number_that_names_no_state_could_be_in_any() -> None:
    assert codes(applicable(("US",), None, False)) == codes((jurisdictions.US, *STATES))
    assert codes(applicable(("FR",), None, False)) == []  # no row: Rapport's own window only


def test_a_toll_free_number_keeps_every_states_rules() -> None:
    contact = person("+18005550123", "America/New_York")
    assert promo(contact, at(date(2027, 2, 3), time(9, 30), "America/New_York")).explanation.startswith("Kentucky")
    assert promo(contact, at(date(2027, 2, 7), time(14), "America/New_York")).verdict == Verdict.HOLD  # Sunday
    assert promo(contact, at(date(2027, 2, 3), time(10), "America/New_York")).verdict == Verdict.SEND


# --- the table is the documentation ------------------------------------------------


def test_the_policies_doc_shows_the_table_as_it_is() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "policies.md").read_text(encoding="utf-8")
    assert render_jurisdictions.doc_block() in doc, "run: .venv/bin/python -m scripts.render_jurisdictions"


def test_the_area_code_map_is_phonenumbers_own() -> None:
    assert render_jurisdictions.area_codes() == AREA_CODES, "run: .venv/bin/python -m scripts.render_jurisdictions"
