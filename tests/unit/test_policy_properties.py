"""Invariants of the policy engine over generated contacts, intents and times."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
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
from chalicelib.domain.policy import Area, Intent, PolicySettings, Purpose, Verdict, decide

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
        phone="+447700900123",
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
                region=st.sampled_from([None, "FL", "CA"]),
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


@CHECKS
@given(cases())
def test_marketing_and_questions_are_only_sent_inside_every_possible_local_window(
    case: tuple[Contact, Intent, datetime],
) -> None:
    contact, intent, now = case
    decision = decide(contact, intent, now, SETTINGS)
    if decision.verdict != Verdict.SEND or not (
        intent.purpose == Purpose.MARKETING or intent.is_prompt or intent.quiet_hours
    ):
        return
    zone = contact.time_zone
    zones = [zone.confirmed] if zone.confirmed else zone.candidates
    strict = contact.home is not None and contact.home.region in SETTINGS.strict_regions
    closes = time(20) if strict else time(21)
    for name in zones:
        local = now.astimezone(ZoneInfo(name)).time()
        assert time(8) <= local < closes, f"{local} in {name}"


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
