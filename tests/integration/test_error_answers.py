"""One table answers every error raised on purpose (entrypoints/http.py): the
webhooks, the API keys and the use cases give the same answer for the same error."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest
from chalice.test import Client

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb_store import DynamoConversationStore
from chalicelib.domain.contact import Contact
from chalicelib.domain.errors import ConcurrentUpdateError
from chalicelib.domain.inbound import InboundChange
from chalicelib.entrypoints.http import ERRORS, HttpError, UnauthorisedError, error_answer
from tests.integration.conftest import OPERATOR_TOKEN, item_count, post_signed

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class BusyStore(DynamoConversationStore):
    """A contact that changes under every write, however often it is retried."""

    def apply_text(self, change: InboundChange, *_: Any) -> Contact | None:
        raise ConcurrentUpdateError(change.sms.phone)

    def save_contact(self, contact: Contact, *_: Any, **__: Any) -> None:
        raise ConcurrentUpdateError(contact.phone)


@pytest.fixture
def busy(store: DynamoConversationStore, dynamodb: DynamoDBClient, table: str) -> None:
    bootstrap.use(replace(bootstrap.deps(), store=BusyStore(dynamodb, table)))


@pytest.mark.usefixtures("busy")
def test_a_record_that_stays_busy_is_503_with_retry_after_for_a_webhook_and_the_api_alike(
    client: Client, dynamodb: DynamoDBClient, table: str
) -> None:
    form = {"MessageSid": "SM" + "b" * 32, "From": "+447700900123", "To": "+15005550006", "Body": "hi"}
    webhook = post_signed(client, "/twilio/inbound", form)
    headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}", "Content-Type": "application/json"}
    imported = {"contacts": [{"phone": "+447700900124", "tags": ["pizza"]}]}
    api = client.http.post("/api/contacts", headers=headers, body=json.dumps(imported))
    for response in (webhook, api):
        assert response.status_code == 503  # a 5xx: Twilio retries the webhook, a script comes back
        assert response.headers["Retry-After"] == "1"
        assert json.loads(response.body)["Code"] == "Busy"
    assert item_count(dynamodb, table) == 0  # nothing half-written


def test_every_row_of_the_table_answers_json_with_its_code() -> None:
    for kind, expected in ERRORS.items():
        try:
            error = kind("why")
        except TypeError:  # errors built from more than a message: their answer is tested with their route
            continue
        response = error_answer(error)
        body = response.body if isinstance(response.body, dict) else {}
        assert (response.status_code, body.get("Code")) == (expected.status, expected.code), kind
        assert str(body.get("Message", "")).endswith("why")


def test_an_edge_error_carries_its_own_status_and_headers() -> None:
    response = error_answer(UnauthorisedError("no key"))
    assert (response.status_code, response.headers["WWW-Authenticate"]) == (401, "Bearer")
    assert issubclass(UnauthorisedError, HttpError)
