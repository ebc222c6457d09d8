"""Use cases: a customer's data rights. Everything held about a number, as
one document; and erasure, which leaves only a keyed hash of a number that
had opted out, so that no later import or campaign texts it (docs/privacy.md)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.contact import REMEMBERED_STOP, ConsentEvent, ConsentState, Contact
from chalicelib.domain.errors import RapportError
from chalicelib.services.ports import Clock, ConversationStore, PersonalData, PromptBook, Remembered

Digest = Callable[[str], str]  # a number's keyed hash


class NothingHeldError(RapportError, LookupError):
    """Nothing is held about that number."""


class ErasureUnavailableError(RapportError):
    """An opted-out number cannot be erased: no key to remember it by is configured."""


def keyed_hash(secret: bytes) -> Digest:
    """HMAC-SHA256 of the number under the brand's secret: the same number gives the
    same hash, and without the secret no list of numbers can be checked against it."""
    return lambda phone: hmac.new(secret, phone.encode(), hashlib.sha256).hexdigest()


def export_contact(phone: str, personal: PersonalData, prompts: PromptBook) -> dict[str, Any]:
    held = personal.held(phone, _prompt_ids(prompts))
    if held.profile is None and not held.items:
        raise NothingHeldError(f"nothing is held about {phone}")
    return {"phone": phone, "profile": held.profile, **{kind: items for kind, items in sorted(held.items.items())}}


@dataclass(frozen=True)
class Erased:
    items: int  # deleted
    suppressed: bool  # a keyed hash kept: the number had opted out


def erase_contact(
    phone: str,
    store: ConversationStore,
    personal: PersonalData,
    prompts: PromptBook,
    digest: Digest | None,
    clock: Clock,
) -> Erased:
    """Delete every item that names the number. Opted out, it is remembered by its
    keyed hash only: a later import finds it there and keeps it opted out until
    the customer opts in again themselves (without a key, it is not erased)."""
    contact = store.get_contact(phone)
    suppress = None
    if contact is not None and contact.consent == ConsentState.OPTED_OUT:
        if digest is None:
            raise ErasureUnavailableError(
                "this number opted out: erasing it keeps a keyed hash so it is never texted again, "
                "and no ERASURE_SECRET or ERASURE_SECRET_PARAM is set"
            )
        suppress = digest(phone)
    deleted = personal.erase(phone, _prompt_ids(prompts), suppress, clock.now())
    if deleted == 0:
        raise NothingHeldError(f"nothing is held about {phone}")
    return Erased(items=deleted, suppressed=suppress is not None)


def remembered_stop(phone: str, personal: PersonalData, key: Callable[[], Digest | None]) -> ConsentEvent | None:
    """The STOP of a number erased while opted out, as the customer's own word at
    the erasure (so a brand's record cannot undo it, and their later START can).
    `key` is asked for only once some number has been erased so: a stack that
    never erased one needs no key (and reads none from SSM) for a new contact."""
    if not personal.any_suppressed():
        return None
    digest = key()
    erased_at: datetime | None = personal.suppressed_since(digest(phone)) if digest else None
    if erased_at is None:
        return None
    return ConsentEvent(state=ConsentState.OPTED_OUT, source=REMEMBERED_STOP, at=erased_at)


def remembering(contact: Contact, remembered: Remembered) -> Contact:
    """A contact made anew, with its number's STOP if one was kept through an erasure."""
    stop = remembered(contact.phone)
    return contact.with_consent(stop) if stop else contact


def _prompt_ids(prompts: PromptBook) -> list[str]:
    return sorted({prompt.id for prompt in prompts.list()})
