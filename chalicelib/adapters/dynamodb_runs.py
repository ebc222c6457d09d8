"""RunStore on the same DynamoDB table as contacts (schema in infra/resources.json,
keys built in table_layout.py).

  pk = "RUNS#<campaign id>", sk = "R#<run id>"   a run: counts, shards done, pace
  pk = "RUNS#<campaign id>", sk = "R#<run id>#N<k>"  the run's settled counts, spread over
                                                 COUNTER_SHARDS items (no hot item for the
                                                 settling transactions to conflict on)
  pk = "C#<e164>",           sk = "D#<run id>"   the contact's decision in that run
  pk = "C#<e164>",           sk = "L#<run id>"   the ledger entry (domain/ledger.py): one text per run
  pk = "H#<minute>#<shard>", sk = "<run id>#<e164>"  a held message, filed by due minute
  pk = "P#<run id>#<shard>", sk = "<e164>#<minute>"  the same, held for its run's pause: a resume
                                                 files it again for the next minute
  pk = "TICK",               sk = "CURSOR"       the last minute released
Decisions, ledger entries and holds expire (TTL `expires_at`).
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zlib import crc32

from botocore.exceptions import ClientError

from chalicelib.adapters import table_layout as layout
from chalicelib.adapters.dynamodb_contacts import changed_since, contact_update, unchanged_since
from chalicelib.adapters.dynamodb_store import (
    all_pages,
    as_conflict,
    doc_item,
    from_item,
    load_doc,
    message_item,
    next_version,
    to_item,
    versioned_put,
)
from chalicelib.adapters.table_layout import (
    CURSOR_KEY,
    contact_key,
    decision_key,
    hold_key,
    ledger_key,
    run_key,
    sortable,
)
from chalicelib.domain.contact import Contact
from chalicelib.domain.errors import ConcurrentUpdateError, LostLeaseError, MarketingTakenError
from chalicelib.domain.ledger import (
    BODY_KEPT,
    LEDGER_KEPT,
    Claim,
    ClaimStatus,
    LedgerEntry,
    LedgerState,
    Outcome,
    look,
    settlement,
)
from chalicelib.domain.messages import Message
from chalicelib.domain.runs import HOLD_SHARDS, DecisionRecord, Hold, Run

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef, WriteRequestTypeDef

BATCH = 25  # BatchWriteItem's limit
DECISIONS_KEPT = timedelta(days=90)
HOLDS_KEPT = timedelta(days=2)  # past their minute; released long before
COUNTER_SHARDS = 8
SLOT_TRIES = 8  # conditional updates of the pace before giving up (each failure says which one holds)
CATCH_UP_S = 1.0  # a pace this far behind `earliest`, as last seen, is tried as fallen behind first
COUNTER_MARK = "#N"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: float) -> dict[str, str]:
    return {"N": repr(value) if isinstance(value, float) else str(value)}


def _epoch(at: datetime) -> dict[str, str]:
    return _n(int(at.timestamp()))


def parked_key(hold: Hold) -> dict[str, Any]:
    return layout.parked_key(hold.run_id, hold.shard, hold.phone, hold.minute)


def _hold_item(key: dict[str, Any], hold: Hold) -> dict[str, Any]:
    return {
        **key,
        "run_id": _s(hold.run_id),
        "campaign_id": _s(hold.campaign_id),
        "phone": _s(hold.phone),
        "until": _s(hold.until.isoformat()),
        "minute": _s(hold.minute.isoformat()),
        "expires_at": _epoch(hold.minute + HOLDS_KEPT),
    }


def _hold_from(item: dict[str, Any], minute: datetime, paused: bool = False) -> Hold:
    until = datetime.fromisoformat(item["until"])
    return Hold(item["run_id"], item["campaign_id"], item["phone"], until, minute, paused=paused)


def _condition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _failed_conditions(error: ClientError, count: int) -> dict[int, dict[str, Any]] | None:
    """Which writes' conditions failed (index -> the item as it was), or None when
    the error is something else (and must be raised)."""
    code = error.response.get("Error", {}).get("Code")
    if code == "ConditionalCheckFailedException" and count == 1:
        old: Any = error.response.get("Item", {})
        return {0: dict(old)}
    if code != "TransactionCanceledException":
        return None
    reasons: list[Any] = list(error.response.get("CancellationReasons", []))
    failed = {i: dict(r.get("Item", {})) for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"}
    return failed or None


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
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name
        self._next_slot: dict[str, float] = {}  # the pace item as this container last saw it

    # --- runs -------------------------------------------------------------

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
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": _s(layout.runs_pk(campaign_id))},
            "ScanIndexForward": False,
        }
        return _runs_from(item for page in all_pages(self._client.query, request) for item in page)

    @staticmethod
    def _count_updates(counts: Mapping[str, int]) -> tuple[list[str], dict[str, str], dict[str, Any]]:
        clauses: list[str] = []
        names: dict[str, str] = {}
        values: dict[str, Any] = {":zero": _n(0)} if counts else {}  # DynamoDB refuses unused values
        for i, (key, amount) in enumerate(sorted(counts.items())):
            names[f"#k{i}"] = key
            values[f":v{i}"] = _n(amount)
            clauses.append(f"counts.#k{i} = if_not_exists(counts.#k{i}, :zero) + :v{i}")
        return clauses, names, values

    def finish_shard(self, run_id: str, shard: int, counts: Mapping[str, int]) -> bool:
        clauses, names, values = self._count_updates(counts)
        values.update({":shard": _n(shard), ":shards": {"L": [_n(shard)]}})
        names["#done"] = "shards_done"
        try:
            self._client.update_item(
                TableName=self._table,
                Key=run_key(run_id),
                UpdateExpression="SET " + ", ".join([*clauses, "#done = list_append(#done, :shards)"]),
                ConditionExpression="attribute_exists(pk) AND NOT contains(#done, :shard)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if _condition_failed(error):
                return False
            raise
        return True

    def add_counts(self, run_id: str, counts: Mapping[str, int]) -> None:
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

    def trip_breaker(self, run_id: str, reason: str) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=run_key(run_id),
                UpdateExpression="SET breaker = :reason",
                ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(breaker) OR breaker = :null) "
                "AND (attribute_not_exists(resumed) OR resumed = :false)",
                ExpressionAttributeValues={":reason": _s(reason), ":null": {"NULL": True}, ":false": {"BOOL": False}},
            )
        except ClientError as error:
            if _condition_failed(error):
                return False
            raise
        return True

    def clear_breaker(self, run_id: str) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=run_key(run_id),
                UpdateExpression="REMOVE breaker SET resumed = :true",
                ConditionExpression="attribute_exists(breaker) AND breaker <> :null",
                ExpressionAttributeValues={":null": {"NULL": True}, ":true": {"BOOL": True}},
            )
        except ClientError as error:
            if _condition_failed(error):
                return False
            raise
        return True

    def take_slot(self, run_id: str, interval_s: float, earliest: float) -> tuple[float, Run]:
        """One conditional update, rarely two: while texts queue up (the pace is
        ahead of `earliest`) the next slot is the pace's, moved on by `interval_s`;
        once the pace has fallen behind, `earliest` itself. Paced senders keep the
        pace ahead, so that is tried first, unless this container last saw it
        well behind (an idle run)."""
        seen = self._next_slot.get(run_id)
        catch_up = seen is not None and seen < earliest - CATCH_UP_S  # clearly idle since: catch up first
        for _ in range(SLOT_TRIES):
            if catch_up:
                expression, condition = (
                    "SET next_slot = :next",
                    "attribute_not_exists(next_slot) OR next_slot < :earliest",
                )
                values = {":next": _n(earliest + interval_s), ":earliest": _n(earliest)}
            else:
                expression = "SET next_slot = next_slot + :interval"
                condition = "next_slot >= :earliest"
                values = {":interval": _n(interval_s), ":earliest": _n(earliest)}
            try:
                response = self._client.update_item(
                    TableName=self._table,
                    Key=run_key(run_id),
                    UpdateExpression=expression,
                    ConditionExpression=f"attribute_exists(pk) AND ({condition})",
                    ExpressionAttributeValues=values,
                    ReturnValues="ALL_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            except ClientError as error:
                if not _condition_failed(error):
                    raise
                old: Any = error.response.get("Item")
                if not old:
                    raise LookupError(f"no run {run_id!r}") from None
                # the pace as the failed try found it says which one holds (unless another sender moves it again)
                catch_up = "next_slot" not in old or float(old["next_slot"]["N"]) < earliest
                continue
            run = Run.model_validate(from_item(response["Attributes"]))
            following = float(response["Attributes"]["next_slot"]["N"])
            self._next_slot[run_id] = following
            return following - interval_s, run
        raise ConcurrentUpdateError(f"the pace of {run_id} moved under {SLOT_TRIES} tries")

    # --- decisions and holds ------------------------------------------------

    def record_decisions(self, records: list[DecisionRecord], holds: list[Hold]) -> None:
        writes: list[WriteRequestTypeDef] = []
        for record in records:
            item = doc_item(record, decision_key(record.phone, record.run_id), 1)
            item["expires_at"] = _epoch(record.at + DECISIONS_KEPT)
            writes.append({"PutRequest": {"Item": item}})
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

    def decisions_for(self, phone: str, limit: int = 20) -> list[DecisionRecord]:
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :d)",
            "ExpressionAttributeValues": {":pk": _s(layout.contact_pk(phone)), ":d": _s(layout.DECISION)},
        }
        found = all_pages(self._client.query, request)
        records = [load_doc(DecisionRecord, item) for page in found for item in page]
        return sorted(records, key=lambda r: r.at, reverse=True)[:limit]

    def due_holds(self, minute: datetime, shard: int) -> list[Hold]:
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": _s(layout.holds_pk(minute, shard))},
        }
        return [_hold_from(d, minute) for page in all_pages(self._client.query, request) for d in map(from_item, page)]

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
                "ExpressionAttributeValues": {":pk": _s(layout.parked_pk(run_id, shard))},
            }
            found += [
                _hold_from(d, datetime.fromisoformat(d["minute"]), paused=True)
                for page in all_pages(self._client.query, request)
                for d in map(from_item, page)
            ]
        return found

    def unpark(self, holds: list[Hold]) -> None:
        self._batch_write({"DeleteRequest": {"Key": parked_key(hold)}} for hold in holds)

    # --- the ledger ------------------------------------------------------------

    def claim(
        self,
        run_id: str,
        phone: str,
        now: datetime,
        lease_until: datetime,
        marketing_since: datetime | None = None,
        take_over: str | None = None,
        seen: Contact | None = None,
        body: str = "",
        request: str = "",
    ) -> Claim:
        """One write when nothing else is checked; otherwise one transaction with
        the contact item (`seen` unchanged, the marketing slot free). A refused
        claim reads the entry back from the failed condition, not a second read."""
        token = uuid.uuid4().hex
        condition = "attribute_not_exists(pk) OR #state = :released"
        values: dict[str, Any] = {
            ":sending": _s(LedgerState.SENDING),
            ":at": _s(now.isoformat()),
            ":lease": _s(lease_until.isoformat()),
            ":token": _s(token),
            ":expires": _epoch(lease_until + LEDGER_KEPT),
            ":body": _s(body[:BODY_KEPT]),
            ":request": _s(request),
        }
        if take_over is None:
            values[":released"] = _s(LedgerState.RELEASED)
        else:
            condition = "#state = :sending AND attempt = :seen"
            values[":seen"] = _s(take_over)
        ledger: TransactWriteItemTypeDef = {
            "Update": {
                "TableName": self._table,
                "Key": ledger_key(phone, run_id),
                "UpdateExpression": "SET #state = :sending, attempt = :token, sending_at = :at, "
                "lease_until = :lease, expires_at = :expires, body = :body, request_hash = :request",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#state": "state"},
                "ExpressionAttributeValues": values,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        items = [ledger]
        if contact_check := self._contact_check(phone, now, marketing_since, seen):
            items.append(contact_check)
        try:
            self._write(items)
        except ClientError as error:
            failed = _failed_conditions(error, len(items))
            if failed is None:
                raise
            if 0 in failed:
                seen_entry = look(_entry(failed[0]) if failed[0] else None, now, take_over)
                return seen_entry if seen_entry.status != ClaimStatus.TAKEN else Claim(ClaimStatus.BUSY)
            if seen is not None and changed_since(failed.get(1, {}), seen):
                return Claim(ClaimStatus.CHANGED)
            raise MarketingTakenError(phone) from None
        return Claim(ClaimStatus.TAKEN, attempt=token)

    def entry(self, run_id: str, phone: str) -> LedgerEntry | None:
        item = self._client.get_item(TableName=self._table, Key=ledger_key(phone, run_id), ConsistentRead=True)
        return _entry(item["Item"]) if "Item" in item else None

    def _contact_check(
        self, phone: str, now: datetime, marketing_since: datetime | None, seen: Contact | None
    ) -> TransactWriteItemTypeDef | None:
        """The claim's part on the contact item: unchanged since `seen` was read,
        and (marketing) the slot reserved, one marketing text per window even
        with two runs at once."""
        conditions: list[str] = []
        values: dict[str, Any] = {}
        if seen is not None:
            unchanged, values = unchanged_since(seen)
            conditions.append(unchanged)
        if marketing_since is None:
            if not conditions:
                return None
            return {
                "ConditionCheck": {
                    "TableName": self._table,
                    "Key": contact_key(phone),
                    "ConditionExpression": conditions[0],
                    "ExpressionAttributeValues": values,
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        conditions.append("attribute_exists(pk) AND (attribute_not_exists(marketing_at) OR marketing_at < :since)")
        values.update({":at": _s(sortable(now)), ":since": _s(sortable(marketing_since))})
        return {
            "Update": {
                "TableName": self._table,
                "Key": contact_key(phone),
                "UpdateExpression": "SET marketing_at = :at",
                "ConditionExpression": " AND ".join(conditions),
                "ExpressionAttributeValues": values,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def settle(
        self,
        run_id: str,
        phone: str,
        attempt: str | None,
        outcome: Outcome,
        record: DecisionRecord | None = None,
        detail: str = "",
        sid: str = "",
    ) -> bool:
        result = settlement(outcome, run_id)
        names = {"#state": "state"}
        values: dict[str, Any] = {":state": _s(result.state), ":detail": _s(detail), ":sid": _s(sid)}
        if attempt is None:
            condition = "attribute_not_exists(pk) OR #state = :released"
            values[":released"] = _s(LedgerState.RELEASED)
        else:
            condition = "attempt = :token AND #state = :sending"
            values.update({":token": _s(attempt), ":sending": _s(LedgerState.SENDING)})
        items: list[TransactWriteItemTypeDef] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": ledger_key(phone, run_id),
                    "UpdateExpression": "SET #state = :state, detail = :detail, sid = :sid REMOVE lease_until",
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            }
        ]
        items += self._settled_counts(run_id, phone, result.counts)
        if record is not None:
            items.append(self._decision_put(record.model_copy(update={"outcome": result.decision_outcome})))
        try:
            self._write(items)
        except ClientError as error:
            if _failed_conditions(error, len(items)) is None:
                raise
            return False
        return True

    def release_marketing(self, phone: str, reserved_at: datetime) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=contact_key(phone),
                UpdateExpression="REMOVE marketing_at",
                ConditionExpression="marketing_at = :at",
                ExpressionAttributeValues={":at": _s(sortable(reserved_at))},
            )
        except ClientError as error:
            if not _condition_failed(error):  # someone else's reservation since: theirs stands
                raise

    def record_sent(
        self,
        contact: Contact,
        expected_contact_version: int,
        message: Message,
        expected_message_version: int | None,
        decision: DecisionRecord,
        attempt: str,
    ) -> None:
        items: list[TransactWriteItemTypeDef] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": ledger_key(contact.phone, decision.run_id),
                    "UpdateExpression": "SET #state = :sent, sid = :sid REMOVE lease_until",
                    "ConditionExpression": "attempt = :token AND #state = :sending",
                    "ExpressionAttributeNames": {"#state": "state"},
                    "ExpressionAttributeValues": {
                        ":sent": _s(LedgerState.SENT),
                        ":sid": _s(message.sid),
                        ":token": _s(attempt),
                        ":sending": _s(LedgerState.SENDING),
                    },
                }
            },
            versioned_put(
                self._table, message_item(message, next_version(expected_message_version)), expected_message_version
            ),
            contact_update(self._table, contact, expected_contact_version),
            self._decision_put(decision),
            *self._settled_counts(decision.run_id, contact.phone, settlement(Outcome.SENT).counts),
        ]
        try:
            self._write(items)
        except ClientError as error:
            failed = _failed_conditions(error, len(items))
            if failed is not None and 0 in failed:
                raise LostLeaseError(f"{decision.run_id} {contact.phone}") from None
            raise as_conflict(error, message.sid) from error

    def _write(self, items: list[TransactWriteItemTypeDef]) -> None:
        """One item: a plain write (cheaper, and its condition failure carries the old item)."""
        if len(items) > 1:
            self._client.transact_write_items(TransactItems=items)
            return
        op = items[0]
        if "Update" in op:
            self._client.update_item(**op["Update"])
        else:
            self._client.put_item(**op["Put"])

    def _decision_put(self, record: DecisionRecord) -> TransactWriteItemTypeDef:
        item = doc_item(record, decision_key(record.phone, record.run_id), 1)
        item["expires_at"] = _epoch(record.at + DECISIONS_KEPT)
        return {"Put": {"TableName": self._table, "Item": item}}

    def _settled_counts(self, run_id: str, phone: str, counts: Mapping[str, int]) -> list[TransactWriteItemTypeDef]:
        if not counts:
            return []
        key = run_key(run_id)
        shard = crc32(phone.encode()) % COUNTER_SHARDS
        ordered = sorted(counts)
        names = {f"#c{i}": name for i, name in enumerate(ordered)}
        values = {f":c{i}": _n(counts[name]) for i, name in enumerate(ordered)}
        return [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": {"pk": key["pk"], "sk": _s(f"{key['sk']['S']}{COUNTER_MARK}{shard}")},
                    "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(ordered))),
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            }
        ]

    # --- the tick's cursor -------------------------------------------------------

    def tick_cursor(self) -> datetime | None:
        item = self._client.get_item(TableName=self._table, Key=CURSOR_KEY, ConsistentRead=True).get("Item")
        return datetime.fromisoformat(str(item["released_through"]["S"])) if item else None

    def advance_cursor(self, old: datetime | None, new: datetime) -> bool:
        item = {**CURSOR_KEY, "released_through": _s(new.isoformat())}
        condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        if old is not None:
            condition = {
                "ConditionExpression": "released_through = :old",
                "ExpressionAttributeValues": {":old": _s(old.isoformat())},
            }
        try:
            self._client.put_item(TableName=self._table, Item=item, **condition)
        except ClientError as error:
            if _condition_failed(error):
                return False
            raise
        return True


def _entry(item: Mapping[str, Any]) -> LedgerEntry:
    def text(name: str) -> str:
        return str(item[name]["S"]) if name in item else ""

    def time(name: str) -> datetime | None:
        return datetime.fromisoformat(item[name]["S"]) if name in item else None

    return LedgerEntry(
        LedgerState(item["state"]["S"]), text("attempt"), time("sending_at"), time("lease_until"),
        text("body"), text("sid"), text("request_hash"), text("detail"),
    )  # fmt: skip
