"""The one-off consent repair, on the in-memory table and on DynamoDB (moto
server): a profile written before the registers, whose STOP a later-stamped
import overwrote (the STOP still in its history), gets its STOP back; a
healthy profile is left alone (services/repair.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.adapters.dynamodb_store import DynamoConversationStore
from chalicelib.adapters.table_layout import contact_key
from chalicelib.domain.contact import ConsentEvent, ConsentState, Contact
from chalicelib.services.repair import repair_all, repair_one
from tests.fakes import MemoryTable

DAMAGED, HEALTHY = "+447700900878", "+447700900879"
AT = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> DynamoConversationStore:
    if request.param == "memory":
        memory = MemoryTable()
        return DynamoConversationStore(memory.client, memory.name)
    return DynamoConversationStore(request.getfixturevalue("dynamodb"), request.getfixturevalue("table"))


def written_before_the_registers(store: DynamoConversationStore, client: Any, table: str) -> None:
    """As the old code left it: the STOP in the history, the import over it on the profile."""
    stop = ConsentEvent(
        state=ConsentState.OPTED_OUT, source="keyword", keyword="STOP", at=AT, message_sid="SM" + "9" * 32
    )
    imported = ConsentEvent(state=ConsentState.OPTED_IN, source="till", at=AT + timedelta(hours=10))
    store.save_contact(Contact(phone=DAMAGED, created_at=AT), None)
    client.update_item(
        TableName=table, Key=contact_key(DAMAGED), UpdateExpression="SET consent = :c",
        ExpressionAttributeValues={":c": {"S": imported.model_dump_json()}},
    )  # fmt: skip
    store.timeline.add_trail(DAMAGED, [stop, imported], [])


def test_a_stop_an_old_import_overwrote_comes_back_and_a_healthy_profile_is_left_alone(
    store: DynamoConversationStore,
) -> None:
    client, table = store._client, store._table
    written_before_the_registers(store, client, table)
    healthy = Contact(phone=HEALTHY, created_at=AT).with_consent(
        ConsentEvent(state=ConsentState.OPTED_IN, source="till", at=AT)
    )
    store.save_contact(healthy, None)
    store.timeline.add_trail(HEALTHY, [healthy.brand_consent] if healthy.brand_consent else [], [])
    damaged = store.get_contact(DAMAGED)
    assert damaged is not None and damaged.consent == ConsentState.OPTED_IN  # the damage, as loaded

    done = repair_all(store)
    assert (done.seen, done.changed) == (2, 1)
    repaired = store.get_contact(DAMAGED)
    assert repaired is not None and repaired.consent == ConsentState.OPTED_OUT
    assert "consent" not in client.get_item(TableName=table, Key=contact_key(DAMAGED))["Item"]  # the old field gone
    assert not repair_one(DAMAGED, store) and not repair_one(HEALTHY, store)  # again: nothing to do
