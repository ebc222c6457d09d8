"""The interfaces use cases need; adapters and test fakes implement them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from chalicelib.domain.campaign import Campaign
from chalicelib.domain.contact import ConsentEvent, Contact, FieldChange
from chalicelib.domain.double_opt_in import ConsentText
from chalicelib.domain.errors import RapportError
from chalicelib.domain.inbound import InboundChange
from chalicelib.domain.ledger import Claim, Fate, LedgerEntry
from chalicelib.domain.links import Link
from chalicelib.domain.messages import Message
from chalicelib.domain.orders import OrderState, OrderText
from chalicelib.domain.prompts import Prompt
from chalicelib.domain.reasons import FreeTextAnswer
from chalicelib.domain.reorder import ReorderRequest
from chalicelib.domain.runs import DecisionRecord, Hold, Run
from chalicelib.domain.saved_replies import SavedReply
from chalicelib.domain.stores import Store
from chalicelib.domain.timeline import ContactHistory, Entry


@dataclass(frozen=True)
class Write:
    """One item's write with its condition, as a repository builds it; a use case
    only hands it to a unit of work. `refused`: what a refusal means (the item as
    it was -> the error to raise; None: ConcurrentUpdateError)."""

    op: Any  # the store's own form (DynamoDB: one TransactWriteItems entry)
    refused: Callable[[dict[str, Any]], Exception] | None = None


class UnitOfWork(Protocol):
    """Writes registered by one use case, committed together: all or nothing."""

    def add(self, *writes: Write) -> None: ...

    def commit(self) -> None:
        """Send them (one write: a single conditional write; more: one transaction).
        A refused write raises its own error (LostLeaseError, TextAlreadyAppliedError...)
        or ConcurrentUpdateError; nothing is written then."""
        ...


class MessageLog(Protocol):
    """A contact's messages, each under its Twilio sid."""

    def put(self, message: Message) -> Message | None:
        """Store a new message on its own; returns the one already stored under
        its sid (nothing written), or None."""
        ...

    def get(self, phone: str, sid: str) -> Message | None:
        """The message under that sid, if stored (an eventually consistent read: a
        text delivered twice at once is caught by the profile's marker instead)."""
        ...

    def with_contact(self, phone: str, sid: str) -> tuple[Message | None, Contact | None]:
        """The message under that sid and its contact, read together."""
        ...

    def thread(self, phone: str, limit: int = 50) -> list[Message]:
        """The contact's messages, newest first."""
        ...

    def saved(self, message: Message, expected_version: int | None) -> Write:
        """The message written over `expected_version` (None: it must not exist yet)."""
        ...


class Timeline(Protocol):
    """What else is kept about a contact: consent changes, answered fields, notes, interactions."""

    def add_trail(self, phone: str, consents: list[ConsentEvent], fields: list[FieldChange]) -> None:
        """Keep consent changes and answered fields, each as its own record (idempotent)."""
        ...

    def trail(self, phone: str) -> ContactHistory:
        """Consent changes and answered fields only, each oldest first."""
        ...

    def history(self, phone: str, before: datetime | None = None, newest: int | None = None) -> ContactHistory:
        """Messages, notes and interactions, consent changes and answered fields: all of them.
        With `newest` (a page of the timeline): of messages, consent changes and answered
        fields, each one at `before` and the `newest` + 1 of each kind before it (all when
        fewer; `before` None: the newest); notes and interactions whole."""
        ...

    def trailed(self, phone: str, event: ConsentEvent) -> Write:
        """One consent change kept, for a unit of work (idempotent: its key is its time and sid)."""
        ...

    def add_entry(self, phone: str, entry: Entry) -> bool:
        """Store a note or interaction; False when one with its id is already there."""
        ...

    def added(self, phone: str, entry: Entry, already: Callable[[dict[str, Any]], Exception]) -> Write:
        """The entry, for a unit of work: refused with `already(item)` when its id is taken."""
        ...

    def entries(self, phone: str) -> list[Entry]: ...


class AnswerBook(Protocol):
    """Answers in the customers' own words, listed by prompt, with their reasons."""

    def added(self, answer: FreeTextAnswer) -> list[Write]:
        """It, and its first reason counted, for a unit of work (refused when kept already)."""
        ...

    def page(
        self, prompt_id: str, reason: str | None, cursor: str | None, limit: int
    ) -> tuple[list[FreeTextAnswer], str | None]:
        """Newest first; with `reason`, those giving it. The cursor for the next page, or None."""
        ...

    def counts(self, prompt_id: str) -> dict[str, int]: ...


class OrderBook(Protocol):
    """Each customer's orders, one record per order (domain/orders.py)."""

    def get(self, phone: str, order_id: str) -> OrderState | None: ...

    def saved(self, phone: str, order: OrderState, expected_version: int | None) -> Write:
        """The order's state, over the version read (None: a new order; else ConcurrentUpdateError)."""
        ...


class LinkBook(Protocol):
    """Each recipient's short links, by token (domain/links.py)."""

    def add(self, links: Sequence[Link]) -> None:
        """Keep new links (a token taken already is refused: ConcurrentUpdateError)."""
        ...

    def get(self, token: str) -> Link | None: ...

    def clicked(self, token: str, at: datetime) -> Write:
        """The click noted, for a unit of work: refused (LinkClickedError) unless it is the
        link's first inside its counting window."""
        ...


# A number's STOP kept through its erasure (services/personal.py), or None: a
# contact made anew for a number takes it first, so nothing texts it again.
Remembered = Callable[[str], ConsentEvent | None]


def _nothing_remembered(_phone: str) -> ConsentEvent | None:
    return None


NOTHING_REMEMBERED: Remembered = _nothing_remembered


class ConsentTextBook(Protocol):
    """The words consent was asked with, by version (domain/double_opt_in.py)."""

    def get(self, text_version: str) -> ConsentText | None: ...

    def add(self, text: ConsentText) -> None:
        """Keep a new version; ConcurrentUpdateError when it is kept already."""
        ...

    def list(self) -> list[ConsentText]: ...


@dataclass
class HeldAbout:
    """Everything held that names one number: its profile, and the rest by kind
    (messages, consent_history, orders, decisions, free_text_answers, ...), each
    item as a JSON document."""

    phone: str
    profile: dict[str, Any] | None = None
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


class PersonalData(Protocol):
    """A number's data, found wherever the table keeps it (docs/privacy.md).
    `prompt_ids`: every question that could have kept a free-text answer."""

    def held(self, phone: str, prompt_ids: Sequence[str]) -> HeldAbout: ...

    def erase(self, phone: str, prompt_ids: Sequence[str], suppress: str | None, at: datetime) -> int:
        """Delete every item that names the number; with `suppress` (its keyed hash),
        keep that first, stamped `at`. Returns how many items were deleted."""
        ...

    def suppressed_since(self, digest: str) -> datetime | None:
        """When the number of this keyed hash was erased while opted out, if it was."""
        ...

    def any_suppressed(self) -> bool:
        """Whether any number was ever erased while opted out (until then, none is remembered)."""
        ...


class ConversationStore(Protocol):
    """Contacts, with their messages and timeline beside them, and the unit of
    work that writes any of them together."""

    @property
    def messages(self) -> MessageLog: ...

    @property
    def orders(self) -> OrderBook: ...

    @property
    def answers(self) -> AnswerBook: ...

    @property
    def timeline(self) -> Timeline: ...

    def unit(self) -> UnitOfWork: ...

    def get_contact(self, phone: str) -> Contact | None: ...

    def apply_text(self, change: InboundChange, created: Contact) -> Contact | None:
        """Apply one inbound text to its contact in one write, without reading it
        first (`created`: the contact when none exists yet). Texts applied together
        never invalidate each other; a consent older than the recorded one is
        left out (the latest instruction stands). Returns the contact as the text found it (None:
        it created it). Raises TextAlreadyAppliedError for a text applied before,
        ProfileNeededError when its effect depends on the profile (a live question
        would read it as an answer; a number to mark reachable again)."""
        ...

    def save_contact(
        self,
        contact: Contact,
        expected_version: int | None,
        applied_sid: str = "",
        applied_at: datetime | None = None,
        tags_before: Sequence[str] | None = None,
    ) -> None:
        """The writes of `saved`, committed on their own."""
        ...

    def saved(
        self,
        contact: Contact,
        expected_version: int | None,
        applied_sid: str = "",
        applied_at: datetime | None = None,
        tags_before: Sequence[str] | None = None,
    ) -> Sequence[Write]:
        """Create (expected_version None) or replace the contact; refused
        (ConcurrentUpdateError) when its version is not the expected one or a text
        was applied since the read. `applied_sid`: the inbound text this write
        applies (counted once; a second time is refused with TextAlreadyAppliedError).
        `tags_before`: the tags the contact had when read, given by a write that
        changes them, so that the tag index changes with the profile (a new
        contact's tags are indexed without it)."""
        ...

    def get_contacts(self, phones: Sequence[str]) -> list[Contact]:
        """The contacts of these numbers that exist, in the order asked."""
        ...

    def tagged(self, tag: str, limit: int, after: str | None = None) -> tuple[list[Contact], str | None]:
        """Up to `limit` contacts with the tag, in phone order, after the number `after`
        (from an index: never a scan); and the number to carry on after, None when done."""
        ...

    def find_contacts(
        self, wanted: Callable[[Contact], bool], limit: int, after: str | None, budget: int, hint: str = ""
    ) -> tuple[list[Contact], str | None]:
        """A bounded scan: reads at most `budget` contacts after `after` (in the store's
        own order) and answers those `wanted`, up to `limit`, and the number to carry on
        after (None: every contact was read). `hint`: text every wanted contact's stored
        profile contains, which a store may filter on first."""
        ...

    def scan_contacts(self, segment: int, total_segments: int) -> Iterator[list[Contact]]:
        """Every contact in one segment of the table, a page at a time (planning; the one-off consent repair)."""
        ...

    def open_conversations(self, limit: int = 50) -> list[Contact]:
        """Contacts with an open conversation: waiting longest first, then answered ones."""
        ...


class CampaignStore(Protocol):
    def get(self, campaign_id: str) -> Campaign | None: ...

    def save(self, campaign: Campaign, expected_version: int | None) -> None:
        """ConcurrentUpdateError when the stored version is not the expected one."""
        ...

    def saved(self, campaign: Campaign, expected_version: int | None) -> Write:
        """The write `save` makes, for a unit of work."""
        ...

    def list(self) -> list[Campaign]: ...


class HoldBook(Protocol):
    """What each run decided per contact, the texts it held, and the tick's cursor over them."""

    def decided(self, record: DecisionRecord) -> Write:
        """The decision recorded (a replay overwrites it with the same)."""
        ...

    def record(self, records: list[DecisionRecord], holds: list[Hold]) -> None:
        """Store decisions and held messages in batches (a replay overwrites with the same)."""
        ...

    def decisions_for(self, phone: str, limit: int | None = 20) -> list[DecisionRecord]:
        """The contact's latest decisions, newest first (None: all it has kept)."""
        ...

    def due(self, minute: datetime, shard: int) -> Iterator[list[Hold]]:
        """The texts filed under that minute and shard, a page (up to 1 MB) at a time."""
        ...

    def release(self, holds: list[Hold]) -> None:
        """Forget held messages (they have been queued again)."""
        ...

    def park(self, holds: list[Hold]) -> None:
        """Note texts held because their run is paused under the run (they stay filed by minute too)."""
        ...

    def parked(self, run_id: str) -> list[Hold]:
        """The run's texts held for its pause, each as it was filed (its minute)."""
        ...

    def unpark(self, holds: list[Hold]) -> None:
        """Forget those notes (a resume has filed the texts again)."""
        ...

    def cursor(self) -> datetime | None:
        """The last minute whose held messages have been released."""
        ...

    def advance_cursor(self, old: datetime | None, new: datetime) -> bool: ...


class Ledger(Protocol):
    """One entry per text: at most one send per run (or per Idempotency-Key)."""

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
        unpaused: bool = False,
    ) -> Claim:
        """Mark the contact's entry for the run `sending`, with a lease, just before
        the Twilio call: taken when there is none, it was released, or (with
        `take_over`, the attempt found stale and reconciled) a dead sender's.
        `seen`: the contact as the decision read it; the claim is refused (CHANGED,
        nothing written) when it is no longer stored so (an inbound text or a
        profile write since, or gone). `marketing_since`: also reserve the
        contact's marketing slot, refused (MarketingTakenError) when another text
        took it after that time. The entry's state is checked first, then `seen`.
        `body`: the text about to be sent, kept on the entry (its first BODY_KEPT
        characters) for whoever finds it stale. A refused claim says what it found
        (domain/ledger.py `found`): STALE_SENDING with the dead sender's attempt,
        sending_since and body; BUSY with lease_until while another sender holds it.
        `run_id` may also name a conversation text (domain/ledger.py `conversation_text`),
        whose `request` (its request's hash) is kept on the entry. `unpaused`: refused
        (PAUSED, nothing written) when the run's breaker has tripped."""
        ...

    def entry(self, run_id: str, phone: str) -> LedgerEntry | None:
        """The entry as stored (one consistent read), None when there is none. Only for
        a refused settle, and a conversation text's request seen again."""
        ...

    def settle(
        self,
        run_id: str,
        phone: str,
        attempt: str | None,
        outcome: Fate,
        record: DecisionRecord | None = None,
        detail: str = "",
        sid: str = "",
    ) -> bool:
        """End (or give back) one attempt, in one write: the entry's state (with
        Twilio's `sid` when given), the run's counts and the recorded decision. `attempt`: the claim this sender holds
        (None: it holds none, and the entry is settled only if nobody is sending).
        False when that no longer holds: nothing is written."""
        ...

    def release_marketing(self, phone: str, reserved_at: datetime) -> None:
        """Give back a marketing slot this sender reserved and did not use."""
        ...

    def sent(self, run_id: str, phone: str, attempt: str, sid: str) -> Write:
        """The entry settled sent with Twilio's `sid`, if this sender still holds
        `attempt`; refused with LostLeaseError when another sender took it over."""
        ...


class StoreBook(Protocol):
    """The brand's stores (branches), retired ones included."""

    def get(self, store_id: str) -> Store | None: ...

    def save(self, store: Store, expected_version: int | None) -> None:
        """None: a new one (ConcurrentUpdateError if the id exists); else only over that version."""
        ...

    def list(self) -> list[Store]: ...


class SenderPace(Protocol):
    """The pace of each sender (a store's number or Messaging Service), shared by every text from it."""

    def take_slot(self, sender: str, interval_s: float, earliest: float) -> float:
        """Reserve the sender's next send time (epoch seconds, >= earliest, `interval_s`
        after the previous one from this sender, whichever campaign or sender process took it)."""
        ...


class OrderTextBook(Protocol):
    """The texts sent on order events, one per event type."""

    def get(self, event_type: str) -> OrderText | None: ...

    def save(self, text: OrderText, expected_version: int | None) -> None:
        """None: a new one (ConcurrentUpdateError if the type has one); else only over that version."""
        ...

    def list(self) -> list[OrderText]: ...


class RunStore(Protocol):
    """Runs and their counts and pace, with their decisions and holds, the ledger and
    the senders' paces beside them."""

    @property
    def holds(self) -> HoldBook: ...

    @property
    def ledger(self) -> Ledger: ...

    @property
    def senders(self) -> SenderPace: ...

    def start_run(self, run: Run) -> bool:
        """Create the run; False when it already exists."""
        ...

    def get_run(self, run_id: str) -> Run | None: ...

    def list_runs(self, campaign_id: str, since: datetime | None = None) -> list[Run]:
        """The campaign's newest runs (twenty), newest first; with `since`, all those scheduled since then."""
        ...

    def finish_shard(
        self, run_id: str, shard: int, counts: Mapping[str, int], planned: Mapping[str, int] | None = None
    ) -> bool:
        """Add a planned shard's decision counts, and its texts by cell (`planned`), once;
        False when they were already added."""
        ...

    def add_counts(self, run_id: str, counts: Mapping[str, int], phone: str = "", cell: str | None = None) -> None:
        """Counts added to the run, and to the cell (store and variant) of its text to `phone`."""
        ...

    def cells(self, run_id: str) -> dict[str, dict[str, int]]:
        """The run's counts by cell (`<store>/<variant>`), the texts planned among them."""
        ...

    def unit(self) -> UnitOfWork: ...

    def tripped(self, run_id: str, reason: str) -> Write:
        """Why the breaker paused the run; refused with RunTrippedError when it had
        tripped already, or an operator resumed it since (the breaker trips a run once)."""
        ...

    def cleared(self, run_id: str) -> Write:
        """Forget why the breaker paused the run: an operator resumed it, and the breaker
        leaves this run alone from then on. Refused (ConcurrentUpdateError) when it had not tripped."""
        ...

    def take_slot(self, run_id: str, interval_s: float, earliest: float) -> tuple[float, Run]:
        """Reserve the next send time (epoch seconds, >= earliest, `interval_s` after the
        previous one across all senders); the run as it stands (its breaker)."""
        ...

    def counted(self, run_id: str, phone: str, counts: Mapping[str, int], cell: str | None = None) -> Sequence[Write]:
        """Settled counts added to the run and its cell (none for no counts)."""
        ...


class PromptBook(Protocol):
    """The questions that can be asked: the shipped defaults and the operators' own."""

    def get(self, prompt_id: str) -> Prompt | None: ...

    def save(self, prompt: Prompt) -> None: ...

    def list(self) -> list[Prompt]: ...


class SavedReplyBook(Protocol):
    """The operators' saved replies (one small shelf of documents)."""

    def get(self, doc_id: str) -> SavedReply | None: ...

    def save(self, doc_id: str, doc: SavedReply, expected_version: int | None) -> None:
        """None: a new one (ConcurrentUpdateError if the id exists); else only over that
        version (ConcurrentUpdateError when it moved)."""
        ...

    def delete(self, doc_id: str) -> SavedReply | None:
        """The one deleted, or None when there was none."""
        ...

    def list(self) -> list[SavedReply]: ...

    def count(self) -> int: ...


class OrderingUnavailableError(RapportError):
    """The ordering system could not answer now (down, timed out, 408, 429, 5xx): ask again later."""


class OrderingRefusedError(RapportError):
    """The ordering system answered that it will not place the order (another 4xx, or no message)."""


class OrderingSystem(Protocol):
    """The brand's ordering system, behind ORDER_WEBHOOK_URL (docs/stores-and-orders.md)."""

    def place(self, request: ReorderRequest) -> str:
        """The message its answer gives the customer (a pay link, say). The same
        request (its idempotency key) again must not order twice."""
        ...


class JobQueue(Protocol):
    def enqueue(self, jobs: list[dict[str, Any]], delay_s: int = 0) -> None: ...


class SendOutcome(StrEnum):
    ACCEPTED = "accepted"
    RETRY = "retry"  # 429, 5xx, or no connection: nothing went; try again later
    REJECTED = "rejected"  # Twilio refused it (a 4xx with an error code)
    UNKNOWN = "unknown"  # sent, but no answer: it may have gone


@dataclass(frozen=True)
class SendResult:
    outcome: SendOutcome
    sid: str | None = None
    error_code: int | None = None
    detail: str = ""
    from_number: str | None = None  # the number Twilio sent from


class Sender(Protocol):
    def send(self, to: str, body: str, valid_for_s: int, origin: str | None = None) -> SendResult:
        """Send from `origin`: a store's number (E.164) or Messaging Service SID; None: the brand's own."""
        ...

    def find_sent(self, to: str, body: str, since: datetime) -> str | None:
        """The sid of a message with this body Twilio took for `to` since then, or None.
        Raises LookupUnavailableError when Twilio cannot be asked."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None:
        """Wait (no-op for zero or less)."""
        ...
