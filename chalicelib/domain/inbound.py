"""What an inbound text does to a contact, and what (if anything) we answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from chalicelib.domain.contact import (
    ConsentEvent,
    ConsentState,
    Contact,
    Conversation,
    Deliverability,
    DeliverabilityState,
    Engagement,
    PendingPrompt,
    TimeZone,
)
from chalicelib.domain.keywords import NATURAL_LANGUAGE, KeywordKind, classify, normalise_text
from chalicelib.domain.messages import Direction, InboundKind, Message
from chalicelib.domain.prompts import Prompt, apply, match

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


@dataclass(frozen=True)
class BusinessHours:
    """When people are there to answer, in the brand's zone: "09:00-17:30"."""

    opens: time
    closes: time
    zone: str

    @classmethod
    def parse(cls, text: str, zone: str) -> BusinessHours:
        start, _, end = text.partition("-")
        try:
            return cls(time.fromisoformat(start.strip()), time.fromisoformat(end.strip()), zone)
        except ValueError:
            raise ValueError(f"business hours {text!r}: write them as HH:MM-HH:MM") from None

    def open_at(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.zone)).time()
        return self.opens <= local < self.closes


@dataclass(frozen=True)
class InboundOutcome:
    contact: Contact
    message: Message  # carries the reply text, empty for none


def receive(
    contact: Contact | None,
    sms: InboundSms,
    replies: BrandReplies,
    zones_for: Callable[[str], tuple[str, ...]],
    prompt: Prompt | None = None,
) -> InboundOutcome:
    """`prompt`: the question the contact has pending, if any. Keywords still win
    over answers (STOP is STOP), but YES is then an answer, not an opt-in."""
    base = contact or Contact(
        phone=sms.phone,
        created_at=sms.at,
        time_zone=TimeZone(candidates=list(zones_for(sms.phone))),
    )
    pending = base.pending_prompt
    if pending is None or prompt is None or pending.prompt_id != prompt.id or pending.expires_at <= sms.at:
        pending = None
    base = _heard_from(base, sms.at)
    answered_by_twilio = ADVANCED_OPT_OUT_KINDS.get((sms.opt_out_type or "").upper())
    keyword = None if answered_by_twilio else classify(sms.body, awaiting_answer=pending is not None)
    if answered_by_twilio:
        kind, source, word = answered_by_twilio, "twilio_advanced_opt_out", normalise_text(sms.body).upper()
    elif keyword is not None:
        kind = _KEYWORD_KINDS[keyword.kind]
        source = NATURAL_LANGUAGE if keyword.word == NATURAL_LANGUAGE else "keyword"
        word = keyword.word
    elif pending is not None and prompt is not None:
        return _answer(base, sms, prompt, pending)
    else:
        kind, source, word = InboundKind.CONVERSATION, "", ""

    reply = ""
    if kind in (InboundKind.OPT_OUT, InboundKind.OPT_IN):
        target = ConsentState.OPTED_OUT if kind == InboundKind.OPT_OUT else ConsentState.OPTED_IN
        if base.consent != target:
            base = base.with_consent(
                ConsentEvent(
                    state=target,
                    source=source,
                    keyword=word,
                    at=sms.at,
                    brand_number=sms.brand_number,
                    message_sid=sms.sid,
                )
            )
            reply = replies.opt_out if kind == InboundKind.OPT_OUT else replies.opt_in
    elif kind == InboundKind.HELP:
        reply = replies.help
    else:
        opened = base.conversation is None
        base = base.model_copy(update={"conversation": _continue(base.conversation, sms.at)})
        hours = replies.business_hours
        if opened and base.consent != ConsentState.OPTED_OUT and (hours is None or hours.open_at(sms.at)):
            reply = replies.conversation_ack  # once per conversation: only when it opens
    if answered_by_twilio:
        reply = ""  # Twilio already replied; a second answer would be noise (or fail 21610)

    return InboundOutcome(contact=base, message=_message(sms, kind, reply))


def _answer(contact: Contact, sms: InboundSms, prompt: Prompt, pending: PendingPrompt) -> InboundOutcome:
    """Read the text as the pending question's answer; ask once more when it
    cannot be read; after that it is a conversation for a person."""
    found = match(prompt, sms.body)
    if found is not None:
        kind, reply = InboundKind.ANSWER, found.answer.reply
        contact = apply(contact, prompt, found, sms.sid, sms.at)
    elif not pending.reasked:
        kind, reply = InboundKind.REASKED, prompt.reask
        contact = contact.model_copy(update={"pending_prompt": pending.model_copy(update={"reasked": True})})
    else:
        kind, reply = InboundKind.CONVERSATION, ""
        conversation = _continue(contact.conversation, sms.at)
        contact = contact.model_copy(update={"pending_prompt": None, "conversation": conversation})
    return InboundOutcome(contact=contact, message=_message(sms, kind, reply))


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


def _continue(conversation: Conversation | None, at: datetime) -> Conversation:
    if conversation is None:
        return Conversation(opened_at=at, last_inbound_at=at, waiting_since=at)
    return conversation.model_copy(
        update={
            "last_inbound_at": max(at, conversation.last_inbound_at),
            "message_count": conversation.message_count + 1,
            "waiting_since": conversation.waiting_since or at,
        }
    )
