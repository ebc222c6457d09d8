"""LinkBook on the table: one item per short link, by its token.

pk = "LINK#<token>", sk = "L"   the link (its target, recipient and run), `clicked_at`
                                once counted; TTL a year past its counting window
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.adapters.dynamodb_items import doc_item, epoch, load_doc, put_or_conflict, string, versioned_put
from chalicelib.adapters.table_layout import link_key, sortable
from chalicelib.domain.links import REDIRECTS, Link, LinkClickedError
from chalicelib.services.ports import Write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


class DynamoLinkBook:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def add(self, links: Sequence[Link]) -> None:
        for link in links:  # a text holds one or two: a put each
            item = {
                **doc_item(link, link_key(link.token), 1),
                "counted_until": string(sortable(link.counted_until)),
                "expires_at": epoch(link.counted_until + REDIRECTS),
            }
            put_or_conflict(self._client, versioned_put(self._table, item, None), f"link token {link.token}")

    def get(self, token: str) -> Link | None:
        item = self._client.get_item(TableName=self._table, Key=link_key(token)).get("Item")
        return load_doc(Link, item) if item else None

    def clicked(self, token: str, at: datetime) -> Write:
        update: TransactWriteItemTypeDef = {
            "Update": {
                "TableName": self._table,
                "Key": link_key(token),
                "UpdateExpression": "SET clicked_at = :at",
                "ConditionExpression": (
                    "attribute_exists(pk) AND attribute_not_exists(clicked_at) AND counted_until >= :at"
                ),
                "ExpressionAttributeValues": {":at": string(sortable(at))},
            }
        }
        return Write(update, lambda _item: LinkClickedError(token))
