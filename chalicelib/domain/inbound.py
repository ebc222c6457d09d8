"""What an inbound text does to a contact, and what (if anything) we answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.domain.contact import (
    ConsentEvent,
    ConsentProof,
    ConsentState,
    Contact,
    Deliverability,
    DeliverabilityState,
    Engagement,
    FieldChange,
    PendingPrompt,
    TimeZone,
)
from chalicelib.domain.conversations import continued
from chalicelib.domain.double_opt_in import (
    ALREADY_IN,
    JOIN_KEPT_HOURS,
    STOPPED_BEFORE,
    asked,
    confirmed,
    wording_version,
)
from chalicelib.domain.keywords import NATURAL_LANGUAGE, PROMPT_SENSITIVE_WORDS, KeywordKind, classify, normalise_text
from chalicelib.domain.messages import Direction, InboundKind, Message
from chalicelib.domain.prompts import Effect, Prompt, apply, match, reply_to_answer
from chalicelib.domain.reasons import FreeTextAnswer, reasons_in
from chalicelib.domain.reorder import STORE_CLOSED, ReorderRequest, StoreNames, offer, placed, stopped

NOTHING_TO_REPEAT = "Sorry, we can't find an earlier order to repeat. Reply here and someone will help."
ORDER_CHANGED = "You've ordered since we asked, so nothing was ordered: text REORDER to see your usual now."
# Twilio's OptOutType values, sent when Advanced Opt-Out already answered.
ADVANCED_OPT_OUT_KINDS = {
    "STOP": InboundKind.OPT_OUT,
    "START": InboundKind.OPT_IN,
    "HELP": InboundKind.HELP,
}
_KEYWORD_KINDS = {
    KeywordKind.OPT_OUT: InboundKind.OPT_OUT,
    KeywordKind.OPT_IN: InboundKind.OPT_IN,
    KeywordKind.HELP: InboundKind.HELP,
}


@dataclass(frozen=True)
class InboundSms:
    sid: str
    phone: str  # the customer (From)
    brand_number: str  # which of the brand's numbers was texted (To)
    body: str
    at: datetime
    opt_out_type: str | None = None  # set when Twilio Advanced Opt-Out answered


@dataclass(frozen=True)
class BrandReplies:
    opt_out: str
    opt_in: str
    help: str
    conversation_ack: str = ""  # empty: say nothing, an agent will answer
    business_hours: BusinessHours | None = None  # when set, the acknowledgement only inside them
    reorder_words: frozenset[str] = frozenset()  # REORDER_KEYWORDS: none, and ordering by text is off
    join_words: frozenset[str] = frozenset()  # JOIN_KEYWORDS: a double opt-in by text
    join: str = ""  # the join question, as a JOIN is answered (the prompt's, with the brand's name)


@dataclass(frozen=True)
class BusinessHours:
    """When people are there to answer, in the brand's zone: "09:00-17:30"."""

    opens: time
    closes: time
    zone: str

    @classmethod
    def parse(cls, text: str, zone: str) -> BusinessHours:
        """Strictly "HH:MM-HH:MM" (24-hour clock, opening before closing) in a
        real IANA zone: anything looser (ISO forms with an offset, "9", "0900")
        would parse here and then fail, or never match, on every text."""
        start, _, end = (part.strip() for part in text.partition("-"))
        clocks = (start, end)
        if not all(len(c) == 5 and c[2] == ":" and c.isascii() and (c[:2] + c[3:]).isdecimal() for c in clocks):
            raise ValueError(f"business hours {text!r}: write them as HH:MM-HH:MM, e.g. 09:00-17:30")
        try:
            opens, closes = time.fromisoformat(start), time.fromisoformat(end)
        except ValueError:
            raise ValueError(f"business hours {text!r}: hours run 00-23, minutes 00-59") from None
        if opens >= closes:
            raise ValueError(f"business hours {text!r}: they must open before they close, within one day")
        try:
            ZoneInfo(zone)
        except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"business hours: unknown time zone {zone!r} (an IANA name: Europe/London)") from None
        return cls(opens, closes, zone)

    def open_at(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.zone)).time()
        return self.opens <= local < self.closes


@dataclass(frozen=True)
class InboundChange:
    """What one text does to its contact, read from the text alone. Its effects
    commute with other texts' (counters, latest-wins times, consent by event
    time), so a store can apply it without reading the contact first, and
    texts from one number arriving together do not invalidate each other."""

    sms: InboundSms
    kind: InboundKind
    consent: ConsentEvent | None = None  # the consent it sets, unless a later one is recorded
    reads_question: bool = False  # it would answer a pending question instead (YES, free text)
    answered_by_twilio: bool = False  # Advanced Opt-Out replied already: we stay silent

    @property
    def converses(self) -> bool:
        return self.kind == InboundKind.CONVERSATION


@dataclass(frozen=True)
class InboundOutcome:
    contact: Contact
    message: Message  # carries the reply text, empty for none
    field_changes: list[FieldChange] = field(default_factory=list)  # what an answer changed
    free_text: FreeTextAnswer | None = None  # an answer in the customer's own words, for the prompt's list
    reorder: ReorderRequest | None = None  # a YES to a REORDER's offer: the order to place
    consent: ConsentEvent | None = None  # a YES to the join question: the opt-in it confirms, for the trail


def read_text(
    sms: InboundSms, reorder_words: frozenset[str] = frozenset(), join_words: frozenset[str] = frozenset()
) -> InboundChange:
    """Keywords and consent from the text alone (YES is an opt-in here; the
    store refuses the change when a question awaits an answer)."""
    answered_by_twilio = ADVANCED_OPT_OUT_KINDS.get((sms.opt_out_type or "").upper())
    keyword = classify(sms.body)
    if not answered_by_twilio and keyword is None and (said := _said(sms.body)) in reorder_words | join_words:
        return InboundChange(sms, InboundKind.REORDER if said in reorder_words else InboundKind.JOIN)
    if answered_by_twilio:
        word = keyword.word if keyword else normalise_text(sms.body).upper()
        kind, source, keyword = answered_by_twilio, "twilio_advanced_opt_out", None
    elif keyword is not None:
        kind = _KEYWORD_KINDS[keyword.kind]
        source = NATURAL_LANGUAGE if keyword.word == NATURAL_LANGUAGE else "keyword"
        word = keyword.word
    else:
        kind, source, word = InboundKind.CONVERSATION, "", ""
    consent = None
    if kind in (InboundKind.OPT_OUT, InboundKind.OPT_IN):
        consent = ConsentEvent(
            state=ConsentState.OPTED_OUT if kind == InboundKind.OPT_OUT else ConsentState.OPTED_IN,
            source=source,
            keyword=word,
            at=sms.at,
            brand_number=sms.brand_number,
            message_sid=sms.sid,
        )
    reads_question = keyword is None or keyword.word in PROMPT_SENSITIVE_WORDS
    return InboundChange(sms, kind, consent, reads_question and not answered_by_twilio, bool(answered_by_twilio))


def _said(body: str) -> str:
    """A one-word text as a keyword set holds it: "Reorder!" is REORDER."""
    return " ".join(normalise_text(body).upper().split()).strip(".!? ")


def new_contact(sms: InboundSms, zones_for: Callable[[str], tuple[str, ...]]) -> Contact:
    """The contact a first text from a number creates."""
    return Contact(phone=sms.phone, created_at=sms.at, time_zone=TimeZone(candidates=list(zones_for(sms.phone))))


def apply_change(contact: Contact, change: InboundChange) -> Contact:
    """The contact once this text is applied (the same rules a store applies
    with atomic updates)."""
    changed = _heard_from(contact, change.sms.at)
    if change.consent is not None:
        changed = changed.with_consent(change.consent)
    if change.converses:
        changed = changed.model_copy(update={"conversation": continued(changed.conversation, change.sms.at)})
    return changed


def reply_to(change: InboundChange, before: Contact | None, replies: BrandReplies) -> str:
    """The answer to this text, given the contact as the text found it: a
    consent confirmation only when it changed the state, the conversation
    acknowledgement only when it opened one."""
    if change.answered_by_twilio:
        return ""  # Twilio already replied; a second answer would be noise (or fail 21610)
    if change.consent is not None:
        previous = before.consent if before else ConsentState.UNKNOWN
        if previous == (before.with_consent(change.consent).consent if before else change.consent.state):
            return ""  # it moved nothing: already so, or a later word (or the brand's later opt-out) stands
        return replies.opt_out if change.kind == InboundKind.OPT_OUT else replies.opt_in
    if change.kind == InboundKind.HELP:
        return replies.help
    opened = before is None or before.conversation is None
    consent = before.consent if before else ConsentState.UNKNOWN
    hours = replies.business_hours
    if opened and consent != ConsentState.OPTED_OUT and (hours is None or hours.open_at(change.sms.at)):
        return replies.conversation_ack  # once per conversation: only when it opens
    return ""


def receive(
    contact: Contact | None,
    sms: InboundSms,
    replies: BrandReplies,
    zones_for: Callable[[str], tuple[str, ...]],
    prompt: Prompt | None = None,
    store_names: StoreNames = str,
) -> InboundOutcome:
    """The text applied to the contact as read. `prompt`: the question the
    contact has pending, if any. Keywords still win over answers (STOP is
    STOP), but YES is then an answer, not an opt-in. REORDER offers the last
    order (`store_names`: a store's name by its id, None once retired); from someone opted out it
    is a conversation, for a person."""
    base = contact or new_contact(sms, zones_for)
    pending = base.pending_prompt
    if pending is None or prompt is None or pending.prompt_id != prompt.id or pending.expires_at <= sms.at:
        pending = None
    change = read_text(sms, replies.reorder_words, replies.join_words)
    if change.kind == InboundKind.JOIN:
        return _join(_heard_from(base, sms.at), sms, replies.join)
    if change.kind == InboundKind.REORDER and base.consent != ConsentState.OPTED_OUT:
        heard = _heard_from(base, sms.at)
        offered = offer(heard, sms.at, store_names)
        contact_after, reply = offered if offered is not None else (heard, NOTHING_TO_REPEAT)
        return InboundOutcome(contact_after, _message(sms, InboundKind.REORDER, reply))
    if change.kind == InboundKind.REORDER:
        change = replace(change, kind=InboundKind.CONVERSATION)
    if pending is not None and prompt is not None and change.reads_question:
        return _answer(_heard_from(base, sms.at), sms, prompt, pending, store_names)
    return applied(change, contact, base, replies)


def applied(change: InboundChange, before: Contact | None, created: Contact, replies: BrandReplies) -> InboundOutcome:
    """The text's outcome, given the contact as it found it (`created` when none)."""
    after = apply_change(before or created, change)
    return InboundOutcome(contact=after, message=_message(change.sms, change.kind, reply_to(change, before, replies)))


def delivered_again(earlier: Message, contact: Contact | None) -> Message:
    """A text already stored, delivered again (Twilio's retry, or a replayed
    request however old): it changes nothing, and its answer is repeated only
    while what it said stands (a START's "subscribed" is not, after a STOP)."""
    if earlier.kind in (InboundKind.OPT_OUT, InboundKind.OPT_IN):
        current = contact.consent_event if contact else None
        if current is None or current.message_sid != earlier.sid:
            return earlier.model_copy(update={"reply": ""})
    return earlier


def replayed(change: InboundChange, replies: BrandReplies) -> Message:
    """The message of a text whose effects were stored but whose message was not
    (a crash between the two writes): consent is confirmed again rather than never."""
    answers = {InboundKind.OPT_OUT: replies.opt_out, InboundKind.OPT_IN: replies.opt_in, InboundKind.HELP: replies.help}
    reply = "" if change.answered_by_twilio else answers.get(change.kind, "")
    return _message(change.sms, change.kind, reply)


def _join(contact: Contact, sms: InboundSms, question: str) -> InboundOutcome:
    """JOIN: the join question, with what it was asked by (a double opt-in),
    unless they are in already, or opted out (START is their way back)."""
    if contact.consent == ConsentState.OPTED_IN:
        return InboundOutcome(contact, _message(sms, InboundKind.JOIN, ALREADY_IN))
    if contact.consent == ConsentState.OPTED_OUT:
        return InboundOutcome(contact, _message(sms, InboundKind.JOIN, STOPPED_BEFORE))
    proof = ConsentProof(text_version=wording_version(question), source="sms", requested_at=sms.at, message_sid=sms.sid)
    joining = asked(contact, proof, sms.at, sms.at + timedelta(hours=JOIN_KEPT_HOURS))
    return InboundOutcome(joining, _message(sms, InboundKind.JOIN, question))


def _answer(
    contact: Contact, sms: InboundSms, prompt: Prompt, pending: PendingPrompt, store_names: StoreNames
) -> InboundOutcome:
    """Read the text as the pending question's answer; ask once more when it
    cannot be read; after that it is a conversation for a person."""
    found = match(prompt, sms.body)
    changes: list[FieldChange] = []
    if found is not None:
        contact, changes = apply(contact, prompt, found, sms.sid, sms.at)
        kind, reply = InboundKind.ANSWER, reply_to_answer(found, contact, prompt)
        if Effect.PLACE_ORDER in found.answer.effects:
            if stopped(contact):  # a STOP since the offer: nothing placed, nothing said
                return InboundOutcome(contact, _message(sms, kind, ""), changes)
            order = placed(contact, pending, sms.at)
            name = store_names(order.store_id) if order else None  # None for an order: its store retired since
            reply = f"Thanks! Sending your order to {name} now." if name else STORE_CLOSED if order else ORDER_CHANGED
            return InboundOutcome(contact, _message(sms, kind, reply), changes, reorder=order if name else None)
        if Effect.CONFIRM_CONSENT in found.answer.effects and pending.proof is not None:
            contact, event = confirmed(contact, pending, sms.sid, sms.at, sms.brand_number)
            told = reply if contact.consent == ConsentState.OPTED_IN else ""  # a later STOP still stands: no "in"
            return InboundOutcome(contact, _message(sms, kind, told), changes, consent=event)
        if found.answer.free_text:
            said = FreeTextAnswer(
                prompt_id=prompt.id, phone=sms.phone, text=found.matched, reasons=reasons_in(found.matched),
                at=sms.at, sid=sms.sid,
            )  # fmt: skip
            return InboundOutcome(contact, _message(sms, kind, reply), changes, said)
    elif not pending.reasked:
        kind, reply = InboundKind.REASKED, prompt.reask
        contact = contact.model_copy(update={"pending_prompt": pending.model_copy(update={"reasked": True})})
    else:
        kind, reply = InboundKind.CONVERSATION, ""
        conversation = continued(contact.conversation, sms.at)
        contact = contact.model_copy(update={"pending_prompt": None, "conversation": conversation})
    return InboundOutcome(contact=contact, message=_message(sms, kind, reply), field_changes=changes)


def _message(sms: InboundSms, kind: InboundKind, reply: str) -> Message:
    return Message(
        sid=sms.sid,
        phone=sms.phone,
        brand_number=sms.brand_number,
        direction=Direction.INBOUND,
        at=sms.at,
        body=sms.body,
        kind=kind,
        reply=reply,
    )


def _heard_from(contact: Contact, at: datetime) -> Contact:
    """Any inbound text: the contact is engaged, and the number is live."""
    previous = contact.engagement
    last = previous.last_inbound_at
    engagement = previous.model_copy(
        update={
            "last_inbound_at": at if last is None or at > last else last,
            "unanswered_marketing": 0,
            "inbound_count": previous.inbound_count + 1,
        }
    )
    update: dict[str, Engagement | Deliverability] = {"engagement": engagement}
    if contact.deliverability.state != DeliverabilityState.OK:
        update["deliverability"] = Deliverability(reason="inbound text received", updated_at=at)
    return contact.model_copy(update=update)
