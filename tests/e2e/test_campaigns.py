"""End to end: campaigns on the running stack. The runner plays EventBridge and
SQS, the real Twilio client sends to the simulator, handsets show what arrived."""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests

from tests.conftest import REGION, daytime_zone
from tests.e2e.conftest import OPERATOR_TOKEN, RunningStack
from tests.e2e.test_local_stack import eventually, handset, text

QUESTION = "Pizza Co: are you still near Leeds? Reply YES, or send us your postcode or ZIP."


def api(stack: RunningStack, method: str, path: str, body: Any = None) -> Any:
    response = requests.request(
        method, f"{stack.api}{path}", json=body, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}, timeout=30
    )
    assert response.status_code < 300, response.text
    return response.json()


def person(
    number: str, tag: str, consent: str | None = "opted_in", home: str = "LS6 1AA", home_days: int = 10, **changes: Any
) -> Any:
    now = datetime.now(UTC)
    record = {
        "phone": number,
        "tags": [tag],
        "attributes": {"first_name": "Sam"},
        "home": {"area": home, "confirmed_at": (now - timedelta(days=home_days)).isoformat()},
        "time_zone": daytime_zone(),
        **changes,
    }
    if consent:
        record["consent"] = {"state": consent, "source": "e2e form", "at": (now - timedelta(days=30)).isoformat()}
    return record


_BLOCKS = itertools.count()


def numbers(count: int) -> list[str]:
    """Numbers no other test of this session uses (the stack is shared)."""
    base = 447700910000 + next(_BLOCKS) * 10
    return [f"+{base + i}" for i in range(min(count, 10))]


def start_campaign(stack: RunningStack, tag: str, mps: float = 5) -> dict[str, Any]:
    spec = {
        "name": f"2-for-1 {tag}",
        "message": "Hi {first_name|there}, 2-for-1 pizzas tonight",
        "audience": {"tags": [tag]},
        "location": {"name": "Leeds", "prefixes": ["LS"]},
        "send_at": datetime.now(UTC).isoformat(),
        "messages_per_second": mps,
    }
    campaign: dict[str, Any] = api(stack, "POST", "/api/campaigns", spec)
    return campaign


def planned_run(stack: RunningStack, campaign_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        runs = api(stack, "GET", f"/api/campaigns/{campaign_id}/runs")["runs"]
        return runs[0] if runs and len(runs[0]["shards_done"]) == runs[0]["shards"] else None

    return eventually(done, timeout_s=30)


def campaign_texts(stack: RunningStack, phone: str) -> list[str]:
    return [body for body in handset(stack, phone) if "2-for-1" in body or body == QUESTION]


def test_a_scheduled_run_does_what_its_preview_said(stack: RunningStack) -> None:
    tag = f"e2e-{uuid.uuid4().hex[:8]}"
    send_a, send_b, opted_out, away, unknown, stale = numbers(6)
    contacts = [
        person(send_a, tag),
        person(send_b, tag, attributes={}),
        person(opted_out, tag, consent="opted_out"),
        person(away, tag, home="SW1A 1AA"),
        person(unknown, tag, consent=None),
        person(stale, tag, home="LS2 9JT", home_days=400),
    ]
    api(stack, "POST", "/api/contacts", {"contacts": contacts})
    campaign = start_campaign(stack, tag)

    preview = api(stack, "POST", f"/api/campaigns/{campaign['id']}/preview")
    assert preview["decisions"] == {
        "send/clear": 2,
        "ask/stale_location": 1,
        "drop/opted_out": 1,
        "drop/out_of_area": 1,
        "drop/no_consent": 1,
    }
    run = planned_run(stack, campaign["id"])  # the tick started it within a second or two
    assert {k: v for k, v in run["counts"].items() if "/" in k} == preview["decisions"]

    eventually(lambda: True if all(campaign_texts(stack, p) for p in (send_a, send_b, stale)) else None)
    assert campaign_texts(stack, send_a) == ["Hi Sam, 2-for-1 pizzas tonight"]
    assert campaign_texts(stack, send_b) == ["Hi there, 2-for-1 pizzas tonight"]
    assert campaign_texts(stack, stale) == [QUESTION]
    for skipped in (opted_out, away, unknown):
        assert handset(stack, skipped) == []
    why = api(stack, "GET", f"/api/contacts/{away.replace('+', '%2B')}/decisions")["decisions"]
    assert [(d["reason"], d["stage"]) for d in why] == [("out_of_area", "planned")]
    sent = api(stack, "GET", f"/api/contacts/{send_a}/decisions")["decisions"][0]
    assert sent["outcome"] == "sent" and sent["sid"].startswith("SM")
    delivered = eventually(lambda: [m for m in stack.store.messages.thread(send_a) if m.status == "delivered"] or None)
    assert delivered[0].run_id == run["id"]  # Twilio's callbacks reached the stored text


def test_a_stop_that_arrives_after_planning_still_wins(stack: RunningStack) -> None:
    tag = f"e2e-{uuid.uuid4().hex[:8]}"
    phones = numbers(3)
    api(stack, "POST", "/api/contacts", {"contacts": [person(p, tag) for p in phones]})
    campaign = start_campaign(stack, tag, mps=0.4)  # one text every 2.5 s
    first = eventually(lambda: next((p for p in phones if campaign_texts(stack, p)), None), timeout_s=30)
    later = [p for p in phones if p != first]
    for phone in later:  # planned to receive it; they say STOP before their turn comes
        text(stack, phone, "STOP")
    eventually(
        lambda: (
            True
            if len(api(stack, "GET", f"/api/contacts/{later[-1]}/decisions")["decisions"])
            and all(
                api(stack, "GET", f"/api/contacts/{p}/decisions")["decisions"][0]["stage"] == "at_send" for p in later
            )
            else None
        ),
        timeout_s=30,
    )
    for phone in later:
        assert campaign_texts(stack, phone) == []
        decision = api(stack, "GET", f"/api/contacts/{phone}/decisions")["decisions"][0]
        assert (decision["reason"], decision["verdict"]) == ("opted_out", "drop")
    run = api(stack, "GET", f"/api/campaigns/{campaign['id']}/runs")["runs"][0]
    assert run["counts"]["send/clear"] == 3 and run["counts"]["out"] == 1


@pytest.fixture
def send_queue(stack: RunningStack) -> tuple[Any, str]:
    sqs = boto3.client("sqs", endpoint_url=stack.aws, region_name=REGION)
    return sqs, sqs.get_queue_url(QueueName="rapport-local-send")["QueueUrl"]


def test_a_send_job_delivered_twice_sends_once(stack: RunningStack, send_queue: tuple[Any, str]) -> None:
    tag = f"e2e-{uuid.uuid4().hex[:8]}"
    [phone] = numbers(1)
    api(stack, "POST", "/api/contacts", {"contacts": [person(phone, tag)]})
    campaign = start_campaign(stack, tag)
    run = planned_run(stack, campaign["id"])
    eventually(lambda: campaign_texts(stack, phone) or None)
    sqs, url = send_queue
    job = json.dumps({"run_id": run["id"], "campaign_id": campaign["id"], "phone": phone})
    for _ in range(2):  # SQS is at-least-once: the same job again, twice
        sqs.send_message(QueueUrl=url, MessageBody=job)

    def drained() -> bool | None:
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return True if set(attributes.values()) == {"0"} else None

    eventually(drained)
    assert campaign_texts(stack, phone) == ["Hi Sam, 2-for-1 pizzas tonight"]
