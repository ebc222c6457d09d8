"""Use cases for agents: the inbox, claiming, replying, notes, closing; and
the customer's timeline with what other systems post."""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain import conversations
from chalicelib.domain.contact import Contact
from chalicelib.domain.errors import ConcurrentUpdateError, LookupUnavailableError, RapportError
from chalicelib.domain.ledger import ClaimStatus, Fate, LedgerEntry, LedgerState, conversation_text
from chalicelib.domain.messages import DeliveryStatus, Direction, Message
from chalicelib.domain.policy import Intent, PolicySettings, Purpose, Reason, Verdict, decide
from chalicelib.domain.prompts import Prompt
from chalicelib.domain.runs import after_send
from chalicelib.domain.segments import segments
from chalicelib.domain.timeline import Entry, EntryKind, Event, merge, page
from chalicelib.services.idempotency import IdempotencyKeyMismatchError, request_hash
from chalicelib.services.ports import (
    Clock,
    ConversationStore,
    JobQueue,
    RunStore,
    Sender,
    SendOutcome,
    SendResult,
    Write,
)
from chalicelib.services.recording import record_sent
from chalicelib.services.retry import retry_on_conflict
from chalicelib.services.runs import send_job
from chalicelib.services.send_claim import CLAIM_TRIES  # decisions on a contact that changed under the claim
from chalicelib.services.send_pace import SLOT_AHEAD_S
from chalicelib.services.send_text import PACE_MARGIN
from chalicelib.services.stores import StoreDirectory

DECISIONS_SHOWN = 10_000  # decisions expire (TTL), so this is all of them
REPLY_VALIDITY_S = 4 * 3600  # a reply that cannot be delivered within 4 hours is stale
REPLY_WAIT_MAX_S = 5.0  # an agent's text waits at most this for its sender's slot; later: 429, come back then
REPLY_LEASE = timedelta(seconds=90)  # longer than the API function may run (60 s): past it, that request is over
log = logging.getLogger(__name__)


class UnknownContactError(RapportError, LookupError):
    """No contact has that number."""


class NotSendableError(RapportError):
    """The policy says this text may not go now."""


class SendFailedError(RapportError):
    """Twilio did not take the text."""


class SendUnknownError(RapportError):
    """Twilio may or may not have taken the text; it is not sent again."""


class RequestInProgressError(RapportError):
    """A request with the same Idempotency-Key is being handled now."""


class SenderBusyError(RapportError):
    """The sender's pace has no slot soon enough for a text sent now: nothing was sent."""

    def __init__(self, wait_s: float) -> None:
        self.retry_after_s = max(1, math.ceil(wait_s))
        super().__init__(f"the store's number is sending at its rate: try again in {self.retry_after_s} s")


def _contact(phone: str, store: ConversationStore) -> Contact:
    contact = store.get_contact(phone)
    if contact is None:
        raise UnknownContactError(f"no contact {phone}")
    return contact


def _update(phone: str, store: ConversationStore, change: Callable[[Contact], Contact]) -> Contact:
    """Apply a change to the contact, again on a fresh read if it moved meanwhile."""

    def attempt() -> Contact:
        contact = _contact(phone, store)
        changed = change(contact)
        if changed is contact:
            return contact
        store.save_contact(changed, contact.version)
        return changed.model_copy(update={"version": contact.version + 1})

    return retry_on_conflict(attempt)


def claim(phone: str, agent: str, reassign: bool, store: ConversationStore, clock: Clock) -> Contact:
    """Exclusive: of two agents claiming at once, one wins and the other gets ClaimedError."""
    now = clock.now()
    return _update(phone, store, lambda contact: conversations.claim(contact, agent, now, reassign))


def read(phone: str, agent: str, store: ConversationStore) -> Contact:
    """The agent has the thread open: the customer's texts so far are read. No write
    when nothing was unread; a text arriving meanwhile makes it read again, fresh."""
    return _update(phone, store, lambda contact: conversations.read(contact, agent))


def reply(
    phone: str,
    agent: str,
    body: str,
    ctx: Outbound,
    key: str | None = None,
) -> Message:
    """Send an agent's reply through the policy (consent, deliverability; quiet hours
    unless the customer texted in the last 24 hours) and record it in the thread.
    A claim routes the conversation; it does not silence a colleague's reply.
    `key`: the request's Idempotency-Key (see `converse`)."""
    request = {"phone": phone, "agent": agent, "body": body}
    return converse(
        OutboundText(phone, body, agent, Keyed.of("reply", key, request)),
        conversations.reply_intent,
        lambda contact, at: conversations.replied(contact, agent, at),
        ctx,
    )


def ask(
    phone: str,
    prompt: Prompt,
    location: str | None,
    brand: str,
    ctx: Outbound,
    key: str | None = None,
    by: str | None = None,
) -> Message:
    """Send one question now, through the policy as a conversational question
    (consent, deliverability and quiet hours hold); the answer is awaited.
    `key`: the request's Idempotency-Key (see `converse`)."""
    request = {"phone": phone, "prompt_id": prompt.id, "location": location}
    return converse(
        OutboundText(phone, prompt.text(brand, location), by, Keyed.of("ask", key, request)),
        lambda _contact, _at: Intent(Purpose.CONVERSATIONAL, is_prompt=True),
        lambda contact, at: after_send(contact, Purpose.CONVERSATIONAL, prompt, location, None, at),
        ctx,
    )


def notify(phone: str, body: str, deadline: datetime, key: str, ctx: Outbound) -> Message:
    """Send a transactional text the customer's own action set off (an order's
    update), once per `key`: no marketing opt-in needed, never after a STOP,
    quiet hours do not hold it, and past `deadline` it is dropped."""
    return converse(
        OutboundText(phone, body, None, Keyed.of("notify", key, {"phone": phone, "key": key}), paced=False),
        lambda _contact, _at: Intent(Purpose.TRANSACTIONAL, deadline=deadline),
        lambda contact, at: after_send(contact, Purpose.TRANSACTIONAL, None, None, None, at),
        ctx,
    )


@dataclass(frozen=True)
class Outbound:
    store: ConversationStore
    runs: RunStore  # the ledger: one text per Idempotency-Key, as one per run
    sender: Sender
    clock: Clock
    policy: PolicySettings
    stores: StoreDirectory  # each text goes from its contact's store's sender


def wait_for_sender(contact: Contact, body: str, ctx: Outbound, longest_wait_s: float) -> tuple[bool, float]:
    """Take the body's slot of the contact's sender's pace (shared by campaigns,
    order texts and agents' texts) and sleep until it, unless it lies more than
    `longest_wait_s` away (the slot then goes unused): whether it slept, and the
    seconds to the slot."""
    origin = ctx.stores.origin(contact)
    interval = PACE_MARGIN * max(1, segments(body).count) / origin.messages_per_second
    slot = ctx.runs.senders.take_slot(origin.pace, interval, ctx.clock.now().timestamp() + SLOT_AHEAD_S)
    wait = slot - ctx.clock.now().timestamp()
    if wait > longest_wait_s:
        return False, wait
    ctx.clock.sleep(wait)
    return True, wait


@dataclass(frozen=True)
class Keyed:
    """One request under its Idempotency-Key: its ledger entry and its identity."""

    text: str  # the ledger entry's name (domain/ledger.py conversation_text)
    request: str  # the request's hash: the key used with another request is refused

    @classmethod
    def of(cls, scope: str, key: str | None, request: Mapping[str, Any]) -> Keyed:
        """Without a key a fresh one: never replayed, but its intent is still written first."""
        name = key if key is not None else "auto:" + secrets.token_hex(16)
        return cls(conversation_text(scope, name), request_hash(scope, request))


@dataclass(frozen=True)
class OutboundText:
    phone: str
    body: str
    sent_by: str | None
    keyed: Keyed
    paced: bool = True  # False: its caller took its slot of the sender's pace (an order's job)

    def message(self, sid: str, at: datetime, brand_number: str = "") -> Message:
        """The message as every answer to its key gives it."""
        return Message(
            sid=sid, phone=self.phone, brand_number=brand_number, direction=Direction.OUTBOUND, at=at,
            body=self.body, status=DeliveryStatus.QUEUED, sent_by=self.sent_by,
        )  # fmt: skip


After = Callable[[Contact, datetime], Contact]


def converse(
    text: OutboundText, intent_for: Callable[[Contact, datetime], Intent], after: After, ctx: Outbound
) -> Message:
    """One text to one contact now, sent at most once per Idempotency-Key through
    its ledger entry, as a campaign's text is once per run (domain/ledger.py):
    decided on a fresh read, claimed (with a lease, carrying the text and the
    request's hash) on condition that the contact is still as read, so a STOP
    that lands meanwhile refuses the claim and the text is decided again; then
    the Twilio call; then recorded in the thread and settled. From the moment
    Twilio takes the text the answer is the message (201): a failed record is
    logged and made up by a retry with the key, never answered with "try
    again". A retry with the key meets the entry first: `_seen_before`."""
    taking_over: str | None = None
    entry = ctx.runs.ledger.entry(text.keyed.text, text.phone)
    if entry is not None:
        earlier = _seen_before(entry, text, after, ctx)
        if isinstance(earlier, Message):
            return earlier
        taking_over = earlier
    if text.paced:  # before the claim: a STOP while it waits is seen by the decision
        slept, wait = wait_for_sender(_contact(text.phone, ctx.store), text.body, ctx, REPLY_WAIT_MAX_S)
        if not slept:
            raise SenderBusyError(wait)
    attempt, contact, at = _claimed(text, intent_for, taking_over, ctx)
    origin = ctx.stores.origin(contact).sender
    result = ctx.sender.send(text.phone, text.body, REPLY_VALIDITY_S, origin)  # an exception leaves it sending
    if result.outcome != SendOutcome.ACCEPTED or not result.sid:
        raise _not_taken(result, text, attempt, ctx)
    message = text.message(result.sid, at, result.from_number or "")
    _record_or_log(text, message, after, ctx, contact, attempt)
    return message


def _claimed(
    text: OutboundText, intent_for: Callable[[Contact, datetime], Intent], taking_over: str | None, ctx: Outbound
) -> tuple[str, Contact, datetime]:
    """The entry claimed for this text, with the contact it was decided on and when.
    NotSendableError when the policy says no (a dead request's entry taken over is
    given back); RequestInProgressError when another request with the key holds it."""
    for _ in range(CLAIM_TRIES):
        contact = _contact(text.phone, ctx.store)
        now = ctx.clock.now()
        decision = decide(contact, intent_for(contact, now), now, ctx.policy)
        if decision.verdict != Verdict.SEND:
            if taking_over is not None:
                ctx.runs.ledger.settle(
                    text.keyed.text, text.phone, taking_over, Fate.RETRY, detail=str(decision.reason)
                )
            raise NotSendableError(f"{decision.reason}: {decision.explanation}")
        claim = ctx.runs.ledger.claim(
            text.keyed.text, text.phone, now, now + REPLY_LEASE,
            take_over=taking_over, seen=contact, body=text.body, request=text.keyed.request,
        )  # fmt: skip
        if claim.status == ClaimStatus.TAKEN:
            return claim.attempt, contact, now
        if claim.status != ClaimStatus.CHANGED:
            raise RequestInProgressError("in progress: another request with this key is sending it now")
    raise ConcurrentUpdateError(f"{text.phone} kept changing under the claim")


def _seen_before(entry: LedgerEntry, text: OutboundText, after: After, ctx: Outbound) -> Message | str | None:
    """A request with this key came before. It gets what the first one got: the
    message (recorded now if the first stopped before its record), or
    SendUnknownError when Twilio's answer was lost; RequestInProgressError while
    the first still holds its lease. Past the lease the first stopped without a
    word: Twilio's message list says whether the text went (recorded, answered)
    or not (its attempt, returned to be taken over and sent now). None: the
    first gave the key back (nothing went), this one starts over."""
    if entry.request != text.keyed.request:
        raise IdempotencyKeyMismatchError("its first request was for another contact or another text")
    found = entry.found(ctx.clock.now())
    if found.status == ClaimStatus.TAKEN:
        return None
    if found.status == ClaimStatus.STALE_SENDING:
        return _reconciled(entry, text, after, ctx)
    if found.lease_until is not None:
        raise RequestInProgressError(f"in progress: a request with this key began at {entry.sending_at:%H:%M:%S}")
    if entry.state != LedgerState.SENT:
        raise _unknown(entry.detail)
    return _sent_before(text, entry.sid, entry.sending_at, after, ctx)


def _sent_before(
    text: OutboundText, sid: str, at: datetime | None, after: After, ctx: Outbound, attempt: str | None = None
) -> Message:
    """The message an earlier request with the key sent, recorded now if that one
    stopped before its record (the number it went from is then unknown here).
    `attempt`: that request's claim, settled sent with the record."""
    stored, _ = ctx.store.messages.with_contact(text.phone, sid)
    message = text.message(sid, at or ctx.clock.now(), stored.brand_number if stored else "")
    if stored is None or not stored.body or attempt is not None:
        _record_or_log(text, message, after, ctx, None, attempt)
    return message


def _reconciled(entry: LedgerEntry, text: OutboundText, after: After, ctx: Outbound) -> Message | str:
    """A request with this key stopped while sending: ask Twilio whether its text went."""
    since = (entry.sending_at or ctx.clock.now() - REPLY_LEASE) - timedelta(seconds=5)
    try:
        sid = ctx.sender.find_sent(text.phone, entry.body, since)
    except LookupUnavailableError as error:  # reported, never resent blindly: the next retry asks again
        unsure = f"a request with this key stopped while sending and Twilio cannot say now whether it went ({error})"
        raise SendUnknownError(f"{unsure}: it is not sent again until Twilio can tell") from None
    if sid is None:
        return entry.attempt  # it never went: this request takes the entry over and sends it
    return _sent_before(text, sid, entry.sending_at, after, ctx, entry.attempt)


def _not_taken(result: SendResult, text: OutboundText, attempt: str, ctx: Outbound) -> RapportError:
    """Twilio did not take the text (the key given back: nothing went) or cannot say
    whether it did (settled unknown: never sent again)."""
    name = text.keyed.text
    if result.outcome in (SendOutcome.RETRY, SendOutcome.REJECTED):
        ctx.runs.ledger.settle(name, text.phone, attempt, Fate.RETRY, detail=result.detail)
        return SendFailedError(f"Twilio did not take it ({result.outcome}): {result.detail}")
    detail = result.detail or "Twilio took it but its answer had no sid"
    ctx.runs.ledger.settle(name, text.phone, attempt, Fate.UNKNOWN, detail=detail)
    return _unknown(detail)


def _unknown(detail: str) -> SendUnknownError:
    return SendUnknownError(f"Twilio's answer was lost ({detail}): the text may have gone; it is not sent again")


def _record_or_log(
    text: OutboundText, message: Message, after: After, ctx: Outbound, read: Contact | None, attempt: str | None
) -> None:
    """Record the text (recording.py), settling its entry with it (`attempt`: the
    claim to settle; None: settled already). The text has gone: a failure here
    must not become an error answer, which would invite a second send. It is
    logged and the entry settled alone; should that fail too, the entry stays
    sending and a retry with the key finds the text at Twilio once the lease is over."""

    def settles(_stored: Message | None) -> list[Write]:
        return [] if attempt is None else [ctx.runs.ledger.sent(text.keyed.text, text.phone, attempt, message.sid)]

    try:
        record_sent(message, lambda contact, at: _after_reply(after, contact, at), settles, ctx.store, read)
    except Exception as error:  # the text is out: say so, whatever failed after it
        log.error("text %s went but its record failed: %s", message.sid, type(error).__name__)
        if attempt is None:
            return
        try:
            ctx.runs.ledger.settle(text.keyed.text, text.phone, attempt, Fate.SENT, detail="sent", sid=message.sid)
        except Exception as again:
            log.error("could not settle %s: %s", text.keyed.text, type(again).__name__)


def _after_reply(after: After, contact: Contact, at: datetime) -> Contact | None:
    """The contact as the text leaves it; None when there is nothing to change (its
    conversation closed since the text went: the text is kept)."""
    try:
        return after(contact, at)
    except conversations.NoConversationError:
        return None


def add_entry(phone: str, entry: Entry, store: ConversationStore) -> bool:
    """A note or an interaction; False when one with the same id is already stored."""
    _contact(phone, store)
    return store.timeline.add_entry(phone, entry)


def note(phone: str, agent: str, text: str, store: ConversationStore, clock: Clock) -> Entry:
    entry = Entry(id=f"note_{secrets.token_hex(6)}", kind=EntryKind.NOTE, at=clock.now(), summary=text, author=agent)
    add_entry(phone, entry, store)
    return entry


def close(
    phone: str, agent: str, store: ConversationStore, runs: RunStore, send_queue: JobQueue, clock: Clock
) -> tuple[Contact, int]:
    """Close the conversation (noted on the timeline) and queue again the campaign
    texts it was holding (the ledger keeps each to one send per run); how many."""
    contact = _update(phone, store, conversations.close)
    note(phone, agent, "Conversation closed.", store, clock)
    since = clock.now() - timedelta(days=2)
    held = [
        d
        for d in runs.holds.decisions_for(phone)
        if d.verdict == Verdict.HOLD and d.reason == Reason.IN_CONVERSATION and d.at >= since and not d.outcome
    ]
    send_queue.enqueue([send_job(d.run_id, d.campaign_id, phone, d.cell) for d in held])
    return contact, len(held)


def timeline(
    phone: str, store: ConversationStore, runs: RunStore, before: tuple[datetime, str] | None, limit: int
) -> tuple[list[Event], str | None]:
    """A page of the timeline, newest first, and the cursor for the next page."""
    _contact(phone, store)
    history = store.timeline.history(
        phone, before[0] if before else None, newest=limit
    )  # a page's worth, not all of it
    return page(merge(history, runs.holds.decisions_for(phone, DECISIONS_SHOWN)), before, limit)
