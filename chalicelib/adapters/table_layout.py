"""Every item's key in the one DynamoDB table, built here and nowhere else
(the schema and its indexes: infra/resources.json).

  pk = C#<e164>            sk = PROFILE             the contact (layout: dynamodb_contacts.py)
  pk = C#<e164>            sk = M#<sid>             a message; a retried webhook collides on its sid
  pk = C#<e164>            sk = K#<at>#<sid|source> a consent change (the trail)
  pk = C#<e164>            sk = F#<at>#<field>#<sid> an answered field
  pk = C#<e164>            sk = E#<id>              a note or an interaction
  pk = C#<e164>            sk = D#<run id>          the contact's decision in that run
  pk = C#<e164>            sk = L#<run id>          the ledger entry: one text per run
  pk = T#<tag>             sk = C#<e164>            the tag index, one item per tag a contact has
  pk = RUNS#<campaign id>  sk = R#<run id>          a run: counts, shards done, pace
  pk = RUNS#<campaign id>  sk = R#<run id>#N<k>     the run's counts as kept before RC# (read, never written)
  pk = RC#<run id>#<k>     sk = N                   the run's counts, spread over COUNTER_SHARDS partitions
  pk = RC#<run id>#<k>     sk = C#<cell>            the same by store and variant (the report's)
  pk = RC#<run id>#<k>     sk = P#<plan shard>      a planned shard's texts by cell, written with its counts
  pk = H#<minute>#<shard>  sk = <run id>#<e164>     a held message, filed by due minute
  pk = P#<run id>#<shard>  sk = <e164>#<minute>     the same, held for its run's pause
  pk = TICK                sk = CURSOR              the last minute whose holds were released
  pk = talk#<scope>#<key>  sk = L#                  the ledger entry of a reply or question, by its Idempotency-Key
  pk = KEYS                sk = N#<name> | K#<hash> an API key, by name and by the hash offered
  pk = LINK#<token>        sk = L                   a recipient's short link (domain/links.py)
  pk = CAMPAIGNS | PROMPTS | SAVED_REPLIES, sk = <prefix><id>   small shelves of documents
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zlib import crc32

from chalicelib.domain.ledger import in_conversation

CONTACT = "C#"
PROFILE = "PROFILE"
MESSAGE = "M#"
CONSENT = "K#"
FIELD = "F#"
ENTRY = "E#"
ORDER = "O#"
DECISION = "D#"
LEDGER = "L#"
TAG = "T#"
RUNS = "RUNS#"
RUN = "R#"
RUN_COUNTS = "RC#"  # a run's counter shards, each a partition of its own: no partition takes every text's count
COUNTS = "N"
CELL_COUNTS = "C#"  # by cell: read by its report only, never by the senders
CELLS_PLANNED = "P#"
COUNTER_SHARDS = 32  # a run's counts, spread by the recipient's number: 1/32 of them on each partition
HOLDS = "H#"
PARKED = "P#"
PACE = "PACE#"
ANSWERS = "ANSWERS#"  # a prompt's free-text answers: ANSWERS#<prompt id>
ANSWER = "A#"  # one answer, by time and sid
COUNTS = "COUNTS"  # the prompt's answers counted by reason
API_KEYS = "KEYS"
KEY_NAME = "N#"
KEY_HASH = "K#"
LINK = "LINK#"
AFTER_ALL = "~"  # sorts after every character a key uses: the end of a prefix's range


def key(pk: str, sk: str) -> dict[str, Any]:
    """A DynamoDB key from its two strings."""
    return {"pk": {"S": pk}, "sk": {"S": sk}}


SORTABLE_LENGTH = 27  # len("2026-03-01T12:00:00.000000Z")


def sortable(at: datetime) -> str:
    """A time as keys sort it: UTC, microseconds, fixed width."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def minute_key(minute: datetime) -> str:
    return f"{minute.astimezone(UTC):%Y%m%dT%H%M}"


def contact_pk(phone: str) -> str:
    return f"{CONTACT}{phone}"


def contact_key(phone: str) -> dict[str, Any]:
    return key(contact_pk(phone), PROFILE)


def message_key(phone: str, sid: str) -> dict[str, Any]:
    return key(contact_pk(phone), f"{MESSAGE}{sid}")


def consent_sk(at: datetime, who: str) -> str:
    return f"{CONSENT}{sortable(at)}#{who}"


def field_sk(at: datetime, field: str, sid: str) -> str:
    return f"{FIELD}{sortable(at)}#{field}#{sid}"


def entry_key(phone: str, entry_id: str) -> dict[str, Any]:
    return key(contact_pk(phone), f"{ENTRY}{entry_id}")


def order_key(phone: str, order_id: str) -> dict[str, Any]:
    return key(contact_pk(phone), f"{ORDER}{order_id}")


def tag_key(tag: str, phone: str) -> dict[str, Any]:
    return key(f"{TAG}{tag}", contact_pk(phone))


def runs_pk(campaign_id: str) -> str:
    return f"{RUNS}{campaign_id}"


def run_key(run_id: str) -> dict[str, Any]:
    campaign_id = run_id.split("@", 1)[0]
    return key(runs_pk(campaign_id), f"{RUN}{run_id}")


def counter_shard(phone: str) -> int:
    """The counter shard a recipient's counts go to."""
    return crc32(phone.encode()) % COUNTER_SHARDS


def counter_pk(run_id: str, shard: int) -> str:
    return f"{RUN_COUNTS}{run_id}#{shard}"


def run_counter_key(run_id: str, shard: int) -> dict[str, Any]:
    return key(counter_pk(run_id, shard), COUNTS)


def cell_counter_key(run_id: str, cell: str, shard: int) -> dict[str, Any]:
    return key(counter_pk(run_id, shard), f"{CELL_COUNTS}{cell}")


def cells_planned_key(run_id: str, plan_shard: int) -> dict[str, Any]:
    return key(counter_pk(run_id, plan_shard % COUNTER_SHARDS), f"{CELLS_PLANNED}{plan_shard}")


def decision_key(phone: str, run_id: str) -> dict[str, Any]:
    return key(contact_pk(phone), f"{DECISION}{run_id}")


def ledger_key(phone: str, run_id: str) -> dict[str, Any]:
    """A run's entry lives with its contact; a conversation text's is its key's own
    (one key names one request, whoever it is to)."""
    if in_conversation(run_id):
        return key(run_id, LEDGER)
    return key(contact_pk(phone), f"{LEDGER}{run_id}")


def holds_pk(minute: datetime, shard: int) -> str:
    return f"{HOLDS}{minute_key(minute)}#{shard}"


def hold_key(minute: datetime, shard: int, run_id: str, phone: str) -> dict[str, Any]:
    return key(holds_pk(minute, shard), f"{run_id}#{phone}")


def parked_pk(run_id: str, shard: int) -> str:
    return f"{PARKED}{run_id}#{shard}"


def parked_key(run_id: str, shard: int, phone: str, minute: datetime) -> dict[str, Any]:
    return key(parked_pk(run_id, shard), f"{phone}#{minute_key(minute)}")


def sender_pace_key(sender: str) -> dict[str, Any]:
    return key(f"{PACE}{sender}", "PACE")


def link_key(token: str) -> dict[str, Any]:
    return key(f"{LINK}{token}", "L")


CURSOR_KEY = key("TICK", "CURSOR")

# Small shelves of documents, each one partition read together: (pk, sk prefix before the id).
CAMPAIGN_SHELF = ("CAMPAIGNS", "C#")  # few campaigns
PROMPT_SHELF = ("PROMPTS", "P#")  # operators' own questions
SAVED_REPLY_SHELF = ("SAVED_REPLIES", "R#")  # operators' canned replies
STORE_SHELF = ("STORES", "S#")  # the brand's branches: hundreds, read together
ORDER_TEXT_SHELF = ("ORDER_TEXTS", "T#")  # a text per order event type: five
CONSENT_TEXT_SHELF = ("CONSENT_TEXTS", "V#")  # the words consent was asked with, by version: a few a year


def key_name_key(name: str) -> dict[str, Any]:
    return key(API_KEYS, f"{KEY_NAME}{name}")


def key_hash_key(hashed: str) -> dict[str, Any]:
    return key(API_KEYS, f"{KEY_HASH}{hashed}")
