"""End to end on the running stack: a campaign's {link:…} reaches the handset
as a short link on the service's own address; clicked twice, it redirects
twice and is counted once for the run."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import requests

from tests.e2e.conftest import RunningStack
from tests.e2e.test_campaigns import api, numbers, person, planned_run
from tests.e2e.test_local_stack import eventually, handset

TARGET = "https://pizza.example/menu?utm=sms"


def test_a_link_clicked_twice_is_counted_once(stack: RunningStack) -> None:
    tag = f"links-{uuid.uuid4().hex[:8]}"
    [phone] = numbers(1)
    api(stack, "POST", "/api/contacts", {"contacts": [person(phone, tag)]})
    spec = {
        "name": f"menu {tag}",
        "message": f"Hi {{first_name|there}}, our new menu: {{link:{TARGET}}}",
        "audience": {"tags": [tag]},
        "send_at": datetime.now(UTC).isoformat(),
    }
    campaign = api(stack, "POST", "/api/campaigns", spec)
    run = planned_run(stack, campaign["id"])
    [text] = eventually(lambda: handset(stack, phone) or None, timeout_s=30)
    found = re.search(rf"{re.escape(stack.api)}/l/([0-9A-Za-z]{{12}})$", text)
    assert found is not None and TARGET not in text and phone.removeprefix("+") not in text, text

    for _ in range(2):
        followed = requests.get(found.group(0), allow_redirects=False, timeout=30)
        assert (followed.status_code, followed.headers["Location"]) == (302, TARGET)
        assert followed.headers["Cache-Control"] == "no-store"

    def clicked() -> Any:
        runs = api(stack, "GET", f"/api/campaigns/{campaign['id']}/runs")["runs"]
        return next((r["counts"].get("clicked") for r in runs if r["id"] == run["id"]), None)

    assert eventually(clicked) == 1
    assert requests.get(f"{stack.api}/l/{'A' * 12}", allow_redirects=False, timeout=30).status_code == 404
