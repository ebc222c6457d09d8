"""Agents and other systems on the operator API, in-process: the inbox,
exclusive claims, replies through the policy, notes, closing, interactions,
the timeline and prompts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.domain.policy import Decision, Reason, Verdict
from chalicelib.domain.runs import DecisionRecord, Run
from chalicelib.services.ports import SendOutcome, SendResult
from tests.fakes import FakeSender, InMemoryQueue, StepClock
from tests.integration.conftest import post_signed, settings_for
from tests.integration.test_operator_api import call

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ANNA, BEN = "+447700900401", "+447700900402"


@dataclass
class Agents:
    client: Client
    deps: bootstrap.Deps
    sender: FakeSender
    queue: InMemoryQueue
    clock: StepClock

    def text(self, phone: str, body: str, sid: str) -> None:
        sid = f"SM{sid.encode().hex():0>32}"[:34]  # Twilio's shape: SM and 32 hex digits
        form = {"MessageSid": sid, "From": phone, "To": "+15005550006", "Body": body, "AccountSid": "AC" + "1" * 32}
        assert post_signed(self.client, "/twilio/inbound", form).status_code == 200


@pytest.fixture
def agents(dynamodb: DynamoDBClient, table: str) -> Iterator[Agents]:
    clock = StepClock()
    queue = InMemoryQueue()
    deps = replace(bootstrap.on_dynamodb(settings_for(table), dynamodb, clock), send_queue=queue)
    sender = FakeSender(clock)
    bootstrap.use(deps, sender)
    with Client(app, stage_name="dev") as client:
        yield Agents(client, deps, sender, queue, clock)
    bootstrap.use(None)


def test_the_inbox_lists_who_waits_longest_first_and_a_claim_is_exclusive(agents: Agents) -> None:
    agents.text(ANNA, "Do you do gluten free?", "SMa1")
    agents.text(BEN, "Is the shop open?", "SMb1")
    agents.text(ANNA, "Hello?", "SMa2")
    status, inbox = call(agents.client, "GET", "/api/conversations")
    assert status == 200
    assert [(c["phone"], c["messages"], c["agent"]) for c in inbox["conversations"]] == [
        (ANNA, 2, None),
        (BEN, 1, None),
    ]
    assert inbox["conversations"][0]["waiting_seconds"] > inbox["conversations"][1]["waiting_seconds"] > 0

    assert call(agents.client, "POST", f"/api/conversations/{ANNA}/claim", {"agent": "alice"})[0] == 200
    status, refused = call(agents.client, "POST", f"/api/conversations/{ANNA}/claim", {"agent": "bob"})
    assert status == 409 and "alice has this conversation" in refused["Message"]
    status, moved = call(agents.client, "POST", f"/api/conversations/{ANNA}/claim", {"agent": "bob", "reassign": True})
    assert status == 200 and moved["agent"] == "bob"
    assert call(agents.client, "POST", "/api/conversations/447700900999/claim", {"agent": "bob"})[0] == 404
    assert call(agents.client, "POST", f"/api/conversations/{ANNA}/claim", {})[0] == 400


def test_a_reply_goes_out_and_both_agents_replies_are_kept_in_order(agents: Agents) -> None:
    agents.text(ANNA, "Do you do gluten free?", "SMa1")
    assert (
        call(agents.client, "POST", f"/api/conversations/{ANNA}/reply", {"agent": "alice", "body": "We do!"})[0] == 201
    )
    status, second = call(
        agents.client, "POST", f"/api/conversations/{ANNA}/reply", {"agent": "bob", "body": "Any size."}
    )  # a colleague may reply too: the claim routes, it does not silence
    assert status == 201 and second["sid"].startswith("SM") and second["status"] == "queued"
    assert [(to, text) for to, text, *_ in agents.sender.sent] == [(ANNA, "We do!"), (ANNA, "Any size.")]
    thread = agents.deps.store.thread(ANNA)
    assert [m.body for m in reversed(thread)] == ["Do you do gluten free?", "We do!", "Any size."]
    [waiting] = call(agents.client, "GET", "/api/conversations")[1]["conversations"]
    assert waiting["waiting_since"] is None and waiting["agent"] == "alice"


def test_replies_respect_opt_outs_and_twilio_refusals(agents: Agents) -> None:
    agents.text(ANNA, "hi", "SMa1")
    agents.sender.answers = [SendResult(SendOutcome.REJECTED, error_code=21211, detail="not a valid number")]
    status, body = call(agents.client, "POST", f"/api/conversations/{ANNA}/reply", {"agent": "al", "body": "Hello"})
    assert status == 502 and "not a valid number" in body["Message"]
    agents.text(ANNA, "STOP", "SMa2")
    status, body = call(agents.client, "POST", f"/api/conversations/{ANNA}/reply", {"agent": "al", "body": "Sorry!"})
    assert status == 409 and body["Message"].startswith("opted_out")
    assert len(agents.sender.sent) == 1


def test_closing_releases_the_campaign_texts_the_conversation_held(agents: Agents) -> None:
    agents.text(ANNA, "question", "SMa1")
    now = agents.clock.now()
    run = Run(id="cmp_x@1", campaign_id="cmp_x", scheduled_for=now, started_at=now, shards=1)
    held = Decision(Verdict.HOLD, Reason.IN_CONVERSATION, "A conversation with an agent is open.", until=now)
    agents.deps.runs.record_decisions([DecisionRecord.of(ANNA, run, held, now, "at_send")], [])
    status, closed = call(agents.client, "POST", f"/api/conversations/{ANNA}/close", {"agent": "alice"})
    assert status == 200 and closed["released_held_texts"] == 1
    assert [job for job, _ in agents.queue.jobs] == [{"run_id": "cmp_x@1", "campaign_id": "cmp_x", "phone": ANNA}]
    assert call(agents.client, "GET", "/api/conversations")[1]["conversations"] == []
    latest = call(agents.client, "GET", f"/api/contacts/{ANNA}/timeline?limit=1")[1]["events"][0]
    assert (latest["type"], latest["summary"], latest["detail"]["author"]) == ("note", "Conversation closed.", "alice")
    assert call(agents.client, "POST", f"/api/conversations/{ANNA}/close", {"agent": "alice"})[0] == 404


def test_interactions_are_idempotent_and_the_timeline_merges_everything_in_pages(agents: Agents) -> None:
    agents.text(ANNA, "Where is my order?", "SMa1")
    order = {"id": "order-77", "channel": "order_placed", "at": "2026-03-01T11:00:00Z", "summary": "2 pizzas"}
    assert call(agents.client, "POST", f"/api/contacts/{ANNA}/interactions", order)[0] == 201
    status, again = call(agents.client, "POST", f"/api/contacts/{ANNA}/interactions", order)
    assert status == 200 and again["created"] is False
    assert call(agents.client, "POST", f"/api/conversations/{ANNA}/notes", {"agent": "al", "text": "VIP"})[0] == 201
    call(agents.client, "POST", f"/api/conversations/{ANNA}/reply", {"agent": "al", "body": "On its way"})

    status, page = call(agents.client, "GET", f"/api/contacts/%2B{ANNA[1:]}/timeline?limit=2")
    assert status == 200 and [e["type"] for e in page["events"]] == ["message_out", "note"]
    status, rest = call(agents.client, "GET", f"/api/contacts/{ANNA}/timeline?limit=50&before={page['next']}")
    assert [e["type"] for e in rest["events"]] == ["message_in", "interaction"] and rest["next"] is None
    assert rest["events"][1]["detail"]["channel"] == "order_placed"
    assert call(agents.client, "GET", f"/api/contacts/{ANNA}/timeline?limit=0")[0] == 400
    assert call(agents.client, "GET", f"/api/contacts/{ANNA}/timeline?before=yesterday")[0] == 400
    assert call(agents.client, "GET", f"/api/contacts/{ANNA}/timeline?before=2026-03-01T12:00")[0] == 400
    assert call(agents.client, "GET", "/api/contacts/447700900999/timeline")[0] == 404
    assert call(agents.client, "POST", f"/api/contacts/{ANNA}/interactions", {**order, "at": "soon"})[0] == 400


def test_prompts_are_listed_created_and_validated(agents: Agents) -> None:
    status, listed = call(agents.client, "GET", "/api/prompts")
    assert status == 200 and {"still_near", "interests", "reengagement"} <= {p["id"] for p in listed["prompts"]}
    prompt = {
        "id": "favourite",
        "question": "{brand}: favourite pizza? 1 margherita, 2 pepperoni",
        "answers": [
            {"number": 1, "words": ["margherita"], "effects": ["set_attribute"], "attribute": "favourite",
             "value": "margherita", "reply": "Good choice"},
            {"number": 2, "words": ["pepperoni"], "effects": ["set_attribute"], "attribute": "favourite",
             "value": "pepperoni", "reply": "Spicy"},
        ],
        "reask": "1 or 2?",
    }  # fmt: skip
    assert call(agents.client, "POST", "/api/prompts", prompt)[0] == 201
    assert "favourite" in {p["id"] for p in call(agents.client, "GET", "/api/prompts")[1]["prompts"]}
    status, refused = call(agents.client, "POST", "/api/prompts", {**prompt, "answers": [{"effects": []}]})
    assert status == 400 and "needs words, a number or a pattern" in refused["Message"]


def test_a_contact_is_asked_a_question_and_its_answer_sets_the_field(agents: Agents) -> None:
    agents.text(ANNA, "hi there", "SMa1")  # Anna exists; 12:00 in London: inside the window
    status, asked = call(agents.client, "POST", f"/api/contacts/{ANNA}/ask", {"prompt_id": "interests"})
    assert status == 201 and asked["body"].startswith("Pizza Co: what would you like to hear about?")
    agents.text(ANNA, "2", "SMa2")
    profile = call(agents.client, "GET", f"/api/contacts/{ANNA}")[1]
    assert profile["attributes"]["interest"]["value"] == "menu" and profile["pending_prompt"] is None
    assert profile["attributes"]["interest"]["source"] == "prompt:interests"
    assert call(agents.client, "POST", f"/api/contacts/{ANNA}/ask", {"prompt_id": "nope"})[0] == 404
    agents.text(ANNA, "STOP", "SMa3")
    status, refused = call(agents.client, "POST", f"/api/contacts/{ANNA}/ask", {"prompt_id": "interests"})
    assert status == 409 and refused["Message"].startswith("opted_out")
