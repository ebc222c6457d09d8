"""local/aws_emulator.py: a refused TransactWriteItems leaves every item as it was.

The emulator backs up only the items a transaction touches (moto copies the
whole table); these check that the narrower backup still gives all-or-nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


def _item(dynamodb: DynamoDBClient, table: str, pk: str, sk: str) -> dict[str, Any] | None:
    return dynamodb.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")


def _put(table: str, pk: str, sk: str, **extra: Any) -> TransactWriteItemTypeDef:
    return {"Put": {"TableName": table, "Item": {"pk": {"S": pk}, "sk": {"S": sk}, **extra}}}


def test_a_refused_transaction_puts_back_every_item_it_touched(dynamodb: DynamoDBClient, table: str) -> None:
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "A"}, "sk": {"S": "1"}, "n": {"N": "1"}})
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "B"}, "sk": {"S": "1"}, "n": {"N": "5"}})
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "other"}, "sk": {"S": "1"}, "n": {"N": "9"}})
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": "A"}, "sk": {"S": "1"}},
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                _put(table, "new", "1", n={"N": "7"}),
                {"Delete": {"TableName": table, "Key": {"pk": {"S": "other"}, "sk": {"S": "1"}}}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": "B"}, "sk": {"S": "1"}},
                        "ConditionExpression": "n = :six",
                        "ExpressionAttributeValues": {":six": {"N": "6"}},
                    }
                },
            ]
        )
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _item(dynamodb, table, "A", "1") == {"pk": {"S": "A"}, "sk": {"S": "1"}, "n": {"N": "1"}}
    assert _item(dynamodb, table, "new", "1") is None
    assert _item(dynamodb, table, "other", "1") == {"pk": {"S": "other"}, "sk": {"S": "1"}, "n": {"N": "9"}}
    assert _item(dynamodb, table, "B", "1") == {"pk": {"S": "B"}, "sk": {"S": "1"}, "n": {"N": "5"}}


def test_an_accepted_transaction_writes_every_item_and_keeps_the_rest(dynamodb: DynamoDBClient, table: str) -> None:
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "keep"}, "sk": {"S": "1"}})
    dynamodb.transact_write_items(TransactItems=[_put(table, "X", "1"), _put(table, "Y", "1")])
    assert _item(dynamodb, table, "X", "1") is not None
    assert _item(dynamodb, table, "Y", "1") is not None
    assert _item(dynamodb, table, "keep", "1") is not None


def test_a_transaction_naming_one_item_twice_is_refused_whole(dynamodb: DynamoDBClient, table: str) -> None:
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[_put(table, "X", "1"), _put(table, "X", "1")])
    assert _item(dynamodb, table, "X", "1") is None
