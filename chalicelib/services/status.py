"""Use case: Twilio reports a delivery status for a message we sent."""

from __future__ import annotations

from chalicelib.domain.delivery import Receipt, apply_receipt
from chalicelib.domain.errors import ConcurrentUpdateError
from chalicelib.services.inbound import MAX_ATTEMPTS
from chalicelib.services.ports import ConversationStore


def record_status(receipt: Receipt, store: ConversationStore) -> bool:
    """Apply the receipt; False when it was a duplicate and nothing changed."""
    for _ in range(MAX_ATTEMPTS):
        message, contact = store.get_message_and_contact(receipt.phone, receipt.sid)
        outcome = apply_receipt(message, contact, receipt)
        if outcome is None:
            return False
        try:
            store.record_receipt(
                outcome.message,
                expected_message_version=message.version if message else None,
                contact=outcome.contact,
                expected_contact_version=contact.version if contact else None,
            )
        except ConcurrentUpdateError:
            continue
        return True
    raise ConcurrentUpdateError(f"message kept changing after {MAX_ATTEMPTS} attempts")
