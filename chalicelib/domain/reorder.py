"""Purchases by text. REORDER offers the customer's last order again (its items
and total, from its store) and leaves the offer pending as a question; YES
(the whole text, nothing hedged) places it with the brand's ordering system
(services/reorder.py). The idempotency key is the offer's, so one offer is at
most one order however many YES texts answer it, and however often each is
delivered, retried or replayed. Nothing is placed for someone opted out."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.contact import ConsentState, Contact, PendingPrompt
from chalicelib.domain.orders import Money, OrderItem, OrderSummary, listed

REORDER_JOB = "reorder"  # the events queue's job kind that places one (services/reorder.py)
REORDER_PROMPT = "reorder"  # the question an offer leaves pending (domain/prompts.py: YES places it)
OFFER_KEPT = timedelta(minutes=30)  # a YES later than this orders nothing: the offer may be stale
ITEMS_NAMED = 5  # in the offer's text; the rest are counted
SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€"}
STORE_CLOSED = "Sorry, the branch of your last order no longer takes orders by text. Reply here and someone will help."
StoreNames = Callable[[str], "str | None"]  # a store's name by its id; None: it takes no orders (retired)


class ReorderRequest(BaseModel):
    """What the ordering system is asked to place: the webhook's body (docs/stores-and-orders.md)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    idempotency_key: str = Field(min_length=1, max_length=80)
    phone: str
    store_id: str
    items: list[OrderItem]
    last_order_id: str
    asked_at: datetime  # when the customer said YES

    def entry_id(self, step: str) -> str:
        """Its timeline entry for a step ("requested": the YES's write, which the job
        places nothing without; "placed", "failed"), once each. "rapport:" is
        timeline.OWN_ENTRY, which this module cannot import (timeline -> runs -> prompts -> here)."""
        return f"rapport:{self.idempotency_key}:{step}"

    def job(self) -> dict[str, object]:
        """The queue's message that places it (its first call)."""
        return {"kind": REORDER_JOB, "request": self.model_dump(mode="json"), "attempt": 0}


def price(money: Money) -> str:
    """23.50 as the customer reads it: £23.50, $9.00, 12.00 CAD."""
    amount = f"{money.amount // 100}.{money.amount % 100:02d}"
    symbol = SYMBOLS.get(money.currency)
    return f"{symbol}{amount}" if symbol else f"{amount} {money.currency}"


def stopped(contact: Contact) -> bool:
    return contact.consent == ConsentState.OPTED_OUT


def offer(contact: Contact, at: datetime, store_names: StoreNames) -> tuple[Contact, str] | None:
    """The contact with the offer pending and the offer's text, naming the store
    of the order it repeats; None when there is no earlier order with its items.
    A store retired since offers nothing and says so."""
    orders = contact.orders
    if not orders.last_items or orders.last_items_store_id is None or orders.last_items_order_id is None:
        return None
    store_name = store_names(orders.last_items_store_id)
    if store_name is None:
        return contact, STORE_CLOSED
    pending = PendingPrompt(
        prompt_id=REORDER_PROMPT, asked_at=at, expires_at=at + OFFER_KEPT, about=orders.last_items_order_id
    )
    return contact.model_copy(update={"pending_prompt": pending}), _offer_text(orders, store_name)


def _offer_text(orders: OrderSummary, store_name: str) -> str:
    named = listed(orders.last_items[:ITEMS_NAMED])
    more = len(orders.last_items) - ITEMS_NAMED
    items = f"{named} and {more} more" if more > 0 else named
    total = f", {price(orders.last_items_total)}" if orders.last_items_total else ""
    return f"Your usual from {store_name}: {items}{total}. Reply YES to order it again, or NO."


def placed(contact: Contact, pending: PendingPrompt, at: datetime) -> ReorderRequest | None:
    """The order a YES places: the one offered, if it is still the customer's last
    (None: another order came since, and the offer is stale). Its key is the
    offer's: the phone, the order offered and when it was offered."""
    orders = contact.orders
    if pending.about is None or pending.about != orders.last_items_order_id or orders.last_items_store_id is None:
        return None
    offer_id = hashlib.sha256(f"{contact.phone}|{pending.about}|{pending.asked_at.isoformat()}".encode()).hexdigest()
    return ReorderRequest(
        idempotency_key=f"rapport-reorder-{offer_id[:32]}",
        phone=contact.phone,
        store_id=orders.last_items_store_id,
        items=orders.last_items,
        last_order_id=pending.about,
        asked_at=at,
    )
