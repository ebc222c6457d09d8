"""A webhook URL with a query, signed exactly as Twilio signs it, through the app."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest
from chalice.test import Client
from twilio.request_validator import RequestValidator

from chalicelib.adapters.dynamodb_store import DynamoConversationStore
from tests.integration.conftest import FORM_TYPE, PUBLIC_BASE_URL, TOKEN, item_count

if TYPE_CHECKING:
    from chalice.test import HTTPResponse
    from mypy_boto3_dynamodb import DynamoDBClient

CUSTOMER = "+447700900123"
BRAND = "+15005550006"
SID = "SM" + "b" * 32


def sms(body: str = "Open late tonight?") -> dict[str, str]:
    return {"MessageSid": SID, "From": CUSTOMER, "To": BRAND, "Body": body, "AccountSid": "AC" + "0" * 32}


def post(client: Client, path: str, form: dict[str, str], signed_over: str) -> HTTPResponse:
    """POST `path` with Twilio's signature over the URL as configured (`signed_over`)."""
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC_BASE_URL + signed_over, form)
    headers = {"Content-Type": FORM_TYPE, "X-Twilio-Signature": signature}
    return client.http.post(path, headers=headers, body=urlencode(form))


@pytest.mark.parametrize(
    "configured",
    [
        "/twilio/inbound?store=Leeds%20Central",
        "/twilio/inbound?store=Leeds+Central",
        "/twilio/inbound?store=Leeds%20Central&tag=vip&tag=late",
        "/twilio/inbound?store=Caf%C3%A9%20%26%20Bar",
    ],
)
def test_a_query_signed_as_configured_is_taken(client: Client, store: DynamoConversationStore, configured: str) -> None:
    response = post(client, configured, sms(), signed_over=configured)
    assert response.status_code == 200, response.body
    assert [(m.sid, m.body) for m in store.messages.thread(CUSTOMER)] == [(SID, "Open late tonight?")]


@pytest.mark.parametrize(
    ("requested", "signed_over", "form"),
    [
        ("/twilio/inbound?store=Leeds%20North", "/twilio/inbound?store=Leeds%20Central", sms()),
        ("/twilio/inbound?store=Leeds%20Central&x=1", "/twilio/inbound?store=Leeds%20Central", sms()),
        ("/twilio/inbound", "/twilio/inbound?store=Leeds%20Central", sms()),
        ("/twilio/status?store=Leeds%20Central", "/twilio/inbound?store=Leeds%20Central", sms()),
    ],
)
def test_a_tampered_query_is_refused_and_nothing_is_stored(
    client: Client, store: DynamoConversationStore, dynamodb: DynamoDBClient, table: str, requested: str,
    signed_over: str, form: dict[str, str],
) -> None:  # fmt: skip
    assert post(client, requested, form, signed_over=signed_over).status_code == 403
    assert item_count(dynamodb, table) == 0


def test_a_tampered_body_under_a_genuine_query_is_refused(
    client: Client, store: DynamoConversationStore, dynamodb: DynamoDBClient, table: str
) -> None:
    configured = "/twilio/inbound?store=Leeds%20Central"
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC_BASE_URL + configured, sms())
    headers = {"Content-Type": FORM_TYPE, "X-Twilio-Signature": signature}
    response = client.http.post(configured, headers=headers, body=urlencode(sms("STOP")))
    assert response.status_code == 403
    assert item_count(dynamodb, table) == 0
