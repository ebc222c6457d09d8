"""The ordering system's events in-process, on moto: checked and queued by the
API (integration keys only), folded into the profile from the queue, once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.services import orders
from tests.fakes import InMemoryQueue, StepClock
from tests.integration.conftest import ALICE, OLIVE, add_keys, as_key, settings_for
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
        return [orders.apply(job, self.deps.store, self.deps.clock) for job in self.queue.take()]

    def profile(self) -> dict[str, Any]:
        status, found = call(self.client, "GET", f"/api/contacts/{PHONE}", headers=OLIVE)
        assert status == 200, found
        return dict(found)


@pytest.fixture
def shop(dynamodb: DynamoDBClient, table: str) -> Iterator[Shop]:
    queue = InMemoryQueue()
    deps = replace(bootstrap.on_dynamodb(settings_for(table), dynamodb, StepClock()), send_queue=queue)
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
