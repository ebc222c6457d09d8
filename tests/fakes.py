"""In-memory stand-ins for the ports, held to the same contract tests as the real adapters."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.adapters.dynamodb_contacts import MARKERS_KEPT
from chalicelib.domain.campaign import Campaign
from chalicelib.domain.contact import ConsentEvent, Contact, DeliverabilityState, FieldChange
from chalicelib.domain.errors import (
    ConcurrentUpdateError,
    LookupUnavailableError,
    LostLeaseError,
    MarketingTakenError,
    ProfileNeededError,
    TextAlreadyAppliedError,
)
from chalicelib.domain.inbound import InboundChange, apply_change
from chalicelib.domain.ledger import BODY_KEPT, Claim, ClaimStatus, LedgerEntry, LedgerState, Outcome, look, settlement
from chalicelib.domain.messages import Message
from chalicelib.domain.prompts import Prompt, default_prompts
from chalicelib.domain.runs import DecisionRecord, Hold, Run
from chalicelib.domain.timeline import ContactHistory, Entry, page_of
from chalicelib.services.ports import SendOutcome, SendResult


class InMemoryConversationStore:
    """Holds the DynamoDB store's rules: texts applied without a read never
    conflict; whole-profile writes fail if a write or a text came since the read."""

    def __init__(self) -> None:
        self.contacts: dict[str, Contact] = {}
        self.messages: dict[tuple[str, str], Message] = {}
        self.notes: dict[tuple[str, str], Entry] = {}
        self.trails: dict[str, dict[tuple[datetime, str], ConsentEvent | FieldChange]] = {}
        self.applied: dict[str, dict[str, datetime]] = {}  # phone -> sid -> when, the markers
        self._lock = threading.Lock()  # one item's writes are atomic in DynamoDB

    def get_contact(self, phone: str) -> Contact | None:
        return self.contacts.get(phone)

    def _check(self, current: Contact | Message | None, expected_version: int | None, what: str) -> None:
        if (current.version if current else None) != expected_version:
            raise ConcurrentUpdateError(what)

    def _check_contact(
        self, contact: Contact, expected_version: int | None, counted: int = 0, tags_before: Sequence[str] | None = None
    ) -> None:
        current = self.contacts.get(contact.phone)
        self._check(current, expected_version, contact.phone)
        seen = contact.engagement.inbound_count - counted
        if current is not None and current.engagement.inbound_count != seen:
            raise ConcurrentUpdateError(contact.phone)  # a text was applied since the read
        # DynamoDB's tag index changes only with writes that say the tags change (tags_before):
        # any other write that changed them would leave the index behind.
        stored = set(current.tags) if current is not None else set()
        if tags_before is None and current is not None:
            assert set(contact.tags) == stored, "tags changed without tags_before: the tag index would drift"
        if tags_before is not None:
            assert set(tags_before) == stored, "tags_before is not what the contact had"

    def _mark(self, phone: str, sid: str, at: datetime) -> None:
        markers = self.applied.setdefault(phone, {})
        if sid in markers:
            raise TextAlreadyAppliedError(sid)
        markers[sid] = at
        for old in sorted(markers, key=markers.__getitem__)[: max(0, len(markers) - MARKERS_KEPT)]:
            del markers[old]

    def apply_text(self, change: InboundChange, created: Contact) -> Contact | None:
        sms = change.sms
        with self._lock:
            before = self.contacts.get(sms.phone)
            if sms.sid in self.applied.get(sms.phone, {}):
                raise TextAlreadyAppliedError(sms.sid)
            pending = before.pending_prompt if before else None
            live_question = pending is not None and pending.expires_at > sms.at and change.reads_question
            if before is not None and (live_question or before.deliverability.state != DeliverabilityState.OK):
                raise ProfileNeededError(sms.phone)
            self._mark(sms.phone, sms.sid, sms.at)
            after = apply_change(before or created, change)
            self.contacts[sms.phone] = after.model_copy(update={"version": before.version if before else 0})
            return before

    def put_message(self, message: Message) -> Message | None:
        with self._lock:
            earlier = self.messages.get((message.phone, message.sid))
            if earlier is None:
                self.messages[(message.phone, message.sid)] = message.model_copy(update={"version": 1})
            return earlier

    def add_trail(self, phone: str, consents: list[ConsentEvent], fields: list[FieldChange]) -> None:
        kept = self.trails.setdefault(phone, {})
        for event in consents:
            kept[(event.at, f"K#{event.message_sid or event.source}")] = event
        for change in fields:
            kept[(change.at, f"F#{change.field}#{change.message_sid}")] = change

    def trail(self, phone: str) -> ContactHistory:
        kept = [event for _, event in sorted(self.trails.get(phone, {}).items())]
        return ContactHistory(
            consents=[e for e in kept if isinstance(e, ConsentEvent)],
            fields=[e for e in kept if isinstance(e, FieldChange)],
        )

    def history(self, phone: str, before: datetime | None = None, newest: int | None = None) -> ContactHistory:
        found = self.trail(phone)
        found.messages = [m for (p, _), m in self.messages.items() if p == phone]
        found.entries = self.entries(phone)
        return found if newest is None else page_of(found, before, newest)

    def record_message(self, contact: Contact, expected_version: int | None, message: Message) -> Message | None:
        with self._lock:
            earlier = self.messages.get((message.phone, message.sid))
            if earlier is not None:
                return earlier
            self._check_contact(contact, expected_version)
            self.messages[(message.phone, message.sid)] = message.model_copy(update={"version": 1})
            self.contacts[contact.phone] = contact.model_copy(update={"version": (expected_version or 0) + 1})
            return None

    def get_message_and_contact(self, phone: str, sid: str) -> tuple[Message | None, Contact | None]:
        return self.messages.get((phone, sid)), self.contacts.get(phone)

    def record_receipt(
        self,
        message: Message,
        expected_message_version: int | None,
        contact: Contact | None,
        expected_contact_version: int | None,
    ) -> None:
        key = (message.phone, message.sid)
        with self._lock:
            self._check(self.messages.get(key), expected_message_version, message.sid)
            if contact is not None:
                self._check_contact(contact, expected_contact_version)
                self.contacts[contact.phone] = contact.model_copy(
                    update={"version": (expected_contact_version or 0) + 1}
                )
            self.messages[key] = message.model_copy(update={"version": (expected_message_version or 0) + 1})

    def save_contact(
        self,
        contact: Contact,
        expected_version: int | None,
        applied_sid: str = "",
        applied_at: datetime | None = None,
        tags_before: Sequence[str] | None = None,
    ) -> None:
        with self._lock:
            if applied_sid and applied_sid in self.applied.get(contact.phone, {}):
                raise TextAlreadyAppliedError(applied_sid)
            self._check_contact(contact, expected_version, counted=1 if applied_sid else 0, tags_before=tags_before)
            if applied_sid:
                self._mark(contact.phone, applied_sid, applied_at or contact.created_at)
            self.contacts[contact.phone] = contact.model_copy(update={"version": (expected_version or 0) + 1})

    def scan_contacts(self, segment: int, total_segments: int) -> Iterator[list[Contact]]:
        yield [c for i, c in enumerate(self.contacts.values()) if i % total_segments == segment]

    def get_contacts(self, phones: Sequence[str]) -> list[Contact]:
        return [self.contacts[phone] for phone in phones if phone in self.contacts]

    def tagged(self, tag: str, limit: int, after: str | None = None) -> tuple[list[Contact], str | None]:
        phones = sorted(p for p, c in self.contacts.items() if tag in c.tags and (after is None or p > after))
        page = phones[:limit]
        return self.get_contacts(page), page[-1] if len(phones) > limit else None

    def find_contacts(
        self, wanted: Callable[[Contact], bool], limit: int, after: str | None, budget: int, hint: str = ""
    ) -> tuple[list[Contact], str | None]:
        del hint  # the fake reads every profile it is given the budget for
        phones = sorted(p for p in self.contacts if after is None or p > after)
        found: list[Contact] = []
        for phone in phones[:budget]:
            if wanted(self.contacts[phone]):
                found.append(self.contacts[phone])
                if len(found) == limit:
                    return found, phone
        return found, phones[budget - 1] if len(phones) > budget else None

    def open_conversations(self, limit: int = 50) -> list[Contact]:
        def order(contact: Contact) -> tuple[int, datetime]:
            conversation = contact.conversation
            assert conversation is not None
            waiting = conversation.waiting_since
            return (0, waiting) if waiting else (1, conversation.last_inbound_at)

        return sorted((c for c in self.contacts.values() if c.conversation), key=order)[:limit]

    def add_entry(self, phone: str, entry: Entry) -> bool:
        if (phone, entry.id) in self.notes:
            return False
        self.notes[(phone, entry.id)] = entry
        return True

    def entries(self, phone: str) -> list[Entry]:
        return [entry for (p, _), entry in self.notes.items() if p == phone]

    def thread(self, phone: str, limit: int = 50) -> list[Message]:
        mine = [m for (p, _), m in self.messages.items() if p == phone]
        return sorted(mine, key=lambda m: (m.at, m.sid), reverse=True)[:limit]


class InMemoryCampaignStore:
    def __init__(self) -> None:
        self.campaigns: dict[str, Campaign] = {}

    def get(self, campaign_id: str) -> Campaign | None:
        return self.campaigns.get(campaign_id)

    def save(self, campaign: Campaign, expected_version: int | None) -> None:
        current = self.campaigns.get(campaign.id)
        if (current.version if current else None) != expected_version:
            raise ConcurrentUpdateError(campaign.id)
        self.campaigns[campaign.id] = campaign.model_copy(update={"version": (expected_version or 0) + 1})

    def list(self) -> list[Campaign]:
        return list(self.campaigns.values())


class StepClock:
    """A clock that moves forward a little on every reading."""

    def __init__(self, start: datetime | None = None, step: timedelta = timedelta(seconds=1)) -> None:
        self.current = start or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        self.step = step

    def now(self) -> datetime:
        self.current += self.step
        return self.current

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.current += timedelta(seconds=seconds)


class InMemoryRunStore:
    """RunStore in memory; the same contract tests hold it and DynamoRunStore to one behaviour."""

    def __init__(self, store: InMemoryConversationStore | None = None) -> None:
        self.conversations = store or InMemoryConversationStore()
        self.runs: dict[str, Run] = {}
        self.next_slot: dict[str, float] = {}
        self.decisions: dict[tuple[str, str], DecisionRecord] = {}
        self.holds: dict[tuple[datetime, int, str, str], Hold] = {}
        self.parked_holds: dict[tuple[str, str, datetime], Hold] = {}  # (run, phone, minute): a paused run's
        self.ledger: dict[tuple[str, str], dict[str, Any]] = {}
        self.marketing: dict[str, datetime] = {}  # phone -> when its marketing slot was reserved
        self.cursor: datetime | None = None
        self._lock = threading.RLock()

    def start_run(self, run: Run) -> bool:
        if run.id in self.runs:
            return False
        self.runs[run.id] = run
        return True

    def get_run(self, run_id: str) -> Run | None:
        return self.runs.get(run_id)

    def list_runs(self, campaign_id: str) -> list[Run]:
        mine = [run for run in self.runs.values() if run.campaign_id == campaign_id]
        return sorted(mine, key=lambda run: run.id, reverse=True)

    def _add(self, run: Run, counts: Mapping[str, int], **update: Any) -> Run:
        merged = dict(run.counts)
        for key, amount in counts.items():
            merged[key] = merged.get(key, 0) + amount
        self.runs[run.id] = run.model_copy(update={"counts": merged, **update})
        return self.runs[run.id]

    def finish_shard(self, run_id: str, shard: int, counts: Mapping[str, int]) -> bool:
        run = self.runs.get(run_id)
        if run is None or shard in run.shards_done:
            return False
        self._add(run, counts, shards_done=[*run.shards_done, shard])
        return True

    def add_counts(self, run_id: str, counts: Mapping[str, int]) -> None:
        if run_id in self.runs:
            self._add(self.runs[run_id], counts)

    def trip_breaker(self, run_id: str, reason: str) -> bool:
        run = self.runs.get(run_id)
        if run is None or run.breaker or run.resumed:
            return False
        self.runs[run_id] = run.model_copy(update={"breaker": reason})
        return True

    def clear_breaker(self, run_id: str) -> bool:
        run = self.runs.get(run_id)
        if run is None or not run.breaker:
            return False
        self.runs[run_id] = run.model_copy(update={"breaker": None, "resumed": True})
        return True

    def take_slot(self, run_id: str, interval_s: float, earliest: float) -> tuple[float, Run]:
        if run_id not in self.runs:
            raise LookupError(run_id)
        slot = max(earliest, self.next_slot.get(run_id, earliest))
        self.next_slot[run_id] = slot + interval_s
        return slot, self.runs[run_id]

    def record_decisions(self, records: list[DecisionRecord], holds: list[Hold]) -> None:
        for record in records:
            self.decisions[(record.phone, record.run_id)] = record
        for hold in holds:
            self.holds[(hold.minute, hold.shard, hold.run_id, hold.phone)] = hold

    def decisions_for(self, phone: str, limit: int = 20) -> list[DecisionRecord]:
        mine = [record for (p, _), record in self.decisions.items() if p == phone]
        return sorted(mine, key=lambda record: record.at, reverse=True)[:limit]

    def due_holds(self, minute: datetime, shard: int) -> list[Hold]:
        return [hold for key, hold in self.holds.items() if key[:2] == (minute, shard)]

    def release(self, holds: list[Hold]) -> None:
        for hold in holds:
            self.holds.pop((hold.minute, hold.shard, hold.run_id, hold.phone), None)

    def park(self, holds: list[Hold]) -> None:
        for hold in holds:
            self.parked_holds[(hold.run_id, hold.phone, hold.minute)] = replace(hold, paused=True)

    def parked(self, run_id: str) -> list[Hold]:
        return [hold for (run, *_), hold in self.parked_holds.items() if run == run_id]

    def unpark(self, holds: list[Hold]) -> None:
        for hold in holds:
            self.parked_holds.pop((hold.run_id, hold.phone, hold.minute), None)

    def claim(
        self,
        run_id: str,
        phone: str,
        now: datetime,
        lease_until: datetime,
        marketing_since: datetime | None = None,
        take_over: str | None = None,
        seen: Contact | None = None,
        body: str = "",
        request: str = "",
    ) -> Claim:
        with self._lock, self.conversations._lock:
            seen_entry = self._found(run_id, phone, now, take_over)
            if seen_entry.status != ClaimStatus.TAKEN:
                return seen_entry
            current = self.conversations.contacts.get(phone)
            if seen is not None and (
                current is None
                or (current.version, current.engagement.inbound_count) != (seen.version, seen.engagement.inbound_count)
            ):
                return Claim(ClaimStatus.CHANGED)  # a text or a profile write since the read (DynamoDB: version, in_n)
            if marketing_since is not None:
                reserved = self.marketing.get(phone)
                if current is None or (reserved is not None and reserved >= marketing_since):
                    raise MarketingTakenError(phone)
                self.marketing[phone] = now
            token = uuid.uuid4().hex
            self.ledger[(run_id, phone)] = {
                "state": LedgerState.SENDING,
                "attempt": token,
                "sending_at": now,
                "lease_until": lease_until,
                "body": body[:BODY_KEPT],
                "request": request,
            }
            return Claim(ClaimStatus.TAKEN, attempt=token)

    def _found(self, run_id: str, phone: str, now: datetime, take_over: str | None = None) -> Claim:
        return look(self.entry(run_id, phone), now, take_over)

    def entry(self, run_id: str, phone: str) -> LedgerEntry | None:
        with self._lock:
            entry = self.ledger.get((run_id, phone))
            if entry is None:
                return None
            return LedgerEntry(
                entry["state"], entry.get("attempt", ""), entry.get("sending_at"), entry.get("lease_until"),
                entry.get("body", ""), entry.get("sid", ""), entry.get("request", ""), entry.get("detail", ""),
            )  # fmt: skip

    def _own(self, run_id: str, phone: str, attempt: str | None) -> bool:
        entry = self.ledger.get((run_id, phone))
        if attempt is None:
            return entry is None or entry["state"] == LedgerState.RELEASED
        return entry is not None and entry["state"] == LedgerState.SENDING and entry["attempt"] == attempt

    def settle(
        self,
        run_id: str,
        phone: str,
        attempt: str | None,
        outcome: Outcome,
        record: DecisionRecord | None = None,
        detail: str = "",
        sid: str = "",
    ) -> bool:
        result = settlement(outcome, run_id)
        with self._lock:
            if not self._own(run_id, phone, attempt):
                return False
            entry = self.ledger.setdefault((run_id, phone), {"attempt": ""})
            entry.update(state=result.state, detail=detail, sid=sid, lease_until=None)
            if run_id in self.runs:
                self._add(self.runs[run_id], result.counts)
            if record is not None:
                self.decisions[(record.phone, record.run_id)] = record.model_copy(
                    update={"outcome": result.decision_outcome}
                )
            return True

    def release_marketing(self, phone: str, reserved_at: datetime) -> None:
        with self._lock:
            if self.marketing.get(phone) == reserved_at:
                del self.marketing[phone]

    def record_sent(
        self,
        contact: Contact,
        expected_contact_version: int,
        message: Message,
        expected_message_version: int | None,
        decision: DecisionRecord,
        attempt: str,
    ) -> None:
        store = self.conversations
        with self._lock, store._lock:
            if not self._own(decision.run_id, contact.phone, attempt):
                raise LostLeaseError(f"{decision.run_id} {contact.phone}")
            store._check_contact(contact, expected_contact_version)
            store._check(store.messages.get((message.phone, message.sid)), expected_message_version, message.sid)
            store.contacts[contact.phone] = contact.model_copy(update={"version": expected_contact_version + 1})
            store.messages[(message.phone, message.sid)] = message.model_copy(
                update={"version": (expected_message_version or 0) + 1}
            )
            self.ledger[(decision.run_id, contact.phone)].update(
                state=LedgerState.SENT, sid=message.sid, lease_until=None
            )
            self._add(self.runs[decision.run_id], settlement(Outcome.SENT).counts)
            self.decisions[(decision.phone, decision.run_id)] = decision

    def tick_cursor(self) -> datetime | None:
        return self.cursor

    def advance_cursor(self, old: datetime | None, new: datetime) -> bool:
        if self.cursor != old:
            return False
        self.cursor = new
        return True


class InMemoryQueue:
    def __init__(self) -> None:
        self.jobs: list[tuple[dict[str, Any], int]] = []  # (body, delay)

    def enqueue(self, jobs: list[dict[str, Any]], delay_s: int = 0) -> None:
        self.jobs.extend((job, delay_s) for job in jobs)

    def take(self) -> list[dict[str, Any]]:
        taken, self.jobs = [job for job, _ in self.jobs], []
        return taken


class FakeSender:
    """Answers as told, in order (then accepts); remembers what it was asked to send."""

    def __init__(self, clock: StepClock, answers: list[SendResult] | None = None) -> None:
        self.clock = clock
        self.answers = list(answers or [])
        self.sent: list[tuple[str, str, int, datetime]] = []
        self.accepted: list[tuple[str, str, datetime, str]] = []  # what Twilio would list: to, body, when, sid
        self.lookup_fails = False

    def send(self, to: str, body: str, valid_for_s: int) -> SendResult:
        self.sent.append((to, body, valid_for_s, self.clock.current))
        result = self.answers.pop(0) if self.answers else None
        if result is None:
            result = SendResult(SendOutcome.ACCEPTED, sid=f"SM{len(self.sent):032x}", from_number="+15005550006")
        went = result.outcome == SendOutcome.ACCEPTED or (result.outcome == SendOutcome.UNKNOWN and result.sid)
        if went:
            self.accepted.append((to, body, self.clock.current, result.sid or f"SM{len(self.sent):032x}"))
        return result

    def find_sent(self, to: str, body: str, since: datetime) -> str | None:
        if self.lookup_fails:
            raise LookupUnavailableError("Twilio did not answer the lookup")
        found = [sid for phone, text, at, sid in self.accepted if (phone, text) == (to, body) and at >= since]
        return found[-1] if found else None


class InMemoryPromptBook:
    def __init__(self) -> None:
        self.prompts: dict[str, Prompt] = {}

    def get(self, prompt_id: str) -> Prompt | None:
        return self.prompts.get(prompt_id) or default_prompts().get(prompt_id)

    def save(self, prompt: Prompt) -> None:
        self.prompts[prompt.id] = prompt

    def list(self) -> list[Prompt]:
        return sorted({**default_prompts(), **self.prompts}.values(), key=lambda p: p.id)
