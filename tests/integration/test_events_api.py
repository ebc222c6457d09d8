"""The ordering system's events in-process, on moto: checked and queued by the
API (integration keys only), folded into the profile from the queue, once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.domain.orders import OrderEvent
from chalicelib.services import order_texts, orders
from chalicelib.services.conversations import Outbound
from tests.fakes import FakeSender, InMemoryQueue, StepClock
from tests.integration.conftest import ALICE, OLIVE, add_keys, as_key, post_signed, settings_for
from tests.integration.test_operator_api import call

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

IVY = as_key("ivy")  # an integration key
PHONE = "+447700900555"
LEEDS = {"name": "Pizza Co Leeds", "time_zone": "Europe/London", "areas": ["LS1"], "sender": "+15005550006",
         "messages_per_second": 1}  # fmt: skip


@dataclass
class Shop:
    client: Client
    deps: bootstrap.Deps
    queue: InMemoryQueue

    def post(self, event: dict[str, Any], headers: dict[str, str] = IVY) -> tuple[int, Any]:
        return call(self.client, "POST", "/api/events", event, headers)

    def apply_queued(self) -> list[bool]:
        return [
            orders.apply(OrderEvent.model_validate(job["event"]), self.deps.store, self.deps.clock)
            for job in self.queue.take()
        ]

    def profile(self) -> dict[str, Any]:
        status, found = call(self.client, "GET", f"/api/contacts/{PHONE}", headers=OLIVE)
        assert status == 200, found
        return dict(found)


@pytest.fixture
def shop(dynamodb: DynamoDBClient, table: str) -> Iterator[Shop]:
    queue = InMemoryQueue()
    deps = replace(bootstrap.on_dynamodb(settings_for(table), dynamodb, StepClock()), events_queue=queue)
    add_keys(deps.keys)
    bootstrap.use(deps)
    with Client(app, stage_name="dev") as client:
        assert call(client, "PUT", "/api/stores/leeds", LEEDS, OLIVE)[0] == 201
        yield Shop(client, deps, queue)
    bootstrap.use(None)


def event(n: int, type_: str = "order_placed", **changes: Any) -> dict[str, Any]:
    return {
        "id": f"evt_{n}", "type": type_, "order_id": "ord_1", "phone": "07700 900555" if n == 1 else PHONE,
        "store_id": "leeds", "at": "2026-03-01T11:30:00Z", "total": {"amount": 2450, "currency": "GBP"},
        "items": [{"name": "Margherita", "quantity": 2}], "channel": "app", **changes,
    }  # fmt: skip


def test_an_order_event_is_queued_then_folded_into_the_profile_once(shop: Shop) -> None:
    assert shop.post(event(1, phone="+447700900555")) == (202, {"id": "evt_1", "status": "accepted"})
    assert shop.post(event(1, phone="+447700900555")) == (202, {"id": "evt_1", "status": "accepted"})  # again
    assert shop.post(event(2, "delivered", at="2026-03-01T12:00:00Z", items=[])) == (
        202,
        {"id": "evt_2", "status": "accepted"},
    )
    assert shop.apply_queued() == [True, False, True]  # the repeated event changed nothing
    profile = shop.profile()
    assert profile["orders"]["count"] == 1 and profile["orders"]["total"] == {"amount": 2450, "currency": "GBP"}
    assert profile["orders"]["last_items"] == [{"name": "Margherita", "quantity": 2}]
    assert (profile["store_id"], profile["store_source"]) == ("leeds", "order")
    assert profile["consent"] == "unknown"  # an order is not an opt-in
    status, timeline = call(shop.client, "GET", f"/api/contacts/{PHONE}/timeline", headers=OLIVE)
    assert status == 200, timeline
    texts = json.dumps(timeline)
    assert "Order ord_1 order placed at leeds (app)" in texts and "Order ord_1 delivered" in texts


@pytest.mark.parametrize(
    ("change", "status", "says"),
    [
        ({"type": "eaten"}, 400, "type"),
        ({"channel": "fax"}, 400, "channel"),
        ({"total": {"amount": -1, "currency": "GBP"}}, 400, "total.amount"),
        ({"total": {"amount": 100, "currency": "pounds"}}, 400, "total.currency"),
        ({"at": "2026-03-01T11:30:00"}, 400, "at"),
        ({"at": "2099-01-01T00:00:00Z"}, 400, "in the future"),
        ({"phone": "not a phone"}, 400, "phone"),
        ({"items": [{"name": "", "quantity": 1}]}, 400, "items.0.name"),
        ({"order": "ord_1"}, 400, "order"),  # an unknown field: a misspelling is refused
        ({"store_id": "york"}, 422, "no store 'york'"),
    ],
)
def test_a_bad_event_is_refused_naming_the_field_and_nothing_is_queued(
    shop: Shop, change: dict[str, Any], status: int, says: str
) -> None:
    answer = shop.post(event(3, **change))
    assert answer[0] == status and says in answer[1]["Message"], answer
    assert shop.queue.take() == []


def test_only_integration_keys_and_admins_post_events_and_integration_keys_do_nothing_else(shop: Shop) -> None:
    assert shop.post(event(4), ALICE)[0] == 403
    assert shop.post(event(4), OLIVE)[0] == 403
    assert shop.post(event(4), as_key("ada"))[0] == 202
    for method, path in [("GET", "/api/stores"), ("GET", "/api/contacts"), ("GET", "/api/conversations")]:
        assert call(shop.client, method, path, headers=IVY)[0] == 403, path


@pytest.fixture
def texting(dynamodb: DynamoDBClient, table: str) -> Iterator[tuple[Shop, FakeSender]]:
    clock = StepClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), step=timedelta(milliseconds=10))
    queue, sender = InMemoryQueue(), FakeSender(clock)
    deps = replace(bootstrap.on_dynamodb(settings_for(table), dynamodb, clock), events_queue=queue)
    add_keys(deps.keys)
    bootstrap.use(deps, sender)
    with Client(app, stage_name="dev") as client:
        assert call(client, "PUT", "/api/stores/leeds", {**LEEDS, "sender": "+441134960000"}, OLIVE)[0] == 201
        yield Shop(client, deps, queue), sender
    bootstrap.use(None)


def texts_sent(shop: Shop, sender: FakeSender) -> list[str]:
    """Apply the queued events and send their texts, as the events Lambda does."""
    d = shop.deps
    outbound = Outbound(d.store, d.runs, sender, d.clock, d.policy, d.directory)
    outcomes = []
    for job in shop.queue.take():
        event = OrderEvent.model_validate(job["event"])
        orders.apply(event, d.store, d.clock)
        outcomes.append(order_texts.send_update(job, event, d.order_texts, outbound, shop.queue, 60.0))
    return outcomes


def test_an_enabled_order_text_goes_once_from_the_store_and_not_when_overtaken_cancelled_late_or_stopped(
    texting: tuple[Shop, FakeSender],
) -> None:
    shop, sender = texting
    for kind in ("out_for_delivery", "order_ready"):
        text = {"message": f"{{store_name}}: your order is {kind.replace('_', ' ')}", "relevance_minutes": 30}
        assert call(shop.client, "PUT", f"/api/order-texts/{kind}", text, OLIVE)[0] == 201
    out = event(10, "out_for_delivery", at="2026-03-01T11:55:00Z")
    shop.post(out)
    shop.post(out)  # the same event again
    assert texts_sent(shop, sender) == ["sent", "sent"]  # the second: the ledger's entry answers, nothing sent
    assert [(to, body) for to, body, *_ in sender.sent] == [(PHONE, "Pizza Co Leeds: your order is out for delivery")]
    assert sender.origins == ["+441134960000"]
    shop.post(event(11, "order_ready", at="2026-03-01T11:50:00Z"))  # older than the order's latest
    shop.post(event(12, "order_ready", order_id="ord_2", at="2026-03-01T11:00:00Z"))  # an hour late
    shop.post(event(13, "cancelled", order_id="ord_3", at="2026-03-01T11:58:00Z"))
    shop.post(event(14, "order_ready", order_id="ord_3", at="2026-03-01T11:57:00Z"))  # pending when it was cancelled
    assert [outcome.split(":")[0] for outcome in texts_sent(shop, sender)] == ["dropped", "dropped", "none", "dropped"]
    assert len(sender.sent) == 1
    profile = shop.profile()
    assert profile["orders"]["count"] == 3
    stop = {
        "MessageSid": "SM" + "5" * 32,
        "From": PHONE,
        "To": "+441134960000",
        "Body": "STOP",
        "AccountSid": "AC" + "1" * 32,
    }
    assert post_signed(shop.client, "/twilio/inbound", stop).status_code == 200
    shop.post(event(15, "out_for_delivery", order_id="ord_4", at="2026-03-01T11:59:00Z"))
    assert texts_sent(shop, sender)[0].startswith("dropped") and len(sender.sent) == 1  # never after a STOP


def test_order_texts_are_listed_and_bad_ones_refused(shop: Shop) -> None:
    good = {"message": "{store_name}: ready to collect", "relevance_minutes": 20}
    assert call(shop.client, "PUT", "/api/order-texts/order_ready", good, OLIVE)[0] == 201
    status, again = call(shop.client, "PUT", "/api/order-texts/order_ready", {**good, "enabled": False}, OLIVE)
    assert status == 200 and again["enabled"] is False and again["version"] == 2
    for path, body, says in [
        ("/api/order-texts/eaten", good, "event_type"),
        ("/api/order-texts/order_ready", {**good, "relevance_minutes": 0}, "relevance_minutes"),
        ("/api/order-texts/order_ready", {**good, "message": "Hi {first_name}"}, "message"),
    ]:
        status, answer = call(shop.client, "PUT", path, body, OLIVE)
        assert status == 400 and says in answer["Message"], answer
    status, listed = call(shop.client, "GET", "/api/order-texts", headers=OLIVE)
    assert status == 200 and [t["type"] for t in listed["order_texts"]] == ["order_ready"]
    assert call(shop.client, "GET", "/api/order-texts", headers=IVY)[0] == 403
