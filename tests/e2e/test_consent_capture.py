"""End to end on the running stack: consent won by double opt-in, by text
(JOIN, then YES) and from a web form (POST /api/consents, then YES), each
opted in only by the YES and kept with its proof."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from tests.e2e.conftest import OPERATOR_TOKEN, RunningStack
from tests.e2e.test_campaigns import api, numbers
from tests.e2e.test_inbound_integrity import post
from tests.e2e.test_local_stack import eventually, handset

AUTH = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
QUESTION = "Reply YES to get offers from Pizza Co. Msg&data rates may apply. Reply STOP to cancel."


def history(stack: RunningStack, phone: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api(stack, "GET", f"/api/contacts/{phone.replace('+', '%2B')}")["consent_history"]
    return found


def test_join_then_yes_opts_in_with_the_words_and_the_texts_as_proof(stack: RunningStack) -> None:
    [phone] = numbers(1)
    joined = post(stack, phone, "JOIN")
    assert joined["replies"] == [QUESTION]
    assert api(stack, "GET", f"/api/contacts/{phone.replace('+', '%2B')}")["consent"] == "unknown"
    said_yes = post(stack, phone, "Yes")
    assert said_yes["replies"] == ["You're in! Reply STOP to cancel, HELP for help."]
    [event] = history(stack, phone)
    assert (event["state"], event["source"], event["message_sid"]) == ("opted_in", "double_opt_in", said_yes["sid"])
    versions = {t["text_version"]: t["text"] for t in api(stack, "GET", "/api/consent-texts")["consent_texts"]}
    assert versions[event["proof"]["text_version"]] == QUESTION  # the words are on record under the version
    assert (event["proof"]["source"], event["proof"]["message_sid"]) == ("sms", joined["sid"])


def test_a_web_form_sign_up_texts_the_question_and_only_yes_opts_in(stack: RunningStack) -> None:
    version = f"footer-{uuid.uuid4().hex[:6]}"
    words = "Get Pizza Co offers by text. Msg&data rates may apply. Reply STOP to cancel."
    put = requests.put(f"{stack.api}/api/consent-texts/{version}", json={"text": words}, headers=AUTH, timeout=30)
    assert put.status_code == 201, put.text
    changed = requests.put(
        f"{stack.api}/api/consent-texts/{version}", json={"text": words + "!"}, headers=AUTH, timeout=30
    )
    assert changed.status_code == 409  # the words shown under a version never change
    key = api(stack, "POST", "/api/keys", {"name": f"forms-{uuid.uuid4().hex[:6]}", "role": "integration"})["key"]
    [phone] = numbers(1)
    form = {
        "phone": phone, "source": "website footer", "consent_text_version": version, "ip": "203.0.113.9",
        "user_agent": "Mozilla/5.0 (e2e)", "at": (datetime.now(UTC) - timedelta(seconds=5)).isoformat(),
    }  # fmt: skip
    as_form = {"Authorization": f"Bearer {key}", "Idempotency-Key": f"signup-{uuid.uuid4().hex}"}

    def sign_up(body: dict[str, Any]) -> requests.Response:
        return requests.post(f"{stack.api}/api/consents", json=body, headers=as_form, timeout=30)

    assert sign_up({**form, "at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}).status_code == 400
    assert sign_up({**form, "consent_text_version": "never-shown"}).status_code == 422
    first, again = sign_up(form), sign_up(form)
    assert first.status_code == 201 and again.json()["sid"] == first.json()["sid"], (first.text, again.text)
    assert eventually(lambda: handset(stack, phone) or None) == [QUESTION]  # once, however often it was posted
    assert api(stack, "GET", f"/api/contacts/{phone.replace('+', '%2B')}")["consent"] == "unknown"
    said_yes = post(stack, phone, "YES")
    [event] = history(stack, phone)
    assert (event["state"], event["message_sid"]) == ("opted_in", said_yes["sid"])
    proof = event["proof"]
    assert (proof["text_version"], proof["source"], proof["ip"]) == (version, "website footer", "203.0.113.9")
    assert proof["user_agent"] == "Mozilla/5.0 (e2e)"
