"""Use cases for agents: the inbox, claiming, replying, notes, closing; and
the customer's timeline with what other systems post."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from chalicelib.domain import conversations
from chalicelib.domain.contact import Contact
from chalicelib.domain.errors import RapportError
from chalicelib.domain.messages import DeliveryStatus, Direction, Message
from chalicelib.domain.policy import Intent, PolicySettings, Purpose, Reason, Verdict, decide
from chalicelib.domain.prompts import Prompt
from chalicelib.domain.runs import after_send
from chalicelib.domain.timeline import Entry, EntryKind, Event, merge, page
from chalicelib.services.ports import Clock, ConversationStore, JobQueue, RunStore, Sender, SendOutcome
from chalicelib.services.retry import retry_on_conflict
from chalicelib.services.runs import send_job

DECISIONS_SHOWN = 10_000  # decisions expire (TTL), so this is all of them
REPLY_VALIDITY_S = 4 * 3600  # a reply that cannot be delivered within 4 hours is stale


class UnknownContactError(RapportError, LookupError):
    """No contact has that number."""


class NotSendableError(RapportError):
    """The policy says this text may not go now."""


class SendFailedError(RapportError):
    """Twilio did not take the text."""


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


def reply(
    phone: str, agent: str, body: str, store: ConversationStore, sender: Sender, clock: Clock, policy: PolicySettings
) -> Message:
    """Send an agent's reply through the policy (consent, deliverability; quiet hours
    unless the customer texted in the last 24 hours) and record it in the thread.
    A claim routes the conversation; it does not silence a colleague's reply."""
    return _converse(
        phone,
        conversations.reply_intent,
        body,
        lambda contact, at: conversations.replied(contact, agent, at),
        store,
        sender,
        clock,
        policy,
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
) -> Message:
    """Send one question now, through the policy as a conversational question
    (consent, deliverability and quiet hours hold); the answer is awaited."""
    return _converse(
        phone,
        lambda _contact, _at: Intent(Purpose.CONVERSATIONAL, is_prompt=True),
        prompt.text(brand, location),
        lambda contact, at: after_send(contact, Purpose.CONVERSATIONAL, prompt, location, None, at),
        store,
        sender,
        clock,
        policy,
    )


def _converse(
    phone: str,
    intent_for: Callable[[Contact, datetime], Intent],
    body: str,
    after: Callable[[Contact, datetime], Contact],
    store: ConversationStore,
    sender: Sender,
    clock: Clock,
    policy: PolicySettings,
) -> Message:
    """One text to one contact now: the policy first, then Twilio, then the
    thread and the contact (re-read and redone if it changed meanwhile, so two
    agents writing at once both keep their text)."""
    contact = _contact(phone, store)
    now = clock.now()
    decision = decide(contact, intent_for(contact, now), now, policy)
    if decision.verdict != Verdict.SEND:
        raise NotSendableError(f"{decision.reason}: {decision.explanation}")
    result = sender.send(phone, body, REPLY_VALIDITY_S)
    if result.outcome != SendOutcome.ACCEPTED or not result.sid:
        raise SendFailedError(f"Twilio did not take it ({result.outcome}): {result.detail}")
    message = Message(
        sid=result.sid,
        phone=phone,
        brand_number=result.from_number or "",
        direction=Direction.OUTBOUND,
        at=clock.now(),
        body=body,
        status=DeliveryStatus.QUEUED,
    )
    first_read = [contact]

    def record() -> Message:
        current = first_read.pop() if first_read else _contact(phone, store)
        store.record_message(after(current, message.at), current.version, message)
        return message

    return retry_on_conflict(record)


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
    return page(merge(store.history(phone), runs.decisions_for(phone, DECISIONS_SHOWN)), before, limit)
