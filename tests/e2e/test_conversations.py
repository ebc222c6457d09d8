"""End to end: questions that keep profiles true, and conversations agents
pick up, on the running stack through the simulator's handsets."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from tests.e2e.conftest import RunningStack
from tests.e2e.test_campaigns import QUESTION, api, campaign_texts, numbers, person, planned_run, start_campaign
from tests.e2e.test_local_stack import eventually, handset, text


def agent(stack: RunningStack, name: str) -> tuple[str, str]:
    """A new agent key (made with the stack's admin token): (its unique name, the key)."""
    unique = f"{name}-{uuid.uuid4().hex[:6]}"
    return unique, api(stack, "POST", "/api/keys", {"name": unique, "role": "agent"})["key"]


def as_key(stack: RunningStack, key: str, method: str, path: str, body: Any = None) -> Any:
    response = requests.request(
        method, f"{stack.api}{path}", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    assert response.status_code < 300, response.text
    return response.json()


def test_a_postcode_answer_moves_the_home_and_the_next_offer_follows_it(stack: RunningStack) -> None:
    tag = f"e2e-{uuid.uuid4().hex[:8]}"
    [phone] = numbers(1)
    api(stack, "POST", "/api/contacts", {"contacts": [person(phone, tag, home="LS2 9JT", home_days=400)]})
    first = start_campaign(stack, tag)
    eventually(lambda: campaign_texts(stack, phone) or None, timeout_s=30)
    assert campaign_texts(stack, phone) == [QUESTION]  # asked instead of promoted

    answer = text(stack, phone, "We moved, it's SW1A 1AA now")
    assert answer["replies"] == ["Thanks, noted your postcode."]
    profile = api(stack, "GET", f"/api/contacts/{phone}")
    assert profile["home"]["area"] == "SW1A1AA" and profile["home"]["source"] == "prompt:still_near"
    assert profile["pending_prompt"] is None
    assert [(h["field"], h["old"], h["new"]) for h in profile["history"]] == [("home.area", "LS29JT", "SW1A1AA")]

    second = start_campaign(stack, tag)
    assert second["id"] != first["id"]
    run = planned_run(stack, second["id"])
    assert {k: v for k, v in run["counts"].items() if "/" in k} == {"drop/out_of_area": 1}


def test_an_agent_picks_up_a_conversation_and_the_reply_reaches_the_handset(stack: RunningStack) -> None:
    [phone] = numbers(1)
    api(stack, "POST", "/api/contacts", {"contacts": [person(phone, "e2e-agent")]})
    assert text(stack, phone, "Can I book a table for six tonight?")["replies"] == []
    inbox = api(stack, "GET", "/api/conversations?limit=200")["conversations"]
    assert phone in [c["phone"] for c in inbox]
    alice, key = agent(stack, "alice")
    assert as_key(stack, key, "POST", f"/api/conversations/{phone}/claim", {})["agent"] == alice
    reply = as_key(stack, key, "POST", f"/api/conversations/{phone}/reply", {"body": "Yes, 7pm is free."})
    assert eventually(lambda: handset(stack, phone) or None) == ["Yes, 7pm is free."]
    note = as_key(stack, key, "POST", f"/api/conversations/{phone}/notes", {"text": "Table 4 booked"})
    assert note["author"] == alice
    delivered = eventually(
        lambda: [e for e in api(stack, "GET", f"/api/contacts/{phone}/timeline")["events"]
                 if e["type"] == "message_out" and e["detail"]["status"] == "delivered"] or None
    )  # fmt: skip
    assert delivered[0]["detail"]["sid"] == reply["sid"]
    types = [e["type"] for e in api(stack, "GET", f"/api/contacts/{phone}/timeline")["events"]]
    assert types[:3] == ["note", "message_out", "message_in"]


def test_closing_a_conversation_releases_the_marketing_it_held(stack: RunningStack) -> None:
    tag = f"e2e-{uuid.uuid4().hex[:8]}"
    [phone] = numbers(1)
    api(stack, "POST", "/api/contacts", {"contacts": [person(phone, tag)]})
    text(stack, phone, "Do you have a kids menu?")
    campaign = start_campaign(stack, tag)
    run = planned_run(stack, campaign["id"])
    assert run["counts"]["hold/in_conversation"] == 1
    assert campaign_texts(stack, phone) == []
    closed = as_key(stack, agent(stack, "alice")[1], "POST", f"/api/conversations/{phone}/close", {})
    assert closed["released_held_texts"] == 1
    assert eventually(lambda: campaign_texts(stack, phone) or None, timeout_s=30) == ["Hi Sam, 2-for-1 pizzas tonight"]


def test_two_agents_claiming_at_once_get_one_owner_and_one_409(stack: RunningStack) -> None:
    [phone] = numbers(1)
    text(stack, phone, "hello?")

    (alice, alice_key), (bob, bob_key) = agent(stack, "alice"), agent(stack, "bob")

    def claim(key: str) -> int:
        response = requests.post(
            f"{stack.api}/api/conversations/{phone}/claim",
            json={},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(claim, [alice_key, bob_key]))
    assert statuses == [200, 409]
    [mine] = [c for c in api(stack, "GET", "/api/conversations?limit=200")["conversations"] if c["phone"] == phone]
    assert mine["agent"] in (alice, bob)
