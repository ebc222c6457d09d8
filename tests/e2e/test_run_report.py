"""End to end on the running stack: a run's report matches what the Twilio
simulator accepted and reported delivered, the replies the handsets sent,
and the order events the ordering system posted, exactly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import requests

from tests.e2e.conftest import OPERATOR_TOKEN, RunningStack
from tests.e2e.test_campaigns import api, numbers, person, planned_run, start_campaign
from tests.e2e.test_inbound_integrity import post
from tests.e2e.test_local_stack import eventually
from tests.e2e.test_stores_and_orders import order_event, post_event, put_store


def report(stack: RunningStack, campaign_id: str, run_id: str, csv: bool = False) -> requests.Response:
    headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}", "Accept": "text/csv" if csv else "application/json"}
    path = f"/api/campaigns/{campaign_id}/runs/{run_id.replace('+', '%2B')}/report"
    return requests.get(f"{stack.api}{path}", headers=headers, timeout=30)


def sent_to(stack: RunningStack, phone: str) -> list[dict[str, Any]]:
    """What the simulator's Messages API accepted for the number, with its status."""
    found: list[dict[str, Any]] = requests.get(f"{stack.sim}/sim/messages", params={"to": phone}, timeout=30).json()[
        "messages"
    ]
    return found


def test_the_report_matches_the_simulators_receipts_the_replies_and_the_order_events(stack: RunningStack) -> None:
    tag = f"report-{uuid.uuid4().hex[:8]}"
    people = numbers(4)
    api(stack, "POST", "/api/contacts", {"contacts": [person(phone, tag) for phone in people]})
    campaign = start_campaign(stack, tag, mps=20)
    run = planned_run(stack, campaign["id"])

    def delivered() -> list[dict[str, Any]] | None:
        log = [m for phone in people for m in sent_to(stack, phone)]
        return log if len(log) == len(people) and all(m["status"] == "delivered" for m in log) else None

    sim_log = eventually(delivered, timeout_s=30)
    post(stack, people[0], "Do you deliver to LS6?")
    post(stack, people[0], "Thanks!")  # the recipient counted once
    post(stack, people[1], "STOP")
    store_id = f"rpt-{uuid.uuid4().hex[:6]}"
    put_store(stack, store_id, ["LS6"], "+441134960001")
    key = api(stack, "POST", "/api/keys", {"name": f"orders-{uuid.uuid4().hex[:6]}", "role": "integration"})["key"]
    now = datetime.now(UTC).isoformat()
    events = [order_event(f"evt-{uuid.uuid4().hex[:8]}", phone, store_id, at=now) for phone in people[2:]]
    for event in events:
        assert post_event(stack, key, event).status_code == 202
        assert post_event(stack, key, event).status_code == 202  # the ordering system retried: one order

    def counted() -> dict[str, Any] | None:
        found: dict[str, Any] = report(stack, campaign["id"], run["id"]).json()
        return found if found["ordered"] == len(events) and found["delivered"] == len(sim_log) else None

    found = eventually(counted, timeout_s=30)
    assert (found["planned"], found["sent"], found["delivered"], found["failed"]) == (4, len(sim_log), len(sim_log), 0)
    assert (found["replied_24h"], found["opted_out_72h"]) == (1, 1)
    assert found["revenue"] == {"GBP": sum(event["total"]["amount"] for event in events)}
    assert found["segments"] == len(sim_log) and found["segments_by_country"] == {"GB": len(sim_log)}
    as_csv = report(stack, campaign["id"], run["id"], csv=True)
    assert as_csv.headers["Content-Type"].startswith("text/csv") and "ordered,2" in as_csv.text
    assert report(stack, campaign["id"], "cmp_nope@20260101T000000+0000").status_code == 404
