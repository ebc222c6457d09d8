"""API keys, for admins: create one (shown once), list them, revoke one.
`make key NAME=… ROLE=…` (local/keys.py) runs the same use case."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import unquote

from chalice.app import Blueprint, Response
from pydantic import BaseModel, Field
from typing_extensions import TypedDict  # pydantic reads these on Python 3.11

from chalicelib.bootstrap import deps, key_lookup
from chalicelib.domain.ids import STORE_ID
from chalicelib.entrypoints import openapi
from chalicelib.entrypoints.auth import allow, caller
from chalicelib.entrypoints.http import answer, body_of
from chalicelib.services import keys as use_cases
from chalicelib.services.keys import Role

bp = Blueprint(__name__)


class KeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=80, description="who acts with the key: an agent's name, a script's")
    role: Role
    stores: list[Annotated[str, Field(pattern=STORE_ID.pattern)]] | None = Field(
        default=None, min_length=1, max_length=100, description="an agent's key: only these stores' customers"
    )


class MeView(BaseModel):
    name: str = Field(description="the key's name: who acts (the agent in GET /api/conversations)")
    role: Role
    stores: list[str] | None = Field(default=None, description="the stores whose customers it sees (null: all)")


class KeyView(TypedDict):
    """A key as the API shows it: never the key, never its hash."""

    name: str
    role: Role
    stores: list[str] | None
    created_at: str
    created_by: str
    revoked_at: str | None
    revoked_by: str | None


class NewKey(KeyView):
    key: str  # shown in this answer only


class KeyList(TypedDict):
    keys: list[KeyView]


@allow(Role.OPERATOR, Role.AGENT)
@bp.route("/api/me", methods=["GET"])
@openapi.documented(returns=MeView)
def me() -> Response:
    """Who the key is: its name (the agent in `GET /api/conversations`) and role."""
    me = caller()
    stores = sorted(me.stores) if me.stores is not None else None
    return answer(lambda: {"name": me.name, "role": me.role.value, "stores": stores})


@allow()  # admins only
@bp.route("/api/keys", methods=["POST"])
@openapi.documented(body=KeyIn, returns=NewKey, status=201)
def create_key() -> Response:
    """A new key; the answer is the only time it is shown."""
    body, d = body_of(bp, KeyIn), deps()

    def run() -> dict[str, Any]:
        stores = tuple(dict.fromkeys(body.stores)) if body.stores is not None else None
        if missing := [store_id for store_id in stores or () if d.stores.get(store_id) is None]:
            raise use_cases.KeyStoresError(f"stores: no store {missing[0]!r} (GET /api/stores lists them)")
        record, key = use_cases.create_key(body.name, body.role, d.keys, d.clock, caller().name, stores)
        return {**record.view(), "key": key}

    return answer(run, status=201)


@allow()
@bp.route("/api/keys", methods=["GET"])
@openapi.documented(returns=KeyList)
def list_keys() -> Response:
    """Every key, revoked ones too (a revoked name may be given a new key)."""
    return answer(lambda: {"keys": [record.view() for record in use_cases.list_keys(deps().keys)]})


@allow()
@bp.route("/api/keys/{name}", methods=["DELETE"])
@openapi.documented(returns=KeyView)
def revoke_key(name: str) -> Response:
    """Revoked at once here, and within a minute in every other container."""
    d = deps()
    return answer(lambda: use_cases.revoke_key(unquote(name), d.keys, d.clock, caller().name, key_lookup()).view())
