"""End to end: stores and orders on the running stack. A store's own number,
an order event from the ordering system (through the API, the send queue and
the send Lambda), the seed's customer out of his order's store's area, and
two campaigns on one number within its rate."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
import requests

from tests.e2e.conftest import RunningStack
from tests.e2e.test_campaigns import api, numbers, person
from tests.e2e.test_local_stack import eventually, text


def sent_to(stack: RunningStack, phone: str) -> list[dict[str, Any]]:
    """What the Twilio API accepted for this number, oldest first, with its sender and time."""
    messages: list[dict[str, Any]] = requests.get(f"{stack.sim}/sim/messages", params={"to": phone}, timeout=30).json()[
        "messages"
    ]
    return messages


def put_store(stack: RunningStack, store_id: str, areas: list[str], sender: str, mps: float = 5) -> None:
    spec = {"name": f"Pizza Co {store_id}", "time_zone": "Europe/London", "areas": areas, "sender": sender,
            "messages_per_second": mps, "phone": "+441914960000"}  # fmt: skip
    api(stack, "PUT", f"/api/stores/{store_id}", spec)


@pytest.fixture(scope="module")
def integration_key(stack: RunningStack) -> str:
    created = api(stack, "POST", "/api/keys", {"name": f"orders-{uuid.uuid4().hex[:6]}", "role": "integration"})
    return str(created["key"])


def post_event(stack: RunningStack, key: str, event: dict[str, Any]) -> requests.Response:
    headers = {"Authorization": f"Bearer {key}"}
    return requests.post(f"{stack.api}/api/events", json=event, headers=headers, timeout=30)


def order_event(event_id: str, phone: str, store_id: str, **changes: Any) -> dict[str, Any]:
    at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    return {"id": event_id, "type": "order_placed", "order_id": f"ord-{event_id}", "phone": phone,
            "store_id": store_id, "at": at, "total": {"amount": 1899, "currency": "GBP"},
            "items": [{"name": "Pepperoni", "quantity": 1}], "channel": "app", **changes}  # fmt: skip


def test_an_order_event_reaches_the_profile_once_and_names_the_store(stack: RunningStack, integration_key: str) -> None:
    store_id = f"ncl-{uuid.uuid4().hex[:6]}"
    put_store(stack, store_id, ["NE1"], "+441914960001")
    [phone] = numbers(1)
    event = order_event(f"evt-{uuid.uuid4().hex[:8]}", phone, store_id)
    first, again = post_event(stack, integration_key, event), post_event(stack, integration_key, event)
    assert (first.status_code, first.json()) == (202, {"id": event["id"], "status": "accepted"})
    assert (again.status_code, again.json()) == (202, first.json())
    profile = eventually(lambda: api(stack, "GET", f"/api/contacts?phone=%2B{phone[1:]}")["contacts"] or None)[0]
    assert profile["orders"]["count"] == 1 and profile["orders"]["total"] == {"amount": 1899, "currency": "GBP"}
    assert (profile["store_id"], profile["store_source"]) == (store_id, "order")
    assert post_event(stack, integration_key, {**event, "store_id": "nowhere"}).status_code == 422
    timeline = api(stack, "GET", f"/api/contacts/{phone}/timeline")
    assert sum(f"Order ord-{event['id']}" in str(entry) for entry in timeline["events"]) == 1  # the repeat: nothing


def test_the_seeds_customer_is_out_of_area_for_the_store_he_ordered_from_once(
    stack: RunningStack, integration_key: str
) -> None:
    """Ordered once from Newcastle, lives in London: Newcastle's offers never reach him;
    a Newcastle local gets them, from Newcastle's own number."""
    store_id, tag = f"ncl-{uuid.uuid4().hex[:6]}", f"e2e-{uuid.uuid4().hex[:8]}"
    put_store(stack, store_id, ["NE1", "NE2"], "+441914960002")
    londoner, local = numbers(2)
    api(stack, "POST", "/api/contacts", {"contacts": [person(londoner, tag, home="SW1A 1AA"),
                                                      person(local, tag, home="NE1 4ST")]})  # fmt: skip
    for phone in (londoner, local):
        posted = post_event(stack, integration_key, order_event(f"evt-{uuid.uuid4().hex[:8]}", phone, store_id))
        assert posted.status_code == 202
    eventually(
        lambda: (
            all(
                api(stack, "GET", f"/api/contacts?phone=%2B{p[1:]}")["contacts"][0]["store_id"] == store_id
                for p in (londoner, local)
            )
            or None
        )
    )
    spec = {"name": "Newcastle 2-for-1", "message": "{store_name}: 2-for-1 tonight", "audience": {"stores": [store_id]},
            "send_at": datetime.now(UTC).isoformat()}  # fmt: skip
    campaign = api(stack, "POST", "/api/campaigns", spec)
    assert api(stack, "POST", f"/api/campaigns/{campaign['id']}/preview")["decisions"] == {
        "send/clear": 1, "drop/out_of_area": 1,
    }  # fmt: skip
    arrived = eventually(lambda: sent_to(stack, local) or None, timeout_s=30)
    assert [(m["from"], m["body"]) for m in arrived] == [("+441914960002", f"Pizza Co {store_id}: 2-for-1 tonight")]
    why = eventually(lambda: api(stack, "GET", f"/api/contacts/{londoner}/decisions")["decisions"] or None)
    assert [d["reason"] for d in why] == ["out_of_area"] and sent_to(stack, londoner) == []


def test_two_campaigns_at_once_on_one_number_stay_within_its_rate(stack: RunningStack) -> None:
    store_id, tag = f"lds-{uuid.uuid4().hex[:6]}", f"e2e-{uuid.uuid4().hex[:8]}"
    sender, mps = "+441134960003", 2.0
    put_store(stack, store_id, ["LS"], sender, mps=mps)
    phones = numbers(8)
    people = [person(p, f"{tag}-{i % 2}", store_id=store_id) for i, p in enumerate(phones)]
    api(stack, "POST", "/api/contacts", {"contacts": people})
    for half in (0, 1):
        spec = {"name": f"half {half}", "message": "Hi {first_name|there}, 2-for-1 tonight",
                "audience": {"tags": [f"{tag}-{half}"]}, "send_at": datetime.now(UTC).isoformat()}  # fmt: skip
        api(stack, "POST", "/api/campaigns", spec)
    arrived = eventually(
        lambda: found if len(found := [m for p in phones for m in sent_to(stack, p)]) == len(phones) else None,
        timeout_s=60,
    )
    assert {m["from"] for m in arrived} == {sender}
    times = sorted(datetime.fromisoformat(m["created"]) for m in arrived)
    gaps = [(later - earlier).total_seconds() for earlier, later in pairwise(times)]
    assert min(gaps) >= 1 / mps - 0.05, gaps  # never two texts from the number closer than its rate allows


def test_an_order_update_arrives_once_from_the_stores_number(stack: RunningStack, integration_key: str) -> None:
    store_id = f"lds-{uuid.uuid4().hex[:6]}"
    put_store(stack, store_id, ["LS1"], "+441134960004")
    update = {"message": "{store_name}: your order is on its way", "relevance_minutes": 30}
    api(stack, "PUT", "/api/order-texts/out_for_delivery", update)
    [phone] = numbers(1)
    out = order_event(f"evt-{uuid.uuid4().hex[:8]}", phone, store_id, type="out_for_delivery")
    for _ in range(2):  # the ordering system retried
        assert post_event(stack, integration_key, out).status_code == 202
    arrived = eventually(lambda: sent_to(stack, phone) or None, timeout_s=30)
    assert [(m["from"], m["body"]) for m in arrived] == [
        ("+441134960004", f"Pizza Co {store_id}: your order is on its way")
    ]
    late = order_event(f"evt-{uuid.uuid4().hex[:8]}", phone, store_id, type="out_for_delivery",
                       order_id="ord-late", at=(datetime.now(UTC) - timedelta(hours=2)).isoformat())  # fmt: skip
    assert post_event(stack, integration_key, late).status_code == 202
    eventually(lambda: api(stack, "GET", f"/api/contacts?phone=%2B{phone[1:]}")["contacts"][0]["orders"]["count"] == 2
               or None)  # fmt: skip
    time.sleep(1.0)  # the same job decides its text right after applying it: a wrong send would be here by now
    assert len(sent_to(stack, phone)) == 1  # two hours late: dropped, never sent


def ordering_calls(stack: RunningStack, phone: str) -> list[dict[str, Any]]:
    """The calls the ordering-system simulator took for this customer."""
    calls: list[dict[str, Any]] = requests.get(f"{stack.ordering}/calls", timeout=30).json()
    return [call for call in calls if json.loads(call["body"])["phone"] == phone]


def bodies(stack: RunningStack, phone: str) -> list[str]:
    return [str(m["body"]) for m in sent_to(stack, phone)]


def customer_who_ordered(stack: RunningStack, integration_key: str, sender: str) -> tuple[str, str]:
    """A customer whose last order (2 x Margherita, £18.99) was from a store with its own number."""
    store_id = f"ncl-{uuid.uuid4().hex[:6]}"
    put_store(stack, store_id, ["NE1"], sender)
    [phone] = numbers(1)
    earlier = order_event(f"evt-{uuid.uuid4().hex[:8]}", phone, store_id,
                          items=[{"name": "Margherita", "quantity": 2}])  # fmt: skip
    assert post_event(stack, integration_key, earlier).status_code == 202
    eventually(lambda: api(stack, "GET", f"/api/contacts?phone=%2B{phone[1:]}")["contacts"] or None)
    return phone, store_id


def test_reorder_then_yes_places_one_signed_order_whose_pay_link_and_updates_follow(
    stack: RunningStack, integration_key: str
) -> None:
    phone, store_id = customer_who_ordered(stack, integration_key, "+441914960010")
    api(stack, "PUT", "/api/order-texts/delivered", {"message": "{store_name}: delivered. Enjoy!"})
    offer = text(stack, phone, "REORDER")
    assert offer["replies"] == [
        f"Your usual from Pizza Co {store_id}: 2 x Margherita, £18.99. Reply YES to order it again, or NO."
    ]
    assert text(stack, phone, "YES")["replies"] == [f"Thanks! Sending your order to Pizza Co {store_id} now."]
    paid = eventually(lambda: [m for m in sent_to(stack, phone) if "pay here" in m["body"]] or None, timeout_s=30)
    assert paid[0]["from"] == "+441914960010"  # the store's own number
    [call] = ordering_calls(stack, phone)
    assert call["signed"] and re.fullmatch(r"rapport-reorder-[0-9a-f]{32}", call["idempotency_key"])  # the offer's
    assert json.loads(call["body"])["items"] == [{"name": "Margherita", "quantity": 2}]
    # the ordering system posts the new order's events back: the profile counts it, its update is texted
    eventually(lambda: f"Pizza Co {store_id}: delivered. Enjoy!" in bodies(stack, phone) or None, timeout_s=30)
    profile = api(stack, "GET", f"/api/contacts?phone=%2B{phone[1:]}")["contacts"][0]
    assert profile["orders"]["count"] == 2 and profile["orders"]["last_store_id"] == store_id
    assert sum("pay here" in body for body in bodies(stack, phone)) == 1


def test_the_ordering_system_down_then_back_gives_one_order_and_the_customer_is_told(
    stack: RunningStack, integration_key: str
) -> None:
    phone, _ = customer_who_ordered(stack, integration_key, "+441914960011")
    requests.post(f"{stack.ordering}/control", json={"down": True}, timeout=30)
    try:
        text(stack, phone, "REORDER")
        text(stack, phone, "YES")
        eventually(lambda: "on its way to the store" in " ".join(bodies(stack, phone)) or None, timeout_s=30)
    finally:
        requests.post(f"{stack.ordering}/control", json={"down": False}, timeout=30)
    eventually(lambda: any("pay here" in body for body in bodies(stack, phone)) or None, timeout_s=45)
    calls = ordering_calls(stack, phone)
    assert len(calls) >= 2 and len({call["idempotency_key"] for call in calls}) == 1  # retried under one key
    eventually(
        lambda: api(stack, "GET", f"/api/contacts?phone=%2B{phone[1:]}")["contacts"][0]["orders"]["count"] == 2 or None,
        timeout_s=30,
    )
    time.sleep(2.0)  # a second order's events would be here by now
    assert api(stack, "GET", f"/api/contacts?phone=%2B{phone[1:]}")["contacts"][0]["orders"]["count"] == 2
    assert sum("pay here" in body for body in bodies(stack, phone)) == 1


def test_an_order_update_never_waits_behind_a_long_campaign(stack: RunningStack, integration_key: str) -> None:
    """A campaign paced at 1 text a second keeps the send function sleeping in line
    for its slots; an order event on its own queue and function is texted meanwhile."""
    slow, quick, tag = f"slw-{uuid.uuid4().hex[:6]}", f"qck-{uuid.uuid4().hex[:6]}", f"e2e-{uuid.uuid4().hex[:8]}"
    put_store(stack, slow, ["LS"], "+441134960020", mps=1)
    put_store(stack, quick, ["LS"], "+441134960021")
    recipients = numbers(12)
    api(stack, "POST", "/api/contacts", {"contacts": [person(p, tag, store_id=slow) for p in recipients]})
    spec = {"name": "slow", "message": "Hi {first_name|there}, 2-for-1 tonight", "audience": {"tags": [tag]},
            "send_at": datetime.now(UTC).isoformat()}  # fmt: skip
    api(stack, "POST", "/api/campaigns", spec)
    eventually(lambda: any(sent_to(stack, p) for p in recipients) or None, timeout_s=30)  # the campaign is going
    update = {"message": "{store_name}: your order is on its way", "relevance_minutes": 30}
    api(stack, "PUT", "/api/order-texts/out_for_delivery", update)
    [customer] = numbers(1)
    out = order_event(f"evt-{uuid.uuid4().hex[:8]}", customer, quick, type="out_for_delivery")
    assert post_event(stack, integration_key, out).status_code == 202
    eventually(lambda: sent_to(stack, customer) or None, timeout_s=5)
    still_going = sum(bool(sent_to(stack, p)) for p in recipients)
    assert still_going < len(recipients), "the campaign had finished: nothing was proven"


def test_a_cancelled_order_drops_its_update_still_pending(stack: RunningStack, integration_key: str) -> None:
    """The ordering system's events arrive out of order: the cancel first, then the
    update it made moot. The update is applied, and never texted."""
    store_id = f"lds-{uuid.uuid4().hex[:6]}"
    put_store(stack, store_id, ["LS1"], "+441134960030")
    update = {"message": "{store_name}: your order is on its way", "relevance_minutes": 30}
    api(stack, "PUT", "/api/order-texts/out_for_delivery", update)
    [phone] = numbers(1)
    order_id, now = f"ord-{uuid.uuid4().hex[:6]}", datetime.now(UTC)
    cancelled = order_event(f"evt-{uuid.uuid4().hex[:8]}", phone, store_id, type="cancelled", order_id=order_id,
                            at=(now - timedelta(minutes=1)).isoformat())  # fmt: skip
    out = order_event(f"evt-{uuid.uuid4().hex[:8]}", phone, store_id, type="out_for_delivery", order_id=order_id,
                      at=(now - timedelta(minutes=2)).isoformat())  # fmt: skip
    assert post_event(stack, integration_key, cancelled).status_code == 202
    eventually(lambda: api(stack, "GET", f"/api/contacts?phone=%2B{phone[1:]}")["contacts"] or None)
    assert post_event(stack, integration_key, out).status_code == 202
    timeline = eventually(
        lambda: found if len(found := api(stack, "GET", f"/api/contacts/{phone}/timeline")["events"]) >= 2 else None
    )
    assert sum(f"Order {order_id}" in str(entry) for entry in timeline) == 2  # both applied
    time.sleep(1.0)  # the same job decides its text right after applying it: a wrong send would be here by now
    assert sent_to(stack, phone) == []


def test_a_weekly_app_customer_who_never_replies_is_not_sunset(stack: RunningStack, integration_key: str) -> None:
    """Two customers who never answered five weekly offers; one of them orders in the
    app. The next offer goes to them; the other is asked whether they still want texts."""
    store_id, tag = f"lds-{uuid.uuid4().hex[:6]}", f"e2e-{uuid.uuid4().hex[:8]}"
    put_store(stack, store_id, ["LS6"], "+441134960031")
    orderer, silent = numbers(2)
    api(stack, "POST", "/api/contacts", {"contacts": [person(orderer, tag), person(silent, tag)]})
    now = datetime.now(UTC)
    offers = [now - timedelta(days=9 + 7 * week) for week in range(5)]  # weekly, none in the last week
    for phone in (orderer, silent):
        contact = stack.store.get_contact(phone)
        assert contact is not None
        ignored = contact.engagement.model_copy(update={"unanswered_marketing": 5, "marketing_sent_at": offers})
        stack.store.save_contact(contact.model_copy(update={"engagement": ignored}), contact.version)
    for days in (22, 15, 8):  # an order a week in the app, the last one after the last offer
        event = order_event(f"evt-{uuid.uuid4().hex[:8]}", orderer, store_id,
                            at=(now - timedelta(days=days)).isoformat())  # fmt: skip
        assert post_event(stack, integration_key, event).status_code == 202
    eventually(
        lambda: (
            api(stack, "GET", f"/api/contacts?phone=%2B{orderer[1:]}")["contacts"][0]["orders"]["count"] == 3 or None
        )
    )
    spec = {"name": "weekly", "message": "Hi {first_name|there}, 2-for-1 tonight", "audience": {"tags": [tag]},
            "send_at": (now + timedelta(hours=1)).isoformat()}  # fmt: skip
    campaign = api(stack, "POST", "/api/campaigns", spec)
    preview = api(stack, "POST", f"/api/campaigns/{campaign['id']}/preview")
    assert preview["decisions"] == {"send/clear": 1, "ask/unengaged": 1}


def test_a_free_text_answer_is_classified_and_listed_by_its_reason(stack: RunningStack) -> None:
    [phone] = numbers(1)
    api(stack, "POST", "/api/contacts", {"contacts": [person(phone, f"e2e-{uuid.uuid4().hex[:8]}")]})
    api(stack, "POST", f"/api/contacts/{phone}/ask", {"prompt_id": "why_not_lately"})
    eventually(lambda: sent_to(stack, phone) or None)
    answered = text(stack, phone, "honestly it got too expensive for us lately")
    assert answered["replies"] == ["Thank you, that really helps."]
    listed = api(stack, "GET", "/api/prompts/why_not_lately/answers?reason=price")
    mine = [answer for answer in listed["answers"] if answer["phone"] == phone]
    assert [(a["text"], a["reasons"]) for a in mine] == [("honestly it got too expensive for us lately", ["price"])]
    assert listed["counts"]["price"] >= 1
