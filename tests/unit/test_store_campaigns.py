"""Campaigns for stores: the audience's stores, the store's areas as the offer's
place (the seed's customer, who ordered once in Newcastle and lives in London,
is never texted Newcastle's offers again), and the store's name and phone in
every template."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.campaign import Audience
from chalicelib.domain.contact import ConsentEvent, ConsentState, Conversation, HomeLocation, StoreSource, TimeZone
from chalicelib.domain.ledger import Fate, conversation_text
from chalicelib.domain.orders import OrderSummary
from chalicelib.domain.policy import Decision, PolicySettings, Reason, Verdict
from chalicelib.domain.stores import Store, StoreSpec, help_naming, template_fields
from chalicelib.domain.template import Template, TemplateError
from chalicelib.services import campaigns, conversations
from chalicelib.services.send_text import BatchReads, SendJob
from chalicelib.services.sending import send_one
from tests.world import SEND_AT, World

CONFIRMED = SEND_AT - timedelta(days=3)


def put_store(world: World, store_id: str, name: str, *areas: str, phone: str | None = None) -> Store:
    spec = StoreSpec(
        name=name, time_zone="Europe/London", areas=list(areas), sender="+447700900001", messages_per_second=1,
        phone=phone,
    )  # fmt: skip
    store = Store(**spec.model_dump(), id=store_id, created_at=SEND_AT, updated_at=SEND_AT)
    world.stores.save(store, None)
    return store


@pytest.fixture
def world() -> World:
    world = World()
    put_store(world, "newcastle", "Pizza Co Newcastle", "NE1", phone="+441914960000")
    put_store(world, "leeds", "Pizza Co Leeds", "LS6")
    return world


def test_a_stores_campaign_drops_a_customer_whose_home_lies_outside_their_stores_areas(world: World) -> None:
    london = HomeLocation(area="SW1A1AA", confirmed_at=CONFIRMED)
    world.contact("+447700900001", home=london, store_id="newcastle", store_source=StoreSource.ORDER)
    world.contact("+447700900002", home=HomeLocation(area="NE14ST", confirmed_at=CONFIRMED), store_id="newcastle")
    world.contact("+447700900003", home=HomeLocation(area="LS61AA", confirmed_at=CONFIRMED), store_id="leeds")
    world.campaign(audience=Audience(stores=["newcastle"]), location=None, message="{store_name}: 2-for-1 tonight")
    world.tick()
    world.plan()
    assert [job["phone"] for job, _ in world.send_queue.jobs] == ["+447700900002"]  # Leeds's customer: not asked
    assert world.runs.holds.decisions_for("+447700900001")[0].reason == "out_of_area"
    assert "outside Pizza Co Newcastle" in world.runs.holds.decisions_for("+447700900001")[0].explanation
    world.send()
    assert [(to, body) for to, body, *_ in world.sender.sent] == [
        ("+447700900002", "Pizza Co Newcastle: 2-for-1 tonight")
    ]


def test_the_send_decides_again_with_the_store_as_it_is_now(world: World) -> None:
    home = HomeLocation(area="NE14ST", confirmed_at=CONFIRMED)
    world.contact("+447700900002", home=home, store_id="newcastle")
    world.campaign(audience=Audience(stores=["newcastle"]), location=None)
    world.tick()
    world.plan()
    newcastle = world.stores.get("newcastle")
    assert newcastle is not None
    world.stores.save(newcastle.model_copy(update={"areas": ["NE2"]}), newcastle.version)
    world.send()
    assert world.sender.sent == []  # its store no longer covers the home: not sent
    assert world.runs.holds.decisions_for("+447700900002")[0].reason == "out_of_area"


def test_store_fields_fill_every_template_with_the_brand_for_a_contact_without_a_store() -> None:
    template = Template("{store_name}: call {store_phone} or reply, {first_name|friend}")
    newcastle = StoreSpec(
        name="Pizza Co Newcastle", time_zone="Europe/London", areas=["NE1"], sender="+447700900001",
        messages_per_second=1, phone="+441914960000",
    )  # fmt: skip
    store = Store(**newcastle.model_dump(), id="newcastle", created_at=SEND_AT, updated_at=SEND_AT)
    assert template.render(template_fields(store, "Pizza Co")) == (
        "Pizza Co Newcastle: call +441914960000 or reply, friend"
    )
    no_phone = store.model_copy(update={"phone": None})
    assert template.render(template_fields(no_phone, "Pizza Co")) == "Pizza Co Newcastle: call us or reply, friend"
    assert template.render(template_fields(None, "Pizza Co")) == "Pizza Co: call us or reply, friend"
    assert Template("{store_phone|0191 496 0000}").render(template_fields(no_phone, "Pizza Co")) == "0191 496 0000"
    with pytest.raises(TemplateError, match="store_name"):
        Template("Hi {first_name}")  # only the store's fields may go without a fallback
    assert help_naming("Pizza Co: reply STOP to stop.", store) == (
        "Pizza Co: reply STOP to stop. Your store: Pizza Co Newcastle, +441914960000."
    )
    assert help_naming("Pizza Co: reply STOP to stop.", None) == "Pizza Co: reply STOP to stop."


def test_each_text_goes_from_its_contacts_store_and_the_brands_number_otherwise(world: World) -> None:
    newcastle = world.stores.get("newcastle")
    assert newcastle is not None
    world.stores.save(newcastle.model_copy(update={"sender": "MG" + "c" * 32}), newcastle.version)
    put_store(world, "york", "Pizza Co York", "YO1")
    york = world.stores.get("york")
    assert york is not None
    world.stores.save(york.model_copy(update={"retired": True}), york.version)
    world.contact("+447700900001", store_id="newcastle")
    world.contact("+447700900002", store_id="leeds")
    world.contact("+447700900003")
    world.contact("+447700900004", store_id="york")  # retired: its number may be gone
    world.campaign(location=None, messages_per_second=None)
    world.tick()
    world.plan()
    world.send()
    sent_from = dict(zip([to for to, *_ in world.sender.sent], world.sender.origins, strict=True))
    assert sent_from == {
        "+447700900001": "MG" + "c" * 32, "+447700900002": "+447700900001", "+447700900003": None,
        "+447700900004": None,
    }  # fmt: skip


def test_two_campaigns_on_one_number_share_its_rate_counting_segments(world: World) -> None:
    leeds = world.stores.get("leeds")
    assert leeds is not None
    world.stores.save(leeds.model_copy(update={"messages_per_second": 2}), leeds.version)
    for n in range(12):  # each campaign its own six (one marketing text a day each)
        world.contact(f"+4477009001{n:02d}", store_id="leeds", tags=["short" if n < 6 else "long"])
    long_offer = "Two large pizzas for the price of one, tonight only, at every Leeds branch: " * 3  # 2 segments
    uncapped = {"location": None, "messages_per_second": None}
    world.campaign(id="cmp_short", audience=Audience(tags=["short"]), message="2-for-1 tonight", **uncapped)
    world.campaign(id="cmp_long", audience=Audience(tags=["long"]), message=long_offer.strip(), **uncapped)
    world.tick()
    world.plan()
    jobs = world.send_queue.take()
    world.send(jobs[::2] + jobs[1::2])  # the two runs' texts, interleaved as senders would take them
    times = [at for *_, at in world.sender.sent]
    bodies = [body for _, body, *_ in world.sender.sent]
    assert len(times) == 12
    interval = 1.03 / 2  # PACE_MARGIN over the number's 2 segments a second
    for (at, body), following in zip(zip(times, bodies, strict=True), times[1:], strict=False):
        size = 2 if body.startswith("Two large") else 1
        assert (following - at).total_seconds() >= size * interval - 0.01, (body[:10], at, following)


def test_a_breaker_tripped_after_the_batch_read_the_run_refuses_the_claim_and_holds_the_text(world: World) -> None:
    """With no rate of its own, a campaign's run item is not read at each slot:
    the claim checks the breaker instead, in the same transaction."""
    world.contact("+447700900001", store_id="leeds")
    jobs = world.started([], location=None, messages_per_second=None)
    job = jobs[0]
    ctx = world.ctx()
    reads = BatchReads.of(jobs)
    run = reads.run(str(job["run_id"]), ctx)
    assert run is not None and run.breaker is None
    unit = world.runs.unit()
    unit.add(world.runs.tripped(run.id, "opt-outs 9% > 2%"))
    unit.commit()
    fate = send_one(SendJob(str(job["run_id"]), str(job["campaign_id"]), str(job["phone"])), ctx, reads)
    assert fate == Fate.PAUSED and world.sender.sent == []
    assert world.runs.holds.decisions_for("+447700900001")[0].reason == "campaign_paused"


def test_audiences_by_orders_and_the_preview_says_who_was_left_out_and_why(world: World) -> None:
    def ordered(days_ago: int | None, count: int) -> OrderSummary:
        last = None if days_ago is None else SEND_AT - timedelta(days=days_ago)
        return OrderSummary(count=count, first_at=last, last_at=last)

    world.contact("+447700900001", orders=ordered(3, 12))  # a regular
    world.contact("+447700900002", orders=ordered(45, 4))  # lapsed: "why haven't we seen you?"
    world.contact("+447700900003", orders=ordered(60, 1))  # ordered once
    world.contact("+447700900004", orders=ordered(None, 0))  # never ordered
    lapsed = Audience(tags=["pizza"], not_ordered_for_days=30, min_orders=2)
    world.campaign(audience=lapsed, location=None, messages_per_second=None)
    preview = campaigns.preview("cmp_leeds", world.campaigns, world.store, world.clock, PolicySettings(), "UTC",
                                world.directory)  # fmt: skip
    assert preview.audience == 1 and preview.decisions == {"send/clear": 1}
    assert preview.left_out == {"ordered in the last 30 days": 1, "fewer than 2 orders": 2}
    regulars = Audience(ordered_within_days=7)
    assert [regulars.left_out(c, SEND_AT) for c in world.store.get_contacts(["+447700900001", "+447700900002"])] == [
        None, "no order in the last 7 days",
    ]  # fmt: skip


def test_an_agents_reply_goes_from_the_customers_store(world: World) -> None:
    opened = Conversation(opened_at=SEND_AT, last_inbound_at=SEND_AT)
    world.contact("+447700900001", store_id="newcastle", conversation=opened)
    outbound = conversations.Outbound(
        world.store, world.runs, world.sender, world.clock, PolicySettings(), world.directory
    )
    conversations.reply("+447700900001", "alice", "It's on its way", outbound)
    assert world.sender.origins == ["+447700900001"]  # Newcastle's sender (put_store's number)


def test_a_decision_says_how_the_contact_met_the_audiences_order_rules(world: World) -> None:
    lapsed = OrderSummary(count=4, first_at=SEND_AT - timedelta(days=400), last_at=SEND_AT - timedelta(days=45))
    world.contact("+447700900002", orders=lapsed)
    world.contact("+447700900005")  # never ordered: in a "not ordered for" audience without min_orders
    audience = Audience(tags=["pizza"], not_ordered_for_days=30)
    world.campaign(audience=audience.model_copy(update={"min_orders": 2}), location=None, messages_per_second=None)
    world.tick()
    world.plan()
    [planned] = world.runs.holds.decisions_for("+447700900002")
    assert planned.explanation.endswith(
        "In the audience: last order 45 days ago, none in the last 30; 4 orders, at least 2."
    )
    world.send()
    [at_send] = world.runs.holds.decisions_for("+447700900002")
    assert at_send.stage == "at_send" and at_send.explanation == planned.explanation
    assert world.runs.holds.decisions_for("+447700900005") == []  # fewer than 2 orders: not in it
    never = audience.explained(Decision(Verdict.SEND, Reason.CLEAR, "Send."), world.contact("+447700900006"), SEND_AT)
    assert never.explanation == "Send. In the audience: never ordered, none in the last 30."
    assert Audience(tags=["pizza"]).explained(never, world.contact("+447700900007"), SEND_AT) == never


def test_an_agents_reply_takes_its_share_of_the_senders_pace_and_is_refused_when_none_comes_soon(world: World) -> None:
    opened = Conversation(opened_at=SEND_AT, last_inbound_at=SEND_AT)
    world.contact("+447700900001", store_id="newcastle", conversation=opened)
    outbound = conversations.Outbound(
        world.store, world.runs, world.sender, world.clock, PolicySettings(), world.directory
    )
    pace = world.directory.origin(world.store.get_contact("+447700900001")).pace  # type: ignore[arg-type]
    now = world.clock.now().timestamp()
    taken = world.runs.senders.take_slot(pace, 2.0, now)  # a campaign's text holds the number for 2 s
    conversations.reply("+447700900001", "alice", "It's on its way", outbound)
    [(_, _, *_, sent_at)] = world.sender.sent
    assert sent_at.timestamp() >= taken + 2.0  # after the campaign's text, not beside it
    following = world.runs.senders.take_slot(pace, 1.03, now)
    assert following == pytest.approx(taken + 2.0 + 1.03)  # the next text waits out the reply's share (1 a second)

    world.runs.senders.take_slot(pace, 60.0, now)  # a minute of the number taken: the reply is not sent
    with pytest.raises(conversations.SenderBusyError) as busy:
        conversations.reply("+447700900001", "alice", "And the drinks", outbound, key="k-busy")
    assert busy.value.retry_after_s > conversations.REPLY_WAIT_MAX_S and len(world.sender.sent) == 1
    assert world.runs.ledger.entry(conversation_text("reply", "k-busy"), "+447700900001") is None  # nothing claimed


def test_a_text_dropped_or_held_at_send_time_takes_no_slot_of_its_senders_pace(world: World) -> None:
    paced: list[str] = []
    update_item = world.table.client.update_item

    def metered(**call: object) -> object:
        key = call["Key"]
        assert isinstance(key, dict)
        if key["pk"]["S"].startswith("PACE#"):
            paced.append(key["pk"]["S"])
        return update_item(**call)

    world.table.client.update_item = metered
    phones = [f"+4477009002{n:02d}" for n in range(3)]
    for phone in phones:
        world.contact(phone, store_id="leeds")
    world.campaign(location=None, messages_per_second=None)
    world.tick()
    world.plan()
    opted_out = world.get_contact(phones[1])  # a STOP between planning and sending
    stop = ConsentEvent(state=ConsentState.OPTED_OUT, source="keyword", at=world.clock.now())
    world.store.save_contact(opted_out.with_consent(stop), opted_out.version)
    night = world.get_contact(phones[2]).model_copy(update={"time_zone": TimeZone(confirmed="Pacific/Auckland")})
    world.store.save_contact(night, 1)  # now in quiet hours: held
    slots_taken: dict[Fate, int] = {}
    for job in world.send_queue.take():
        before = len(paced)
        [fate] = world.send([job])
        slots_taken[fate] = len(paced) - before
    assert slots_taken.keys() == {Fate.SENT, Fate.DROPPED, Fate.HELD}
    assert slots_taken[Fate.SENT] >= 1 and slots_taken[Fate.DROPPED] == slots_taken[Fate.HELD] == 0
