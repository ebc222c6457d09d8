"""Signature, form decoding and TwiML: the edge, against fixed vectors."""

import pytest

from chalicelib.adapters.webhook import (
    CONNECTION_OVERRIDES,
    ForgedWebhookError,
    MalformedFormError,
    WebhooksDisabledError,
    decode_fields,
    decode_form,
    signed_url,
    signed_urls,
    twiml,
    verified_form,
    verify_signature,
)

# Twilio's published request-validation example, and the fixed vectors of
# twilio-python's tests/unit/test_request_validator.py.
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
DUPLICATE_PARAMS = {"Sid": ["CA123"], "SidAccount": ["AC123"], "Digits": ["5678", "1234"]}
DUPLICATE_SIGNATURE = "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def test_the_signed_url_is_the_public_base_plus_path_and_query() -> None:
    assert signed_url("https://mycompany.com/", "/myapp.php", {"foo": "1", "bar": "2"}) == VECTOR_URL
    assert signed_url("https://x.execute-api.eu-west-2.amazonaws.com/prod", "/twilio/inbound", None) == (
        "https://x.execute-api.eu-west-2.amazonaws.com/prod/twilio/inbound"
    )


def test_twilios_published_vector_verifies() -> None:
    verify_signature(VECTOR_TOKEN, VECTOR_URL, VECTOR_PARAMS, VECTOR_SIGNATURE)


def test_every_value_of_a_repeated_field_is_signed() -> None:
    verify_signature(VECTOR_TOKEN, VECTOR_URL, DUPLICATE_PARAMS, DUPLICATE_SIGNATURE)
    body = "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234"
    assert decode_fields(body) == DUPLICATE_PARAMS
    form = verified_form(
        lambda: VECTOR_TOKEN, "https://mycompany.com", "/myapp.php", {"foo": "1", "bar": "2"}, body, DUPLICATE_SIGNATURE
    )
    assert form == {"Sid": "CA123", "SidAccount": "AC123", "Digits": "1234"}
    with pytest.raises(ForgedWebhookError):  # one value dropped is a different request
        verify_signature(VECTOR_TOKEN, VECTOR_URL, {**DUPLICATE_PARAMS, "Digits": ["1234"]}, DUPLICATE_SIGNATURE)


@pytest.mark.parametrize(
    ("public_base_url", "signature"),
    [
        ("https://mycompany.com:1234", VECTOR_SIGNATURE),  # removes the port on https
        ("http://mycompany.com:1234", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),  # http: signed with its port 1234
        ("https://mycompany.com", "kvajT1Ptam85bY51eRf/AJRuM3w="),  # adds :443 on https
        ("http://mycompany.com", "0ZXoZLH/DfblKGATFgpif+LLRf4="),  # adds :80 on http
        ("https://mycompany.com:443", VECTOR_SIGNATURE),  # a port in PUBLIC_BASE_URL, none in Twilio's URL
    ],
)
def test_twilios_port_vectors_verify_whatever_port_the_public_base_carries(
    public_base_url: str, signature: str
) -> None:
    urls = signed_urls(public_base_url, "/myapp.php", {"foo": "1", "bar": "2"})
    verify_signature(VECTOR_TOKEN, urls, VECTOR_PARAMS, signature)


def test_a_signature_over_the_url_with_the_overrides_fragment_verifies_too() -> None:
    from twilio.request_validator import RequestValidator

    signed = RequestValidator(VECTOR_TOKEN).compute_signature(f"{VECTOR_URL}#{CONNECTION_OVERRIDES}", VECTOR_PARAMS)
    verify_signature(VECTOR_TOKEN, VECTOR_URL, VECTOR_PARAMS, signed)
    other = RequestValidator(VECTOR_TOKEN).compute_signature(f"{VECTOR_URL}#rc=5&rp=all", VECTOR_PARAMS)
    with pytest.raises(ForgedWebhookError):
        verify_signature(VECTOR_TOKEN, VECTOR_URL, VECTOR_PARAMS, other)


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
