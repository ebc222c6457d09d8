"""Campaigns for stores: the audience's stores, the store's areas as the offer's
place (the seed's customer, who ordered once in Newcastle and lives in London,
is never texted Newcastle's offers again), and the store's name and phone in
every template."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.campaign import Audience
from chalicelib.domain.contact import HomeLocation, StoreSource
from chalicelib.domain.stores import Store, StoreSpec, help_naming, template_fields
from chalicelib.domain.template import Template, TemplateError
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
