"""A 100,000-recipient run's report read from DynamoDB on moto server: the
counts were kept as each text went, was delivered, answered or ordered after,
so the report reads the run's own items (the run and its counter shards, then
its counts by cell: 50 stores, two variants and a control group) and never the
run's texts or ledger. Its time, against a single GetItem of one contact in the
same process, and its DynamoDB calls."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from datetime import UTC, datetime

from bench._support import CallCounter, Figure, log, moto_dynamodb
from chalicelib.adapters.dynamodb_ledger import counted_ops
from chalicelib.adapters.dynamodb_runs import DynamoRunStore
from chalicelib.adapters.table_layout import contact_key
from chalicelib.adapters.unit_of_work import write_all
from chalicelib.domain import report
from chalicelib.domain.ledger import DELIVERED, ORDERED, OUT, PLANNED, REPLIED, REVENUE, SEGMENTS, segments_in
from chalicelib.domain.runs import Run
from local.schema import create_table

TABLE = "bench-report"
RECIPIENTS = 100_000
READS = 30
AT = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
SPREAD = 100  # recipients per counter write here: the shards end as 100,000 single texts would leave them
CELLS = [f"store{n}/{variant}" for n in range(50) for variant in ("a", "b", "holdout")]


def run() -> list[Figure]:
    with moto_dynamodb() as dynamodb:
        create_table(dynamodb, TABLE)
        runs = DynamoRunStore(dynamodb, TABLE)
        run_ = Run(id="bench@20260610T120000+0000", campaign_id="bench", scheduled_for=AT, started_at=AT, shards=16)
        runs.start_run(run_)
        log(f"report: counting {RECIPIENTS} recipients")
        for block, start in enumerate(range(0, RECIPIENTS, SPREAD)):
            phone = f"+4477009{start:05d}"  # one per block: the block's counts land on its shard and cell
            counts = Counter({PLANNED: SPREAD, OUT: SPREAD, SEGMENTS: SPREAD, segments_in("GB"): SPREAD})
            counts.update({DELIVERED: SPREAD * 97 // 100, REPLIED: SPREAD // 20, ORDERED: SPREAD // 50})
            counts[REVENUE + "GBP"] = SPREAD // 50 * 2350
            write_all(dynamodb, counted_ops(TABLE, run_.id, phone, counts, CELLS[block % len(CELLS)]))
        counter = CallCounter(dynamodb)
        read_ms, baseline_ms = [], []
        for _ in range(READS):
            started = time.perf_counter()
            found = runs.get_run(run_.id)
            assert found is not None
            funnel = report.run_report(found, runs.cells(run_.id), {"GB": 0.04}, "GBP")
            read_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            dynamodb.get_item(TableName=TABLE, Key=contact_key("+447700900001"))
            baseline_ms.append((time.perf_counter() - started) * 1000)
        calls = counter.by_operation["Query"] / READS
    assert funnel["sent"] == RECIPIENTS and funnel["segments_by_country"] == {"GB": RECIPIENTS}
    assert len(funnel["by_store"]) == 50 and len(funnel["by_variant"]) == 2 and funnel["holdout"] is not None
    median = statistics.median(read_ms)
    return [
        ("report.ms_for_100k_run", median, "ms"),
        ("report.ratio_to_one_getitem", median / statistics.median(baseline_ms), "x"),
        ("report.ddb_calls", calls, "calls"),
    ]
