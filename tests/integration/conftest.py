"""The Chalice app in-process (chalice.test.Client), wired to DynamoDB on moto server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest
from chalice.test import Client
from twilio.request_validator import RequestValidator

from app import app
from chalicelib import bootstrap
from chalicelib.adapters.dynamodb_store import DynamoConversationStore
from chalicelib.config import Settings
from chalicelib.entrypoints.auth import token_hash
from chalicelib.services.keys import KeyRecord, KeyStore, Role, key_hash
from tests.fakes import StepClock

if TYPE_CHECKING:
    from chalice.test import HTTPResponse
    from mypy_boto3_dynamodb import DynamoDBClient

TOKEN = "integration-auth-token"
OPERATOR_TOKEN = "operator-test-token"  # a script's admin token (OPERATOR_TOKEN_SHA256)
# Named API keys every wired test table holds: name -> (role, key)
KEYS = {
    "alice": (Role.AGENT, "rk_alice-test-key"),
    "bob": (Role.AGENT, "rk_bob-test-key"),
    "olive": (Role.OPERATOR, "rk_olive-test-key"),
    "ada": (Role.ADMIN, "rk_ada-test-key"),
    "ivy": (Role.INTEGRATION, "rk_ivy-test-key"),  # the ordering system
}


def as_key(name: str, **headers: str) -> dict[str, str]:
    """Request headers that call as the named key of KEYS."""
    return {"Authorization": f"Bearer {KEYS[name][1]}", "Content-Type": "application/json", **headers}


ALICE, BOB, OLIVE = as_key("alice"), as_key("bob"), as_key("olive")


def add_keys(keys: KeyStore) -> None:
    for name, (role, key) in KEYS.items():
        created = datetime(2026, 1, 1, tzinfo=UTC)
        keys.add(KeyRecord(name=name, role=role, key_hash=key_hash(key), created_at=created, created_by="tests"))


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
    if not deps.keys.list():
        add_keys(deps.keys)
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
    """Items besides the API keys every wired table holds (tests only: never on a request path)."""
    found = dynamodb.scan(
        TableName=table,
        Select="COUNT",
        FilterExpression="pk <> :keys",
        ExpressionAttributeValues={":keys": {"S": "KEYS"}},
    )
    return found["Count"]
