"""Invariants of the policy engine over generated contacts, intents and times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.contact import (
    ConsentEvent,
    ConsentState,
    Contact,
    Conversation,
    Deliverability,
    DeliverabilityState,
    Engagement,
    HomeLocation,
    PendingPrompt,
    TimeZone,
)
from chalicelib.domain.jurisdictions import BY_CODE, STATES, barred_holiday, place_of
from chalicelib.domain.phone import places_for_number
from chalicelib.domain.policy import Area, Intent, PolicySettings, Purpose, Verdict, applicable_rules, decide

SETTINGS = PolicySettings()
ZONES = [
    "Europe/London",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Pacific/Honolulu",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Asia/Shanghai",
    "America/St_Johns",
]
PHONES = [
    "+447700900123",  # UK: no hours rule
    "+12035550123",  # Connecticut
    "+13055550123",  # Florida
    "+12055550123",  # Alabama: no Sundays, no state holidays
    "+15045550123",  # Louisiana: the same
    "+15025550123",  # Kentucky: from 10:00
    "+12145550123",  # Texas: Sundays from noon
    "+14015550123",  # Rhode Island: short Saturdays, no Sundays or holidays
    "+12125550123",  # New York: the federal floor
    "+18005550123",  # toll-free: any state
    "+14165550123",  # Toronto
    "+61412345678",  # Australia
]
REGIONS = [None, "FL", "CA", "CT", "AL", "TX", "KY", "RI", "UT", "ON"]
START = datetime(2026, 1, 1, tzinfo=UTC)
times = st.integers(min_value=0, max_value=2 * 365 * 24 * 60).map(lambda m: START + timedelta(minutes=m))
offsets = st.integers(min_value=-400 * 24 * 60, max_value=0).map(lambda m: timedelta(minutes=m))


@st.composite
def contacts(draw: st.DrawFn, now: datetime) -> Contact:
    def ago() -> datetime:
        return now + draw(offsets)

    confirmed = draw(st.none() | st.sampled_from(ZONES))
    candidates = draw(st.lists(st.sampled_from(ZONES), min_size=0 if confirmed else 1, max_size=4, unique=True))
    consent = draw(st.sampled_from(list(ConsentState)))
    return Contact(
        phone=draw(st.sampled_from(PHONES)),
        created_at=now - timedelta(days=500),
        consent_event=None if consent == ConsentState.UNKNOWN else ConsentEvent(state=consent, source="t", at=ago()),
        deliverability=Deliverability(state=draw(st.sampled_from(list(DeliverabilityState)))),
        time_zone=TimeZone(confirmed=confirmed, candidates=candidates),
        engagement=Engagement(
            last_inbound_at=draw(st.none() | st.just(ago())),
            last_outbound_at=draw(st.none() | st.just(ago())),
            unanswered_marketing=draw(st.integers(0, 5)),
            marketing_sent_at=[ago() for _ in range(draw(st.integers(0, 4)))],
            reengagement_asked_at=draw(st.none() | st.just(ago())),
        ),
        home=draw(
            st.none()
            | st.builds(
                HomeLocation,
                area=st.sampled_from(["LS1 1AA", "SW1A 1AA", "33101"]),
                region=st.sampled_from(REGIONS),
                confirmed_at=st.none() | st.just(ago()),
            )
        ),
        conversation=draw(st.none() | st.just(Conversation(opened_at=ago(), last_inbound_at=now))),
        pending_prompt=draw(
            st.none()
            | st.integers(-600, 600).map(
                lambda m: PendingPrompt(prompt_id="p", asked_at=ago(), expires_at=now + timedelta(minutes=m))
            )
        ),
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[Contact, Intent, datetime]:
    now = draw(times)
    deadline = draw(st.none() | st.integers(-3 * 24 * 60, 10 * 24 * 60).map(lambda m: now + timedelta(minutes=m)))
    intent = Intent(
        purpose=draw(st.sampled_from(list(Purpose))),
        deadline=deadline,
        area=draw(st.none() | st.just(Area("Leeds", ("LS",)))),
        is_prompt=draw(st.booleans()),
        quiet_hours=draw(st.booleans()),
        campaign_paused=draw(st.booleans()),
        already_sent_in_run=draw(st.booleans()),
    )
    return draw(contacts(now)), intent, now


CHECKS = settings(max_examples=400, deadline=None)


@CHECKS
@given(cases())
def test_nothing_is_ever_sent_to_an_opted_out_or_undeliverable_number(case: tuple[Contact, Intent, datetime]) -> None:
    contact, intent, now = case
    decision = decide(contact, intent, now, SETTINGS)
    if contact.consent == ConsentState.OPTED_OUT or contact.deliverability.state == DeliverabilityState.UNDELIVERABLE:
        assert decision.verdict != Verdict.SEND


def keeps_quiet_hours(intent: Intent) -> bool:
    return intent.purpose == Purpose.MARKETING or intent.is_prompt or intent.quiet_hours


@CHECKS
@given(cases())
def test_marketing_and_questions_are_only_sent_inside_every_applicable_window(
    case: tuple[Contact, Intent, datetime],
) -> None:
    contact, intent, now = case
    decision = decide(contact, intent, now, SETTINGS)
    if decision.verdict != Verdict.SEND or not keeps_quiet_hours(intent):
        return
    zone = contact.time_zone
    zones = [zone.confirmed] if zone.confirmed else zone.candidates
    for name in zones:
        local = now.astimezone(ZoneInfo(name))
        assert SETTINGS.opens <= local.time() < SETTINGS.closes, f"{local} in {name}"
        for rule in applicable_rules(contact):
            if rule.week is None:
                continue
            hours = rule.week[local.weekday()]
            assert hours is not None, f"{rule.name} bars {local:%A}s, and it is {local} in {name}"
            assert hours[0] <= local.time() < hours[1], f"{rule.name}: {hours}, and it is {local} in {name}"


@CHECKS
@given(cases())
def test_nothing_that_keeps_quiet_hours_goes_on_a_barred_day(case: tuple[Contact, Intent, datetime]) -> None:
    contact, intent, now = case
    decision = decide(contact, intent, now, SETTINGS)
    if decision.verdict != Verdict.SEND or not keeps_quiet_hours(intent):
        return
    zone = contact.time_zone
    for name in [zone.confirmed] if zone.confirmed else zone.candidates:
        local = now.astimezone(ZoneInfo(name)).date()
        for rule in applicable_rules(contact):
            assert not barred_holiday(rule, local), f"{rule.name}: {barred_holiday(rule, local)} on {local} in {name}"


@CHECKS
@given(cases())
def test_the_rules_cover_every_place_the_person_could_be(case: tuple[Contact, Intent, datetime]) -> None:
    contact, _, _ = case
    rules = set(applicable_rules(contact))
    home = contact.home
    given = place_of(home.region) if home is not None else None
    places = {given} if given and home is not None and home.confirmed_at else {*places_for_number(contact.phone), given}
    for place in places - {None}:
        assert place is not None
        if place in BY_CODE:
            assert BY_CODE[place] in rules, place
        if place == "US":  # a US number whose area code names no state
            assert set(STATES) <= rules
        assert place.split("-")[0] not in BY_CODE or BY_CODE[place.split("-")[0]] in rules, place


@CHECKS
@given(cases())
def test_held_for_quiet_hours_means_the_explanation_names_a_rule_or_the_window(
    case: tuple[Contact, Intent, datetime],
) -> None:
    contact, intent, now = case
    decision = decide(contact, intent, now, SETTINGS)
    if decision.reason.value != "quiet_hours":
        return
    names = [rule.name for rule in applicable_rules(contact)]
    assert decision.explanation.startswith(("Outside 08:00-21:00 local time in ", *(f"{n}: " for n in names)))
    assert decision.until is not None and decision.until > now


@CHECKS
@given(cases())
def test_nothing_goes_after_its_deadline_and_holds_end_before_it(case: tuple[Contact, Intent, datetime]) -> None:
    contact, intent, now = case
    decision = decide(contact, intent, now, SETTINGS)
    if intent.deadline is not None and intent.deadline <= now:
        assert decision.verdict == Verdict.DROP
    if decision.verdict == Verdict.HOLD:
        assert decision.until is not None and decision.until > now
        assert intent.deadline is None or decision.until <= intent.deadline


@CHECKS
@given(cases())
def test_marketing_needs_opt_in_and_only_marketing_is_replaced_by_a_question(
    case: tuple[Contact, Intent, datetime],
) -> None:
    contact, intent, now = case
    decision = decide(contact, intent, now, SETTINGS)
    if intent.purpose == Purpose.MARKETING and decision.verdict == Verdict.SEND:
        assert contact.consent == ConsentState.OPTED_IN
    if decision.verdict == Verdict.ASK:
        assert intent.purpose == Purpose.MARKETING and decision.prompt is not None
    assert decision.explanation
