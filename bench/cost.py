"""What a million texts cost in AWS, modelled from measured calls: a run of
2,000 recipients (planned, sent, every text's delivery receipt) and 2,000
inbound texts, on the DynamoDB stores over the in-memory table with a meter
on every call. DynamoDB is priced from the items each call wrote or read (their
sizes as stored, in the request units DynamoDB bills: a write 1 per KB, twice
in a transaction; a consistent read 1 per 4 KB, a transaction's condition
check twice that). Lambda, SQS and API Gateway are priced from the
invocations, messages and requests the design makes per text (stated below),
Lambda's duration from other benchmarks' measured times (stated below). Prices:
us-east-1, on-demand, read 2026-12-06 (docs/cost.md gives the sources); free
tiers left out.

Figures: the infrastructure cost of a 1,000,000-recipient run and of 1,000,000
inbound texts, and each against Twilio's price for the same texts."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bench._support import Figure, log
from bench.scale import HeldClock, send_in_batches
from chalicelib.domain.campaign import Audience
from chalicelib.domain.delivery import Receipt
from chalicelib.domain.inbound import InboundSms
from chalicelib.domain.ledger import Fate
from chalicelib.domain.messages import DeliveryStatus, Direction
from chalicelib.entrypoints.jobs import SEND_BATCH  # texts per send invocation (the SQS batch, sent at once)
from chalicelib.services.inbound import handle_inbound
from chalicelib.services.status import record_status
from tests.fakes import InMemoryPromptBook
from tests.world import REPLIES, World

TEXTS = 2_000
MILLION = 1_000_000

# Prices, us-east-1, read 2026-12-06 (docs/cost.md: where each was read).
DYNAMODB_WRITE_UNIT = 0.625 / MILLION  # on-demand, per write request unit
DYNAMODB_READ_UNIT = 0.125 / MILLION  # on-demand, per read request unit
LAMBDA_GB_SECOND = 0.0000166667  # x86
LAMBDA_REQUEST = 0.20 / MILLION
SQS_REQUEST = 0.40 / MILLION  # standard queue, per request of up to 64 KB
API_GATEWAY_REQUEST = 3.50 / MILLION  # REST API, the first 333 million a month
TWILIO_SEGMENT = 0.0083  # a US long code's SMS segment, outbound or inbound, before carrier fees

# What the design does per text, beyond DynamoDB (read from the code):
SEND_GB = 0.25  # the send function's memory (.chalice/config.json)
FULL_VCPU_GB = 1.769  # Lambda gives a function a share of a vCPU in proportion to its memory, all of one here
RECEIPTS_PER_TEXT = 2  # Twilio's status callbacks a delivered text brings: sent, delivered
SQS_REQUESTS_PER_JOB = 3 / SEND_BATCH  # queued in batches of ten, received in tens, deleted in tens
# Function time, measured by other benchmarks on this machine (2026-12-06, docs/benchmarks.md):
SEND_SECONDS_PER_TEXT = 1 / 41  # bench/send.py: one sender, its batches at once, sent 41 texts a second
WEBHOOK_SECONDS = 1 / 17.8  # bench/inbound.py: 17.8 webhooks a second, one at a time, on moto (slower than AWS)
# a webhook is CPU work: at any memory below FULL_VCPU_GB it takes its full-vCPU time x FULL_VCPU_GB / memory,
# so it costs WEBHOOK_SECONDS x FULL_VCPU_GB GB-seconds whatever the API function's memory
WEBHOOK_GB_SECONDS = WEBHOOK_SECONDS * FULL_VCPU_GB


def item_size(attributes: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it, near enough: names and values, in bytes."""
    return sum(len(name.encode()) + _value_size(value) for name, value in attributes.items())


def _value_size(value: dict[str, Any]) -> int:
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        return len(str(inner)) // 2 + 1
    if kind == "M":
        return 3 + item_size(inner) + len(inner)
    if kind == "L":
        return 3 + sum(_value_size(element) + 1 for element in inner)
    return 1  # BOOL, NULL


class UnitMeter:
    """The request units each call to the in-memory client would cost, and the calls."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.write_units = 0
        self.read_units = 0.0
        self.read_units_by_call: dict[str, float] = {}
        self.calls: Counter[str] = Counter()
        self.on = True  # off while the benchmark itself looks into the table
        for name in ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"):
            setattr(client, name, self._metered(getattr(client, name), name, self._writes))
        for name in ("get_item", "batch_get_item", "query", "scan"):
            setattr(client, name, self._metered(getattr(client, name), name, self._reads))

    def _metered(
        self, call: Callable[..., Any], name: str, price: Callable[[str, dict[str, Any], Any], None]
    ) -> Callable[..., Any]:
        def metered(**request: Any) -> Any:
            answer = call(**request)
            if self.on:
                self.calls[name] += 1
                price(name, request, answer)
            return answer

        return metered

    def _writes(self, name: str, request: dict[str, Any], _answer: Any) -> None:
        if name == "transact_write_items":
            for op in request["TransactItems"]:
                kind, body = next(iter(op.items()))
                if kind == "ConditionCheck":
                    self.read_units += 2  # a transactional read of a small item
                else:
                    self.write_units += 2 * _kb(self._size_after(body))  # a transaction's write: twice
        elif name == "batch_write_item":
            for requests in request["RequestItems"].values():
                for each in requests:
                    item = each.get("PutRequest", {}).get("Item")
                    self.write_units += _kb(item_size(item)) if item else 1
        else:
            self.write_units += _kb(self._size_after(request))

    def _size_after(self, body: dict[str, Any]) -> int:
        """The written item's size: a put's own; an update's as it now stands; a delete's, one unit."""
        if "Item" in body:
            return item_size(body["Item"])
        key = (body["Key"]["pk"]["S"], body["Key"]["sk"]["S"])
        stored = self.client.stored(body["TableName"], key)
        return item_size(stored) if stored is not None else 1024

    def _reads(self, name: str, request: dict[str, Any], answer: dict[str, Any]) -> None:
        before = self.read_units
        self._read(name, answer)
        call = f"{name} {request['IndexName']}" if "IndexName" in request else name
        self.read_units_by_call[call] = self.read_units_by_call.get(call, 0.0) + self.read_units - before

    def _read(self, name: str, answer: dict[str, Any]) -> None:
        if name == "get_item":
            items = [answer["Item"]] if "Item" in answer else []
            self.read_units += max(1, sum(math.ceil(item_size(i) / 4096) for i in items))
        elif name == "batch_get_item":
            found = [item for items in answer.get("Responses", {}).values() for item in items]
            self.read_units += sum(math.ceil(item_size(item) / 4096) for item in found)
        else:  # a Query or Scan page: its items together, rounded up once; a Scan of an index reads eventually
            size = sum(item_size(item) for item in answer.get("Items", []))
            units = max(1, math.ceil(size / 4096))
            self.read_units += units / 2 if name == "scan" else units


def _kb(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def _send_run() -> tuple[UnitMeter, int]:
    world = World(clock=HeldClock())
    world.campaign(location=None, audience=Audience(), messages_per_second=None)
    for n in range(TEXTS):
        world.contact(f"+4477{n:08d}")
    meter = UnitMeter(world.table.client)
    world.tick()
    world.plan()
    sent = send_in_batches(world).count(Fate.SENT)
    meter.on = False
    phones = [f"+4477{n:08d}" for n in range(TEXTS)]
    sent_texts = [m for p in phones for m in world.store.messages.thread(p) if m.direction == Direction.OUTBOUND]
    meter.on = True
    for message in sent_texts:  # Twilio's callbacks for each
        for status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED):
            receipt = Receipt(message.sid, status, message.phone, "+15005550006", world.clock.now())
            record_status(receipt, world.store, world.runs)
    return meter, sent


def _inbound() -> UnitMeter:
    world = World()
    for n in range(TEXTS):
        world.contact(f"+4477{n:08d}")
    meter = UnitMeter(world.table.client)
    for n in range(TEXTS):
        sms = InboundSms(f"SM{n:032d}", f"+4477{n:08d}", "+15005550006", "Is it on tonight?", world.clock.now())
        handle_inbound(sms, world.store, REPLIES, world.runs, InMemoryPromptBook())
        world.clock.sleep(timedelta(seconds=1).total_seconds())
    return meter


def run() -> list[Figure]:
    log(f"cost: a run of {TEXTS} recipients and {TEXTS} inbound texts, metered")
    sending, sent = _send_run()
    inbound = _inbound()
    per_text = {
        "dynamodb": sending.write_units / sent * DYNAMODB_WRITE_UNIT + sending.read_units / sent * DYNAMODB_READ_UNIT,
        "lambda": (1 / SEND_BATCH + RECEIPTS_PER_TEXT) * LAMBDA_REQUEST
        + (SEND_SECONDS_PER_TEXT * SEND_GB + RECEIPTS_PER_TEXT * WEBHOOK_GB_SECONDS) * LAMBDA_GB_SECOND,
        "sqs": SQS_REQUESTS_PER_JOB * SQS_REQUEST,
        "api_gateway": RECEIPTS_PER_TEXT * API_GATEWAY_REQUEST,
    }
    per_inbound = {
        "dynamodb": inbound.write_units / TEXTS * DYNAMODB_WRITE_UNIT + inbound.read_units / TEXTS * DYNAMODB_READ_UNIT,
        "lambda": LAMBDA_REQUEST + WEBHOOK_GB_SECONDS * LAMBDA_GB_SECOND,
        "api_gateway": API_GATEWAY_REQUEST,
    }
    for name, costs in (("run", per_text), ("inbound", per_inbound)):
        log(f"cost: per 1M {name} texts: " + ", ".join(f"{k} ${v * MILLION:.2f}" for k, v in costs.items()))
    log(f"cost: run write units per text {sending.write_units / sent:.1f}, read units {sending.read_units / sent:.1f}")
    log(f"cost: run read units by call {dict(sending.read_units_by_call)}")
    log(f"cost: inbound write units {inbound.write_units / TEXTS:.1f}, read units {inbound.read_units / TEXTS:.1f}")
    run_cost, inbound_cost = sum(per_text.values()) * MILLION, sum(per_inbound.values()) * MILLION
    return [
        ("cost.infra_per_1m_recipients_usd", run_cost, "USD (modelled)"),
        ("cost.infra_per_1m_inbound_usd", inbound_cost, "USD (modelled)"),
        ("cost.recipients_ratio_to_twilio", run_cost / (TWILIO_SEGMENT * MILLION), "x (goal 0.002)"),
        ("cost.inbound_ratio_to_twilio", inbound_cost / (TWILIO_SEGMENT * MILLION), "x (goal 0.002)"),
    ]
