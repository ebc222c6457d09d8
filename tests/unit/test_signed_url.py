"""The URL Twilio signed, rebuilt from the decoded query API Gateway hands us.

Twilio signs the webhook URL exactly as the operator configured it. API
Gateway (REST) and chalice give the handler only the decoded parameters,
grouped by key, so every way of writing the same query must verify, and any
other query, path, host or form must not.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from chalice.app import MultiDict
from twilio.request_validator import RequestValidator

from chalicelib.adapters.webhook import ForgedWebhookError, query_strings, signed_url, signed_urls, verify_signature

TOKEN = "signed-url-token"
BASE = "https://abc123.execute-api.eu-west-2.amazonaws.com/prod"
PATH = "/twilio/inbound"
FORM = {"MessageSid": "SM" + "1" * 32, "From": "+447700900123", "To": "+15005550006", "Body": "hi"}


def sign(url: str, form: dict[str, str] = FORM) -> str:
    signature: str = RequestValidator(TOKEN).compute_signature(url, form)
    return signature


def gateway_query(url: str, plus_is_space: bool = True) -> MultiDict | None:
    """What the handler gets: decoded values grouped by key, keys in first-seen
    order (multiValueQueryStringParameters), as chalice builds request.query_params."""
    query = urlsplit(url).query
    if not query:
        return None
    if plus_is_space:
        return MultiDict(parse_qs(query, keep_blank_values=True))
    grouped: dict[str, list[str]] = {}
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        grouped.setdefault(unquote(key), []).append(unquote(value))
    return MultiDict(grouped)


def verifies(configured: str, public_base_url: str = BASE, plus_is_space: bool = True) -> None:
    urls = signed_urls(public_base_url, PATH, gateway_query(configured, plus_is_space))
    verify_signature(TOKEN, urls, FORM, sign(configured))


OPERATOR_QUERIES = [
    "store=Leeds%20Central",
    "store=Leeds+Central",
    "store=Leeds%20Central&region=North",
    "region=North&store=Leeds%20Central",  # not sorted: the order as configured
    "b=2&a=1&c=3",
    "tag=vip&tag=late",  # a repeated key
    "a=1&b=2&a=3",  # a repeated key, interleaved
    "a=1&a=3&b=2",
    "name=Caf%C3%A9",  # UTF-8
    "name=caf%c3%a9",  # lower-case hex
    "name=Café",  # typed as is
    "pizza=%F0%9F%8D%95",
    "next=/menu?x=1",  # reserved characters left as they are
    "next=%2Fmenu%3Fx%3D1",  # ... or escaped
    "time=12:30&who=a@b.c",
    "time=12%3A30&who=a%40b.c",
    "q=fish%20%26%20chips",  # an escaped separator
    "q=fish+%26+chips",
    "sum=1%2B1",  # a literal plus
    "flag",  # a bare key
    "flag=",
    "flag&store=Leeds",
    "x=(a),b;c!d*e'f$g",
    "empty=&store=Leeds",
    "list=a,b,c",
]


@pytest.mark.parametrize("query", OPERATOR_QUERIES)
def test_a_query_signed_as_the_operator_wrote_it_verifies(query: str) -> None:
    verifies(f"{BASE}{PATH}?{query}")


@pytest.mark.parametrize("query", ["sum=1+1", "q=a+b&r=c+d", "next=/menu?x=1+2"])
def test_a_literal_plus_verifies_whether_or_not_the_gateway_decodes_it_as_a_space(query: str) -> None:
    verifies(f"{BASE}{PATH}?{query}", plus_is_space=True)
    verifies(f"{BASE}{PATH}?{query}", plus_is_space=False)


@pytest.mark.parametrize(
    ("configured", "public_base_url"),
    [
        (f"{BASE}{PATH}?store=Leeds%20Central", BASE.replace(".com/", ".com:443/")),
        (BASE.replace(".com/", ".com:443/") + f"{PATH}?store=Leeds%20Central", BASE),
        ("http://127.0.0.1:8000/twilio/inbound?store=Leeds%20Central", "http://127.0.0.1:8000"),
        ("http://127.0.0.1:8000/twilio/inbound?store=Leeds%20Central", "http://127.0.0.1:8000/"),
    ],
)
def test_the_port_may_be_written_or_not(configured: str, public_base_url: str) -> None:
    verifies(configured, public_base_url)


def test_without_a_query_there_is_one_url() -> None:
    assert signed_urls(BASE, PATH, None) == [f"{BASE}{PATH}"]
    assert signed_urls(BASE + "/", PATH, {}) == [f"{BASE}{PATH}"]
    verifies(f"{BASE}{PATH}")


def test_the_canonical_spelling_comes_first_and_the_set_stays_small() -> None:
    assert signed_url(BASE, PATH, {"store": "Leeds Central"}) == f"{BASE}{PATH}?store=Leeds%20Central"
    assert query_strings({"store": "Leeds Central"}) == ["store=Leeds%20Central", "store=Leeds+Central"]
    assert query_strings({"a": "1"}) == ["a=1"]
    assert len(query_strings({"q": "Café (x)/y z", "flag": "", "a": ["1", "2"]})) <= 96


TAMPERED = [
    ("store=Leeds%20Central", "store=Leeds%20North"),
    ("store=Leeds%20Central", "store=Leeds%20Central&admin=1"),
    ("store=Leeds%20Central&region=North", "store=Leeds%20Central"),
    ("tag=vip&tag=late", "tag=vip"),
    ("tag=vip&tag=late", "tag=late&tag=vip"),  # the values' order is part of the URL
    ("sum=1%2B1", "sum=1%201"),
    ("name=Caf%C3%A9", "name=Cafe"),
    ("flag", "flag=1"),
    ("store=Leeds", ""),
    ("", "store=Leeds"),
]


@pytest.mark.parametrize(("signed", "received"), TAMPERED)
def test_any_other_query_is_refused(signed: str, received: str) -> None:
    signature = sign(f"{BASE}{PATH}?{signed}" if signed else f"{BASE}{PATH}")
    urls = signed_urls(BASE, PATH, gateway_query(f"{BASE}{PATH}?{received}"))
    with pytest.raises(ForgedWebhookError):
        verify_signature(TOKEN, urls, FORM, signature)


@pytest.mark.parametrize(
    ("public_base_url", "path", "form"),
    [
        ("https://evil.example.com/prod", PATH, FORM),
        (BASE.replace("/prod", "/dev"), PATH, FORM),
        (BASE.replace("https", "http"), PATH, FORM),
        (BASE, "/twilio/status", FORM),
        (BASE, PATH, {**FORM, "Body": "hi!"}),
    ],
)
def test_another_host_stage_scheme_path_or_form_is_refused(
    public_base_url: str, path: str, form: dict[str, str]
) -> None:
    signature = sign(f"{BASE}{PATH}?store=Leeds%20Central")
    urls = signed_urls(public_base_url, path, {"store": "Leeds Central"})
    with pytest.raises(ForgedWebhookError):
        verify_signature(TOKEN, urls, form, signature)
