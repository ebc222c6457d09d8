"""Sending through the Twilio simulator with the real client, paced to the
sender's rate (the brand's own number; the campaign has no rate of its own)
by several sender processes at once (as
several Lambda containers would be), with the real sending code, each sender
taking jobs 10 at a time as the send Lambda's SQS batch: the achieved rate as
a ratio of the configured one, the most texts the simulator saw in any one
second, and DynamoDB calls per text.

Three rates. 10 and 1 per second: two senders against DynamoDB on moto
server. 50 per second: four senders against the DynamoDB stores on the
in-memory table of tests/memory_dynamodb.py, held in one store process that
every sender calls (so the pace and the ledger are shared), each DynamoDB call
taking `STORE_LATENCY_S` more, as a call to DynamoDB from Lambda would. moto
cannot serve that rate on two cores: it handles one request at a time, and
its TransactWriteItems deep-copies the whole table first (a text's record
takes 30-75 ms at the median at 10 per second here, up to 400 ms), during
which every other sender's contact read waits."""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.managers import BaseManager
from multiprocessing.synchronize import Barrier
from typing import Any

import boto3

from bench._support import CallCounter, Figure, leeds_offer, load, log, moto_server, population
from chalicelib.adapters.clock import SystemClock
from chalicelib.adapters.dynamodb_runs import DynamoRunStore
from chalicelib.adapters.dynamodb_store import (
    DynamoCampaignStore,
    DynamoConversationStore,
    DynamoPromptBook,
    DynamoStoreBook,
)
from chalicelib.adapters.twilio_sender import TwilioSender
from chalicelib.domain.campaign import Campaign
from chalicelib.domain.contact import Contact, TimeZone
from chalicelib.domain.ledger import Fate
from chalicelib.domain.policy import PolicySettings
from chalicelib.domain.runs import Run
from chalicelib.services.runs import plan_shard
from chalicelib.services.send_text import BatchReads, SendContext, SendJob
from chalicelib.services.sending import send_one
from chalicelib.services.stores import StoreDirectory
from local.schema import create_table
from local.twilio_sim import TwilioSimulator
from tests.conftest import daytime_zone, free_port
from tests.fakes import TABLE, InMemoryCampaignStore, InMemoryConversationStore, InMemoryRunStore, MemoryTable
from tests.memory_dynamodb import MemoryDynamoDB

ACCOUNT_SID = "AC" + "b" * 32
TOKEN = "bench-token"
STATUS_URL = ""  # no status callbacks: Twilio's do not run on the senders' CPU, the simulator's would here
STORE_LATENCY_S = 0.005  # each call to the shared table in memory, half on the way there, half back
WORK_DONE_S = 1.0  # a sender that finds no job for this long has finished
BATCH_SIZE = 10  # jobs a sender takes at once, as the send Lambda's SQS batch (entrypoints/jobs.py)
FAILED_JOB = "job failed"  # send_one raised (SQS would hand the job back after its visibility timeout)


@dataclass(frozen=True)
class Case:
    mps: float
    contacts: int  # four in five are in the audience
    senders: int
    table: str = ""  # on moto; none: the shared in-memory stores


AT_10 = Case(mps=10.0, contacts=50, senders=2, table="bench-send")  # 40 texts: four seconds of sending
AT_1 = Case(mps=1.0, contacts=15, senders=2, table="bench-send-1")  # 12 texts: eleven seconds
AT_50 = Case(mps=50.0, contacts=625, senders=4)  # 500 texts: ten seconds
AT_300 = Case(mps=300.0, contacts=3750, senders=10)  # 3,000 texts: ten seconds, ten senders as threads
TWILIO_ANSWER_S = 0.15  # the simulator's answer to each create, at 300 a second: Twilio's own take about this


@dataclass
class Sending:
    """What one case gave: every sender's outcomes and store calls, and the
    simulator's arrival time of each text."""

    outcomes: list[str]
    calls: Counter[str]
    times: list[float]

    def ratio(self, mps: float) -> float:
        return (len(self.times) - 1) / (self.times[-1] - self.times[0]) / mps

    def per_text(self) -> float:
        return sum(self.calls.values()) / len(self.times)

    def failed_jobs(self) -> int:
        return self.outcomes.count(FAILED_JOB)


class JobList:
    def __init__(self) -> None:
        self.jobs: list[dict[str, Any]] = []

    def enqueue(self, jobs: list[dict[str, Any]], delay_s: int = 0) -> None:
        assert delay_s == 0, "no retries expected from the simulator's happy path"
        self.jobs.extend(jobs)


def _sender_ctx(client: Any, table: str, sim_url: str, mps: float) -> SendContext:
    """The real DynamoDB stores on this sender's client, and the real Twilio client;
    the brand's own sender at `mps` (the campaign has no rate of its own)."""
    twilio = TwilioSender(ACCOUNT_SID, TOKEN, STATUS_URL, from_number="+15005550006", api_base_url=sim_url)
    clock = SystemClock()
    campaigns, runs, store = (
        DynamoCampaignStore(client, table),
        DynamoRunStore(client, table),
        DynamoConversationStore(client, table),
    )
    stores = StoreDirectory(DynamoStoreBook(client, table), clock, "Bench", mps)
    return SendContext(
        campaigns,
        runs,
        store,
        JobList(),
        twilio,
        clock,
        PolicySettings(),
        "Bench",
        DynamoPromptBook(client, table),
        stores,
    )


def _send_all(
    ctx: SendContext,
    campaign_id: str,
    work: multiprocessing.Queue[dict[str, Any]] | queue.Queue[dict[str, Any]],
    start: Barrier | threading.Barrier,
    reset: Callable[[], object],
) -> list[str]:
    """Warm up (the first store and Twilio calls of a process build their
    connections), wait for every sender, then send until the queue is empty,
    taking up to `BATCH_SIZE` jobs at a time (their campaign, run and contacts
    read once per batch, as in Lambda)."""
    ctx.campaigns.get(campaign_id)
    ctx.sender.find_sent("+447000000000", "warm-up", datetime.now(UTC))
    reset()
    start.wait()
    done = list[str]()
    while True:
        try:
            jobs = [work.get(timeout=WORK_DONE_S)]
        except queue.Empty:
            return done
        while len(jobs) < BATCH_SIZE:
            try:
                jobs.append(work.get_nowait())
            except queue.Empty:
                break
        batch = BatchReads.of(jobs)
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:  # the batch at once, as the send Lambda
            done += pool.map(_send_job, jobs, [ctx] * len(jobs), [batch] * len(jobs))


def _send_job(job: dict[str, Any], ctx: SendContext, batch: BatchReads) -> str:
    try:
        return send_one(SendJob.of(job), ctx, batch).value
    except Exception as error:  # counted (target 0), not retried within this run
        log(f"send: job failed: {type(error).__name__}: {error}")
        return FAILED_JOB


def _moto_sender(
    endpoint: str,
    table: str,
    sim_url: str,
    mps: float,
    work: multiprocessing.Queue[dict[str, Any]],
    results: multiprocessing.Queue[Any],
    start: Barrier,
) -> None:
    """One sending "container" on moto, in its own process: its own clients, stores and pace cache."""
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    counter = CallCounter(client)
    ctx = _sender_ctx(client, table, sim_url, mps)
    done = _send_all(ctx, "bench", work, start, counter.reset)
    client.close()
    log(f"send: calls by operation {dict(counter.by_operation)}")
    results.put((done, counter.by_operation))


# --- the shared in-memory table (50 per second) ------------------------------


_TABLE: list[MemoryTable] = []  # in the store process


def _shared_table() -> MemoryDynamoDB:
    """The one table in memory, made on first use. The store process answers
    each sender on its own thread: the table applies each call atomically, as
    DynamoDB does one item's writes (and one transaction)."""
    if not _TABLE:
        _TABLE.append(MemoryTable())
    return _TABLE[0].db


class Seeded:
    """Contacts loaded, the run started and planned, in the store process; its send jobs."""

    def __init__(self, contacts: list[Contact], campaign: Campaign, run_: Run) -> None:
        _shared_table()
        conversations = InMemoryConversationStore(_TABLE[0])
        campaigns, runs = InMemoryCampaignStore(_TABLE[0]), InMemoryRunStore(conversations)
        for contact in contacts:
            conversations.save_contact(contact, None)
        campaigns.save(campaign, None)
        runs.start_run(run_)
        self._planned = JobList()
        clock = SystemClock()
        stores = StoreDirectory(DynamoStoreBook(_TABLE[0].client, _TABLE[0].name), clock, "Bench", 1)
        plan_shard(run_.id, 0, campaigns, runs, conversations, self._planned, clock, PolicySettings(), stores)

    def jobs(self) -> list[dict[str, Any]]:
        return self._planned.jobs


class StoreServer(BaseManager):
    pass


StoreServer.register("table", callable=_shared_table)
StoreServer.register("seed", callable=Seeded)


class RemoteClient:
    """The DynamoDB client of a sender: each call goes to the table in the
    store process, `STORE_LATENCY_S` long plus the hop itself (about 0.2 ms),
    counted by operation as CallCounter counts a boto3 client's."""

    def __init__(self, proxy: Any, calls: Counter[str]) -> None:
        self._proxy, self._calls = proxy, calls

    def __getattr__(self, method: str) -> Any:
        target = getattr(self._proxy, method)

        def call(*args: Any, **kwargs: Any) -> Any:
            self._calls["".join(word.title() for word in method.split("_"))] += 1
            time.sleep(STORE_LATENCY_S / 2)
            try:
                return target(*args, **kwargs)
            finally:
                time.sleep(STORE_LATENCY_S / 2)

        return call


def _shared_sender(
    table: Any,
    sim_url: str,
    mps: float,
    work: multiprocessing.Queue[dict[str, Any]],
    results: multiprocessing.Queue[Any],
    start: Barrier,
) -> None:
    """One sending "container" on the shared table, in its own process: the
    real DynamoDB stores over a client whose calls cross to the store process."""
    calls: Counter[str] = Counter()
    client: Any = RemoteClient(table, calls)
    ctx = _sender_ctx(client, TABLE, sim_url, mps)
    done = _send_all(ctx, "bench", work, start, calls.clear)
    log(f"send: calls by operation {dict(calls)}")
    results.put((done, calls))


# --- running a case -----------------------------------------------------------------


def awake(count: int, now: datetime) -> list[Contact]:
    """The population, each in a zone where it is early afternoon now: quiet hours never hold a text here."""
    zone = TimeZone(confirmed=daytime_zone())
    return [contact.model_copy(update={"time_zone": zone}) for contact in population(count, now - timedelta(days=1))]


def _send(case: Case, jobs: list[dict[str, Any]], sim: TwilioSimulator, target: Any, args: tuple[Any, ...]) -> Sending:
    """Start the senders with the jobs queued, let them go at once, collect."""
    spawn = multiprocessing.get_context("spawn")
    work: multiprocessing.Queue[dict[str, Any]] = spawn.Queue()
    results: multiprocessing.Queue[tuple[list[str], Counter[str]]] = spawn.Queue()
    start = spawn.Barrier(case.senders + 1)
    for job in jobs:
        work.put(job)
    store = f"moto table {case.table}" if case.table else f"a shared table in memory at {STORE_LATENCY_S * 1000:g} ms"
    log(f"send: {len(jobs)} texts at {case.mps:g} per second, {case.senders} sender processes, {store}")
    sim.messages.clear()
    senders = [spawn.Process(target=target, args=(*args, work, results, start)) for _ in range(case.senders)]
    for process in senders:
        process.start()
    start.wait(timeout=120)
    answers: list[tuple[list[str], Counter[str]]] = []
    while len(answers) < len(senders):
        try:
            answers.append(results.get(timeout=1))
        except queue.Empty:
            dead = [process.exitcode for process in senders if process.exitcode]
            assert not dead, f"a sender died (exit codes {dead})"
    for process in senders:
        process.join()
    return _collected(case, jobs, sim, answers)


def _collected(
    case: Case, jobs: list[dict[str, Any]], sim: TwilioSimulator, answers: list[tuple[list[str], Counter[str]]]
) -> Sending:
    """Every text sent once (or its job counted failed), as the simulator saw them."""
    outcomes = [outcome for done, _ in answers for outcome in done]
    sent, failed = outcomes.count(Fate.SENT), outcomes.count(FAILED_JOB)
    assert sent + failed == len(jobs) == case.contacts * 4 // 5 and sent == len(sim.messages), Counter(outcomes)
    times = sorted(message.created.timestamp() for message in sim.messages.values())
    return Sending(outcomes, sum((calls for _, calls in answers), Counter()), times)


def _in_one_process(case: Case, sim: TwilioSimulator, sim_url: str) -> Sending:
    """The senders as threads of this process (each sending its batches at once,
    as the send Lambda does), over the DynamoDB stores on a table in memory here,
    each call `STORE_LATENCY_S` long; the simulator answering in `TWILIO_ANSWER_S`."""
    now = datetime.now(UTC)
    table = MemoryTable()
    conversations = InMemoryConversationStore(table)
    campaigns, runs = InMemoryCampaignStore(table), InMemoryRunStore(conversations)
    for contact in awake(case.contacts, now):
        conversations.save_contact(contact, None)
    campaigns.save(leeds_offer(now, location=None), None)
    runs.start_run(Run(id="bench@1", campaign_id="bench", scheduled_for=now, started_at=now, shards=1))
    planned = JobList()
    stores = StoreDirectory(DynamoStoreBook(table.client, table.name), SystemClock(), "Bench", case.mps)
    plan_shard("bench@1", 0, campaigns, runs, conversations, planned, SystemClock(), PolicySettings(), stores)
    work: queue.Queue[dict[str, Any]] = queue.Queue()
    for job in planned.jobs:
        work.put(job)
    start = threading.Barrier(case.senders + 1)
    answers: list[tuple[list[str], Counter[str]]] = []

    def sender() -> None:
        calls: Counter[str] = Counter()
        ctx = _sender_ctx(RemoteClient(table.db, calls), table.name, sim_url, case.mps)
        answers.append((_send_all(ctx, "bench", work, start, calls.clear), calls))

    log(f"send: {len(planned.jobs)} texts at {case.mps:g} per second, {case.senders} sender threads in one process")
    sim.messages.clear()
    sim.answer_delay_s = TWILIO_ANSWER_S
    threads = [threading.Thread(target=sender) for _ in range(case.senders)]
    try:
        for thread in threads:
            thread.start()
        start.wait(timeout=120)
        for thread in threads:
            thread.join()
    finally:
        sim.answer_delay_s = 0.0
    return _collected(case, planned.jobs, sim, answers)


def _on_moto(case: Case, endpoint: str, sim: TwilioSimulator, sim_url: str) -> Sending:
    now = datetime.now(UTC)
    setup = boto3.client("dynamodb", endpoint_url=endpoint)
    create_table(setup, case.table)
    load(setup, case.table, awake(case.contacts, now))
    campaign = leeds_offer(now, location=None)
    DynamoCampaignStore(setup, case.table).save(campaign, None)
    run_ = Run(id="bench@1", campaign_id="bench", scheduled_for=now, started_at=now, shards=1)
    DynamoRunStore(setup, case.table).start_run(run_)
    jobs = JobList()
    plan_shard("bench@1", 0, DynamoCampaignStore(setup, case.table), DynamoRunStore(setup, case.table),
               DynamoConversationStore(setup, case.table), jobs, SystemClock(), PolicySettings(),
               StoreDirectory(DynamoStoreBook(setup, case.table), SystemClock(), "Bench", 1))  # fmt: skip
    setup.close()
    return _send(case, jobs.jobs, sim, _moto_sender, (endpoint, case.table, sim_url, case.mps))


def _on_shared_stores(case: Case, sim: TwilioSimulator, sim_url: str) -> Sending:
    now = datetime.now(UTC)
    campaign = leeds_offer(now, location=None)
    run_ = Run(id="bench@1", campaign_id="bench", scheduled_for=now, started_at=now, shards=1)
    with StoreServer(ctx=multiprocessing.get_context("spawn")) as server:
        contacts = awake(case.contacts, now)
        jobs = server.seed(contacts, campaign, run_).jobs()  # type: ignore[attr-defined]
        return _send(case, jobs, sim, _shared_sender, (server.table(), sim_url, case.mps))  # type: ignore[attr-defined]


def max_in_one_second(times: Iterable[float]) -> int:
    """The most sends in any window [t, t + 1 s), windows starting at each send."""
    ordered = sorted(times)
    most, end = 0, 0
    for first, start in enumerate(ordered):
        while end < len(ordered) and ordered[end] < start + 1:
            end += 1
        most = max(most, end - first)
    return most


def run() -> list[Figure]:
    sim = TwilioSimulator(ACCOUNT_SID, TOKEN, webhook_base_url="http://127.0.0.1:9", callback_delay_s=0.01)
    server = sim.serve("127.0.0.1", sim_port := free_port())
    sim_url = f"http://127.0.0.1:{sim_port}"
    try:
        with moto_server() as endpoint:
            at_10 = _on_moto(AT_10, endpoint, sim, sim_url)
            at_1 = _on_moto(AT_1, endpoint, sim, sim_url)
        at_50 = _on_shared_stores(AT_50, sim, sim_url)
        at_300 = _in_one_process(AT_300, sim, sim_url)
    finally:
        server.shutdown()
    shared = f"{AT_50.senders} senders, a table in memory at {STORE_LATENCY_S * 1000:g} ms a call"
    return [
        ("send.mps_ratio", at_10.ratio(AT_10.mps), "x"),
        ("send.max_in_one_second", max_in_one_second(at_10.times), f"texts (MPS {AT_10.mps:g})"),
        ("send.ddb_calls_per_text", at_10.per_text(), "calls"),
        ("send.mps_ratio_at_1", at_1.ratio(AT_1.mps), f"x ({AT_1.senders} senders, moto)"),
        ("send.max_in_one_second_at_1", max_in_one_second(at_1.times), f"texts (MPS {AT_1.mps:g})"),
        ("send.mps_ratio_at_50", at_50.ratio(AT_50.mps), f"x ({shared})"),
        ("send.max_in_one_second_at_50", max_in_one_second(at_50.times), f"texts (MPS {AT_50.mps:g})"),
        ("send.ddb_calls_per_text_at_50", at_50.per_text(), "calls"),
        ("send.mps_ratio_at_300", at_300.ratio(AT_300.mps), f"x ({AT_300.senders} sender threads, one process)"),
        ("send.max_in_one_second_at_300", max_in_one_second(at_300.times), f"texts (MPS {AT_300.mps:g})"),
        ("send.failed_jobs", sum(case.failed_jobs() for case in (at_10, at_1, at_50, at_300)), "jobs (target 0)"),
    ]
