"""End to end: a handset texts the running service through the Twilio simulator."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from twilio.rest import Client as TwilioClient

from chalicelib.domain.contact import ConsentState, DeliverabilityState
from chalicelib.domain.messages import DeliveryStatus
from tests.e2e.conftest import ACCOUNT_SID, TOKEN, RunningStack

BRAND = "+15005550006"
T = TypeVar("T")


def text(stack: RunningStack, sender: str, body: str, **options: Any) -> dict[str, Any]:
    response = requests.post(
        f"{stack.sim}/sim/inbound", json={"from": sender, "to": BRAND, "body": body, **options}, timeout=30
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def handset(stack: RunningStack, phone: str) -> list[str]:
    messages = requests.get(f"{stack.sim}/sim/handsets/{phone}", timeout=30).json()["messages"]
    return [m["body"] for m in messages]


def eventually(probe: Callable[[], T | None], timeout_s: float = 15.0) -> T:
    """Poll until the probe returns something; status callbacks are asynchronous."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.1)
    raise AssertionError(f"nothing after {timeout_s}s")


def twilio(stack: RunningStack) -> TwilioClient:
    client = TwilioClient(ACCOUNT_SID, TOKEN)
    client.api.base_url = stack.sim
    return client


def test_health_answers(stack: RunningStack) -> None:
    assert requests.get(f"{stack.api}/health", timeout=30).json() == {"status": "ok", "webhooks": "enabled"}


def test_a_handset_texts_the_service_and_the_message_is_stored(stack: RunningStack) -> None:
    result = text(stack, "+447700900201", "Are you open on Sunday?")
    assert result["status"] == 200 and result["replies"] == []
    thread = stack.store.messages.thread("+447700900201")
    assert [(m.sid, m.body) for m in thread] == [(result["sid"], "Are you open on Sunday?")]


def test_stop_then_help_then_start(stack: RunningStack) -> None:
    phone = "+447700900202"
    stop, help_, start = (text(stack, phone, body)["replies"] for body in ("STOP", "HELP", "START"))
    assert len(stop) == 1 and "unsubscribed" in stop[0]
    assert len(help_) == 1 and "Pizza Co" in help_[0] and "STOP" in help_[0]
    assert len(start) == 1 and "subscribed again" in start[0]
    assert handset(stack, phone) == stop + help_ + start
    contact = stack.store.get_contact(phone)
    assert contact is not None and contact.consent == ConsentState.OPTED_IN
    assert [(e.state, e.keyword) for e in stack.store.timeline.trail(phone).consents] == [
        (ConsentState.OPTED_OUT, "STOP"),
        (ConsentState.OPTED_IN, "START"),
    ]


def test_advanced_opt_out_is_recorded_without_a_second_reply(stack: RunningStack) -> None:
    phone = "+447700900203"
    result = text(stack, phone, "stop", advanced_opt_out=True)
    assert result["replies"] == []
    assert handset(stack, phone) == ["Twilio STOP auto-reply"]  # only Twilio's own answer
    contact = stack.store.get_contact(phone)
    assert contact is not None and contact.consent_event is not None
    assert contact.consent_event.source == "twilio_advanced_opt_out"


def test_a_duplicated_webhook_is_answered_the_same_and_stored_once(stack: RunningStack) -> None:
    phone, sid = "+447700900204", "SM" + "d" * 32
    first = text(stack, phone, "STOP", sid=sid)
    second = text(stack, phone, "STOP", sid=sid)
    assert first["response"] == second["response"] and "unsubscribed" in first["response"]
    assert [m.sid for m in stack.store.messages.thread(phone)] == [sid]
    contact = stack.store.get_contact(phone)
    assert contact is not None and contact.engagement.inbound_count == 1


def test_a_forged_webhook_is_refused_and_stores_nothing(stack: RunningStack) -> None:
    phone = "+447700900205"
    assert text(stack, phone, "STOP", forged=True)["status"] == 403
    assert stack.store.get_contact(phone) is None
    assert stack.store.messages.thread(phone) == []


def test_status_callbacks_from_a_real_send_then_late_ones_out_of_order(stack: RunningStack) -> None:
    phone = "+447700900206"
    sent = twilio(stack).messages.create(
        to=phone, from_=BRAND, body="Your order is on its way", status_callback=f"{stack.api}/twilio/status"
    )
    assert sent.sid.startswith("SM") and sent.status == "queued"

    def delivered() -> Any:
        message, _ = stack.store.messages.with_contact(phone, sent.sid)
        return message if message is not None and message.status == DeliveryStatus.DELIVERED else None

    message = eventually(delivered)
    assert [e.status for e in message.status_events] == ["queued", "sent", "delivered"]
    late = requests.post(
        f"{stack.sim}/sim/status",
        json={"sid": sent.sid, "to": phone, "from": BRAND, "events": [{"status": "sent"}, {"status": "queued"}]},
        timeout=30,
    ).json()
    assert late["statuses"] == [204, 204]
    after, _ = stack.store.messages.with_contact(phone, sent.sid)
    assert after is not None and after.status == DeliveryStatus.DELIVERED
    assert handset(stack, phone) == ["Your order is on its way"]


def test_a_designated_landline_becomes_undeliverable(stack: RunningStack) -> None:
    phone = "+15005550036"
    sent = twilio(stack).messages.create(
        to=phone, from_=BRAND, body="Hello", status_callback=f"{stack.api}/twilio/status"
    )

    def undeliverable() -> Any:
        contact = stack.store.get_contact(phone)
        return contact if contact and contact.deliverability.state == DeliverabilityState.UNDELIVERABLE else None

    contact = eventually(undeliverable)
    assert contact.deliverability.last_error_code == 30006
    message, _ = stack.store.messages.with_contact(phone, sent.sid)
    assert message is not None and message.status == DeliveryStatus.UNDELIVERED
