"""Order events (`POST /api/events`) in-process (chalice.test.Client) against
DynamoDB on moto server: accepted by the API (checked, queued), then applied
from the queue as the send Lambda applies them.

Figures: events accepted per second by the API and DynamoDB calls per accepted
event (the store is read once a minute per container, so ~0); events applied
per second and DynamoDB calls per applied event (target at most 3), and per
repeated event (changes nothing). Order texts (`events.to_text_ms_p95`) are
not built yet, so there is no figure for them.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from chalice.test import Client

from app import app
from bench._support import CallCounter, Figure, log, moto_dynamodb
from chalicelib import bootstrap
from chalicelib.adapters.clock import SystemClock
from chalicelib.config import Settings
from chalicelib.domain.orders import OrderEvent
from chalicelib.domain.stores import Store, StoreSpec
from chalicelib.services import orders
from chalicelib.services.keys import KeyRecord, Role, key_hash
from local.schema import create_table
from tests.fakes import InMemoryQueue

TABLE = "bench-events"
EVENTS = 200  # 100 customers, an order each: placed, then delivered
KEY = "rk_bench-integration"


def _event(n: int, now: datetime) -> dict[str, Any]:
    customer, delivered = divmod(n, 2)
    items = [] if delivered else [{"name": "Margherita", "quantity": 2}]
    return {
        "id": f"evt_{n}", "type": "delivered" if delivered else "order_placed", "order_id": f"ord_{customer}",
        "phone": f"+4477009{customer:05d}", "store_id": "leeds", "channel": "app", "items": items,
        "at": (now - timedelta(minutes=60 - delivered)).isoformat(), "total": {"amount": 2450, "currency": "GBP"},
    }  # fmt: skip


def run() -> list[Figure]:
    now = datetime.now(UTC)
    with moto_dynamodb() as dynamodb:
        create_table(dynamodb, TABLE)
        counter = CallCounter(dynamodb)
        settings = Settings.from_env({"TABLE_NAME": TABLE, "TWILIO_AUTH_TOKEN": "bench-token"})
        queue = InMemoryQueue()
        deps = replace(bootstrap.on_dynamodb(settings, dynamodb, SystemClock()), events_queue=queue)
        deps.keys.add(
            KeyRecord(name="orders", role=Role.INTEGRATION, key_hash=key_hash(KEY), created_at=now, created_by="bench")
        )
        spec = StoreSpec(name="Pizza Co Leeds", time_zone="Europe/London", areas=["LS"], sender="+15005550006",
                         messages_per_second=10)  # fmt: skip
        deps.stores.save(Store(**spec.model_dump(), id="leeds", created_at=now, updated_at=now), None)
        bootstrap.use(deps)
        headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
        log(f"events: {EVENTS} events through the API, then applied from the queue")
        with Client(app, stage_name="dev") as client:
            client.http.post("/api/events", headers=headers, body=b"{}")  # warm: the key and the stores read
            counter.reset()
            started = time.perf_counter()
            for n in range(EVENTS):
                response = client.http.post("/api/events", headers=headers, body=json.dumps(_event(n, now)).encode())
                assert response.status_code == 202, response.body
            accept_s, accept_calls = time.perf_counter() - started, counter.calls
        jobs = queue.take()
        counter.reset()
        started = time.perf_counter()
        applied = [orders.apply(OrderEvent.model_validate(job["event"]), deps.store, deps.clock) for job in jobs]
        apply_s, apply_calls = time.perf_counter() - started, counter.calls
        counter.reset()
        repeated = [orders.apply(OrderEvent.model_validate(job["event"]), deps.store, deps.clock) for job in jobs[:20]]
        repeat_calls = counter.calls
        bootstrap.use(None)
    assert all(applied) and not any(repeated)
    return [
        ("events.per_s", EVENTS / accept_s, "events/s (accepted by the API, in-process, one at a time)"),
        ("events.ddb_calls_per_accepted_event", accept_calls / EVENTS, "calls"),
        ("events.applied_per_s", EVENTS / apply_s, "events/s (one worker, moto)"),
        ("events.ddb_calls_per_event", apply_calls / EVENTS, "calls (target at most 3)"),
        ("events.ddb_calls_per_repeated_event", repeat_calls / 20, "calls"),
    ]
