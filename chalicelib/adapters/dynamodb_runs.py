"""RunStore on the same DynamoDB table as contacts (schema in infra/resources.json,
keys built in table_layout.py), with the run's decisions and holds
(dynamodb_holds.py) and its ledger (dynamodb_ledger.py) as repositories beside it.

  pk = "RUNS#<campaign id>", sk = "R#<run id>"   a run: planned counts, shards done, pace
  pk = "RC#<run id>#<k>", sk = "N"                 its counts as texts settle, are delivered,
                                                 answered, clicked or ordered after: spread
                                                 over COUNTER_SHARDS partitions, so that no
                                                 partition takes every text's count and no
                                                 item is hot for the settling transactions
  pk = "RC#<run id>#<k>", sk = "C#<cell>" | "P#<plan shard>"  the same by cell (store and
                                                 variant) and planned by cell: the report's
  pk = "RUNS#<campaign id>", sk = "R#<run id>#N<k>"  counts as kept before RC# (still read)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.adapters import table_layout as layout
from chalicelib.adapters.dynamodb_holds import DynamoHoldBook
from chalicelib.adapters.dynamodb_items import all_pages, from_item, items_at, number, string, to_item
from chalicelib.adapters.dynamodb_ledger import DynamoLedger, counted_ops
from chalicelib.adapters.dynamodb_pace import DynamoPace, DynamoSenderPace
from chalicelib.adapters.table_layout import (
    COUNTER_SHARDS,
    cells_planned_key,
    counter_pk,
    run_counter_key,
    run_key,
)
from chalicelib.adapters.unit_of_work import CONDITION_FAILED, DynamoUnitOfWork, error_code, write_all
from chalicelib.domain.errors import RapportError, RunTrippedError
from chalicelib.domain.ledger import PLANNED
from chalicelib.domain.retention import DEFAULT_RETENTION, Retention
from chalicelib.domain.runs import Run, run_id
from chalicelib.services.ports import Write
from chalicelib.services.retry import retry_on_conflict

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


class _ShardCountedError(RapportError):
    """The shard's counts were added before (a redelivered plan job)."""


def _condition_failed(error: ClientError) -> bool:
    return error_code(error) == CONDITION_FAILED


LEGACY_COUNTERS = "#N"  # R#<run id>#N<k>: a run's counters before the RC# partitions
CELL_READS_AT_ONCE = 8  # a report's Queries of the counter shards in flight together
RUNS_LISTED = 20  # a campaign's newest runs listed (a daily campaign has 365 a year)
OFFSETS_APART = timedelta(days=1)  # run ids carry their schedule's UTC offset: ids sort by time within a day


def _counts_of(item: dict[str, Any]) -> dict[str, int]:
    return {name: int(value["N"]) for name, value in item.items() if name not in ("pk", "sk")}


def _runs_from(items: Iterable[dict[str, Any]]) -> list[Run]:
    """Runs with the counts of their legacy counter items added, in query order."""
    runs: dict[str, Run] = {}
    settled: dict[str, Counter[str]] = {}
    for item in items:
        sk = item["sk"]["S"]
        if LEGACY_COUNTERS in sk:
            settled.setdefault(sk.split(LEGACY_COUNTERS)[0], Counter()).update(_counts_of(item))
        else:
            runs[sk] = Run.model_validate(from_item(item))
    return [
        run.model_copy(update={"counts": dict(Counter(run.counts) + settled.get(sk, Counter()))})
        for sk, run in runs.items()
    ]


class DynamoRunStore:
    def __init__(self, client: DynamoDBClient, table_name: str, retention: Retention = DEFAULT_RETENTION) -> None:
        self._client = client
        self._table = table_name
        self._pace = DynamoPace(client, table_name, run_key, item_exists=True)
        self.senders = DynamoSenderPace(client, table_name)
        self.holds = DynamoHoldBook(client, table_name, retention.decisions)
        self.ledger = DynamoLedger(client, table_name, retention.decisions)

    def counted(self, run_id: str, phone: str, counts: Mapping[str, int], cell: str | None = None) -> list[Write]:
        """Settled counts added to the run and its cell (none for no counts)."""
        return [Write(op) for op in counted_ops(self._table, run_id, phone, counts, cell)]

    def start_run(self, run: Run) -> bool:
        item = to_item(run, run_key(run.id), 1)
        try:
            self._client.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if _condition_failed(error):
                return False
            raise
        return True

    def get_run(self, run_id: str) -> Run | None:
        key = run_key(run_id)
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :run)",
            "ExpressionAttributeValues": {":pk": key["pk"], ":run": key["sk"]},
            "ConsistentRead": True,
        }
        runs = _runs_from(item for page in all_pages(self._client.query, request) for item in page)
        return self._with_shards(runs)[0] if runs else None

    def list_runs(self, campaign_id: str, since: datetime | None = None) -> list[Run]:
        """The newest RUNS_LISTED runs, newest first; with `since`, every run scheduled since then."""
        first = "" if since is None else run_id(campaign_id, since.astimezone(UTC) - OFFSETS_APART)
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": string(layout.runs_pk(campaign_id)),
                ":first": string(f"{layout.RUN}{first}"),
                ":last": string(f"{layout.RUN}{layout.AFTER_ALL}"),
            },
            "ScanIndexForward": False,
        }
        items: list[dict[str, Any]] = []
        for page in all_pages(self._client.query, request):  # a run's legacy counters sort before it
            items += page
            if since is None and sum(LEGACY_COUNTERS not in item["sk"]["S"] for item in items) >= RUNS_LISTED:
                break
        runs = _runs_from(items)
        return self._with_shards(runs[:RUNS_LISTED] if since is None else [r for r in runs if r.scheduled_for >= since])

    def _with_shards(self, runs: list[Run]) -> list[Run]:
        """The runs with their counter shards' counts added (one BatchGetItem per 100 shards)."""
        keys = [run_counter_key(run.id, shard) for run in runs for shard in range(COUNTER_SHARDS)]
        settled: dict[str, Counter[str]] = {}
        for item in items_at(self._client, self._table, keys):
            run_id = item["pk"]["S"].removeprefix(layout.RUN_COUNTS).rsplit("#", 1)[0]
            settled.setdefault(run_id, Counter()).update(_counts_of(item))
        return [
            run.model_copy(update={"counts": dict(Counter(run.counts) + settled.get(run.id, Counter()))})
            for run in runs
        ]

    def cells(self, run_id: str) -> dict[str, dict[str, int]]:
        """The run's counts by cell, its planned texts among them (a Query per counter shard, eight at a time)."""

        def shard_items(shard: int) -> list[dict[str, Any]]:
            request = {
                "TableName": self._table,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": string(counter_pk(run_id, shard))},
            }
            return [item for page in all_pages(self._client.query, request) for item in page]

        found: dict[str, Counter[str]] = {}
        with ThreadPoolExecutor(max_workers=CELL_READS_AT_ONCE) as pool:
            shards = list(pool.map(shard_items, range(COUNTER_SHARDS)))
        for items in shards:
            for item in items:
                sk = item["sk"]["S"]
                if sk.startswith(layout.CELLS_PLANNED):
                    for cell, n in item["planned"]["M"].items():
                        found.setdefault(cell, Counter())[PLANNED] += int(n["N"])
                elif sk.startswith(layout.CELL_COUNTS):
                    found.setdefault(sk.removeprefix(layout.CELL_COUNTS), Counter()).update(_counts_of(item))
        return {cell: dict(counts) for cell, counts in found.items()}

    @staticmethod
    def _count_updates(counts: Mapping[str, int]) -> tuple[list[str], dict[str, str], dict[str, Any]]:
        clauses: list[str] = []
        names: dict[str, str] = {}
        values: dict[str, Any] = {":zero": number(0)} if counts else {}  # DynamoDB refuses unused values
        for i, (key, amount) in enumerate(sorted(counts.items())):
            names[f"#k{i}"] = key
            values[f":v{i}"] = number(amount)
            clauses.append(f"counts.#k{i} = if_not_exists(counts.#k{i}, :zero) + :v{i}")
        return clauses, names, values

    def finish_shard(
        self, run_id: str, shard: int, counts: Mapping[str, int], planned: Mapping[str, int] | None = None
    ) -> bool:
        """The shard's counts added to the run, and its texts by cell (`planned`) kept
        beside it in the same write: once, both or neither."""
        clauses, names, values = self._count_updates(counts)
        values.update({":shard": number(shard), ":shards": {"L": [number(shard)]}})
        names["#done"] = "shards_done"
        ops: list[TransactWriteItemTypeDef] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": run_key(run_id),
                    "UpdateExpression": "SET " + ", ".join([*clauses, "#done = list_append(#done, :shards)"]),
                    "ConditionExpression": "attribute_exists(pk) AND NOT contains(#done, :shard)",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            }
        ]
        if planned:
            by_cell = {"M": {cell: number(n) for cell, n in planned.items()}}
            item = {**cells_planned_key(run_id, shard), "planned": by_cell}
            ops.append({"Put": {"TableName": self._table, "Item": item}})

        def attempt() -> bool:  # a claim's check of the run item may meet it: try again, not plan again
            unit = self.unit()
            unit.add(Write(ops[0], lambda _counted: _ShardCountedError(shard)), *(Write(op) for op in ops[1:]))
            try:
                unit.commit()
            except _ShardCountedError:
                return False
            return True

        return retry_on_conflict(attempt)

    def add_counts(self, run_id: str, counts: Mapping[str, int], phone: str = "", cell: str | None = None) -> None:
        """Counts added to the run's counter shard for `phone`, then to its cell's
        (`cell` of the text to `phone`). Two writes, not a transaction (which would
        meet the settling transactions on the shard): a crash in between leaves the
        cell one short."""
        for op in counted_ops(self._table, run_id, phone, counts, cell):
            write_all(self._client, [op])

    def unit(self) -> DynamoUnitOfWork:
        return DynamoUnitOfWork(self._client)

    def tripped(self, run_id: str, reason: str) -> Write:
        """The breaker's reason set on the run; refused (RunTrippedError) when it tripped
        before or an operator resumed it since."""
        update: TransactWriteItemTypeDef = {
            "Update": {
                "TableName": self._table,
                "Key": run_key(run_id),
                "UpdateExpression": "SET breaker = :reason",
                "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(breaker) OR breaker = :null) "
                "AND (attribute_not_exists(resumed) OR resumed = :false)",
                "ExpressionAttributeValues": {
                    ":reason": string(reason),
                    ":null": {"NULL": True},
                    ":false": {"BOOL": False},
                },
            }
        }
        return Write(update, lambda _run: RunTrippedError(run_id))

    def cleared(self, run_id: str) -> Write:
        """The breaker's reason forgotten, and the run marked resumed (the breaker leaves it
        alone from then on); refused (ConcurrentUpdateError) when it was not tripped."""
        update: TransactWriteItemTypeDef = {
            "Update": {
                "TableName": self._table,
                "Key": run_key(run_id),
                "UpdateExpression": "REMOVE breaker SET resumed = :true",
                "ConditionExpression": "attribute_exists(breaker) AND breaker <> :null",
                "ExpressionAttributeValues": {":null": {"NULL": True}, ":true": {"BOOL": True}},
            }
        }
        return Write(update)

    def take_slot(self, run_id: str, interval_s: float, earliest: float) -> tuple[float, Run]:
        """The run's next slot (dynamodb_pace.py), and the run as it stands."""
        slot, item = self._pace.take(run_id, interval_s, earliest)
        return slot, Run.model_validate(from_item(item))
