"""IdempotencyStore on the conversation table: one item per key.

  pk = "IDEM#<scope>#<key>", sk = "IDEM"
  status       in_progress | completed | released
  hash         the request's hash: the key with another request is refused
  started_at   ISO time the first request began
  lease_until  ISO time after which an in-progress record has been abandoned
  intent       JSON: what the request was about to do (to whom, which text)
  response     JSON, once completed: what every later request with the key answers
  expires_at   epoch seconds, the table's TTL (RECORD_KEPT after it began)

`begin` is one conditional PutItem: it writes over nothing, a released record or
one past `expires_at` (moto never expires TTL items, and DynamoDB only within
days: the time is checked here too). A failed condition hands back the item
that stood in the way, so reporting it costs no second read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamodb_store import CONDITION_FAILED, error_code
from chalicelib.adapters.table_layout import idempotency_key
from chalicelib.services.idempotency import (
    RECORD_KEPT,
    IdempotencyKeyMismatchError,
    InProgress,
    NotInProgressError,
    Replay,
    Started,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

IN_PROGRESS, COMPLETED, RELEASED = "in_progress", "completed", "released"


class DynamoIdempotencyStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def begin(
        self, key: str, request_hash: str, now: datetime, lease: timedelta, intent: Mapping[str, str]
    ) -> Started | Replay | InProgress:
        item = {
            **idempotency_key(key),
            "status": {"S": IN_PROGRESS},
            "hash": {"S": request_hash},
            "started_at": {"S": now.isoformat()},
            "lease_until": {"S": (now + lease).isoformat()},
            "intent": {"S": json.dumps(dict(intent), sort_keys=True)},
            "expires_at": {"N": str(int((now + RECORD_KEPT).timestamp()))},
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR #status = :released OR expires_at <= :now",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":released": {"S": RELEASED},
                    ":now": {"N": str(int(now.timestamp()))},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error_code(error) != CONDITION_FAILED:
                raise
            found: Any = error.response.get("Item") or self._client.get_item(
                TableName=self._table, Key=idempotency_key(key), ConsistentRead=True
            ).get("Item")
            if not found:  # released or expired, then gone between the put and the read: try again
                return self.begin(key, request_hash, now, lease, intent)
            return _existing(found, request_hash, key)
        return Started()

    def complete(self, key: str, response: Mapping[str, Any]) -> None:
        self._finish(
            key,
            "SET #status = :completed, #response = :response REMOVE lease_until",
            {":completed": {"S": COMPLETED}, ":response": {"S": json.dumps(dict(response), sort_keys=True)}},
        )

    def release(self, key: str) -> None:
        self._finish(key, "SET #status = :released", {":released": {"S": RELEASED}})

    def _finish(self, key: str, update: str, values: dict[str, Any]) -> None:
        """One conditional update of a record still in progress."""
        names = {"#status": "status"}
        if "#response" in update:
            names["#response"] = "response"
        try:
            self._client.update_item(
                TableName=self._table,
                Key=idempotency_key(key),
                UpdateExpression=update,
                ConditionExpression="#status = :in_progress",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={**values, ":in_progress": {"S": IN_PROGRESS}},
            )
        except ClientError as error:
            if error_code(error) == CONDITION_FAILED:
                raise NotInProgressError(key) from None
            raise


def _existing(item: dict[str, Any], request_hash: str, key: str) -> Replay | InProgress:
    if item["hash"]["S"] != request_hash:
        raise IdempotencyKeyMismatchError(key)
    if item["status"]["S"] == COMPLETED:
        return Replay(json.loads(item["response"]["S"]))
    return InProgress(
        started_at=datetime.fromisoformat(item["started_at"]["S"]),
        lease_until=datetime.fromisoformat(item["lease_until"]["S"]),
        intent=json.loads(item["intent"]["S"]),
    )
