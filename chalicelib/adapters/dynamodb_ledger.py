"""Ledger on the table: one entry per text (domain/ledger.py), claimed with a
lease just before the Twilio call and settled after it.

  pk = "C#<e164>", sk = "L#<run id>"   the entry: one text per run, or per
                                       conversation text (talk#<route>#<key>)
Entries expire (TTL `expires_at`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamodb_contacts import changed_since, unchanged_since
from chalicelib.adapters.dynamodb_holds import decision_item
from chalicelib.adapters.dynamodb_items import epoch, number, string
from chalicelib.adapters.table_layout import (
    cell_counter_key,
    contact_key,
    counter_shard,
    ledger_key,
    run_counter_key,
    run_key,
    sortable,
)
from chalicelib.adapters.unit_of_work import CONDITION_FAILED, error_code, refusals, write_all
from chalicelib.domain.contact import Contact
from chalicelib.domain.errors import LostLeaseError, MarketingTakenError
from chalicelib.domain.ledger import (
    BODY_KEPT,
    LEDGER_KEPT,
    Claim,
    ClaimStatus,
    Fate,
    LedgerEntry,
    LedgerState,
    look,
    settlement,
)
from chalicelib.domain.retention import Retention
from chalicelib.domain.runs import DecisionRecord
from chalicelib.services.ports import Write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


def counted_ops(
    table: str, run_id: str, phone: str, counts: Mapping[str, int], cell: str | None = None
) -> list[TransactWriteItemTypeDef]:
    """Settled counts added to one of the run's counter shards, and to its cell's
    item there (`cell`: the text's store and variant, domain/experiment.py): the
    shard chosen by the number, a partition of its own (table_layout.py). None for no counts."""
    if not counts:
        return []
    shard = counter_shard(phone)
    ops = [added_to(run_counter_key(run_id, shard), counts, table)]
    return ops if cell is None else [*ops, added_to(cell_counter_key(run_id, cell, shard), counts, table)]


def added_to(key: dict[str, Any], counts: Mapping[str, int], table: str) -> TransactWriteItemTypeDef:
    """`counts` added to the numbers of the item at `key` (made if missing)."""
    ordered = sorted(counts)
    return {
        "Update": {
            "TableName": table,
            "Key": key,
            "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(ordered))),
            "ExpressionAttributeNames": {f"#c{i}": name for i, name in enumerate(ordered)},
            "ExpressionAttributeValues": {f":c{i}": number(counts[name]) for i, name in enumerate(ordered)},
        }
    }


def _refused(
    phone: str,
    failed: dict[int, dict[str, Any]],
    now: datetime,
    take_over: str | None,
    seen: Contact | None,
    run_check_at: int | None,
) -> Claim:
    """What a refused claim found, by which of its items refused it: the entry
    (0: its state), the run's breaker, the contact changed; else the marketing
    slot was taken (MarketingTakenError)."""
    if 0 in failed:
        found = look(_entry(failed[0]) if failed[0] else None, now, take_over)
        return found if found.status != ClaimStatus.TAKEN else Claim(ClaimStatus.BUSY)
    if run_check_at is not None and run_check_at in failed:
        return Claim(ClaimStatus.PAUSED)
    if seen is not None and changed_since(failed.get(1, {}), seen):
        return Claim(ClaimStatus.CHANGED)
    raise MarketingTakenError(phone)


class DynamoLedger:
    def __init__(self, client: DynamoDBClient, table_name: str, decisions_days: int = Retention.decisions) -> None:
        self._client = client
        self._table = table_name
        self._decisions_days = decisions_days  # Retention.decisions: the decision a settle records

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
        unpaused: bool = False,
    ) -> Claim:
        """One write when nothing else is checked; otherwise one transaction with
        the contact item (`seen` unchanged, the marketing slot free). A refused
        claim reads the entry back from the failed condition, not a second read."""
        token = uuid.uuid4().hex
        condition = "attribute_not_exists(pk) OR #state = :released"
        values: dict[str, Any] = {
            ":sending": string(LedgerState.SENDING),
            ":at": string(now.isoformat()),
            ":lease": string(lease_until.isoformat()),
            ":token": string(token),
            ":expires": epoch(lease_until + LEDGER_KEPT),
            ":body": string(body[:BODY_KEPT]),
            ":request": string(request),
        }
        if take_over is None:
            values[":released"] = string(LedgerState.RELEASED)
        else:
            condition = "#state = :sending AND attempt = :seen"
            values[":seen"] = string(take_over)
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
        contact_check = self._contact_check(phone, now, marketing_since, seen)
        items = [ledger, *([contact_check] if contact_check else []), *([self._unpaused(run_id)] if unpaused else [])]
        try:
            write_all(self._client, items)
        except ClientError as error:
            failed = refusals(error, len(items))
            if failed is None:
                raise
            return _refused(phone, failed, now, take_over, seen, run_check_at=len(items) - 1 if unpaused else None)
        return Claim(ClaimStatus.TAKEN, attempt=token)

    def _unpaused(self, run_id: str) -> TransactWriteItemTypeDef:
        """The claim's part on the run item: its breaker has not tripped."""
        return {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": run_key(run_id),
                "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(breaker) OR breaker = :null)",
                "ExpressionAttributeValues": {":null": {"NULL": True}},
            }
        }

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
        values.update({":at": string(sortable(now)), ":since": string(sortable(marketing_since))})
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
        outcome: Fate,
        record: DecisionRecord | None = None,
        detail: str = "",
        sid: str = "",
    ) -> bool:
        result = settlement(outcome, run_id)
        names = {"#state": "state"}
        values: dict[str, Any] = {":state": string(result.state), ":detail": string(detail), ":sid": string(sid)}
        if attempt is None:
            condition = "attribute_not_exists(pk) OR #state = :released"
            values[":released"] = string(LedgerState.RELEASED)
        else:
            condition = "attempt = :token AND #state = :sending"
            values.update({":token": string(attempt), ":sending": string(LedgerState.SENDING)})
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
        items += counted_ops(self._table, run_id, phone, result.counts, record.cell if record else None)
        if record is not None:
            decided = record.model_copy(update={"outcome": result.decision_outcome})
            items.append({"Put": {"TableName": self._table, "Item": decision_item(decided, self._decisions_days)}})
        try:
            write_all(self._client, items)
        except ClientError as error:
            if refusals(error, len(items)) is None:
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
                ExpressionAttributeValues={":at": string(sortable(reserved_at))},
            )
        except ClientError as error:
            if not error_code(error) == CONDITION_FAILED:  # someone else's reservation since: theirs stands
                raise

    def sent(self, run_id: str, phone: str, attempt: str, sid: str) -> Write:
        """The entry settled sent with Twilio's `sid`, if this sender still holds
        `attempt` (refused: LostLeaseError, another sender took the text over)."""
        update: TransactWriteItemTypeDef = {
            "Update": {
                "TableName": self._table,
                "Key": ledger_key(phone, run_id),
                "UpdateExpression": "SET #state = :sent, detail = :detail, sid = :sid REMOVE lease_until",
                "ConditionExpression": "attempt = :token AND #state = :sending",
                "ExpressionAttributeNames": {"#state": "state"},
                "ExpressionAttributeValues": {
                    ":sent": string(LedgerState.SENT),
                    ":detail": string("sent"),
                    ":sid": string(sid),
                    ":token": string(attempt),
                    ":sending": string(LedgerState.SENDING),
                },
            }
        }
        return Write(update, lambda _entry: LostLeaseError(run_id))


def _entry(item: Mapping[str, Any]) -> LedgerEntry:
    def text(name: str) -> str:
        return str(item[name]["S"]) if name in item else ""

    def time(name: str) -> datetime | None:
        return datetime.fromisoformat(item[name]["S"]) if name in item else None

    return LedgerEntry(
        LedgerState(item["state"]["S"]), text("attempt"), time("sending_at"), time("lease_until"),
        text("body"), text("sid"), text("request_hash"), text("detail"),
    )  # fmt: skip
