"""KeyStore on the conversation table: two items per key, in one small partition.

  pk = "KEYS", sk = "N#<name>"   the name's current key (or its latest, revoked)
  pk = "KEYS", sk = "K#<hash>"   the same record, found by the hash a request offers
  attributes  name, role, hash, created_at, created_by, revoked_at, revoked_by, stores (an agent's, if limited)

Both are written in one transaction. A name in use cannot be taken again; a
revoked one can (its old hash item stays, revoked). Listing is one Query of
the partition's `N#` items; a request's lookup is one GetItem.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamodb_items import all_pages
from chalicelib.adapters.table_layout import API_KEYS, KEY_NAME, key_hash_key, key_name_key
from chalicelib.adapters.unit_of_work import TRANSACTION_CANCELLED, error_code
from chalicelib.services.keys import KeyNameTakenError, KeyRecord, Role, UnknownKeyError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _attributes(record: KeyRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        "name": {"S": record.name},
        "role": {"S": record.role.value},
        "hash": {"S": record.key_hash},
        "created_at": {"S": record.created_at.isoformat()},
        "created_by": {"S": record.created_by},
    }
    if record.stores is not None:
        item["stores"] = {"L": [{"S": store_id} for store_id in record.stores]}
    if record.revoked_at is not None:
        item["revoked_at"] = {"S": record.revoked_at.isoformat()}
        item["revoked_by"] = {"S": record.revoked_by or ""}
    return item


def _record(item: dict[str, Any]) -> KeyRecord:
    revoked_at = item.get("revoked_at", {}).get("S")
    return KeyRecord(
        name=item["name"]["S"],
        role=Role(item["role"]["S"]),
        key_hash=item["hash"]["S"],
        created_at=datetime.fromisoformat(item["created_at"]["S"]),
        created_by=item["created_by"]["S"],
        revoked_at=datetime.fromisoformat(revoked_at) if revoked_at else None,
        revoked_by=item.get("revoked_by", {}).get("S"),
        stores=tuple(value["S"] for value in item["stores"]["L"]) if "stores" in item else None,
    )


class DynamoKeyStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def add(self, record: KeyRecord) -> None:
        attributes = _attributes(record)
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {**key_name_key(record.name), **attributes},
                            "ConditionExpression": "attribute_not_exists(pk) OR attribute_exists(revoked_at)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {**key_hash_key(record.key_hash), **attributes},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except ClientError as error:
            if error_code(error) == TRANSACTION_CANCELLED:
                raise KeyNameTakenError(f"a key named {record.name!r} is in use: revoke it first") from None
            raise

    def by_hash(self, key_hash: str) -> KeyRecord | None:
        item = self._client.get_item(TableName=self._table, Key=key_hash_key(key_hash)).get("Item")
        return _record(item) if item else None

    def list(self) -> list[KeyRecord]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :n)",
            "ExpressionAttributeValues": {":pk": {"S": API_KEYS}, ":n": {"S": KEY_NAME}},
        }
        return [_record(item) for page in all_pages(self._client.query, request) for item in page]

    def revoke(self, name: str, at: datetime, by: str) -> KeyRecord:
        item = self._client.get_item(TableName=self._table, Key=key_name_key(name), ConsistentRead=True).get("Item")
        current = _record(item) if item else None
        if current is None or current.revoked_at is not None:
            raise UnknownKeyError(f"no key named {name!r} is in use")
        update = {
            "TableName": self._table,
            "UpdateExpression": "SET revoked_at = :at, revoked_by = :by",
            "ConditionExpression": "attribute_not_exists(revoked_at) AND #hash = :hash",
            "ExpressionAttributeNames": {"#hash": "hash"},
            "ExpressionAttributeValues": {
                ":at": {"S": at.isoformat()},
                ":by": {"S": by},
                ":hash": {"S": current.key_hash},
            },
        }
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {"Update": {**update, "Key": key_name_key(name)}},  # type: ignore[typeddict-item]
                    {"Update": {**update, "Key": key_hash_key(current.key_hash)}},  # type: ignore[typeddict-item]
                ]
            )
        except ClientError as error:
            if error_code(error) == TRANSACTION_CANCELLED:
                raise UnknownKeyError(f"the key named {name!r} was revoked or replaced meanwhile") from None
            raise
        return replace(current, revoked_at=at, revoked_by=by)
