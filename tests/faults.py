"""Fault injection for the send path: wrap the stores and the sender so that
a chosen call fails before it happens (a throttle, a timeout with nothing
done) or crashes the handler after it happened (a process killed between two
steps), then drive jobs the way SQS and Lambda would: a failed job comes back
after its visibility timeout, a delayed one after its delay, any job may be
delivered twice."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from chalicelib.domain.ledger import LEASE, Fate
from chalicelib.services.ports import SendOutcome, SendResult
from chalicelib.services.send_text import BatchReads, SendContext, SendJob
from chalicelib.services.sending import send_one
from tests.fakes import FakeSender, StepClock

VISIBILITY = LEASE + timedelta(seconds=30)  # SQS hands a failed job back after the lease has run out


class Fault(StrEnum):
    BEFORE = "before"  # the call fails and does nothing (a throttle, a 500, a timeout before the write)
    AFTER = "after"  # the call happened, then the handler dies (killed, timed out)


class InjectedFaultError(Exception):
    """A fault this harness raised."""


@dataclass
class Faults:
    """Which calls fail: (operation, nth call of it) -> fault, counted across the
    whole run; or, with `rate`, any call at random."""

    plan: dict[tuple[str, int], Fault] = field(default_factory=dict)
    rate: float = 0.0
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    calls: dict[str, int] = field(default_factory=dict)
    fired: list[tuple[str, int, Fault]] = field(default_factory=list)

    def around(self, name: str, call: Callable[[], Any]) -> Any:
        n = self.calls[name] = self.calls.get(name, 0) + 1
        fault = self.plan.get((name, n))
        if fault is None and self.rate and self.rng.random() < self.rate:
            fault = self.rng.choice(list(Fault))
        if fault == Fault.BEFORE:
            self.fired.append((name, n, fault))
            raise InjectedFaultError(f"{name} #{n} failed")
        result = call()
        if fault == Fault.AFTER:
            self.fired.append((name, n, fault))
            raise InjectedFaultError(f"died after {name} #{n}")
        return result


class Faulty:
    """Every public method of `inner` goes through `faults` under `prefix.method`;
    so do those of the repositories beside it (`runs.ledger.claim`) and of the
    units of work it opens (`store.unit.commit`)."""

    def __init__(self, inner: Any, prefix: str, faults: Faults) -> None:
        self._inner, self._prefix, self._faults = inner, prefix, faults

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        where = f"{self._prefix}.{name}"
        if name.startswith("_"):
            return target
        if not callable(target):
            return Faulty(target, where, self._faults) if _is_adapter(target) else target

        def call(*args: Any, **kwargs: Any) -> Any:
            result = self._faults.around(where, lambda: target(*args, **kwargs))
            return Faulty(result, where, self._faults) if _is_adapter(result) else result

        return call


def _is_adapter(value: Any) -> bool:
    """A repository or a unit of work (its own calls fail too), not a value read."""
    return type(value).__module__.startswith("chalicelib.adapters")


class FlakyTwilio(FakeSender):
    """Twilio that is down (429/5xx) for the first `down` sends, or answers
    `unknown` on chosen sends after taking them."""

    def __init__(self, clock: StepClock, down: int = 0, lost_answers: frozenset[int] = frozenset()) -> None:
        super().__init__(clock)
        self.down, self.lost_answers, self.calls = down, lost_answers, 0

    def send(self, to: str, body: str, valid_for_s: int, origin: str | None = None) -> SendResult:
        self.calls += 1
        if self.calls <= self.down:
            return SendResult(SendOutcome.RETRY, error_code=20503, detail="HTTP 503")
        result = super().send(to, body, valid_for_s, origin)
        if self.calls in self.lost_answers:  # it went, but the answer was lost
            return SendResult(SendOutcome.UNKNOWN, sid=result.sid, detail="no answer in time")
        return result


def drive(
    jobs: list[dict[str, Any]],
    ctx: SendContext,
    clock: StepClock,
    rng: random.Random,
    duplicates: float = 0.1,
    max_steps: int = 20_000,
    batch_size: int = 10,
    after_crash: Callable[[dict[str, Any]], None] | None = None,
) -> list[Fate]:
    """Deliver jobs until none is left, as SQS and the send Lambda would: in
    batches (their contacts read together), in any order, some twice, a failed
    one again after its visibility timeout, a delayed one after its delay.
    `after_crash`: what happens to a failed job's contact before it comes back."""
    waiting: list[tuple[float, dict[str, Any]]] = [(clock.current.timestamp(), job) for job in jobs]
    outcomes: list[Fate] = []
    for _ in range(max_steps):
        if not waiting:
            return outcomes
        due = [entry for entry in waiting if entry[0] <= clock.current.timestamp()]
        if not due:  # nothing visible yet: time passes
            clock.current += timedelta(seconds=min(e[0] for e in waiting) - clock.current.timestamp())
            continue
        batch = rng.sample(due, min(len(due), rng.randint(1, batch_size)))
        for entry in batch:
            waiting.remove(entry)
        reads = BatchReads.of([job for _, job in batch])
        for _, job in batch:
            if rng.random() < duplicates:
                waiting.append((clock.current.timestamp(), job))
            queue = ctx.send_queue
            before = len(getattr(queue, "jobs", []))
            try:
                send = SendJob.of(job)
                outcomes.append(send_one(send, ctx, reads))
            except InjectedFaultError:
                waiting.append(((clock.current + VISIBILITY).timestamp(), job))
                if after_crash is not None:
                    after_crash(job)
            queued = getattr(queue, "jobs", [])
            for body, delay in queued[before:]:
                waiting.append((clock.current.timestamp() + delay, body))
            del queued[before:]
    raise AssertionError(f"jobs still waiting after {max_steps} batches: {len(waiting)}")
