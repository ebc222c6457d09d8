"""The simulator speaks Twilio: the real `twilio` client works against it unchanged."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from chalicelib.adapters.webhook import CONNECTION_OVERRIDES
from local.twilio_sim import ConnectionOverrides, TwilioSimulator
from tests.conftest import LoopbackServer, free_port

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


# --- webhooks are delivered as Twilio delivers them: connection overrides ----


class Service:
    """A webhook receiver that answers from a script (a status, or a delay
    before 200) and checks each attempt's signature over the URL without the
    #fragment, as the real service does."""

    def __init__(self, *script: int | float) -> None:
        self.script = list(script)
        self.seen: list[tuple[str, bool, dict[str, str]]] = []
        validator = RequestValidator(TOKEN)
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                form = {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}
                valid = validator.validate(service.url + self.path, form, self.headers.get("X-Twilio-Signature", ""))
                service.seen.append((self.path, valid, form))
                step = service.script.pop(0) if service.script else 200
                if isinstance(step, float):
                    time.sleep(step)
                    step = 200
                self.send_response(step)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.http = LoopbackServer(Handler)
        self.url = self.http.url

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def service() -> Iterator[Callable[..., Service]]:
    started: list[Service] = []

    def start(*script: int | float) -> Service:
        started.append(Service(*script))
        return started[-1]

    yield start
    for each in started:
        each.close()


def simulator(inbound_url: str | None = None) -> TwilioSimulator:
    return TwilioSimulator(ACCOUNT_SID, TOKEN, "http://127.0.0.1:9", callback_delay_s=0.01, inbound_url=inbound_url)


def test_connection_overrides_read_as_twilio_documents_them() -> None:
    assert ConnectionOverrides.parse("") == ConnectionOverrides(5000, 15000, 15000, 1, frozenset({"ct"}))
    overrides = ConnectionOverrides.parse("rc=3&rp=ct,rt,5xx&ct=3000&rt=5000&tt=15000&e=dublin&sni=y")
    assert overrides == ConnectionOverrides(3000, 5000, 15000, 3, frozenset({"ct", "rt", "5xx"}))
    assert ConnectionOverrides.parse("rp=all").retry_on == frozenset({"4xx", "5xx", "ct", "rt", "all"})
    assert ConnectionOverrides.parse(CONNECTION_OVERRIDES).retries_after("5xx")


@pytest.mark.parametrize("fragment", ["rp=500", "rp=", "rc=6", "ct=99", "rt=15001", "tt=0", "rc=-1", "rc=x"])
def test_overrides_twilio_refuses_are_refused(fragment: str) -> None:
    with pytest.raises(ValueError, match=r"override|policy"):
        ConnectionOverrides.parse(fragment)
    with pytest.raises(ValueError, match=r"override|policy"):
        simulator(inbound_url=f"http://127.0.0.1:9/twilio/inbound#{fragment}")


def test_with_overrides_a_5xx_is_retried_signed_over_the_url_without_the_fragment(
    service: Callable[..., Service],
) -> None:
    svc = service(503, 502, 200)
    result = simulator(f"{svc.url}/twilio/inbound#rc=3&rp=ct,rt,5xx").text_service("+447700900123", BRAND, "hi")
    assert (result["status"], result["attempts"], result["outcomes"]) == (200, 3, ["503", "502", "200"])
    assert [(path, valid) for path, valid, _ in svc.seen] == [("/twilio/inbound", True)] * 3
    assert len({form["MessageSid"] for _, _, form in svc.seen}) == 1  # the same text each time


def test_retries_stop_at_the_retry_count(service: Callable[..., Service]) -> None:
    svc = service(500, 500, 500, 500)
    result = simulator(f"{svc.url}/twilio/inbound#rc=2&rp=5xx").text_service("+447700900123", BRAND, "hi")
    assert (result["status"], result["outcomes"]) == (500, ["500", "500", "500"])
    assert len(svc.seen) == 3


def test_without_overrides_a_5xx_is_not_retried(service: Callable[..., Service]) -> None:
    svc = service(503, 200)
    result = simulator(f"{svc.url}/twilio/inbound").text_service("+447700900123", BRAND, "hi")
    assert (result["status"], result["attempts"], result["replies"]) == (503, 1, [])
    assert len(svc.seen) == 1


def test_a_4xx_is_retried_only_when_the_policy_names_it(service: Callable[..., Service]) -> None:
    svc = service(403, 403, 200)
    assert simulator(f"{svc.url}/twilio/inbound#rc=2&rp=5xx,rt").text_service("+447700900123", BRAND, "hi")[
        "outcomes"
    ] == ["403"]
    assert simulator(f"{svc.url}/twilio/inbound#rc=2&rp=4xx").text_service("+447700900123", BRAND, "hi")[
        "outcomes"
    ] == ["403", "200"]


def test_without_overrides_a_refused_connection_is_tried_twice_then_fails() -> None:
    sim = simulator()
    closed = f"http://127.0.0.1:{free_port()}/twilio/inbound"
    delivery = sim.deliver(closed, {"Body": "hi"})
    assert delivery.outcomes == ["ct", "ct"] and delivery.response is None
    with pytest.raises(requests.ConnectionError):
        delivery.answer()
    assert sim.deliver(f"{closed}#rc=0", {"Body": "hi"}).outcomes == ["ct"]


def test_a_read_timeout_is_retried_when_the_policy_names_rt(service: Callable[..., Service]) -> None:
    svc = service(0.6, 200)
    result = simulator(f"{svc.url}/twilio/inbound#rc=1&rp=rt&rt=200").text_service("+447700900123", BRAND, "hi")
    assert (result["status"], result["outcomes"]) == (200, ["rt", "200"])
    svc = service(0.6, 200)
    with pytest.raises(requests.ReadTimeout):  # Twilio's default policy (ct) does not retry it
        simulator(f"{svc.url}/twilio/inbound#rt=200").text_service("+447700900123", BRAND, "hi")


def test_every_attempt_fits_in_the_total_time(service: Callable[..., Service]) -> None:
    svc = service(1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
    delivery = simulator().deliver(f"{svc.url}/twilio/inbound#rc=5&rp=rt&rt=300&tt=700", {"Body": "hi"})
    assert delivery.outcomes == ["rt", "rt", "rt"]  # 300 + 300 + the 100 ms left, not the 5 retries rc allows


def test_status_callbacks_honour_the_overrides_on_their_url(sim_url: str, service: Callable[..., Service]) -> None:
    svc = service(500)  # the first callback fails once
    message = client(sim_url).messages.create(
        to="+447700900124", from_=BRAND, body="hi", status_callback=f"{svc.url}/twilio/status#rc=1&rp=5xx"
    )
    deadline = time.monotonic() + 5
    while len(svc.seen) < 4:
        assert time.monotonic() < deadline, svc.seen
        time.sleep(0.02)
    assert [(form["MessageSid"], form["MessageStatus"], valid) for _, valid, form in svc.seen] == [
        (message.sid, "queued", True),
        (message.sid, "queued", True),
        (message.sid, "sent", True),
        (message.sid, "delivered", True),
    ]


def test_the_http_routes_take_a_webhook_url_and_report_attempts(sim_url: str, service: Callable[..., Service]) -> None:
    svc = service(502, 200, 500, 204)
    inbound = {"from": "+447700900125", "to": BRAND, "body": "hi", "webhook_url": f"{svc.url}/in#rc=1&rp=5xx"}
    result = requests.post(f"{sim_url}/sim/inbound", json=inbound, timeout=30).json()
    assert (result["status"], result["attempts"]) == (200, 2)
    replay: dict[str, Any] = {"sid": "SM" + "0" * 32, "to": "+447700900125", "from": BRAND}
    replay |= {"events": [{"status": "delivered"}], "webhook_url": f"{svc.url}/st#rc=1&rp=5xx"}
    assert requests.post(f"{sim_url}/sim/status", json=replay, timeout=30).json() == {"statuses": [204]}
    assert [path for path, _, _ in svc.seen] == ["/in", "/in", "/st", "/st"]
    bad = requests.post(f"{sim_url}/sim/inbound", json={**inbound, "webhook_url": f"{svc.url}/in#rp=7xx"}, timeout=30)
    assert bad.status_code == 400 and "11243" in bad.json()["message"]
