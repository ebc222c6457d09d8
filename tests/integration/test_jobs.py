"""The Lambdas AWS triggers, invoked as Lambda invokes them (chalice.test's
lambda client) on DynamoDB and SQS in moto server, sending through the Twilio
simulator; every AWS call each function makes is recorded and must be one its
own IAM policy (.chalice/policy-dev-<function>.json) grants."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.adapters.sqs_queue import SqsQueue
from chalicelib.adapters.twilio_sender import TwilioSender
from chalicelib.domain.campaign import Audience, Campaign
from chalicelib.domain.contact import ConsentEvent, ConsentState, Contact, TimeZone
from chalicelib.domain.orders import OrderEventType, OrderTextSpec
from chalicelib.entrypoints import jobs
from chalicelib.services import order_texts
from local.schema import create_queues
from local.twilio_sim import TwilioSimulator
from tests.conftest import REGION, free_port
from tests.fakes import StepClock
from tests.infra.test_template_and_policy import BATCH_ACTIONS, TRANSACT_ITEM_ACTIONS, granted
from tests.integration.conftest import TOKEN, settings_for

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)  # noon in London
ACCOUNT_SID = "AC" + "4" * 32
PHONE = "+447700900321"


class Recorder:
    """The IAM action of every call made through the clients it watches."""

    def __init__(self, *clients: Any) -> None:
        self.actions: set[str] = set()
        for client in clients:
            client.meta.events.register("before-parameter-build.*.*", self._record)

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        service = model.service_model.signing_name
        if model.name == "TransactWriteItems":  # authorised item by item
            self.actions.update(
                f"dynamodb:{TRANSACT_ITEM_ACTIONS[kind]}" for i in params["TransactItems"] for kind in i
            )
        else:
            self.actions.add(f"{service}:{BATCH_ACTIONS.get(model.name, model.name)}")

    def take(self) -> set[str]:
        taken, self.actions = self.actions, set()
        return taken


@pytest.fixture
def world(dynamodb: DynamoDBClient, table: str, moto_endpoint: str) -> Iterator[dict[str, Any]]:
    sqs: SQSClient = boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION)
    urls = create_queues(sqs, table)  # a fresh pair of queues per test
    sim = TwilioSimulator(ACCOUNT_SID, TOKEN, webhook_base_url="http://127.0.0.1:9", callback_delay_s=0.01)
    server = sim.serve("127.0.0.1", port := free_port())
    settings = replace(settings_for(table), plan_shards=2, brand_time_zone="Europe/London", sender_mps=100)
    deps = replace(
        bootstrap.on_dynamodb(settings, dynamodb, StepClock(NOW)),
        plan_queue=SqsQueue(lambda: sqs, urls["PlanQueue"]),
        send_queue=SqsQueue(lambda: sqs, urls["SendQueue"]),
        events_queue=SqsQueue(lambda: sqs, urls["EventsQueue"]),
    )
    sender = TwilioSender(ACCOUNT_SID, TOKEN, "https://example.test/twilio/status", from_number="+15005550006",
                          api_base_url=f"http://127.0.0.1:{port}")  # fmt: skip
    bootstrap.use(deps, sender)
    created = NOW - timedelta(days=30)
    deps.store.save_contact(
        Contact(
            phone=PHONE,
            created_at=created,
            tags=["pizza"],
            consent_event=ConsentEvent(state=ConsentState.OPTED_IN, source="form", at=created),
            time_zone=TimeZone(confirmed="Europe/London"),
        ),
        None,
    )
    deps.campaigns.save(
        Campaign(id="cmp_jobs", name="jobs", message="Hi {first_name|there}", audience=Audience(tags=["pizza"]),
                 send_at=NOW, created_at=NOW, updated_at=NOW),
        None,
    )  # fmt: skip
    with Client(app, stage_name="dev") as client:
        yield {"client": client, "sqs": sqs, "urls": urls, "sim": sim, "recorder": Recorder(dynamodb, sqs)}
    bootstrap.use(None)
    server.shutdown()


def drain(sqs: SQSClient, url: str) -> list[str]:
    bodies = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def sqs_event(client: Client, bodies: list[str]) -> dict[str, Any]:
    event: dict[str, Any] = client.events.generate_sqs_event(message_bodies=bodies, queue_name="q")
    for n, record in enumerate(event["Records"]):
        record["messageId"] = f"message-{n}"
    return event


def test_tick_plan_send_and_events_each_use_only_what_their_policy_grants(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, sqs, urls, recorder = world["client"], world["sqs"], world["urls"], world["recorder"]

    event = client.events.generate_cw_event("aws.events", "Scheduled Event", {}, ["rule"])
    client.lambda_.invoke("tick", event)
    tick_calls = recorder.take()
    plan_jobs = drain(sqs, urls["PlanQueue"])
    assert sorted(json.loads(job)["shard"] for job in plan_jobs) == [0, 1]

    recorder.take()
    answer = client.lambda_.invoke("plan", sqs_event(client, plan_jobs)).payload
    plan_calls = recorder.take()
    assert answer == {"batchItemFailures": []}
    send_jobs = drain(sqs, urls["SendQueue"])
    assert [json.loads(job)["phone"] for job in send_jobs] == [PHONE]

    recorder.take()
    answer = client.lambda_.invoke("send", sqs_event(client, send_jobs * 2 + ["not json"])).payload
    send_calls = recorder.take()
    assert answer == {"batchItemFailures": [{"itemIdentifier": "message-2"}]}  # only the poison one comes back
    assert [m.body for m in world["sim"].messages.values()] == ["Hi there"]  # the duplicate sent nothing
    assert drain(sqs, urls["SendQueue"]) == []  # nor waited for its twin's lease: the batch knew it was a twin

    d = bootstrap.deps()
    order_texts.put_text(OrderEventType.PLACED, OrderTextSpec(message="{store_name}: got it"), d.order_texts, d.clock)
    event = {"id": "evt_1", "type": "order_placed", "order_id": "ord_1", "phone": PHONE, "store_id": "leeds",
             "at": NOW.isoformat(), "total": {"amount": 999, "currency": "GBP"}, "channel": "app"}  # fmt: skip
    recorder.take()
    # chalice's test client gives every invocation 3 s (Lambda's default); the events function has 120 s
    monkeypatch.setattr(jobs, "_time_left", lambda _context: lambda: 120.0)
    answer = client.lambda_.invoke("events", sqs_event(client, [json.dumps({"kind": "order_event", "event": event})]))
    events_calls = recorder.take()
    assert answer.payload == {"batchItemFailures": []}
    assert [m.body for m in world["sim"].messages.values()] == [
        "Hi there",
        "Pizza Co: got it",
    ]  # the brand's name: no such store

    # an order event queued on the send queue before the events queue existed is passed on to it
    stray = json.dumps({"kind": "order_event", "event": {**event, "id": "evt_2"}})
    assert client.lambda_.invoke("send", sqs_event(client, [stray])).payload == {"batchItemFailures": []}
    send_calls |= recorder.take()
    assert [json.loads(job) for job in drain(sqs, urls["EventsQueue"])] == [json.loads(stray)]

    calls_by_function = (("tick", tick_calls), ("plan", plan_calls), ("send", send_calls), ("events", events_calls))
    for function, calls in calls_by_function:
        allowed = set(granted("dev", function))
        assert calls and calls <= allowed, f"{function} called {calls - allowed}, which its policy refuses"
    assert "sqs:SendMessage" in tick_calls and "dynamodb:Scan" in plan_calls and "dynamodb:PutItem" in send_calls
