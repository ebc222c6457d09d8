"""The Lambdas AWS triggers: the EventBridge tick and the three SQS consumers.

Consumers answer with Lambda's partial batch response, so one bad message
is retried (and ends in the dead-letter queue) without its batch-mates.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from chalice.app import Blueprint, CloudWatchEvent, Rate, SQSEvent

from chalicelib.adapters.observability import count, logger
from chalicelib.bootstrap import deps, ordering_system, remembered, sender
from chalicelib.config import Settings
from chalicelib.domain.ledger import Fate
from chalicelib.domain.orders import OrderEvent
from chalicelib.domain.reorder import REORDER_JOB
from chalicelib.domain.runs import BreakerSettings
from chalicelib.services import order_texts, orders, reorder, runs
from chalicelib.services.conversations import Outbound
from chalicelib.services.links import Shortener
from chalicelib.services.send_text import BatchReads, SendContext, SendJob, SendTiming
from chalicelib.services.sending import send_one

bp = Blueprint(__name__)
PLAN_QUEUE = "rapport-plan"  # the names Chalice knows; infra/ points the mappings at each stage's queues
SEND_QUEUE = "rapport-send"
EVENTS_QUEUE = "rapport-events"


SEND_BATCH = 10  # the send queue's batch: its texts go at once, each waiting for its own slot of the pace


def _each(
    event: SQSEvent, queue: str, handle: Callable[[dict[str, Any]], None], at_once: int = 1
) -> dict[str, list[dict[str, str]]]:
    """Each message handled (`at_once` of them at a time, on threads), the failed ones answered back."""

    def one(record: Any) -> dict[str, str] | None:
        message_id = record.to_dict()["messageId"]
        try:
            handle(json.loads(record.body))
        except Exception:  # any failure: this message is retried, its batch-mates are not
            logger.exception("job failed", extra={"message_id": message_id})
            count("JobErrors", queue=queue)
            return {"itemIdentifier": message_id}
        return None

    if at_once > 1:
        with ThreadPoolExecutor(max_workers=at_once) as pool:
            answers = list(pool.map(one, event))
    else:
        answers = [one(record) for record in event]
    return {"batchItemFailures": [failed for failed in answers if failed is not None]}


def _time_left(context: Any) -> Callable[[], float]:
    """Seconds the invocation has left (Lambda's context; tests may pass none)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return lambda: math.inf
    return lambda: float(remaining()) / 1000


def _recipients(event: SQSEvent) -> list[str]:
    """The phones of a send batch's texts (a malformed one fails on its own, in `_each`)."""
    phones = []
    for record in event:
        try:
            phones.append(str(json.loads(record.body)["phone"]))
        except (ValueError, KeyError, TypeError):
            continue
    return phones


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def tick(event: CloudWatchEvent) -> None:  # noqa: ARG001 (the time comes from the clock)
    d = deps()
    settings = d.settings
    report = runs.tick(d.campaigns, d.runs, d.plan_queue, d.clock, settings.brand_time_zone, settings.plan_shards)
    for run in report.started:
        count("RunsStarted")
        logger.info("run started", extra={"run_id": run})
    for campaign_id, error in report.failed.items():
        count("JobErrors", queue="tick")
        logger.error(
            "campaign run not started; tried again next minute", extra={"campaign_id": campaign_id, "error": error}
        )
    logger.debug("tick", extra={"runs_started": len(report.started), "minutes_released": report.released_minutes})


@bp.on_sqs_message(queue=PLAN_QUEUE, batch_size=1)
def plan(event: SQSEvent) -> dict[str, list[dict[str, str]]]:
    def handle(job: dict[str, Any]) -> None:
        d = deps()
        if job["kind"] == runs.RELEASE:
            minute, shard = datetime.fromisoformat(job["minute"]), int(job["shard"])
            released = runs.release_holds(minute, shard, d.runs, d.send_queue)
            if released:
                logger.info("holds released", extra={"minute": job["minute"], "shard": shard, "count": released})
            return
        report = runs.plan_shard(
            str(job["run_id"]), int(job["shard"]), d.campaigns, d.runs, d.store, d.send_queue, d.clock, d.policy,
            d.directory,
        )  # fmt: skip
        for key, amount in report.counts.items():
            verdict, reason = key.split("/", 1)
            count("Decisions", amount, verdict=verdict, reason=reason)
        logger.info(
            "shard planned",
            extra={
                "run_id": report.run_id,
                "shard": report.shard,
                "queued": report.queued,
                "held": report.held,
                "replay": report.replay,
                "decisions": dict(report.counts),
            },
        )

    return _each(event, "plan", handle)


@bp.on_sqs_message(queue=SEND_QUEUE, batch_size=SEND_BATCH)
def send(event: SQSEvent) -> dict[str, list[dict[str, str]]]:
    batch, d = BatchReads.for_phones(_recipients(event)), deps()  # the batch's contacts: one read; its slots: one block
    s = d.settings
    ctx = SendContext(
        d.campaigns, d.runs, d.store, d.send_queue, sender(), d.clock, d.policy, s.brand_name, d.prompts,
        d.directory, breaker=BreakerSettings(minimum_out=s.breaker_minimum_out), timing=_timing(s),
        remaining_s=_time_left(event.context),
        links=Shortener(d.links, s.public_base_url, d.clock, timedelta(days=s.link_counted_days)),
    )  # fmt: skip

    texts: set[tuple[str, str]] = set()  # the batch's texts so far: a twin job (SQS delivers twice) is settled once
    seen = threading.Lock()

    def handle(job: dict[str, Any]) -> None:
        if job.get("kind") in (orders.ORDER_EVENT, REORDER_JOB):  # queued here before the events queue existed
            d.events_queue.enqueue([job])
            return
        text = (job["run_id"], job["phone"])
        with seen:
            twin = text in texts
            texts.add(text)
        # its twin in this batch sends or settles it (or fails, and comes back): nothing to take a slot for
        outcome = Fate.DUPLICATE if twin else send_one(SendJob.of(job), ctx, batch)
        count("OutboundJobs", outcome=outcome.value)
        logger.info("send", extra={"phone": job["phone"], "run_id": job["run_id"], "outcome": outcome.value})

    # at once: a sender spends most of a text waiting (its slot, DynamoDB, Twilio), so ten texts
    # take about as long as one; the pace item keeps them apart, and the claims keep each to one send
    return _each(event, "send", handle, at_once=SEND_BATCH)


@bp.on_sqs_message(queue=EVENTS_QUEUE, batch_size=10)
def events(event: SQSEvent) -> dict[str, list[dict[str, str]]]:
    """The ordering system's events and the orders placed by text: a queue and a
    function of their own, so an update never waits behind a campaign's texts."""
    d = deps()
    outbound = Outbound(d.store, d.runs, sender(), d.clock, d.policy, d.directory)
    time_left = _time_left(event.context)

    def handle(job: dict[str, Any]) -> None:
        if job.get("kind") == REORDER_JOB:  # a YES to a REORDER's offer, placed with the ordering system
            placed = reorder.place(job, ordering_system(), outbound, d.events_queue, _timing(d.settings), time_left)
            count("Reorders", outcome=placed)
            logger.info("reorder", extra={"phone": job["request"]["phone"], "outcome": placed})
            return
        order = OrderEvent.model_validate(job["event"])
        attribution = timedelta(days=d.settings.attribution_days)  # then its text: each step done once, however often
        applied = orders.apply(order, d.store, d.clock, remembered, d.runs, attribution)
        texted = order_texts.send_update(job, order, d.order_texts, outbound, d.events_queue, time_left())
        count("OrderEvents", applied=str(applied).lower(), text=texted.split(":")[0])
        logger.info("order event", extra={"event_id": order.id, "applied": applied, "text": texted})

    return _each(event, "events", handle)


def _timing(s: Settings) -> SendTiming:
    return SendTiming(timedelta(seconds=s.send_lease_s), s.send_retry_first_s, s.send_retry_max_s)
