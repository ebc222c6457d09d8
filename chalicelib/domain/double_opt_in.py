"""Consent won by double opt-in: asked for by the customer (JOIN by text, or a
web form), confirmed by their YES to the one question that says what they
join. The YES is their own word (ContactEvent.by_customer, its message sid),
and carries the proof: the version of the words shown, where, when, from
which browser or which text."""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel, Field

from chalicelib.domain.contact import ConsentEvent, ConsentProof, ConsentState, Contact, PendingPrompt

JOIN_PROMPT = "join"  # the question a JOIN or a web form leaves pending (domain/prompts.py)
JOIN_KEPT_HOURS = 24.0  # a YES later than this confirms nothing: ask again
ALREADY_IN = "You're already subscribed. Reply STOP to cancel, HELP for help."
STOPPED_BEFORE = "You opted out earlier: reply START to get texts again."
TEXT_VERSION = r"^[A-Za-z0-9._-]{1,64}$"  # a consent text's version, as a form names it


def wording_version(words: str) -> str:
    """The version of a text as sent: its own hash, so the words are proven by it
    (a brand renamed, or the wording changed, is a new version)."""
    return "sms-" + hashlib.sha256(words.encode()).hexdigest()[:12]


def asked(contact: Contact, proof: ConsentProof, at: datetime, expires_at: datetime) -> Contact:
    """The contact with the join question pending, holding what it was asked with."""
    pending = PendingPrompt(prompt_id=JOIN_PROMPT, asked_at=at, expires_at=expires_at, proof=proof)
    return contact.model_copy(update={"pending_prompt": pending})


def confirmed(
    contact: Contact, pending: PendingPrompt, sid: str, at: datetime, brand_number: str
) -> tuple[Contact, ConsentEvent]:
    """The contact opted in by this YES, and the event, with the request it confirms."""
    event = ConsentEvent(
        state=ConsentState.OPTED_IN, source="double_opt_in", keyword="YES", at=at, brand_number=brand_number,
        message_sid=sid, proof=pending.proof,
    )  # fmt: skip
    return contact.with_consent(event), event


class ConsentTextSpec(BaseModel):
    text: str = Field(min_length=1, max_length=2000, description="the words shown where consent is asked")


class ConsentText(ConsentTextSpec):
    """The words a form showed, under their version: what a consent was given to.
    A version's words never change (a change is a new version)."""

    text_version: str = Field(pattern=TEXT_VERSION)
    created_at: datetime
    created_by: str | None = None  # the API key's name; None for the service's own (the JOIN question)
