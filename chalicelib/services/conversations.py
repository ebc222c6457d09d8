"""Use cases for agents: the inbox, claiming, replying, notes, closing; and
the customer's timeline with what other systems post."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain import conversations
from chalicelib.domain.contact import Contact
from chalicelib.domain.errors import RapportError
from chalicelib.domain.messages import DeliveryStatus, Direction, Message
from chalicelib.domain.policy import Intent, PolicySettings, Purpose, Reason, Verdict, decide
from chalicelib.domain.prompts import Prompt
from chalicelib.domain.runs import after_send
from chalicelib.domain.timeline import Entry, EntryKind, Event, merge, page
from chalicelib.services.idempotency import IdempotencyStore, Idempotent, InProgress, Replay, Started
from chalicelib.services.ports import Clock, ConversationStore, JobQueue, RunStore, Sender, SendOutcome, SendResult
from chalicelib.services.retry import retry_on_conflict
from chalicelib.services.runs import send_job

DECISIONS_SHOWN = 10_000  # decisions expire (TTL), so this is all of them
REPLY_VALIDITY_S = 4 * 3600  # a reply that cannot be delivered within 4 hours is stale
SEND_LEASE = timedelta(seconds=90)  # longer than the API function may run (60 s): past it, that request is over
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
    store: ConversationStore,
    sender: Sender,
    clock: Clock,
    policy: PolicySettings,
    idempotency: IdempotencyStore | None = None,
    key: str | None = None,
) -> Message:
    """Send an agent's reply through the policy (consent, deliverability; quiet hours
    unless the customer texted in the last 24 hours) and record it in the thread.
    A claim routes the conversation; it does not silence a colleague's reply.
    `key`: the request's Idempotency-Key (see `_converse`)."""
    request = {"phone": phone, "agent": agent, "body": body}
    return _converse(
        phone,
        conversations.reply_intent,
        body,
        lambda contact, at: conversations.replied(contact, agent, at),
        Outbound(store, sender, clock, policy),
        Idempotent(idempotency, "reply", key, request) if idempotency is not None else None,
        sent_by=agent,
    )


def ask(
    phone: str,
    prompt: Prompt,
    location: str | None,
    store: ConversationStore,
    sender: Sender,
    clock: Clock,
    policy: PolicySettings,
    brand: str,
    idempotency: IdempotencyStore | None = None,
    key: str | None = None,
    by: str | None = None,
) -> Message:
    """Send one question now, through the policy as a conversational question
    (consent, deliverability and quiet hours hold); the answer is awaited.
    `key`: the request's Idempotency-Key (see `_converse`)."""
    request = {"phone": phone, "prompt_id": prompt.id, "location": location}
    return _converse(
        phone,
        lambda _contact, _at: Intent(Purpose.CONVERSATIONAL, is_prompt=True),
        prompt.text(brand, location),
        lambda contact, at: after_send(contact, Purpose.CONVERSATIONAL, prompt, location, None, at),
        Outbound(store, sender, clock, policy),
        Idempotent(idempotency, "ask", key, request) if idempotency is not None else None,
        sent_by=by,
    )


@dataclass(frozen=True)
class Outbound:
    store: ConversationStore
    sender: Sender
    clock: Clock
    policy: PolicySettings


def _converse(
    phone: str,
    intent_for: Callable[[Contact, datetime], Intent],
    body: str,
    after: Callable[[Contact, datetime], Contact],
    ctx: Outbound,
    once: Idempotent | None,
    sent_by: str | None = None,
) -> Message:
    """One text to one contact now, sent at most once per Idempotency-Key.

    The key's record is written in progress, carrying the intended text, just
    before the policy decides on a fresh read and the Twilio call (so an
    in-progress record means "maybe sent"). Once Twilio takes the text the
    record is completed with the message, and only then is the message put in
    the thread (`_record`). From the moment Twilio takes it the answer is the
    message (201): a failed record is logged and made up by a retry with the
    key, never answered with "try again", which would send the text twice.
    A retry with the key: `_begun_before`. No idempotency store (`once` None):
    sent and recorded, nothing kept."""
    contact = _contact(phone, ctx.store)
    now = ctx.clock.now()
    began = once.begin(now, SEND_LEASE, {"phone": phone, "body": body}) if once else Started()
    if not isinstance(began, Started):
        return _begun_before(began, now, after, ctx.store)
    try:  # nothing has gone yet: any failure here gives the key back
        decision = decide(contact, intent_for(contact, now), now, ctx.policy)
        if decision.verdict != Verdict.SEND:
            raise NotSendableError(f"{decision.reason}: {decision.explanation}")
    except Exception:
        _give_back(once)
        raise
    result = ctx.sender.send(phone, body, REPLY_VALIDITY_S)  # an exception leaves the record in progress: maybe sent
    message = _taken(result, once, phone, body, ctx.clock.now(), sent_by)
    _keep(once, {"outcome": "sent", "message": message.model_dump(mode="json")})
    _record_or_log(message, after, ctx.store, contact)
    return message


def _begun_before(
    began: Replay | InProgress, now: datetime, after: Callable[[Contact, datetime], Contact], store: ConversationStore
) -> Message:
    """A request with this key came before. It gets what the first call got: the
    message (its record made sure of), or SendUnknownError when Twilio's answer
    was lost. A record still in progress means the first call is sending now
    (RequestInProgressError) or, once its lease has run out, that it stopped
    without saying whether Twilio took the text: SendUnknownError again, and
    the text is not resent. Blind resending could text the customer twice, and
    Twilio's side cannot be asked here; the status callback of a text that did
    go still reaches its thread."""
    if isinstance(began, Replay):
        return _replayed(began.response, after, store)
    if not began.expired(now):
        raise RequestInProgressError(f"in progress: a request with this key began at {began.started_at:%H:%M:%S}")
    raise SendUnknownError(
        f"a request with this key began sending at {began.started_at.isoformat()} and stopped without "
        "Twilio's answer: the text may have gone; it is not sent again"
    )


def _taken(
    result: SendResult, once: Idempotent | None, phone: str, body: str, at: datetime, sent_by: str | None
) -> Message:
    """The message Twilio took; SendFailedError when nothing went (the key given back),
    SendUnknownError when it may have gone (the key kept: never sent again)."""
    if result.outcome in (SendOutcome.RETRY, SendOutcome.REJECTED):
        _give_back(once)  # nothing went
        raise SendFailedError(f"Twilio did not take it ({result.outcome}): {result.detail}")
    if result.outcome != SendOutcome.ACCEPTED or not result.sid:
        detail = result.detail or "Twilio took it but its answer had no sid"
        _keep(once, {"outcome": "unknown", "detail": detail})
        raise SendUnknownError(f"Twilio's answer was lost ({detail}): the text may have gone; it is not sent again")
    return Message(
        sid=result.sid, phone=phone, brand_number=result.from_number or "", direction=Direction.OUTBOUND,
        at=at, body=body, status=DeliveryStatus.QUEUED, sent_by=sent_by,
    )  # fmt: skip


def _give_back(once: Idempotent | None) -> None:
    """Release the key after a failure that sent nothing; if that fails too, the
    original error is still the answer (the key then reads as unknown once its
    lease is over: conservative, never a second text)."""
    if once is None:
        return
    try:
        once.release()
    except Exception as error:  # the request's own error is the answer
        log.error("could not release idempotency record %s: %s", once.key, type(error).__name__)


def _keep(once: Idempotent | None, response: dict[str, Any]) -> None:
    """Complete the key's record. The text has gone (or may have): a failure here
    must not become an error answer, which would invite a second send; the record
    then stays in progress, and a retry with the key is told so, never resends."""
    if once is None:
        return
    try:
        once.complete(response)
    except Exception as error:  # the text is out: say so, whatever failed after it
        log.error("could not complete idempotency record %s: %s", once.key, type(error).__name__)


def _replayed(
    response: dict[str, Any], after: Callable[[Contact, datetime], Contact], store: ConversationStore
) -> Message:
    if response.get("outcome") != "sent":
        raise SendUnknownError(
            f"Twilio's answer was lost ({response.get('detail', '')}): the text may have gone; it is not sent again"
        )
    message = Message.model_validate(response["message"])
    _record_or_log(message, after, store, None)  # the first call may have stopped before its record
    return message


def _record_or_log(
    message: Message, after: Callable[[Contact, datetime], Contact], store: ConversationStore, read: Contact | None
) -> None:
    try:
        _record(message, after, store, read)
    except Exception as error:  # the text is out: say so, whatever failed after it
        log.error("text %s went but its record failed: %s", message.sid, type(error).__name__)


def _after_reply(
    after: Callable[[Contact, datetime], Contact], contact: Contact | None, at: datetime
) -> Contact | None:
    """The contact as the text leaves it; None when there is nothing to change (no
    contact, or its conversation closed since the text went: the text is kept)."""
    if contact is None:
        return None
    try:
        return after(contact, at)
    except conversations.NoConversationError:
        return None


def _record(
    message: Message, after: Callable[[Contact, datetime], Contact], store: ConversationStore, read: Contact | None
) -> None:
    """Put the sent text in the thread with its effect on the contact, atomically,
    once. A status callback may have stored the message first (keyed by its sid,
    with no body): its events are kept and the text merged in. When the contact
    moved meanwhile, both are read again and only the record is redone. `read`:
    the contact as just read, tried first without another read."""
    first = [read] if read is not None else []

    def attempt() -> None:
        stored: Message | None = None
        if first:
            contact: Contact | None = first.pop()
        else:
            stored, contact = store.get_message_and_contact(message.phone, message.sid)
        if stored is not None and stored.body:
            return  # recorded already (by the first call, or a retry of it)
        updated = _after_reply(after, contact, message.at)
        if stored is None:
            if updated is not None and contact is not None:
                stored = store.record_message(updated, contact.version, message)
            else:
                stored = store.put_message(message)
            if stored is None or stored.body:
                return
        merged = stored.with_sent(message)
        expected = contact.version if updated is not None and contact is not None else None
        store.record_receipt(merged, stored.version, updated, expected)

    retry_on_conflict(attempt)


def add_entry(phone: str, entry: Entry, store: ConversationStore) -> bool:
    """A note or an interaction; False when one with the same id is already stored."""
    _contact(phone, store)
    return store.add_entry(phone, entry)


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
        for d in runs.decisions_for(phone)
        if d.verdict == Verdict.HOLD and d.reason == Reason.IN_CONVERSATION and d.at >= since and not d.outcome
    ]
    send_queue.enqueue([send_job(d.run_id, d.campaign_id, phone) for d in held])
    return contact, len(held)


def timeline(
    phone: str, store: ConversationStore, runs: RunStore, before: tuple[datetime, str] | None, limit: int
) -> tuple[list[Event], str | None]:
    """A page of the timeline, newest first, and the cursor for the next page."""
    _contact(phone, store)
    history = store.history(phone, before[0] if before else None, newest=limit)  # a page's worth, not all of it
    return page(merge(history, runs.decisions_for(phone, DECISIONS_SHOWN)), before, limit)
