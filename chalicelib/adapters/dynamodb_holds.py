"""HoldBook on the table: what each run decided per contact, the texts it held,
and the tick's cursor over them.

  pk = "C#<e164>",           sk = "D#<run id>"   the contact's decision in that run
  pk = "H#<minute>#<shard>", sk = "<run id>#<e164>"  a held message, filed by due minute
  pk = "P#<run id>#<shard>", sk = "<e164>#<minute>"  the same, held for its run's pause: a resume
                                                 files it again for the next minute
  pk = "TICK",               sk = "CURSOR"       the last minute released
Decisions and holds expire (TTL `expires_at`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.adapters import table_layout as layout
from chalicelib.adapters.dynamodb_items import all_pages, doc_item, epoch, from_item, kept, load_doc, string
from chalicelib.adapters.table_layout import CURSOR_KEY, decision_key, hold_key
from chalicelib.adapters.unit_of_work import CONDITION_FAILED, error_code
from chalicelib.domain.retention import Retention
from chalicelib.domain.runs import HOLD_SHARDS, DecisionRecord, Hold
from chalicelib.services.ports import Write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import WriteRequestTypeDef

BATCH = 25  # BatchWriteItem's limit
HOLDS_KEPT = timedelta(days=2)  # past their minute; released long before


def decision_item(record: DecisionRecord, kept_days: int) -> dict[str, Any]:
    return kept(doc_item(record, decision_key(record.phone, record.run_id), 1), record.at, kept_days)


def parked_key(hold: Hold) -> dict[str, Any]:
    return layout.parked_key(hold.run_id, hold.shard, hold.phone, hold.minute)


def _hold_item(key: dict[str, Any], hold: Hold) -> dict[str, Any]:
    return {
        **key,
        "run_id": string(hold.run_id),
        "campaign_id": string(hold.campaign_id),
        "phone": string(hold.phone),
        "until": string(hold.until.isoformat()),
        "minute": string(hold.minute.isoformat()),
        "expires_at": epoch(hold.minute + HOLDS_KEPT),
        **({"cell": string(hold.cell)} if hold.cell is not None else {}),
    }


def _hold_from(item: dict[str, Any], minute: datetime, paused: bool = False) -> Hold:
    until = datetime.fromisoformat(item["until"])
    return Hold(item["run_id"], item["campaign_id"], item["phone"], until, minute, paused=paused, cell=item.get("cell"))


HOLDS_PAGE = 1000  # held texts released a page at a time: queued, then forgotten


class DynamoHoldBook:
    def __init__(self, client: DynamoDBClient, table_name: str, decisions_days: int = Retention.decisions) -> None:
        self._client = client
        self._table = table_name
        self._decisions_days = decisions_days  # Retention.decisions

    def decided(self, record: DecisionRecord) -> Write:
        """The decision recorded (a replay overwrites it with the same)."""
        return Write({"Put": {"TableName": self._table, "Item": decision_item(record, self._decisions_days)}})

    def record(self, records: list[DecisionRecord], holds: list[Hold]) -> None:
        writes: list[WriteRequestTypeDef] = []
        for record in records:
            writes.append({"PutRequest": {"Item": decision_item(record, self._decisions_days)}})
        for hold in holds:
            item = _hold_item(hold_key(hold.minute, hold.shard, hold.run_id, hold.phone), hold)
            writes.append({"PutRequest": {"Item": item}})
        self._batch_write(writes)

    def _batch_write(self, writes: Iterable[WriteRequestTypeDef]) -> None:
        pending = list(writes)
        while pending:
            chunk, pending = pending[:BATCH], pending[BATCH:]
            for attempt in range(8):
                response = self._client.batch_write_item(RequestItems={self._table: chunk})
                unprocessed: Any = response.get("UnprocessedItems", {})
                chunk = list(unprocessed.get(self._table, []))
                if not chunk:
                    break
                time.sleep(0.05 * 2**attempt)  # throttled: back off, as the SDK docs advise
            if chunk:
                raise RuntimeError(f"{len(chunk)} writes still unprocessed after retries")

    def decisions_for(self, phone: str, limit: int | None = 20) -> list[DecisionRecord]:
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :d)",
            "ExpressionAttributeValues": {":pk": string(layout.contact_pk(phone)), ":d": string(layout.DECISION)},
        }
        found = all_pages(self._client.query, request)
        records = [load_doc(DecisionRecord, item) for page in found for item in page]
        return sorted(records, key=lambda r: r.at, reverse=True)[:limit]

    def due(self, minute: datetime, shard: int) -> Iterator[list[Hold]]:
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": string(layout.holds_pk(minute, shard))},
            "Limit": HOLDS_PAGE,
        }
        for page in all_pages(self._client.query, request):
            yield [_hold_from(item, minute) for item in map(from_item, page)]

    def release(self, holds: list[Hold]) -> None:
        keys = (hold_key(hold.minute, hold.shard, hold.run_id, hold.phone) for hold in holds)
        self._batch_write({"DeleteRequest": {"Key": key}} for key in keys)

    def park(self, holds: list[Hold]) -> None:
        self._batch_write({"PutRequest": {"Item": _hold_item(parked_key(hold), hold)}} for hold in holds)

    def parked(self, run_id: str) -> list[Hold]:
        found: list[Hold] = []
        for shard in range(HOLD_SHARDS):
            request = {
                "TableName": self._table,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": string(layout.parked_pk(run_id, shard))},
            }
            found += [
                _hold_from(d, datetime.fromisoformat(d["minute"]), paused=True)
                for page in all_pages(self._client.query, request)
                for d in map(from_item, page)
            ]
        return found

    def unpark(self, holds: list[Hold]) -> None:
        self._batch_write({"DeleteRequest": {"Key": parked_key(hold)}} for hold in holds)

    def cursor(self) -> datetime | None:
        item = self._client.get_item(TableName=self._table, Key=CURSOR_KEY, ConsistentRead=True).get("Item")
        return datetime.fromisoformat(str(item["released_through"]["S"])) if item else None

    def advance_cursor(self, old: datetime | None, new: datetime) -> bool:
        item = {**CURSOR_KEY, "released_through": string(new.isoformat())}
        condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        if old is not None:
            condition = {
                "ConditionExpression": "released_through = :old",
                "ExpressionAttributeValues": {":old": string(old.isoformat())},
            }
        try:
            self._client.put_item(TableName=self._table, Item=item, **condition)
        except ClientError as error:
            if error_code(error) == CONDITION_FAILED:
                return False
            raise
        return True
