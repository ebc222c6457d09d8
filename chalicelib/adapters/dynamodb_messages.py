"""MessageLog on the table: a contact's messages, under its partition.

pk = "C#<e164>", sk = "M#<sid>"   a message, keyed by sid so a retried webhook
                                  collides instead of duplicating; `ts` orders
                                  the thread (the `by_time` local index)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamodb_contacts import load_contact
from chalicelib.adapters.dynamodb_items import (
    THREAD_INDEX,
    items_at,
    load_doc,
    message_item,
    next_version,
    versioned_put,
)
from chalicelib.adapters.table_layout import PROFILE, contact_key, contact_pk, message_key
from chalicelib.adapters.unit_of_work import CONDITION_FAILED, error_code
from chalicelib.domain.contact import Contact
from chalicelib.domain.messages import Message
from chalicelib.services.ports import Write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoMessageLog:
    def __init__(self, client: DynamoDBClient, table_name: str, kept_days: int = 0) -> None:
        self._client = client
        self._table = table_name
        self._kept_days = kept_days  # Retention.messages

    def put(self, message: Message) -> Message | None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=message_item(message, 1, self._kept_days),
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error_code(error) != CONDITION_FAILED:
                raise
            stored: Any = error.response.get("Item") or self._client.get_item(
                TableName=self._table, Key=message_key(message.phone, message.sid), ConsistentRead=True
            ).get("Item")
            return load_doc(Message, stored)
        return None

    def get(self, phone: str, sid: str) -> Message | None:
        item = self._client.get_item(TableName=self._table, Key=message_key(phone, sid)).get("Item")
        return load_doc(Message, item) if item else None

    def with_contact(self, phone: str, sid: str) -> tuple[Message | None, Contact | None]:
        found = items_at(self._client, self._table, [message_key(phone, sid), contact_key(phone)])
        message: Message | None = None
        contact: Contact | None = None
        for item in found:
            if item["sk"]["S"] == PROFILE:
                contact = load_contact(item)
            else:
                message = load_doc(Message, item)
        return message, contact

    def thread(self, phone: str, limit: int = 50) -> list[Message]:
        response = self._client.query(
            TableName=self._table,
            IndexName=THREAD_INDEX,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": contact_pk(phone)}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [load_doc(Message, item) for item in response.get("Items", [])]

    def saved(self, message: Message, expected_version: int | None) -> Write:
        """The message written over `expected_version` (None: it must not exist yet)."""
        item = message_item(message, next_version(expected_version), self._kept_days)
        return Write(versioned_put(self._table, item, expected_version))
