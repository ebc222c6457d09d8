"""The stores API in-process, on moto: create, replace, retire, read, and refuse bad input."""

from __future__ import annotations

import json

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


def test_an_import_names_a_contacts_store_or_its_confirmed_home_does(client: Client) -> None:
    call(client, "PUT", "/api/stores/leeds", LEEDS, OLIVE)
    call(client, "PUT", "/api/stores/newcastle", {**LEEDS, "name": "Pizza Co Newcastle", "areas": ["NE1"]}, OLIVE)
    confirmed = {"area": "LS1 4AB", "confirmed_at": "2026-05-01T10:00:00Z"}
    people = [
        {"phone": "+447700900301", "store_id": "newcastle", "home": confirmed},  # named: the home does not move it
        {"phone": "+447700900302", "home": confirmed},  # the store whose area holds the home
        {"phone": "+447700900303", "home": {"area": "LS1 4AB"}},  # not confirmed: no store
    ]
    assert call(client, "POST", "/api/contacts", {"contacts": people}, OLIVE) == (200, {"imported": 3})
    linked = [call(client, "GET", f"/api/contacts/{p['phone']}", headers=OLIVE)[1] for p in people]
    assert [(c["store_id"], c["store_source"]) for c in linked] == [
        ("newcastle", "import"), ("leeds", "home"), (None, None),
    ]  # fmt: skip
    csv_text = "phone,store_id\n+447700900302,newcastle\n"
    response = client.http.post("/api/contacts", headers={**OLIVE, "Content-Type": "text/csv"}, body=csv_text.encode())
    assert response.status_code == 200
    moved = call(client, "GET", "/api/contacts/+447700900302", headers=OLIVE)[1]
    assert (moved["store_id"], moved["store_source"]) == ("newcastle", "import")


def test_an_import_naming_an_unknown_or_retired_store_is_refused_whole(client: Client) -> None:
    call(client, "PUT", "/api/stores/leeds", {**LEEDS, "retired": True}, OLIVE)
    for rows, says in [
        ("+447700900311,\n+447700900312,york\n+447700900313,leeds\n", {3: "no such store", 4: "retired"}),
        ("+447700900311,\n+447700900314,Leeds!\n", {3: "store_id: String should match"}),
    ]:
        headers = {**OLIVE, "Content-Type": "text/csv"}
        response = client.http.post("/api/contacts", headers=headers, body=f"phone,store_id\n{rows}".encode())
        refused = json.loads(response.body)
        assert response.status_code == 400, refused
        reasons = {reject["line"]: reject["reason"] for reject in refused["rejects"]}
        assert set(reasons) == set(says) and all(says[line] in reasons[line] for line in says), reasons
    status, page = call(client, "GET", "/api/contacts?phone=%2B447700900311", headers=OLIVE)
    assert status == 200 and page["contacts"] == []  # nothing imported


def test_a_campaign_for_stores_names_live_ones(client: Client) -> None:
    call(client, "PUT", "/api/stores/leeds", LEEDS, OLIVE)
    call(client, "PUT", "/api/stores/york", {**LEEDS, "name": "Pizza Co York", "retired": True}, OLIVE)
    campaign = {"name": "Leeds only", "message": "{store_name}: 2-for-1", "send_at": "2026-06-02T10:00:00Z"}
    for stores, says in [(["leeds", "hull"], "no store hull"), (["york"], "york retired"), (["Leeds"], "stores")]:
        status, answer = call(client, "POST", "/api/campaigns", {**campaign, "audience": {"stores": stores}}, OLIVE)
        assert status == 400 and says in answer["Message"], answer
    status, created = call(client, "POST", "/api/campaigns", {**campaign, "audience": {"stores": ["leeds"]}}, OLIVE)
    assert status == 201 and created["audience"]["stores"] == ["leeds"]
