"""The ordering system's events (JSON, bearer token checked by middleware): order
placed, ready, out for delivery, delivered, cancelled. Only `integration` keys
(and admins) may post them; an integration key may call nothing else. And the
texts those events send, set by operators."""

from __future__ import annotations

from chalice.app import BadRequestError, Blueprint, Response
from typing_extensions import TypedDict  # pydantic reads these on Python 3.11

from chalicelib.bootstrap import deps
from chalicelib.domain.orders import OrderEvent, OrderEventType, OrderText, OrderTextSpec
from chalicelib.entrypoints import openapi
from chalicelib.entrypoints.auth import allow, caller
from chalicelib.entrypoints.http import answer, body_of, created_or_replaced
from chalicelib.services import order_texts
from chalicelib.services import orders as use_cases
from chalicelib.services.keys import Role

bp = Blueprint(__name__)
OrderTextList = openapi.Listed("order_texts", OrderText)


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
        lambda: {"id": use_cases.accept(event, d.directory, d.events_queue, d.clock), "status": "accepted"},
        status=202,
    )


@allow(Role.OPERATOR)
@bp.route("/api/order-texts/{event_type}", methods=["PUT"])
@openapi.documented(body=OrderTextSpec, returns=OrderText, also={201: OrderText})
def put_order_text(event_type: str) -> Response:
    """The text an event of this type sends the customer (201 new, 200 replaced)

    From the customer's store's number, as a transactional text: no marketing
    opt-in needed, never after a STOP, quiet hours do not hold it; dropped once
    older than `relevance_minutes`."""
    try:
        kind = OrderEventType(event_type)
    except ValueError:
        raise BadRequestError(f"event_type: one of {', '.join(OrderEventType)}") from None
    spec, d, who = body_of(bp, OrderTextSpec), deps(), caller().name

    return answer(lambda: created_or_replaced(*order_texts.put_text(kind, spec, d.order_texts, d.clock, who)))


@allow(Role.OPERATOR)
@bp.route("/api/order-texts", methods=["GET"])
@openapi.documented(returns=OrderTextList)
def list_order_texts() -> Response:
    """Every event type's text, in the order of an order's life."""
    texts = order_texts.listed(deps().order_texts)
    return answer(lambda: {"order_texts": [text.model_dump(mode="json") for text in texts]})
