"""End to end: Twilio retries what the service could not take, when the webhook
URL's connection overrides say so, and the text is stored exactly once.

A small HTTP proxy stands for the network (or API Gateway) between Twilio and
the service: the simulator sends the webhook through it, signed over the URL
Twilio calls, and the proxy answers 5xx to the first attempt, either after
passing it on (the service stored it, the answer was lost) or before (the
service never saw it).
"""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import requests

from tests.conftest import LoopbackServer
from tests.e2e.conftest import RunningStack

BRAND = "+15005550006"


class FlakyNetwork:
    """A forward HTTP proxy that fails the first attempt with `status`."""

    def __init__(self, status: int, after_forwarding: bool) -> None:
        self.status, self.after_forwarding = status, after_forwarding
        self.attempts: list[str] = []
        upstream = requests.Session()
        upstream.trust_env = False  # straight to the service, whatever the environment's proxies
        network = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                network.attempts.append(self.path)  # absolute: the URL Twilio called
                first = len(network.attempts) == 1
                if first and not network.after_forwarding:
                    return self._answer(network.status, b"", "text/plain")
                headers = {k: self.headers[k] for k in ("Content-Type", "X-Twilio-Signature") if k in self.headers}
                answer = upstream.post(self.path, data=body, headers=headers, timeout=30)
                if first:
                    return self._answer(network.status, b"", "text/plain")  # stored, but the answer is lost
                return self._answer(answer.status_code, answer.content, answer.headers.get("Content-Type", ""))

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.http = LoopbackServer(Handler)
        self.url = self.http.url

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def network() -> Iterator[type[FlakyNetwork]]:
    started: list[FlakyNetwork] = []

    class Started(FlakyNetwork):
        def __init__(self, status: int, after_forwarding: bool) -> None:
            super().__init__(status, after_forwarding)
            started.append(self)

    yield Started
    for each in started:
        each.close()


def text(stack: RunningStack, sender: str, body: str, **options: Any) -> dict[str, Any]:
    request = {"from": sender, "to": BRAND, "body": body, **options}
    response = requests.post(f"{stack.sim}/sim/inbound", json=request, timeout=60)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def handset(stack: RunningStack, phone: str) -> list[str]:
    return [m["body"] for m in requests.get(f"{stack.sim}/sim/handsets/{phone}", timeout=30).json()["messages"]]


def test_the_stacks_webhook_url_makes_a_lost_answer_retried_and_the_text_is_kept_once(
    stack: RunningStack, network: type[FlakyNetwork]
) -> None:
    phone = "+447700940001"
    flaky = network(502, after_forwarding=True)
    result = text(stack, phone, "help", proxy=flaky.url)  # to the URL the stack configures, overrides included
    assert (result["status"], result["attempts"], result["outcomes"]) == (200, 2, ["502", "200"])
    assert flaky.attempts == [f"{stack.api}/twilio/inbound"] * 2  # the fragment is never sent
    assert [(m.sid, m.body) for m in stack.store.messages.thread(phone)] == [(result["sid"], "help")]
    assert result["replies"] and handset(stack, phone) == result["replies"]  # answered once


@pytest.mark.parametrize(
    ("after_forwarding", "overrides", "attempts", "stored"),
    [
        (True, "#rc=2&rp=5xx", 2, 1),  # the service stored it, the 502 got lost: the retry changes nothing
        (False, "#rc=2&rp=5xx", 2, 1),  # the service never saw it: the retry stores it
        (True, "", 1, 1),  # Twilio's default: no retry on a 5xx ...
        (False, "", 1, 0),  # ... so a 5xx before the service saw it is a text lost
    ],
)
def test_a_5xx_is_retried_only_with_the_overrides_and_the_text_is_stored_at_most_once(
    stack: RunningStack, network: type[FlakyNetwork], after_forwarding: bool, overrides: str, attempts: int,
    stored: int,
) -> None:  # fmt: skip
    phone = f"+4477009401{attempts}{stored + 2 * after_forwarding}"
    flaky = network(503 if not after_forwarding else 502, after_forwarding)
    webhook_url = f"{stack.api}/twilio/inbound{overrides}"
    result = text(stack, phone, "Are you open on Sunday?", webhook_url=webhook_url, proxy=flaky.url)
    assert result["attempts"] == attempts == len(flaky.attempts)
    assert result["status"] == (200 if attempts == 2 else flaky.status)
    assert [m.sid for m in stack.store.messages.thread(phone)] == [result["sid"]] * stored
