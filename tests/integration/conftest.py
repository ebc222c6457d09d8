"""The Chalice app in-process (chalice.test.Client), wired to DynamoDB on moto server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest
from chalice.test import Client
from twilio.request_validator import RequestValidator

from app import app
from chalicelib import bootstrap
from chalicelib.adapters.dynamodb_store import DynamoConversationStore
from chalicelib.adapters.operator_auth import token_hash
from chalicelib.config import Settings
from tests.fakes import StepClock

if TYPE_CHECKING:
    from chalice.test import HTTPResponse
    from mypy_boto3_dynamodb import DynamoDBClient

TOKEN = "integration-auth-token"
OPERATOR_TOKEN = "operator-test-token"
PUBLIC_BASE_URL = "https://abc123.execute-api.eu-west-2.amazonaws.com/prod"
FORM_TYPE = "application/x-www-form-urlencoded"


def settings_for(table: str, token: str = TOKEN) -> Settings:
    return Settings(
        table_name=table,
        twilio_auth_token=token,
        twilio_auth_token_param="",
        public_base_url=PUBLIC_BASE_URL,
        brand_name="Pizza Co",
        support_contact="call 0800 000 000",
        conversation_ack="",
        operator_token_hashes=frozenset({token_hash(OPERATOR_TOKEN)}),
    )


def wire(dynamodb: DynamoDBClient, settings: Settings) -> DynamoConversationStore:
    deps = bootstrap.on_dynamodb(settings, dynamodb, StepClock())
    bootstrap.use(deps)
    assert isinstance(deps.store, DynamoConversationStore)
    return deps.store


def post_signed(
    client: Client, path: str, form: dict[str, str], token: str = TOKEN, signature: str | None = None
) -> HTTPResponse:
    """POST a form signed as Twilio signs it (or with the given signature)."""
    if signature is None:
        signature = RequestValidator(token).compute_signature(PUBLIC_BASE_URL + path, form)
    headers = {"Content-Type": FORM_TYPE, "X-Twilio-Signature": signature}
    return client.http.post(path, headers=headers, body=urlencode(form))


@pytest.fixture
def store(dynamodb: DynamoDBClient, table: str) -> Iterator[DynamoConversationStore]:
    yield wire(dynamodb, settings_for(table))
    bootstrap.use(None)


@pytest.fixture
def client(store: DynamoConversationStore) -> Iterator[Client]:
    with Client(app, stage_name="dev") as test_client:
        yield test_client


def item_count(dynamodb: DynamoDBClient, table: str) -> int:
    return dynamodb.scan(TableName=table, Select="COUNT")["Count"]  # tests only: never on a request path
