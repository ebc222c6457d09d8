"""Planning a run of 100,000 contacts against the AWS emulator's DynamoDB (moto
server), shard by shard as the plan Lambdas would: DynamoDB reads and writes
per contact (paged scans of the contacts index, batched decision writes), SQS
requests per contact, and contacts per second.

The send queue is the real SQS adapter on a client that records each
SendMessageBatch instead of calling moto: moto's SQS takes longer per request
the deeper the queue (measured here: 128 ms per batch of ten at 500 messages
deep, 696 ms at 2,000), which would make this a benchmark of moto's queue."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Any

import boto3

from bench._support import CallCounter, Figure, FixedClock, leeds_offer, load, log, moto_server, population
from chalicelib.adapters.dynamodb_runs import DynamoRunStore
from chalicelib.adapters.dynamodb_store import DynamoCampaignStore, DynamoConversationStore, DynamoStoreBook
from chalicelib.adapters.sqs_queue import SqsQueue
from chalicelib.domain.policy import PolicySettings
from chalicelib.domain.runs import Run
from chalicelib.services.runs import plan_shard
from chalicelib.services.stores import StoreDirectory
from local.schema import create_table

CONTACTS = int(os.environ.get("BENCH_PLAN_CONTACTS", "100000"))  # smaller for a quick look
SHARDS = 16
TABLE = "bench-plan"
AT = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # 13:00 in the UK: inside the window
READS = {"GetItem", "BatchGetItem", "Query", "Scan"}
WRITES = {"PutItem", "UpdateItem", "BatchWriteItem", "TransactWriteItems", "DeleteItem"}


class RecordingSqs:
    """Answers SendMessageBatch as SQS does when all is well, and counts."""

    def __init__(self) -> None:
        self.calls = self.messages = 0

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        assert QueueUrl and 1 <= len(Entries) <= 10
        self.calls += 1
        self.messages += len(Entries)
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


def run() -> list[Figure]:
    with moto_server() as endpoint:
        dynamodb = boto3.client("dynamodb", endpoint_url=endpoint)
        create_table(dynamodb, TABLE)
        sqs = RecordingSqs()
        send_queue = SqsQueue(lambda: sqs, "https://sqs.local/000000000000/rapport-bench-send")  # type: ignore[arg-type,return-value]
        log(f"plan: writing {CONTACTS} contacts")
        load(dynamodb, TABLE, population(CONTACTS, AT))
        campaigns, runs = DynamoCampaignStore(dynamodb, TABLE), DynamoRunStore(dynamodb, TABLE)
        campaigns.save(leeds_offer(AT), None)
        runs.start_run(Run(id="bench@1", campaign_id="bench", scheduled_for=AT, started_at=AT, shards=SHARDS))
        store, clock, policy = DynamoConversationStore(dynamodb, TABLE), FixedClock(AT), PolicySettings()
        stores = StoreDirectory(DynamoStoreBook(dynamodb, TABLE), clock, "Bench", 1)
        counter = CallCounter(dynamodb)
        started = time.perf_counter()
        queued = 0
        for shard in range(SHARDS):
            log(f"plan: shard {shard + 1} of {SHARDS}")
            report = plan_shard("bench@1", shard, campaigns, runs, store, send_queue, clock, policy, stores)
            queued += report.queued
        elapsed = time.perf_counter() - started
        planned = runs.get_run("bench@1")
        dynamodb.close()
    assert planned is not None and sum(v for k, v in planned.counts.items() if "/" in k) == CONTACTS * 4 // 5
    assert sqs.messages == queued
    reads = sum(n for op, n in counter.by_operation.items() if op in READS)
    writes = sum(n for op, n in counter.by_operation.items() if op in WRITES)
    log(f"plan: {dict(counter.by_operation)}, {queued} texts queued, decisions {planned.counts}")
    return [
        ("plan.reads_per_contact", reads / CONTACTS, "calls"),
        ("plan.writes_per_contact", writes / CONTACTS, "calls"),
        ("plan.queue_calls_per_contact", sqs.calls / CONTACTS, "calls"),
        ("plan.contacts_per_s", CONTACTS / elapsed, "contacts/s"),
        ("plan.ddb_share", counter.seconds / elapsed, "of the time"),
    ]
