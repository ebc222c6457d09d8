"""Inbound texts and delivery receipts for one contact, in any order, repeated,
crashing between writes, or racing on threads: no message and no consent change
is lost, each text counts once, and the latest keyword decides consent."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.adapters.dynamodb_messages import DynamoMessageLog
from chalicelib.domain.contact import ConsentState
from chalicelib.domain.delivery import Receipt
from chalicelib.domain.inbound import BrandReplies, InboundSms
from chalicelib.domain.messages import DeliveryStatus, Message
from chalicelib.services.inbound import handle_inbound
from chalicelib.services.status import record_status
from tests.fakes import InMemoryConversationStore, InMemoryPromptBook, InMemoryRunStore

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PHONE = "+447700900123"
BRAND = "+15005550006"
REPLIES = BrandReplies(opt_out="bye", opt_in="welcome back", help="help", conversation_ack="")
BODIES = ["STOP", "START", "hi", "HELP", "yes", "stop texting me", "UNSTOP", "Stop pls"]
STATES = {"STOP": ConsentState.OPTED_OUT, "stop texting me": ConsentState.OPTED_OUT, "Stop pls": ConsentState.OPTED_OUT}
STATES |= {"START": ConsentState.OPTED_IN}
STATES |= {"UNSTOP": ConsentState.OPTED_IN, "yes": ConsentState.OPTED_IN}


class CrashingMessages(DynamoMessageLog):
    """Dies once, for the chosen texts, between the contact's write and the message's."""

    def __init__(self, store: InMemoryConversationStore, crash_for: set[str]) -> None:
        super().__init__(store.table.client, store.table.name)
        self.crash_for = set(crash_for)

    def put(self, message: Message) -> Message | None:
        if message.sid in self.crash_for:
            self.crash_for.discard(message.sid)
            raise ConnectionError("the Lambda died here")
        return super().put(message)


def crashing_store(crash_for: set[str]) -> InMemoryConversationStore:
    store = InMemoryConversationStore()
    store.messages = CrashingMessages(store, crash_for)
    return store


@dataclass(frozen=True)
class Text:
    n: int
    body: str

    def sms(self) -> InboundSms:
        return InboundSms(f"SM{self.n:032x}", PHONE, BRAND, self.body, AT + timedelta(seconds=self.n))


@dataclass(frozen=True)
class Ack:
    """A delivery receipt for one of our texts to the contact (30003: unreachable)."""

    n: int
    status: str
    code: int | None

    def receipt(self) -> Receipt:
        at = AT + timedelta(seconds=self.n, milliseconds=500)
        return Receipt(f"SMout{self.n:027x}", DeliveryStatus(self.status), PHONE, BRAND, at, self.code)


def deliver(store: InMemoryConversationStore, runs: InMemoryRunStore, event: Text | Ack) -> None:
    """As Twilio does with retries configured: again until it gets an answer."""
    for _ in range(3):
        try:
            if isinstance(event, Text):
                handle_inbound(event.sms(), store, REPLIES, runs, InMemoryPromptBook())
            else:
                record_status(event.receipt(), store, runs)
            return
        except ConnectionError:
            continue
    raise AssertionError(f"{event} was never taken")


def check(store: InMemoryConversationStore, texts: list[Text]) -> None:
    stored = {m.sid: m for m in store.timeline.history(PHONE).messages if m.kind is not None}
    assert sorted(stored) == sorted(t.sms().sid for t in texts)  # every text, once
    contact = store.get_contact(PHONE)
    assert contact is not None and contact.engagement.inbound_count == len(texts)
    keywords = [t for t in texts if t.body in STATES]
    if keywords:
        latest = max(keywords, key=lambda t: t.n)
        assert contact.consent == STATES[latest.body]
        trail = store.timeline.trail(PHONE).consents
        assert {e.message_sid for e in trail} == {t.sms().sid for t in keywords}  # every instruction
        assert trail == sorted(trail, key=lambda e: e.at)
        assert trail[-1].state == contact.consent  # the trail ends where the profile is


events = st.lists(st.sampled_from(BODIES), min_size=1, max_size=12).flatmap(
    lambda bodies: st.tuples(
        st.just([Text(n, body) for n, body in enumerate(bodies)]),
        st.lists(st.sampled_from(["delivered", "undelivered"]), max_size=4),
    )
)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), generated=events)
def test_any_order_repeats_and_crashes_lose_nothing(
    data: st.DataObject, generated: tuple[list[Text], list[str]]
) -> None:
    texts, statuses = generated
    acks = [Ack(n, status, 30003 if status == "undelivered" else None) for n, status in enumerate(statuses)]
    schedule: list[Text | Ack] = data.draw(st.permutations([*texts, *acks]))
    repeated = data.draw(st.lists(st.sampled_from(schedule), max_size=4))
    crashing = data.draw(st.sets(st.sampled_from([t.sms().sid for t in texts])))
    store, runs = crashing_store(crashing), InMemoryRunStore()
    for event in [*schedule, *repeated]:
        deliver(store, runs, event)
    check(store, texts)


def test_texts_and_receipts_racing_on_threads_lose_nothing() -> None:
    rng = random.Random(9)
    for _ in range(20):
        texts = [Text(n, rng.choice(BODIES)) for n in range(24)]
        acks = [Ack(n, "undelivered", 30003) for n in range(6)]
        schedule: list[Text | Ack] = [*texts, *acks, *rng.sample(texts, 4)]
        rng.shuffle(schedule)
        store, runs = InMemoryConversationStore(), InMemoryRunStore()
        threads = [threading.Thread(target=deliver, args=(store, runs, e)) for e in schedule]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        check(store, texts)
