"""Where a run's writes land: a whole run (planned, sent from the brand's
number ten at once as the send function sends them, every text's delivery
receipt) on the DynamoDB
stores over the in-memory table (tests/memory_dynamodb.py), with a meter on
every write naming the partition key it went to (each item of a
transaction, a batch or a single call). DynamoDB serves each partition up to
1,000 write units a second: the share of a run's writes that its busiest
partition takes says how far one run can scale before that partition throttles.

Figures: the busiest partition's share of the run's writes, and the writes per
text; the busiest partitions by kind go to stderr."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from bench._support import Figure, log
from chalicelib.domain.campaign import Audience
from chalicelib.domain.delivery import Receipt
from chalicelib.domain.ledger import Fate
from chalicelib.domain.messages import DeliveryStatus, Direction
from chalicelib.entrypoints.jobs import SEND_BATCH
from chalicelib.services.send_text import BatchReads, SendJob
from chalicelib.services.sending import send_one
from chalicelib.services.status import record_status
from tests.fakes import StepClock
from tests.world import SEND_AT, World

RECIPIENTS = 50_000


class WriteMeter:
    """Counts the items written per partition key, wrapping the in-memory client's write calls."""

    def __init__(self, client: Any) -> None:
        self.by_pk: Counter[str] = Counter()
        self.checks: Counter[str] = Counter()  # a transaction's condition checks: read capacity, not writes
        for name, pks in (
            ("put_item", lambda call: [call["Item"]["pk"]["S"]]),
            ("update_item", lambda call: [call["Key"]["pk"]["S"]]),
            ("delete_item", lambda call: [call["Key"]["pk"]["S"]]),
            ("transact_write_items", self._transaction_pks),
            ("batch_write_item", _batch_pks),
        ):
            setattr(client, name, self._metered(getattr(client, name), pks))

    def _metered(self, write: Callable[..., Any], pks: Callable[[dict[str, Any]], list[str]]) -> Callable[..., Any]:
        def metered(**call: Any) -> Any:
            answer = write(**call)  # counted once done: a refused write wrote nothing
            self.by_pk.update(pks(call))
            return answer

        return metered

    def _transaction_pks(self, call: dict[str, Any]) -> list[str]:
        self.checks.update(_pk_of(op) for op in call["TransactItems"] if "ConditionCheck" in op)
        return [_pk_of(op) for op in call["TransactItems"] if "ConditionCheck" not in op]


def _pk_of(op: dict[str, Any]) -> str:
    body = next(iter(op.values()))
    return str((body.get("Item") or body["Key"])["pk"]["S"])


def _batch_pks(call: dict[str, Any]) -> list[str]:
    return [_pk_of(request) for requests in call["RequestItems"].values() for request in requests]


class HeldClock(StepClock):
    """Time held still, sleeps included: every text of a batch meets the slot it
    was given, as a sender with CPU to spare does (the tests' clock moves on each
    reading, and a batch's threads sleeping on one shared clock would move it ten
    times as far)."""

    def __init__(self) -> None:
        super().__init__(SEND_AT, step=timedelta(0))

    def sleep(self, seconds: float) -> None:
        pass


def send_in_batches(world: World) -> list[Fate]:
    """The queued texts sent as the send function sends them: ten at once, their reads and slots shared."""
    jobs, ctx, fates = world.send_queue.take(), world.ctx(), list[Fate]()
    for start in range(0, len(jobs), SEND_BATCH):
        batch = jobs[start : start + SEND_BATCH]
        reads = BatchReads.of(batch)
        with ThreadPoolExecutor(max_workers=SEND_BATCH) as pool:
            fates += pool.map(lambda job, reads=reads: send_one(SendJob.of(job), ctx, reads), batch)
    return fates


def kind(pk: str) -> str:
    """A partition key with its ids blanked: C#…, RC#…#3, PACE#…"""
    return re.sub(r"[+\d][\w@+:.\-]*", "…", pk, count=1)


def run() -> list[Figure]:
    world = World(clock=HeldClock())
    world.campaign(location=None, audience=Audience(), messages_per_second=None)
    for n in range(RECIPIENTS):
        world.contact(f"+4477{n:08d}")
    meter = WriteMeter(world.table.client)
    log(f"scale: a run of {RECIPIENTS} recipients on the in-memory table")
    world.tick()
    world.plan()
    sent = send_in_batches(world)
    for phone in (f"+4477{n:08d}" for n in range(RECIPIENTS)):
        for message in world.store.messages.thread(phone):
            if message.direction == Direction.OUTBOUND:
                receipt = Receipt(message.sid, DeliveryStatus.DELIVERED, phone, "+15005550006", world.clock.now())
                record_status(receipt, world.store, world.runs)
    total = sum(meter.by_pk.values())
    busiest = meter.by_pk.most_common(5)
    for pk, writes in busiest:
        log(f"scale: {kind(pk)} took {writes} writes, {writes / total:.2%} of the run's")
    for pk, checks in meter.checks.most_common(2):
        log(f"scale: {kind(pk)} was checked {checks} times in transactions (reads)")
    texts = max(1, len(sent))
    return [
        ("scale.hottest_key_share", busiest[0][1] / total, "share"),
        ("scale.writes_per_text", total / texts, "writes"),
        ("scale.hottest_checked_key_per_text", meter.checks.most_common(1)[0][1] / texts, "checks"),
    ]
