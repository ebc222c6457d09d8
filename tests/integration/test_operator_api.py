"""The operator API in-process: bearer tokens, validation, campaigns, contacts, preview."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

import pytest
from chalice.test import Client

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb_store import DynamoConversationStore
from chalicelib.domain.messages import DeliveryStatus, Direction, Message
from chalicelib.domain.runs import Run, run_id
from chalicelib.entrypoints import auth as operator_auth
from tests.integration.conftest import ALICE, OLIVE, OPERATOR_TOKEN, item_count, post_signed, settings_for, wire

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

AUTH = {"Authorization": f"Bearer {OPERATOR_TOKEN}", "Content-Type": "application/json"}
LUNCHTIME = "2026-06-10T12:00:00Z"  # 13:00 in Leeds
CAMPAIGN = {
    "name": "2-for-1 Tuesday",
    "message": "Hi {first_name|there}, 2-for-1 pizzas tonight at {branch|our Leeds branch}",
    "audience": {"tags": ["pizza"]},
    "location": {"name": "Leeds", "prefixes": ["LS1", "LS6"]},
    "send_at": LUNCHTIME,
    "relevance_hours": 6,
    "messages_per_second": 1,
}
OPTED_IN = {"state": "opted_in", "source": "web form", "at": "2026-01-05T10:00:00Z"}
BRAND = "+15005550006"


def call(client: Client, method: str, path: str, body: Any = None, headers: dict[str, str] = AUTH) -> tuple[int, Any]:
    response = client.http.request(
        method, path, headers=headers, body=json.dumps(body).encode() if body is not None else b""
    )
    return response.status_code, json.loads(response.body) if response.body else None


def recent(days: int = 20) -> str:
    return f"2026-05-{31 - days:02d}T10:00:00Z"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {OPERATOR_TOKEN}"}],
    ids=["missing", "wrong", "not-bearer"],
)
def test_every_api_route_needs_a_valid_bearer_token(client: Client, headers: dict[str, str]) -> None:
    for method, path in (("GET", "/api/campaigns"), ("POST", "/api/contacts"), ("GET", "/api/contacts/447700900123")):
        status, body = call(client, method, path, body={} if method == "POST" else None, headers=headers)
        assert status == 401 and "Bearer" in body["Message"]


def test_without_script_tokens_named_keys_open_it(client: Client, dynamodb: DynamoDBClient, table: str) -> None:
    settings = settings_for(table)
    wire(dynamodb, type(settings)(**{**settings.__dict__, "operator_token_hashes": frozenset()}))
    assert call(client, "GET", "/api/campaigns")[0] == 401
    assert call(client, "GET", "/api/campaigns", headers=OLIVE)[0] == 200


def test_script_tokens_that_cannot_be_read_close_the_api_to_all_but_named_keys(
    client: Client, dynamodb: DynamoDBClient, table: str
) -> None:
    settings = settings_for(table)
    unread = {**settings.__dict__, "operator_token_hashes": frozenset(), "operator_tokens_param": "/rapport/x/hashes"}
    wire(dynamodb, type(settings)(**unread))
    with patch.object(operator_auth, "operator_token_hashes", return_value=frozenset()):
        assert call(client, "GET", "/api/campaigns")[0] == 503  # SSM unreadable: it may be a script's token
        assert call(client, "GET", "/api/campaigns", headers=OLIVE)[0] == 200


def test_a_campaign_is_created_listed_updated_paused_and_resumed(client: Client) -> None:
    status, created = call(client, "POST", "/api/campaigns", CAMPAIGN)
    assert status == 201 and created["id"].startswith("cmp_") and created["status"] == "active"
    assert created["deadline"] == "2026-06-10T18:00:00+00:00"
    assert created["location"]["prefixes"] == ["LS1", "LS6"]
    path = f"/api/campaigns/{created['id']}"
    assert call(client, "GET", "/api/campaigns")[1]["campaigns"][0]["id"] == created["id"]
    status, updated = call(client, "PUT", path, {**CAMPAIGN, "name": "3-for-2 Tuesday"})
    assert status == 200 and updated["name"] == "3-for-2 Tuesday" and updated["version"] == 2
    assert call(client, "POST", f"{path}/pause")[1]["status"] == "paused"
    assert call(client, "GET", path)[1]["status"] == "paused"
    assert call(client, "POST", f"{path}/resume")[1]["status"] == "active"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"message": "Hi {first_name}, deals!"}, "message"),
        ({"send_at": "2026-06-10T12:00:00"}, "send_at"),
        ({"messages_per_second": 0}, "messages_per_second"),
        ({"messages_per_second": 0.05}, "messages_per_second"),
        ({"messages_per_second": 1001}, "messages_per_second"),
        ({"purpose": "spam"}, "purpose"),
        ({"purpose": "transactional"}, "transactional texts come only from order events and agents' replies"),
        ({"purpose": "conversational"}, "a campaign is 'marketing' or 'question'"),
        ({"purpose": "question"}, "has purpose question, and only it"),
        ({"location": {"name": "Leeds", "prefixes": []}}, "location.prefixes"),
    ],
)
def test_bad_campaigns_get_400_with_the_reason(
    client: Client, dynamodb: DynamoDBClient, table: str, change: dict[str, Any], reason: str
) -> None:
    status, body = call(client, "POST", "/api/campaigns", {**CAMPAIGN, **change})
    assert status == 400 and reason in body["Message"]
    assert item_count(dynamodb, table) == 0


def test_unknown_campaigns_are_404(client: Client) -> None:
    for method, path in (("GET", "/api/campaigns/cmp_nope"), ("POST", "/api/campaigns/cmp_nope/pause")):
        assert call(client, method, path)[0] == 404
    assert call(client, "PUT", "/api/campaigns/cmp_nope", CAMPAIGN)[0] == 404


def test_an_import_with_one_bad_number_stores_nothing(client: Client, dynamodb: DynamoDBClient, table: str) -> None:
    contacts = [{"phone": "+447700900123"}, {"phone": "not a number"}]
    status, body = call(client, "POST", "/api/contacts", {"contacts": contacts})
    assert status == 400 and "contacts.1.phone" in body["Message"]
    assert item_count(dynamodb, table) == 0


def test_an_import_never_overrides_a_newer_stop(client: Client, store: DynamoConversationStore) -> None:
    call(client, "POST", "/api/contacts", {"contacts": [{"phone": "+447700900123", "consent": OPTED_IN}]})
    stop = {"state": "opted_out", "source": "keyword", "at": "2026-02-01T10:00:00Z"}
    call(client, "POST", "/api/contacts", {"contacts": [{"phone": "447700900123", "consent": stop}]})
    stale = {**OPTED_IN, "at": "2026-01-20T10:00:00Z"}  # an old export, replayed
    status, body = call(client, "POST", "/api/contacts", {"contacts": [{"phone": "+447700900123", "consent": stale}]})
    assert (status, body) == (200, {"imported": 1})
    status, contact = call(client, "GET", "/api/contacts/447700900123")
    assert status == 200 and contact["consent"] == "opted_out"
    history = [(e["state"], e["at"]) for e in contact["consent_history"]]  # every record kept, by its time
    assert history == [("opted_in", "2026-01-05T10:00:00Z"), ("opted_in", stale["at"]), ("opted_out", stop["at"])]


def test_preview_counts_every_decision_and_shows_samples(client: Client) -> None:
    home_leeds = {"area": "LS6 3AB", "confirmed_at": recent()}
    contacts = [
        {"phone": "+447700900001", "tags": ["pizza"], "attributes": {"first_name": "Sam"}, "home": home_leeds,
         "consent": OPTED_IN},
        {"phone": "+447700900002", "tags": ["pizza"], "home": home_leeds, "consent": OPTED_IN},
        {"phone": "+447700900003", "tags": ["pizza"], "home": {"area": "SW1A 1AA", "confirmed_at": recent()},
         "consent": OPTED_IN},
        {"phone": "+447700900004", "tags": ["pizza"], "home": home_leeds,
         "consent": {"state": "opted_out", "source": "keyword", "at": "2026-02-01T00:00:00Z"}},
        {"phone": "+447700900005", "tags": ["pizza"], "home": home_leeds},
        {"phone": "+447700900006", "tags": ["pizza"], "consent": OPTED_IN},
        {"phone": "+447700900007", "tags": ["burgers"], "home": home_leeds, "consent": OPTED_IN},
    ]  # fmt: skip
    assert call(client, "POST", "/api/contacts", {"contacts": contacts})[0] == 200
    campaign = call(client, "POST", "/api/campaigns", CAMPAIGN)[1]
    status, preview = call(client, "POST", f"/api/campaigns/{campaign['id']}/preview")
    assert status == 200
    assert preview["audience"] == 6  # the burger fan is not in it
    assert preview["decisions"] == {
        "ask/stale_location": 1,
        "drop/no_consent": 1,
        "drop/opted_out": 1,
        "drop/out_of_area": 1,
        "send/clear": 2,
    }
    texts = sorted(sample["detail"] for sample in preview["samples"]["send/clear"])
    assert texts == [
        "Hi Sam, 2-for-1 pizzas tonight at our Leeds branch",
        "Hi there, 2-for-1 pizzas tonight at our Leeds branch",
    ]
    assert "SW1A1AA" in preview["samples"]["drop/out_of_area"][0]["detail"]
    assert preview["evaluated_at"] == "2026-06-10T12:00:00+00:00"


@pytest.mark.parametrize(
    ("contact", "reason"),
    [
        ({"phone": "+447700900123", "time_zone": "Mars/Olympus"}, "unknown time zone"),
        ({"phone": "+447700900123", "consent": {"state": "opted_in", "at": "2026-01-01T00:00:00Z"}}, "source"),
        (
            {"phone": "+447700900123", "consent": {"state": "maybe", "source": "x", "at": "2026-01-01T00:00:00Z"}},
            "state",
        ),
    ],
)
def test_bad_contacts_get_400_with_the_reason(
    client: Client, dynamodb: DynamoDBClient, table: str, contact: dict[str, Any], reason: str
) -> None:
    status, body = call(client, "POST", "/api/contacts", {"contacts": [contact]})
    assert status == 400 and reason in body["Message"]
    assert item_count(dynamodb, table) == 0


@pytest.mark.parametrize("written", ["+447700900123", "%2B447700900123", "447700900123"])
def test_a_contact_is_found_however_its_number_is_written_in_the_path(client: Client, written: str) -> None:
    call(
        client,
        "POST",
        "/api/contacts",
        {"contacts": [{"phone": "+447700900123", "home": {"area": "ls6 1aa", "region": "fl"}}]},
    )
    status, contact = call(client, "GET", f"/api/contacts/{written}")
    assert status == 200 and contact["phone"] == "+447700900123"
    assert contact["home"]["area"] == "LS61AA" and contact["home"]["region"] == "FL"
    assert call(client, "GET", "/api/contacts/+447700900999")[0] == 404
    assert call(client, "GET", "/api/contacts/not-a-number")[0] == 400


def test_a_campaign_has_a_message_or_a_known_question(client: Client) -> None:
    question = {**CAMPAIGN, "message": None, "location": None, "prompt_id": "interests"}
    status, created = call(client, "POST", "/api/campaigns", question)
    assert status == 201 and created["prompt_id"] == "interests" and created["message"] is None
    assert created["purpose"] == "question"  # unsaid, it follows from the prompt_id
    status, body = call(client, "POST", "/api/campaigns", {**question, "prompt_id": "no_such_question"})
    assert status == 400 and "no prompt 'no_such_question'" in body["Message"]
    status, body = call(client, "POST", "/api/campaigns", {**question, "message": "Hi"})
    assert status == 400 and "one of a message, variants (messages split by weight) or a prompt_id" in body["Message"]
    status, body = call(client, "POST", "/api/campaigns", {**question, "purpose": "marketing"})
    assert status == 400 and "has purpose question" in body["Message"]


def test_imports_are_bounded_with_a_clear_reason_and_nothing_half_stored(
    client: Client, store: DynamoConversationStore
) -> None:
    def post(*contacts: dict[str, Any]) -> tuple[int, Any]:
        return call(client, "POST", "/api/contacts", {"contacts": list(contacts)})

    assert post({"phone": "+447700900801", "attributes": {"note": "x" * 257}})[0] == 400
    assert post({"phone": "+447700900801", "attributes": {"bad name!": "x"}})[0] == 400
    assert post({"phone": "+447700900801", "tags": ["t" * 41]})[0] == 400
    assert post({"phone": "+447700900801", "tags": [f"t{n}" for n in range(51)]})[0] == 400
    assert post({"phone": "+447700900801", "tags": [f"a{n}" for n in range(30)]}) == (200, {"imported": 1})
    status, body = post(
        {"phone": "+447700900802", "tags": ["new"]}, {"phone": "+447700900801", "tags": [f"b{n}" for n in range(30)]}
    )
    assert status == 400 and "+447700900801 would have 60 tags; at most 50" in body["Message"]
    assert store.get_contact("+447700900802") is None  # the whole import was refused
    contact = store.get_contact("+447700900801")
    assert contact is not None and len(contact.tags) == 30


# --- the campaign form's live preview: POST /api/campaigns/render

TEMPLATE = "Hi {first_name|there}, 2-for-1 at {branch|our Leeds branch}"


def test_render_fills_the_fields_from_the_sample_contact(client: Client) -> None:
    sam = {"phone": "+447700900401", "attributes": {"first_name": "Sam", "branch": "  "}}
    assert call(client, "POST", "/api/contacts", {"contacts": [sam]})[0] == 200
    status, shown = call(client, "POST", "/api/campaigns/render", {"message": TEMPLATE, "phone": "447700900401"})
    assert status == 200
    assert shown == {
        "text": "Hi Sam, 2-for-1 at our Leeds branch",  # a blank attribute takes the fallback
        "segments": 1,
        "encoding": "GSM-7",
        "units": 35,
        "limit": 160,
        "because": [],
        "fields": ["branch", "first_name"],
        "missing_fields": ["branch"],
        "sample": "+447700900401",
    }


def test_render_without_a_sample_uses_every_fallback(client: Client, dynamodb: DynamoDBClient, table: str) -> None:
    status, shown = call(client, "POST", "/api/campaigns/render", {"message": TEMPLATE})
    assert status == 200 and shown["text"] == "Hi there, 2-for-1 at our Leeds branch"
    assert shown["missing_fields"] == ["first_name", "branch"] and shown["sample"] is None
    assert item_count(dynamodb, table) == 0  # nothing stored


@pytest.mark.parametrize(
    ("message", "segments", "encoding", "units", "limit"),
    [
        ("x" * 160, 1, "GSM-7", 160, 160),
        ("x" * 161, 2, "GSM-7", 161, 306),
        ("€" * 80, 1, "GSM-7", 160, 160),  # the extension table costs two septets
        ("€" * 81, 2, "GSM-7", 162, 306),
        ("Pizza 🍕 tonight", 1, "UCS-2", 16, 70),  # an emoji is two UTF-16 units
        ("Café — " + "x" * 63, 1, "UCS-2", 70, 70),
        ("Café — " + "x" * 64, 2, "UCS-2", 71, 134),
    ],
)
def test_render_counts_segments_and_names_the_encoding(
    client: Client, message: str, segments: int, encoding: str, units: int, limit: int
) -> None:
    status, shown = call(client, "POST", "/api/campaigns/render", {"message": message})
    assert status == 200
    assert (shown["segments"], shown["encoding"], shown["units"], shown["limit"]) == (segments, encoding, units, limit)
    if encoding == "UCS-2":
        assert shown["because"] and all(ch not in "Café x" for ch in shown["because"])


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ({"message": "Hi {first_name}, deals"}, 400, "message"),  # a field without a fallback
        ({"message": "Hi {First Name|there}"}, 400, "placeholders look like"),
        ({"message": ""}, 400, "message"),
        ({"message": "x" * 1601}, 400, "message"),
        ({}, 400, "message"),
        ({"message": "Hi", "phone": "not a number"}, 400, "phone: "),
        ({"message": "Hi", "phone": "+447700900999"}, 404, "no contact +447700900999"),
    ],
)
def test_render_refuses_what_a_campaign_would_refuse(
    client: Client, body: dict[str, Any], status: int, reason: str
) -> None:
    answered, error = call(client, "POST", "/api/campaigns/render", body)
    assert answered == status and reason in error["Message"]


def test_render_is_for_operators(client: Client) -> None:
    status, body = call(client, "POST", "/api/campaigns/render", {"message": "Hi"}, ALICE)
    assert status == 403 and "agent" in body["Message"]
    assert call(client, "POST", "/api/campaigns/render", {"message": "Hi"}, OLIVE)[0] == 200


# --- delivery receipts count each text of a run once


def test_a_run_counts_each_text_delivered_once_whatever_the_receipts_repeat(
    client: Client, store: DynamoConversationStore
) -> None:
    campaign = call(client, "POST", "/api/campaigns", CAMPAIGN)[1]
    scheduled = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    run = Run(id=run_id(campaign["id"], scheduled), campaign_id=campaign["id"], scheduled_for=scheduled,
              started_at=scheduled, shards=1)  # fmt: skip
    assert bootstrap.deps().runs.start_run(run)
    texts = {f"SM{n:032d}": f"+4477009004{n:02d}" for n in range(3)}
    for sid, to in texts.items():
        store.messages.put(
            Message(sid=sid, phone=to, brand_number=BRAND, direction=Direction.OUTBOUND, at=scheduled,
                    body="Hi", status=DeliveryStatus.QUEUED, run_id=run.id)
        )  # fmt: skip
    first, second, third = texts.items()
    receipts = [
        (first, "sent"), (first, "delivered"), (first, "delivered"), (first, "sent"), (first, "undelivered"),
        (second, "delivered"), (second, "delivered"),
        (third, "undelivered"), (third, "delivered"), (third, "undelivered"),
    ]  # fmt: skip
    for (sid, to), status in receipts:
        form = {"MessageSid": sid, "MessageStatus": status, "To": to, "From": BRAND}
        if status == "undelivered":
            form["ErrorCode"] = "30003"
        assert post_signed(client, "/twilio/status", form).status_code == 204
    (listed,) = call(client, "GET", f"/api/campaigns/{campaign['id']}/runs")[1]["runs"]
    assert listed["counts"]["delivered"] == 2  # the first final status of each text stands
    assert listed["counts"]["undelivered"] == 1
    message, _ = store.messages.with_contact(texts[first[0]], first[0])
    assert message is not None and message.status == DeliveryStatus.DELIVERED
