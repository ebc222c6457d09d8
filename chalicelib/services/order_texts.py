"""Use cases: the texts an order's events send (`PUT /api/order-texts/{type}`),
and sending one when its event comes off the send queue.

An update goes from the customer's store's sender, on its pace, as a
transactional text (services/conversations.py `notify`): once per event (its
ledger entry), never after a STOP, not held by quiet hours, dropped once older
than its type's `relevance_minutes`. Updates of one order go out in the order
of their events: one overtaken by a later event of its order, or of an order
cancelled since, is dropped (domain/orders.py `text_skipped`).
"""

from __future__ import annotations

import math
from datetime import timedelta

from chalicelib.domain.contact import fill_for
from chalicelib.domain.orders import OrderEvent, OrderEventType, OrderText, OrderTextSpec, text_skipped
from chalicelib.services.conversations import NotSendableError, Outbound, notify, wait_for_sender
from chalicelib.services.ports import Clock, JobQueue, OrderTextBook
from chalicelib.services.retry import retry_on_conflict
from chalicelib.services.send_pace import TIME_KEPT_S


def put_text(
    event_type: OrderEventType, spec: OrderTextSpec, book: OrderTextBook, clock: Clock, by: str | None = None
) -> tuple[OrderText, bool]:
    """Set the text of one event type; the text as saved, and whether it is new."""

    def attempt() -> tuple[OrderText, bool]:
        current = book.get(event_type)
        saved = OrderText(**spec.model_dump(), type=event_type, updated_at=clock.now(), updated_by=by)
        book.save(saved, current.version if current else None)
        return saved.model_copy(update={"version": current.version + 1 if current else 1}), current is None

    return retry_on_conflict(attempt)


def listed(book: OrderTextBook) -> list[OrderText]:
    return sorted(book.list(), key=lambda text: list(OrderEventType).index(text.type))


def _skipped(event: OrderEvent, text: OrderText, ctx: Outbound) -> str | None:
    order = ctx.store.orders.get(event.phone, event.order_id)
    return text_skipped(event, order, ctx.clock.now(), text.relevance_minutes)


def come_back(job: dict[str, object], wait_s: float, queue: JobQueue) -> None:
    """The job again once its sender's slot has come (SQS delays at most 15 minutes)."""
    queue.enqueue([job], delay_s=min(900, math.ceil(wait_s)))


def send_update(
    job: dict[str, object], event: OrderEvent, book: OrderTextBook, ctx: Outbound, queue: JobQueue, time_left_s: float
) -> str:
    """The update text of this event, if its type has one enabled: "sent",
    "dropped: <why>", "deferred" (to its sender's slot: the job queued again
    for it) or "none" (no text enabled for the type)."""
    text = book.get(event.type)
    if text is None or not text.enabled:
        return "none"
    why = _skipped(event, text, ctx)
    contact = ctx.store.get_contact(event.phone)
    if why is None and contact is None:
        why = "no such contact"
    if why is not None or contact is None:
        return f"dropped: {why}"
    body = fill_for(text.message, contact, ctx.stores.template_fields(contact))
    slept, wait = wait_for_sender(contact, body, ctx, time_left_s - TIME_KEPT_S)
    if not slept:
        come_back(job, wait, queue)
        return "deferred"
    if wait > 0 and (why := _skipped(event, text, ctx)) is not None:  # a cancel may have come meanwhile
        return f"dropped: {why}"
    try:
        notify(event.phone, body, event.at + timedelta(minutes=text.relevance_minutes), f"order:{event.id}", ctx)
    except NotSendableError as error:
        return f"dropped: {error}"
    return "sent"
