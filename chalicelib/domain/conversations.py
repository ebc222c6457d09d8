"""One-to-one conversations between a customer and the brand's agents: who has
claimed one, which of the customer's texts are unread, replies, and closing it
(which lets held marketing go again)."""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.domain.contact import Contact, Conversation
from chalicelib.domain.errors import RapportError
from chalicelib.domain.policy import Intent, Purpose

REPLY_WINDOW = timedelta(hours=24)  # a reply this soon after the customer's text ignores quiet hours


class NoConversationError(RapportError, LookupError):
    """The contact has no open conversation."""


class ClaimedError(RapportError):
    """Another agent has the conversation."""


def continued(conversation: Conversation | None, at: datetime) -> Conversation:
    """The conversation with one more customer text (or a reason for a person) waiting."""
    if conversation is None:
        return Conversation(opened_at=at, last_inbound_at=at, waiting_since=at)
    return conversation.model_copy(
        update={
            "last_inbound_at": max(at, conversation.last_inbound_at),
            "message_count": conversation.message_count + 1,
            "waiting_since": conversation.waiting_since or at,
        }
    )


def _open(contact: Contact) -> Conversation:
    if contact.conversation is None:
        raise NoConversationError(f"no open conversation with {contact.phone}")
    return contact.conversation


def claim(contact: Contact, agent: str, at: datetime, reassign: bool = False) -> Contact:
    """Take the conversation; someone else's claim stands unless reassigned."""
    conversation = _open(contact)
    if conversation.agent not in (None, agent) and not reassign:
        raise ClaimedError(f"{conversation.agent} has this conversation")
    if conversation.agent == agent:
        return contact
    return contact.model_copy(
        update={"conversation": conversation.model_copy(update={"agent": agent, "claimed_at": at})}
    )


def reply_intent(contact: Contact, at: datetime) -> Intent:
    """An agent's reply: conversational; quiet hours apply unless the customer
    texted within the last 24 hours."""
    conversation = _open(contact)
    recent = at - conversation.last_inbound_at <= REPLY_WINDOW
    return Intent(Purpose.CONVERSATIONAL, quiet_hours=not recent)


def replied(contact: Contact, agent: str, at: datetime) -> Contact:
    """After an agent's reply: nobody is waiting, and the replier holds the claim."""
    conversation = _open(contact)
    # answering is reading: the customer's texts so far are read (by the replier)
    update: dict[str, object] = {
        "waiting_since": None,
        "last_reply_at": at,
        "read_count": conversation.message_count,
        "read_by": agent,
    }
    if conversation.agent is None:
        update.update(agent=agent, claimed_at=at)
    engagement = contact.engagement.model_copy(
        update={"last_outbound_at": at, "outbound_count": contact.engagement.outbound_count + 1}
    )
    return contact.model_copy(update={"conversation": conversation.model_copy(update=update), "engagement": engagement})


def read(contact: Contact, agent: str) -> Contact:
    """The agent has seen the thread: every text of the customer's so far is read.
    Unchanged (no write) when nothing was unread."""
    conversation = _open(contact)
    if conversation.unread == 0:
        return contact
    seen = conversation.model_copy(update={"read_count": conversation.message_count, "read_by": agent})
    return contact.model_copy(update={"conversation": seen})


def close(contact: Contact) -> Contact:
    _open(contact)
    return contact.model_copy(update={"conversation": None})
