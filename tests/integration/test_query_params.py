"""Every query parameter of every route, in-process: a bad value is a 400 with
a JSON reason naming it, never a 500; parameters a route does not read are
ignored. (Routes that read query parameters: grep query_params / params.py.)"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from tests.integration.conftest import post_signed
from tests.integration.test_operator_api import AUTH

PHONE = "+447700900777"
INBOX = "/api/conversations"
TIMELINE = f"/api/contacts/{PHONE}/timeline"
ROUTES_WITH_LIMIT = [INBOX, TIMELINE]  # limit: 1 to 200, 50 when not given

BAD_LIMITS = [
    "²",  # "²".isdigit() is True, int("²") raises
    "٥",  # Arabic-Indic five: int() takes it, we do not
    "-1",
    "abc",
    "1e9",
    "0",
    "201",
    "1.5",
    "",
    " 5",
    "+5",
    "0x10",
    "9" * 5000,  # int() refuses more than 4300 digits
]


@pytest.fixture
def texted(client: Client) -> Client:
    """One contact with an open conversation, so every route has something to list."""
    form = {"MessageSid": "SM" + "7" * 32, "From": PHONE, "To": "+15005550006", "Body": "hello?"}
    assert post_signed(client, "/twilio/inbound", form).status_code == 200
    return client


def get(client: Client, path: str, query: str) -> tuple[int, dict[str, object]]:
    response = client.http.get(f"{path}?{query}" if query else path, headers=AUTH)
    return response.status_code, json.loads(response.body)


@pytest.mark.parametrize("path", ROUTES_WITH_LIMIT)
@pytest.mark.parametrize("value", BAD_LIMITS, ids=repr)
def test_a_bad_limit_is_a_400_naming_it(texted: Client, path: str, value: str) -> None:
    status, body = get(texted, path, urlencode({"limit": value}))
    assert status == 400, body
    assert body["Code"] == "BadRequestError"
    assert str(body["Message"]).startswith("limit: a whole number from 1 to 200")
    assert len(str(body["Message"])) < 120  # a long value is not echoed whole


@pytest.mark.parametrize("path", ROUTES_WITH_LIMIT)
def test_a_limit_given_twice_is_refused_not_guessed(texted: Client, path: str) -> None:
    status, body = get(texted, path, "limit=5&limit=500")
    assert status == 400
    assert body["Message"] == "limit: give it once, not 2 times"


@pytest.mark.parametrize("path", ROUTES_WITH_LIMIT)
@pytest.mark.parametrize("query", ["", "limit=1", "limit=200", "limit=050", "colour=red", "limit=2&colour=red"])
def test_good_limits_are_served_and_unknown_parameters_ignored(texted: Client, path: str, query: str) -> None:
    status, body = get(texted, path, query)
    assert status == 200, body


@pytest.mark.parametrize("value", ["²", "abc", "2026-03-01T12:00", "-1"], ids=repr)
def test_a_bad_timeline_cursor_is_a_400(texted: Client, value: str) -> None:
    status, body = get(texted, TIMELINE, urlencode({"before": value}))
    assert status == 400, body
    assert str(body["Message"]).startswith("before:")


def test_the_limit_limits(texted: Client) -> None:
    form = {"MessageSid": "SM" + "8" * 32, "From": PHONE, "To": "+15005550006", "Body": "anyone?"}
    assert post_signed(texted, "/twilio/inbound", form).status_code == 200
    assert len(get(texted, TIMELINE, "")[1]["events"]) == 2  # type: ignore[arg-type]
    status, body = get(texted, TIMELINE, "limit=1")
    assert status == 200
    assert isinstance(body["events"], list) and len(body["events"]) == 1
