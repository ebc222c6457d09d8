from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.contact import ConsentState, Contact, DeliverabilityState
from chalicelib.domain.delivery import Receipt, ReceiptOutcome, apply_receipt
from chalicelib.domain.messages import DeliveryStatus, Message

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CUSTOMER = "+447700900123"


def receipt(status: str, sid: str = "SM1", code: int | None = None, minutes: int = 0) -> Receipt:
    return Receipt(
        sid=sid,
        status=DeliveryStatus(status),
        phone=CUSTOMER,
        brand_number="+15005550006",
        at=AT + timedelta(minutes=minutes),
        error_code=code,
    )


def apply_all(*receipts: Receipt, contact: Contact | None = None) -> tuple[Message | None, Contact | None]:
    """Apply receipts in order, as the service does, keeping the latest state."""
    messages: dict[str, Message] = {}
    for r in receipts:
        outcome = apply_receipt(messages.get(r.sid), contact, r)
        if outcome is not None:
            messages[r.sid] = outcome.message
            contact = outcome.contact or contact
    last = messages.get(receipts[-1].sid)
    return last, contact


def test_statuses_advance_in_order() -> None:
    message, _ = apply_all(receipt("queued"), receipt("sent"), receipt("delivered"))
    assert message is not None and message.status == DeliveryStatus.DELIVERED
    assert [e.status for e in message.status_events] == ["queued", "sent", "delivered"]


def test_a_late_earlier_status_never_overwrites_a_final_one() -> None:
    message, _ = apply_all(receipt("delivered"), receipt("sent"), receipt("queued"))
    assert message is not None and message.status == DeliveryStatus.DELIVERED
    assert len(message.status_events) == 3  # still recorded, as history


def test_the_same_status_twice_changes_nothing() -> None:
    first = apply_receipt(None, None, receipt("sent"))
    assert isinstance(first, ReceiptOutcome)
    assert apply_receipt(first.message, None, receipt("sent", minutes=1)) is None


@pytest.mark.parametrize("code", [30005, 30006, 21614])
def test_permanent_errors_make_the_number_undeliverable_at_once(code: int) -> None:
    _, contact = apply_all(receipt("undelivered", code=code))
    assert contact is not None
    assert contact.deliverability.state == DeliverabilityState.UNDELIVERABLE
    assert contact.deliverability.last_error_code == code and str(code) in (contact.deliverability.reason or "")


def test_21610_means_the_recipient_opted_out() -> None:
    _, contact = apply_all(receipt("failed", code=21610))
    assert contact is not None and contact.consent == ConsentState.OPTED_OUT
    event = contact.consent_event
    assert event is not None
    assert (event.source, event.error_code, event.message_sid) == ("carrier_error", 21610, "SM1")


def test_30003_becomes_undeliverable_only_on_the_third_in_a_row() -> None:
    _, contact = apply_all(receipt("undelivered", "SM1", 30003), receipt("undelivered", "SM2", 30003))
    assert contact is not None and contact.deliverability.state == DeliverabilityState.OK
    _, contact = apply_all(receipt("undelivered", "SM3", 30003), contact=contact)
    assert contact is not None and contact.deliverability.state == DeliverabilityState.UNDELIVERABLE
    assert contact.deliverability.consecutive_unreachable == 3


def test_a_delivery_breaks_a_30003_streak() -> None:
    _, contact = apply_all(
        receipt("undelivered", "SM1", 30003),
        receipt("undelivered", "SM2", 30003),
        receipt("delivered", "SM3"),
        receipt("undelivered", "SM4", 30003),
    )
    assert contact is not None
    assert contact.deliverability.state == DeliverabilityState.OK
    assert contact.deliverability.consecutive_unreachable == 1


def test_a_duplicated_30003_counts_once() -> None:
    _, contact = apply_all(
        receipt("undelivered", "SM1", 30003), receipt("undelivered", "SM1", 30003), receipt("undelivered", "SM1", 30003)
    )
    assert contact is not None and contact.deliverability.consecutive_unreachable == 1


def test_a_plain_status_for_an_unknown_contact_creates_no_contact() -> None:
    outcome = apply_receipt(None, None, receipt("sent"))
    assert outcome is not None and outcome.contact is None
    assert outcome.message.sid == "SM1" and outcome.message.phone == CUSTOMER
