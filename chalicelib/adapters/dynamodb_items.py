"""How models become items and back, and the few write shapes every adapter uses.

Messages, campaigns and decisions are documents: the model as one JSON string
in `doc`, beside the key, `version` and what indexes, conditions and TTL need.
Reading one is a single pydantic parse instead of a walk over dozens of typed
attributes. Items updated in place (contacts, runs, ledger) stay typed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from pydantic import BaseModel

from chalicelib.adapters.table_layout import message_key, sortable
from chalicelib.adapters.unit_of_work import CONDITION_FAILED, TRANSACTION_CANCELLED, error_code
from chalicelib.domain.errors import ConcurrentUpdateError
from chalicelib.domain.messages import Message
from chalicelib.domain.retention import Retention

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

DOC = "doc"
THREAD_INDEX = "by_time"  # a contact's messages by `ts`
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
DocumentT = TypeVar("DocumentT", bound=BaseModel)


def to_item(model: BaseModel, key: dict[str, Any], version: int, **extra: str) -> dict[str, Any]:
    # through JSON: datetimes become ISO strings, and floats Decimals as DynamoDB needs
    data = json.loads(model.model_dump_json(exclude={"version"}), parse_float=Decimal)
    item = {name: _serializer.serialize(value) for name, value in data.items()}
    item.update(key)
    item["version"] = {"N": str(version)}
    item.update({name: {"S": value} for name, value in extra.items()})
    return item


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def doc_item(model: BaseModel, key: dict[str, Any], version: int, **extra: str) -> dict[str, Any]:
    item = {**key, DOC: {"S": model.model_dump_json(exclude={"version"})}, "version": {"N": str(version)}}
    item.update({name: {"S": value} for name, value in extra.items()})
    return item


def load_doc(model: type[DocumentT], item: dict[str, Any]) -> DocumentT:
    loaded = model.model_validate_json(item[DOC]["S"])
    if "version" in model.model_fields:
        loaded = loaded.model_copy(update={"version": int(item["version"]["N"])})
    return loaded


def message_item(message: Message, version: int, kept_days: int = 0) -> dict[str, Any]:
    ts = sortable(message.at)
    item = doc_item(message, message_key(message.phone, message.sid), version, ts=f"{ts}#{message.sid}")
    return kept(item, message.at, kept_days)


def kept(item: dict[str, Any], made: datetime, days: int) -> dict[str, Any]:
    """The item with its TTL (`expires_at`) `days` after it was made; 0 days: none."""
    until = Retention.until(made, days)
    return {**item, "expires_at": epoch(until)} if until else item


def versioned_put(table: str, item: dict[str, Any], expected_version: int | None) -> TransactWriteItemTypeDef:
    if expected_version is None:
        return {"Put": {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
    return {
        "Put": {
            "TableName": table,
            "Item": item,
            "ConditionExpression": "version = :expected",
            "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
        }
    }


def next_version(expected: int | None) -> int:
    return 1 if expected is None else expected + 1


def put_or_conflict(client: DynamoDBClient, put: TransactWriteItemTypeDef, what: str) -> None:
    """One conditional put; a failed condition is someone else's newer write."""
    try:
        client.put_item(**put["Put"])
    except ClientError as error:
        raise as_conflict(error, what) from error


def all_pages(read: Callable[..., Any], request: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
    """Every page of a Query or Scan (raw items), following LastEvaluatedKey."""
    while True:
        page = read(**request)
        yield page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        request = {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]}


BATCH_GET = 100  # BatchGetItem's most keys a call


def items_at(client: DynamoDBClient, table: str, keys: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items of these keys that exist, read consistently (BatchGetItem, 100 keys a
    call, asking again for any the table left unprocessed); in no particular order."""
    found: list[dict[str, Any]] = []
    unique = list({(k["pk"]["S"], k["sk"]["S"]): k for k in keys}.values())
    for start in range(0, len(unique), BATCH_GET):
        pending: list[Any] = unique[start : start + BATCH_GET]
        while pending:
            response = client.batch_get_item(RequestItems={table: {"Keys": pending, "ConsistentRead": True}})
            found += response.get("Responses", {}).get(table, [])
            unprocessed: Any = response.get("UnprocessedKeys", {})
            pending = list(unprocessed.get(table, {}).get("Keys", []))
    return found


def _cancellation_reasons(error: ClientError) -> list[dict[str, Any]]:
    reasons: list[Any] = list(error.response.get("CancellationReasons", []))
    if error_code(error) != TRANSACTION_CANCELLED or not reasons:
        raise error
    return reasons


def as_conflict(error: ClientError, what: str) -> Exception:
    code = error_code(error)
    if code == CONDITION_FAILED:
        return ConcurrentUpdateError(what)
    if code == TRANSACTION_CANCELLED:
        codes = {reason.get("Code") for reason in _cancellation_reasons(error)}
        if codes & {"ConditionalCheckFailed", "TransactionConflict"}:
            return ConcurrentUpdateError(what)
    return error


def string(value: str) -> dict[str, str]:
    return {"S": value}


def number(value: float) -> dict[str, str]:
    return {"N": repr(value) if isinstance(value, float) else str(value)}


def epoch(at: datetime) -> dict[str, str]:
    return number(int(at.timestamp()))
