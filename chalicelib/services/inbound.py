"""Use case: an inbound text arrives from Twilio."""

from __future__ import annotations

from chalicelib.domain import phone
from chalicelib.domain.errors import ConcurrentUpdateError
from chalicelib.domain.inbound import BrandReplies, InboundSms, receive
from chalicelib.domain.messages import Message
from chalicelib.services.ports import ConversationStore

MAX_ATTEMPTS = 5


def handle_inbound(sms: InboundSms, store: ConversationStore, replies: BrandReplies) -> Message:
    """Record the text; the stored message carries the reply (empty for none).

    A retried webhook (same MessageSid) changes nothing and gets the reply the
    first delivery got. Two texts racing for one contact retry on the version
    check, so neither update is lost.
    """
    for _ in range(MAX_ATTEMPTS):
        contact = store.get_contact(sms.phone)
        outcome = receive(contact, sms, replies, phone.time_zone_candidates)
        try:
            earlier = store.record_inbound(
                outcome.contact,
                expected_version=contact.version if contact else None,
                message=outcome.message,
            )
        except ConcurrentUpdateError:
            continue
        return earlier or outcome.message
    raise ConcurrentUpdateError(f"contact kept changing after {MAX_ATTEMPTS} attempts")
