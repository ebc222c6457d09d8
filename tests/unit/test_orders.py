"""Orders folded into the profile: any order of events, any repeats, one result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.orders import Money, OrderEvent, OrderItem, OrderState, OrderSummary, fold, text_skipped

AT = datetime(2026, 6, 2, 18, 0, tzinfo=UTC)
PIZZA = [OrderItem(name="Margherita", quantity=2)]


def event(n: int, type_: str, order_id: str = "o1", minutes: int = 0, amount: int = 2400, **more: object) -> OrderEvent:
    fields: dict[str, object] = {
        "id": f"ev{n}", "type": type_, "order_id": order_id, "phone": "+447700900123", "store_id": "leeds",
        "at": AT + timedelta(minutes=minutes), "total": {"amount": amount, "currency": "GBP"},
        "items": [item.model_dump() for item in PIZZA] if type_ == "order_placed" else [], "channel": "app",
    }  # fmt: skip
    return OrderEvent.model_validate({**fields, **more})


def folded(events: list[OrderEvent]) -> tuple[OrderSummary, dict[str, OrderState]]:
    summary, orders = OrderSummary(), dict[str, OrderState]()
    for one in events:
        summary, orders[one.order_id] = fold(summary, orders.get(one.order_id), one)
    return summary, orders


TWO_ORDERS = [
    event(1, "order_placed", minutes=0),
    event(2, "order_ready", minutes=20),
    event(3, "out_for_delivery", minutes=25),
    event(4, "delivered", minutes=40, amount=2600),  # a total changed on delivery: the latest counts
    event(5, "order_placed", order_id="o2", minutes=60 * 24, amount=1000, store_id="york"),
    event(6, "cancelled", order_id="o2", minutes=60 * 24 + 5, amount=1000, store_id="york"),
]


def test_two_orders_one_cancelled_make_a_summary_of_what_was_bought() -> None:
    summary, orders = folded(TWO_ORDERS)
    assert (summary.count, summary.first_at, summary.last_at) == (2, AT, AT + timedelta(minutes=60 * 24 + 5))
    assert summary.total == Money(amount=2600, currency="GBP")  # the cancelled order adds nothing
    assert (summary.last_store_id, summary.last_items) == ("york", PIZZA)
    assert orders["o2"].cancelled and orders["o1"].latest_type == "delivered"


@settings(max_examples=200, deadline=None)
@given(st.permutations(TWO_ORDERS), st.lists(st.sampled_from(TWO_ORDERS), max_size=6))
def test_events_in_any_order_and_repeated_give_one_profile_counted_once(
    shuffled: list[OrderEvent], repeats: list[OrderEvent]
) -> None:
    expected = folded(TWO_ORDERS)
    assert folded([*shuffled, *repeats]) == expected
    assert folded([*repeats, *shuffled]) == expected


def test_an_update_is_dropped_once_overtaken_cancelled_or_late() -> None:
    placed, out = event(1, "order_placed"), event(2, "out_for_delivery", minutes=30)
    _, orders = folded([placed, out])
    now = AT + timedelta(minutes=31)
    assert text_skipped(out, orders["o1"], now, 60) is None
    assert "a later update of order o1 (out_for_delivery)" in str(text_skipped(placed, orders["o1"], now, 60))
    assert "older than its 20 minutes" in str(text_skipped(placed, None, AT + timedelta(minutes=21), 20))
    _, cancelled = folded([placed, event(3, "cancelled", minutes=10)])
    assert text_skipped(event(4, "order_ready", minutes=5), cancelled["o1"], now, 60) == "the order was cancelled"
    assert text_skipped(event(3, "cancelled", minutes=10), cancelled["o1"], now, 60) is None  # its own text goes
