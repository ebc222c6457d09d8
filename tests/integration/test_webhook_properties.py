"""Hypothesis: whatever Twilio (or anyone who holds the token) posts, never a 5xx,
never half-written state."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import app
from chalicelib import bootstrap
from chalicelib.adapters.dynamodb_store import DynamoConversationStore
from chalicelib.domain.messages import DeliveryStatus
from chalicelib.domain.phone import normalise
from local.schema import create_table
from tests.integration.conftest import item_count, post_signed, settings_for, wire

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SIDS = st.one_of(st.from_regex(r"\A(SM|MM)[0-9a-f]{32}\Z"), st.text(max_size=40))
PHONES = st.one_of(
    st.sampled_from(["+447700900123", "+14155550100", "447911123456", "+61491570156", "72345"]),
    st.from_regex(r"\A\+?[0-9 ()-]{0,18}\Z"),
    st.text(max_size=20),
)
STATUSES = st.one_of(st.sampled_from(["queued", "sent", "delivered", "undelivered", "failed", "read"]), st.text())
ERROR_CODES = st.one_of(st.sampled_from(["", "30003", "30005", "30006", "21610", "21614"]), st.text(max_size=6))


def maybe(field: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, str]]:
    return st.one_of(st.just({}), values.map(lambda value: {field: value}))


def forms(*fields: tuple[str, st.SearchStrategy[str]]) -> st.SearchStrategy[dict[str, str]]:
    extra = st.dictionaries(st.text(min_size=1, max_size=12), st.text(max_size=30), max_size=3)
    parts = [maybe(name, values) for name, values in fields] + [extra]
    return st.tuples(*parts).map(lambda dicts: {k: v for d in reversed(dicts) for k, v in d.items()})


INBOUND_FORMS = forms(
    ("MessageSid", SIDS), ("From", PHONES), ("To", PHONES), ("Body", st.text(max_size=200)), ("OptOutType", st.text())
)
STATUS_FORMS = forms(
    ("MessageSid", SIDS), ("MessageStatus", STATUSES), ("To", PHONES), ("From", PHONES), ("ErrorCode", ERROR_CODES)
)


Wired = tuple[Client, DynamoConversationStore, str]


@pytest.fixture(scope="module")
def wired(dynamodb: DynamoDBClient) -> Iterator[Wired]:
    table = f"rapport-prop-{uuid.uuid4().hex[:12]}"
    create_table(dynamodb, table)
    store = wire(dynamodb, settings_for(table))
    with Client(app, stage_name="dev") as client:
        yield client, store, table
    bootstrap.use(None)


FIRST_BODIES: dict[tuple[str, str], str] = {}  # lives as long as the module's table
CHECKS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def accepted(wired: Wired, dynamodb: DynamoDBClient, path: str, form: dict[str, str], ok: int) -> bool:
    """Post the signed form: only `ok` or 400 may come back, and a 400 writes nothing."""
    client, _, table = wired
    before = item_count(dynamodb, table)
    status = post_signed(client, path, form).status_code
    assert status in (ok, 400)
    if status == 400:
        assert item_count(dynamodb, table) == before
    return status == ok


@CHECKS
@given(form=INBOUND_FORMS)
def test_inbound_never_fails_and_never_half_writes(
    wired: Wired, dynamodb: DynamoDBClient, form: dict[str, str]
) -> None:
    if accepted(wired, dynamodb, "/twilio/inbound", form, ok=200):
        key = (normalise(form["From"]), form["MessageSid"])
        message, contact = wired[1].messages.with_contact(*key)
        assert message is not None and contact is not None  # both, or (on 400) neither
        # the first text under a sid is the one kept: a later one is a retry
        assert message.body == FIRST_BODIES.setdefault(key, form["Body"])


@CHECKS
@given(form=STATUS_FORMS)
def test_receipts_never_fail_and_never_half_write(wired: Wired, dynamodb: DynamoDBClient, form: dict[str, str]) -> None:
    if accepted(wired, dynamodb, "/twilio/status", form, ok=204):
        message, _ = wired[1].messages.with_contact(normalise(form["To"]), form["MessageSid"])
        assert message is not None and message.has_seen(DeliveryStatus(form["MessageStatus"]))
