"""Use case: Twilio reports a delivery status for a message we sent."""

from __future__ import annotations

from chalicelib.domain.contact import consent_added
from chalicelib.domain.delivery import Receipt, apply_receipt
from chalicelib.domain.ledger import UNDELIVERED
from chalicelib.domain.messages import FINAL_STATUSES, DeliveryStatus
from chalicelib.services.ports import ConversationStore, RunStore
from chalicelib.services.retry import retry_on_conflict

FAILURES = frozenset({DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED})


def record_status(receipt: Receipt, store: ConversationStore, runs: RunStore) -> bool:
    """Apply the receipt; False when it was a duplicate and nothing changed."""

    def attempt() -> bool:
        message, contact = store.get_message_and_contact(receipt.phone, receipt.sid)
        outcome = apply_receipt(message, contact, receipt)
        if outcome is None:
            return False
        store.record_receipt(
            outcome.message,
            expected_message_version=message.version if message else None,
            contact=outcome.contact,
            expected_contact_version=contact.version if contact else None,
        )
        if outcome.contact is not None and (added := consent_added(contact, outcome.contact)):
            store.add_trail(receipt.phone, added, [])  # 21610: the carrier says they opted out
        first_final = message is None or message.status not in FINAL_STATUSES
        run = outcome.message.run_id
        if run and first_final and outcome.message.status in FAILURES:
            runs.add_counts(run, {UNDELIVERED: 1})  # feeds the run's circuit breaker
        return True

    return retry_on_conflict(attempt)
