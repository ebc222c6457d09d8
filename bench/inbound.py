"""The inbound webhook in-process (chalice.test.Client) against DynamoDB on moto server.

Figures: messages per second for a known contact, DynamoDB calls per message
(known contact, first contact, retried webhook), and the time per message as a
ratio to a bare Chalice route that only returns TwiML, measured in this run:
once whole, once without the time spent waiting on the emulated DynamoDB.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from chalice.app import Chalice, Response
from chalice.test import Client
from twilio.request_validator import RequestValidator

from app import app
from bench._support import CallCounter, Figure, log, moto_dynamodb
from chalicelib import bootstrap
from chalicelib.adapters.clock import SystemClock
from chalicelib.adapters.webhook import twiml
from chalicelib.config import Settings
from chalicelib.domain.inbound import InboundSms
from chalicelib.services.inbound import handle_inbound
from local.schema import create_table

CONTACTS = 100
ROUNDS = 2  # known-contact messages per contact after the first
BURST, AT_ONCE = 50, 16  # texts from one number arriving together
TOKEN = "bench-token"
BASE = "https://bench.example/prod"
FORM = "application/x-www-form-urlencoded"

bare = Chalice(app_name="bare")


@bare.route("/twilio/inbound", methods=["POST"], content_types=[FORM])
def bare_inbound() -> Response:
    return Response(body=twiml(""), status_code=200, headers={"Content-Type": "text/xml"})


def signed_request(sid: str, phone: str, body: str) -> tuple[dict[str, str], str]:
    form = {"MessageSid": sid, "From": phone, "To": "+15005550006", "Body": body}
    signature = RequestValidator(TOKEN).compute_signature(f"{BASE}/twilio/inbound", form)
    return {"Content-Type": FORM, "X-Twilio-Signature": signature}, urlencode(form)


def timed(client: Client, requests: list[tuple[dict[str, str], str]]) -> float:
    start = time.perf_counter()
    for headers, body in requests:
        response = client.http.post("/twilio/inbound", headers=headers, body=body)
        assert response.status_code == 200, response.body
    return time.perf_counter() - start


def burst(deps: bootstrap.Deps, counter: CallCounter) -> tuple[float, float]:
    """BURST texts from one new number, AT_ONCE at a time, through the inbound use
    case on threads (the Chalice test client serves one request at a time): the
    share taken on the first try, and DynamoDB calls per text."""
    at = datetime.now(UTC)
    texts = [
        InboundSms(f"SM{n:032x}", "+447700988888", "+15005550006", f"part {n}", at + timedelta(milliseconds=n))
        for n in range(BURST)
    ]

    def take(sms: InboundSms) -> bool:
        try:
            handle_inbound(sms, deps.store, deps.settings.replies, deps.runs, deps.prompts)
        except Exception as error:  # a text not taken is what is counted
            log(f"inbound burst: {sms.sid} not taken: {error!r}")
            return False
        return True

    counter.reset()
    with concurrent.futures.ThreadPoolExecutor(AT_ONCE) as pool:
        taken = list(pool.map(take, texts))
    return sum(taken) / BURST, counter.calls / BURST


def run() -> list[Figure]:
    phones = [f"+4477009{i:05d}" for i in range(CONTACTS)]
    sid: Callable[[int, int], str] = lambda round_, i: f"SM{round_:016x}{i:016x}"  # noqa: E731
    with moto_dynamodb() as dynamodb:
        create_table(dynamodb, "bench-inbound")
        counter = CallCounter(dynamodb)
        settings = Settings.from_env(
            {"TABLE_NAME": "bench-inbound", "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": BASE}
        )
        bootstrap.use(bootstrap.on_dynamodb(settings, dynamodb, SystemClock()))
        log(f"inbound: {CONTACTS} first contacts, then {CONTACTS * ROUNDS} known-contact messages")
        with Client(app, stage_name="dev") as client:
            first = [signed_request(sid(0, i), phone, "hello") for i, phone in enumerate(phones)]
            timed(client, first)
            first_calls = counter.calls / CONTACTS

            known = [
                signed_request(sid(round_, i), phone, f"message {round_}")
                for round_ in range(1, ROUNDS + 1)
                for i, phone in enumerate(phones)
            ]
            counter.reset()
            known_s = timed(client, known)
            known_calls, known_ddb_s = counter.calls / len(known), counter.seconds

            counter.reset()
            timed(client, first)  # every one a retried webhook
            duplicate_calls = counter.calls / CONTACTS
        first_try, burst_calls = burst(bootstrap.deps(), counter)
        bootstrap.use(None)
    with Client(bare, stage_name="dev") as bare_client:
        bare_s = timed(bare_client, known)
    bare_per_message = bare_s / len(known)
    return [
        ("inbound.messages_per_s", len(known) / known_s, "msg/s"),
        ("inbound.ddb_calls_per_message", known_calls, "calls"),
        ("inbound.ddb_calls_first_contact", first_calls, "calls"),
        ("inbound.ddb_calls_retried_webhook", duplicate_calls, "calls"),
        ("inbound.burst_first_try_ratio", first_try, "x"),
        ("inbound.ddb_calls_per_message_burst", burst_calls, "calls"),
        ("inbound.route_ratio", known_s / len(known) / bare_per_message, "x"),
        # the same without the time spent waiting on the emulator's DynamoDB calls
        ("inbound.route_ratio_excluding_ddb", (known_s - known_ddb_s) / len(known) / bare_per_message, "x"),
        ("inbound.ddb_ms_per_message", known_ddb_s / len(known) * 1000, "ms"),
    ]
