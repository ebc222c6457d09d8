"""End to end on the running stack: a customer's data exported, then erased;
the erased number imported again as opted in gets nothing from a campaign,
and only its own START opts it back in (GET /api/contacts/{n}/export,
DELETE /api/contacts/{n}; docs/privacy.md)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import requests

from tests.e2e.conftest import OPERATOR_TOKEN, RunningStack
from tests.e2e.test_campaigns import api, campaign_texts, numbers, person, planned_run, start_campaign
from tests.e2e.test_inbound_integrity import post

AUTH = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}  # the script token: an admin's


def naming(stack: RunningStack, phone: str) -> list[str]:
    """Every item of the table that mentions the number, anywhere in it."""
    client, digits, found = stack.store._client, phone.removeprefix("+"), []
    request: dict[str, Any] = {"TableName": "rapport-e2e"}
    while True:
        page = client.scan(**request)
        found += [f"{i['pk']['S']} {i['sk']['S']}" for i in page.get("Items", []) if digits in json.dumps(i)]
        if "LastEvaluatedKey" not in page:
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def erase(stack: RunningStack, phone: str) -> requests.Response:
    return requests.delete(f"{stack.api}/api/contacts/{phone.replace('+', '%2B')}", headers=AUTH, timeout=30)


def test_export_then_erase_then_import_again_then_a_campaign_sends_nothing(stack: RunningStack) -> None:
    tag = f"rights-{uuid.uuid4().hex[:8]}"
    [phone] = numbers(1)
    api(stack, "POST", "/api/contacts", {"contacts": [person(phone, tag)]})
    post(stack, phone, "do you deliver to LS6?")
    assert any("unsubscribed" in reply for reply in post(stack, phone, "STOP")["replies"])

    exported = api(stack, "GET", f"/api/contacts/{phone.replace('+', '%2B')}/export")
    assert exported["profile"]["phone"] == phone and exported["profile"]["consent_event"]["state"] == "opted_out"
    assert sorted(m["body"] for m in exported["messages"]) == ["STOP", "do you deliver to LS6?"]
    assert [e["state"] for e in exported["consent_history"]] == ["opted_in", "opted_out"]

    erased = erase(stack, phone)
    assert erased.status_code == 200 and erased.json()["suppressed"] is True, erased.text
    assert naming(stack, phone) == []  # every item that named it, in the one call
    assert requests.get(f"{stack.api}/api/contacts/{phone}", headers=AUTH, timeout=30).status_code == 404

    api(stack, "POST", "/api/contacts", {"contacts": [person(phone, tag)]})  # the old list, imported again
    run = planned_run(stack, start_campaign(stack, tag)["id"])
    assert {k: v for k, v in run["counts"].items() if "/" in k} == {"drop/opted_out": 1}
    assert campaign_texts(stack, phone) == []


def test_erased_then_the_customers_own_start_opts_them_in_again(stack: RunningStack) -> None:
    [phone] = numbers(1)
    api(stack, "POST", "/api/contacts", {"contacts": [person(phone, f"rights-{uuid.uuid4().hex[:8]}")]})
    post(stack, phone, "STOP")
    assert erase(stack, phone).status_code == 200
    assert erase(stack, phone).status_code == 404  # nothing held any more
    started = post(stack, phone, "START")
    assert any("subscribed" in reply for reply in started["replies"]), started
    contact = stack.store.get_contact(phone)
    assert contact is not None and contact.consent == "opted_in"
