"""Signature, form decoding and TwiML: the edge, against fixed vectors."""

import pytest

from chalicelib.adapters.webhook import (
    ForgedWebhookError,
    MalformedFormError,
    WebhooksDisabledError,
    decode_form,
    signed_url,
    twiml,
    verify_signature,
)

# Twilio's published request-validation example.
VECTOR_TOKEN = "12345"
VECTOR_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
VECTOR_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_the_signed_url_is_the_public_base_plus_path_and_query() -> None:
    assert signed_url("https://mycompany.com/", "/myapp.php", {"foo": "1", "bar": "2"}) == VECTOR_URL
    assert signed_url("https://x.execute-api.eu-west-2.amazonaws.com/prod", "/twilio/inbound", None) == (
        "https://x.execute-api.eu-west-2.amazonaws.com/prod/twilio/inbound"
    )


def test_twilios_published_vector_verifies() -> None:
    verify_signature(VECTOR_TOKEN, VECTOR_URL, VECTOR_PARAMS, VECTOR_SIGNATURE)


@pytest.mark.parametrize(
    ("token", "url", "params", "signature"),
    [
        ("54321", VECTOR_URL, VECTOR_PARAMS, VECTOR_SIGNATURE),
        (VECTOR_TOKEN, VECTOR_URL + "&x=1", VECTOR_PARAMS, VECTOR_SIGNATURE),
        (VECTOR_TOKEN, VECTOR_URL, {**VECTOR_PARAMS, "Digits": "9999"}, VECTOR_SIGNATURE),
        (VECTOR_TOKEN, VECTOR_URL, VECTOR_PARAMS, None),
        (VECTOR_TOKEN, VECTOR_URL, VECTOR_PARAMS, ""),
    ],
)
def test_any_change_is_a_forgery(token: str, url: str, params: dict[str, str], signature: str | None) -> None:
    with pytest.raises(ForgedWebhookError):
        verify_signature(token, url, params, signature)


def test_without_a_token_nothing_is_trusted() -> None:
    with pytest.raises(WebhooksDisabledError):
        verify_signature("", VECTOR_URL, VECTOR_PARAMS, VECTOR_SIGNATURE)


def test_forms_decode_to_one_string_per_field() -> None:
    assert decode_form(b"Body=Hi+there%21&From=%2B447700900123&Empty=") == {
        "Body": "Hi there!",
        "From": "+447700900123",
        "Empty": "",
    }
    assert decode_form(b"") == {}


@pytest.mark.parametrize("raw", [b"\xff\xfe", b"just text", b"a=1&&&b"])
def test_unreadable_bodies_are_rejected(raw: bytes) -> None:
    with pytest.raises(MalformedFormError):
        decode_form(raw)


def test_twiml_escapes_the_reply() -> None:
    assert twiml("Fish & <chips>") == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Fish &amp; &lt;chips&gt;</Message></Response>'
    )
    assert twiml("").endswith("<Response></Response>")
