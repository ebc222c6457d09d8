"""The policy engine: may this message go to this person now?

`decide` is a pure function of (contact, intent, now, settings). It answers
send, hold (until a time), drop, or ask (replace the message with one honest
question), always with a reason code and a sentence a person can read.
Checks run from the most final to the most temporary, so the reason given
is the one that matters most.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

from chalicelib.domain import jurisdictions, phone
from chalicelib.domain.contact import ConsentState, Contact, DeliverabilityState
from chalicelib.domain.quiet_hours import Closure, closed_by, next_open, schedule


class Purpose(StrEnum):
    TRANSACTIONAL = "transactional"  # order updates, and agents answering a conversation the customer started
    CONVERSATIONAL = "conversational"  # an agent's reply or /ask: one person, by a person
    MARKETING = "marketing"  # a campaign's offer
    QUESTION = "question"  # a campaign's question (its prompt) to many


CAMPAIGN_PURPOSES = (Purpose.MARKETING, Purpose.QUESTION)  # bulk texts: both need opt-in, both keep quiet hours


class Verdict(StrEnum):
    SEND = "send"
    HOLD = "hold"
    DROP = "drop"
    ASK = "ask"


class Reason(StrEnum):
    CLEAR = "clear"  # nothing stands in the way
    OPTED_OUT = "opted_out"
    NO_CONSENT = "no_consent"
    UNDELIVERABLE = "undeliverable"
    QUIET_HOURS = "quiet_hours"
    FREQUENCY_CAP = "frequency_cap"
    SMART_SENDING = "smart_sending"
    UNENGAGED = "unengaged"
    OUT_OF_AREA = "out_of_area"
    STALE_LOCATION = "stale_location"
    IN_CONVERSATION = "in_conversation"
    DUPLICATE = "duplicate"
    EXPIRED = "expired"
    CAMPAIGN_PAUSED = "campaign_paused"
    HOLDOUT = "holdout"  # in the campaign's control group (domain/experiment.py)


class PromptId(StrEnum):
    REENGAGEMENT = "reengagement"  # "Still want texts from {brand}? Reply YES to keep them"
    STILL_NEAR = "still_near"  # "Still near {location}?"


UK_POSTCODE = re.compile(r"^(([A-Z]{1,2})[0-9][0-9A-Z]?)([0-9])[A-Z]{2}$")  # outward (area letters), sector


def normalise_area(code: str) -> str:
    return "".join(code.split()).upper()


def covers(prefix: str, home: str) -> bool:
    """Whether the area `prefix` holds the home `home` (both normalised). A full UK
    postcode is matched on whole parts: its area letters (`LS`), its outward code
    (`LS1`, never `LS10`'s; `SW1` holds the sub-districts `SW1A`...), its sector
    (`LS14`: outward `LS1`, sector 4) or itself. Anything else (ZIPs, partial
    codes) by prefix."""
    postcode = UK_POSTCODE.match(home)
    if postcode is None:
        return home.startswith(prefix)
    outward, letters, sector = postcode.group(1, 2, 3)
    district = outward[:-1] if outward[-1].isalpha() else outward  # SW1A is in SW1
    return prefix in (letters, district, outward, outward + sector, home)


@dataclass(frozen=True)
class Area:
    """Where a location's offers make sense: postcode districts or ZIP prefixes."""

    name: str
    prefixes: tuple[str, ...]

    def contains(self, home_area: str) -> bool:
        home = normalise_area(home_area)
        return any(covers(normalise_area(prefix), home) for prefix in self.prefixes)


@dataclass(frozen=True)
class Intent:
    """A message someone wants to send, and what it is for."""

    purpose: Purpose
    deadline: datetime | None = None  # past this it is no longer relevant
    area: Area | None = None  # a location-tied campaign
    store_areas: Mapping[str, Area] | None = None  # tied to the areas of each contact's store, by store id
    is_prompt: bool = False  # a question: quiet hours apply, and it waits while another one awaits its answer
    quiet_hours: bool = False  # any other text that keeps quiet hours (an agent's late reply)
    campaign_paused: bool = False
    already_sent_in_run: bool = False


@dataclass(frozen=True)
class PolicySettings:
    opens: time = time(8)  # Rapport's own daily window, everywhere; jurisdictions' rules narrow it
    closes: time = time(21)
    frequency_cap: int = 3
    frequency_window: timedelta = timedelta(days=7)
    smart_sending: timedelta = timedelta(hours=24)
    unanswered_limit: int = 3
    silence_limit: timedelta = timedelta(days=90)
    reengagement_wait: timedelta = timedelta(days=7)
    stale_location_after: timedelta = timedelta(days=180)
    recheck_after: timedelta = timedelta(hours=1)  # when a held conversation or pause is looked at again


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: Reason
    explanation: str
    until: datetime | None = None  # hold: not before
    prompt: PromptId | None = None  # ask: the question to send instead


def _send() -> Decision:
    return Decision(Verdict.SEND, Reason.CLEAR, "Nothing stands in the way: send now.")


def _drop(reason: Reason, why: str) -> Decision:
    return Decision(Verdict.DROP, reason, why)


def _hold(reason: Reason, until: datetime, why: str) -> Decision:
    return Decision(Verdict.HOLD, reason, f"{why} Held until {until:%Y-%m-%d %H:%M} UTC.", until=until)


def _ask(reason: Reason, prompt: PromptId, why: str) -> Decision:
    return Decision(Verdict.ASK, reason, why, prompt=prompt)


def decide(contact: Contact, intent: Intent, now: datetime, settings: PolicySettings) -> Decision:
    decision = _first_objection(contact, intent, now, settings) or _send()
    deadline = intent.deadline
    if deadline is not None and decision.verdict == Verdict.HOLD and decision.until and decision.until > deadline:
        return _drop(
            Reason.EXPIRED,
            f"{decision.explanation} That is after its deadline ({deadline:%Y-%m-%d %H:%M} UTC): dropped, never late.",
        )
    return decision


def _first_objection(contact: Contact, intent: Intent, now: datetime, s: PolicySettings) -> Decision | None:
    marketing = intent.purpose == Purpose.MARKETING
    bulk = intent.purpose in CAMPAIGN_PURPOSES
    if intent.deadline is not None and now >= intent.deadline:
        return _drop(Reason.EXPIRED, f"Its deadline ({intent.deadline:%Y-%m-%d %H:%M} UTC) has passed.")
    consent = contact.consent
    if consent == ConsentState.OPTED_OUT:
        return _drop(Reason.OPTED_OUT, "The customer opted out; nothing goes to them until they opt back in.")
    if bulk and consent != ConsentState.OPTED_IN:
        return _drop(Reason.NO_CONSENT, "A campaign's texts need recorded opt-in consent, and there is none.")
    if contact.deliverability.state == DeliverabilityState.UNDELIVERABLE:
        reason = contact.deliverability.reason or "delivery failures"
        return _drop(Reason.UNDELIVERABLE, f"The number cannot receive texts ({reason}).")
    if intent.already_sent_in_run:
        return _drop(Reason.DUPLICATE, "This run already has a message for this contact.")
    if intent.campaign_paused:
        return _hold(Reason.CAMPAIGN_PAUSED, now + s.recheck_after, "The campaign run is paused.")
    if marketing:
        objection = (
            _in_conversation(contact, now, s)
            or _unengaged(contact, now, s)
            or _location(contact, intent, now, s)
            or _frequency(contact, now, s)
            or _smart_sending(contact, now, s)
        )
        if objection:
            return objection
    elif intent.is_prompt and (waiting := _question_waiting(contact, now, s)):
        return waiting  # one question at a time, or the answer could be read against the wrong one
    if bulk or intent.is_prompt or intent.quiet_hours:
        return _quiet_hours(contact, now, s)
    return None


def _in_conversation(contact: Contact, now: datetime, s: PolicySettings) -> Decision | None:
    if contact.conversation is not None:
        return _hold(Reason.IN_CONVERSATION, now + s.recheck_after, "A conversation with an agent is open.")
    return _question_waiting(contact, now, s)


def _question_waiting(contact: Contact, now: datetime, s: PolicySettings) -> Decision | None:
    prompt = contact.pending_prompt
    if prompt is not None and prompt.expires_at > now:
        return _hold(
            Reason.IN_CONVERSATION, min(prompt.expires_at, now + s.recheck_after), "A question awaits an answer."
        )
    return None


def _unengaged(contact: Contact, now: datetime, s: PolicySettings) -> Decision | None:
    """Sunset, counted from the latest of the last reply, order and click: a
    customer who orders every week, or clicks, and never replies is engaged."""
    engagement = contact.engagement
    acted = max((at for at in (contact.orders.last_at, engagement.last_clicked_at) if at is not None), default=None)
    last_heard = max((at for at in (engagement.last_inbound_at, acted) if at is not None), default=None)
    unanswered = engagement.unanswered_marketing
    if acted is not None:  # an order or a click answers the texts before it
        unanswered = min(unanswered, sum(1 for sent in engagement.marketing_sent_at if sent > acted))
    asked = engagement.reengagement_asked_at
    if asked is not None and (last_heard is None or last_heard < asked):
        if now - asked >= s.reengagement_wait:
            return _drop(
                Reason.UNENGAGED,
                f"Asked whether they still want texts on {asked:%Y-%m-%d} and heard nothing back: "
                "marketing has stopped (their consent is unchanged).",
            )
        return _hold(Reason.UNENGAGED, asked + s.reengagement_wait, "Waiting for the answer to 'still want texts?'.")
    silent_since = last_heard or contact.created_at
    receiving = any(sent > now - s.silence_limit for sent in engagement.marketing_sent_at)
    if unanswered >= s.unanswered_limit:
        why = f"{unanswered} marketing texts in a row went unanswered and no order came after them"
    elif receiving and now - silent_since >= s.silence_limit:
        why = f"no reply and no order in {(now - silent_since).days} days of receiving marketing"
    else:
        return None
    return _ask(Reason.UNENGAGED, PromptId.REENGAGEMENT, f"Sunset: {why}. Ask once whether they still want texts.")


def _location(contact: Contact, intent: Intent, now: datetime, s: PolicySettings) -> Decision | None:
    area = intent.area
    if area is None and intent.store_areas is not None and contact.store_id is not None:
        area = intent.store_areas.get(contact.store_id)
    if area is None:
        return None
    home = contact.home
    if home is None or home.confirmed_at is None or now - home.confirmed_at >= s.stale_location_after:
        known = "is unknown" if home is None else "has not been confirmed for 180 days or more"
        return _ask(
            Reason.STALE_LOCATION,
            PromptId.STILL_NEAR,
            f"This offer is for {area.name} and their home location {known}: ask instead of promote.",
        )
    if not area.contains(home.area):
        return _drop(Reason.OUT_OF_AREA, f"Their home ({home.area}) is outside {area.name}, where this offer applies.")
    return None


def _frequency(contact: Contact, now: datetime, s: PolicySettings) -> Decision | None:
    recent = sorted(sent for sent in contact.engagement.marketing_sent_at if sent > now - s.frequency_window)
    if len(recent) < s.frequency_cap:
        return None
    frees_up = recent[len(recent) - s.frequency_cap] + s.frequency_window
    days = s.frequency_window.days
    return _hold(Reason.FREQUENCY_CAP, frees_up, f"Already {len(recent)} marketing texts in the last {days} days.")


def _smart_sending(contact: Contact, now: datetime, s: PolicySettings) -> Decision | None:
    last = contact.engagement.last_outbound_at
    if last is None or now - last >= s.smart_sending:
        return None
    hours = int(s.smart_sending.total_seconds() // 3600)
    return _hold(Reason.SMART_SENDING, last + s.smart_sending, f"They were texted less than {hours} hours ago.")


def applicable_rules(contact: Contact) -> tuple[jurisdictions.Jurisdiction, ...]:
    """The jurisdictions whose texting hours apply: a confirmed home region alone,
    else the imported region and the number's area code together."""
    home = contact.home
    region = home.region if home is not None else None
    confirmed = home is not None and home.confirmed_at is not None
    return jurisdictions.applicable(phone.places_for_number(contact.phone), region, confirmed)


def _quiet_hours(contact: Contact, now: datetime, s: PolicySettings) -> Decision | None:
    zone = contact.time_zone
    zones = (zone.confirmed,) if zone.confirmed else tuple(zone.candidates) or ("UTC",)
    rules = applicable_rules(contact)
    opens_at = next_open(now, zones, schedule(rules, s.opens, s.closes))
    if opens_at <= now:
        return None
    closure = closed_by(now, zones, rules, s.opens, s.closes)
    return _hold(Reason.QUIET_HOURS, opens_at, _closed_because(closure, zones, s))


def _closed_because(closure: Closure | None, zones: tuple[str, ...], s: PolicySettings) -> str:
    """Name the rule: "Connecticut: 09:00-20:00 local; it is 08:30 in America/New_York." """
    if closure is None or closure.rule is None:
        where = zones[0] if len(zones) == 1 else f"all of {len(zones)} possible time zones"
        return f"Outside {s.opens:%H:%M}-{s.closes:%H:%M} local time in {where}."
    rule, local = closure.rule, closure.local
    day = jurisdictions.WEEKDAYS[local.weekday()]
    uniform = rule.week is not None and len(set(rule.week)) == 1
    it_is = f"it is {local:%H:%M}" if uniform else f"it is {day} {local:%H:%M}"
    where = closure.zone if len(zones) == 1 else f"{closure.zone} (one of {len(zones)} possible time zones)"
    if closure.holiday:
        it_is = f"it is {day} {local:%Y-%m-%d %H:%M}"
        return f"{rule.name}: no marketing on legal holidays ({closure.holiday}); {it_is} in {where}."
    if closure.hours is None:
        return f"{rule.name}: no marketing on {day}s; {it_is} in {where}."
    hours = f"{closure.hours[0]:%H:%M}-{closure.hours[1]:%H:%M} local" + ("" if uniform else f" on {day}s")
    return f"{rule.name}: {hours}; {it_is} in {where}."
