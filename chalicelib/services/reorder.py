"""Use case on the events queue: a YES to a REORDER's offer, placed with the
brand's ordering system and its answer (a pay link, say) texted back.

The job is queued before the YES's profile write and places nothing until it
finds that write's record on the timeline (a crash or a lost race leaves none:
the order is never placed). The call carries the offer's idempotency key, and
so does every text that follows it (one per key and step, on the ledger): a job
run twice, or retried after an outage, orders once and tells the customer once.
While the ordering system is unavailable the job comes back with backoff, and
the customer is told once that the order is on its way; when it refuses, stays
unavailable ATTEMPTS times, or the request is older than REQUEST_KEPT, a person
takes over: a conversation opens with the reason on the timeline, and the
customer is told so. Nothing is placed or texted for someone who has opted out.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from chalicelib.domain.conversations import continued
from chalicelib.domain.errors import RapportError
from chalicelib.domain.reorder import ReorderRequest, stopped
from chalicelib.domain.timeline import Entry, EntryKind
from chalicelib.services.conversations import (
    NotSendableError,
    Outbound,
    SendFailedError,
    SendUnknownError,
    notify,
    wait_for_sender,
)
from chalicelib.services.order_texts import come_back
from chalicelib.services.ports import JobQueue, OrderingRefusedError, OrderingSystem, OrderingUnavailableError
from chalicelib.services.retry import retry_on_conflict
from chalicelib.services.send_pace import TIME_KEPT_S
from chalicelib.services.send_text import SendTiming, backoff_s

ATTEMPTS = 6  # calls to the ordering system before a person takes over (with the send path's backoff)
REQUEST_KEPT = timedelta(hours=1)  # a request or pay link older than this is not placed or texted: too late
CALL_TIME_S = 10.0 + TIME_KEPT_S  # the ordering call's time-out, and the text after it
RECORD_CHECKS = 5  # looks for the YES's record, RECORD_WAIT_S apart, before the request counts as never made
RECORD_WAIT_S = 2
ON_ITS_WAY = "Your order is on its way to the store: we'll text you as soon as it's placed."
HANDED_OVER = "Sorry, we couldn't place your order by text. Someone from the store will text you shortly."


def place(
    job: dict[str, Any],
    system: OrderingSystem,
    ctx: Outbound,
    queue: JobQueue,
    timing: SendTiming,
    time_left_s: Callable[[], float],
) -> str:
    """One step of a request: "placed", "retry", "handed over", "deferred" (too
    little time left for the call, or its text's sender busy past it: the job
    comes back, with the answer once it has one), "waiting" (for the YES's
    record) or "dropped: <why>"."""
    request = ReorderRequest.model_validate(job["request"])
    contact = ctx.store.get_contact(request.phone)
    if contact is None or stopped(contact):
        return "dropped: opted out" if contact else "dropped: no such contact"
    if not _requested(request, ctx):
        checks = int(job.get("checks", 0)) + 1
        if checks >= RECORD_CHECKS:
            return "dropped: the YES was never recorded"
        queue.enqueue([{**job, "checks": checks}], delay_s=RECORD_WAIT_S)
        return "waiting"
    if ctx.clock.now() - request.asked_at > REQUEST_KEPT:
        return _hand_over(request, f"asked {request.asked_at:%Y-%m-%d %H:%M} UTC, too long ago to place now", ctx)
    message = job.get("answer")
    if message is None:
        if time_left_s() < CALL_TIME_S:
            come_back(job, 1, queue)
            return "deferred"
        try:
            message = system.place(request)
        except OrderingUnavailableError as error:
            return _again(job, request, str(error), queue, timing, ctx)
        except OrderingRefusedError as error:
            return _hand_over(request, f"the ordering system refused it: {error}", ctx)
    slept, wait = wait_for_sender(contact, message, ctx, time_left_s() - TIME_KEPT_S)
    if not slept:  # it comes back with the answer: the ordering system is not asked again
        come_back({**job, "answer": message}, wait, queue)
        return "deferred"
    _tell(request, message, "placed", ctx)
    ctx.store.timeline.add_entry(
        request.phone, _entry(request, f"Reorder of {request.last_order_id} placed by text: {message}", "placed", ctx)
    )
    return "placed"


def _requested(request: ReorderRequest, ctx: Outbound) -> bool:
    """The YES's profile write happened (its record is on the timeline)."""
    return any(entry.id == request.entry_id("requested") for entry in ctx.store.timeline.entries(request.phone))


def _again(
    job: dict[str, Any], request: ReorderRequest, error: str, queue: JobQueue, timing: SendTiming, ctx: Outbound
) -> str:
    """Unavailable: asked again with backoff (the customer told once), or a person takes over."""
    attempt = int(job.get("attempt", 0))
    if attempt + 1 >= ATTEMPTS:
        return _hand_over(request, f"the ordering system stayed unavailable ({ATTEMPTS} calls): {error}", ctx)
    queue.enqueue([{**job, "attempt": attempt + 1}], delay_s=backoff_s(attempt, timing=timing))
    if attempt == 0:
        _tell(request, ON_ITS_WAY, "on-its-way", ctx)
    return "retry"


def _tell(request: ReorderRequest, body: str, step: str, ctx: Outbound) -> None:
    """One text per request and step, as a transactional text (never after a STOP,
    never after the request's time). Best effort: what became of it is on its
    ledger entry, and the order's fate is on the timeline either way."""
    with contextlib.suppress(NotSendableError, SendFailedError, SendUnknownError):
        notify(request.phone, body, request.asked_at + REQUEST_KEPT, f"{request.idempotency_key}:{step}", ctx)


def _entry(request: ReorderRequest, summary: str, step: str, ctx: Outbound) -> Entry:
    """The step on the customer's timeline, once (its id the request's)."""
    return Entry(
        id=request.entry_id(step),
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
