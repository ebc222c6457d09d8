"""One contract, two implementations: the in-memory fake and DynamoDB (moto server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from chalicelib.domain.contact import ConsentEvent, ConsentState, Contact, Conversation
from chalicelib.domain.errors import ConcurrentUpdateError, TextAlreadyAppliedError
from chalicelib.domain.messages import DeliveryStatus, Direction, InboundKind, Message, StatusEvent
from chalicelib.domain.timeline import Entry, EntryKind
from chalicelib.services.ports import ConversationStore

if TYPE_CHECKING:
    pass

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PHONE = "+447700900123"


def contact(**changes: object) -> Contact:
    return Contact.model_validate({"phone": PHONE, "created_at": AT, **changes})


def inbound(sid: str, minutes: int = 0, reply: str = "") -> Message:
    return Message(
        sid=sid,
        phone=PHONE,
        brand_number="+15005550006",
        direction=Direction.INBOUND,
        at=AT + timedelta(minutes=minutes),
        body=f"text {sid}",
        kind=InboundKind.CONVERSATION,
        reply=reply,
    )


def record(store: ConversationStore, saved: Contact, expected: int | None, message: Message) -> None:
    """A new message and the contact it changed, in one unit of work (as a text's record is)."""
    unit = store.unit()
    unit.add(store.messages.saved(message, None), *store.saved(saved, expected))
    unit.commit()


def test_an_unknown_contact_is_none(store: ConversationStore) -> None:
    assert store.get_contact(PHONE) is None


def test_a_first_inbound_stores_contact_and_message(store: ConversationStore) -> None:
    opted_in = contact(
        consent_event=ConsentEvent(state=ConsentState.OPTED_IN, source="keyword", keyword="START", at=AT)
    )
    record(store, opted_in, None, inbound("SM1", reply="hello"))
    saved = store.get_contact(PHONE)
    assert saved is not None and saved.version == 1
    assert saved.model_copy(update={"version": 0}) == opted_in
    assert saved.consent == ConsentState.OPTED_IN
    message, same = store.messages.with_contact(PHONE, "SM1")
    assert message is not None and message.reply == "hello" and message.at == AT
    assert same == saved


def test_a_unit_with_a_message_stored_already_is_refused_and_writes_nothing(store: ConversationStore) -> None:
    record(store, contact(), None, inbound("SM1", reply="first answer"))
    changed = contact(consent_event=ConsentEvent(state=ConsentState.OPTED_OUT, source="keyword", at=AT))
    with pytest.raises(ConcurrentUpdateError):
        record(store, changed, 1, inbound("SM1", minutes=3, reply="second answer"))
    earlier, saved = store.messages.with_contact(PHONE, "SM1")
    assert earlier is not None and earlier.reply == "first answer"
    assert saved is not None and saved.version == 1 and saved.consent == ConsentState.UNKNOWN


def test_the_first_refused_write_says_why_and_an_empty_unit_writes_nothing(store: ConversationStore) -> None:
    store.save_contact(contact(), None, applied_sid="SMin1", applied_at=AT)
    unit = store.unit()
    unit.add(*store.saved(contact(), 1, applied_sid="SMin1", applied_at=AT), store.messages.saved(inbound("SM2"), None))
    with pytest.raises(TextAlreadyAppliedError):  # the profile write's own refusal, not a bare conflict
        unit.commit()
    assert store.messages.with_contact(PHONE, "SM2")[0] is None
    unit.commit()  # what was added went with the refused commit: nothing is sent again
    store.unit().commit()
    saved = store.get_contact(PHONE)
    assert saved is not None and saved.version == 1


def test_a_stale_version_is_refused_and_stores_nothing(store: ConversationStore) -> None:
    record(store, contact(), None, inbound("SM1"))
    with pytest.raises(ConcurrentUpdateError):
        record(store, contact(), None, inbound("SM2"))  # claims the contact is new
    with pytest.raises(ConcurrentUpdateError):
        record(store, contact(), 7, inbound("SM3"))
    assert store.messages.with_contact(PHONE, "SM2")[0] is None
    assert store.messages.with_contact(PHONE, "SM3")[0] is None
    record(store, contact(), 1, inbound("SM4"))
    saved = store.get_contact(PHONE)
    assert saved is not None and saved.version == 2


def test_receipts_save_message_and_contact_together_or_not_at_all(store: ConversationStore) -> None:
    record(store, contact(), None, inbound("SM0"))
    sent = Message(
        sid="SM9",
        phone=PHONE,
        brand_number="+15005550006",
        direction=Direction.OUTBOUND,
        at=AT,
        status=DeliveryStatus.SENT,
        status_events=[StatusEvent(status=DeliveryStatus.SENT, at=AT)],
    )

    def receipt(message: Message, expected: int | None, changed: Contact | None, contact_expected: int | None) -> None:
        unit = store.unit()
        unit.add(store.messages.saved(message, expected))
        if changed is not None:
            unit.add(*store.saved(changed, contact_expected))
        unit.commit()

    receipt(sent, None, None, None)
    with pytest.raises(ConcurrentUpdateError):
        receipt(sent, None, None, None)  # someone created it meanwhile
    failed = sent.model_copy(update={"status": DeliveryStatus.UNDELIVERED, "error_code": 30005})
    with pytest.raises(ConcurrentUpdateError):
        receipt(failed, 1, contact(), 5)  # contact version is stale
    message, _ = store.messages.with_contact(PHONE, "SM9")
    assert message is not None and message.status == DeliveryStatus.SENT and message.version == 1
    receipt(failed, 1, contact(), 1)
    message, saved = store.messages.with_contact(PHONE, "SM9")
    assert message is not None and message.status == DeliveryStatus.UNDELIVERED and message.version == 2
    assert saved is not None and saved.version == 2


def test_the_thread_is_newest_first_and_limited(store: ConversationStore) -> None:
    record(store, contact(), None, inbound("SM1", minutes=1))
    record(store, contact(), 1, inbound("SM3", minutes=3))
    record(store, contact(), 2, inbound("SM2", minutes=2))
    assert [m.sid for m in store.messages.thread(PHONE)] == ["SM3", "SM2", "SM1"]
    assert [m.sid for m in store.messages.thread(PHONE, limit=2)] == ["SM3", "SM2"]
    assert store.messages.thread("+14155550100") == []


def test_contacts_are_saved_with_versions(store: ConversationStore) -> None:
    store.save_contact(contact(tags=["pizza"]), None)
    with pytest.raises(ConcurrentUpdateError):
        store.save_contact(contact(), None)
    store.save_contact(contact(tags=["pizza", "vip"]), 1, tags_before=["pizza"])  # the tag index moves too
    saved = store.get_contact(PHONE)
    assert saved is not None and saved.version == 2 and saved.tags == ["pizza", "vip"]


def test_segments_of_a_scan_cover_every_contact_once_and_nothing_else(store: ConversationStore) -> None:
    phones = [f"+4477009{n:05d}" for n in range(30)]
    for phone in phones:
        store.save_contact(Contact(phone=phone, created_at=AT), None)
    record(store, Contact(phone=PHONE, created_at=AT), None, inbound("SM1"))  # a message item too
    seen = [c.phone for segment in range(4) for page in store.scan_contacts(segment, 4) for c in page]
    assert sorted(seen) == sorted([*phones, PHONE])


def test_the_inbox_lists_open_conversations_waiting_longest_first(store: ConversationStore) -> None:
    def with_conversation(phone: str, opened: int, waiting: int | None) -> Contact:
        at = AT + timedelta(minutes=opened)
        since = AT + timedelta(minutes=waiting) if waiting is not None else None
        conversation = Conversation(opened_at=at, last_inbound_at=at, waiting_since=since)
        return Contact(phone=phone, created_at=AT, conversation=conversation)

    store.save_contact(with_conversation("+447700900001", 0, None), None)  # answered: after the waiting ones
    store.save_contact(with_conversation("+447700900002", 5, 30), None)
    store.save_contact(with_conversation("+447700900003", 9, 10), None)
    store.save_contact(contact(), None)  # no conversation: not in the inbox
    assert [c.phone for c in store.open_conversations()] == ["+447700900003", "+447700900002", "+447700900001"]
    assert [c.phone for c in store.open_conversations(limit=1)] == ["+447700900003"]
    closed = store.get_contact("+447700900003")
    assert closed is not None
    store.save_contact(closed.model_copy(update={"conversation": None}), closed.version)
    assert [c.phone for c in store.open_conversations()] == ["+447700900002", "+447700900001"]


def test_notes_and_interactions_are_kept_once_per_id(store: ConversationStore) -> None:
    order = Entry(id="order-981", kind=EntryKind.INTERACTION, at=AT, summary="Order placed", channel="order_placed")
    assert store.timeline.add_entry(PHONE, order)
    assert not store.timeline.add_entry(PHONE, order.model_copy(update={"summary": "changed"}))
    assert store.timeline.entries(PHONE) == [order]
    assert store.timeline.entries("+447700900999") == []


def test_a_timeline_page_reads_what_it_may_show_and_not_the_whole_history(store: ConversationStore) -> None:
    """history(before, newest): of each timed kind, every item at `before` and the newest + 1 before it."""
    record(store, contact(), None, inbound("SM00"))
    for minute in range(1, 10):  # one text a minute, and two at minute 5 (a tie at the cursor's time)
        store.messages.put(inbound(f"SM{minute:02d}", minutes=minute))
    store.messages.put(inbound("SM05b", minutes=5))
    consents = [
        ConsentEvent(state=ConsentState.OPTED_IN, source="keyword", at=AT + timedelta(minutes=m), message_sid=f"K{m}")
        for m in range(10)
    ]
    store.timeline.add_trail(PHONE, consents, [])
    store.timeline.add_entry(PHONE, Entry(id="note_1", kind=EntryKind.NOTE, at=AT, summary="called", author="alice"))
    page = store.timeline.history(PHONE, before=AT + timedelta(minutes=5), newest=2)
    assert sorted(m.sid for m in page.messages) == ["SM02", "SM03", "SM04", "SM05", "SM05b"]
    assert sorted(c.message_sid or "" for c in page.consents) == ["K2", "K3", "K4", "K5"]
    assert [e.id for e in page.entries] == ["note_1"]  # notes and interactions: whole
    first = store.timeline.history(PHONE, newest=2)  # no cursor: the newest of each kind
    assert sorted(m.sid for m in first.messages) == ["SM07", "SM08", "SM09"]
    assert len(store.timeline.history(PHONE).messages) == 11  # without `newest`: everything
