"""A run's `delivered` and `undelivered` counts: each text counts once, at the
first final status its receipts bring (services/status.py)."""

from __future__ import annotations

import pytest

from chalicelib.domain.delivery import Receipt
from chalicelib.domain.ledger import DELIVERED, OUT, UNDELIVERED
from chalicelib.domain.messages import DeliveryStatus
from chalicelib.services.ports import SendOutcome, SendResult
from chalicelib.services.status import record_status, run_counts
from tests.world import World

S = DeliveryStatus
RUN = "cmp_leeds@20260602T100000+0000"


@pytest.fixture
def world() -> World:
    return World()


@pytest.mark.parametrize(
    ("before", "after", "counts"),
    [
        (None, S.DELIVERED, {DELIVERED: 1}),
        (S.QUEUED, S.DELIVERED, {DELIVERED: 1}),
        (S.SENT, S.DELIVERED, {DELIVERED: 1}),
        (S.SENT, S.READ, {DELIVERED: 1}),  # read without a delivered receipt: it arrived
        (S.SENT, S.UNDELIVERED, {UNDELIVERED: 1}),
        (S.SENT, S.FAILED, {UNDELIVERED: 1}),
        (S.QUEUED, S.SENT, {}),
        (S.DELIVERED, S.DELIVERED, {}),  # a repeated receipt
        (S.DELIVERED, S.READ, {}),
        (S.UNDELIVERED, S.UNDELIVERED, {}),  # the first final status stands: the text counted then
        (S.UNDELIVERED, S.READ, {}),
        (S.SENT, S.CANCELED, {}),  # never went: neither
    ],
)
def test_a_receipt_counts_only_when_it_brings_the_first_final_status(
    before: DeliveryStatus | None, after: DeliveryStatus, counts: dict[str, int]
) -> None:
    assert run_counts(before, after) == counts


def receipts(world: World, phone: str, *statuses: str) -> None:
    sid = str(world.store.messages.thread(phone)[0].sid)
    for status in statuses:
        code = 30003 if status in ("undelivered", "failed") else None
        receipt = Receipt(sid, DeliveryStatus(status), phone, "+15005550006", world.clock.now(), code)
        record_status(receipt, world.store, world.runs)


def test_each_text_of_a_run_counts_delivered_once(world: World) -> None:
    world.campaign()
    phones = ["+447700900001", "+447700900002", "+447700900003"]
    for phone in phones:
        world.contact(phone)
    world.tick()
    world.plan()
    world.send()
    receipts(world, phones[0], "sent", "delivered", "delivered", "sent")  # a repeat, and a late "sent"
    receipts(world, phones[1], "delivered", "undelivered")  # delivered stands: Twilio's later word is not counted
    receipts(world, phones[2], "undelivered", "delivered", "undelivered")  # and the other way round
    run = world.runs.get_run(RUN)
    assert run is not None
    assert (run.counts[OUT], run.counts[DELIVERED], run.counts[UNDELIVERED]) == (3, 2, 1)
    assert run.counts[DELIVERED] + run.counts[UNDELIVERED] <= run.counts[OUT]


def test_a_delivery_receipt_that_beats_the_send_s_own_record_counts_once(world: World) -> None:
    world.campaign()
    world.contact("+447700900001")
    world.tick()
    world.plan()
    sid = "SM" + "d" * 32
    for status in ("queued", "delivered"):  # Twilio's callbacks came before our own write
        early = Receipt(sid, DeliveryStatus(status), "+447700900001", "+15005550006", world.clock.now())
        record_status(early, world.store, world.runs)
    world.sender.answers = [SendResult(SendOutcome.ACCEPTED, sid=sid, from_number="+15005550006")]
    world.send()
    late = Receipt(sid, DeliveryStatus.DELIVERED, "+447700900001", "+15005550006", world.clock.now())
    record_status(late, world.store, world.runs)  # Twilio's retry of the same callback
    run = world.runs.get_run(RUN)
    assert run is not None and run.counts[DELIVERED] == 1 and UNDELIVERED not in run.counts
