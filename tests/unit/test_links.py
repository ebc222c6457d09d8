"""Links that count: a campaign's {link:…} goes out as a short link of each
recipient's own (no number in it), counted once on its first click inside its
window, and as the customer's engagement; later clicks still redirect
(domain/links.py, services/links.py)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from chalicelib.domain.campaign import Audience
from chalicelib.domain.contact import Engagement
from chalicelib.domain.ledger import CLICKED, Fate
from chalicelib.domain.links import COUNTED, TOKEN_LENGTH, stand_in, tokens_in
from chalicelib.domain.policy import Intent, PolicySettings, Purpose, Reason, decide
from chalicelib.domain.segments import segments
from chalicelib.domain.template import Template
from chalicelib.services.links import UnknownLinkError, click
from tests.unit.test_policy import contact
from tests.world import BASE_URL, SEND_AT, World

OFFER = "Hi {first_name|there}, 2-for-1 tonight: {link:https://pizza.example/menu?utm=sms}"
SHORT = re.compile(rf"{re.escape(BASE_URL)}/l/([0-9A-Za-z]{{{TOKEN_LENGTH}}})")


def sent_link(world: World, phone: str) -> str:
    [body] = [body for to, body, *_ in world.sender.sent if to == phone]
    found = SHORT.search(body)
    assert found is not None, body
    return found.group(1)


@pytest.fixture
def world() -> World:
    world = World()
    world.campaign(message=OFFER, location=None, audience=Audience(tags=["pizza"]))
    world.contact("+447700900001")
    world.contact("+447700900002")
    world.tick()
    world.plan()
    assert world.send() == [Fate.SENT, Fate.SENT]
    return world


def test_each_recipient_gets_a_short_link_of_their_own_without_their_number(world: World) -> None:
    first, second = sent_link(world, "+447700900001"), sent_link(world, "+447700900002")
    assert first != second
    for to, body, *_ in world.sender.sent:
        assert "{link:" not in body and "pizza.example" not in body and to.removeprefix("+") not in body
        assert tokens_in(body) == [sent_link(world, to)]


def test_the_first_click_counts_once_for_the_run_and_as_engagement(world: World) -> None:
    token = sent_link(world, "+447700900001")
    assert click(token, world.links.book, world.runs, world.store, world.clock) == "https://pizza.example/menu?utm=sms"
    assert click(token, world.links.book, world.runs, world.store, world.clock) == "https://pizza.example/menu?utm=sms"
    [run] = world.runs.list_runs("cmp_leeds")
    assert run.counts.get(CLICKED) == 1
    contact = world.get_contact("+447700900001")
    assert contact.engagement.last_clicked_at is not None


def test_a_click_after_its_window_redirects_uncounted_and_an_unknown_token_is_404(world: World) -> None:
    token = sent_link(world, "+447700900002")
    world.clock.sleep((COUNTED + timedelta(minutes=1)).total_seconds())
    assert click(token, world.links.book, world.runs, world.store, world.clock).startswith("https://pizza.example")
    [run] = world.runs.list_runs("cmp_leeds")
    assert CLICKED not in run.counts
    for unknown in ("A" * TOKEN_LENGTH, "../../etc", ""):
        with pytest.raises(UnknownLinkError):
            click(unknown, world.links.book, world.runs, world.store, world.clock)


def test_the_segment_counter_counts_the_short_link_not_the_target() -> None:
    long_target = "{link:https://pizza.example/" + "a" * 200 + "}"
    text = Template(f"Menu: {long_target}").render({})
    counted = stand_in(text, BASE_URL)
    assert len(counted) == len("Menu: ") + len(BASE_URL) + len("/l/") + TOKEN_LENGTH
    assert segments(counted).count == 1


def test_a_click_answers_the_texts_before_it_for_sunset() -> None:
    sent = [SEND_AT - timedelta(days=d) for d in (20, 10, 5)]
    silent = contact(engagement=Engagement(unanswered_marketing=3, marketing_sent_at=sent))
    assert decide(silent, Intent(Purpose.MARKETING), SEND_AT, PolicySettings()).reason == Reason.UNENGAGED
    clicked = contact(
        engagement=Engagement(
            unanswered_marketing=3, marketing_sent_at=sent, last_clicked_at=SEND_AT - timedelta(days=1)
        )
    )
    assert decide(clicked, Intent(Purpose.MARKETING), SEND_AT, PolicySettings()).reason != Reason.UNENGAGED
