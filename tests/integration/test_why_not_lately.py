""" "Why haven't we seen you?" in-process, on moto: asked, answered in the
customer's own words, read for reasons, listed by reason; a move clears the
store and asks for the postcode, a postcode sets the home and the store."""

from __future__ import annotations

from typing import Any

from tests.integration import test_agents
from tests.integration.conftest import OLIVE
from tests.integration.test_agents import Agents
from tests.integration.test_operator_api import call

agents = test_agents.agents  # the fixture: the API with a fake Twilio, a queue and a clock

PEOPLE = ["+447700900601", "+447700900602", "+447700900603", "+447700900604", "+447700900605"]
LEEDS = {"name": "Pizza Co Leeds", "time_zone": "Europe/London", "areas": ["LS6"], "sender": "+15005550006",
         "messages_per_second": 1}  # fmt: skip


def asked(agents: Agents, phone: str) -> None:
    agents.text(phone, "hi", f"h{phone[-3:]}")  # the contact, as a first text makes it
    status, sent = call(agents.client, "POST", f"/api/contacts/{phone}/ask", {"prompt_id": "why_not_lately"}, OLIVE)
    assert status == 201 and "haven't seen you in a while" in sent["body"], sent


def profile(agents: Agents, phone: str) -> dict[str, Any]:
    status, found = call(agents.client, "GET", f"/api/contacts/{phone}", headers=OLIVE)
    assert status == 200
    return dict(found)


def reply_to(agents: Agents, phone: str, body: str, sid: str) -> str:
    agents.text(phone, body, sid)
    thread = agents.deps.store.messages.thread(phone)
    return next(m.reply for m in thread if m.body == body)


def test_answers_are_kept_whole_read_for_reasons_and_listed_by_reason(agents: Agents) -> None:
    said = ["too expensive and always late", "Domino's is closer", "tbh it's got so pricey", "🙄", "stop texting me"]
    for n, (phone, text) in enumerate(zip(PEOPLE, said, strict=True)):
        asked(agents, phone)
        reply = reply_to(agents, phone, text, f"a{n}")
        assert (reply == "Thank you, that really helps.") == (n < 4), (text, reply)
    first = profile(agents, PEOPLE[0])
    assert first["attributes"]["why_not_lately"]["value"] == "too expensive and always late"
    assert first["attributes"]["why_not_lately_reason"]["value"] == "price"
    assert profile(agents, PEOPLE[4])["consent"] == "opted_out"  # the opt-out inside the answer comes first
    status, listed = call(agents.client, "GET", "/api/prompts/why_not_lately/answers", headers=OLIVE)
    assert status == 200, listed
    assert listed["counts"] == {"competitor": 1, "not_interested": 1, "price": 2}
    assert [a["text"] for a in listed["answers"]] == said[3::-1]  # newest first; the STOP is no answer
    assert listed["answers"][-1]["reasons"] == ["price", "delivery"]
    status, late = call(agents.client, "GET", "/api/prompts/why_not_lately/answers?reason=delivery", headers=OLIVE)
    assert [a["phone"] for a in late["answers"]] == [PEOPLE[0]]
    status, paged = call(agents.client, "GET", "/api/prompts/why_not_lately/answers?limit=2", headers=OLIVE)
    status, rest = call(agents.client, "GET", f"/api/prompts/why_not_lately/answers?limit=2&cursor={paged['next']}",
                        headers=OLIVE)  # fmt: skip
    assert [a["text"] for a in paged["answers"] + rest["answers"]] == said[3::-1]
    agents.text(PEOPLE[1], "Domino's is closer", "a1")  # the same text again: counted once
    assert (
        call(agents.client, "GET", "/api/prompts/why_not_lately/answers", headers=OLIVE)[1]["counts"]
        == listed["counts"]
    )
    for query, code in [("?reason=weather", 400), ("?cursor=nonsense", 400)]:
        assert call(agents.client, "GET", f"/api/prompts/why_not_lately/answers{query}", headers=OLIVE)[0] == code
    assert call(agents.client, "GET", "/api/prompts/nope/answers", headers=OLIVE)[0] == 404


def test_a_move_clears_the_store_and_asks_the_postcode_which_then_sets_home_and_store(agents: Agents) -> None:
    assert call(agents.client, "PUT", "/api/stores/leeds", LEEDS, OLIVE)[0] == 201
    mover, with_postcode = PEOPLE[0], PEOPLE[1]
    imported = [{"phone": p, "store_id": "leeds", "home": {"area": "NE1 4ST", "confirmed_at": "2026-02-01T10:00:00Z"}}
                for p in (mover, with_postcode)]  # fmt: skip
    assert call(agents.client, "POST", "/api/contacts", {"contacts": imported}, OLIVE)[0] == 200
    for phone in (mover, with_postcode):
        asked(agents, phone)
    reply = reply_to(agents, mover, "we moved house", "m1")
    assert "new postcode" in reply
    moved = profile(agents, mover)
    assert moved["store_id"] is None and moved["pending_prompt"]["prompt_id"] == "new_postcode"
    assert reply_to(agents, mover, "LS6 1AA", "m2") == "Thanks, noted."
    settled = profile(agents, mover)
    assert (settled["home"]["area"], settled["store_id"], settled["store_source"]) == ("LS61AA", "leeds", "home")
    reply_to(agents, with_postcode, "moved to LS6 2BB last month", "p1")
    at_once = profile(agents, with_postcode)
    assert (at_once["home"]["area"], at_once["store_id"]) == ("LS62BB", "leeds")
    assert at_once["attributes"]["why_not_lately_reason"]["value"] == "moved_away"


def test_a_move_from_a_home_a_store_covers_does_not_give_that_store_back_and_a_phone_number_is_no_home(
    agents: Agents,
) -> None:
    assert call(agents.client, "PUT", "/api/stores/leeds", LEEDS, OLIVE)[0] == 201
    mover, caller_ = PEOPLE[2], PEOPLE[3]
    home = {"area": "LS6 1AA", "confirmed_at": "2026-02-01T10:00:00Z"}
    imported = [{"phone": p, "home": home} for p in (mover, caller_)]
    assert call(agents.client, "POST", "/api/contacts", {"contacts": imported}, OLIVE)[0] == 200
    assert profile(agents, mover)["store_id"] == "leeds"  # by its confirmed home
    for phone in (mover, caller_):
        asked(agents, phone)
    reply_to(agents, mover, "we moved house", "x1")
    moved = profile(agents, mover)
    assert (moved["store_id"], moved["home"]["area"]) == (None, "AWAY")  # not Leeds again by the old home
    reply_to(agents, caller_, "too busy, call me on 07700 900123", "x2")
    kept = profile(agents, caller_)
    assert (kept["store_id"], kept["home"]["area"]) == ("leeds", "LS61AA")
    assert kept["attributes"]["why_not_lately_reason"]["value"] == "busy"


def test_an_interaction_may_not_take_an_id_rapport_keeps_for_its_own_entries(agents: Agents) -> None:
    agents.text(PEOPLE[0], "hi", "i1")
    body = {"id": "rapport:order:evt_1", "channel": "order_placed", "at": "2026-03-01T11:00:00Z", "summary": "x"}
    status, answer = call(agents.client, "POST", f"/api/contacts/{PEOPLE[0]}/interactions", body, OLIVE)
    assert status == 400 and "Rapport's own" in answer["Message"]
