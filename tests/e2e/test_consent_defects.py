"""End to end on the running stack: the three ways a STOP could be undone or
consent skipped, as a new user found them (issue: what a text earned, how
consent was won). Each failed on the stack before the fix."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests

from tests.e2e.conftest import OPERATOR_TOKEN, RunningStack
from tests.e2e.test_campaigns import api
from tests.e2e.test_inbound_integrity import post
from tests.e2e.test_local_stack import BRAND

AUTH = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def imported(stack: RunningStack, number: str, tag: str, at: datetime) -> requests.Response:
    record: dict[str, Any] = {
        "phone": number,
        "tags": [tag],
        "consent": {"state": "opted_in", "source": "e2e till", "at": at.isoformat()},
    }
    return requests.post(f"{stack.api}/api/contacts", json={"contacts": [record]}, headers=AUTH, timeout=30)


def preview(stack: RunningStack, spec: dict[str, Any]) -> dict[str, Any]:
    campaign = api(stack, "POST", "/api/campaigns", spec)
    found: dict[str, Any] = api(stack, "POST", f"/api/campaigns/{campaign['id']}/preview")
    api(stack, "POST", f"/api/campaigns/{campaign['id']}/pause")  # previewed, never run
    return found


def marketing(tag: str) -> dict[str, Any]:
    soon = datetime.now(UTC) + timedelta(days=1)
    return {
        "name": f"offer {tag}",
        "message": "2-for-1 tonight",
        "audience": {"tags": [tag]},
        "send_at": soon.isoformat(),
    }


def test_a_future_dated_consent_is_refused_and_never_beats_a_stop(stack: RunningStack) -> None:
    number, tag = "+447700900870", f"future-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    for at in (datetime(2099, 1, 1, tzinfo=UTC), now + timedelta(hours=10)):  # 2099; a wrong offset
        refused = imported(stack, number, tag, at)
        assert refused.status_code == 400 and "contacts.0: consent at" in refused.json()["Message"], refused.text
    assert stack.store.get_contact(number) is None  # nothing half-stored
    assert imported(stack, number, tag, now + timedelta(minutes=4)).status_code == 200  # a clock a little fast
    stopped = post(stack, number, "STOP")
    assert any("unsubscribed" in reply for reply in stopped["replies"]), stopped  # confirmed, not silently lost
    assert imported(stack, number, tag, datetime.now(UTC)).status_code == 200  # the till again, after the STOP
    contact = stack.store.get_contact(number)
    assert contact is not None and contact.consent == "opted_out"
    assert preview(stack, marketing(tag))["decisions"] == {"drop/opted_out": 1}


def test_a_replayed_start_after_fifty_texts_and_a_stop_changes_nothing(stack: RunningStack) -> None:
    number, start = "+447700900871", "SM" + uuid.uuid4().hex

    def start_again() -> dict[str, Any]:  # the same signed request, the same MessageSid
        body = {"from": number, "to": BRAND, "body": "START", "sid": start}
        answer: dict[str, Any] = requests.post(f"{stack.sim}/sim/inbound", json=body, timeout=30).json()
        return answer

    assert start_again()["status"] == 200
    for n in range(50):
        assert post(stack, number, f"what time do you open, take {n}?")["status"] == 200
    assert any("unsubscribed" in reply for reply in post(stack, number, "STOP")["replies"])
    before = stack.store.get_contact(number)
    again = start_again()
    assert again["status"] == 200 and again["replies"] == [], again  # no "subscribed again"
    assert stack.store.get_contact(number) == before  # consent, counts, conversation: as they were
    assert before is not None and before.consent == "opted_out"


def test_campaigns_are_marketing_or_question_and_both_need_opt_in_and_keep_quiet_hours(stack: RunningStack) -> None:
    tag = f"purpose-{uuid.uuid4().hex[:8]}"
    for purpose in ("transactional", "conversational"):
        answer = requests.post(
            f"{stack.api}/api/campaigns", json={**marketing(tag), "purpose": purpose}, headers=AUTH, timeout=30
        )
        assert answer.status_code == 400 and "'marketing' or 'question'" in answer.json()["Message"], answer.text
    month_ago = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    london = {"tags": [tag], "time_zone": "Europe/London"}
    contacts = [
        {"phone": "+447700900872", **london, "consent": {"state": "opted_in", "source": "e2e form", "at": month_ago}},
        {"phone": "+447700900873", **london},  # no consent at all
    ]
    api(stack, "POST", "/api/contacts", {"contacts": contacts})
    three_am = (datetime.now(ZoneInfo("Europe/London")) + timedelta(days=2)).replace(hour=3, minute=0, second=0)
    for spec in (marketing(tag), {**marketing(tag), "message": None, "prompt_id": "interests"}):
        decisions = preview(stack, {**spec, "send_at": three_am.isoformat(), "relevance_hours": 24})["decisions"]
        assert decisions == {"hold/quiet_hours": 1, "drop/no_consent": 1}, (spec, decisions)
