"""The stores API in-process, on moto: create, replace, retire, read, and refuse bad input."""

from __future__ import annotations

from chalice.test import Client

from tests.integration.conftest import ALICE, OLIVE
from tests.integration.test_operator_api import call

LEEDS = {
    "name": "Pizza Co Leeds",
    "time_zone": "Europe/London",
    "areas": ["ls1", "LS 2"],
    "sender": "+15005550006",
    "messages_per_second": 1,
    "phone": "+44 113 496 0000",
}


def test_a_store_is_created_then_replaced_then_retired_never_deleted(client: Client) -> None:
    status, created = call(client, "PUT", "/api/stores/leeds", LEEDS, OLIVE)
    assert status == 201
    assert (created["id"], created["areas"], created["phone"], created["version"]) == (
        "leeds", ["LS1", "LS2"], "+441134960000", 1,
    )  # fmt: skip
    assert created["updated_by"] == "olive" and created["retired"] is False
    status, replaced = call(client, "PUT", "/api/stores/leeds", {**LEEDS, "messages_per_second": 10}, OLIVE)
    assert status == 200 and replaced["messages_per_second"] == 10 and replaced["version"] == 2
    assert replaced["created_at"] == created["created_at"]
    status, retired = call(client, "PUT", "/api/stores/leeds", {**LEEDS, "retired": True}, OLIVE)
    assert status == 200 and retired["retired"] is True
    assert call(client, "GET", "/api/stores/leeds", headers=ALICE) == (200, retired)  # agents read stores
    call(client, "PUT", "/api/stores/harrogate", {**LEEDS, "name": "Pizza Co Harrogate", "areas": ["HG"]}, OLIVE)
    status, listed = call(client, "GET", "/api/stores", headers=OLIVE)
    assert status == 200 and [s["id"] for s in listed["stores"]] == ["harrogate", "leeds"]


def test_bad_stores_are_refused_with_the_reason_and_nothing_is_stored(client: Client) -> None:
    cases = [
        ({**LEEDS, "time_zone": "Europe/Leeds"}, "time_zone"),
        ({**LEEDS, "sender": "pizza"}, "sender"),
        ({**LEEDS, "areas": []}, "areas"),
        ({**LEEDS, "messages_per_second": "fast"}, "messages_per_second"),
        ({**LEEDS, "messages_per_second": 0}, "messages_per_second"),
        ({key: value for key, value in LEEDS.items() if key != "name"}, "name"),
        ({**LEEDS, "colour": "red"}, "colour"),
    ]
    for body, field in cases:
        status, answer = call(client, "PUT", "/api/stores/leeds", body, OLIVE)
        assert status == 400 and field in answer["Message"], (field, answer)
    status, answer = call(client, "PUT", "/api/stores/Leeds%20Centre", LEEDS, OLIVE)
    assert status == 400 and "store_id" in answer["Message"]
    assert call(client, "GET", "/api/stores", headers=OLIVE) == (200, {"stores": []})
    status, answer = call(client, "GET", "/api/stores/leeds", headers=OLIVE)
    assert status == 404 and "no store 'leeds'" in answer["Message"]


def test_agents_may_read_stores_but_not_change_them(client: Client) -> None:
    status, answer = call(client, "PUT", "/api/stores/leeds", LEEDS, ALICE)
    assert status == 403 and "operator" in answer["Message"]
    assert call(client, "GET", "/api/stores", headers=ALICE)[0] == 200
