"""The simulator speaks Twilio: the real `twilio` client works against it unchanged."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from local.twilio_sim import TwilioSimulator
from tests.conftest import free_port

ACCOUNT_SID = "AC" + "5" * 32
TOKEN = "sim-contract-token"
BRAND = "+15005550006"


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    port = free_port()
    sim = TwilioSimulator(ACCOUNT_SID, TOKEN, webhook_base_url="http://127.0.0.1:9", callback_delay_s=0.01)
    server = sim.serve("127.0.0.1", port)
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


def client(sim_url: str, token: str = TOKEN) -> Client:
    twilio = Client(ACCOUNT_SID, token)
    twilio.api.base_url = sim_url
    return twilio


def test_a_message_is_queued_with_an_sm_sid_and_then_delivered(sim_url: str) -> None:
    twilio = client(sim_url)
    message = twilio.messages.create(to="+447700900123", from_=BRAND, body="Your pizza is ready")
    assert message.sid.startswith("SM") and len(message.sid) == 34
    assert (message.status, message.to, message.from_, message.body) == (
        "queued",
        "+447700900123",
        BRAND,
        "Your pizza is ready",
    )
    assert message.date_created is not None
    deadline = time.monotonic() + 5
    while twilio.messages(message.sid).fetch().status != "delivered":
        assert time.monotonic() < deadline, "never delivered"
        time.sleep(0.02)
    received = requests.get(f"{sim_url}/sim/handsets/+447700900123", timeout=30).json()["messages"]
    assert [m["body"] for m in received] == ["Your pizza is ready"]


def test_a_messaging_service_can_send(sim_url: str) -> None:
    message = client(sim_url).messages.create(to="+14155550100", messaging_service_sid="MG" + "1" * 32, body="hi")
    assert message.messaging_service_sid == "MG" + "1" * 32


@pytest.mark.parametrize(
    ("to", "code"),
    [("+15005550001", 21211), ("+15005550004", 21610), ("+15005550009", 21614), ("12345", 21211)],
)
def test_designated_numbers_fail_with_twilios_error_codes(sim_url: str, to: str, code: int) -> None:
    with pytest.raises(TwilioRestException) as raised:
        client(sim_url).messages.create(to=to, from_=BRAND, body="hello")
    assert raised.value.status == 400
    assert raised.value.code == code
    assert raised.value.uri.endswith("/Messages.json")


def test_missing_parameters_are_twilio_errors(sim_url: str) -> None:
    with pytest.raises(TwilioRestException) as raised:
        client(sim_url).messages.create(to="+447700900123", body="no sender")
    assert raised.value.code == 21603


def test_a_wrong_auth_token_is_refused(sim_url: str) -> None:
    with pytest.raises(TwilioRestException) as raised:
        client(sim_url, token="wrong").messages.create(to="+447700900123", from_=BRAND, body="hello")
    assert (raised.value.status, raised.value.code) == (401, 20003)


def test_error_bodies_have_twilios_shape(sim_url: str) -> None:
    response = requests.post(
        f"{sim_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        data={"To": "+447700900123", "From": BRAND},
        auth=(ACCOUNT_SID, TOKEN),
        timeout=30,
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": 21602,
        "message": "Message body is required.",
        "more_info": "https://www.twilio.com/docs/errors/21602",
        "status": 400,
    }
