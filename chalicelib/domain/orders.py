"""Orders, as the brand's ordering system reports them (`POST /api/events`).

Each event folds into two small records: the order's own (its latest event,
whether it was cancelled, what it added to the customer's total) and the
customer's summary on the profile (how many orders, first and last, total,
last store and items). Folding is order-free and idempotent: the same events
in any order, any of them repeated, give the same records, so a queue that
reorders or redelivers changes nothing (tests/unit/test_orders.py). One
exception: a customer whose orders are in two currencies has a total in the
currency of the first event applied, which depends on the order.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from chalicelib.domain.ids import EVENT_ID, STORE_ID
from chalicelib.domain.template import TemplateText

MAX_ITEMS = 50


ATTRIBUTION = timedelta(days=7)  # an order this soon after a campaign's text counts for its run (ATTRIBUTION_DAYS)


class OrderEventType(StrEnum):
    PLACED = "order_placed"
    READY = "order_ready"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class OrderChannel(StrEnum):
    APP = "app"
    WEB = "web"
    PHONE = "phone"
    STORE = "store"
    SMS = "sms"


class Money(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    amount: int = Field(ge=0, le=10**10, description="in minor units: pence, cents")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217: GBP, USD")


class OrderItem(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    name: str = Field(min_length=1, max_length=120)
    quantity: int = Field(ge=1, le=999)


def listed(items: list[OrderItem]) -> str:
    """ "2 x Margherita, 1 x Garlic bread": as the timeline and the customer read them."""
    return ", ".join(f"{item.quantity} x {item.name}" for item in items)


class OrderEvent(BaseModel):
    """One event of one order. A field it does not know is refused: a misspelt
    `order_id` must not make every event a new order."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    id: str = Field(pattern=EVENT_ID, description="the event's own id: the same id again changes nothing")
    type: OrderEventType
    order_id: str = Field(pattern=EVENT_ID)
    phone: str = Field(min_length=1, max_length=40, description="the customer, E.164")
    store_id: str = Field(pattern=STORE_ID.pattern)
    at: AwareDatetime = Field(description="when it happened, ISO 8601 with an offset")
    total: Money
    items: list[OrderItem] = Field(default_factory=list, max_length=MAX_ITEMS)
    channel: OrderChannel

    @property
    def order_key(self) -> tuple[datetime, str]:
        """Which of two events is the later: by time, then by id (ties broken the same everywhere)."""
        return (self.at, self.id)


class OrderState(BaseModel):
    """One order as its events so far say."""

    order_id: str
    store_id: str
    latest_at: datetime
    latest_event_id: str
    latest_type: OrderEventType
    total: Money
    cancelled: bool = False
    counted: int = 0  # what it adds to the customer's total: its latest total, nothing once cancelled
    version: int = 0

    def later_than(self, event: OrderEvent) -> bool:
        return (self.latest_at, self.latest_event_id) > event.order_key


class OrderSummary(BaseModel):
    """The customer's orders on their profile: bounded, whatever their number."""

    count: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None
    total: Money | None = None  # in the currency of the first order seen (another currency is not added)
    last_store_id: str | None = None
    last_items: list[OrderItem] = Field(default_factory=list)
    last_event_id: str | None = None  # with last_at: the latest event, to compare the next one with
    last_items_at: datetime | None = None  # the latest event that listed items (not every event does)
    last_items_event_id: str | None = None
    # the order those items were, its store and its total: what REORDER repeats (domain/reorder.py)
    last_items_order_id: str | None = None
    last_items_store_id: str | None = None
    last_items_total: Money | None = None


def _newer(at: datetime | None, event_id: str | None, event: OrderEvent) -> bool:
    """The event is later than the one recorded as (at, event_id), or none is."""
    return at is None or (at, event_id or "") < event.order_key


def fold(summary: OrderSummary, order: OrderState | None, event: OrderEvent) -> tuple[OrderSummary, OrderState]:
    """The customer's summary and the order's state with this event."""
    currency = summary.total.currency if summary.total else event.total.currency
    latest = order is None or not order.later_than(event)
    cancelled = (order is not None and order.cancelled) or event.type == OrderEventType.CANCELLED
    total = event.total if latest or order is None else order.total
    counted = 0 if cancelled or total.currency != currency else total.amount
    state = OrderState(
        order_id=event.order_id,
        store_id=event.store_id if latest or order is None else order.store_id,
        latest_at=event.at if latest or order is None else order.latest_at,
        latest_event_id=event.id if latest or order is None else order.latest_event_id,
        latest_type=event.type if latest or order is None else order.latest_type,
        total=total,
        cancelled=cancelled,
        counted=counted,
        version=order.version if order else 0,
    )
    newest = _newer(summary.last_at, summary.last_event_id, event)
    items = bool(event.items) and _newer(summary.last_items_at, summary.last_items_event_id, event)
    amount = (summary.total.amount if summary.total else 0) + counted - (order.counted if order else 0)
    return (
        summary.model_copy(
            update={
                "count": summary.count + (1 if order is None else 0),
                "first_at": min(summary.first_at or event.at, event.at),
                "last_at": event.at if newest else summary.last_at,
                "last_event_id": event.id if newest else summary.last_event_id,
                "last_store_id": event.store_id if newest else summary.last_store_id,
                "last_items": event.items if items else summary.last_items,
                "last_items_at": event.at if items else summary.last_items_at,
                "last_items_event_id": event.id if items else summary.last_items_event_id,
                "last_items_order_id": event.order_id if items else summary.last_items_order_id,
                "last_items_store_id": event.store_id if items else summary.last_items_store_id,
                "last_items_total": event.total if items else summary.last_items_total,
                "total": Money(amount=amount, currency=currency),
            }
        ),
        state,
    )


class OrderTextSpec(BaseModel):
    """What an operator writes for one event type (`PUT /api/order-texts/{type}`)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    message: TemplateText = Field(
        min_length=1, max_length=1600, description="a template: {store_name}: it's on its way"
    )
    enabled: bool = True
    relevance_minutes: int = Field(default=60, ge=1, le=24 * 60, description="older than this: dropped, never sent")


class OrderText(OrderTextSpec):
    type: OrderEventType
    updated_at: datetime
    updated_by: str | None = None
    version: int = 0


def text_skipped(event: OrderEvent, order: OrderState | None, now: datetime, relevance_minutes: int) -> str | None:
    """Why an order's update text is not sent (None: it may be). Updates of one
    order go out in the order of their events: one overtaken by a later event of
    its order is not sent after it, and a cancelled order's pending ones are dropped."""
    if order is not None and order.cancelled and event.type != OrderEventType.CANCELLED:
        return "the order was cancelled"
    if order is not None and order.later_than(event):
        return f"a later update of order {event.order_id} ({order.latest_type}) came first"
    if now - event.at > timedelta(minutes=relevance_minutes):
        return f"older than its {relevance_minutes} minutes of relevance"
    return None
