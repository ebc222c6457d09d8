"""Orders on the table, one small item per order beside its customer's profile
(domain/orders.py OrderState):

  pk = "C#<e164>", sk = "O#<order id>"

An event is folded into the order's item and the profile's summary in one
transaction, with its timeline entry, whose "not already there" condition
makes a redelivered event change nothing (services/orders.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.adapters.dynamodb_items import doc_item, load_doc, next_version, versioned_put
from chalicelib.adapters.table_layout import order_key
from chalicelib.domain.orders import OrderState
from chalicelib.services.ports import Write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoOrderBook:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, phone: str, order_id: str) -> OrderState | None:
        item = self._client.get_item(TableName=self._table, Key=order_key(phone, order_id), ConsistentRead=True)
        return load_doc(OrderState, item["Item"]) if "Item" in item else None

    def saved(self, phone: str, order: OrderState, expected_version: int | None) -> Write:
        """The order's state, over the version read (None: a new order)."""
        item = doc_item(order, order_key(phone, order.order_id), next_version(expected_version))
        return Write(versioned_put(self._table, item, expected_version))
