"""One record of a text that went, for every send path (campaign texts, agents'
replies, questions): the message in the thread, its effect on the contact, and
what the path settles with it (the ledger entry; a campaign's decision and
counts), written together by one unit of work.

A status callback may have stored the message first (keyed by its sid, with no
body): its events are kept and the text merged in (`Message.with_sent`: the
number it went from stays the callback's when Twilio's answer did not say).
When the contact or the message moved meanwhile, both are read again and the
record is redone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalicelib.domain.contact import Contact
from chalicelib.domain.errors import LostLeaseError
from chalicelib.domain.messages import Message
from chalicelib.services.ports import ConversationStore, Write
from chalicelib.services.retry import retry_on_conflict

After = Callable[[Contact, datetime], Contact | None]  # the contact as the text leaves it (None: unchanged)
Settles = Callable[[Message | None], list[Write]]  # given what a callback stored first (None: nothing)


def record_sent(
    sent: Message, after: After, settles: Settles, store: ConversationStore, read: Contact | None = None
) -> Message | None:
    """Record `sent` once; returns the message as a status callback had stored it
    first (None: it had not). `read`: the contact as just read, tried first
    without another read. A settling write refused with LostLeaseError means
    another sender took the text over (this one outlived its lease): it found
    the text at Twilio and records it, so nothing more is written here."""
    first = [read] if read is not None else []

    def attempt() -> Message | None:
        stored: Message | None = None
        if first:
            contact: Contact | None = first.pop()
        else:
            stored, contact = store.messages.with_contact(sent.phone, sent.sid)
        unit = store.unit()
        if stored is None or not stored.body:  # with a body it is recorded already: only settle
            message = stored.with_sent(sent) if stored is not None else sent
            unit.add(store.messages.saved(message, stored.version if stored else None))
            updated = after(contact, sent.at) if contact is not None else None
            if updated is not None and contact is not None:
                unit.add(*store.saved(updated, contact.version))
        unit.add(*settles(stored))
        unit.commit()
        return stored

    try:
        return retry_on_conflict(attempt)
    except LostLeaseError:
        return None
