"""The ConversationStore under contract: the in-memory fake and DynamoDB (moto server)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chalicelib.adapters.dynamodb_store import DynamoConversationStore
from chalicelib.services.ports import ConversationStore
from tests.fakes import InMemoryConversationStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> ConversationStore:
    if request.param == "memory":
        return InMemoryConversationStore()
    client: DynamoDBClient = request.getfixturevalue("dynamodb")
    return DynamoConversationStore(client, request.getfixturevalue("table"))
