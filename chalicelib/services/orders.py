"""Use cases: the ordering system's events (`POST /api/events`).

An event is checked at once (its phone, its time, its store) and put on the
events queue (a function of its own, never behind a campaign's texts): the
API answers 202 without writing anything, so a burst of a thousand a second
is the queue's to absorb. On the queue it is folded into
the order's record and the customer's profile (domain/orders.py) with its
timeline entry, in one transaction: the entry's "not already there"
condition makes the same event, delivered twice or posted twice, change
nothing. Its contact's store becomes the event's (an order names the store).

What each costs DynamoDB on the queue: the profile and the order read (two
GetItem), one TransactWriteItems; a repeated event, the same reads and a
refused transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain import phone
from chalicelib.domain.contact import Contact, StoreSource, TimeZone, with_store
from chalicelib.domain.errors import InvalidPhoneError, RapportError
from chalicelib.domain.ledger import ORDERED, REVENUE
from chalicelib.domain.orders import ATTRIBUTION, OrderEvent, OrderEventType, fold, listed
from chalicelib.domain.policy import Reason
from chalicelib.domain.runs import DecisionRecord
from chalicelib.domain.timeline import OWN_ENTRY, Entry, EntryKind
from chalicelib.services.personal import remembering
from chalicelib.services.ports import NOTHING_REMEMBERED, Clock, ConversationStore, JobQueue, Remembered, RunStore
from chalicelib.services.retry import retry_on_conflict
from chalicelib.services.stores import StoreDirectory

ORDER_EVENT = "order_event"  # the events queue's job kind for an event
FUTURE_SLACK = timedelta(minutes=5)  # clocks differ; an event further ahead than this is a wrong time zone


class UnknownEventStoreError(RapportError, LookupError):
    """The event names a store that does not exist (422: the body is well formed)."""


class EventTimeError(RapportError, ValueError):
    """The event's time is in the future."""


class EventAlreadyAppliedError(RapportError):
    """The event is on the timeline already: applied before."""


def accept(event: OrderEvent, stores: StoreDirectory, queue: JobQueue, clock: Clock) -> str:
    """Check the event and queue it; its id. InvalidPhoneError, EventTimeError,
    UnknownEventStoreError say what is wrong, and nothing is queued."""
    try:
        e164 = phone.normalise(event.phone)
    except InvalidPhoneError as error:
        raise InvalidPhoneError(f"phone: {error}") from None
    if event.at > clock.now() + FUTURE_SLACK:
        raise EventTimeError(f"at: {event.at.isoformat()} is in the future (a wrong UTC offset?)")
    if stores.get(event.store_id) is None:
        raise UnknownEventStoreError(f"store_id: no store {event.store_id!r} (GET /api/stores lists them)")
    queued = event.model_copy(update={"phone": e164})
    queue.enqueue([{"kind": ORDER_EVENT, "event": queued.model_dump(mode="json")}])
    return event.id


def apply(
    event: OrderEvent,
    store: ConversationStore,
    clock: Clock,
    remembered: Remembered = NOTHING_REMEMBERED,
    runs: RunStore | None = None,
    attribution: timedelta = ATTRIBUTION,
) -> bool:
    """Fold a queued event into its order and its customer; False when it was applied before.
    A customer made anew takes a STOP `remembered` through an erasure. An order
    placed within `attribution` of a campaign's text, or of a run that held the
    customer out in its control group, counts once for that run (in `runs`) and
    its cell: one order and its total."""
    before: list[Contact] = []  # the customer as the write that applied the event found them

    def attempt() -> bool:
        contact = store.get_contact(event.phone)
        order = store.orders.get(event.phone, event.order_id)
        base = contact or _new_contact(event.phone, clock.now(), remembered)
        summary, state = fold(base.orders, order, event)
        after = with_store(base.model_copy(update={"orders": summary}), event.store_id, StoreSource.ORDER, event.at)
        unit = store.unit()
        unit.add(store.timeline.added(event.phone, timeline_entry(event), lambda _: EventAlreadyAppliedError(event.id)))
        unit.add(store.orders.saved(event.phone, state, order.version if order else None))
        unit.add(*store.saved(after, contact.version if contact else None, tags_before=contact.tags if contact else ()))
        try:
            unit.commit()
        except EventAlreadyAppliedError:
            return False
        before[:] = [base]
        return True

    applied = retry_on_conflict(attempt)
    if applied and runs is not None and event.type == OrderEventType.PLACED:
        held = [d for d in runs.holds.decisions_for(event.phone, limit=None) if d.reason == Reason.HOLDOUT]
        if touch := attributed(before[0], event, attribution, held):
            counts = {ORDERED: 1, REVENUE + event.total.currency: event.total.amount}
            runs.add_counts(touch.run_id, counts, event.phone, touch.cell)
    return applied


@dataclass(frozen=True)
class Touch:
    """A campaign text, or a control group's place where one would have been: what an order may count for."""

    run_id: str
    cell: str | None
    at: datetime


def attributed(
    contact: Contact, event: OrderEvent, window: timedelta, held_out: Sequence[DecisionRecord] = ()
) -> Touch | None:
    """The latest campaign text (or control-group decision, `held_out`) an order placed
    this soon after counts for, or None."""
    if event.type != OrderEventType.PLACED:
        return None
    engagement = contact.engagement
    touches = [Touch(record.run_id, record.cell, record.at) for record in held_out]
    run, sent = engagement.last_campaign_run_id, engagement.last_campaign_at
    if run is not None and sent is not None:
        touches.append(Touch(run, engagement.last_campaign_cell, sent))
    return max((t for t in touches if t.at <= event.at <= t.at + window), key=lambda t: t.at, default=None)


def _new_contact(e164: str, now: datetime, remembered: Remembered) -> Contact:
    """A customer known first from an order: no consent (an order is not an opt-in),
    unless a STOP was kept through an erasure."""
    made = Contact(phone=e164, created_at=now, time_zone=TimeZone(candidates=list(phone.time_zone_candidates(e164))))
    return remembering(made, remembered)


def timeline_entry(event: OrderEvent) -> Entry:
    """The event on the customer's timeline (its id the event's: the same event, once)."""
    amount = f"{event.total.amount} {event.total.currency} in minor units"
    items = listed(event.items)
    summary = f"Order {event.order_id} {event.type.replace('_', ' ')} at {event.store_id} ({event.channel}): {amount}"
    return Entry(
        id=f"{OWN_ENTRY}order:{event.id}",
        kind=EntryKind.INTERACTION,
        at=event.at,
        summary=(f"{summary}; {items}" if items else summary)[:1000],
        channel=str(event.type),
        author="ordering system",
    )
