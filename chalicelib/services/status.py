"""Use case: Twilio reports a delivery status for a message we sent."""

from __future__ import annotations

from chalicelib.domain.delivery import Receipt, apply_receipt
from chalicelib.domain.errors import ConcurrentUpdateError
from chalicelib.domain.messages import FINAL_STATUSES, DeliveryStatus
from chalicelib.domain.runs import FAILED
from chalicelib.services.inbound import MAX_ATTEMPTS
from chalicelib.services.ports import ConversationStore, RunStore

FAILURES = frozenset({DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED})


def record_status(receipt: Receipt, store: ConversationStore, runs: RunStore) -> bool:
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
        first_final = message is None or message.status not in FINAL_STATUSES
        run = outcome.message.run_id
        if run and first_final and outcome.message.status in FAILURES:
            runs.add_counts(run, {FAILED: 1})  # feeds the run's circuit breaker
        return True
    raise ConcurrentUpdateError(f"message kept changing after {MAX_ATTEMPTS} attempts")
