"""The stores API (JSON, bearer token checked by middleware): the brand's branches."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.bootstrap import deps
from chalicelib.domain.stores import Store, StoreSpec
from chalicelib.entrypoints import openapi
from chalicelib.entrypoints.auth import allow, caller
from chalicelib.entrypoints.http import answer, body_of, created_or_replaced
from chalicelib.services import stores as use_cases
from chalicelib.services.keys import Role

bp = Blueprint(__name__)
StoreList = openapi.Listed("stores", Store)


@allow(Role.OPERATOR)
@bp.route("/api/stores/{store_id}", methods=["PUT"])
@openapi.documented(body=StoreSpec, returns=Store, also={201: Store})
def put_store(store_id: str) -> Response:
    """Create the store (201) or replace what it says (200). A store is never
    deleted: `"retired": true` retires it, and it keeps its history."""
    spec, d, who = body_of(bp, StoreSpec), deps(), caller().name

    return answer(lambda: created_or_replaced(*use_cases.put_store(store_id, spec, d.stores, d.clock, who)))


@allow(Role.OPERATOR, Role.AGENT)
@bp.route("/api/stores", methods=["GET"])
@openapi.documented(returns=StoreList)
def list_stores() -> Response:
    """Every store, retired ones too, by id."""
    return answer(lambda: {"stores": [store.model_dump(mode="json") for store in use_cases.listed(deps().stores)]})


@allow(Role.OPERATOR, Role.AGENT)
@bp.route("/api/stores/{store_id}", methods=["GET"])
@openapi.documented(returns=Store)
def get_store(store_id: str) -> Response:
    return answer(lambda: use_cases.get_store(store_id, deps().stores))
