"""Sending through the Twilio simulator with the real client, paced to the
campaign's messages per second by two senders at once (as two Lambda
containers would be), against DynamoDB on moto server: the achieved rate as a
ratio of the configured one, the most texts the simulator saw in any one
second, and DynamoDB calls per text."""

from __future__ import annotations

import multiprocessing
import queue
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from bench._support import CallCounter, Figure, leeds_offer, load, log, moto_server, population
from chalicelib.adapters.clock import SystemClock
from chalicelib.adapters.dynamodb_runs import DynamoRunStore
from chalicelib.adapters.dynamodb_store import DynamoCampaignStore, DynamoConversationStore, DynamoPromptBook
from chalicelib.adapters.twilio_sender import TwilioSender
from chalicelib.domain.policy import PolicySettings, Purpose
from chalicelib.domain.runs import Run
from chalicelib.services.runs import plan_shard
from chalicelib.services.sending import BatchReads, SendContext, SendJob, Sent, send_one
from local.schema import create_table
from local.twilio_sim import TwilioSimulator
from tests.conftest import free_port

MPS = 10.0
CONTACTS = 50  # 40 in the audience: four seconds of sending
SENDERS = 2
TABLE = "bench-send"
ACCOUNT_SID = "AC" + "b" * 32
TOKEN = "bench-token"


class JobList:
    def __init__(self) -> None:
        self.jobs: list[dict[str, Any]] = []

    def enqueue(self, jobs: list[dict[str, Any]], delay_s: int = 0) -> None:
        assert delay_s == 0, "no retries expected from the simulator's happy path"
        self.jobs.extend(jobs)


def sender(
    endpoint: str, sim_url: str, work: multiprocessing.Queue[dict[str, Any]], results: multiprocessing.Queue[Any]
) -> None:
    """One sending "container", in its own process: its own clients, stores and pace cache."""
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    counter = CallCounter(client)
    ctx = SendContext(
        DynamoCampaignStore(client, TABLE), DynamoRunStore(client, TABLE), DynamoConversationStore(client, TABLE),
        JobList(),
        TwilioSender(ACCOUNT_SID, TOKEN, "http://127.0.0.1:9/twilio/status", from_number="+15005550006",
                     api_base_url=sim_url),
        SystemClock(), PolicySettings(), "Bench", DynamoPromptBook(client, TABLE),
    )  # fmt: skip
    batch, done = BatchReads(), []
    while True:
        try:
            job = work.get(timeout=1)
        except queue.Empty:
            break
        done.append(send_one(SendJob(job["run_id"], job["campaign_id"], job["phone"]), ctx, batch).value)
    client.close()
    log(f"send: calls by operation {dict(counter.by_operation)}")
    results.put((done, counter.calls))


def max_in_one_second(times: list[float]) -> int:
    """The most sends in any window [t, t + 1 s), windows starting at each send."""
    return max(sum(1 for other in times if start <= other < start + 1) for start in times)


def run() -> list[Figure]:
    now = datetime.now(UTC)
    sim = TwilioSimulator(ACCOUNT_SID, TOKEN, webhook_base_url="http://127.0.0.1:9", callback_delay_s=0.01)
    server = sim.serve("127.0.0.1", sim_port := free_port())
    with moto_server() as endpoint:
        setup = boto3.client("dynamodb", endpoint_url=endpoint)
        create_table(setup, TABLE)
        load(setup, TABLE, population(CONTACTS, now - timedelta(days=1)))
        campaign = leeds_offer(now, purpose=Purpose.TRANSACTIONAL, location=None, messages_per_second=MPS)
        DynamoCampaignStore(setup, TABLE).save(campaign, None)
        run_ = Run(id="bench@1", campaign_id="bench", scheduled_for=now, started_at=now, shards=1)
        DynamoRunStore(setup, TABLE).start_run(run_)
        jobs = JobList()
        plan_shard("bench@1", 0, DynamoCampaignStore(setup, TABLE), DynamoRunStore(setup, TABLE),
                   DynamoConversationStore(setup, TABLE), jobs, SystemClock(), PolicySettings())  # fmt: skip
        spawn = multiprocessing.get_context("spawn")
        work: multiprocessing.Queue[dict[str, Any]] = spawn.Queue()
        results: multiprocessing.Queue[tuple[list[str], int]] = spawn.Queue()
        for job in jobs.jobs:
            work.put(job)
        log(f"send: {len(jobs.jobs)} texts at {MPS:g} per second, {SENDERS} sender processes")
        senders = [
            spawn.Process(target=sender, args=(endpoint, f"http://127.0.0.1:{sim_port}", work, results))
            for _ in range(SENDERS)
        ]
        for process in senders:
            process.start()
        answers = [results.get(timeout=120) for _ in senders]
        for process in senders:
            process.join()
        setup.close()
    server.shutdown()
    outcomes = [outcome for done, _ in answers for outcome in done]
    calls = sum(count for _, count in answers)
    assert outcomes.count(Sent.SENT) == len(jobs.jobs) == len(sim.messages) == CONTACTS * 4 // 5, outcomes
    times = sorted(message.created.timestamp() for message in sim.messages.values())
    achieved = (len(times) - 1) / (times[-1] - times[0])
    return [
        ("send.mps_ratio", achieved / MPS, "x"),
        ("send.max_in_one_second", max_in_one_second(times), f"texts (MPS {MPS:g})"),
        ("send.ddb_calls_per_text", calls / len(times), "calls"),
    ]
