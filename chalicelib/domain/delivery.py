"""Delivery receipts: idempotent status updates and their effect on a number.

Error codes (Twilio's): 30005 unknown destination, 30006 landline or
unreachable carrier and 21614 not a mobile number make a number
undeliverable at once; 21610 means the recipient opted out at the carrier;
30003 (unreachable handset) only after it repeats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.contact import (
    ConsentEvent,
    ConsentState,
    Contact,
    Deliverability,
    DeliverabilityState,
)
from chalicelib.domain.messages import (
    STATUS_RANK,
    DeliveryStatus,
    Direction,
    Message,
    StatusEvent,
)

PERMANENT_FAILURE_CODES = frozenset({30005, 30006, 21614})
OPTED_OUT_CODE = 21610
UNREACHABLE_CODE = 30003
UNREACHABLE_LIMIT = 3


@dataclass(frozen=True)
class Receipt:
    sid: str
    status: DeliveryStatus
    phone: str  # the recipient (the contact)
    brand_number: str
    at: datetime
    error_code: int | None = None


@dataclass(frozen=True)
class ReceiptOutcome:
    message: Message
    contact: Contact | None  # None: the contact needs no change


def apply_receipt(message: Message | None, contact: Contact | None, receipt: Receipt) -> ReceiptOutcome | None:
    """The new message (and contact, when its reachability changes), or None
    when this (sid, status) pair was seen before and nothing changes."""
    if message is not None and message.has_seen(receipt.status):
        return None
    current = message or Message(
        sid=receipt.sid,
        phone=receipt.phone,
        brand_number=receipt.brand_number,
        direction=Direction.OUTBOUND,
        at=receipt.at,
    )
    event = StatusEvent(status=receipt.status, at=receipt.at, error_code=receipt.error_code)
    update: dict[str, object] = {"status_events": [*current.status_events, event]}
    if current.status is None or STATUS_RANK[receipt.status] > STATUS_RANK[current.status]:
        update["status"] = receipt.status
        update["error_code"] = receipt.error_code
    new_contact = reachability(contact, receipt)
    return ReceiptOutcome(message=current.model_copy(update=update), contact=new_contact)


def reachability(contact: Contact | None, receipt: Receipt) -> Contact | None:
    """The contact as this receipt (or an API refusal) leaves it; None: unchanged."""
    code = receipt.error_code
    if receipt.status == DeliveryStatus.DELIVERED:
        if contact is None or contact.deliverability.consecutive_unreachable == 0:
            return None
        reset = contact.deliverability.model_copy(update={"consecutive_unreachable": 0})
        return contact.model_copy(update={"deliverability": reset})
    if code is None:
        return None
    base = contact or Contact(phone=receipt.phone, created_at=receipt.at)
    if code == OPTED_OUT_CODE:
        if base.consent == ConsentState.OPTED_OUT:
            return None
        return base.with_consent(
            ConsentEvent(
                state=ConsentState.OPTED_OUT,
                source="carrier_error",
                at=receipt.at,
                brand_number=receipt.brand_number,
                message_sid=receipt.sid,
                error_code=code,
            )
        )
    previous = base.deliverability
    unreachable = previous.consecutive_unreachable + 1 if code == UNREACHABLE_CODE else 0
    reason: str | None
    if code in PERMANENT_FAILURE_CODES:
        state, reason = DeliverabilityState.UNDELIVERABLE, f"error {code}"
    elif unreachable >= UNREACHABLE_LIMIT:
        state, reason = DeliverabilityState.UNDELIVERABLE, f"error {code} {unreachable} times in a row"
    else:
        state, reason = previous.state, previous.reason
    deliverability = Deliverability(
        state=state,
        reason=reason,
        last_error_code=code,
        consecutive_unreachable=unreachable,
        updated_at=receipt.at,
    )
    return base.model_copy(update={"deliverability": deliverability})
