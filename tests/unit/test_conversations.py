"""Conversation use cases on the fakes: claims stay exclusive when two agents race."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.contact import Contact, Conversation
from chalicelib.domain.conversations import ClaimedError, NoConversationError
from chalicelib.services import conversations
from tests.fakes import InMemoryConversationStore, StepClock

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PHONE = "+447700900123"


class RacingStore(InMemoryConversationStore):
    """Hands out the contact as it was before another agent's claim landed."""

    def __init__(self, rival: str) -> None:
        super().__init__()
        self.rival = rival

    def get_contact(self, phone: str) -> Contact | None:
        seen = super().get_contact(phone)
        if self.rival and seen is not None:  # the rival's claim lands between our read and our write
            rival, self.rival = self.rival, ""
            conversations.claim(phone, rival, False, self, StepClock(AT))
        return seen


def test_the_slower_of_two_racing_claims_loses_with_the_winners_name() -> None:
    store = RacingStore(rival="bob")
    store.save_contact(
        Contact(phone=PHONE, created_at=AT, conversation=Conversation(opened_at=AT, last_inbound_at=AT)), None
    )
    with pytest.raises(ClaimedError, match="bob has this conversation"):
        conversations.claim(PHONE, "alice", False, store, StepClock(AT))
    contact = store.get_contact(PHONE)
    assert contact is not None and contact.conversation is not None and contact.conversation.agent == "bob"


def test_claiming_without_an_open_conversation_is_an_error() -> None:
    store = InMemoryConversationStore()
    store.save_contact(Contact(phone=PHONE, created_at=AT), None)
    with pytest.raises(NoConversationError):
        conversations.claim(PHONE, "alice", False, store, StepClock(AT))
