"""Named API keys and roles, in-process: every /api route x every role against
the table in docs/api.md (which must list every route the app has), keys made
and revoked over the admin routes and `make key`, revocation reaching other
containers within a minute, and writes that record who made them."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.adapters.dynamodb_keys import DynamoKeyStore
from chalicelib.entrypoints.auth import API_PREFIX, route_roles
from chalicelib.services import keys as use_cases
from chalicelib.services.keys import LOOKUP_TTL_S, KeyLookup, Role
from local import keys as make_key
from local.stack import ROOT
from tests.integration.conftest import ALICE, KEYS, OLIVE, OPERATOR_TOKEN, as_key
from tests.integration.test_operator_api import AUTH, CAMPAIGN, OPTED_IN, call

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from chalicelib.adapters.dynamodb_store import DynamoConversationStore

CALLERS = {  # who calls -> the role the route must allow
    "ada (admin key)": ("admin", as_key("ada")),
    "script token (admin)": ("admin", AUTH),
    "olive (operator key)": ("operator", as_key("olive")),
    "alice (agent key)": ("agent", as_key("alice")),
}
PATH_VALUES = {
    "{number}": "447700900499", "{campaign_id}": "cmp_nope", "{name}": "nobody", "{reply_id}": "sr_nope",
    "{text_version}": "v-nope",
}  # fmt: skip
DOC_ROW = re.compile(r"^\| `(GET|POST|PUT|PATCH|DELETE) (/api/\S*)` \| ([a-z, ]+) \|", re.MULTILINE)


def documented_roles() -> dict[tuple[str, str], frozenset[str]]:
    """The "Routes and roles" table of docs/api.md: (method, path) -> roles."""
    doc = (ROOT / "docs" / "api.md").read_text()
    return {
        (method, path): frozenset(role.strip() for role in roles.split(","))
        for method, path, roles in DOC_ROW.findall(doc)
    }


def app_roles() -> dict[tuple[str, str], frozenset[str]]:
    return {route: frozenset(role.value for role in roles) for route, roles in route_roles(app.routes).items()}


def test_every_api_route_is_in_the_documented_table_with_the_roles_it_declares() -> None:
    declared, documented = app_roles(), documented_roles()
    assert len(declared) >= 25 and all(path.startswith(API_PREFIX) for _, path in declared)
    missing = sorted(set(declared) - set(documented))
    assert not missing, f"routes without a row in docs/api.md's 'Routes and roles' table: {missing}"
    assert not sorted(set(documented) - set(declared)), "rows in docs/api.md for routes the app does not have"
    differ = {route: (declared[route], documented[route]) for route in declared if declared[route] != documented[route]}
    assert not differ, f"@allow(...) and docs/api.md disagree (declared, documented): {differ}"
    assert all("admin" in roles for roles in declared.values())


def test_every_route_answers_every_role_as_the_table_says(client: Client) -> None:
    """Allowed: anything but 401/403 (a 400 for the empty body is fine). Not allowed: 403 with the reason."""
    wrong = []
    for (method, template), roles in sorted(documented_roles().items()):
        path = template
        for placeholder, value in PATH_VALUES.items():
            path = path.replace(placeholder, value)
        for who, (role, headers) in CALLERS.items():
            status, body = call(client, method, path, {} if method in ("POST", "PUT") else None, headers)
            if role in roles and status in (401, 403):
                wrong.append(f"{who}: {method} {template} -> {status} {body}, but the table allows {role}")
            if role not in roles and not (
                status == 403 and body["Code"] == "Forbidden" and f"has the role {role}" in body["Message"]
            ):
                wrong.append(f"{who}: {method} {template} -> {status} {body}, but the table refuses {role}")
    assert not wrong, "\n".join(wrong)


def test_the_refusal_names_the_caller_and_who_may(client: Client) -> None:
    status, body = call(client, "POST", "/api/campaigns", CAMPAIGN, ALICE)
    assert status == 403 and body == {
        "Code": "Forbidden",
        "Message": "alice has the role agent; POST /api/campaigns is for: admin, operator",
    }


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer rk_nobody"}, {"Authorization": f"Basic {KEYS['alice'][1]}"}],
    ids=["missing", "unknown", "not-bearer"],
)
def test_no_valid_key_is_401_before_any_role_is_looked_at(client: Client, headers: dict[str, str]) -> None:
    for method, path in (("GET", "/api/keys"), ("GET", "/api/conversations"), ("POST", "/api/campaigns")):
        status, body = call(client, method, path, {} if method == "POST" else None, headers)
        assert status == 401 and body["Code"] == "Unauthorized"


def test_an_admin_creates_lists_and_revokes_keys_and_a_revoked_key_stops_at_once(client: Client) -> None:
    status, made = call(client, "POST", "/api/keys", {"name": "carol", "role": "agent"})
    assert status == 201 and made["key"].startswith("rk_") and len(made["key"]) > 40
    assert (made["name"], made["role"], made["created_by"]) == ("carol", "agent", f"token:{bootstrap_hash()[:8]}")
    carol = {"Authorization": f"Bearer {made['key']}", "Content-Type": "application/json"}
    assert call(client, "GET", "/api/conversations", headers=carol)[0] == 200
    assert call(client, "GET", "/api/me", headers=carol) == (200, {"name": "carol", "role": "agent", "stores": None})
    assert call(client, "GET", "/api/keys", headers=carol)[0] == 403

    status, listed = call(client, "GET", "/api/keys", headers=as_key("ada"))
    assert status == 200
    carols = [k for k in listed["keys"] if k["name"] == "carol"]
    assert carols == [{**{k: made[k] for k in made if k != "key"}, "revoked_at": None, "revoked_by": None}]
    assert made["key"] not in json.dumps(listed) and "hash" not in json.dumps(listed)  # shown once, never again

    assert call(client, "POST", "/api/keys", {"name": "carol", "role": "operator"})[0] == 409
    assert call(client, "POST", "/api/keys", {"name": "no spaces", "role": "agent"})[0] == 400
    assert call(client, "POST", "/api/keys", {"name": "dave", "role": "owner"})[0] == 400

    status, revoked = call(client, "DELETE", "/api/keys/carol", headers=as_key("ada"))
    assert status == 200 and revoked["revoked_by"] == "ada" and revoked["revoked_at"]
    assert call(client, "GET", "/api/conversations", headers=carol)[0] == 401  # this container: at once
    assert call(client, "DELETE", "/api/keys/carol")[0] == 404

    status, again = call(client, "POST", "/api/keys", {"name": "carol", "role": "operator"})  # the name is free again
    assert status == 201 and again["key"] != made["key"]
    assert call(client, "GET", "/api/campaigns", headers={**carol, "Authorization": f"Bearer {again['key']}"})[0] == 200
    assert call(client, "GET", "/api/campaigns", headers=carol)[0] == 401  # the old key stays revoked


def bootstrap_hash() -> str:
    from chalicelib.services.keys import key_hash

    return key_hash(OPERATOR_TOKEN)


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks(store: DynamoConversationStore) -> Ticks:
    ticks = Ticks()
    deps = bootstrap.deps()
    bootstrap.use(deps, lookup=KeyLookup(lambda: bootstrap.deps().keys, monotonic=ticks))
    return ticks


def test_a_key_revoked_elsewhere_stops_working_here_within_a_minute(client: Client, ticks: Ticks) -> None:
    d = bootstrap.deps()
    record, key = use_cases.create_key("erin", Role.AGENT, d.keys, d.clock, "tests")
    erin = {"Authorization": f"Bearer {key}"}
    assert call(client, "GET", "/api/conversations", headers=erin)[0] == 200  # looked up, and kept
    use_cases.revoke_key("erin", d.keys, d.clock, "make key")  # another container (or `make key`): not this lookup
    ticks.now += LOOKUP_TTL_S - 1
    assert call(client, "GET", "/api/conversations", headers=erin)[0] == 200  # kept a little longer
    ticks.now += 1
    assert call(client, "GET", "/api/conversations", headers=erin)[0] == 401
    assert LOOKUP_TTL_S <= 60
    assert d.keys.by_hash(record.key_hash) is not None and d.keys.by_hash(use_cases.key_hash(record.key_hash)) is None


def test_writes_record_the_key_that_made_them(client: Client, store: DynamoConversationStore) -> None:
    status, created = call(client, "POST", "/api/campaigns", CAMPAIGN, OLIVE)
    assert status == 201 and (created["created_by"], created["updated_by"]) == ("olive", "olive")
    path = f"/api/campaigns/{created['id']}"
    assert call(client, "POST", f"{path}/pause", headers=as_key("ada"))[1]["updated_by"] == "ada"
    assert call(client, "POST", f"{path}/resume", headers=OLIVE)[1]["updated_by"] == "olive"
    status, updated = call(client, "PUT", path, {**CAMPAIGN, "name": "Renamed"}, as_key("ada"))
    assert (updated["created_by"], updated["updated_by"]) == ("olive", "ada")

    person: dict[str, Any] = {"phone": "+447700900410", "attributes": {"first_name": "Zoe"}, "consent": OPTED_IN}
    assert call(client, "POST", "/api/contacts", {"contacts": [person]}, OLIVE)[0] == 200
    contact = store.get_contact("+447700900410")
    assert contact is not None and contact.attributes["first_name"].by == "olive"


def test_make_key_creates_lists_and_revokes_on_the_stack_table(
    dynamodb: DynamoDBClient, table: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("TABLE_NAME", table)
    assert make_key.main(["create", "frank", "operator"]) == 0
    name_role, key = capsys.readouterr().out.strip().split(": ")
    assert name_role == "frank (operator)" and key.startswith("rk_")
    store = DynamoKeyStore(dynamodb, table)
    identity = KeyLookup(lambda: store).identity(use_cases.key_hash(key))
    assert identity is not None and (identity.name, identity.role) == ("frank", Role.OPERATOR)
    assert make_key.main(["create", "frank", "agent"]) == 1  # in use
    assert make_key.main(["list"]) == 0 and "frank\toperator" in capsys.readouterr().out
    assert make_key.main(["revoke", "frank"]) == 0
    assert KeyLookup(lambda: store).identity(use_cases.key_hash(key)) is None
    assert make_key.main(["revoke", "frank"]) == 1


def test_make_run_keys_one_per_role_and_replaces_them_on_a_restart(dynamodb: DynamoDBClient, table: str) -> None:
    first = make_key.role_keys(dynamodb, table)
    second = make_key.role_keys(dynamodb, table)
    assert sorted(first) == sorted(Role) and all(first[role][1] != second[role][1] for role in Role)
    lookup = KeyLookup(lambda: DynamoKeyStore(dynamodb, table))
    for role, (name, key) in second.items():
        identity = lookup.identity(use_cases.key_hash(key))
        assert identity is not None and (identity.name, identity.role) == (name, role)
    assert lookup.identity(use_cases.key_hash(first[Role.AGENT][1])) is None


def test_an_agents_key_limited_to_stores_sees_and_acts_on_only_their_customers(
    client: Client, store: DynamoConversationStore
) -> None:
    from datetime import UTC, datetime

    from chalicelib.domain.contact import Contact, Conversation

    for shop in ("leeds", "newcastle"):
        spec = {"name": f"Pizza Co {shop}", "time_zone": "Europe/London", "areas": ["LS"],
                "sender": "+441134960000", "messages_per_second": 1}  # fmt: skip
        assert call(client, "PUT", f"/api/stores/{shop}", spec)[0] == 201
    now = datetime.now(UTC)
    phones = {"leeds": "+447700900601", "newcastle": "+447700900602", None: "+447700900603"}
    for store_id, phone in phones.items():
        waiting = Conversation(opened_at=now, last_inbound_at=now, waiting_since=now)
        store.save_contact(Contact(phone=phone, created_at=now, store_id=store_id, conversation=waiting), None)

    status, made = call(client, "POST", "/api/keys", {"name": "lee", "role": "agent", "stores": ["leeds"]})
    assert status == 201 and made["stores"] == ["leeds"]
    lee = {"Authorization": f"Bearer {made['key']}", "Content-Type": "application/json"}
    assert call(client, "GET", "/api/me", headers=lee)[1] == {"name": "lee", "role": "agent", "stores": ["leeds"]}
    listed = call(client, "GET", "/api/conversations", headers=lee)[1]["conversations"]
    assert [c["phone"] for c in listed] == [phones["leeds"]]
    everyone = call(client, "GET", "/api/conversations", headers=ALICE)[1]["conversations"]
    assert {c["phone"] for c in everyone} == set(phones.values())  # an unlimited agent's key sees all
    assert call(client, "GET", "/api/contacts/447700900601/timeline", headers=lee)[0] == 200
    for other in ("447700900602", "447700900603", "447700900699"):  # another store's, no store's, nobody's
        status, body = call(client, "GET", f"/api/contacts/{other}/timeline", headers=lee)
        assert status == 404 and "of your stores" in body["Message"]
        assert call(client, "POST", f"/api/conversations/{other}/claim", {}, lee)[0] == 404
    assert call(client, "POST", "/api/conversations/447700900601/claim", {}, lee)[0] == 200

    operator = call(client, "POST", "/api/keys", {"name": "opal", "role": "operator", "stores": ["leeds"]})
    assert operator[0] == 422 and "only an agent's key" in operator[1]["Message"]
    unknown = call(client, "POST", "/api/keys", {"name": "lou", "role": "agent", "stores": ["york"]})
    assert unknown[0] == 422 and "no store 'york'" in unknown[1]["Message"]
    assert call(client, "POST", "/api/keys", {"name": "lou", "role": "agent", "stores": []})[0] == 400
