"""How long each kind of personal record is kept (docs/privacy.md): applied
by DynamoDB TTL on `expires_at`, so nothing has to sweep the table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_DAYS = 3650


@dataclass(frozen=True)
class Retention:
    """Days each kind is kept after it was made; 0: until the customer is erased."""

    messages: int = 730
    notes: int = 730  # notes and interactions on the timeline
    answers: int = 730  # free-text answers, listed by prompt
    decisions: int = 90  # what each campaign run decided

    @property
    def answers_outlive_messages(self) -> bool:
        """Erasure finds a free-text answer from its text: the text must last as long."""
        return self.messages != 0 and (self.answers == 0 or self.answers > self.messages)

    @staticmethod
    def until(made: datetime, days: int) -> datetime | None:
        return made + timedelta(days=days) if days else None


DEFAULT_RETENTION = Retention()
