"""A text's record keeps what a status callback stored first, on every send path.

Twilio may call the status callback before its answer to the send reaches us.
With a Messaging Service its answer has no `from` (the service picks the
number), so the number is only in the callback's `From`: the record of the
send must keep it, for campaign texts and agents' replies alike (both merge
with `Message.with_sent`)."""

from __future__ import annotations

from chalicelib.domain.contact import Contact, Conversation
from chalicelib.domain.delivery import Receipt
from chalicelib.domain.messages import DeliveryStatus, Message
from chalicelib.domain.policy import PolicySettings
from chalicelib.services import conversations
from chalicelib.services.ports import ConversationStore, RunStore, SendOutcome, SendResult
from chalicelib.services.status import record_status
from tests.fakes import FakeSender, InMemoryConversationStore, InMemoryRunStore, StepClock, directory_of
from tests.world import SEND_AT, World

SERVICE_NUMBER = "+15005550006"  # the number the Messaging Service chose, known only from the callback
SID = "SM" + "c" * 32


class CallbackFirstSender(FakeSender):
    """A Messaging Service: the callback (with `From`) lands before the answer, which has no `from`."""

    def __init__(self, clock: StepClock, store: ConversationStore, runs: RunStore) -> None:
        super().__init__(clock, [SendResult(SendOutcome.ACCEPTED, sid=SID, from_number=None)])
        self.store, self.runs = store, runs

    def send(self, to: str, body: str, valid_for_s: int, origin: str | None = None) -> SendResult:
        result = super().send(to, body, valid_for_s, origin)
        early = Receipt(SID, DeliveryStatus.SENT, to, SERVICE_NUMBER, self.clock.now())
        record_status(early, self.store, self.runs)
        return result


def the_record(store: ConversationStore, phone: str) -> Message:
    [message] = [m for m in store.messages.thread(phone) if m.sid == SID]
    return message


def test_a_campaign_text_keeps_the_number_its_early_callback_stored() -> None:
    world = World()
    world.sender = CallbackFirstSender(world.clock, world.store, world.runs)
    world.campaign()
    world.contact("+447700900001")
    world.tick()
    world.plan()
    world.send()
    stored = the_record(world.store, "+447700900001")
    assert (stored.brand_number, stored.status, stored.body) == (
        SERVICE_NUMBER,
        DeliveryStatus.SENT,
        "Hi there, 2-for-1 tonight",
    )
    assert stored.run_id == "cmp_leeds@20260602T100000+0000"


def test_an_agents_reply_keeps_the_number_its_early_callback_stored() -> None:
    store = InMemoryConversationStore()
    phone = "+447700900002"
    opened = Conversation(opened_at=SEND_AT, last_inbound_at=SEND_AT)
    store.save_contact(Contact(phone=phone, created_at=SEND_AT, conversation=opened), None)
    clock = StepClock(SEND_AT)
    runs = InMemoryRunStore(store)
    sender = CallbackFirstSender(clock, store, runs)
    conversations.reply(
        phone,
        "alice",
        "On its way!",
        conversations.Outbound(store, runs, sender, clock, PolicySettings(), directory_of(store, clock)),
    )
    stored = the_record(store, phone)
    assert (stored.brand_number, stored.status, stored.body, stored.sent_by) == (
        SERVICE_NUMBER,
        DeliveryStatus.SENT,
        "On its way!",
        "alice",
    )
