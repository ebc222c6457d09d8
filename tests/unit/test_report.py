"""What a run earned, read from counts kept as things happened: each text
delivered or not, the first reply within 24 hours, a STOP within three days,
orders within the attribution window and their revenue, segments and their
cost (domain/report.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.campaign import Audience
from chalicelib.domain.delivery import Receipt
from chalicelib.domain.inbound import BrandReplies, InboundSms
from chalicelib.domain.ledger import Fate
from chalicelib.domain.messages import DeliveryStatus, Direction
from chalicelib.domain.orders import Money, OrderChannel, OrderEvent, OrderEventType
from chalicelib.domain.report import PriceListError, as_csv, prices_from, run_report
from chalicelib.services import orders
from chalicelib.services.inbound import handle_inbound
from chalicelib.services.status import record_status
from tests.fakes import InMemoryPromptBook
from tests.world import World

A, B, C = "+447700900001", "+447700900002", "+15005550123"
REPLIES = BrandReplies(opt_out="bye", opt_in="hi", help="help")
PRICES = {"GB": 0.04, "US": 0.01}


def sent_sid(world: World, phone: str) -> str:
    [message] = [m for m in world.store.messages.thread(phone) if m.direction == Direction.OUTBOUND]
    return message.sid


def text(world: World, phone: str, body: str, sid: str) -> None:
    sms = InboundSms(sid, phone, "+15005550006", body, world.clock.now())
    handle_inbound(sms, world.store, REPLIES, world.runs, InMemoryPromptBook())


def ordered(world: World, phone: str, order_id: str, amount: int, currency: str = "GBP") -> None:
    event = OrderEvent(
        id=f"evt_{order_id}", type=OrderEventType.PLACED, order_id=order_id, phone=phone, store_id="leeds",
        at=world.clock.now(), total=Money(amount=amount, currency=currency), items=[], channel=OrderChannel.APP,
    )  # fmt: skip
    assert orders.apply(event, world.store, world.clock, runs=world.runs)


def test_the_funnel_counts_each_thing_once_as_it_happened() -> None:
    world = World()
    world.campaign(message="2-for-1 tonight", location=None, audience=Audience(tags=["pizza"]))
    for phone in (A, B, C):
        world.contact(phone)  # each confirmed in London: 11:00 there when the run sends
    world.tick()
    world.plan()
    assert world.send() == [Fate.SENT] * 3
    for phone, status in (
        (A, DeliveryStatus.DELIVERED),
        (B, DeliveryStatus.DELIVERED),
        (C, DeliveryStatus.UNDELIVERED),
    ):
        receipt = Receipt(sent_sid(world, phone), status, phone, "+15005550006", world.clock.now())
        record_status(receipt, world.store, world.runs)
        record_status(receipt, world.store, world.runs)  # Twilio's callback again: nothing more
    world.clock.sleep(3600)
    text(world, A, "Is it on the veggie ones too?", "SMa1")
    text(world, A, "Never mind, found it", "SMa2")  # a second reply: the recipient counted once
    text(world, B, "STOP", "SMb1")  # an opt-out, not a reply
    ordered(world, A, "ord_1", 2350)
    ordered(world, A, "ord_1_again", 1200)  # a second order within the window counts too
    world.clock.sleep(timedelta(days=8).total_seconds())
    ordered(world, C, "ord_late", 999)  # eight days on: outside the window
    text(world, C, "hello?", "SMc1")  # more than 24 h after the text: not a reply to it

    [run] = world.runs.list_runs("cmp_leeds")
    found = run_report(run, world.runs.cells(run.id), PRICES, "GBP")
    assert {key: found[key] for key in ("planned", "sent", "delivered", "failed", "replied_24h", "opted_out_72h")} == {
        "planned": 3, "sent": 3, "delivered": 2, "failed": 1, "replied_24h": 1, "opted_out_72h": 1,
    }  # fmt: skip
    assert (found["ordered"], found["revenue"]) == (2, {"GBP": 3550})
    assert (found["segments"], found["segments_by_country"]) == (3, {"GB": 2, "US": 1})
    assert found["cost"] == pytest.approx(0.09) and found["unpriced_segments"] == 0
    assert found["revenue_per_cost"] == pytest.approx(35.50 / 0.09, rel=1e-3)
    [whole] = found["by_variant"]  # one message, no store: one cell, the same funnel
    assert whole == {"variant": None, **{key: found[key] for key in whole if key != "variant"}}
    assert found["holdout"] is None and found["incremental"] is None
    header, run_row, *_ = as_csv(found).splitlines()
    assert header.startswith("group,planned,sent,") and header.endswith(",revenue_GBP,segments_GB,segments_US")
    assert run_row.startswith("run,3,3,2,1,1,1,0,2,3,") and run_row.endswith(",3550,2,1")


def test_no_prices_leaves_cost_unknown_rather_than_free() -> None:
    world = World()
    world.campaign(message="hi", location=None, audience=Audience(tags=["pizza"]))
    world.contact(A)
    world.tick()
    world.plan()
    world.send()
    [run] = world.runs.list_runs("cmp_leeds")
    found = run_report(run, world.runs.cells(run.id), {}, "GBP")
    assert (found["cost"], found["unpriced_segments"], found["revenue_per_cost"]) == (0, 1, None)


@pytest.mark.parametrize("bad", ["GB", "GB=cheap", "GBR=0.04", "GB=-1"])
def test_a_price_list_that_cannot_be_read_is_refused(bad: str) -> None:
    with pytest.raises(PriceListError):
        prices_from(bad)
    assert prices_from("gb=0.0463, US=0.0083") == {"GB": 0.0463, "US": 0.0083}
