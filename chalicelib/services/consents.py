"""Use cases: consent a brand can prove. The words a form shows are kept by
version; a form's sign-up sends the join question, and the customer's YES to
it is what opts them in (domain/double_opt_in.py; docs/policies.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.contact import ConsentProof, Contact, TimeZone
from chalicelib.domain.double_opt_in import JOIN_KEPT_HOURS, ConsentText, asked, wording_version
from chalicelib.domain.errors import ConcurrentUpdateError, RapportError
from chalicelib.domain.messages import Message
from chalicelib.domain.policy import Intent, Purpose
from chalicelib.domain.prompts import join_question
from chalicelib.domain.runs import after_send
from chalicelib.services.campaigns import CLOCK_SKEW
from chalicelib.services.conversations import Keyed, Outbound, OutboundText, converse
from chalicelib.services.idempotency import request_hash
from chalicelib.services.personal import remembering
from chalicelib.services.ports import NOTHING_REMEMBERED, Clock, ConsentTextBook, ConversationStore, Remembered
from chalicelib.services.retry import retry_on_conflict

SIGN_UP_KEPT = timedelta(days=7)  # a sign-up older than this is not asked about


class ConsentTextChangedError(RapportError):
    """A version's words never change: another text was given for a kept version."""


class UnknownConsentTextError(RapportError, LookupError):
    """No consent text has that version."""


class ConsentStampError(RapportError, ValueError):
    """A sign-up stamped in the future."""


def put_text(
    text_version: str, words: str, book: ConsentTextBook, clock: Clock, by: str | None
) -> tuple[ConsentText, bool]:
    """Keep the words under their version (True: new). The same words again are
    kept as they were; other words for a kept version are refused."""
    kept = book.get(text_version)
    if kept is None:
        text = ConsentText(text_version=text_version, text=words, created_at=clock.now(), created_by=by)
        try:
            book.add(text)
            return text, True
        except ConcurrentUpdateError:  # another request kept it meanwhile: compared below
            kept = book.get(text_version)
    if kept is None or kept.text != words:
        raise ConsentTextChangedError(
            f"consent text {text_version!r} says something else: its words never change, use a new version"
        )
    return kept, False


def texts(book: ConsentTextBook, brand: str, at: datetime) -> list[ConsentText]:
    """Every kept version, and the join question JOIN texts are answered with (its version is its hash)."""
    question = join_question(brand)
    own = ConsentText(text_version=wording_version(question), text=question, created_at=at)
    return sorted([*book.list(), own], key=lambda text: text.text_version)


@dataclass(frozen=True)
class SignUp:
    """A web form's sign-up: who, on which form, shown which words, from where."""

    phone: str
    source: str
    text_version: str
    ip: str
    user_agent: str
    at: datetime


def sign_up(
    form: SignUp,
    book: ConsentTextBook,
    store: ConversationStore,
    brand: str,
    ctx: Outbound,
    key: str | None,
    zones: tuple[str, ...],
    remembered: Remembered = NOTHING_REMEMBERED,
) -> Message:
    """Send the join question to the number a form gave, once per key, with the
    form's proof pending: nobody is opted in before their YES. A number that
    opted out (or was erased while opted out: `remembered`) gets nothing, their
    way back is START: NotSendableError, 409."""
    if book.get(form.text_version) is None:
        raise UnknownConsentTextError(
            f"no consent text {form.text_version!r}: PUT /api/consent-texts/{form.text_version} first"
        )
    now = ctx.clock.now()
    if form.at > now + CLOCK_SKEW:
        raise ConsentStampError(f"at {form.at.isoformat()} is in the future: a sign-up is stamped when it was made")
    if form.at < now - SIGN_UP_KEPT:
        raise ConsentStampError(f"at {form.at.isoformat()} is over a week ago: its question would be asked too late")
    _existing(form.phone, store, ctx.clock, zones, remembered)
    proof = ConsentProof(
        text_version=form.text_version, source=form.source, requested_at=form.at, ip=form.ip, user_agent=form.user_agent
    )
    request = {"phone": form.phone, "source": form.source, "text_version": form.text_version, "at": form.at.isoformat()}
    key = key or "form:" + request_hash("consent", request)  # without one, the same sign-up is the same key
    kept = timedelta(hours=JOIN_KEPT_HOURS)
    return converse(
        OutboundText(form.phone, join_question(brand), None, Keyed.of("consent", key, request)),
        lambda _contact, _at: Intent(Purpose.TRANSACTIONAL),  # they asked for it just now: no opt-in yet, any hour
        lambda contact, at: asked(
            after_send(contact, Purpose.TRANSACTIONAL, None, None, None, at), proof, at, at + kept
        ),
        ctx,
    )


def _existing(
    phone: str, store: ConversationStore, clock: Clock, zones: tuple[str, ...], remembered: Remembered
) -> None:
    """The number's contact, created when there is none yet: with no consent, or
    the STOP it had when it was erased."""

    def attempt() -> None:
        if store.get_contact(phone) is None:
            made = Contact(phone=phone, created_at=clock.now(), time_zone=TimeZone(candidates=list(zones)))
            store.save_contact(remembering(made, remembered), None)

    retry_on_conflict(attempt)
