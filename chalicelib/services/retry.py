"""One way to retry a read-modify-write that lost a race: jittered, bounded
by attempts and by the time the request may still take."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from chalicelib.domain.errors import ConcurrentUpdateError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryLimits:
    attempts: int
    first_backoff_s: float
    max_backoff_s: float
    budget_s: float  # no retry starts that would end after this much time


# Whole-profile writes (claims, receipts that change a number, prompt answers):
# well inside Twilio's 15 s webhook timeout and API Gateway's 29 s.
CONTACT_WRITES = RetryLimits(attempts=10, first_backoff_s=0.02, max_backoff_s=0.5, budget_s=5.0)


def retry_on_conflict(
    attempt: Callable[[], T],
    limits: RetryLimits = CONTACT_WRITES,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> T:
    """`attempt()` again on ConcurrentUpdateError, after a "full jitter" backoff
    (uniform up to an exponentially growing cap), so racing writers spread out
    instead of colliding again; the last error is raised when the limits are reached."""
    deadline = monotonic() + limits.budget_s
    for tries in range(1, limits.attempts + 1):
        try:
            return attempt()
        except ConcurrentUpdateError:
            delay = random.uniform(0, min(limits.max_backoff_s, limits.first_backoff_s * 2**tries))
            if tries == limits.attempts or monotonic() + delay > deadline:
                raise
            sleep(delay)
    raise AssertionError("unreachable: the loop returns or raises")
