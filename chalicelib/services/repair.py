"""Use case: consent registers rebuilt from each contact's own history. Before
the registers (4d3734b), an import stamped later than a STOP could overwrite
it on the profile; the STOP stayed in the consent history. Laying every
recorded event back on its register (each keeps the latest of its kind) gives
such a profile its STOP back, and changes nothing for one that was right."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from chalicelib.domain.contact import ConsentEvent, Contact
from chalicelib.services.ports import ConversationStore
from chalicelib.services.retry import retry_on_conflict


def with_history(contact: Contact, history: Iterable[ConsentEvent]) -> Contact:
    for event in history:
        contact = contact.with_consent(event)
    return contact


def _registers(contact: Contact) -> tuple[ConsentEvent | None, ...]:
    return contact.customer_consent, contact.brand_consent, contact.brand_opt_out


def repair_one(phone: str, store: ConversationStore) -> bool:
    """Whether the contact's registers changed (and were saved)."""

    def attempt() -> bool:
        contact = store.get_contact(phone)
        if contact is None:
            return False
        after = with_history(contact, store.timeline.trail(phone).consents)
        if _registers(after) == _registers(contact):
            return False
        store.save_contact(after, contact.version)
        return True

    return retry_on_conflict(attempt)


@dataclass
class Repaired:
    seen: int = 0
    changed: int = 0


def repair_all(store: ConversationStore) -> Repaired:
    """Every contact, one page of the contacts index at a time (a one-off: a read
    of each contact's history, a write for each one whose consent was wrong)."""
    done = Repaired()
    for page in store.scan_contacts(0, 1):
        for contact in page:
            done.seen += 1
            done.changed += repair_one(contact.phone, store)
    return done
