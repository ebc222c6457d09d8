"""Use case: an inbound text arrives from Twilio."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.domain import phone
from chalicelib.domain.contact import ConsentState, Contact
from chalicelib.domain.errors import ConcurrentUpdateError
from chalicelib.domain.inbound import BrandReplies, InboundSms, receive
from chalicelib.domain.messages import Message
from chalicelib.domain.runs import OPTED_OUT
from chalicelib.services.ports import ConversationStore, PromptBook, RunStore

MAX_ATTEMPTS = 5
OPT_OUT_ATTRIBUTION = timedelta(days=3)  # an opt-out this soon after a run's text counts against the run


def handle_inbound(
    sms: InboundSms, store: ConversationStore, replies: BrandReplies, runs: RunStore, prompts: PromptBook
) -> Message:
    """Record the text; the stored message carries the reply (empty for none).

    A retried webhook (same MessageSid) changes nothing and gets the reply the
    first delivery got. Two texts racing for one contact retry on the version
    check, so neither update is lost.
    """
    for _ in range(MAX_ATTEMPTS):
        contact = store.get_contact(sms.phone)
        pending = contact.pending_prompt if contact else None
        prompt = prompts.get(pending.prompt_id) if pending else None
        outcome = receive(contact, sms, replies, phone.time_zone_candidates, prompt)
        try:
            earlier = store.record_message(
                outcome.contact,
                expected_version=contact.version if contact else None,
                message=outcome.message,
            )
        except ConcurrentUpdateError:
            continue
        if earlier is None:
            _attribute_opt_out(contact, outcome.contact, runs)
        return earlier or outcome.message
    raise ConcurrentUpdateError(f"contact kept changing after {MAX_ATTEMPTS} attempts")


def _attribute_opt_out(before: Contact | None, after: Contact, runs: RunStore) -> None:
    """Feed the circuit breaker: this opt-out follows that run's text."""
    engagement = after.engagement
    if before is None or before.consent == ConsentState.OPTED_OUT or after.consent != ConsentState.OPTED_OUT:
        return
    sent, last_run = engagement.last_outbound_at, engagement.last_run_id
    if last_run and sent and after.consent_history[-1].at - sent <= OPT_OUT_ATTRIBUTION:
        runs.add_counts(last_run, {OPTED_OUT: 1})
