"""The policy engine, rule by rule: each test reads like the rule it checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

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
from chalicelib.domain.orders import OrderSummary
from chalicelib.domain.policy import (
    CAMPAIGN_PURPOSES,
    Area,
    Decision,
    Intent,
    PolicySettings,
    PromptId,
    Purpose,
    Reason,
    Verdict,
    decide,
)

SETTINGS = PolicySettings()
LEEDS = Area(name="Leeds", prefixes=("LS1", "LS2", "LS6"))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


NOON = utc("2026-06-10T12:00")  # 13:00 in London, 08:00 in New York
NEW_YEAR = utc("2026-01-01T00:00")


def contact(
    tz: str | None = "Europe/London",
    candidates: tuple[str, ...] = (),
    consent: ConsentState = ConsentState.OPTED_IN,
    created: datetime = NEW_YEAR,
    **changes: object,
) -> Contact:
    event = ConsentEvent(state=consent, source="import", at=created) if consent != ConsentState.UNKNOWN else None
    base = Contact(
        phone="+447700900123",
        created_at=created,
        consent_event=event,
        time_zone=TimeZone(confirmed=tz, candidates=list(candidates)),
        engagement=Engagement(last_inbound_at=created + timedelta(days=100)),
    )
    return base.model_copy(update=changes)


def promo(**changes: object) -> Intent:
    return Intent(purpose=Purpose.MARKETING, **changes)  # type: ignore[arg-type]


def check(c: Contact, intent: Intent, now: datetime) -> Decision:
    return decide(c, intent, now, SETTINGS)


def test_a_promo_to_an_engaged_subscriber_at_lunchtime_is_sent() -> None:
    decision = check(contact(), promo(), NOON)
    assert (decision.verdict, decision.reason) == (Verdict.SEND, Reason.CLEAR)


# --- quiet hours, in the customer's own time zone ------------------------------


def test_promo_waits_for_morning_in_the_customers_zone() -> None:
    d = check(contact(tz="America/Chicago"), promo(), utc("2026-03-01T12:30"))
    assert d.verdict == Verdict.HOLD and d.reason == Reason.QUIET_HOURS
    assert d.until == utc("2026-03-01T14:00")  # 08:00 in Chicago (CST, UTC-6)
    assert "America/Chicago" in d.explanation


@pytest.mark.parametrize(
    ("zone", "now", "opens"),
    [
        ("America/Chicago", "2026-03-07T12:30", "2026-03-07T14:00"),  # the day before US DST: CST
        ("America/Chicago", "2026-03-08T12:30", "2026-03-08T13:00"),  # DST began at 02:00: CDT
        ("Europe/London", "2026-03-29T06:30", "2026-03-29T07:00"),  # BST from 01:00 UTC that day
        ("Europe/London", "2026-10-25T07:30", "2026-10-25T08:00"),  # back to GMT that morning
        ("Australia/Sydney", "2026-04-03T20:30", "2026-04-03T21:00"),  # 07:30 AEDT, the day before it ends
        ("Australia/Sydney", "2026-04-04T20:30", "2026-04-04T22:00"),  # 06:30 AEST: it ended at 16:00 UTC
    ],
)
def test_daylight_saving_changes_move_the_window(zone: str, now: str, opens: str) -> None:
    d = check(contact(tz=zone), promo(), utc(now))
    assert (d.verdict, d.reason, d.until) == (Verdict.HOLD, Reason.QUIET_HOURS, utc(opens))


def test_evening_closes_at_nine_local() -> None:
    assert check(contact(tz="America/New_York"), promo(), utc("2026-06-11T00:59")).verdict == Verdict.SEND  # 20:59
    d = check(contact(tz="America/New_York"), promo(), utc("2026-06-11T01:00"))  # 21:00 EDT
    assert (d.reason, d.until) == (Reason.QUIET_HOURS, utc("2026-06-11T12:00"))


def test_stricter_states_close_at_eight() -> None:
    florida = contact(tz="America/New_York", home=HomeLocation(area="33101", region="FL", confirmed_at=NOON))
    d = check(florida, promo(), utc("2026-06-11T00:30"))  # 20:30 EDT
    assert (d.reason, d.until) == (Reason.QUIET_HOURS, utc("2026-06-11T12:00"))
    assert "08:00-20:00" in d.explanation


def test_candidate_zones_allow_only_the_window_they_all_share() -> None:
    coasts = contact(tz=None, candidates=("America/New_York", "America/Los_Angeles"))
    d = check(coasts, promo(), utc("2026-06-10T13:00"))  # 09:00 in New York, 06:00 in Los Angeles
    assert (d.reason, d.until) == (Reason.QUIET_HOURS, utc("2026-06-10T15:00"))
    assert "all of 2 possible time zones" in d.explanation
    assert check(coasts, promo(), utc("2026-06-11T00:30")).verdict == Verdict.SEND  # 20:30 and 17:30
    late = check(coasts, promo(), utc("2026-06-11T01:30"))  # 21:30 in New York
    assert late.until == utc("2026-06-11T15:00")


def test_zones_with_no_shared_window_wait_for_the_last_to_open() -> None:
    spread = contact(tz=None, candidates=("Europe/London", "Asia/Shanghai", "America/Los_Angeles"))
    d = check(spread, promo(), utc("2026-01-15T12:00"))
    assert (d.reason, d.until) == (Reason.QUIET_HOURS, utc("2026-01-15T16:00"))  # 08:00 in Los Angeles


def test_a_confirmed_zone_beats_the_candidates() -> None:
    moved = contact(tz="Europe/London", candidates=("America/Los_Angeles",))
    assert check(moved, promo(), utc("2026-06-10T10:00")).verdict == Verdict.SEND


def test_questions_keep_quiet_hours_but_order_updates_do_not() -> None:
    night = utc("2026-06-10T23:30")  # 00:30 in London
    question = Intent(purpose=Purpose.CONVERSATIONAL, is_prompt=True)
    assert check(contact(), question, night).reason == Reason.QUIET_HOURS
    assert check(contact(), Intent(purpose=Purpose.TRANSACTIONAL), night).verdict == Verdict.SEND
    late_reply = Intent(purpose=Purpose.CONVERSATIONAL, quiet_hours=True)
    assert check(contact(), late_reply, night).reason == Reason.QUIET_HOURS


def test_a_question_waits_while_another_awaits_its_answer_but_a_reply_does_not() -> None:
    pending = PendingPrompt(prompt_id="still_near", asked_at=NOON, expires_at=NOON + timedelta(days=7))
    asked = contact(pending_prompt=pending)
    question = check(asked, Intent(purpose=Purpose.CONVERSATIONAL, is_prompt=True), NOON)
    assert (question.verdict, question.reason) == (Verdict.HOLD, Reason.IN_CONVERSATION)
    assert check(asked, Intent(purpose=Purpose.CONVERSATIONAL), NOON).verdict == Verdict.SEND


# --- consent and deliverability ------------------------------------------------


@pytest.mark.parametrize("purpose", list(Purpose))
def test_an_opted_out_number_gets_nothing_whatever_the_purpose(purpose: Purpose) -> None:
    d = check(contact(consent=ConsentState.OPTED_OUT), Intent(purpose=purpose), NOON)
    assert (d.verdict, d.reason) == (Verdict.DROP, Reason.OPTED_OUT)


def test_marketing_needs_recorded_opt_in_but_order_updates_do_not() -> None:
    unknown = contact(consent=ConsentState.UNKNOWN)
    assert check(unknown, promo(), NOON).reason == Reason.NO_CONSENT
    assert check(unknown, Intent(purpose=Purpose.TRANSACTIONAL), NOON).verdict == Verdict.SEND


@pytest.mark.parametrize("purpose", CAMPAIGN_PURPOSES)
def test_every_campaign_needs_opt_in_and_keeps_quiet_hours(purpose: Purpose) -> None:
    bulk = Intent(purpose=purpose, is_prompt=purpose == Purpose.QUESTION)
    assert check(contact(consent=ConsentState.UNKNOWN), bulk, NOON).reason == Reason.NO_CONSENT
    assert check(contact(), bulk, utc("2026-06-10T02:00")).reason == Reason.QUIET_HOURS  # 03:00 in London
    assert check(contact(), bulk, NOON).verdict == Verdict.SEND


def test_an_undeliverable_number_is_not_tried_again() -> None:
    dead = contact(deliverability=Deliverability(state=DeliverabilityState.UNDELIVERABLE, reason="error 30006"))
    d = check(dead, Intent(purpose=Purpose.TRANSACTIONAL), NOON)
    assert (d.verdict, d.reason) == (Verdict.DROP, Reason.UNDELIVERABLE)
    assert "30006" in d.explanation


# --- caps, pacing and sunset ----------------------------------------------------


def test_three_marketing_texts_a_week_at_most() -> None:
    sent = [NOON - timedelta(days=6), NOON - timedelta(days=3), NOON - timedelta(days=2)]
    busy = contact(engagement=Engagement(last_inbound_at=NOON - timedelta(days=1), marketing_sent_at=sent))
    d = check(busy, promo(), NOON)
    assert (d.verdict, d.reason, d.until) == (Verdict.HOLD, Reason.FREQUENCY_CAP, sent[0] + timedelta(days=7))


def test_no_marketing_within_a_day_of_any_text() -> None:
    last = NOON - timedelta(hours=5)
    texted = contact(engagement=Engagement(last_inbound_at=NOON, last_outbound_at=last))
    d = check(texted, promo(), NOON)
    assert (d.reason, d.until) == (Reason.SMART_SENDING, last + timedelta(hours=24))


def test_three_unanswered_promos_are_replaced_by_one_honest_question() -> None:
    silent = contact(engagement=Engagement(last_inbound_at=NOON - timedelta(days=20), unanswered_marketing=3))
    d = check(silent, promo(), NOON)
    assert (d.verdict, d.reason, d.prompt) == (Verdict.ASK, Reason.UNENGAGED, PromptId.REENGAGEMENT)


def test_ninety_silent_days_of_marketing_also_trigger_the_question() -> None:
    engagement = Engagement(last_inbound_at=NOON - timedelta(days=120), marketing_sent_at=[NOON - timedelta(days=10)])
    d = check(contact(engagement=engagement), promo(), NOON)
    assert (d.verdict, d.reason) == (Verdict.ASK, Reason.UNENGAGED)


def test_a_weekly_customer_who_never_replies_is_not_sunset_but_one_who_stopped_ordering_is() -> None:
    weekly = [NOON - timedelta(days=7 * week + 2) for week in range(4)]  # a text a week, never answered
    engagement = Engagement(last_inbound_at=None, unanswered_marketing=4, marketing_sent_at=weekly)
    orders_app = OrderSummary(count=30, first_at=NEW_YEAR, last_at=NOON - timedelta(days=1))
    assert check(contact(engagement=engagement, orders=orders_app), promo(), NOON).verdict == Verdict.SEND
    lapsed = orders_app.model_copy(update={"last_at": NOON - timedelta(days=40)})
    d = check(contact(engagement=engagement, orders=lapsed), promo(), NOON)
    assert (d.verdict, d.reason) == (Verdict.ASK, Reason.UNENGAGED) and "no order came after them" in d.explanation
    quiet = Engagement(marketing_sent_at=[NOON - timedelta(days=3)])
    ordered_long_ago = OrderSummary(count=1, first_at=NEW_YEAR, last_at=NOON - timedelta(days=120))
    d = check(contact(engagement=quiet, orders=ordered_long_ago, created=NEW_YEAR), promo(), NOON)
    assert (d.verdict, d.reason) == (
        Verdict.ASK,
        Reason.UNENGAGED,
    ) and "no reply and no order in 120 days" in d.explanation


def test_no_answer_in_seven_days_stops_marketing_but_not_consent() -> None:
    asked = NOON - timedelta(days=8)
    ignored = contact(engagement=Engagement(last_inbound_at=asked - timedelta(days=200), reengagement_asked_at=asked))
    d = check(ignored, promo(), NOON)
    assert (d.verdict, d.reason) == (Verdict.DROP, Reason.UNENGAGED)
    assert ignored.consent == ConsentState.OPTED_IN
    assert check(ignored, Intent(purpose=Purpose.TRANSACTIONAL), NOON).verdict == Verdict.SEND


def test_while_the_question_is_fresh_marketing_waits_and_an_answer_ends_the_sunset() -> None:
    asked = NOON - timedelta(days=2)
    waiting = contact(engagement=Engagement(last_inbound_at=asked - timedelta(days=200), reengagement_asked_at=asked))
    d = check(waiting, promo(), NOON)
    assert (d.verdict, d.reason, d.until) == (Verdict.HOLD, Reason.UNENGAGED, asked + timedelta(days=7))
    answered = contact(engagement=Engagement(last_inbound_at=asked + timedelta(hours=1), reengagement_asked_at=asked))
    assert check(answered, promo(), NOON).verdict == Verdict.SEND


# --- where the customer lives -----------------------------------------------------


def test_a_local_offer_goes_to_locals() -> None:
    local = contact(home=HomeLocation(area="LS6 3AB", confirmed_at=NOON - timedelta(days=30)))
    assert check(local, promo(area=LEEDS), NOON).verdict == Verdict.SEND


def test_the_pizza_branch_does_not_promote_to_a_man_250_miles_away() -> None:
    london = contact(home=HomeLocation(area="SW1A 1AA", confirmed_at=NOON - timedelta(days=30)))
    d = check(london, promo(area=LEEDS), NOON)
    assert (d.verdict, d.reason) == (Verdict.DROP, Reason.OUT_OF_AREA)
    assert "SW1A 1AA" in d.explanation and "Leeds" in d.explanation


@pytest.mark.parametrize(
    "home",
    [
        None,
        HomeLocation(area="LS1 4AP", confirmed_at=None),
        HomeLocation(area="LS1 4AP", confirmed_at=NOON - timedelta(days=181)),
    ],
    ids=["unknown", "never-confirmed", "stale"],
)
def test_an_unconfirmed_home_gets_still_near_instead_of_a_promo(home: HomeLocation | None) -> None:
    d = check(contact(home=home), promo(area=LEEDS), NOON)
    assert (d.verdict, d.reason, d.prompt) == (Verdict.ASK, Reason.STALE_LOCATION, PromptId.STILL_NEAR)


# --- conversations, runs and deadlines ----------------------------------------------


def test_marketing_holds_while_an_agent_conversation_is_open() -> None:
    talking = contact(conversation=Conversation(opened_at=NOON, last_inbound_at=NOON))
    d = check(talking, promo(), NOON)
    assert (d.verdict, d.reason) == (Verdict.HOLD, Reason.IN_CONVERSATION)
    assert check(talking, Intent(purpose=Purpose.TRANSACTIONAL), NOON).verdict == Verdict.SEND


def test_marketing_holds_while_a_question_awaits_its_answer() -> None:
    pending = PendingPrompt(prompt_id="still_near", asked_at=NOON, expires_at=NOON + timedelta(minutes=30))
    d = check(contact(pending_prompt=pending), promo(), NOON)
    assert (d.reason, d.until) == (Reason.IN_CONVERSATION, NOON + timedelta(minutes=30))


def test_one_message_per_contact_per_run() -> None:
    d = check(contact(), promo(already_sent_in_run=True), NOON)
    assert (d.verdict, d.reason) == (Verdict.DROP, Reason.DUPLICATE)


def test_a_paused_run_holds() -> None:
    d = check(contact(), promo(campaign_paused=True), NOON)
    assert (d.verdict, d.reason) == (Verdict.HOLD, Reason.CAMPAIGN_PAUSED)


def test_past_its_deadline_a_message_is_dropped() -> None:
    d = check(contact(), promo(deadline=NOON - timedelta(minutes=1)), NOON)
    assert (d.verdict, d.reason) == (Verdict.DROP, Reason.EXPIRED)


def test_a_hold_that_would_end_after_the_deadline_is_dropped_now() -> None:
    night = utc("2026-06-10T22:30")  # 23:30 in London: the window opens at 07:00 UTC
    d = check(contact(), promo(deadline=utc("2026-06-11T06:00")), night)
    assert (d.verdict, d.reason) == (Verdict.DROP, Reason.EXPIRED)
    assert "Outside 08:00-21:00" in d.explanation
    assert check(contact(), promo(deadline=utc("2026-06-11T09:00")), night).verdict == Verdict.HOLD
