"""The operator API for people and other systems: the conversation inbox
(claim, read, reply, note, close), saved replies, interactions, the timeline,
and prompts."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from chalice.app import BadRequestError, Blueprint, NotFoundError, Response
from pydantic import BaseModel, Field, field_validator, model_validator
from typing_extensions import TypedDict

from chalicelib.bootstrap import Deps, deps, sender
from chalicelib.domain.contact import Contact
from chalicelib.domain.conversations import NoConversationError
from chalicelib.domain.prompts import ASKED_BY_THE_CUSTOMER, Prompt, refused_for_operators
from chalicelib.domain.reasons import FreeTextAnswer, Reason
from chalicelib.domain.saved_replies import SavedReply, SavedReplyText
from chalicelib.domain.timeline import OWN_ENTRY, Entry, EntryKind, parse_cursor
from chalicelib.entrypoints import openapi
from chalicelib.entrypoints.auth import allow, caller
from chalicelib.entrypoints.http import answer, body_of, idempotency_key, phone_in_path
from chalicelib.services import conversations as use_cases
from chalicelib.services import saved_replies
from chalicelib.services.keys import Role

bp = Blueprint(__name__)
AGENT, OPERATOR = Role.AGENT, Role.OPERATOR


class _ActingIn(BaseModel):
    """A body of a route that records who acted: the caller's key name, never a field."""

    @model_validator(mode="before")
    @classmethod
    def _no_agent_field(cls, data: Any) -> Any:
        if isinstance(data, dict) and "agent" in data:
            raise ValueError("agent: not accepted: the acting agent is the API key's name (docs/api.md)")
        return data


class ClaimIn(_ActingIn):
    reassign: bool = False  # take it from whoever has it (a supervisor taking over)


class ReplyIn(_ActingIn):
    body: str = Field(min_length=1, max_length=1600)


class NoteIn(_ActingIn):
    text: str = Field(min_length=1, max_length=1000)


class CloseIn(_ActingIn):
    pass


class ReadIn(_ActingIn):
    pass


class SavedReplyIn(_ActingIn, SavedReplyText):
    pass


class InteractionIn(BaseModel):
    id: str = Field(min_length=1, max_length=120, description="the other system's id: posting it again changes nothing")
    channel: str = Field(
        min_length=1, max_length=40, description="email, call, chat, order_placed, order_delivered ..."
    )
    at: datetime
    summary: str = Field(min_length=1, max_length=1000)

    @field_validator("id")
    @classmethod
    def _not_rapports_own(cls, entry_id: str) -> str:
        if entry_id.startswith(OWN_ENTRY):
            raise ValueError(f"ids starting {OWN_ENTRY!r} are Rapport's own (its order events)")
        return entry_id


STORES_INBOX_READ = 1000  # a store-limited agent's inbox: drawn from this many longest-waiting conversations
LIMIT = openapi.IntQuery("limit", default=50, lowest=1, highest=200, description="how many at most")
BEFORE = openapi.TextQuery("before", description="the `next` cursor of the previous page")


def _inbox_view(contact: Contact, now: datetime) -> dict[str, Any]:
    conversation = contact.conversation
    if conversation is None:
        raise NoConversationError(f"no open conversation with {contact.phone}")
    waiting = conversation.waiting_since
    return {
        "phone": contact.phone,
        "opened_at": conversation.opened_at.isoformat(),
        "waiting_since": waiting.isoformat() if waiting else None,
        "waiting_seconds": int((now - waiting).total_seconds()) if waiting else 0,
        "agent": conversation.agent,
        "messages": conversation.message_count,
        "unread": conversation.unread,
        "last_inbound_at": conversation.last_inbound_at.isoformat(),
    }


@allow(AGENT, OPERATOR)
@bp.route("/api/conversations", methods=["GET"])
@openapi.documented(returns=openapi.Inbox, query=[LIMIT])
def inbox() -> Response:
    """Open conversations: the longest waiting first, then those already answered."""
    limit, d, who = LIMIT.read(bp.current_request), deps(), caller()
    now = d.clock.now()

    def listed() -> dict[str, Any]:
        read = d.store.open_conversations(limit if who.stores is None else STORES_INBOX_READ)
        seen = [contact for contact in read if who.sees(contact.store_id)][:limit]
        return {"conversations": [_inbox_view(contact, now) for contact in seen]}

    return answer(listed)


def _phone_seen(number: str) -> str:
    """The path's phone. A key limited to stores acts only on their customers:
    another store's customer, or a number unknown, is not found for it."""
    phone, who = phone_in_path(number), caller()
    if who.stores is not None:
        contact = deps().store.get_contact(phone)
        if contact is None or not who.sees(contact.store_id):
            raise NotFoundError(f"no customer {phone} of your stores")
    return phone


@allow(AGENT)
@bp.route("/api/conversations/{number}/claim", methods=["POST"])
@openapi.documented(body=ClaimIn, returns=openapi.InboxItem)
def claim(number: str) -> Response:
    phone, body, d = _phone_seen(number), body_of(bp, ClaimIn), deps()
    return answer(
        lambda: _inbox_view(use_cases.claim(phone, caller().name, body.reassign, d.store, d.clock), d.clock.now())
    )


@allow(AGENT)
@bp.route("/api/conversations/{number}/read", methods=["POST"])
@openapi.documented(body=ReadIn, returns=openapi.InboxItem)
def mark_read(number: str) -> Response:
    """The caller has read the thread: the customer's texts so far are no longer unread."""
    phone, d = _phone_seen(number), deps()
    body_of(bp, ReadIn)  # an `agent` field is refused
    return answer(lambda: _inbox_view(use_cases.read(phone, caller().name, d.store), d.clock.now()))


def _outbound(d: Deps) -> use_cases.Outbound:
    return use_cases.Outbound(d.store, d.runs, sender(), d.clock, d.policy, d.directory)


@allow(AGENT)
@bp.route("/api/conversations/{number}/reply", methods=["POST"])
@openapi.documented(body=ReplyIn, returns=openapi.Message, status=201, idempotent=True)
def reply(number: str) -> Response:
    """Send an agent's reply; once per Idempotency-Key (use_cases.reply)."""
    phone, body, key, d, who = _phone_seen(number), body_of(bp, ReplyIn), idempotency_key(bp), deps(), caller().name
    return answer(lambda: use_cases.reply(phone, who, body.body, _outbound(d), key), status=201)


@allow(AGENT)
@bp.route("/api/conversations/{number}/notes", methods=["POST"])
@openapi.documented(body=NoteIn, returns=Entry, status=201)
def add_note(number: str) -> Response:
    phone, body, d = _phone_seen(number), body_of(bp, NoteIn), deps()
    return answer(lambda: use_cases.note(phone, caller().name, body.text, d.store, d.clock), status=201)


@allow(AGENT)
@bp.route("/api/conversations/{number}/close", methods=["POST"])
@openapi.documented(body=CloseIn, returns=openapi.Closed)
def close(number: str) -> Response:
    phone, d = _phone_seen(number), deps()
    body_of(bp, CloseIn)  # an `agent` field is refused

    def run() -> dict[str, Any]:
        contact, released = use_cases.close(phone, caller().name, d.store, d.runs, d.send_queue, d.clock)
        return {"phone": contact.phone, "closed": True, "released_held_texts": released}

    return answer(run)


@allow(AGENT, OPERATOR)
@bp.route("/api/contacts/{number}/interactions", methods=["POST"])
@openapi.documented(
    body=InteractionIn, returns=openapi.InteractionView, status=201, also={200: openapi.InteractionView}
)
def post_interaction(number: str) -> Response:
    """What another system did with this customer; idempotent on its id."""
    phone, body, d = _phone_seen(number), body_of(bp, InteractionIn), deps()
    entry = Entry(
        id=body.id,
        kind=EntryKind.INTERACTION,
        at=body.at,
        summary=body.summary,
        channel=body.channel,
        author=caller().name,  # who posted it: the other system's key
    )

    def run() -> Response:
        created = use_cases.add_entry(phone, entry, d.store)
        payload = {**entry.model_dump(mode="json"), "created": created}
        return Response(body=payload, status_code=201 if created else 200, headers={"Content-Type": "application/json"})

    return answer(run)


@allow(AGENT, OPERATOR)
@bp.route("/api/contacts/{number}/timeline", methods=["GET"])
@openapi.documented(returns=openapi.Timeline, query=[LIMIT, BEFORE])
def timeline(number: str) -> Response:
    """Everything about the customer, newest first, a page at a time (`before` = the `next` cursor)."""
    phone, d = _phone_seen(number), deps()
    limit = LIMIT.read(bp.current_request)
    raw = BEFORE.read(bp.current_request)
    try:
        before = parse_cursor(raw) if raw is not None else None
    except ValueError:
        raise BadRequestError("before: the `next` cursor of the previous page, as given") from None

    def run() -> dict[str, Any]:
        events, cursor = use_cases.timeline(phone, d.store, d.runs, before, limit)
        return {"phone": phone, "events": [event.model_dump(mode="json") for event in events], "next": cursor}

    return answer(run)


class AskIn(BaseModel):
    prompt_id: str = Field(min_length=1, max_length=40)
    location: str | None = Field(default=None, max_length=80, description="for {location} in the question")

    @field_validator("prompt_id")
    @classmethod
    def _not_the_customers(cls, prompt_id: str) -> str:
        if prompt_id in ASKED_BY_THE_CUSTOMER:  # its YES places an order or opts in
            raise ValueError(ASKED_BY_THE_CUSTOMER[prompt_id])
        return prompt_id


@allow(AGENT, OPERATOR)
@bp.route("/api/contacts/{number}/ask", methods=["POST"])
@openapi.documented(body=AskIn, returns=openapi.Message, status=201, idempotent=True)
def ask(number: str) -> Response:
    """Ask one contact a question now; their next text is read as its answer.
    Once per Idempotency-Key (use_cases.ask)."""
    phone, body, key, d, who = _phone_seen(number), body_of(bp, AskIn), idempotency_key(bp), deps(), caller().name
    prompt = d.prompts.get(body.prompt_id)
    if prompt is None:
        raise NotFoundError(f"no prompt {body.prompt_id!r}")
    brand = d.settings.brand_name
    return answer(
        lambda: use_cases.ask(phone, prompt, body.location, brand, _outbound(d), key, who),
        status=201,
    )


@allow(AGENT, OPERATOR)
@bp.route("/api/prompts", methods=["GET"])
@openapi.documented(returns=openapi.PromptList)
def list_prompts() -> Response:
    return answer(lambda: {"prompts": [p.model_dump(mode="json") for p in deps().prompts.list()]})


@allow(OPERATOR)
@bp.route("/api/prompts", methods=["POST"])
@openapi.documented(body=Prompt, returns=Prompt, status=201)
def save_prompt() -> Response:
    """Create or replace a prompt (an id of a shipped default replaces that default)."""
    prompt = body_of(bp, Prompt)
    if refused := refused_for_operators(prompt):
        raise BadRequestError(refused)
    deps().prompts.save(prompt)
    return answer(lambda: prompt, status=201)


class AnswerPage(TypedDict):
    prompt_id: str
    counts: dict[str, int]  # every answer so far, by its first reason
    answers: list[FreeTextAnswer]  # newest first
    next: str | None  # the cursor for the next page; null: there is no more


REASON = openapi.TextQuery("reason", f"only answers giving this reason: {', '.join(Reason)}", max_length=20)
ANSWERS_CURSOR = openapi.TextQuery("cursor", "`next` from the page before", max_length=200)
ANSWERS_LIMIT = openapi.IntQuery("limit", 25, 1, 100, "answers per page, at most")


@allow(OPERATOR)
@bp.route("/api/prompts/{prompt_id}/answers", methods=["GET"])
@openapi.documented(returns=AnswerPage, query=[REASON, ANSWERS_CURSOR, ANSWERS_LIMIT])
def prompt_answers(prompt_id: str) -> Response:
    """A question's answers in the customers' own words, with their reasons, newest first; and counts by reason

    With `reason`, a page holds only answers giving it, so it may be short (even
    empty) while `next` is still set."""
    request, d = bp.current_request, deps()
    reason = REASON.read(request)
    if reason is not None and reason not in set(Reason):
        raise BadRequestError(f"reason: one of {', '.join(Reason)}")
    cursor, limit = ANSWERS_CURSOR.read(request), ANSWERS_LIMIT.read(request)
    if d.prompts.get(prompt_id) is None:
        raise NotFoundError(f"no prompt {prompt_id!r} (GET /api/prompts lists them)")

    def listed() -> dict[str, Any]:
        page, after = d.store.answers.page(prompt_id, reason, cursor, limit)
        if (stores := caller().stores) is not None:  # a store-limited agent: its stores' customers' answers only
            theirs = {c.phone for c in d.store.get_contacts([a.phone for a in page]) if c.store_id in stores}
            page = [item for item in page if item.phone in theirs]
        return {"prompt_id": prompt_id, "counts": d.store.answers.counts(prompt_id),
                "answers": [item.model_dump(mode="json") for item in page], "next": after}  # fmt: skip

    return answer(listed)


# --- saved replies: operators write them, agents use them filled for the customer

REPLY_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
IF_MATCH = re.compile(r'^(?:W/)?"?(?P<version>[0-9]{1,9})"?$')


class Filled(TypedDict):
    text: str  # the body with the contact's fields filled in (fallbacks where missing)


SavedReplyList = openapi.Listed("saved_replies", SavedReply)
FilledReplies = openapi.Listed("saved_replies", (SavedReply, Filled))


def _reply_id(raw: str) -> str:
    reply_id = unquote(raw)
    if not REPLY_ID.match(reply_id):
        raise NotFoundError(f"no saved reply {reply_id[:40]!r}")
    return reply_id


def _if_match() -> int | None:
    """The If-Match header's version ("3", or the quoted forms); None without one or for *."""
    raw = bp.current_request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    found = IF_MATCH.match(raw.strip())
    if found is None:
        raise BadRequestError("If-Match: the saved reply's version, as its `version` says (e.g. 3)")
    return int(found["version"])


@allow(AGENT, OPERATOR)
@bp.route("/api/saved-replies", methods=["GET"])
@openapi.documented(returns=SavedReplyList)
def list_saved_replies() -> Response:
    """The saved replies, by name, as written (placeholders unfilled)."""
    return answer(
        lambda: {"saved_replies": [r.model_dump(mode="json") for r in saved_replies.listed(deps().saved_replies)]}
    )


@allow(OPERATOR)
@bp.route("/api/saved-replies", methods=["POST"])
@openapi.documented(body=SavedReplyIn, returns=SavedReply, status=201)
def create_saved_reply() -> Response:
    """A new saved reply (its id is made here); 409 when there are 100 already."""
    body, d, who = body_of(bp, SavedReplyIn), deps(), caller().name
    return answer(lambda: saved_replies.create(body, who, d.saved_replies, d.clock), status=201)


@allow(AGENT, OPERATOR)
@bp.route("/api/saved-replies/{reply_id}", methods=["GET"])
@openapi.documented(returns=SavedReply)
def get_saved_reply(reply_id: str) -> Response:
    found = _reply_id(reply_id)
    return answer(lambda: saved_replies.get(found, deps().saved_replies))


@allow(OPERATOR)
@bp.route("/api/saved-replies/{reply_id}", methods=["PUT"])
@openapi.documented(body=SavedReplyIn, returns=SavedReply)
def update_saved_reply(reply_id: str) -> Response:
    """Replace its name and body. With `If-Match: <version>` only over that version
    (409 otherwise); without, the last write wins."""
    found, body, version, d, who = _reply_id(reply_id), body_of(bp, SavedReplyIn), _if_match(), deps(), caller().name
    return answer(lambda: saved_replies.update(found, body, who, version, d.saved_replies, d.clock))


@allow(OPERATOR)
@bp.route("/api/saved-replies/{reply_id}", methods=["DELETE"])
@openapi.documented(returns=SavedReply)
def delete_saved_reply(reply_id: str) -> Response:
    """Delete it; answers what was deleted."""
    found, who = _reply_id(reply_id), caller().name
    return answer(lambda: saved_replies.delete(found, who, deps().saved_replies))


@allow(AGENT, OPERATOR)
@bp.route("/api/conversations/{number}/saved-replies", methods=["GET"])
@openapi.documented(returns=FilledReplies)
def saved_replies_for(number: str) -> Response:
    """The saved replies with their fields filled for this contact, as a campaign
    would fill them (`text`), ready for the reply box."""
    phone, d = _phone_seen(number), deps()

    def run() -> dict[str, Any]:
        filled = saved_replies.filled_for(phone, d.store, d.saved_replies, d.directory)
        return {"saved_replies": [{**reply.model_dump(mode="json"), "text": text} for reply, text in filled]}

    return answer(run)
