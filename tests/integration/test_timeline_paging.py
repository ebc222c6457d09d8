"""The read side loses nothing: a long history read through the API a page at a
time, with events that tie in time, comes back whole and once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.adapters.dynamodb_contacts import contact_item
from chalicelib.adapters.dynamodb_store import DynamoConversationStore
from chalicelib.domain.contact import ConsentEvent, ConsentState, Contact
from chalicelib.domain.messages import Direction, InboundKind, Message
from tests.integration.conftest import OPERATOR_TOKEN

AUTH = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PHONE = "+447700900555"


def build_history(store: DynamoConversationStore, texts: int, instructions: int) -> set[str]:
    """Texts and consent instructions, three to a second so that times tie; their event ids."""
    store._client.put_item(TableName=store._table, Item=contact_item(Contact(phone=PHONE, created_at=AT), 1))
    ids: set[str] = set()
    for n in range(texts):
        message = Message(
            sid=f"SM{n:032x}", phone=PHONE, brand_number="+15005550006", direction=Direction.INBOUND,
            at=AT + timedelta(seconds=n // 3), body=f"text {n}", kind=InboundKind.CONVERSATION,
        )  # fmt: skip
        store.messages.put(message)
        ids.add(f"m:{message.sid}")
    events = [
        ConsentEvent(
            state=ConsentState.OPTED_OUT if n % 2 else ConsentState.OPTED_IN,
            source="keyword",
            at=AT + timedelta(seconds=n // 3),
            message_sid=f"SMk{n:031x}",
        )
        for n in range(instructions)
    ]
    store.timeline.add_trail(PHONE, events, [])
    ids |= {f"k:{e.at.isoformat()}:{e.message_sid}" for e in events}
    return ids


def read_all(client: Client, limit: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = f"limit={limit}" + (f"&before={cursor}" if cursor else "")
        response = client.http.get(f"/api/contacts/{PHONE}/timeline?{query}", headers=AUTH)
        assert response.status_code == 200, response.body
        page = json.loads(response.body)
        assert len(page["events"]) <= limit
        events += page["events"]
        cursor = page["next"]
        if cursor is None:
            return events


@pytest.mark.slow
def test_pages_of_any_size_hold_a_long_history_whole_and_once(client: Client, store: DynamoConversationStore) -> None:
    ids = build_history(store, texts=800, instructions=1200)
    whole = read_all(client, 200)
    assert len(whole) == len(ids) == 2000
    assert {e["id"] for e in whole} == ids
    times = [e["at"] for e in whole]
    assert times == sorted(times, reverse=True)  # newest first
    assert [e["id"] for e in read_all(client, 143)] == [e["id"] for e in whole]


def test_one_event_a_page_still_holds_every_tie(client: Client, store: DynamoConversationStore) -> None:
    ids = build_history(store, texts=40, instructions=40)
    one_by_one = read_all(client, 1)
    assert [e["id"] for e in one_by_one] == [e["id"] for e in read_all(client, 200)]
    assert {e["id"] for e in one_by_one} == ids


def test_a_cursor_that_is_not_ours_is_refused(client: Client, store: DynamoConversationStore) -> None:
    build_history(store, texts=3, instructions=0)
    for bad in ("yesterday", "2026-03-01T12:00", "W10=", "bnVsbA"):
        response = client.http.get(f"/api/contacts/{PHONE}/timeline?before={bad}", headers=AUTH)
        assert response.status_code == 400, bad
