"""End to end on the running stack: a run's report matches what the Twilio
simulator accepted and reported delivered, the replies the handsets sent,
and the order events the ordering system posted, exactly; per variant, per
store and against its control group too."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from chalicelib.domain.experiment import Variant, held_out, variant_of
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
    header, whole, *_ = as_csv.text.splitlines()
    assert as_csv.headers["Content-Type"].startswith("text/csv")
    assert dict(zip(header.split(","), whole.split(","), strict=True))["ordered"] == "2"
    assert report(stack, campaign["id"], "cmp_nope@20260101T000000+0000").status_code == 404


VARIANTS = [{"id": "short", "message": "2-for-1 tonight", "weight": 1},
            {"id": "long", "message": "Hi {first_name|there}, 2-for-1 pizzas tonight", "weight": 1}]  # fmt: skip


def test_a_control_group_and_two_variants_report_what_the_simulator_and_the_orders_saw(stack: RunningStack) -> None:
    tag = f"ab-{uuid.uuid4().hex[:8]}"
    spec = {"name": f"A/B {tag}", "variants": VARIANTS, "holdout_percent": 10, "audience": {"tags": [tag]},
            "send_at": (datetime.now(UTC) + timedelta(seconds=8)).isoformat(), "messages_per_second": 20}  # fmt: skip
    campaign = api(stack, "POST", "/api/campaigns", spec)  # its id draws the groups: the people are chosen after
    cid, variants = campaign["id"], [Variant.model_validate(v) for v in VARIANTS]
    pool = [phone for _ in range(10) for phone in numbers(10)]
    held = [p for p in pool if held_out(p, cid, 10)][:2]
    free = [p for p in pool if not held_out(p, cid, 10)]
    texted = {v.id: [p for p in free if variant_of(p, cid, variants) == v][:4] for v in variants}
    people = held + texted["short"] + texted["long"]
    assert len(held) == 2 and len(people) == 10  # 100 numbers: fewer than 2 held out by chance is 3 in 10,000
    stores = [f"ab-{uuid.uuid4().hex[:6]}" for _ in range(2)]
    for n, store_id in enumerate(stores):
        put_store(stack, store_id, ["LS6"], f"+44113496010{n}", mps=20)
    store_of = {phone: stores[n % 2] for n, phone in enumerate(people)}
    api(stack, "POST", "/api/contacts", {"contacts": [person(p, tag, store_id=store_of[p]) for p in people]})
    run = planned_run(stack, cid)

    texted_people = [p for group in texted.values() for p in group]

    def delivered() -> list[dict[str, Any]] | None:
        log = [m for phone in texted_people for m in sent_to(stack, phone)]
        return log if len(log) == len(texted_people) and all(m["status"] == "delivered" for m in log) else None

    sim_log = eventually(delivered, timeout_s=60)
    assert [m for phone in held for m in sent_to(stack, phone)] == []  # the control group is texted nothing
    body_of = {v.id: v.message.replace("{first_name|there}", "Sam") for v in variants}
    assert {v: sum(m["body"] == body_of[v] for m in sim_log) for v in body_of} == {"short": 4, "long": 4}
    post(stack, texted["short"][0], "Is it on the veggie ones too?")
    key = api(stack, "POST", "/api/keys", {"name": f"orders-{uuid.uuid4().hex[:6]}", "role": "integration"})["key"]
    now = datetime.now(UTC).isoformat()
    buyers = [texted["long"][0], texted["long"][1], held[0]]
    events = [order_event(f"evt-{uuid.uuid4().hex[:8]}", phone, store_of[phone], at=now) for phone in buyers]
    for event in events:
        assert post_event(stack, key, event).status_code == 202

    def counted() -> dict[str, Any] | None:
        found: dict[str, Any] = report(stack, cid, run["id"]).json()
        settled = found["holdout"] and found["holdout"]["ordered"] == 1 and found["ordered"] == 2
        return found if settled and found["replied_24h"] == 1 and found["delivered"] == len(sim_log) else None

    found = eventually(counted, timeout_s=30)
    price = events[0]["total"]["amount"]
    assert (found["planned"], found["sent"], found["revenue"]) == (8, 8, {"GBP": 2 * price})
    by_variant = {g["variant"]: g for g in found["by_variant"]}
    funnels = {
        v: (g["planned"], g["sent"], g["delivered"], g["replied_24h"], g["ordered"]) for v, g in by_variant.items()
    }
    assert funnels == {"short": (4, 4, 4, 1, 0), "long": (4, 4, 4, 0, 2)}
    by_store = {g["store_id"]: g["delivered"] for g in found["by_store"]}
    assert by_store == {s: sum(store_of[p] == s for p in texted_people) for s in stores}
    assert found["holdout"] == {"size": 2, "ordered": 1, "revenue": {"GBP": price}}
    assert found["incremental"] == {"ordered": 2 - 1 * 8 / 2, "revenue": {"GBP": 2 * price - price * 8 / 2}}
