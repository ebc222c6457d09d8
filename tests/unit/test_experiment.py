"""A campaign's control group and variants (domain/experiment.py): who gets
which text is a pure function of the number and the campaign, the control
group is texted nothing and still has its orders counted, and the run's report
gives each store's and each variant's funnel and what the texts added."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.domain.campaign import Audience, Campaign, CampaignSpec
from chalicelib.domain.contact import TimeZone
from chalicelib.domain.experiment import HOLDOUT, Variant, cell, cell_parts, held_out, variant_of
from chalicelib.domain.ledger import Fate
from chalicelib.domain.messages import Direction
from chalicelib.domain.orders import Money, OrderChannel, OrderEvent, OrderEventType
from chalicelib.domain.report import as_csv, run_report
from chalicelib.services import orders
from tests.world import SEND_AT, World

VARIANTS = [Variant(id="a", message="A: 2-for-1 tonight", weight=3), Variant(id="b", message="B: half price", weight=1)]
PHONES = [f"+4477009{n:05d}" for n in range(400)]


def test_the_split_follows_the_weights_and_the_percent_and_never_moves() -> None:
    picked = Counter(variant.id for phone in PHONES if (variant := variant_of(phone, "cmp", VARIANTS)))
    held = sum(held_out(phone, "cmp", 10) for phone in PHONES)
    assert 0.65 < picked["a"] / len(PHONES) < 0.85 and picked["a"] + picked["b"] == len(PHONES)
    assert 20 <= held <= 60  # 10% of 400, give or take chance
    assert [variant_of(p, "cmp", VARIANTS) for p in PHONES] == [variant_of(p, "cmp", VARIANTS) for p in PHONES]
    assert not any(held_out(phone, "cmp", 0) for phone in PHONES)
    other = sum(held_out(phone, "cmp_other", 10) and held_out(phone, "cmp", 10) for phone in PHONES)
    assert other < held  # another campaign draws its own control group


@given(st.sampled_from(PHONES), st.text(min_size=1, max_size=20), st.floats(0, 50))
def test_a_number_is_held_out_or_gets_a_variant_the_same_way_every_time(phone: str, campaign: str, pct: float) -> None:
    assert held_out(phone, campaign, pct) == held_out(phone, campaign, pct)
    chosen = variant_of(phone, campaign, VARIANTS)
    assert chosen in VARIANTS and chosen == variant_of(phone, campaign, VARIANTS)


def test_a_cell_names_its_store_and_variant() -> None:
    assert cell_parts(cell("leeds", "a")) == ("leeds", "a")
    assert cell_parts(cell(None, None)) == (None, None)
    assert cell_parts(cell(None, HOLDOUT)) == (None, HOLDOUT)


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"message": "hi", "variants": VARIANTS}, "one of a message, variants"),
        ({"variants": [VARIANTS[0], VARIANTS[0]]}, "ids of their own"),
        ({"variants": [{"id": "holdout", "message": "x"}]}, "names the control group"),
        ({"variants": [{"id": "a", "message": "Hi {first_name"}]}, "message"),
        ({"message": "hi", "holdout_percent": 60}, "holdout_percent"),
    ],
)
def test_variants_and_a_control_group_are_checked(changes: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        CampaignSpec.model_validate({"name": "x", "send_at": SEND_AT, **changes})


def placed(world: World, phone: str, order_id: str, amount: int) -> None:
    event = OrderEvent(
        id=f"evt_{order_id}", type=OrderEventType.PLACED, order_id=order_id, phone=phone, store_id="leeds",
        at=world.clock.now(), total=Money(amount=amount, currency="GBP"), items=[], channel=OrderChannel.APP,
    )  # fmt: skip
    assert orders.apply(event, world.store, world.clock, runs=world.runs)


def test_a_run_with_a_control_group_and_variants_reports_each_and_what_the_texts_added() -> None:
    world = World()
    campaign = world.campaign(message=None, variants=VARIANTS, holdout_percent=20, location=None, audience=Audience())
    phones = PHONES[:60]
    for n, phone in enumerate(phones):
        world.contact(phone, store_id="leeds" if n % 2 else "york")
    world.tick()
    world.plan()
    world.send()
    thread = [m for p in phones for m in world.store.messages.thread(p)]
    sent = {m.phone: m.body for m in thread if m.direction == Direction.OUTBOUND}
    held = [phone for phone in phones if held_out(phone, campaign.id, 20)]
    assert held and set(sent) == set(phones) - set(held)  # the control group is texted nothing
    assert all(sent[p] == variant_of(p, campaign.id, VARIANTS).message for p in sent)  # type: ignore[union-attr]
    decisions = {r.phone: r for p in held for r in world.runs.holds.decisions_for(p)}
    assert {(r.verdict, r.reason, r.cell) for r in decisions.values()} <= {
        ("drop", "holdout", "leeds/holdout"), ("drop", "holdout", "york/holdout")
    }  # fmt: skip

    world.clock.sleep(3600)
    texted_a = next(p for p in sent if variant_of(p, campaign.id, VARIANTS) == VARIANTS[0])
    placed(world, texted_a, "ord_a", 2000)
    placed(world, held[0], "ord_held", 1500)  # the control group's order counts for it, not for the texts
    world.clock.sleep(timedelta(days=8).total_seconds())
    placed(world, held[1], "ord_late", 900)  # outside the window: nobody's

    [run] = world.runs.list_runs(campaign.id)
    found = run_report(run, world.runs.cells(run.id), {"GB": 0.04}, "GBP")
    assert (found["planned"], found["sent"], found["ordered"], found["revenue"]) == (
        len(sent), len(sent), 1, {"GBP": 2000}
    )  # fmt: skip
    variants = {group["variant"]: group for group in found["by_variant"]}
    assert {v: g["sent"] for v, g in variants.items()} == Counter(
        variant_of(p, campaign.id, VARIANTS).id  # type: ignore[union-attr]
        for p in sent
    )
    assert (variants["a"]["ordered"], variants["b"]["ordered"]) == (1, 0)
    stores = {group["store_id"]: group["planned"] for group in found["by_store"]}
    assert stores == Counter("leeds" if phones.index(p) % 2 else "york" for p in sent)
    assert found["holdout"] == {"size": len(held), "ordered": 1, "revenue": {"GBP": 1500}}
    scale = len(sent) / len(held)
    assert found["incremental"] == {"ordered": round(1 - scale, 2), "revenue": {"GBP": round(2000 - 1500 * scale, 2)}}
    rows = [line.split(",")[0] for line in as_csv(found).splitlines()]
    assert rows == ["group", "run", "store:leeds", "store:york", "variant:a", "variant:b", "holdout", "incremental"]
    assert world.send() == []  # and nothing more is queued for anyone: the control group never will be


def by_store(world: World, campaign_id: str) -> dict[str | None, tuple[int, int]]:
    [run] = world.runs.list_runs(campaign_id)
    found = run_report(run, world.runs.cells(run.id), {}, "GBP")
    return {group["store_id"]: (group["planned"], group["sent"]) for group in found["by_store"]}


def test_a_text_counts_in_the_cell_it_was_planned_in_though_its_contact_moved_store_while_it_was_held() -> None:
    world = World()
    world.campaign(location=None, audience=Audience())
    night = TimeZone(confirmed="Pacific/Auckland")  # 22:00 there when the run starts: held until morning
    world.contact(PHONES[0], store_id="york", time_zone=night)
    world.contact(PHONES[1], store_id="york")
    world.tick()
    world.plan()
    world.store.save_contact(world.get_contact(PHONES[0]).model_copy(update={"store_id": "leeds"}), 1)
    world.store.save_contact(world.get_contact(PHONES[1]).model_copy(update={"store_id": "leeds"}), 1)
    assert world.send() == [Fate.SENT]  # the one not held: moved between its planning and its send
    released: list[Fate] = []
    for _ in range(6):  # the tick releases two hours of held texts at a time: 08:00 in Auckland comes
        world.clock.sleep(timedelta(hours=2).total_seconds())
        world.tick()
        world.plan()  # the held one is released (its hold kept its cell)
        released += world.send()
    assert released == [Fate.SENT]
    assert by_store(world, "cmp_leeds") == {"york": (2, 2)}


def test_a_control_group_raised_after_planning_holds_out_nobody_already_planned() -> None:
    world = World()
    world.campaign(location=None, audience=Audience())
    for phone in PHONES[:40]:
        world.contact(phone)
    world.tick()
    world.plan()
    started = world.get_campaign()  # as the tick saved it
    world.campaigns.save(started.model_copy(update={"holdout_percent": 20}), started.version)
    assert world.send() == [Fate.SENT] * 40  # planned before the control group existed: all texted
    [run] = world.runs.list_runs("cmp_leeds")
    found = run_report(run, world.runs.cells(run.id), {}, "GBP")
    assert (found["planned"], found["sent"], found["holdout"]) == (40, 40, None)


def test_a_texts_relevance_fits_in_the_send_queues_retention() -> None:
    with pytest.raises(ValidationError, match="relevance_hours"):
        CampaignSpec.model_validate({"name": "x", "message": "hi", "send_at": SEND_AT, "relevance_hours": 337})
    saved = World().campaign(location=None).model_dump(mode="json")  # as stored when 720 hours were allowed
    assert Campaign.model_validate({**saved, "relevance_hours": 720}).relevance_hours == 14 * 24
