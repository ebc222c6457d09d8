"""The tests' composition root on the fakes: a tick, planner, sender and stores
wired as bootstrap.py wires them in AWS, with a clock the test moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from chalicelib.adapters import table_layout as layout
from chalicelib.adapters.dynamodb_items import from_item
from chalicelib.adapters.dynamodb_links import DynamoLinkBook
from chalicelib.adapters.dynamodb_store import DynamoStoreBook
from chalicelib.domain.campaign import Audience, Campaign, Location
from chalicelib.domain.contact import ConsentEvent, ConsentState, Contact, Engagement, HomeLocation, TimeZone
from chalicelib.domain.inbound import BrandReplies
from chalicelib.domain.ledger import Fate, LedgerEntry
from chalicelib.domain.links import COUNTED
from chalicelib.domain.policy import PolicySettings
from chalicelib.domain.runs import BreakerSettings, Hold
from chalicelib.services import runs
from chalicelib.services.links import Shortener
from chalicelib.services.send_text import DEFAULT_TIMING, SendContext, SendJob, SendTiming
from chalicelib.services.sending import send_one
from tests.fakes import (
    FakeSender,
    InMemoryCampaignStore,
    InMemoryConversationStore,
    InMemoryPromptBook,
    InMemoryQueue,
    InMemoryRunStore,
    MemoryTable,
    StepClock,
    directory_of,
)

parse = datetime.fromisoformat
SEND_AT = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)  # 11:00 in London
SHARDS = 2
BASE_URL = "https://rapport.example"  # the service's own, for short links
REPLIES = BrandReplies(opt_out="bye", opt_in="hi", help="help")


@dataclass
class World:
    clock: StepClock = field(default_factory=lambda: StepClock(SEND_AT, step=timedelta(milliseconds=1)))
    table: MemoryTable = field(default_factory=MemoryTable)
    plan_queue: InMemoryQueue = field(default_factory=InMemoryQueue)
    send_queue: InMemoryQueue = field(default_factory=InMemoryQueue)
    breaker: BreakerSettings = field(default_factory=BreakerSettings)
    timing: SendTiming = DEFAULT_TIMING

    def __post_init__(self) -> None:
        self.store = InMemoryConversationStore(self.table)
        self.campaigns = InMemoryCampaignStore(self.table)
        self.runs = InMemoryRunStore(self.store)
        self.stores = DynamoStoreBook(self.table.client, self.table.name)
        self.directory = directory_of(self.store, self.clock)
        self.sender = FakeSender(self.clock)
        self.links = Shortener(DynamoLinkBook(self.table.client, self.table.name), BASE_URL, self.clock, COUNTED)

    def contact(self, phone: str, consent: ConsentState = ConsentState.OPTED_IN, **changes: object) -> Contact:
        created = SEND_AT - timedelta(days=30)
        contact = Contact(
            phone=phone,
            created_at=created,
            tags=["pizza"],
            consent_event=ConsentEvent(state=consent, source="import", at=created),
            time_zone=TimeZone(confirmed="Europe/London"),
            engagement=Engagement(last_inbound_at=created),
            home=HomeLocation(area="LS61AA", confirmed_at=created),
        ).model_copy(update=changes)
        self.store.save_contact(contact, None)
        return contact

    def campaign(self, **changes: object) -> Campaign:
        campaign = Campaign(
            id="cmp_leeds",
            name="2-for-1",
            message="Hi {first_name|there}, 2-for-1 tonight",
            audience=Audience(tags=["pizza"]),
            location=Location(name="Leeds", prefixes=["LS6"]),
            send_at=SEND_AT,
            messages_per_second=2,
            created_at=SEND_AT - timedelta(days=1),
            updated_at=SEND_AT - timedelta(days=1),
        ).model_copy(update=changes)
        self.campaigns.save(campaign, None)
        return campaign

    def started(self, phones: list[str], **campaign: object) -> list[dict[str, object]]:
        """The campaign to these contacts, its run started and planned: the send jobs."""
        self.campaign(**campaign)
        for phone in phones:
            self.contact(phone)
        self.tick()
        self.plan()
        return self.send_queue.take()

    def tick(self) -> runs.TickReport:
        return runs.tick(self.campaigns, self.runs, self.plan_queue, self.clock, "Europe/London", SHARDS)

    def plan(self) -> None:
        for job in self.plan_queue.take():
            if job["kind"] == runs.PLAN:
                runs.plan_shard(
                    job["run_id"],
                    job["shard"],
                    self.campaigns,
                    self.runs,
                    self.store,
                    self.send_queue,
                    self.clock,
                    PolicySettings(),
                    self.directory,
                )
            else:
                runs.release_holds(datetime.fromisoformat(job["minute"]), job["shard"], self.runs, self.send_queue)

    def ctx(self) -> SendContext:
        return SendContext(
            self.campaigns,
            self.runs,
            self.store,
            self.send_queue,
            self.sender,
            self.clock,
            PolicySettings(),
            "Pizza Co",
            InMemoryPromptBook(),
            self.directory,
            self.breaker,
            self.timing,
            links=self.links,
        )

    def send(self, jobs: list[dict[str, object]] | None = None) -> list[Fate]:
        taken = self.send_queue.take() if jobs is None else jobs
        return [
            send_one(
                SendJob.of(j),
                self.ctx(),
            )
            for j in taken
        ]

    def get_campaign(self, campaign_id: str = "cmp_leeds") -> Campaign:
        campaign = self.campaigns.get(campaign_id)
        assert campaign is not None, campaign_id
        return campaign

    def get_contact(self, phone: str) -> Contact:
        contact = self.store.get_contact(phone)
        assert contact is not None, phone
        return contact

    def ledger(self, run_id: str, phone: str) -> LedgerEntry:
        entry = self.runs.ledger.entry(run_id, phone)
        assert entry is not None, (run_id, phone)
        return entry

    def holds(self) -> list[Hold]:
        """The held texts filed by minute (pk H#<minute>#<shard>), as stored."""
        filed = [from_item(i) for i in self.table.items(lambda i: i["pk"]["S"].startswith(layout.HOLDS))]
        return [
            Hold(h["run_id"], h["campaign_id"], h["phone"], parse(h["until"]), parse(h["minute"]), paused=False)
            for h in filed
        ]

    def set_cursor(self, released_through: datetime) -> None:
        """The tick's cursor, as if the tick had released every minute through this one."""
        assert self.runs.holds.advance_cursor(self.runs.holds.cursor(), released_through)

    def received(self) -> list[str]:
        return [to for to, *_ in self.sender.sent]
