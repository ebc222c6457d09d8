"""The webhook routes in-process: signature, validation, idempotency, state."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest
from chalice.test import Client
from twilio.request_validator import RequestValidator

from chalicelib.adapters.dynamodb_store import DynamoConversationStore, DynamoStoreBook
from chalicelib.domain.contact import ConsentState, DeliverabilityState, StoreSource, with_store
from chalicelib.domain.messages import DeliveryStatus
from chalicelib.domain.stores import Store, StoreSpec
from tests.integration.conftest import FORM_TYPE, PUBLIC_BASE_URL, TOKEN, item_count, post_signed, settings_for, wire

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CUSTOMER = "+447700900123"
BRAND = "+15005550006"
SID = "SM" + "a" * 32


def sms(body: str, sid: str = SID, sender: str = CUSTOMER, **extra: str) -> dict[str, str]:
    return {"MessageSid": sid, "From": sender, "To": BRAND, "Body": body, "AccountSid": "AC" + "0" * 32, **extra}


def receipt(status: str, sid: str = SID, code: str | None = None) -> dict[str, str]:
    form = {"MessageSid": sid, "MessageStatus": status, "To": CUSTOMER, "From": BRAND}
    return {**form, "ErrorCode": code} if code else form


def test_an_ordinary_text_is_stored_and_answered_with_empty_twiml(
    client: Client, store: DynamoConversationStore
) -> None:
    response = post_signed(client, "/twilio/inbound", sms("Do you deliver to SW1?"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.body.decode().endswith("<Response></Response>")
    contact = store.get_contact(CUSTOMER)
    assert contact is not None and contact.conversation is not None
    assert "Europe/London" in contact.time_zone.candidates
    assert [m.body for m in store.messages.thread(CUSTOMER)] == ["Do you deliver to SW1?"]


def test_stop_is_confirmed_once_and_recorded_brand_wide(client: Client, store: DynamoConversationStore) -> None:
    response = post_signed(client, "/twilio/inbound", sms("Stop."))
    assert "<Message>Pizza Co: you're unsubscribed" in response.body.decode()
    contact = store.get_contact(CUSTOMER)
    assert contact is not None and contact.consent == ConsentState.OPTED_OUT
    event = contact.consent_event
    assert event is not None
    assert store.timeline.trail(CUSTOMER).consents == [event]
    assert (event.keyword, event.brand_number, event.message_sid) == ("STOP", BRAND, SID)


def test_help_names_the_brand_and_how_to_stop(client: Client) -> None:
    body = post_signed(client, "/twilio/inbound", sms("help")).body.decode()
    assert "Pizza Co" in body and "call 0800 000 000" in body and "STOP" in body


def test_help_names_the_customers_store_and_its_phone_and_a_retry_answers_the_same(
    client: Client, store: DynamoConversationStore, dynamodb: DynamoDBClient, table: str
) -> None:
    spec = StoreSpec(
        name="Pizza Co Newcastle", time_zone="Europe/London", areas=["NE1"], sender=BRAND, messages_per_second=1,
        phone="+441914960000",
    )  # fmt: skip
    at = datetime(2026, 6, 1, tzinfo=UTC)
    DynamoStoreBook(dynamodb, table).save(
        Store(**spec.model_dump(), id="newcastle", created_at=at, updated_at=at), None
    )
    post_signed(client, "/twilio/inbound", sms("hello", sid="SM" + "b" * 32))  # the contact, as a text makes it
    contact = store.get_contact(CUSTOMER)
    assert contact is not None
    store.save_contact(with_store(contact, "newcastle", StoreSource.IMPORT, at), contact.version)
    first = post_signed(client, "/twilio/inbound", sms("HELP")).body.decode()
    assert "Your store: Pizza Co Newcastle, +441914960000." in first and "STOP" in first
    assert post_signed(client, "/twilio/inbound", sms("HELP")).body.decode() == first  # the stored answer


def test_a_retried_webhook_gets_the_same_answer_and_stores_nothing_new(
    client: Client, store: DynamoConversationStore, dynamodb: DynamoDBClient, table: str
) -> None:
    first = post_signed(client, "/twilio/inbound", sms("STOP"))
    items = item_count(dynamodb, table)
    contact = store.get_contact(CUSTOMER)
    again = post_signed(client, "/twilio/inbound", sms("STOP"))
    assert again.status_code == 200 and again.body == first.body
    assert "unsubscribed" in again.body.decode()
    assert item_count(dynamodb, table) == items
    assert store.get_contact(CUSTOMER) == contact


@pytest.mark.parametrize(
    "signature",
    [None, "", "bm90IGEgc2lnbmF0dXJl"],
    ids=["missing", "empty", "wrong"],
)
def test_forged_webhooks_are_refused_and_store_nothing(
    client: Client, table: str, dynamodb: DynamoDBClient, signature: str | None
) -> None:
    headers = {"Content-Type": FORM_TYPE}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    for path, form in (("/twilio/inbound", sms("STOP")), ("/twilio/status", receipt("delivered"))):
        response = client.http.post(path, headers=headers, body=urlencode(form))
        assert response.status_code == 403
    assert item_count(dynamodb, table) == 0


def test_a_webhook_signed_with_another_token_or_url_is_forged(
    client: Client, table: str, dynamodb: DynamoDBClient
) -> None:
    assert post_signed(client, "/twilio/inbound", sms("hi"), token="someone-elses-token").status_code == 403
    elsewhere = RequestValidator(TOKEN).compute_signature("https://evil.example/twilio/inbound", sms("hi"))
    assert post_signed(client, "/twilio/inbound", sms("hi"), signature=elsewhere).status_code == 403
    assert item_count(dynamodb, table) == 0


def test_without_an_auth_token_webhooks_are_refused(client: Client, dynamodb: DynamoDBClient, table: str) -> None:
    wire(dynamodb, settings_for(table, token=""))
    response = post_signed(client, "/twilio/inbound", sms("hello"), signature="anything")
    assert response.status_code == 503
    assert "TWILIO_AUTH_TOKEN" in json.loads(response.body)["Message"]
    assert item_count(dynamodb, table) == 0
    assert json.loads(client.http.get("/health").body)["webhooks"].startswith("disabled")


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"From": CUSTOMER, "To": BRAND, "Body": "hi"}, "MessageSid"),
        ({"MessageSid": SID, "To": BRAND, "Body": "hi"}, "From"),
        ({"MessageSid": SID, "From": CUSTOMER, "Body": "hi"}, "To"),
        ({"MessageSid": SID, "From": CUSTOMER, "To": BRAND}, "Body"),
        ({"MessageSid": SID, "From": "not-a-number", "To": BRAND, "Body": "hi"}, "From"),
        ({"MessageSid": "SM123", "From": CUSTOMER, "To": BRAND, "Body": "hi"}, "MessageSid"),
    ],
)
def test_bad_inbound_forms_get_400_with_the_reason(
    client: Client, table: str, dynamodb: DynamoDBClient, form: dict[str, str], reason: str
) -> None:
    response = post_signed(client, "/twilio/inbound", form)
    assert response.status_code == 400
    assert reason in json.loads(response.body)["Message"]
    assert item_count(dynamodb, table) == 0


def test_a_non_form_body_gets_415(client: Client) -> None:
    response = client.http.post(
        "/twilio/inbound", headers={"Content-Type": "application/json"}, body=json.dumps(sms("hi"))
    )
    assert response.status_code == 415


def test_receipts_arriving_out_of_order_keep_the_final_status(client: Client, store: DynamoConversationStore) -> None:
    for status in ("sent", "delivered", "queued", "sent"):
        assert post_signed(client, "/twilio/status", receipt(status)).status_code == 204
    message, _ = store.messages.with_contact(CUSTOMER, SID)
    assert message is not None and message.status == DeliveryStatus.DELIVERED
    assert [e.status for e in message.status_events] == ["sent", "delivered", "queued"]  # the repeat changed nothing


def test_a_landline_error_makes_the_contact_undeliverable(client: Client, store: DynamoConversationStore) -> None:
    post_signed(client, "/twilio/inbound", sms("hi"))
    assert post_signed(client, "/twilio/status", receipt("undelivered", code="30006")).status_code == 204
    contact = store.get_contact(CUSTOMER)
    assert contact is not None and contact.deliverability.state == DeliverabilityState.UNDELIVERABLE
    assert contact.deliverability.last_error_code == 30006


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"MessageSid": SID, "To": CUSTOMER, "From": BRAND}, "MessageStatus"),
        ({"MessageSid": SID, "MessageStatus": "teleported", "To": CUSTOMER, "From": BRAND}, "MessageStatus"),
        ({"MessageSid": SID, "MessageStatus": "failed", "To": CUSTOMER, "From": BRAND, "ErrorCode": "x"}, "ErrorCode"),
        ({"MessageSid": SID, "MessageStatus": "sent", "To": "??", "From": BRAND}, "To"),
    ],
)
def test_bad_receipts_get_400_with_the_reason(
    client: Client, table: str, dynamodb: DynamoDBClient, form: dict[str, str], reason: str
) -> None:
    response = post_signed(client, "/twilio/status", form)
    assert response.status_code == 400
    assert reason in json.loads(response.body)["Message"]
    assert item_count(dynamodb, table) == 0


def test_older_callbacks_with_only_sms_status_are_understood(client: Client, store: DynamoConversationStore) -> None:
    form = {"SmsSid": SID, "MessageSid": SID, "SmsStatus": "sent", "To": CUSTOMER, "From": BRAND}
    assert post_signed(client, "/twilio/status", form).status_code == 204
    message, _ = store.messages.with_contact(CUSTOMER, SID)
    assert message is not None and message.status == DeliveryStatus.SENT


def test_the_query_string_is_part_of_what_twilio_signs(client: Client, store: DynamoConversationStore) -> None:
    form = sms("hello")
    signed = RequestValidator(TOKEN).compute_signature(f"{PUBLIC_BASE_URL}/twilio/inbound?brand=pizza", form)
    headers = {"Content-Type": FORM_TYPE, "X-Twilio-Signature": signed}
    assert client.http.post("/twilio/inbound?brand=pizza", headers=headers, body=urlencode(form)).status_code == 200
    assert client.http.post("/twilio/inbound?brand=other", headers=headers, body=urlencode(form)).status_code == 403
