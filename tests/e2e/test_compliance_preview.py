"""End to end: the documented campaign preview, at fixed future moments, holds
marketing texts that a state's law bars and names the law; a moment later (or
a day earlier) the same text would go."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import RunningStack
from tests.e2e.test_campaigns import api, planned_run
from tests.e2e.test_local_stack import eventually

NEW_YORK, CHICAGO = "America/New_York", "America/Chicago"


@dataclass(frozen=True)
class Case:
    number: str
    region: str | None  # what the import says about the state, if anything
    held_at: str  # local time: the run would start then
    zone: str
    explanation: str
    sent_at: str  # local time when the same text would go


CASES = {
    "CT 08:30 weekday, state imported": Case(
        "+12125550201",  # a New York number: only the import says Connecticut
        "CT",
        "2027-01-13T08:30",  # a Wednesday
        NEW_YORK,
        "Connecticut: 09:00-20:00 local; it is 08:30 in America/New_York.",
        "2027-01-13T09:00",
    ),
    "CT 08:30 weekday, 203 area code": Case(
        "+12035550202",
        None,
        "2027-01-13T08:30",
        NEW_YORK,
        "Connecticut: 09:00-20:00 local; it is 08:30 in America/New_York.",
        "2027-01-13T09:00",
    ),
    "KY 09:30": Case(
        "+15025550203",
        None,
        "2027-01-13T09:30",
        NEW_YORK,
        "Kentucky: 10:00-21:00 local; it is 09:30 in America/New_York.",
        "2027-01-13T10:00",
    ),
    "MI 08:30": Case(
        "+13135550204",
        None,
        "2027-01-13T08:30",
        NEW_YORK,
        "Michigan: 09:00-21:00 local; it is 08:30 in America/New_York.",
        "2027-01-13T09:00",
    ),
    "FL 20:30, 305 area code only": Case(
        "+13055550205",
        None,
        "2027-01-13T20:30",
        NEW_YORK,
        "Florida: 08:00-20:00 local; it is 20:30 in America/New_York.",
        "2027-01-13T19:59",
    ),
    "AL Sunday afternoon": Case(
        "+12055550206",
        None,
        "2027-01-17T14:00",  # a Sunday
        CHICAGO,
        "Alabama: no marketing on Sundays; it is Sunday 14:00 in America/Chicago.",
        "2027-01-16T14:00",  # the Saturday before
    ),
    "LA Sunday afternoon": Case(
        "+15045550207",
        None,
        "2027-01-17T14:00",
        CHICAGO,
        "Louisiana: no marketing on Sundays; it is Sunday 14:00 in America/Chicago.",
        "2027-01-16T14:00",
    ),
    "TX Sunday 11:00": Case(
        "+12145550208",
        None,
        "2027-01-17T11:00",
        CHICAGO,
        "Texas: 12:00-21:00 local on Sundays; it is Sunday 11:00 in America/Chicago.",
        "2027-01-17T12:00",
    ),
}


def contact(case: Case, tag: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    home: dict[str, Any] = {"area": "10001", "confirmed_at": (now - timedelta(days=10)).isoformat()}
    if case.region:
        home["region"] = case.region
    return {  # no time zone: the candidates come from the number
        "phone": case.number,
        "tags": [tag],
        "home": home,
        "consent": {"state": "opted_in", "source": "e2e form", "at": (now - timedelta(days=30)).isoformat()},
    }


def preview_at(stack: RunningStack, tag: str, local: str, zone: str) -> dict[str, Any]:
    """A marketing campaign for the tag whose run starts at that local moment, previewed."""
    send_at = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(zone))
    spec = {
        "name": f"compliance {tag}",
        "message": "2-for-1 pizzas today",
        "audience": {"tags": [tag]},
        "send_at": send_at.isoformat(),
        "relevance_hours": 24 * 7,  # a hold past a long weekend stays a hold
    }
    campaign = api(stack, "POST", "/api/campaigns", spec)
    preview: dict[str, Any] = api(stack, "POST", f"/api/campaigns/{campaign['id']}/preview")
    api(stack, "POST", f"/api/campaigns/{campaign['id']}/pause")  # it never needs to run
    assert datetime.fromisoformat(preview["evaluated_at"]) == send_at
    return preview


@pytest.mark.parametrize("name", CASES)
def test_the_preview_holds_what_a_state_bars_and_names_the_rule(stack: RunningStack, name: str) -> None:
    case = CASES[name]
    tag = f"compliance-{uuid.uuid4().hex[:8]}"
    api(stack, "POST", "/api/contacts", {"contacts": [contact(case, tag)]})

    held = preview_at(stack, tag, case.held_at, case.zone)
    assert held["decisions"] == {"hold/quiet_hours": 1}, held
    [sample] = held["samples"]["hold/quiet_hours"]
    assert sample["phone"] == case.number
    assert sample["detail"].startswith(case.explanation), sample["detail"]

    sent = preview_at(stack, tag, case.sent_at, case.zone)
    assert sent["decisions"] == {"send/clear": 1}, sent


def zone_where_it_is_eight() -> str:
    """An `Etc/GMT` zone where the local hour is 08 now (waiting out the last minutes of an hour)."""
    now = datetime.now(UTC)
    if now.minute >= 58:
        time.sleep((60 - now.minute) * 60 - now.second + 5)  # into the next hour
        now = datetime.now(UTC)
    offset = (8 - now.hour + 12) % 24 - 12
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")  # Etc/GMT-5 is UTC+5


@pytest.mark.slow
def test_a_real_run_records_the_rule_and_the_explain_route_names_it(stack: RunningStack) -> None:
    tag = f"compliance-{uuid.uuid4().hex[:8]}"
    phone = "+12125550299"  # New York; the confirmed home is in Connecticut
    zone = zone_where_it_is_eight()
    record = contact(Case(phone, "CT", "", zone, "", ""), tag) | {"time_zone": zone}
    api(stack, "POST", "/api/contacts", {"contacts": [record]})
    spec = {
        "name": f"compliance {tag}",
        "message": "2-for-1 pizzas today",
        "audience": {"tags": [tag]},
        "send_at": datetime.now(UTC).isoformat(),
    }
    campaign = api(stack, "POST", "/api/campaigns", spec)
    try:
        run = planned_run(stack, campaign["id"])
        assert run["counts"].get("hold/quiet_hours") == 1, run
        path = f"/api/contacts/{phone.replace('+', '%2B')}/decisions"
        [decision] = eventually(lambda: api(stack, "GET", path)["decisions"] or None)
        assert (decision["verdict"], decision["reason"]) == ("hold", "quiet_hours")
        expected = rf"Connecticut: 09:00-20:00 local; it is 08:\d\d in {re.escape(zone)}\. Held until "
        assert re.match(expected, decision["explanation"]), decision["explanation"]
    finally:
        api(stack, "POST", f"/api/campaigns/{campaign['id']}/pause")  # the held text is never released
