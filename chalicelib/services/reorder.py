"""Use case on the events queue: a YES to a REORDER's offer, placed with the
brand's ordering system and its answer (a pay link, say) texted back.

The call carries the YES text's idempotency key, and so does every text that
follows it (one per key, on the ledger): a job run twice, or retried after an
outage, orders once and tells the customer once. While the ordering system is
unavailable the job comes back with backoff, and the customer is told once that
the order is on its way; when it refuses, or stays unavailable ATTEMPTS times,
a person takes over: a conversation opens with the reason on the timeline, and
the customer is told so.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from chalicelib.domain.conversations import continued
from chalicelib.domain.errors import RapportError
from chalicelib.domain.reorder import ReorderRequest
from chalicelib.domain.timeline import OWN_ENTRY, Entry, EntryKind
from chalicelib.services.conversations import NotSendableError, Outbound, notify
from chalicelib.services.order_texts import come_back, wait_for_sender
from chalicelib.services.ports import JobQueue, OrderingRefusedError, OrderingSystem, OrderingUnavailableError
from chalicelib.services.retry import retry_on_conflict
from chalicelib.services.send_text import SendTiming, backoff_s

ATTEMPTS = 6  # calls to the ordering system before a person takes over (with the send path's backoff)
ANSWER_KEPT = timedelta(hours=1)  # a pay link later than this is not texted: the customer has moved on
ON_ITS_WAY = "Your order is on its way to the store: we'll text you as soon as it's placed."
HANDED_OVER = "Sorry, we couldn't place your order by text. Someone from the store will text you shortly."


def place(
    job: dict[str, Any], system: OrderingSystem, ctx: Outbound, queue: JobQueue, timing: SendTiming, time_left_s: float
) -> str:
    """One call to the ordering system: "placed", "retry", "handed over", or
    "deferred" (its text's sender is busy past this handler's time)."""
    request = ReorderRequest.model_validate(job["request"])
    attempt = int(job.get("attempt", 0))
    try:
        message = system.place(request)
    except OrderingUnavailableError as error:
        if attempt + 1 < ATTEMPTS:
            if attempt == 0:
                _tell(request, ON_ITS_WAY, "on-its-way", ctx)
            queue.enqueue([{**job, "attempt": attempt + 1}], delay_s=backoff_s(attempt, timing=timing))
            return "retry"
        return _hand_over(request, f"the ordering system stayed unavailable ({ATTEMPTS} calls): {error}", ctx)
    except OrderingRefusedError as error:
        return _hand_over(request, f"the ordering system refused it: {error}", ctx)
    contact = ctx.store.get_contact(request.phone)
    if contact is not None:
        slept, wait = wait_for_sender(contact, message, ctx, time_left_s)
        if not slept:  # asked again then, with the same key: the ordering system answers the same
            come_back(job, wait, queue)
            return "deferred"
    _tell(request, message, "placed", ctx)
    ctx.store.timeline.add_entry(
        request.phone, _entry(request, f"Reorder of {request.last_order_id} placed by text: {message}", "placed", ctx)
    )
    return "placed"


def _tell(request: ReorderRequest, body: str, step: str, ctx: Outbound) -> None:
    """One text per request and step, as a transactional text (never after a STOP)."""
    with contextlib.suppress(NotSendableError):  # the policy's reason is on the ledger entry
        notify(request.phone, body, ctx.clock.now() + ANSWER_KEPT, f"{request.idempotency_key}:{step}", ctx)


def _entry(request: ReorderRequest, summary: str, step: str, ctx: Outbound) -> Entry:
    """The step on the customer's timeline, once (its id the request's)."""
    return Entry(
        id=f"{OWN_ENTRY}{request.idempotency_key}:{step}",
        kind=EntryKind.INTERACTION,
        at=ctx.clock.now(),
        summary=summary[:1000],
        channel="reorder",
        author="ordering system",
    )


class _HandedOverAlreadyError(RapportError):
    """The request was handed to a person before (a job run twice)."""


def _hand_over(request: ReorderRequest, reason: str, ctx: Outbound) -> str:
    """A conversation opens for a person with the reason on the timeline, in one
    write (a job run twice opens nothing twice); the customer is told."""
    entry = _entry(request, f"Reorder of {request.last_order_id} not placed: {reason}", "failed", ctx)

    def attempt() -> None:
        contact = ctx.store.get_contact(request.phone)
        if contact is None:
            return
        waiting = contact.model_copy(update={"conversation": continued(contact.conversation, ctx.clock.now())})
        unit = ctx.store.unit()
        unit.add(ctx.store.timeline.added(request.phone, entry, lambda _: _HandedOverAlreadyError(entry.id)))
        unit.add(*ctx.store.saved(waiting, contact.version, tags_before=contact.tags))
        try:
            unit.commit()
        except _HandedOverAlreadyError:
            return

    retry_on_conflict(attempt)
    _tell(request, HANDED_OVER, "handed-over", ctx)
    return "handed over"
