"""The Twilio sender adapter, with the real `twilio` client, against the simulator:
each of Twilio's answers becomes the outcome the sending use case acts on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib.adapters.twilio_sender import TwilioSender
from chalicelib.services.ports import SendOutcome
from local.twilio_sim import SLOW_NUMBER, TwilioSimulator
from tests.conftest import free_port

ACCOUNT_SID = "AC" + "7" * 32
TOKEN = "sender-contract-token"
BRAND = "+15005550006"
CALLBACK = "https://example.test/dev/twilio/status"


@pytest.fixture(scope="module")
def sim() -> Iterator[tuple[TwilioSimulator, str]]:
    port = free_port()
    simulator = TwilioSimulator(ACCOUNT_SID, TOKEN, webhook_base_url="http://127.0.0.1:9", slow_answer_s=1.0)
    server = simulator.serve("127.0.0.1", port)
    yield simulator, f"http://127.0.0.1:{port}"
    server.shutdown()


def sender(url: str, **options: str) -> TwilioSender:
    origin = options or {"from_number": BRAND}
    return TwilioSender(ACCOUNT_SID, TOKEN, CALLBACK, api_base_url=url, timeout_s=0.5, **origin)


def test_an_accepted_text_carries_its_callback_and_validity(sim: tuple[TwilioSimulator, str]) -> None:
    simulator, url = sim
    result = sender(url).send("+447700900123", "Hi Sam", valid_for_s=3600)
    assert result.outcome == SendOutcome.ACCEPTED and result.sid and result.from_number == BRAND
    stored = simulator.messages[result.sid]
    assert (stored.status_callback, stored.validity_period, stored.body) == (CALLBACK, 3600, "Hi Sam")


def test_a_messaging_service_picks_the_number(sim: tuple[TwilioSimulator, str]) -> None:
    simulator, url = sim
    result = sender(url, messaging_service_sid="MG" + "1" * 32).send("+447700900123", "Hi", valid_for_s=60)
    assert result.outcome == SendOutcome.ACCEPTED and result.sid
    assert simulator.messages[result.sid].messaging_service_sid == "MG" + "1" * 32


@pytest.mark.parametrize(("to", "outcome", "code"), [
    ("+15005550429", SendOutcome.RETRY, 20429),  # too many requests
    ("+15005550500", SendOutcome.RETRY, 20500),  # Twilio's server error
    ("+15005550004", SendOutcome.REJECTED, 21610),  # unsubscribed at the carrier
    ("+15005550001", SendOutcome.REJECTED, 21211),  # not a valid number
])  # fmt: skip
def test_twilio_errors_become_retry_or_refusal(
    sim: tuple[TwilioSimulator, str], to: str, outcome: SendOutcome, code: int
) -> None:
    result = sender(sim[1]).send(to, "Hi", valid_for_s=60)
    assert (result.outcome, result.error_code, result.sid) == (outcome, code, None)


def test_no_answer_in_time_is_an_unknown_outcome_not_a_retry(sim: tuple[TwilioSimulator, str]) -> None:
    simulator, url = sim
    result = sender(url).send(SLOW_NUMBER, "Hi", valid_for_s=60)
    assert result.outcome == SendOutcome.UNKNOWN
    assert any(m.to == SLOW_NUMBER for m in simulator.messages.values())  # it did go


def test_nobody_listening_is_retried() -> None:
    result = sender(f"http://127.0.0.1:{free_port()}").send("+447700900123", "Hi", valid_for_s=60)
    assert result.outcome == SendOutcome.RETRY


def test_it_needs_a_number_or_a_messaging_service() -> None:
    with pytest.raises(ValueError, match="TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER"):
        TwilioSender(ACCOUNT_SID, TOKEN, CALLBACK)
