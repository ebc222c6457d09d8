"""Agents and other systems on the operator API, in-process: the inbox,
exclusive claims, unread texts, replies through the policy, notes, closing,
saved replies, interactions, the timeline and prompts."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.adapters.dynamodb_ledger import DynamoLedger
from chalicelib.adapters.dynamodb_runs import DynamoRunStore
from chalicelib.adapters.dynamodb_store import DynamoConversationStore
from chalicelib.adapters.unit_of_work import DynamoUnitOfWork
from chalicelib.domain.campaign import Campaign
from chalicelib.domain.delivery import Receipt
from chalicelib.domain.ledger import Fate
from chalicelib.domain.messages import DeliveryStatus, Message
from chalicelib.domain.policy import Decision, Reason, Verdict
from chalicelib.domain.runs import DecisionRecord, Run
from chalicelib.domain.saved_replies import MAX_SAVED_REPLIES, SavedReply
from chalicelib.services import conversations as use_cases
from chalicelib.services.ports import SendOutcome, SendResult, Write
from chalicelib.services.status import record_status
from tests.fakes import FakeSender, InMemoryQueue, StepClock
from tests.integration.conftest import ALICE, BOB, OLIVE, add_keys, as_key, post_signed, settings_for
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
    add_keys(deps.keys)
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

    assert call(agents.client, "POST", f"/api/conversations/{ANNA}/claim", {}, ALICE)[0] == 200
    status, refused = call(agents.client, "POST", f"/api/conversations/{ANNA}/claim", {}, BOB)
    assert status == 409 and "alice has this conversation" in refused["Message"]
    status, moved = call(agents.client, "POST", f"/api/conversations/{ANNA}/claim", {"reassign": True}, BOB)
    assert status == 200 and moved["agent"] == "bob"
    assert call(agents.client, "POST", "/api/conversations/447700900999/claim", {}, BOB)[0] == 404
    status, refused = call(agents.client, "POST", f"/api/conversations/{ANNA}/claim", {"agent": "alice"}, BOB)
    assert status == 400 and "the acting agent is the API key's name" in refused["Message"]  # never a body field


def test_a_reply_goes_out_and_both_agents_replies_are_kept_in_order(agents: Agents) -> None:
    agents.text(ANNA, "Do you do gluten free?", "SMa1")
    assert call(agents.client, "POST", f"/api/conversations/{ANNA}/reply", {"body": "We do!"}, ALICE)[0] == 201
    status, second = call(
        agents.client, "POST", f"/api/conversations/{ANNA}/reply", {"body": "Any size."}, BOB
    )  # a colleague may reply too: the claim routes, it does not silence
    assert status == 201 and second["sid"].startswith("SM") and second["status"] == "queued"
    assert [(to, text) for to, text, *_ in agents.sender.sent] == [(ANNA, "We do!"), (ANNA, "Any size.")]
    thread = agents.deps.store.messages.thread(ANNA)
    assert [m.body for m in reversed(thread)] == ["Do you do gluten free?", "We do!", "Any size."]
    [waiting] = call(agents.client, "GET", "/api/conversations")[1]["conversations"]
    assert waiting["waiting_since"] is None and waiting["agent"] == "alice"


def test_a_reply_when_its_number_is_busy_for_longer_than_it_waits_is_refused_with_when_to_come_back(
    agents: Agents,
) -> None:
    agents.text(ANNA, "Do you do gluten free?", "SMa1")
    contact = agents.deps.store.get_contact(ANNA)
    assert contact is not None
    pace = agents.deps.directory.origin(contact).pace
    agents.deps.runs.senders.take_slot(pace, 30.0, agents.clock.now().timestamp())  # a campaign's 30 s of it
    response = agents.client.http.post(
        f"/api/conversations/{ANNA}/reply", headers=ALICE, body=json.dumps({"body": "We do!"}).encode()
    )
    assert response.status_code == 429 and 25 <= int(response.headers["Retry-After"]) <= 31
    assert json.loads(response.body)["Code"] == "TooManyRequests" and agents.sender.sent == []
    agents.clock.sleep(31)
    assert call(agents.client, "POST", f"/api/conversations/{ANNA}/reply", {"body": "We do!"}, ALICE)[0] == 201


def test_every_write_carries_the_name_of_the_key_that_made_it(agents: Agents) -> None:
    agents.text(ANNA, "Table for two?", "SMa1")
    assert call(agents.client, "POST", f"/api/conversations/{ANNA}/claim", {}, BOB)[1]["agent"] == "bob"
    assert call(agents.client, "POST", f"/api/conversations/{ANNA}/reply", {"body": "Yes!"}, ALICE)[0] == 201
    assert (
        call(agents.client, "POST", f"/api/conversations/{ANNA}/notes", {"text": "VIP"}, ALICE)[1]["author"] == "alice"
    )
    status, asked = call(agents.client, "POST", f"/api/contacts/{ANNA}/ask", {"prompt_id": "interests"}, BOB)
    assert status == 201 and asked["sent_by"] == "bob"
    order = {"id": "o-1", "channel": "order_placed", "at": "2026-03-01T11:00:00Z", "summary": "1 pizza"}
    assert call(agents.client, "POST", f"/api/contacts/{ANNA}/interactions", order, BOB)[1]["author"] == "bob"
    assert call(agents.client, "POST", f"/api/conversations/{ANNA}/close", {}, ALICE)[0] == 200
    events = call(agents.client, "GET", f"/api/contacts/{ANNA}/timeline")[1]["events"]
    who = [(e["type"], e["summary"], e["detail"].get("sent_by") or e["detail"].get("author")) for e in events]
    assert who[:5] == [
        ("note", "Conversation closed.", "alice"),
        ("message_out", asked["body"], "bob"),
        ("note", "VIP", "alice"),
        ("message_out", "Yes!", "alice"),
        ("message_in", "Table for two?", None),
    ]
    assert who[-1] == ("interaction", "1 pizza", "bob")


def test_replies_respect_opt_outs_and_twilio_refusals(agents: Agents) -> None:
    agents.text(ANNA, "hi", "SMa1")
    agents.sender.answers = [SendResult(SendOutcome.REJECTED, error_code=21211, detail="not a valid number")]
    status, body = call(agents.client, "POST", f"/api/conversations/{ANNA}/reply", {"body": "Hello"}, ALICE)
    assert status == 502 and "not a valid number" in body["Message"]
    agents.text(ANNA, "STOP", "SMa2")
    status, body = call(agents.client, "POST", f"/api/conversations/{ANNA}/reply", {"body": "Sorry!"}, ALICE)
    assert status == 409 and body["Message"].startswith("opted_out")
    assert len(agents.sender.sent) == 1


def test_closing_releases_the_campaign_texts_the_conversation_held(agents: Agents) -> None:
    agents.text(ANNA, "question", "SMa1")
    now = agents.clock.now()
    run = Run(id="cmp_x@1", campaign_id="cmp_x", scheduled_for=now, started_at=now, shards=1)
    held = Decision(Verdict.HOLD, Reason.IN_CONVERSATION, "A conversation with an agent is open.", until=now)
    agents.deps.runs.holds.record([DecisionRecord.of(ANNA, run, held, now, "at_send")], [])
    status, closed = call(agents.client, "POST", f"/api/conversations/{ANNA}/close", {}, ALICE)
    assert status == 200 and closed["released_held_texts"] == 1
    assert [job for job, _ in agents.queue.jobs] == [{"run_id": "cmp_x@1", "campaign_id": "cmp_x", "phone": ANNA}]
    assert call(agents.client, "GET", "/api/conversations")[1]["conversations"] == []
    latest = call(agents.client, "GET", f"/api/contacts/{ANNA}/timeline?limit=1")[1]["events"][0]
    assert (latest["type"], latest["summary"], latest["detail"]["author"]) == ("note", "Conversation closed.", "alice")
    assert call(agents.client, "POST", f"/api/conversations/{ANNA}/close", {}, ALICE)[0] == 404


def test_interactions_are_idempotent_and_the_timeline_merges_everything_in_pages(agents: Agents) -> None:
    agents.text(ANNA, "Where is my order?", "SMa1")
    order = {"id": "order-77", "channel": "order_placed", "at": "2026-03-01T11:00:00Z", "summary": "2 pizzas"}
    assert call(agents.client, "POST", f"/api/contacts/{ANNA}/interactions", order)[0] == 201
    status, again = call(agents.client, "POST", f"/api/contacts/{ANNA}/interactions", order)
    assert status == 200 and again["created"] is False
    assert call(agents.client, "POST", f"/api/conversations/{ANNA}/notes", {"text": "VIP"}, ALICE)[0] == 201
    call(agents.client, "POST", f"/api/conversations/{ANNA}/reply", {"body": "On its way"}, ALICE)

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
    assert status == 400 and "needs words, a number, a pattern or free_text" in refused["Message"]


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


# --- Idempotency-Key: a text sent once per key, recorded however the first call ended ----------------------------

REPLY = {"body": "We do!"}


def keyed(key: str) -> dict[str, str]:
    return {**ALICE, "Idempotency-Key": key}


def reply_path(phone: str) -> str:
    return f"/api/conversations/{phone}/reply"


def wire_again(agents: Agents, **changes: object) -> None:
    """The same wiring with some parts swapped (a flaky store)."""
    bootstrap.use(replace(agents.deps, **changes), agents.sender)  # type: ignore[arg-type]


class RecordFailsOnce(DynamoConversationStore):
    """DynamoDB goes away once, just after Twilio took the text."""

    failed = False

    def unit(self) -> DynamoUnitOfWork:  # the record's unit of work: its message, contact and entry
        if not self.failed:
            self.failed = True
            raise RuntimeError("DynamoDB is not answering")
        return super().unit()


class LedgerFailsOnce(DynamoLedger):
    """Every write to a sent reply's entry fails once, the record with it and the
    settle tried alone after it (the process might as well have died there)."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        super().__init__(client, table)
        self.failed: set[str] = set()

    def _once(self, what: str) -> None:
        if what not in self.failed:
            self.failed.add(what)
            raise RuntimeError("DynamoDB is not answering")

    def sent(self, run_id: str, phone: str, attempt: str, sid: str) -> Write:
        self._once("record")
        return super().sent(run_id, phone, attempt, sid)

    def settle(self, run_id: str, phone: str, attempt: str | None, outcome: Fate, *args: Any, **kw: Any) -> bool:
        if outcome == Fate.SENT:
            self._once("settle")
        return super().settle(run_id, phone, attempt, outcome, *args, **kw)


class DiesBeforeTwilio(FakeSender):
    """The request dies on its way to Twilio, once: nothing went, its entry stays `sending`."""

    died = False

    def send(self, to: str, body: str, valid_for_s: int, origin: str | None = None) -> SendResult:
        if not self.died:
            self.died = True
            raise RuntimeError("the function timed out before Twilio answered")
        return super().send(to, body, valid_for_s, origin)


class CallbackFirstSender(FakeSender):
    """Twilio's status callbacks for the text land before the API has recorded it."""

    def __init__(self, clock: StepClock, deps: bootstrap.Deps) -> None:
        super().__init__(clock)
        self.deps = deps

    def send(self, to: str, body: str, valid_for_s: int, origin: str | None = None) -> SendResult:
        result = super().send(to, body, valid_for_s, origin)
        for status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED):
            receipt = Receipt(sid=result.sid or "", status=status, phone=to, brand_number="+15005550006",
                              at=self.clock.now())  # fmt: skip
            assert record_status(receipt, self.deps.store, self.deps.runs)
        return result


class SlowSender(FakeSender):
    def send(self, to: str, body: str, valid_for_s: int, origin: str | None = None) -> SendResult:
        time.sleep(0.3)  # the other requests arrive while Twilio is being asked
        return super().send(to, body, valid_for_s, origin)


def test_the_same_key_sends_once_and_answers_the_same_and_another_body_is_refused(agents: Agents) -> None:
    agents.text(ANNA, "Do you do gluten free?", "SMa1")
    agents.text(BEN, "Open today?", "SMb1")
    first = agents.client.http.post(reply_path(ANNA), headers=keyed("reply-1"), body=json.dumps(REPLY))
    again = agents.client.http.post(reply_path(ANNA), headers=keyed("reply-1"), body=json.dumps(REPLY))
    assert (first.status_code, again.status_code) == (201, 201) and again.body == first.body
    status, refused = call(agents.client, "POST", reply_path(ANNA), {**REPLY, "body": "No."}, keyed("reply-1"))
    assert status == 422 and "Idempotency-Key was used with another request" in refused["Message"]
    assert call(agents.client, "POST", reply_path(BEN), REPLY, keyed("reply-1"))[0] == 422  # another contact
    asked = [call(agents.client, "POST", f"/api/contacts/{ANNA}/ask", {"prompt_id": "interests"}, keyed("reply-1"))
             for _ in range(2)]  # fmt: skip
    assert asked[0] == asked[1] and asked[0][0] == 201  # each route keeps its own keys
    assert [text for _, text, *_ in agents.sender.sent] == ["We do!", asked[0][1]["body"]]
    assert [m.body for m in agents.deps.store.messages.thread(ANNA)].count("We do!") == 1
    contact = agents.deps.store.get_contact(ANNA)
    assert contact is not None and contact.engagement.outbound_count == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\tin it", "naïve"], ids=["empty", "too-long", "control", "unicode"])
def test_a_malformed_key_is_refused_before_anything_is_sent(agents: Agents, key: str) -> None:
    agents.text(ANNA, "hi", "SMa1")
    status, refused = call(agents.client, "POST", reply_path(ANNA), REPLY, keyed(key))
    assert status == 400 and "Idempotency-Key" in refused["Message"]
    assert agents.sender.sent == []
    assert call(agents.client, "POST", reply_path(ANNA), REPLY, keyed("k" * 255))[0] == 201


def test_a_crash_after_twilio_took_the_text_is_recorded_by_the_retry_without_a_second_send(
    agents: Agents, dynamodb: DynamoDBClient, table: str
) -> None:
    agents.text(ANNA, "Do you do gluten free?", "SMa1")
    wire_again(agents, store=RecordFailsOnce(dynamodb, table))
    status, first = call(agents.client, "POST", reply_path(ANNA), REPLY, keyed("crash-1"))
    assert status == 201 and first["body"] == "We do!"  # it went: never "try again"
    assert [m.body for m in agents.deps.store.messages.thread(ANNA)] == ["Do you do gluten free?"]  # not recorded yet
    status, again = call(agents.client, "POST", reply_path(ANNA), REPLY, keyed("crash-1"))
    # the same text (sid, time, body, author); the number it went from is the thread's, which did not have it
    assert (status, again) == (201, {**first, "brand_number": ""})
    assert len(agents.sender.sent) == 1
    assert [m.body for m in reversed(agents.deps.store.messages.thread(ANNA))] == ["Do you do gluten free?", "We do!"]
    contact = agents.deps.store.get_contact(ANNA)
    assert contact is not None and contact.engagement.outbound_count == 1
    assert contact.conversation is not None and contact.conversation.waiting_since is None
    assert call(agents.client, "POST", reply_path(ANNA), REPLY, keyed("crash-1"))[1] == again  # still once
    assert agents.deps.store.get_contact(ANNA) == contact


def test_a_request_stopped_after_twilio_took_the_text_is_found_at_twilio_never_resent(
    agents: Agents, dynamodb: DynamoDBClient, table: str
) -> None:
    agents.text(ANNA, "hello?", "SMa1")
    runs = DynamoRunStore(dynamodb, table)
    runs.ledger = LedgerFailsOnce(dynamodb, table)
    wire_again(agents, runs=runs)
    status, first = call(agents.client, "POST", reply_path(ANNA), REPLY, keyed("lost-1"))
    assert status == 201  # it went
    assert [m.body for m in agents.deps.store.messages.thread(ANNA)] == ["hello?"]  # not recorded yet
    first = {**first, "brand_number": ""}  # found at Twilio later: the number it went from is not known then
    status, busy = call(agents.client, "POST", reply_path(ANNA), REPLY, keyed("lost-1"))
    assert status == 409 and busy["Message"].startswith("in progress")  # its entry is still `sending`, leased
    agents.clock.current += timedelta(minutes=2)  # the first request's lease has run out
    agents.sender.lookup_fails = True
    status, unknown = call(agents.client, "POST", reply_path(ANNA), REPLY, keyed("lost-1"))
    assert status == 502 and unknown["Code"] == "SendOutcomeUnknown" and "not sent again" in unknown["Message"]
    agents.sender.lookup_fails = False  # Twilio's message list answers: the text went
    assert call(agents.client, "POST", reply_path(ANNA), REPLY, keyed("lost-1")) == (201, first)
    assert call(agents.client, "POST", reply_path(ANNA), REPLY, keyed("lost-1")) == (201, first)  # settled now
    assert (
        len(agents.sender.sent) == 1 and [m.body for m in agents.deps.store.messages.thread(ANNA)].count("We do!") == 1
    )


def test_a_request_stopped_before_twilio_took_the_text_is_sent_once_by_a_retry_after_its_lease(
    agents: Agents,
) -> None:
    agents.text(ANNA, "hello?", "SMa1")
    sender = DiesBeforeTwilio(agents.clock)
    bootstrap.use(agents.deps, sender)
    assert call(agents.client, "POST", reply_path(ANNA), REPLY, keyed("died-1"))[0] == 500  # nothing said
    assert call(agents.client, "POST", reply_path(ANNA), REPLY, keyed("died-1"))[0] == 409  # leased: maybe sending
    agents.clock.current += timedelta(minutes=2)
    status, sent = call(agents.client, "POST", reply_path(ANNA), REPLY, keyed("died-1"))
    assert status == 201 and sent["body"] == "We do!"  # Twilio had nothing: taken over and sent
    assert call(agents.client, "POST", reply_path(ANNA), REPLY, keyed("died-1")) == (201, sent)
    assert [body for _, body, *_ in sender.accepted] == ["We do!"]


def test_twilio_s_lost_answer_is_kept_for_the_key_and_a_refusal_gives_the_key_back(agents: Agents) -> None:
    agents.text(ANNA, "hi", "SMa1")
    agents.sender.answers = [
        SendResult(SendOutcome.UNKNOWN, detail="no answer in time: it may have gone"),
        SendResult(SendOutcome.REJECTED, error_code=21211, detail="not a valid number"),
        SendResult(SendOutcome.RETRY, detail="HTTP 503"),
    ]
    lost = [call(agents.client, "POST", reply_path(ANNA), REPLY, keyed("timeout-1")) for _ in range(2)]
    assert lost[0] == lost[1] and lost[0][0] == 502 and lost[0][1]["Code"] == "SendOutcomeUnknown"
    assert len(agents.sender.sent) == 1
    for answer in ("rejected", "retry"):  # nothing went: the same key tries again
        status, failed = call(agents.client, "POST", reply_path(ANNA), REPLY, keyed("refused-1"))
        assert status == 502 and failed["Code"] == "BadGateway" and f"({answer})" in failed["Message"]
    status, sent = call(agents.client, "POST", reply_path(ANNA), REPLY, keyed("refused-1"))
    assert status == 201 and len(agents.sender.sent) == 4
    agents.text(ANNA, "STOP", "SMa2")
    assert call(agents.client, "POST", reply_path(ANNA), {**REPLY, "body": "Sorry"}, keyed("stop-1"))[0] == 409
    assert call(agents.client, "POST", reply_path(ANNA), REPLY, keyed("refused-1")) == (201, sent)  # replayed


def test_a_status_callback_before_the_record_keeps_its_events_and_the_contact_still_changes(agents: Agents) -> None:
    agents.text(ANNA, "Do you do gluten free?", "SMa1")
    sender = CallbackFirstSender(agents.clock, agents.deps)
    bootstrap.use(agents.deps, sender)
    status, sent = call(agents.client, "POST", reply_path(ANNA), REPLY, keyed("callback-1"))
    assert status == 201
    message, contact = agents.deps.store.messages.with_contact(ANNA, sent["sid"])
    assert message is not None and message.body == "We do!" and message.status == DeliveryStatus.DELIVERED
    assert message.sent_by == "alice"  # kept through the merge with the callback that came first
    assert [event.status for event in message.status_events] == [DeliveryStatus.SENT, DeliveryStatus.DELIVERED]
    assert contact is not None and contact.engagement.outbound_count == 1
    assert contact.engagement.last_outbound_at is not None
    assert contact.conversation is not None and contact.conversation.waiting_since is None
    assert contact.conversation.agent == "alice"
    status, asked = call(agents.client, "POST", f"/api/contacts/{ANNA}/ask", {"prompt_id": "interests"})
    assert status == 201  # without a key too
    message, contact = agents.deps.store.messages.with_contact(ANNA, asked["sid"])
    assert message is not None and message.body == asked["body"] and len(message.status_events) == 2
    assert contact is not None and contact.pending_prompt is not None and contact.engagement.outbound_count == 2
    assert len(sender.sent) == 2 and len(agents.deps.store.messages.thread(ANNA)) == 3


def test_concurrent_requests_with_one_key_send_one_text(agents: Agents) -> None:
    agents.text(ANNA, "anyone there?", "SMa1")
    sender = SlowSender(agents.clock)
    d = agents.deps
    outbound = use_cases.Outbound(d.store, d.runs, sender, d.clock, d.policy, d.directory)
    answers: list[object] = []
    barrier = threading.Barrier(6)

    def one() -> None:
        barrier.wait()
        try:
            answers.append(use_cases.reply(ANNA, "alice", "Yes!", outbound, "race-1"))
        except use_cases.RequestInProgressError as error:
            answers.append(error)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sender.sent) == 1
    sent = [answer for answer in answers if isinstance(answer, Message)]
    assert len(answers) == 6 and len(sent) >= 1 and all(message == sent[0] for message in sent)
    assert use_cases.reply(ANNA, "alice", "Yes!", outbound, "race-1") == sent[0]
    assert len(sender.sent) == 1 and [m.body for m in d.store.messages.thread(ANNA)].count("Yes!") == 1


def test_without_a_key_the_intent_is_still_written_before_the_send(
    agents: Agents, dynamodb: DynamoDBClient, table: str
) -> None:
    agents.text(ANNA, "hi", "SMa1")
    seen: list[list[dict[str, Any]]] = []

    class Watching(FakeSender):
        def send(self, to: str, body: str, valid_for_s: int, origin: str | None = None) -> SendResult:
            seen.append(conversation_entries(dynamodb, table))
            return super().send(to, body, valid_for_s, origin)

    bootstrap.use(agents.deps, Watching(agents.clock))
    assert call(agents.client, "POST", reply_path(ANNA), REPLY, ALICE)[0] == 201
    [[before]] = seen
    assert before["state"]["S"] == "sending" and before["body"]["S"] == "We do!"
    [after] = conversation_entries(dynamodb, table)
    assert after["state"]["S"] == "sent" and after["sid"]["S"].startswith("SM")


def conversation_entries(dynamodb: DynamoDBClient, table: str) -> list[dict[str, Any]]:
    found = dynamodb.scan(
        TableName=table,
        FilterExpression="begins_with(pk, :talk)",
        ExpressionAttributeValues={":talk": {"S": "talk#reply#auto:"}},
    )
    return list(found["Items"])  # tests only: never on a request path


def test_a_conversation_closed_while_the_reply_went_still_keeps_the_reply(agents: Agents) -> None:
    agents.text(ANNA, "thanks, bye", "SMa1")
    d = agents.deps

    class ClosedMeanwhile(FakeSender):
        def send(self, to: str, body: str, valid_for_s: int, origin: str | None = None) -> SendResult:
            use_cases.close(to, "bob", d.store, d.runs, agents.queue, agents.clock)
            return super().send(to, body, valid_for_s, origin)

    bootstrap.use(d, ClosedMeanwhile(agents.clock))
    status, sent = call(agents.client, "POST", reply_path(ANNA), {**REPLY, "body": "Bye!"}, keyed("late-1"))
    assert status == 201
    message, contact = d.store.messages.with_contact(ANNA, sent["sid"])
    assert message is not None and message.body == "Bye!"
    assert contact is not None and contact.conversation is None  # the close stands


# --- unread texts and saved replies


def unread(agents: Agents, phone: str) -> int:
    [item] = [c for c in call(agents.client, "GET", "/api/conversations")[1]["conversations"] if c["phone"] == phone]
    return int(item["unread"])


def test_unread_counts_the_customer_s_texts_until_an_agent_reads_or_answers(agents: Agents) -> None:
    agents.text(ANNA, "Do you deliver?", "SMa1")
    assert unread(agents, ANNA) == 1
    agents.text(ANNA, "To LS6?", "SMa2")
    assert unread(agents, ANNA) == 2
    status, read = call(agents.client, "POST", f"/api/conversations/{ANNA}/read", {}, BOB)
    assert status == 200 and read["unread"] == 0 and unread(agents, ANNA) == 0
    contact = agents.deps.store.get_contact(ANNA)
    assert contact is not None and contact.conversation is not None and contact.conversation.read_by == "bob"
    version = contact.version
    assert call(agents.client, "POST", f"/api/conversations/{ANNA}/read", {}, ALICE)[1]["unread"] == 0
    again = agents.deps.store.get_contact(ANNA)
    assert again is not None and again.version == version  # nothing unread: nothing written

    agents.text(ANNA, "Hello?", "SMa3")
    assert unread(agents, ANNA) == 1  # a new text after the read
    assert call(agents.client, "POST", f"/api/conversations/{ANNA}/reply", {"body": "Yes, to LS6."}, ALICE)[0] == 201
    assert unread(agents, ANNA) == 0  # answering is reading

    assert call(agents.client, "POST", f"/api/conversations/{ANNA}/close", {}, ALICE)[0] == 200
    agents.text(ANNA, "One more thing", "SMa4")
    assert unread(agents, ANNA) == 1  # a new conversation counts afresh


def test_reading_is_the_key_s_and_needs_an_open_conversation(agents: Agents) -> None:
    status, refused = call(agents.client, "POST", f"/api/conversations/{ANNA}/read", {"agent": "mallory"}, ALICE)
    assert status == 400 and "the acting agent is the API key's name" in refused["Message"]
    assert call(agents.client, "POST", f"/api/conversations/{ANNA}/read", {}, ALICE)[0] == 404
    status, refused = call(agents.client, "POST", f"/api/conversations/{ANNA}/read", {}, OLIVE)
    assert status == 403 and "has the role operator" in refused["Message"]


GREETING = {"name": "Delivery areas", "body": "Hi {first_name|there}, we deliver to {district|your area} until 11pm."}


def test_operators_manage_saved_replies_and_every_write_names_its_key(agents: Agents) -> None:
    status, created = call(agents.client, "POST", "/api/saved-replies", GREETING, OLIVE)
    assert status == 201 and created["id"].startswith("sr_") and created["version"] == 1
    assert (created["created_by"], created["updated_by"], created["body"]) == ("olive", "olive", GREETING["body"])
    path = f"/api/saved-replies/{created['id']}"
    assert call(agents.client, "GET", path, headers=ALICE)[1] == created
    second = {"name": "allergens", "body": "Every base is made in a kitchen that handles gluten."}
    assert call(agents.client, "POST", "/api/saved-replies", second, as_key("ada"))[0] == 201
    listed = call(agents.client, "GET", "/api/saved-replies", headers=ALICE)[1]["saved_replies"]
    assert [r["name"] for r in listed] == ["allergens", "Delivery areas"]  # by name, any case

    status, updated = call(agents.client, "PUT", path, {**GREETING, "name": "Delivery"}, as_key("ada"))
    assert status == 200 and updated["name"] == "Delivery" and updated["version"] == 2
    assert (updated["created_by"], updated["updated_by"]) == ("olive", "ada")
    stale = as_key("olive", **{"If-Match": '"1"'})
    status, refused = call(agents.client, "PUT", path, {**GREETING, "name": "Old"}, stale)
    assert status == 409 and refused["Message"].startswith("If-Match: ") and "version 2" in refused["Message"]
    current = as_key("olive", **{"If-Match": '"2"'})
    assert call(agents.client, "PUT", path, {**GREETING, "name": "Areas"}, current)[1]["version"] == 3
    bad = as_key("olive", **{"If-Match": "yesterday"})
    assert call(agents.client, "PUT", path, GREETING, bad)[0] == 400

    status, deleted = call(agents.client, "DELETE", path, headers=OLIVE)
    assert status == 200 and deleted["name"] == "Areas"
    for method, body in (("GET", None), ("PUT", GREETING), ("DELETE", None)):
        status, missing = call(agents.client, method, path, body, OLIVE)
        assert status == 404 and "no saved reply" in missing["Message"], method
    assert call(agents.client, "GET", "/api/saved-replies/" + "x" * 300, headers=OLIVE)[0] == 404


def test_agents_use_saved_replies_but_may_not_write_them(agents: Agents) -> None:
    status, refused = call(agents.client, "POST", "/api/saved-replies", GREETING, ALICE)
    assert status == 403 and "has the role agent" in refused["Message"]
    created = call(agents.client, "POST", "/api/saved-replies", GREETING, OLIVE)[1]
    path = f"/api/saved-replies/{created['id']}"
    assert call(agents.client, "PUT", path, GREETING, ALICE)[0] == 403
    assert call(agents.client, "DELETE", path, headers=ALICE)[0] == 403
    assert call(agents.client, "GET", path, headers=ALICE)[0] == 200


def test_saved_replies_are_filled_for_the_contact_as_campaigns_fill_their_texts(agents: Agents) -> None:
    zoe = {"phone": ANNA, "attributes": {"first_name": "Zoe"}}
    assert call(agents.client, "POST", "/api/contacts", {"contacts": [zoe]}, OLIVE)[0] == 200
    agents.text(BEN, "Hi", "SMb1")  # Ben: no attributes, the fallbacks
    created = call(agents.client, "POST", "/api/saved-replies", GREETING, OLIVE)[1]

    status, filled = call(agents.client, "GET", f"/api/conversations/{ANNA}/saved-replies", headers=ALICE)
    assert status == 200
    [for_zoe] = filled["saved_replies"]
    assert for_zoe["id"] == created["id"] and for_zoe["body"] == GREETING["body"]
    assert for_zoe["text"] == "Hi Zoe, we deliver to your area until 11pm."
    [for_ben] = call(agents.client, "GET", f"/api/conversations/{BEN}/saved-replies", headers=ALICE)[1]["saved_replies"]
    assert for_ben["text"] == "Hi there, we deliver to your area until 11pm."
    contact = agents.deps.store.get_contact(ANNA)
    assert contact is not None
    at = agents.clock.now()
    campaign = Campaign(id="cmp_1", name="Areas", message=GREETING["body"], send_at=at, created_at=at, updated_at=at)
    assert (
        campaign.text_for(contact, agents.deps.directory.template_fields(contact)) == for_zoe["text"]
    )  # one way of filling
    assert call(agents.client, "GET", "/api/conversations/447700900499/saved-replies", headers=ALICE)[0] == 404


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"name": "Hi", "body": "Hi {first_name}"}, "placeholders look like {first_name|there}"),
        ({"name": "Hi", "body": "Hi {first_name|}"}, "placeholders look like"),
        ({"name": "   ", "body": "Hi"}, "name: Value error, the name is blank"),
        ({"name": "n" * 61, "body": "Hi"}, "name: String should have at most 60 characters"),
        ({"name": "Hi", "body": "b" * 1001}, "body: String should have at most 1000 characters"),
        ({"name": "Hi", "body": ""}, "body: String should have at least 1 character"),
        ({"name": "Hi"}, "body: Field required"),
        ({"name": "Hi", "body": "Hi", "agent": "mallory"}, "the acting agent is the API key's name"),
    ],
)
def test_a_bad_saved_reply_is_refused_with_the_reason(agents: Agents, body: dict[str, str], reason: str) -> None:
    status, refused = call(agents.client, "POST", "/api/saved-replies", body, OLIVE)
    assert status == 400 and reason in refused["Message"], refused
    assert call(agents.client, "GET", "/api/saved-replies", headers=OLIVE)[1]["saved_replies"] == []


def test_there_are_at_most_a_hundred_saved_replies(agents: Agents) -> None:
    for n in range(MAX_SAVED_REPLIES):
        reply = SavedReply(
            id=f"sr_{n}", name=f"r{n}", body="Hi", created_at=agents.clock.now(), created_by="olive",
            updated_at=agents.clock.now(), updated_by="olive", version=1,
        )  # fmt: skip
        agents.deps.saved_replies.save(reply.id, reply, None)
    status, refused = call(agents.client, "POST", "/api/saved-replies", GREETING, OLIVE)
    assert status == 409 and "100 saved replies already" in refused["Message"]
    assert call(agents.client, "DELETE", "/api/saved-replies/sr_7", headers=OLIVE)[0] == 200
    assert call(agents.client, "POST", "/api/saved-replies", GREETING, OLIVE)[0] == 201
