"""RunStore on the same DynamoDB table as contacts (schema in infra/resources.json,
keys built in table_layout.py), with the run's decisions and holds
(dynamodb_holds.py) and its ledger (dynamodb_ledger.py) as repositories beside it.

  pk = "RUNS#<campaign id>", sk = "R#<run id>"   a run: counts, shards done, pace
  pk = "RUNS#<campaign id>", sk = "R#<run id>#N<k>"  the run's settled counts, spread over
                                                 COUNTER_SHARDS items (no hot item for the
                                                 settling transactions to conflict on)
  pk = "RUNS#<campaign id>", sk = "G#<run id>#..."  the same counts by cell (store and variant),
                                                 apart, so that reading a run never reads them
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.adapters import table_layout as layout
from chalicelib.adapters.dynamodb_holds import DynamoHoldBook
from chalicelib.adapters.dynamodb_items import all_pages, from_item, number, string, to_item
from chalicelib.adapters.dynamodb_ledger import COUNTER_MARK, DynamoLedger, added_to, counted_ops, counter_shard
from chalicelib.adapters.dynamodb_pace import DynamoPace, DynamoSenderPace
from chalicelib.adapters.table_layout import cell_counter_key, cells_planned_key, cells_prefix, run_key
from chalicelib.adapters.unit_of_work import CONDITION_FAILED, DynamoUnitOfWork, error_code, write_all
from chalicelib.domain.errors import RapportError, RunTrippedError
from chalicelib.domain.ledger import PLANNED
from chalicelib.domain.retention import DEFAULT_RETENTION, Retention
from chalicelib.domain.runs import Run
from chalicelib.services.ports import Write
from chalicelib.services.retry import retry_on_conflict

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


class _ShardCountedError(RapportError):
    """The shard's counts were added before (a redelivered plan job)."""


def _condition_failed(error: ClientError) -> bool:
    return error_code(error) == CONDITION_FAILED


def _runs_from(items: Iterable[dict[str, Any]]) -> list[Run]:
    """Runs with their settled counts added from their counter items, in query order."""
    runs: dict[str, Run] = {}
    settled: dict[str, Counter[str]] = {}
    for item in items:
        sk = item["sk"]["S"]
        if COUNTER_MARK in sk:
            counts = settled.setdefault(sk.split(COUNTER_MARK)[0], Counter())
            counts.update({k: int(v["N"]) for k, v in item.items() if k not in ("pk", "sk")})
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
        return runs[0] if runs else None

    def list_runs(self, campaign_id: str) -> list[Run]:
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :runs)",
            "ExpressionAttributeValues": {":pk": string(layout.runs_pk(campaign_id)), ":runs": string(layout.RUN)},
            "ScanIndexForward": False,
        }
        return _runs_from(item for page in all_pages(self._client.query, request) for item in page)

    def cells(self, run_id: str) -> dict[str, dict[str, int]]:
        """The run's counts by cell, its planned texts among them (one Query)."""
        key = run_key(run_id)
        prefix = cells_prefix(run_id)
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :cells)",
            "ExpressionAttributeValues": {":pk": key["pk"], ":cells": string(prefix)},
        }
        found: dict[str, Counter[str]] = {}
        for page in all_pages(self._client.query, request):
            for item in page:
                part = item["sk"]["S"].removeprefix(prefix)
                if part.startswith(layout.CELLS_PLANNED):
                    for cell, n in item["planned"]["M"].items():
                        found.setdefault(cell, Counter())[PLANNED] += int(n["N"])
                else:
                    cell = part.removeprefix(layout.CELL_COUNTS).rsplit("#", 1)[0]
                    counts = {k: int(v["N"]) for k, v in item.items() if k not in ("pk", "sk")}
                    found.setdefault(cell, Counter()).update(counts)
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
        """Counts added to the run, then to its cell (`cell` of the text to `phone`).
        Not one write: the run item is not in the settling transactions, and a
        transaction on it would conflict with every other; a crash in between leaves
        the cell one short."""
        if not counts:
            return
        clauses, names, values = self._count_updates(counts)
        try:
            self._client.update_item(
                TableName=self._table,
                Key=run_key(run_id),
                UpdateExpression="SET " + ", ".join(clauses),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if not _condition_failed(error):  # a run that has expired counts nothing
                raise
            return
        if cell is not None:
            key = cell_counter_key(run_id, cell, counter_shard(phone))
            write_all(self._client, [added_to(key, counts, self._table)])

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
