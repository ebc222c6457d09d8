"""The contacts API in-process on moto: find by phone, tag and attribute a page at a
time, CSV imports refused whole with their line numbers, a tag's export as CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

import pytest
from chalice.test import Client

from chalicelib.adapters.dynamodb_store import DynamoConversationStore
from chalicelib.services import contacts as finding
from tests.integration.conftest import ALICE, OLIVE, item_count
from tests.integration.test_operator_api import AUTH, call

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CSV_AUTH = {**AUTH, "Content-Type": "text/csv"}


def number(n: int) -> str:
    return f"+4477009{n:05d}"


def person(n: int, *tags: str, **attributes: str) -> dict[str, Any]:
    return {"phone": number(n), "tags": list(tags), "attributes": attributes}


def imported(client: Client, *people: dict[str, Any]) -> None:
    status, body = call(client, "POST", "/api/contacts", {"contacts": list(people)})
    assert status == 200, body


def post_csv(client: Client, text: str, headers: dict[str, str] = CSV_AUTH) -> tuple[int, Any]:
    response = client.http.post("/api/contacts", headers=headers, body=text.encode())
    return response.status_code, json.loads(response.body) if response.body else None


def found(client: Client, query: str, headers: dict[str, str] = AUTH) -> tuple[int, Any]:
    return call(client, "GET", f"/api/contacts?{query}", headers=headers)


def phones(body: dict[str, Any]) -> list[str]:
    return [contact["phone"] for contact in body["contacts"]]


def every_page(client: Client, query: str) -> tuple[list[str], int]:
    """Every phone a search finds, following `next`, and how many pages it took."""
    seen: list[str] = []
    pages, cursor = 0, None
    while True:
        status, body = found(client, query + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200, body
        seen += phones(body)
        pages += 1
        cursor = body["next"]
        if cursor is None:
            return seen, pages
        assert pages < 50


# --- find


def test_an_exact_phone_is_found_however_it_is_written(client: Client) -> None:
    imported(client, person(1, "pizza", first_name="Ann"))
    for written in ("%2B447700900001", "447700900001", "%2B44%207700%20900001"):
        status, body = found(client, f"phone={written}")
        assert status == 200 and phones(body) == [number(1)] and body["next"] is None
        assert body["contacts"][0]["attributes"]["first_name"]["value"] == "Ann"
    status, body = found(client, "phone=%2B447700900002")
    assert status == 200 and body == {"contacts": [], "next": None}


def test_a_tag_finds_its_contacts_in_pages_and_only_them(client: Client) -> None:
    imported(client, *(person(n, "vip", "pizza") for n in range(1, 8)), person(20, "pizza"), person(21))
    status, body = found(client, "tag=vip&limit=3")
    assert status == 200 and phones(body) == [number(1), number(2), number(3)] and body["next"]
    everyone, pages = every_page(client, "tag=vip&limit=3")
    assert everyone == [number(n) for n in range(1, 8)] and pages == 3
    assert every_page(client, "tag=pizza&limit=100")[0] == [*(number(n) for n in range(1, 8)), number(20)]
    assert found(client, "tag=nobody")[1] == {"contacts": [], "next": None}
    assert found(client, "tag=VIP")[1]["contacts"] == []  # tags are as written


def test_a_tag_search_never_scans(client: Client) -> None:
    imported(client, *(person(n, "vip") for n in range(1, 4)))
    with patch.object(DynamoConversationStore, "find_contacts", side_effect=AssertionError("scanned")):
        assert phones(found(client, "tag=vip")[1]) == [number(1), number(2), number(3)]


def test_a_tag_added_by_a_later_import_is_found_by_it(client: Client, store: DynamoConversationStore) -> None:
    imported(client, person(1, "pizza"))
    imported(client, person(1, "burgers"))
    assert phones(found(client, "tag=burgers")[1]) == [number(1)]
    assert phones(found(client, "tag=pizza")[1]) == [number(1)]


def test_a_tag_removed_is_no_longer_found_by_it(client: Client, store: DynamoConversationStore) -> None:
    imported(client, person(1, "pizza", "lapsed"))
    current = store.get_contact(number(1))
    assert current is not None
    store.save_contact(current.model_copy(update={"tags": ["pizza"]}), current.version, tags_before=current.tags)
    assert found(client, "tag=lapsed")[1]["contacts"] == []
    assert phones(found(client, "tag=pizza")[1]) == [number(1)]


def test_an_attribute_search_finds_by_name_and_value_case_aside(client: Client) -> None:
    imported(
        client,
        person(1, first_name="Ann", branch="Leeds"),
        person(2, first_name="Bob", branch="leeds "),
        person(3, first_name="Cy", branch="York"),
        person(4, first_name="Di"),
    )
    assert sorted(every_page(client, "attribute=branch&value=LEEDS")[0]) == [number(1), number(2)]
    assert sorted(every_page(client, "attribute=branch")[0]) == [number(1), number(2), number(3)]
    assert every_page(client, "attribute=colour&value=red")[0] == []


def test_an_attribute_search_reads_a_bounded_number_of_contacts_a_page(client: Client) -> None:
    imported(client, *(person(n, shade="blue" if n % 3 == 0 else "red") for n in range(1, 13)))
    with patch.object(finding, "SCAN_BUDGET", 4):
        blue, pages = every_page(client, "attribute=shade&value=blue&limit=100")
    assert sorted(blue) == [number(n) for n in (3, 6, 9, 12)] and pages >= 3
    two, _ = every_page(client, "attribute=shade&value=red&limit=2")
    assert len(two) == 8 and len(set(two)) == 8


def test_no_criterion_browses_every_contact_a_page_at_a_time(client: Client) -> None:
    imported(client, *(person(n) for n in range(1, 6)))
    everyone, pages = every_page(client, "limit=2")
    assert sorted(everyone) == [number(n) for n in range(1, 6)] and pages >= 3


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("phone=12", "phone number"),
        ("phone=%2B447700900001&tag=vip", "one of phone, tag or attribute"),
        ("tag=vip&attribute=branch", "one of phone, tag or attribute"),
        ("value=Leeds", "value: give it with attribute"),
        ("tag=a%2Cb", "tag: 1 to 40"),
        ("tag=" + "x" * 41, "tag: 1 to 40"),
        ("attribute=%3Cb%3E", "attribute: 1 to 40"),
        ("tag=", "tag"),
        ("tag=vip&tag=pizza", "give it once"),
        ("limit=0", "limit: a whole number from 1 to 100"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("tag=vip&cursor=nonsense", "cursor: not one this search gave"),
        ("tag=vip&cursor=eyJieSI6InRhZyIsImFmdGVyIjoiLS0ifQ", "cursor"),  # after "--"
        ("phone=%2B447700900001&cursor=abc", "cursor"),
    ],
)
def test_bad_search_parameters_get_400_naming_them(client: Client, query: str, says: str) -> None:
    status, body = found(client, query)
    assert status == 400 and says in body["Message"], body


def test_a_cursor_from_another_kind_of_search_is_refused(client: Client) -> None:
    imported(client, *(person(n, "vip", shade="red") for n in range(1, 4)))
    cursor = found(client, "tag=vip&limit=1")[1]["next"]
    status, body = found(client, f"attribute=shade&cursor={cursor}")
    assert status == 400 and "cursor" in body["Message"]


def test_searching_is_for_operators_and_admins(client: Client) -> None:
    assert found(client, "tag=vip", headers=OLIVE)[0] == 200
    status, body = found(client, "tag=vip", headers=ALICE)
    assert status == 403 and "has the role agent" in body["Message"]


# --- import a CSV file

GOOD = """phone,tags,first_name,time_zone,home_area,consent_state,consent_source,consent_at
+447700900001,vip;pizza,Ann,Europe/London,LS1 4AP,opted_in,till,2026-01-05T10:00:00Z
447700900002, pizza ,Bob,,,,,
"""


def test_a_good_csv_imports_every_row(client: Client, store: DynamoConversationStore) -> None:
    status, body = post_csv(client, GOOD)
    assert (status, body) == (200, {"imported": 2})
    ann = store.get_contact(number(1))
    assert ann is not None and ann.tags == ["pizza", "vip"] and ann.attributes["first_name"].value == "Ann"
    assert ann.time_zone.confirmed == "Europe/London" and ann.home is not None and ann.home.area == "LS14AP"
    assert ann.consent == "opted_in" and (ann.attributes["first_name"].by or "").startswith("token:")  # who did it
    bob = store.get_contact(number(2))
    assert bob is not None and bob.tags == ["pizza"] and bob.time_zone.confirmed is None
    assert phones(found(client, "tag=pizza")[1]) == [number(1), number(2)]


def test_a_csv_with_bad_rows_is_refused_whole_with_each_line_and_why(
    client: Client, dynamodb: DynamoDBClient, table: str
) -> None:
    before = item_count(dynamodb, table)
    text = (
        "phone,tags,first_name,time_zone\r\n"
        "+447700900001,vip,Ann,\r\n"
        "not a number,vip,Bob,\r\n"
        "\r\n"
        '+447700900003,"bad,tag",Cy,\r\n'
        "+447700900004,vip,Di,Mars/Olympus\r\n"
        "+447700900005,vip\r\n"
    )
    status, body = post_csv(client, text)
    assert status == 400 and body["Code"] == "BadRequestError", body
    lines = {reject["line"]: reject["reason"] for reject in body["rejects"]}
    assert sorted(lines) == [3, 5, 6, 7]
    assert lines[3].startswith("phone: ") and "tags: " in lines[5] and "time_zone: " in lines[6]
    assert "2 cells, but the header has 4" in lines[7]
    assert "nothing imported" in body["Message"] and "line 3: phone" in body["Message"]
    assert item_count(dynamodb, table) == before  # not even line 2


def test_a_multi_line_cell_counts_its_lines(client: Client) -> None:
    text = 'phone,note\n+447700900001,"two\nlines"\n12,x\n'
    status, body = post_csv(client, text)
    assert status == 400 and [r["line"] for r in body["rejects"]] == [4]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "line 1: the file is empty"),
        ("first_name,tags\nAnn,vip\n", "line 1: no phone column"),
        ("phone,Phone\n+447700900001,x\n", "named twice"),
        ("phone,first name!\n+447700900001,x\n", "column 'first name!'"),
        ("phone\n", "no contacts under the header row"),
        ('phone,tags\n+447700900001,"vip\n', "not readable as CSV"),
        ("phone\n" + "+447700900001\n" * 501, "more than 500 rows"),
    ],
)
def test_a_csv_that_cannot_be_read_is_refused_saying_why(client: Client, text: str, says: str) -> None:
    status, body = post_csv(client, text)
    assert status == 400 and says in body["Message"], body


def test_a_csv_that_is_not_utf8_is_refused(client: Client) -> None:
    response = client.http.post(
        "/api/contacts", headers=CSV_AUTH, body="phone,name\n+447700900001,Zoë\n".encode("latin-1")
    )
    assert response.status_code == 400 and "UTF-8" in json.loads(response.body)["Message"]


def test_a_row_that_would_overfill_a_profile_is_refused_by_its_line(client: Client) -> None:
    imported(client, person(2, *(f"t{n}" for n in range(50))))
    status, body = post_csv(client, "phone,tags\n+447700900001,a\n+447700900002,one-more\n")
    assert status == 400 and [r["line"] for r in body["rejects"]] == [3] and "at most 50" in body["Message"]
    assert found(client, "phone=%2B447700900001")[1]["contacts"] == []


def test_the_json_import_still_works_and_names_records_by_index(client: Client) -> None:
    status, body = call(client, "POST", "/api/contacts", {"contacts": [person(1), {"phone": "nope"}]})
    assert status == 400 and body["Message"].startswith("contacts.1.phone:")


def test_other_bodies_are_refused_with_415(client: Client) -> None:
    response = client.http.post("/api/contacts", headers={**AUTH, "Content-Type": "text/plain"}, body=b"x")
    assert response.status_code == 415


def test_agents_may_not_import(client: Client) -> None:
    status, _ = post_csv(client, GOOD, headers={**ALICE, "Content-Type": "text/csv"})
    assert status == 403


# --- export a tag as CSV


def export(client: Client, query: str, headers: dict[str, str] = AUTH) -> Any:
    return client.http.get(f"/api/contacts/export?{query}", headers=headers)


def test_a_tags_export_is_csv_with_a_header_and_imports_back_as_it_was(
    client: Client, store: DynamoConversationStore
) -> None:
    assert post_csv(client, GOOD)[0] == 200
    imported(client, person(3, "burgers", first_name="Cy"))
    response = export(client, "tag=pizza")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert 'filename="contacts-pizza.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.body.decode())))
    assert [row["phone"] for row in rows] == [number(1), number(2)]
    assert rows[0]["tags"] == "pizza;vip" and rows[0]["first_name"] == "Ann" and rows[0]["home_area"] == "LS14AP"
    assert rows[0]["consent_state"] == "opted_in" and rows[1]["time_zone"] == ""
    before = store.get_contact(number(1))
    assert post_csv(client, response.body.decode()) == (200, {"imported": 2})
    after = store.get_contact(number(1))
    assert before is not None and after is not None
    assert (after.tags, after.home, after.time_zone) == (before.tags, before.home, before.time_zone)
    assert {k: v.value for k, v in after.attributes.items()} == {k: v.value for k, v in before.attributes.items()}


def test_an_empty_tags_export_is_just_the_header(client: Client) -> None:
    response = export(client, "tag=nobody")
    assert response.status_code == 200 and response.body.decode().startswith("phone,tags,")
    assert response.body.decode().count("\r\n") == 1


def test_an_export_needs_a_good_tag_and_an_operator(client: Client) -> None:
    for query in ("", "tag=", "tag=a%2Cb", "tag=a&tag=b"):
        assert export(client, query).status_code == 400, query
    assert export(client, "tag=vip", headers=ALICE).status_code == 403


def test_an_export_too_large_for_one_file_says_so(client: Client) -> None:
    imported(client, *(person(n, "vip") for n in range(1, 5)))
    with patch.object(finding, "MAX_EXPORT", 3), patch.object(finding, "EXPORT_PAGE", 2):
        response = export(client, "tag=vip")
    assert response.status_code == 413 and "more than 3" in json.loads(response.body)["Message"]
