"""Purchases by text: REORDER offers the last order, YES places it once with the
ordering system, whose answer is texted back; outages retried, refusals and
long outages handed to a person (domain/reorder.py, services/reorder.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from chalicelib.domain.contact import ConsentState
from chalicelib.domain.inbound import ORDER_CHANGED, BrandReplies, InboundSms
from chalicelib.domain.messages import InboundKind, Message
from chalicelib.domain.orders import Money, OrderChannel, OrderEvent, OrderEventType, OrderItem
from chalicelib.domain.policy import PolicySettings
from chalicelib.domain.reorder import OFFER_KEPT, REORDER_JOB, STORE_CLOSED, ReorderRequest, price
from chalicelib.domain.stores import StoreSpec
from chalicelib.services import orders, reorder, stores
from chalicelib.services.conversations import Outbound
from chalicelib.services.inbound import handle_inbound
from chalicelib.services.ports import OrderingRefusedError, OrderingUnavailableError
from chalicelib.services.send_text import SendTiming
from chalicelib.services.stores import STORES_KEPT_S
from tests.fakes import InMemoryPromptBook, InMemoryQueue
from tests.unit.test_store_campaigns import put_store
from tests.world import SEND_AT, World

CUSTOMER = "+447700900125"
REPLIES = BrandReplies(opt_out="bye", opt_in="welcome back", help="help", reorder_words=frozenset({"REORDER"}))
TIMING = SendTiming(retry_first_s=15, retry_max_s=900)


def LEFT() -> float:  # noqa: N802 (a constant of the test: the handler's time left)
    return 60.0


@dataclass
class FakeOrderingSystem:
    """Answers as told, in order (then with a pay link); remembers every request."""

    answers: list[Exception | str] = field(default_factory=list)
    calls: list[ReorderRequest] = field(default_factory=list)

    def place(self, request: ReorderRequest) -> str:
        self.calls.append(request)
        answer = self.answers.pop(0) if self.answers else f"Pay here: https://pay.example/{request.idempotency_key}"
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def world() -> World:
    world = World()
    put_store(world, "newcastle", "Pizza Co Newcastle", "NE1", phone="+441914960000")
    world.contact(CUSTOMER, store_id="newcastle")
    ordered(world, "ord_1", [OrderItem(name="Margherita", quantity=2), OrderItem(name="Garlic bread", quantity=1)])
    return world


def ordered(world: World, order_id: str, items: list[OrderItem], ago: timedelta = timedelta(days=7)) -> None:
    event = OrderEvent(
        id=f"evt_{order_id}", type=OrderEventType.PLACED, order_id=order_id, phone=CUSTOMER, store_id="newcastle",
        at=world.clock.now() - ago, total=Money(amount=2350, currency="GBP"), items=items, channel=OrderChannel.APP,
    )  # fmt: skip
    assert orders.apply(event, world.store, world.clock)


def text(world: World, body: str, sid: str, queue: InMemoryQueue | None) -> Message:
    sms = InboundSms(sid=sid, phone=CUSTOMER, brand_number="+447700900001", body=body, at=world.clock.now())
    return handle_inbound(sms, world.store, REPLIES, world.runs, InMemoryPromptBook(), world.directory, queue)


def outbound(world: World) -> Outbound:
    return Outbound(world.store, world.runs, world.sender, world.clock, PolicySettings(), world.directory)


def test_reorder_offers_the_last_order_with_its_store_items_and_total(world: World) -> None:
    queue = InMemoryQueue()
    offered = text(world, "Reorder!", "SM1", queue)
    assert offered.kind == InboundKind.REORDER
    assert offered.reply == (
        "Your usual from Pizza Co Newcastle: 2 x Margherita, 1 x Garlic bread, £23.50."
        " Reply YES to order it again, or NO."
    )
    contact = world.store.get_contact(CUSTOMER)
    assert contact is not None and contact.pending_prompt is not None
    assert (contact.pending_prompt.prompt_id, contact.pending_prompt.about) == ("reorder", "ord_1")
    assert queue.take() == []  # an offer orders nothing


def test_yes_queues_one_order_under_the_yes_texts_own_key_and_a_replayed_yes_queues_none(world: World) -> None:
    queue = InMemoryQueue()
    text(world, "REORDER", "SM1", queue)
    said_yes = text(world, "yes", "SM2", queue)
    assert said_yes.kind == InboundKind.ANSWER
    assert said_yes.reply == "Thanks! Sending your order to Pizza Co Newcastle now."
    jobs = queue.take()
    assert len(jobs) == 1 and jobs[0]["kind"] == REORDER_JOB
    request = ReorderRequest.model_validate(jobs[0]["request"])
    assert (request.store_id, request.last_order_id) == ("newcastle", "ord_1")
    assert re.fullmatch(r"rapport-reorder-[0-9a-f]{32}", request.idempotency_key)  # the offer's key
    assert [(item.name, item.quantity) for item in request.items] == [("Margherita", 2), ("Garlic bread", 1)]
    again = text(world, "yes", "SM2", queue)  # Twilio delivers the same YES again
    assert again.reply == said_yes.reply and queue.take() == []
    contact = world.store.get_contact(CUSTOMER)
    assert contact is not None and contact.consent == ConsentState.OPTED_IN and contact.pending_prompt is None


def test_no_orders_nothing_and_yes_after_the_offer_expired_orders_nothing(world: World) -> None:
    queue = InMemoryQueue()
    text(world, "REORDER", "SM1", queue)
    assert text(world, "no", "SM2", queue).reply == "OK, nothing ordered."
    text(world, "REORDER", "SM3", queue)
    world.clock.current += OFFER_KEPT + timedelta(seconds=1)
    late = text(world, "YES", "SM4", queue)
    assert late.kind != InboundKind.ANSWER and queue.take() == []


def test_yes_after_a_newer_order_places_nothing_and_says_why(world: World) -> None:
    queue = InMemoryQueue()
    text(world, "REORDER", "SM1", queue)
    ordered(world, "ord_2", [OrderItem(name="Pepperoni", quantity=1)], ago=timedelta(minutes=1))
    assert text(world, "YES", "SM2", queue).reply == ORDER_CHANGED
    assert queue.take() == []


def test_without_an_order_an_opt_out_or_an_ordering_system_reorder_offers_nothing(world: World) -> None:
    queue = InMemoryQueue()
    world.contact("+447700900999")
    sms = InboundSms(sid="SM9", phone="+447700900999", brand_number="+1", body="REORDER", at=world.clock.now())
    nothing = handle_inbound(sms, world.store, REPLIES, world.runs, InMemoryPromptBook(), world.directory, queue)
    assert nothing.kind == InboundKind.REORDER and "can't find an earlier order" in nothing.reply
    off = text(world, "REORDER", "SM1", None)  # no ordering system: an ordinary text, for a person
    assert off.kind == InboundKind.CONVERSATION
    text(world, "STOP", "SM2", queue)
    stopped = text(world, "REORDER", "SM3", queue)
    assert stopped.kind == InboundKind.CONVERSATION and stopped.reply == ""
    contact = world.store.get_contact(CUSTOMER)
    assert contact is not None and contact.pending_prompt is None and queue.take() == []


def placed_job(world: World) -> dict[str, object]:
    queue = InMemoryQueue()
    text(world, "REORDER", "SM1", queue)
    text(world, "YES", "SM2", queue)
    (job,) = queue.take()
    return job


def test_the_ordering_systems_answer_is_texted_once_from_the_store_however_often_the_job_runs(world: World) -> None:
    job, system, queue = placed_job(world), FakeOrderingSystem(), InMemoryQueue()
    assert reorder.place(job, system, outbound(world), queue, TIMING, LEFT) == "placed"
    assert reorder.place(job, system, outbound(world), queue, TIMING, LEFT) == "placed"  # SQS delivered it twice
    key = system.calls[0].idempotency_key
    assert [call.idempotency_key for call in system.calls] == [key] * 2  # one key: one order
    assert [body for _, body, _, _ in world.sender.accepted] == [f"Pay here: https://pay.example/{key}"]
    assert world.sender.origins == ["+447700900001"]  # the store's sender
    entries = [
        e for e in world.store.timeline.entries(CUSTOMER) if e.channel == "reorder" and e.author == "ordering system"
    ]
    assert [e.summary for e in entries] == [f"Reorder of ord_1 placed by text: Pay here: https://pay.example/{key}"]


def test_an_outage_is_retried_with_backoff_and_the_customer_told_once_that_it_is_on_its_way(world: World) -> None:
    job, queue = placed_job(world), InMemoryQueue()
    system = FakeOrderingSystem([OrderingUnavailableError("HTTP 503"), OrderingUnavailableError("no answer")])
    assert reorder.place(job, system, outbound(world), queue, TIMING, LEFT) == "retry"
    [(second, first_delay)] = queue.jobs
    queue.take()
    assert second["attempt"] == 1 and 7 <= first_delay <= 15
    assert reorder.place(second, system, outbound(world), queue, TIMING, LEFT) == "retry"
    [(third, second_delay)] = queue.jobs
    queue.take()
    assert third["attempt"] == 2 and 15 <= second_delay <= 30
    assert reorder.place(third, system, outbound(world), queue, TIMING, LEFT) == "placed"
    bodies = [body for _, body, _, _ in world.sender.accepted]
    assert bodies == [reorder.ON_ITS_WAY, f"Pay here: https://pay.example/{system.calls[0].idempotency_key}"]


def test_a_refusal_opens_a_conversation_with_the_reason_once(world: World) -> None:
    job, queue = placed_job(world), InMemoryQueue()
    refused = FakeOrderingSystem([OrderingRefusedError("HTTP 400: store closed")] * 2)
    assert reorder.place(job, refused, outbound(world), queue, TIMING, LEFT) == "handed over"
    assert reorder.place(job, refused, outbound(world), queue, TIMING, LEFT) == "handed over"  # run twice
    contact = world.store.get_contact(CUSTOMER)
    assert contact is not None and contact.conversation is not None
    assert contact.conversation.message_count == 1  # opened once, though the job ran twice
    failed = [
        e.summary
        for e in world.store.timeline.entries(CUSTOMER)
        if e.channel == "reorder" and e.author == "ordering system"
    ]
    assert failed == ["Reorder of ord_1 not placed: the ordering system refused it: HTTP 400: store closed"]
    assert [body for _, body, _, _ in world.sender.accepted] == [reorder.HANDED_OVER]
    assert queue.take() == []


def test_a_long_outage_hands_over_after_the_last_attempt(world: World) -> None:
    job, queue = placed_job(world), InMemoryQueue()
    last = {**job, "attempt": reorder.ATTEMPTS - 1}
    assert reorder.place(last, FakeOrderingSystem([OrderingUnavailableError("HTTP 502")]), outbound(world), queue,
                         TIMING, LEFT) == "handed over"  # fmt: skip
    entries = [
        e.summary
        for e in world.store.timeline.entries(CUSTOMER)
        if e.channel == "reorder" and e.author == "ordering system"
    ]
    assert entries == [f"Reorder of ord_1 not placed: the ordering system stayed unavailable ({reorder.ATTEMPTS}"
                       " calls): HTTP 502"]  # fmt: skip
    contact = world.store.get_contact(CUSTOMER)
    assert contact is not None and contact.conversation is not None and contact.conversation.waiting_since is not None
    assert queue.take() == []


def test_a_stop_after_the_yes_places_nothing_and_texts_nothing(world: World) -> None:
    job = placed_job(world)
    text(world, "STOP", "SM5", InMemoryQueue())
    sent_before, system = len(world.sender.accepted), FakeOrderingSystem()
    assert reorder.place(job, system, outbound(world), InMemoryQueue(), TIMING, LEFT) == "dropped: opted out"
    assert system.calls == [] and len(world.sender.accepted) == sent_before


def test_a_yes_after_a_stop_is_no_order_and_no_reply(world: World) -> None:
    queue = InMemoryQueue()
    text(world, "REORDER", "SM1", queue)
    text(world, "STOP", "SM2", queue)
    said = text(world, "YES", "SM3", queue)
    assert said.reply == "" and queue.take() == []


def retire_newcastle(world: World) -> None:
    """The store retired, and every container's list of stores read since."""
    store = world.stores.get("newcastle")
    assert store is not None
    spec = StoreSpec(**{**store.model_dump(include=set(StoreSpec.model_fields)), "retired": True})
    stores.put_store("newcastle", spec, world.stores, world.clock)
    world.clock.current += timedelta(seconds=STORES_KEPT_S)


def test_reorder_from_a_store_retired_since_offers_nothing_and_says_so(world: World) -> None:
    retire_newcastle(world)
    queue = InMemoryQueue()
    said = text(world, "REORDER", "SM1", queue)
    assert said.kind == InboundKind.REORDER and said.reply == STORE_CLOSED
    contact = world.store.get_contact(CUSTOMER)
    assert contact is not None and contact.pending_prompt is None and queue.take() == []


def test_a_yes_after_the_store_retired_places_nothing_and_says_so(world: World) -> None:
    queue = InMemoryQueue()
    text(world, "REORDER", "SM1", queue)
    retire_newcastle(world)
    said = text(world, "YES", "SM2", queue)
    assert said.kind == InboundKind.ANSWER and said.reply == STORE_CLOSED
    assert queue.take() == []


@pytest.mark.parametrize("hedge", ["ok I'll think about it", "Ok what's in it?", "yes but without the garlic bread"])
def test_a_hedged_yes_orders_nothing(world: World, hedge: str) -> None:
    queue = InMemoryQueue()
    text(world, "REORDER", "SM1", queue)
    said = text(world, hedge, "SM2", queue)
    assert said.kind == InboundKind.REASKED and queue.take() == []


def test_every_yes_to_one_offer_is_one_key(world: World) -> None:
    """Two YES texts racing: each may queue a job before its write, but one offer is one key."""
    from chalicelib.domain.reorder import placed

    queue = InMemoryQueue()
    text(world, "REORDER", "SM1", queue)
    contact = world.store.get_contact(CUSTOMER)
    assert contact is not None and contact.pending_prompt is not None
    first = placed(contact, contact.pending_prompt, world.clock.now())
    second = placed(contact, contact.pending_prompt, world.clock.now())
    assert first is not None and second is not None and first.idempotency_key == second.idempotency_key
    text(world, "REORDER", "SM3", queue)  # a new offer: a new key
    again = world.store.get_contact(CUSTOMER)
    assert again is not None and again.pending_prompt is not None
    third = placed(again, again.pending_prompt, world.clock.now())
    assert third is not None and third.idempotency_key != first.idempotency_key


def test_a_job_whose_yes_was_never_recorded_places_nothing(world: World) -> None:
    """The YES's job is queued before its write; that write lost (to a NO, say): no record, no order."""
    job = placed_job(world)
    request = ReorderRequest.model_validate(job["request"])
    lost = {**job, "request": request.model_copy(update={"idempotency_key": "rapport-reorder-lost"}).model_dump(
        mode="json")}  # fmt: skip
    system, queue = FakeOrderingSystem(), InMemoryQueue()
    outcomes = []
    for _ in range(reorder.RECORD_CHECKS):
        outcomes.append(reorder.place(lost, system, outbound(world), queue, TIMING, LEFT))
        lost = queue.take()[0] if queue.jobs else lost
    assert outcomes == ["waiting"] * (reorder.RECORD_CHECKS - 1) + ["dropped: the YES was never recorded"]
    assert system.calls == []


def test_a_request_too_old_is_handed_over_not_placed(world: World) -> None:
    job = placed_job(world)
    world.clock.current += reorder.REQUEST_KEPT + timedelta(minutes=1)  # a dead-letter redrive the next morning
    system = FakeOrderingSystem()
    assert reorder.place(job, system, outbound(world), InMemoryQueue(), TIMING, LEFT) == "handed over"
    assert system.calls == [] and world.sender.accepted == []  # its "sorry" text is past the request's time too


def test_too_little_time_left_defers_and_a_busy_sender_keeps_the_answer(world: World) -> None:
    job, system, queue = placed_job(world), FakeOrderingSystem(), InMemoryQueue()
    assert reorder.place(job, system, outbound(world), queue, TIMING, lambda: 12.0) == "deferred"
    assert system.calls == [] and queue.take() == [job]
    answer = {**job, "answer": "Pay here: https://pay.example/kept"}
    assert reorder.place(answer, system, outbound(world), queue, TIMING, LEFT) == "placed"
    assert system.calls == []  # the answer came with the job: not asked again
    assert [body for _, body, _, _ in world.sender.accepted] == ["Pay here: https://pay.example/kept"]


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [(2350, "GBP", "£23.50"), (900, "USD", "$9.00"), (5, "EUR", "€0.05"), (120000, "CAD", "1200.00 CAD")],
)
def test_prices_read_as_customers_read_them(amount: int, currency: str, shown: str) -> None:
    assert price(Money(amount=amount, currency=currency)) == shown


def test_a_campaign_cannot_ask_the_reorder_question() -> None:
    from chalicelib.domain.campaign import CampaignSpec

    with pytest.raises(ValueError, match="only when a customer texts REORDER"):
        CampaignSpec.model_validate({"name": "x", "prompt_id": "reorder", "audience": {}, "send_at": SEND_AT})
