"""Retention, on the in-memory table and on DynamoDB (moto server): each kind of
personal record carries the TTL its setting gives (days after it was made),
and 0 days keeps it until erasure (domain/retention.py; docs/privacy.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.adapters.dynamodb_runs import DynamoRunStore
from chalicelib.adapters.dynamodb_store import DynamoConversationStore
from chalicelib.adapters.table_layout import ANSWER, ANSWERS, decision_key, entry_key, key, message_key, sortable
from chalicelib.domain.messages import Direction, Message
from chalicelib.domain.reasons import FreeTextAnswer, Reason
from chalicelib.domain.retention import Retention
from chalicelib.domain.runs import DecisionRecord
from chalicelib.domain.timeline import Entry, EntryKind
from tests.fakes import MemoryTable

PHONE = "+447700900877"
AT = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)
KEPT = Retention(messages=30, notes=0, answers=10, decisions=5)


@pytest.fixture(params=["memory", "dynamodb"])
def table(request: pytest.FixtureRequest) -> tuple[Any, str]:
    if request.param == "memory":
        memory = MemoryTable()
        return memory.client, memory.name
    return request.getfixturevalue("dynamodb"), request.getfixturevalue("table")


def expires(client: Any, name: str, item_key: dict[str, Any]) -> datetime | None:
    item = client.get_item(TableName=name, Key=item_key)["Item"]
    return datetime.fromtimestamp(int(item["expires_at"]["N"]), UTC) if "expires_at" in item else None


def test_each_kind_expires_as_its_setting_says(table: tuple[Any, str]) -> None:
    client, name = table
    store, runs = DynamoConversationStore(client, name, KEPT), DynamoRunStore(client, name, KEPT)
    message = Message(
        sid="SM" + "7" * 32, phone=PHONE, brand_number="+1", direction=Direction.INBOUND, at=AT, body="hi"
    )
    assert store.messages.put(message) is None
    note = Entry(id="note-1", kind=EntryKind.NOTE, at=AT, summary="called back", author="alice")
    assert store.timeline.add_entry(PHONE, note)
    answer = FreeTextAnswer(prompt_id="why_not_lately", phone=PHONE, text="moved", reasons=[Reason.MOVED_AWAY], at=AT,
                            sid="SM" + "8" * 32)  # fmt: skip
    unit = store.unit()
    unit.add(*store.answers.added(answer))
    unit.commit()
    decision = DecisionRecord(phone=PHONE, run_id="cmp_r@1", campaign_id="cmp_r", at=AT, stage="planned",
                              verdict="send", reason="clear", explanation="go")  # fmt: skip
    runs.holds.record([decision], [])

    assert expires(client, name, message_key(PHONE, message.sid)) == AT + timedelta(days=30)
    assert expires(client, name, entry_key(PHONE, "note-1")) is None  # 0 days: until erased
    answer_key = key(f"{ANSWERS}why_not_lately", f"{ANSWER}{sortable(AT)}#{answer.sid}")
    assert expires(client, name, answer_key) == AT + timedelta(days=10)
    assert expires(client, name, decision_key(PHONE, "cmp_r@1")) == AT + timedelta(days=5)
