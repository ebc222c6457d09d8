"""The ordering system's webhook under contract (docs/stores-and-orders.md): the
real adapter over HTTP against the ordering-system simulator, which checks the
signature with its own code, and against bare servers answering as a brand's
system might (a 5xx, a 429, a 2xx without a message, too slowly)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from chalicelib.adapters.ordering_webhook import OrderWebhook, signature
from chalicelib.domain.orders import OrderItem
from chalicelib.domain.reorder import ReorderRequest
from chalicelib.services.ports import OrderingRefusedError, OrderingUnavailableError
from local.ordering_sim import OrderingSimulator, verified
from tests.conftest import free_port
from tests.fakes import StepClock

SECRET = "whsec_test_secret"
NOW = datetime.now(UTC)
REQUEST = ReorderRequest(
    idempotency_key="rapport-reorder-SM1", phone="+447700900125", store_id="newcastle",
    items=[OrderItem(name="Margherita", quantity=2)], last_order_id="ord_1", asked_at=NOW,
)  # fmt: skip


def test_the_signature_matches_a_vector_computed_outside_python() -> None:
    # printf '%s' '1764547200.<body>' | openssl dgst -sha256 -hmac 'whsec_test_secret'
    body = b'{"idempotency_key":"rapport-reorder-SM1","phone":"+447700900125"}'
    expected = "t=1764547200,v1=c4af381ebeb24dce881fdf61591274cf2bea3fcd3f63177b94d838cd629fde1f"
    assert signature(SECRET, 1764547200, body) == expected
    assert verified(SECRET, expected, body, now=1764547200 + 299)
    assert not verified(SECRET, expected, body, now=1764547200 + 301)  # a replay, too late
    assert not verified(SECRET, expected, body + b" ", now=1764547200)  # another body
    assert not verified("another secret", expected, body, now=1764547200)


@pytest.fixture
def simulator() -> Iterator[tuple[OrderingSimulator, str]]:
    sim = OrderingSimulator(SECRET, api_base_url="", integration_key="")
    server = sim.serve("127.0.0.1", free_port())
    yield sim, f"http://127.0.0.1:{sim.port}/orders"
    server.shutdown()
    server.server_close()


def webhook(url: str, secret: str = SECRET, timeout_s: float = 5.0) -> OrderWebhook:
    return OrderWebhook(url, lambda: secret, StepClock(datetime.now(UTC)), timeout_s)


def test_a_signed_call_places_one_order_however_often_its_key_is_sent(
    simulator: tuple[OrderingSimulator, str],
) -> None:
    sim, url = simulator
    first = webhook(url).place(REQUEST)
    assert first.startswith("Your order sms_1 is in: pay here http://127.0.0.1:")
    assert webhook(url).place(REQUEST) == first  # the same key: the same answer, nothing ordered again
    assert len(sim.answers) == 1
    assert [(call["idempotency_key"], call["signed"]) for call in sim.calls] == [("rapport-reorder-SM1", True)] * 2
    assert json.loads(sim.calls[0]["body"]) == REQUEST.model_dump(mode="json")


def test_down_then_back_is_unavailable_then_one_order(simulator: tuple[OrderingSimulator, str]) -> None:
    sim, url = simulator
    sim.down = True
    with pytest.raises(OrderingUnavailableError, match="HTTP 503"):
        webhook(url).place(REQUEST)
    sim.down = False
    webhook(url).place(REQUEST)
    webhook(url).place(REQUEST)
    assert len(sim.answers) == 1


def test_a_wrong_secret_is_refused_and_orders_nothing(simulator: tuple[OrderingSimulator, str]) -> None:
    sim, url = simulator
    with pytest.raises(OrderingRefusedError, match="HTTP 401"):
        webhook(url, secret="not the secret").place(REQUEST)
    assert sim.answers == {} and sim.calls[0]["signed"] is False


def test_a_replayed_body_under_a_fresh_key_orders_nothing(simulator: tuple[OrderingSimulator, str]) -> None:
    """The key that counts is the signed body's: a captured call replayed with another
    Idempotency-Key header is refused."""
    sim, url = simulator
    body = json.dumps(REQUEST.model_dump(mode="json"), separators=(",", ":")).encode()
    headers = {"Idempotency-Key": "fresh", "X-Rapport-Signature": signature(SECRET, int(time.time()), body)}
    replayed = requests.post(url, data=body, headers=headers, timeout=10)
    assert replayed.status_code == 400 and sim.answers == {}


def test_switched_off_is_refused_and_a_redirect_is_not_followed() -> None:
    with pytest.raises(OrderingRefusedError, match="ORDER_WEBHOOK_URL is not set"):
        webhook("").place(REQUEST)
    server = bare_server(302, b"", location="http://127.0.0.1:9/elsewhere")
    try:
        with pytest.raises(OrderingRefusedError, match="HTTP 302"):  # the signed call is not sent on
            webhook(f"http://127.0.0.1:{server.server_address[1]}/orders").place(REQUEST)
    finally:
        server.shutdown()
        server.server_close()


def test_nobody_listening_is_unavailable() -> None:
    with pytest.raises(OrderingUnavailableError, match="no answer"):
        webhook(f"http://127.0.0.1:{free_port()}/orders").place(REQUEST)


def bare_server(status: int, payload: bytes, delay_s: float = 0.0, location: str = "") -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            time.sleep(delay_s)
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize(
    ("status", "payload", "error", "match"),
    [
        (500, b"oops", OrderingUnavailableError, "HTTP 500"),
        (429, b"", OrderingUnavailableError, "HTTP 429"),
        (408, b"", OrderingUnavailableError, "HTTP 408"),
        (422, b'{"error": "store closed"}', OrderingRefusedError, "HTTP 422: .*store closed"),
        (200, b'{"order_id": "x"}', OrderingRefusedError, "without a message"),
        (200, b"<html>", OrderingRefusedError, "without a JSON object"),
    ],
)
def test_answers_are_read_as_retry_later_or_refused(
    status: int, payload: bytes, error: type[Exception], match: str
) -> None:
    server = bare_server(status, payload)
    try:
        with pytest.raises(error, match=match):
            webhook(f"http://127.0.0.1:{server.server_address[1]}/orders").place(REQUEST)
    finally:
        server.shutdown()
        server.server_close()


def test_a_slow_answer_is_unavailable_not_waited_for() -> None:
    server = bare_server(200, b'{"message": "late"}', delay_s=1.0)
    try:
        with pytest.raises(OrderingUnavailableError, match="no answer"):
            webhook(f"http://127.0.0.1:{server.server_address[1]}/orders", timeout_s=0.2).place(REQUEST)
    finally:
        server.shutdown()
        server.server_close()
