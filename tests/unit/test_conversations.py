"""Conversation use cases on the fakes: claims stay exclusive when two agents race;
unread texts, and marking them read while another text arrives."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.adapters.dynamodb_ledger import DynamoLedger
from chalicelib.adapters.unit_of_work import DynamoUnitOfWork
from chalicelib.domain import conversations as domain
from chalicelib.domain.contact import ConsentEvent, ConsentState, Contact, Conversation
from chalicelib.domain.conversations import ClaimedError, NoConversationError
from chalicelib.domain.ledger import Claim
from chalicelib.domain.messages import Direction, Message
from chalicelib.domain.policy import PolicySettings
from chalicelib.services import conversations
from tests.fakes import FakeSender, InMemoryConversationStore, InMemoryRunStore, StepClock, directory_of

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


class ReplyRaceStore(InMemoryConversationStore):
    """Another agent's reply lands between this reply's read and its write."""

    def __init__(self) -> None:
        super().__init__()
        self.rival_pending = False  # armed once the contact is there

    def unit(self) -> DynamoUnitOfWork:
        if self.rival_pending:  # the rival's reply and its contact write, committed before this one's
            self.rival_pending = False
            rival = Message(sid="SMrival", phone=PHONE, brand_number="", direction=Direction.OUTBOUND, at=AT,
                            body="Hi, Bob here")  # fmt: skip
            current = self.get_contact(PHONE)
            assert current is not None
            first = super().unit()
            first.add(self.messages.saved(rival, None), *self.saved(current, current.version))
            first.commit()
        return super().unit()


def test_two_agents_replying_at_once_both_replies_are_kept() -> None:
    store = ReplyRaceStore()
    store.save_contact(
        Contact(phone=PHONE, created_at=AT, conversation=Conversation(opened_at=AT, last_inbound_at=AT)), None
    )
    store.rival_pending = True
    clock = StepClock(AT)
    outbound = conversations.Outbound(
        store, InMemoryRunStore(store), FakeSender(clock), clock, PolicySettings(), directory_of(store, clock)
    )
    sent = conversations.reply(PHONE, "alice", "Hi, Alice here", outbound)
    bodies = [m.body for m in reversed(store.messages.thread(PHONE))]
    assert bodies == ["Hi, Bob here", "Hi, Alice here"] and sent.body == "Hi, Alice here"


def open_contact(texts: int) -> Contact:
    return Contact(
        phone=PHONE, created_at=AT, conversation=Conversation(opened_at=AT, last_inbound_at=AT, message_count=texts)
    )


def test_unread_is_the_customer_s_texts_since_an_agent_read_or_answered() -> None:
    contact = open_contact(texts=3)
    assert contact.conversation is not None and contact.conversation.unread == 3
    read = domain.read(contact, "alice")
    assert read.conversation is not None and (read.conversation.unread, read.conversation.read_by) == (0, "alice")
    assert domain.read(read, "bob") is read  # nothing unread: unchanged, so nothing is written
    answered = domain.replied(open_contact(texts=2), "bob", AT)
    assert answered.conversation is not None and (answered.conversation.unread, answered.conversation.read_by) == (
        0,
        "bob",
    )
    with pytest.raises(NoConversationError):
        domain.read(Contact(phone=PHONE, created_at=AT), "alice")


class TextArrivesStore(InMemoryConversationStore):
    """The customer's next text lands between the read's read and its write."""

    def __init__(self) -> None:
        super().__init__()
        self.pending = True

    def get_contact(self, phone: str) -> Contact | None:
        seen = super().get_contact(phone)
        if self.pending and seen is not None and seen.conversation is not None:
            self.pending = False
            more = seen.conversation.model_copy(update={"message_count": seen.conversation.message_count + 1})
            self.save_contact(seen.model_copy(update={"conversation": more}), seen.version)
        return seen


def test_a_text_arriving_while_the_thread_is_marked_read_is_not_lost_nor_left_half_counted() -> None:
    store = TextArrivesStore()
    store.save_contact(open_contact(texts=1), None)
    contact = conversations.read(PHONE, "alice", store)
    assert contact.conversation is not None and (contact.conversation.message_count, contact.conversation.unread) == (
        2,
        0,
    )  # the write over the stale read was refused, and done again on a fresh one


class StopBeforeClaim(DynamoLedger):
    """The customer's STOP lands between the policy's read and the claim."""

    def __init__(self, store: InMemoryConversationStore) -> None:
        super().__init__(store.table.client, store.table.name)
        self.conversations = store

    def claim(self, run_id: str, phone: str, *args: Any, **kwargs: Any) -> Claim:
        current = self.conversations.get_contact(phone)
        if current is not None and current.consent != ConsentState.OPTED_OUT:
            stop = ConsentEvent(state=ConsentState.OPTED_OUT, source="keyword", at=AT, keyword="STOP")
            self.conversations.save_contact(current.with_consent(stop), current.version)
        return super().claim(run_id, phone, *args, **kwargs)


def test_a_reply_decided_before_a_stop_that_lands_before_its_claim_is_not_sent() -> None:
    store = InMemoryConversationStore()
    opened = Conversation(opened_at=AT, last_inbound_at=AT)
    store.save_contact(Contact(phone=PHONE, created_at=AT, conversation=opened), None)
    clock = StepClock(AT)
    sender = FakeSender(clock)
    runs = InMemoryRunStore(store)
    runs.ledger = StopBeforeClaim(store)
    outbound = conversations.Outbound(store, runs, sender, clock, PolicySettings(), directory_of(store, clock))
    with pytest.raises(conversations.NotSendableError, match="opted_out"):
        conversations.reply(PHONE, "alice", "Still there?", outbound, "k-1")
    assert sender.sent == []  # the claim saw the contact change, read it again and decided again
