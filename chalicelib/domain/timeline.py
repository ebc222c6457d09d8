"""One timeline per customer: texts both ways, consent changes, answers to
questions, agents' notes and what other systems report (email, calls, chat,
orders), merged in time order."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.contact import Contact
from chalicelib.domain.messages import Message
from chalicelib.domain.runs import DecisionRecord


class EntryKind(StrEnum):
    NOTE = "note"  # an agent's internal note
    INTERACTION = "interaction"  # posted by another system


class Entry(BaseModel):
    """A note or an interaction, stored with the contact; idempotent on its id."""

    model_config = ConfigDict(defer_build=True)  # built on first use: the webhooks never need it

    id: str = Field(min_length=1, max_length=120)
    kind: EntryKind
    at: datetime
    summary: str = Field(min_length=1, max_length=1000)
    channel: str | None = Field(default=None, max_length=40)  # email, call, chat, order_placed ...
    author: str | None = Field(default=None, max_length=80)


class Event(BaseModel):
    """One line of the timeline."""

    model_config = ConfigDict(defer_build=True)  # built on first use: the webhooks never need it

    at: datetime
    type: str  # message_in | message_out | consent | answer | decision | note | interaction
    summary: str
    detail: dict[str, object] = Field(default_factory=dict)


def merge(
    contact: Contact, messages: list[Message], entries: list[Entry], decisions: list[DecisionRecord]
) -> list[Event]:
    """Everything known about the contact as events, newest first."""
    events = [
        Event(
            at=m.at,
            type=f"message_{'in' if m.direction == 'inbound' else 'out'}",
            summary=m.body,
            detail={"sid": m.sid, "kind": m.kind, "status": m.status, "error_code": m.error_code, "run_id": m.run_id},
        )
        for m in messages
    ]
    events += [
        Event(at=c.at, type="consent", summary=f"{c.state} ({c.source})", detail=c.model_dump(mode="json"))
        for c in contact.consent_history
    ]
    events += [
        Event(at=h.at, type="answer", summary=f"{h.field}: {h.old} -> {h.new}", detail=h.model_dump(mode="json"))
        for h in contact.history
    ]
    events += [
        Event(at=e.at, type=e.kind, summary=e.summary, detail={"id": e.id, "channel": e.channel, "author": e.author})
        for e in entries
    ]
    events += [
        Event(
            at=d.at,
            type="decision",
            summary=f"{d.verdict}/{d.reason}: {d.explanation}",
            detail={"run_id": d.run_id, "stage": d.stage, "outcome": d.outcome},
        )
        for d in decisions
    ]
    return sorted(events, key=lambda event: event.at, reverse=True)
