"""A customer's data, on the in-memory table and on DynamoDB (moto server): the
export holds everything kept about the number, and erasure leaves no item that
names it, only a keyed hash when it had opted out; that hash keeps a later
import from opting it in, and the customer's own START still does
(services/personal.py, adapters/dynamodb_personal.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.adapters.dynamodb_items import all_pages
from chalicelib.adapters.dynamodb_links import DynamoLinkBook
from chalicelib.adapters.dynamodb_personal import DynamoPersonalData
from chalicelib.adapters.dynamodb_runs import DynamoRunStore
from chalicelib.adapters.dynamodb_store import (
    DynamoConsentTextBook,
    DynamoConversationStore,
    DynamoPromptBook,
    DynamoStoreBook,
)
from chalicelib.domain.contact import ConsentEvent, ConsentState
from chalicelib.domain.inbound import BrandReplies, InboundSms
from chalicelib.domain.links import COUNTED
from chalicelib.domain.messages import Direction, InboundKind, Message
from chalicelib.domain.orders import Money, OrderChannel, OrderEvent, OrderEventType, OrderItem
from chalicelib.domain.policy import PolicySettings
from chalicelib.domain.reasons import FreeTextAnswer, reasons_in
from chalicelib.domain.runs import DecisionRecord, Hold
from chalicelib.services import orders, personal
from chalicelib.services.campaigns import ContactRecord, import_contacts
from chalicelib.services.consents import SignUp, put_text, sign_up
from chalicelib.services.conversations import NotSendableError, Outbound
from chalicelib.services.inbound import handle_inbound
from chalicelib.services.links import Shortener
from chalicelib.services.stores import StoreDirectory
from tests.fakes import FakeSender, MemoryTable, StepClock

PHONE = "+447700900874"
DIGITS = PHONE.removeprefix("+")
OTHER = "+447700900875"
AT = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)
REPLIES = BrandReplies(opt_out="bye", opt_in="welcome back", help="help", conversation_ack="")
SECRET = personal.keyed_hash(b"contract-erasure-secret")


@dataclass
class Table:
    client: Any
    name: str
    clock: StepClock

    def __post_init__(self) -> None:
        self.store = DynamoConversationStore(self.client, self.name)
        self.runs = DynamoRunStore(self.client, self.name)
        self.personal = DynamoPersonalData(self.client, self.name)
        self.prompts = DynamoPromptBook(self.client, self.name)
        self.stores = DynamoStoreBook(self.client, self.name)

    def items(self) -> Iterator[dict[str, Any]]:
        for page in all_pages(self.client.scan, {"TableName": self.name}):
            yield from page

    def naming(self, digits: str) -> list[str]:
        return [f"{i['pk']['S']} {i['sk']['S']}" for i in self.items() if digits in json.dumps(i)]

    def text(self, body: str, sid: str, phone: str = PHONE, at: datetime | None = None) -> Message:
        sms = InboundSms(sid, phone, "+15005550006", body, at or self.clock.now())
        return handle_inbound(sms, self.store, REPLIES, self.runs, self.prompts, remembered=self.remembered)

    def remembered(self, phone: str) -> ConsentEvent | None:
        return personal.remembered_stop(phone, self.personal, lambda: SECRET)

    def imported(self, phone: str, state: ConsentState | None, tags: tuple[str, ...] = ("pizza",)) -> None:
        consent = ConsentEvent(state=state, source="till", at=self.clock.now()) if state else None
        record = ContactRecord(phone=phone, tags=tags, consent=consent)
        zones = lambda _: ("Europe/London",)  # noqa: E731
        import_contacts([record], self.store, self.stores, self.clock, zones, "t", self.remembered)


@pytest.fixture(params=["memory", "dynamodb"])
def table(request: pytest.FixtureRequest) -> Table:
    clock = StepClock(AT, step=timedelta(seconds=1))
    if request.param == "memory":
        memory = MemoryTable()
        return Table(memory.client, memory.name, clock)
    return Table(request.getfixturevalue("dynamodb"), request.getfixturevalue("table"), clock)


def a_customer_with_everything(table: Table) -> None:
    """Profile and tags, texts both ways, a consent trail, an order, a free-text
    answer, a decision with its held text (parked for a pause too)."""
    table.imported(PHONE, ConsentState.OPTED_IN, ("pizza", "vip"))
    table.imported(OTHER, ConsentState.OPTED_IN)
    table.text("what time do you close?", "SM" + "1" * 32)
    event = OrderEvent(
        id="evt_1", type=OrderEventType.PLACED, order_id="ord_1", phone=PHONE, store_id="leeds",
        at=table.clock.now(), total=Money(amount=2350, currency="GBP"),
        items=[OrderItem(name="Margherita", quantity=2)], channel=OrderChannel.APP,
    )  # fmt: skip
    assert orders.apply(event, table.store, table.clock)
    said = "SM" + "2" * 32
    at = table.clock.now()
    words = "too pricey"
    reasons = reasons_in(words)
    answer = FreeTextAnswer(prompt_id="why_not_lately", phone=PHONE, text=words, reasons=reasons, at=at, sid=said)
    unit = table.store.unit()
    unit.add(*table.store.answers.added(answer))
    unit.add(table.store.messages.saved(
        Message(sid=said, phone=PHONE, brand_number="+15005550006", direction=Direction.INBOUND, at=at,
                body="too pricey", kind=InboundKind.ANSWER), None))  # fmt: skip
    unit.commit()
    now = table.clock.now()
    until = now + timedelta(hours=9)
    decision = DecisionRecord(
        phone=PHONE, run_id="cmp_x@20260602T100000+0000", campaign_id="cmp_x", at=now, stage="planned",
        verdict="hold", reason="quiet_hours", explanation="night", until=until,
    )  # fmt: skip
    hold = Hold.filed(decision.run_id, "cmp_x", PHONE, until, now, "campaign_paused")
    table.runs.holds.record([decision], [hold])
    table.runs.holds.park([hold])
    for phone in (PHONE, OTHER):  # a campaign text with a short link each: theirs alone
        body = Shortener(DynamoLinkBook(table.client, table.name), "https://r.example", table.clock, COUNTED).shorten(
            "Menu: {link:https://pizza.example/menu}", decision.run_id, phone
        )
        sent = Message(sid=f"SMout{phone[-4:]}", phone=phone, brand_number="+15005550006", direction=Direction.OUTBOUND,
                       at=table.clock.now(), body=body)  # fmt: skip
        assert table.store.messages.put(sent) is None


def test_the_export_holds_everything_kept_about_the_number(table: Table) -> None:
    a_customer_with_everything(table)
    held = personal.export_contact(PHONE, table.personal, table.prompts)
    assert held["profile"]["phone"] == PHONE and sorted(held["profile"]["tags"]) == ["pizza", "vip"]
    assert {"messages", "consent_history", "orders", "decisions", "free_text_answers", "held_texts"} <= held.keys()
    assert [a["text"] for a in held["free_text_answers"]] == ["too pricey"]
    assert len(held["held_texts"]) == 2  # filed by minute, and parked for the pause
    [link] = held["links"]
    assert (link["phone"], link["target"]) == (PHONE, "https://pizza.example/menu")
    assert sorted(m["body"] for m in held["messages"] if m["direction"] == "inbound") == [
        "too pricey",
        "what time do you close?",
    ]
    assert OTHER not in json.dumps(held)
    with pytest.raises(personal.NothingHeldError):
        personal.export_contact("+447700900999", table.personal, table.prompts)


def test_erasure_leaves_nothing_that_names_the_number_and_no_other_customers_data_goes(table: Table) -> None:
    a_customer_with_everything(table)
    others_before = table.naming(OTHER.removeprefix("+"))
    assert table.naming(DIGITS)
    erased = personal.erase_contact(PHONE, table.store, table.personal, table.prompts, SECRET, table.clock)
    assert erased.items >= 10 and not erased.suppressed  # opted in: nothing to remember it by
    assert table.naming(DIGITS) == []
    assert table.naming(OTHER.removeprefix("+")) == others_before
    with pytest.raises(personal.NothingHeldError):
        personal.erase_contact(PHONE, table.store, table.personal, table.prompts, SECRET, table.clock)


def test_an_opted_out_number_erased_stays_suppressed_until_the_customer_opts_in_again(table: Table) -> None:
    table.imported(PHONE, ConsentState.OPTED_IN)
    table.text("STOP", "SM" + "3" * 32)
    erased = personal.erase_contact(PHONE, table.store, table.personal, table.prompts, SECRET, table.clock)
    assert erased.suppressed and table.naming(DIGITS) == []  # only the keyed hash is kept
    table.imported(PHONE, ConsentState.OPTED_IN)  # the old list, imported again
    contact = table.store.get_contact(PHONE)
    assert contact is not None and contact.consent == ConsentState.OPTED_OUT
    assert table.text("START", "SM" + "4" * 32).reply == "welcome back"
    contact = table.store.get_contact(PHONE)
    assert contact is not None and contact.consent == ConsentState.OPTED_IN


def test_an_opted_out_number_is_not_erased_without_a_key_to_remember_it_by(table: Table) -> None:
    table.imported(PHONE, ConsentState.OPTED_IN)
    table.text("STOP", "SM" + "5" * 32)
    with pytest.raises(personal.ErasureUnavailableError):
        personal.erase_contact(PHONE, table.store, table.personal, table.prompts, None, table.clock)
    assert table.store.get_contact(PHONE) is not None  # nothing deleted


def erased_after_a_stop(table: Table) -> datetime:
    """The customer opted in by the till, texted START, then STOP, and was erased: when START came."""
    table.imported(PHONE, ConsentState.OPTED_IN)
    started = table.clock.now()
    table.text("START", "SM" + "6" * 32, at=started)
    table.text("STOP", "SM" + "3" * 32)
    assert personal.erase_contact(PHONE, table.store, table.personal, table.prompts, SECRET, table.clock).suppressed
    return started


def opted_out(table: Table) -> bool:
    contact = table.store.get_contact(PHONE)
    return contact is not None and contact.consent == ConsentState.OPTED_OUT


def test_every_way_a_number_comes_back_after_erasure_keeps_its_stop(table: Table) -> None:
    started = erased_after_a_stop(table)
    table.imported(PHONE, None)  # an import that says nothing of consent
    assert opted_out(table)
    personal.erase_contact(PHONE, table.store, table.personal, table.prompts, SECRET, table.clock)
    replayed = table.text("START", "SM" + "6" * 32, at=started)  # the old signed START, replayed
    assert opted_out(table) and replayed.reply == ""
    personal.erase_contact(PHONE, table.store, table.personal, table.prompts, SECRET, table.clock)
    event = OrderEvent(
        id="evt_9", type=OrderEventType.PLACED, order_id="ord_9", phone=PHONE, store_id="leeds",
        at=table.clock.now(), total=Money(amount=999, currency="GBP"), items=[], channel=OrderChannel.APP,
    )  # fmt: skip
    assert orders.apply(event, table.store, table.clock, table.remembered)  # an order from the app
    assert opted_out(table)


def test_a_form_cannot_text_a_number_erased_while_opted_out(table: Table) -> None:
    erased_after_a_stop(table)
    book = DynamoConsentTextBook(table.client, table.name)
    put_text("footer-1", "Offers by text.", book, table.clock, "olive")
    sender = FakeSender(table.clock)
    outbound = Outbound(
        table.store,
        table.runs,
        sender,
        table.clock,
        PolicySettings(),
        StoreDirectory(table.stores, table.clock, "Pizza Co", 1000, kept_s=0),
    )
    form = SignUp(PHONE, "footer", "footer-1", "203.0.113.9", "Mozilla/5.0", table.clock.now())
    with pytest.raises(NotSendableError):
        sign_up(form, book, table.store, "Pizza Co", outbound, None, ("Europe/London",), table.remembered)
    assert sender.sent == [] and opted_out(table)


def test_a_stack_that_never_erased_an_opted_out_number_needs_no_key_for_a_new_contact(table: Table) -> None:
    def no_key() -> personal.Digest | None:
        raise AssertionError("the key (an SSM read in AWS) was asked for")

    assert personal.remembered_stop(PHONE, table.personal, no_key) is None
    erased_after_a_stop(table)  # now one has been
    with pytest.raises(AssertionError):
        personal.remembered_stop(PHONE, table.personal, no_key)
    assert personal.remembered_stop("+447700900999", table.personal, lambda: SECRET) is None
