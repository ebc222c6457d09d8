"""Use case: Twilio reports a delivery status for a message we sent."""

from __future__ import annotations

from chalicelib.domain.contact import consent_added
from chalicelib.domain.delivery import Receipt, apply_receipt
from chalicelib.domain.ledger import DELIVERED, UNDELIVERED
from chalicelib.domain.messages import FINAL_STATUSES, DeliveryStatus
from chalicelib.services.ports import ConversationStore, RunStore
from chalicelib.services.retry import retry_on_conflict

FAILURES = frozenset({DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED})
ARRIVED = frozenset({DeliveryStatus.DELIVERED, DeliveryStatus.READ})  # read implies delivered


def run_counts(before: DeliveryStatus | None, after: DeliveryStatus | None) -> dict[str, int]:
    """What a receipt adds to its run's counts: one text counts once, at its first final status.

    Final statuses share a rank (domain/messages.py), so the first final one a
    text reaches stands: a repeated receipt, a late `sent`, or a `delivered`
    after `undelivered` (or the other way round) counts nothing more. The run's
    figures then add up: delivered + undelivered <= out.
    """
    if before in FINAL_STATUSES or after not in FINAL_STATUSES:
        return {}
    if after in FAILURES:
        return {UNDELIVERED: 1}  # also feeds the run's circuit breaker
    if after in ARRIVED:
        return {DELIVERED: 1}
    return {}


def record_status(receipt: Receipt, store: ConversationStore, runs: RunStore) -> bool:
    """Apply the receipt; False when it was a duplicate and nothing changed."""

    def attempt() -> bool:
        message, contact = store.messages.with_contact(receipt.phone, receipt.sid)
        outcome = apply_receipt(message, contact, receipt)
        if outcome is None:
            return False
        unit = store.unit()
        unit.add(store.messages.saved(outcome.message, message.version if message else None))
        if outcome.contact is not None:
            unit.add(*store.saved(outcome.contact, contact.version if contact else None))
        unit.commit()
        if outcome.contact is not None and (added := consent_added(contact, outcome.contact)):
            store.timeline.add_trail(receipt.phone, added, [])  # 21610: the carrier says they opted out
        counts = run_counts(message.status if message else None, outcome.message.status)
        if outcome.message.run_id and counts:
            # after the receipt's write: a retry never adds twice
            runs.add_counts(outcome.message.run_id, counts, receipt.phone, outcome.message.cell)
        return True

    return retry_on_conflict(attempt)
