"""Use case: an inbound text arrives from Twilio."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from chalicelib.domain import phone
from chalicelib.domain.contact import ConsentEvent, ConsentState, Contact
from chalicelib.domain.errors import ConcurrentUpdateError, ProfileNeededError, TextAlreadyAppliedError
from chalicelib.domain.inbound import (
    BrandReplies,
    InboundChange,
    InboundOutcome,
    InboundSms,
    applied,
    delivered_again,
    new_contact,
    read_text,
    receive,
    replayed,
)
from chalicelib.domain.ledger import OPTED_OUT, REPLIED
from chalicelib.domain.messages import InboundKind, Message
from chalicelib.domain.orders import listed
from chalicelib.domain.reorder import ReorderRequest
from chalicelib.domain.stores import help_naming, home_store
from chalicelib.domain.timeline import Entry, EntryKind
from chalicelib.services.ports import NOTHING_REMEMBERED, ConversationStore, JobQueue, PromptBook, Remembered, RunStore
from chalicelib.services.retry import retry_on_conflict
from chalicelib.services.stores import StoreDirectory

OPT_OUT_ATTRIBUTION = timedelta(days=3)  # an opt-out this soon after a run's text counts against the run
REPLY_ATTRIBUTION = timedelta(hours=24)  # a reply this soon after a campaign's text counts for its run
CONSENT_KINDS = frozenset({InboundKind.OPT_OUT, InboundKind.OPT_IN})


def handle_inbound(
    sms: InboundSms,
    store: ConversationStore,
    replies: BrandReplies,
    runs: RunStore,
    prompts: PromptBook,
    stores: StoreDirectory | None = None,
    orders: JobQueue | None = None,
    remembered: Remembered = NOTHING_REMEMBERED,
) -> Message:
    """Record the text; the stored message carries the reply (empty for none).

    The contact is changed first, in one write that needs no read and that
    texts arriving together do not invalidate, so a consent change is kept
    before anything else can fail; then the consent trail, then the message.
    A text whose message is stored (a retried webhook, a request replayed
    however long after) changes nothing and gets the reply the first delivery
    got while what it said stands; one that finds the contact changed but its
    message missing (a crash between the writes) stores the message now.
    HELP's answer names the customer's store (of `stores`) and its phone.
    REORDER (read against the profile: it offers the last order) and YES to
    its offer need `orders`, the queue the order is placed from. JOIN (read
    against the profile too) asks the join question; its YES opts in. A text
    that makes the contact anew finds its STOP `remembered` through an erasure:
    an old START replayed stays beneath it; a new one opts in.
    """
    if (earlier := store.messages.get(sms.phone, sms.sid)) is not None:
        contact = store.get_contact(sms.phone) if earlier.kind in CONSENT_KINDS else None
        return delivered_again(earlier, contact)
    change = read_text(sms, replies.reorder_words if orders is not None else frozenset(), replies.join_words)
    created = new_contact(sms, phone.time_zone_candidates)
    reading = _Reading(sms, store, replies, prompts, stores, orders)
    try:
        try:
            if change.kind in (InboundKind.REORDER, InboundKind.JOIN):  # read against the profile
                raise ProfileNeededError(sms.phone)
            before = store.apply_text(change, created)
            outcome = applied(change, before, created, replies)
        except ProfileNeededError:
            before, outcome = retry_on_conflict(reading.apply)
    except TextAlreadyAppliedError:
        return _finish_replayed(change, store, replies)
    message = outcome.message
    if before is None and (stop := remembered(sms.phone)) is not None and not _remember(sms.phone, stop, store):
        message = message.model_copy(update={"reply": ""})  # its consent is beneath the remembered STOP
    if message.kind == InboundKind.HELP and message.reply and stores is not None:
        message = message.model_copy(update={"reply": help_naming(message.reply, stores.of(outcome.contact))})
    consents = [change.consent] if change.consent and message.kind in CONSENT_KINDS else []
    if consents or outcome.field_changes:  # every instruction, in time order, whatever it changed
        store.timeline.add_trail(sms.phone, consents, outcome.field_changes)
    earlier = store.messages.put(message)
    if earlier is not None:
        return earlier
    _attribute_opt_out(before, outcome.contact, runs)
    _attribute_reply(before, message, runs)
    return message


@dataclass(frozen=True)
class _Reading:
    sms: InboundSms
    store: ConversationStore
    replies: BrandReplies
    prompts: PromptBook
    stores: StoreDirectory | None
    orders: JobQueue | None

    def apply(self) -> tuple[Contact | None, InboundOutcome]:
        """The text read against the profile (a pending question, a number to mark
        reachable again, REORDER): one whole-profile write, which counts the text
        once. An answer that gave a new home and left no store gets the store of
        that home. A YES's order is queued first and recorded on the timeline in
        the write: the job places nothing until it finds that record, so a crash
        before the write (Twilio brings the text back: the same offer, the same
        key) or a write that lost to a NO places nothing twice, or at all."""
        sms, store, stores = self.sms, self.store, self.stores
        contact = store.get_contact(sms.phone)
        pending = contact.pending_prompt if contact else None
        prompt = self.prompts.get(pending.prompt_id) if pending else None
        names = stores.name_of if stores is not None else str
        outcome = receive(contact, sms, self.replies, phone.time_zone_candidates, prompt, names)
        if stores is not None and outcome.contact.store_id is None and outcome.field_changes:
            outcome = replace(outcome, contact=home_store(outcome.contact, stores.all(), sms.at))
        order = outcome.reorder if self.orders is not None else None
        if order is not None and self.orders is not None:
            self.orders.enqueue([order.job()])
        unit = store.unit()  # the answer in the customer's words is kept with the profile it changed, or neither
        unit.add(
            *store.saved(outcome.contact, contact.version if contact else None, applied_sid=sms.sid, applied_at=sms.at)
        )
        if outcome.free_text is not None:
            unit.add(*store.answers.added(outcome.free_text))
        if outcome.consent is not None:  # a double opt-in's YES: its proof is kept with the profile, or neither
            unit.add(store.timeline.trailed(sms.phone, outcome.consent))
        if order is not None:
            entry = _requested(order)
            unit.add(store.timeline.added(sms.phone, entry, lambda _: ConcurrentUpdateError(entry.id)))
        unit.commit()
        return contact, outcome


def _requested(request: ReorderRequest) -> Entry:
    return Entry(
        id=request.entry_id("requested"),
        kind=EntryKind.INTERACTION,
        at=request.asked_at,
        summary=f"Reorder of {request.last_order_id} requested by text: {listed(request.items)}"[:1000],
        channel="reorder",
        author="customer",
    )


def _finish_replayed(change: InboundChange, store: ConversationStore, replies: BrandReplies) -> Message:
    message = replayed(change, replies)
    earlier = store.messages.put(message)
    if earlier is not None:
        return earlier
    if change.consent is not None:  # its trail may not have been written either (idempotent)
        contact = store.get_contact(change.sms.phone)
        applied = contact.customer_consent if contact else None  # a double opt-in's, with its proof
        kept = applied if applied is not None and applied.message_sid == change.sms.sid else change.consent
        store.timeline.add_trail(change.sms.phone, [kept], [])
    return message


def _remember(phone: str, stop: ConsentEvent, store: ConversationStore) -> bool:
    """Lay a STOP kept through an erasure under the contact a text just made (kept
    in the trail too); whether the text's own word still stands above it."""

    def attempt() -> bool:
        contact = store.get_contact(phone)
        if contact is None:
            return True
        after = contact.with_consent(stop)
        if after is not contact:
            store.save_contact(after, contact.version)
        return after.consent_event is not stop

    stands = retry_on_conflict(attempt)
    store.timeline.add_trail(phone, [stop], [])
    return stands


def _attribute_reply(before: Contact | None, message: Message, runs: RunStore) -> None:
    """Count a reply for the campaign run whose text came last, once: the first
    text after it, within 24 hours, that is not a STOP (texts arriving together:
    only one finds the last one earlier than that campaign text)."""
    engagement = before.engagement if before else None
    if engagement is None or engagement.last_campaign_run_id is None or engagement.last_campaign_at is None:
        return
    sent, heard = engagement.last_campaign_at, engagement.last_inbound_at
    if (
        message.kind != InboundKind.OPT_OUT
        and (heard is None or heard < sent)
        and message.at - sent <= REPLY_ATTRIBUTION
    ):
        runs.add_counts(engagement.last_campaign_run_id, {REPLIED: 1}, message.phone, engagement.last_campaign_cell)


def _attribute_opt_out(before: Contact | None, after: Contact, runs: RunStore) -> None:
    """Feed the circuit breaker: this opt-out follows that run's text."""
    engagement = after.engagement
    event = after.consent_event
    if before is None or before.consent == ConsentState.OPTED_OUT or event is None:
        return
    sent, last_run = engagement.last_outbound_at, engagement.last_run_id
    if event.state == ConsentState.OPTED_OUT and last_run and sent and event.at - sent <= OPT_OUT_ATTRIBUTION:
        cell = engagement.last_campaign_cell if last_run == engagement.last_campaign_run_id else None
        runs.add_counts(last_run, {OPTED_OUT: 1}, after.phone, cell)
