"""End to end on the running stack: bursts of texts from one number, a STOP
among them, and one number's long consent history."""

from __future__ import annotations

import concurrent.futures
from typing import Any

import pytest
import requests

from chalicelib.adapters.table_layout import contact_key
from chalicelib.domain.contact import ConsentState
from tests.e2e.conftest import RunningStack
from tests.e2e.test_local_stack import BRAND, handset

BURST = 50
AT_ONCE = 16


def post(stack: RunningStack, sender: str, body: str) -> dict[str, Any]:
    response = requests.post(f"{stack.sim}/sim/inbound", json={"from": sender, "to": BRAND, "body": body}, timeout=60)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def burst(stack: RunningStack, sender: str, bodies: list[str]) -> list[dict[str, Any]]:
    with concurrent.futures.ThreadPoolExecutor(AT_ONCE) as pool:
        return list(pool.map(lambda body: post(stack, sender, body), bodies))


def test_fifty_texts_at_once_from_one_number_are_all_taken_and_counted(stack: RunningStack) -> None:
    phone = "+447700900301"
    results = burst(stack, phone, [f"part {n} of my long question" for n in range(BURST)])
    assert [r["status"] for r in results] == [200] * BURST  # each on its first try
    history = stack.store.timeline.history(phone)
    assert sorted(m.body for m in history.messages) == sorted(f"part {n} of my long question" for n in range(BURST))
    contact = stack.store.get_contact(phone)
    assert contact is not None and contact.engagement.inbound_count == BURST
    assert contact.conversation is not None and contact.conversation.message_count == BURST


def test_a_stop_in_the_middle_of_a_burst_is_honoured_and_confirmed_once(stack: RunningStack) -> None:
    phone = "+447700900302"
    bodies = [f"text {n}" for n in range(30)]
    bodies[15] = "Stop pls"
    results = burst(stack, phone, bodies)
    assert all(r["status"] == 200 for r in results)
    contact = stack.store.get_contact(phone)
    assert contact is not None and contact.consent == ConsentState.OPTED_OUT
    assert [e.state for e in stack.store.timeline.trail(phone).consents] == [ConsentState.OPTED_OUT]
    assert sum("unsubscribed" in body for body in handset(stack, phone)) == 1
    assert len(stack.store.timeline.history(phone).messages) == 30


@pytest.mark.slow
def test_a_thousand_stop_start_flips_keep_the_profile_small_and_the_last_stop_wins(stack: RunningStack) -> None:
    """1,000 flips prove the bound as 5,000 did (248 s on the stack, 50 ms a text): anything kept per
    text on the profile, a sid marker (~40 bytes) or a consent event (~100), would pass 16 KB by then."""
    phone = "+447700900303"
    flips = 1000
    for start in range(0, flips, 500):  # in order, a few at a time: each round's texts race each other
        round_ = ["STOP" if n % 2 == 0 else "START" for n in range(start, start + 500)]
        assert all(r["status"] == 200 for r in burst(stack, phone, round_))
    assert post(stack, phone, "STOP")["status"] == 200
    contact = stack.store.get_contact(phone)
    assert contact is not None and contact.consent == ConsentState.OPTED_OUT
    assert contact.engagement.inbound_count == flips + 1
    assert len(stack.store.timeline.trail(phone).consents) == flips + 1
    client = stack.store._client
    item = client.get_item(TableName="rapport-e2e", Key=contact_key(phone))["Item"]
    size = sum(len(name) + len(str(value)) for name, value in item.items())
    assert size < 16 * 1024, f"the profile item is {size} bytes"


QUERIES = ["store=Leeds%20Central", "store=Leeds+Central", "city=M%C3%BCnchen", "a=1&b=2&a=3", "next=%2Fpath%3Fx%3D1"]


@pytest.mark.parametrize("query", QUERIES, ids=["space-as-%20", "space-as-plus", "utf-8", "repeated-keys", "reserved"])
def test_a_webhook_url_with_a_query_is_verified_as_twilio_signed_it(stack: RunningStack, query: str) -> None:
    phone = f"+4477009003{50 + QUERIES.index(query)}"
    url = f"{stack.api}/twilio/inbound?{query}"
    response = requests.post(
        f"{stack.sim}/sim/inbound", json={"from": phone, "to": BRAND, "body": "hi", "webhook_url": url}, timeout=60
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == 200
    assert [m.sid for m in stack.store.messages.thread(phone)] == [result["sid"]]  # stored once


def test_a_query_twilio_did_not_sign_is_refused_and_nothing_is_stored(stack: RunningStack) -> None:
    phone = "+447700900399"
    signed = f"{stack.api}/twilio/inbound?store=Leeds%20Central"
    response = requests.post(
        f"{stack.sim}/sim/inbound",
        json={"from": phone, "to": BRAND, "body": "hi", "webhook_url": signed, "forged": True},
        timeout=60,
    )
    assert response.json()["status"] == 403
    assert stack.store.get_contact(phone) is None
