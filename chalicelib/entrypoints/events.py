"""The ordering system's events (JSON, bearer token checked by middleware): order
placed, ready, out for delivery, delivered, cancelled. Only `integration` keys
(and admins) may post them; an integration key may call nothing else."""

from __future__ import annotations

from chalice.app import Blueprint, Response
from typing_extensions import TypedDict  # pydantic reads these on Python 3.11

from chalicelib.bootstrap import deps
from chalicelib.domain.orders import OrderEvent
from chalicelib.entrypoints import openapi
from chalicelib.entrypoints.auth import allow
from chalicelib.entrypoints.http import answer, body_of
from chalicelib.services import orders as use_cases
from chalicelib.services.keys import Role

bp = Blueprint(__name__)


class Accepted(TypedDict):
    id: str  # the event's id
    status: str  # accepted: queued, to be applied once however often it is posted


@allow(Role.INTEGRATION)
@bp.route("/api/events", methods=["POST"])
@openapi.documented(body=OrderEvent, returns=Accepted, status=202)
def post_event() -> Response:
    """An order's event, from the brand's ordering system: 202 once queued

    The same `id` again changes nothing and gets the same answer. A bad field
    answers 400 naming it (an unknown field too); an unknown store 422."""
    event, d = body_of(bp, OrderEvent), deps()
    return answer(
        lambda: {"id": use_cases.accept(event, d.directory, d.send_queue, d.clock), "status": "accepted"},
        status=202,
    )
