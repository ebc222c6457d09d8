"""Request bodies are read strictly: JSON's `false` is no number and a number is
no time, although lax pydantic would take both (as 0 and as Unix time). The
documented types are what a client must send."""

from __future__ import annotations

import json
from typing import Any

from chalice.test import Client

from tests.integration.test_operator_api import AUTH

PHONE = "+447700900778"
ORDER = {"id": "order-1", "channel": "order_placed", "at": "2026-03-01T11:00:00Z", "summary": "2 pizzas"}
PROMPT = {
    "id": "strict",
    "question": "{brand}: 1 or 2?",
    "answers": [{"number": 1, "words": ["one"]}, {"number": 2, "words": ["two"]}],
    "reask": "1 or 2?",
}


def post(client: Client, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = client.http.post(path, body=json.dumps(body), headers={**AUTH, "Content-Type": "application/json"})
    return response.status_code, json.loads(response.body)


def test_a_time_must_be_an_iso_string(client: Client) -> None:
    assert post(client, "/api/contacts", {"contacts": [{"phone": PHONE}]})[0] == 200
    status, refused = post(client, f"/api/contacts/{PHONE}/interactions", {**ORDER, "at": 1_772_362_800})
    assert status == 400 and "at" in refused["Message"]
    assert post(client, f"/api/contacts/{PHONE}/interactions", ORDER)[0] == 201


def test_false_is_not_the_number_zero(client: Client) -> None:
    answers = [{"number": False, "words": ["zero"]}, *PROMPT["answers"]]
    status, refused = post(client, "/api/prompts", {**PROMPT, "answers": answers})
    assert status == 400 and "number" in refused["Message"]
    assert post(client, "/api/prompts", PROMPT)[0] == 201


def test_a_body_that_is_not_json_is_a_400(client: Client) -> None:
    response = client.http.post("/api/prompts", body="{not json", headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 400
