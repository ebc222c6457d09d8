"""One timeline per customer: texts both ways, consent changes, answers to
questions, agents' notes and what other systems report (email, calls, chat,
orders), merged in time order."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.contact import ConsentEvent, FieldChange
from chalicelib.domain.messages import Message
from chalicelib.domain.runs import DecisionRecord

OWN_ENTRY = "rapport:"  # the prefix of the ids of entries Rapport writes itself (an order's events)


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


@dataclass
class ContactHistory:
    """Everything kept about one contact besides its profile."""

    messages: list[Message] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    consents: list[ConsentEvent] = field(default_factory=list)
    fields: list[FieldChange] = field(default_factory=list)


def page_of(history: ContactHistory, before: datetime | None, newest: int) -> ContactHistory:
    """What a page of `newest` events before `before` may need of a whole history: of
    each timed kind, every one at `before` and the `newest` + 1 before it (the one
    more says whether another page follows); notes and interactions whole."""
    return ContactHistory(
        _newest(history.messages, before, newest),
        history.entries,
        _newest(history.consents, before, newest),
        _newest(history.fields, before, newest),
    )


class _Timed(Protocol):
    @property
    def at(self) -> datetime: ...


TimedT = TypeVar("TimedT", bound=_Timed)


def _newest(items: list[TimedT], before: datetime | None, newest: int) -> list[TimedT]:
    upto = sorted((item for item in items if before is None or item.at <= before), key=lambda i: i.at, reverse=True)
    at_before = [item for item in upto if item.at == before]
    return at_before + upto[len(at_before) : len(at_before) + newest + 1]


class Event(BaseModel):
    """One line of the timeline; `id` is unique within the contact's timeline."""

    model_config = ConfigDict(defer_build=True)  # built on first use: the webhooks never need it

    at: datetime
    id: str
    type: str  # message_in | message_out | consent | answer | decision | note | interaction
    summary: str
    detail: dict[str, object] = Field(default_factory=dict)

    @property
    def position(self) -> tuple[datetime, str]:
        """Where it stands, newest first; ties in time are ordered by id."""
        return self.at, self.id


def merge(history: ContactHistory, decisions: list[DecisionRecord]) -> list[Event]:
    """Everything known about the contact as events, newest first."""
    events = [
        Event(
            at=m.at,
            id=f"m:{m.sid}",
            type=f"message_{'in' if m.direction == 'inbound' else 'out'}",
            summary=m.body,
            detail={
                "sid": m.sid,
                "kind": m.kind,
                "status": m.status,
                "error_code": m.error_code,
                "run_id": m.run_id,
                "sent_by": m.sent_by,
            },
        )
        for m in history.messages
    ]
    events += [
        Event(
            at=c.at,
            id=f"k:{c.at.isoformat()}:{c.message_sid or c.source}",
            type="consent",
            summary=f"{c.state} ({c.source})",
            detail=c.model_dump(mode="json"),
        )
        for c in history.consents
    ]
    events += [
        Event(
            at=h.at,
            id=f"f:{h.at.isoformat()}:{h.field}:{h.message_sid or ''}",
            type="answer",
            summary=f"{h.field}: {h.old} -> {h.new}",
            detail=h.model_dump(mode="json"),
        )
        for h in history.fields
    ]
    events += [
        Event(
            at=e.at,
            id=f"e:{e.id}",
            type=e.kind,
            summary=e.summary,
            detail={"id": e.id, "channel": e.channel, "author": e.author},
        )
        for e in history.entries
    ]
    events += [
        Event(
            at=d.at,
            id=f"d:{d.run_id}",
            type="decision",
            summary=f"{d.verdict}/{d.reason}: {d.explanation}",
            detail={"run_id": d.run_id, "stage": d.stage, "outcome": d.outcome},
        )
        for d in decisions
    ]
    return sorted(events, key=lambda event: event.position, reverse=True)


def page(events: list[Event], before: tuple[datetime, str] | None, limit: int) -> tuple[list[Event], str | None]:
    """The `limit` events after the cursor (newest first) and the cursor of the
    next page: pages of any size, read one after another, hold every event once."""
    if before is not None:
        events = [event for event in events if event.position < before]
    shown = events[:limit]
    return shown, cursor_of(shown[-1]) if len(events) > limit else None


def cursor_of(event: Event) -> str:
    """An opaque, URL-safe mark of the event's position."""
    raw = json.dumps([event.at.isoformat(), event.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_cursor(text: str) -> tuple[datetime, str]:
    """The position a cursor marks; ValueError when it is not one of ours."""
    try:
        at, event_id = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        moment = datetime.fromisoformat(at)
    except (ValueError, TypeError, binascii.Error) as error:
        raise ValueError(f"not a timeline cursor: {error}") from None
    if moment.tzinfo is None or not isinstance(event_id, str):
        raise ValueError("not a timeline cursor")
    return moment, event_id
