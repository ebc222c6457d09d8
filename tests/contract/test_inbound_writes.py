"""The inbound write path's contract, on the in-memory fake and on DynamoDB (moto
server): a text is applied in one write without a read, texts never invalidate
each other, a retried text changes nothing, and the profile stays bounded."""

from __future__ import annotations

import concurrent.futures
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from chalicelib.adapters.dynamodb_contacts import MARKERS_TRIM_AT
from chalicelib.adapters.dynamodb_store import DynamoConversationStore
from chalicelib.domain.contact import (
    ConsentEvent,
    ConsentState,
    Contact,
    Deliverability,
    DeliverabilityState,
    FieldChange,
    PendingPrompt,
)
from chalicelib.domain.errors import ConcurrentUpdateError, ProfileNeededError, TextAlreadyAppliedError
from chalicelib.domain.inbound import InboundChange, InboundSms, new_contact, read_text
from chalicelib.domain.messages import Direction, InboundKind, Message
from chalicelib.services.ports import ConversationStore

if TYPE_CHECKING:
    pass

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PHONE = "+447700900123"
BRAND = "+15005550006"


def text(body: str, n: int, seconds: float | None = None) -> InboundChange:
    at = AT + timedelta(seconds=n if seconds is None else seconds)
    return read_text(InboundSms(f"SM{n:032x}", PHONE, BRAND, body, at))


def apply(store: ConversationStore, change: InboundChange) -> Contact | None:
    return store.apply_text(change, new_contact(change.sms, lambda _: ("Europe/London",)))


def test_a_first_text_creates_the_contact_and_says_it_was_new(store: ConversationStore) -> None:
    assert apply(store, text("hello", 1)) is None
    contact = store.get_contact(PHONE)
    assert contact is not None and contact.created_at == AT + timedelta(seconds=1)
    assert contact.time_zone.candidates == ["Europe/London"]
    assert contact.engagement.inbound_count == 1 and contact.engagement.last_inbound_at == AT + timedelta(seconds=1)
    assert contact.conversation is not None and contact.conversation.message_count == 1
    assert contact.conversation.waiting_since == AT + timedelta(seconds=1)


def test_texts_count_and_the_previous_state_is_returned(store: ConversationStore) -> None:
    apply(store, text("hello", 1))
    before = apply(store, text("still there?", 2))
    assert before is not None and before.engagement.inbound_count == 1
    contact = store.get_contact(PHONE)
    assert contact is not None and contact.engagement.inbound_count == 2
    assert contact.conversation is not None and contact.conversation.message_count == 2
    assert contact.conversation.opened_at == AT + timedelta(seconds=1)
    assert contact.conversation.waiting_since == AT + timedelta(seconds=1)  # the first unanswered text


def test_a_text_applied_before_is_refused_and_changes_nothing(store: ConversationStore) -> None:
    first = text("hello", 1)
    apply(store, first)
    with pytest.raises(TextAlreadyAppliedError):
        apply(store, first)
    contact = store.get_contact(PHONE)
    assert contact is not None and contact.engagement.inbound_count == 1


def test_consent_follows_the_latest_keyword_by_time_whatever_the_order(store: ConversationStore) -> None:
    apply(store, text("START", 1, seconds=30))
    apply(store, text("STOP", 2, seconds=10))  # older: recorded elsewhere, the state stands
    contact = store.get_contact(PHONE)
    assert contact is not None and contact.consent == ConsentState.OPTED_IN
    assert contact.engagement.inbound_count == 2
    apply(store, text("stop", 3, seconds=40))
    stopped = store.get_contact(PHONE)
    assert stopped is not None and stopped.consent == ConsentState.OPTED_OUT
    apply(store, text("START", 4, seconds=35))  # older than the STOP at 40 s: it stands
    still = store.get_contact(PHONE)
    assert still is not None and still.consent == ConsentState.OPTED_OUT
    assert still.consent_event is not None and still.consent_event.at == AT + timedelta(seconds=40)


def test_a_live_question_or_an_unreachable_number_needs_the_profile(store: ConversationStore) -> None:
    pending = PendingPrompt(prompt_id="still_near", asked_at=AT, expires_at=AT + timedelta(days=1))
    store.save_contact(Contact(phone=PHONE, created_at=AT, pending_prompt=pending), None)
    with pytest.raises(ProfileNeededError):
        apply(store, text("yes", 1))
    assert apply(store, text("STOP", 2)) is not None  # STOP is STOP, question or not
    late = text("yes", 3, seconds=2 * 86400)  # after the question expired
    assert apply(store, late) is not None
    contact = store.get_contact(PHONE)
    assert contact is not None and contact.engagement.inbound_count == 2
    unreachable = Deliverability(state=DeliverabilityState.UNDELIVERABLE, reason="30005")
    store.save_contact(contact.model_copy(update={"deliverability": unreachable}), contact.version)
    with pytest.raises(ProfileNeededError):
        apply(store, text("hi", 4))


def test_a_whole_profile_write_loses_to_a_text_in_between(store: ConversationStore) -> None:
    apply(store, text("hello", 1))
    read = store.get_contact(PHONE)
    assert read is not None
    apply(store, text("again", 2))
    with pytest.raises(ConcurrentUpdateError):
        store.save_contact(read.model_copy(update={"tags": ["vip"]}), read.version, tags_before=read.tags)
    fresh = store.get_contact(PHONE)
    assert fresh is not None
    store.save_contact(fresh.model_copy(update={"tags": ["vip"]}), fresh.version, tags_before=fresh.tags)
    saved = store.get_contact(PHONE)
    assert saved is not None and saved.tags == ["vip"] and saved.engagement.inbound_count == 2


def test_a_profile_write_that_applies_a_text_counts_it_once(store: ConversationStore) -> None:
    apply(store, text("hello", 1))
    read = store.get_contact(PHONE)
    assert read is not None
    answered = read.model_copy(
        update={"engagement": read.engagement.model_copy(update={"inbound_count": 2}), "tags": ["answered"]}
    )
    store.save_contact(answered, read.version, applied_sid="SMx", applied_at=AT, tags_before=read.tags)
    again = store.get_contact(PHONE)
    assert again is not None and again.engagement.inbound_count == 2
    with pytest.raises(TextAlreadyAppliedError):
        store.save_contact(again, again.version, applied_sid="SMx", applied_at=AT)


def test_texts_together_all_land(store: ConversationStore) -> None:
    changes = [text(f"burst {n}", n) for n in range(40)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda change: apply(store, change), changes))
    contact = store.get_contact(PHONE)
    assert contact is not None and contact.engagement.inbound_count == 40
    assert contact.conversation is not None and contact.conversation.message_count == 40


def test_markers_are_trimmed_but_a_recent_retry_is_still_recognised(store: ConversationStore) -> None:
    for n in range(MARKERS_TRIM_AT * 2):
        apply(store, text("hi", n))
    with pytest.raises(TextAlreadyAppliedError):
        apply(store, text("hi", MARKERS_TRIM_AT * 2 - 1))
    if isinstance(store, DynamoConversationStore):
        item = store._client.get_item(TableName=store._table, Key={"pk": {"S": f"C#{PHONE}"}, "sk": {"S": "PROFILE"}})
        markers = [name for name in item["Item"] if name.startswith("m_")]
        assert len(markers) < MARKERS_TRIM_AT


def test_a_message_is_stored_once_on_its_own(store: ConversationStore) -> None:
    message = Message(
        sid="SM1", phone=PHONE, brand_number=BRAND, direction=Direction.INBOUND, at=AT, body="hi",
        kind=InboundKind.CONVERSATION, reply="first",
    )  # fmt: skip
    assert store.messages.put(message) is None
    earlier = store.messages.put(message.model_copy(update={"reply": "second"}))
    assert earlier is not None and earlier.reply == "first"
    assert [m.reply for m in store.timeline.history(PHONE).messages] == ["first"]


def test_the_trail_keeps_every_consent_change_and_answer_in_order(store: ConversationStore) -> None:
    events = [
        ConsentEvent(state=state, source="keyword", at=AT + timedelta(minutes=n), message_sid=f"SM{n}")
        for n, state in enumerate([ConsentState.OPTED_OUT, ConsentState.OPTED_IN] * 30)
    ]
    for event in reversed(events):
        store.timeline.add_trail(PHONE, [event], [])
    store.timeline.add_trail(PHONE, events[:3], [])  # again: nothing doubles
    field = FieldChange(field="home.area", old=None, new="LS61AA", source="prompt:x", message_sid="SMf", at=AT)
    store.timeline.add_trail(PHONE, [], [field])
    assert store.timeline.trail(PHONE).consents == events
    history = store.timeline.history(PHONE)
    assert history.consents == events and history.fields == [field]
