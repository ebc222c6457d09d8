"""Reading answers to questions, and what an answer does to the profile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.contact import (
    Attribute,
    ConsentEvent,
    ConsentState,
    Contact,
    Engagement,
    HomeLocation,
    PendingPrompt,
)
from chalicelib.domain.inbound import BrandReplies, InboundSms, receive
from chalicelib.domain.messages import InboundKind
from chalicelib.domain.prompts import AWAY, Answer, Effect, Pattern, Prompt, apply, default_prompts, match

AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
STILL_NEAR = default_prompts()["still_near"]
INTERESTS = default_prompts()["interests"]
REPLIES = BrandReplies(opt_out="bye", opt_in="welcome back", help="help")


@pytest.mark.parametrize(
    ("text", "effect"),
    [
        ("YES", Effect.CONFIRM_HOME),
        ("yes", Effect.CONFIRM_HOME),
        ("Yep!", Effect.CONFIRM_HOME),
        ("y", Effect.CONFIRM_HOME),
        ("👍", Effect.CONFIRM_HOME),
        ("yes please", Effect.CONFIRM_HOME),
        ("Yes, still here thanks", Effect.CONFIRM_HOME),
        ("1", Effect.CONFIRM_HOME),
        ("No", Effect.AWAY_FROM_HOME),
        ("nope, moved to London", Effect.AWAY_FROM_HOME),
        ("2.", Effect.AWAY_FROM_HOME),
        ("ls6 3ab", Effect.SET_HOME_AREA),
        ("We're at LS63AB now", Effect.SET_HOME_AREA),
        ("94103", Effect.SET_HOME_AREA),
    ],
)
def test_answers_are_read_through_case_synonyms_emoji_extra_words_numbers_and_patterns(
    text: str, effect: Effect
) -> None:
    found = match(STILL_NEAR, text)
    assert found is not None and found.answer.effects == [effect]


@pytest.mark.parametrize(
    "text", ["maybe", "yes and no", "3", "what time do you close on Sunday, and do you deliver to my street?", ""]
)
def test_unreadable_or_ambiguous_answers_match_nothing(text: str) -> None:
    assert match(STILL_NEAR, text) is None


def test_a_matched_postcode_is_normalised() -> None:
    found = match(STILL_NEAR, "it's sw1a 1aa")
    assert found is not None and found.matched == "SW1A1AA"


def test_numbered_options_set_the_attribute_with_its_provenance_and_keep_the_old_value() -> None:
    contact = Contact(
        phone="+447700900123",
        created_at=AT,
        attributes={"interest": Attribute(value="events", source="import", updated_at=AT - timedelta(days=9))},
    )
    found = match(INTERESTS, "2")
    assert found is not None
    updated, changes = apply(contact, INTERESTS, found, "SM1", AT)
    assert updated.attributes["interest"].model_dump() == {
        "value": "menu",
        "source": "prompt:interests",
        "updated_at": AT,
        "message_sid": "SM1",
        "by": None,  # set by a person (an import); an answer is the customer's own
    }
    [change] = changes
    assert (change.field, change.old, change.new, change.message_sid) == (
        "attributes.interest",
        "events",
        "menu",
        "SM1",
    )


def test_a_custom_prompt_can_store_the_matched_text() -> None:
    zip_prompt = Prompt(
        id="zip",
        question="What's your ZIP?",
        answers=[Answer(pattern=Pattern.US_ZIP, effects=[Effect.SET_ATTRIBUTE], attribute="zip", reply="Thanks")],
        reask="Just the five digits, please.",
    )
    found = match(zip_prompt, "it is 33101-1234")
    assert (
        found is not None
        and apply(Contact(phone="+13055550100", created_at=AT), zip_prompt, found, "SM2", AT)[0].attributes["zip"].value
        == "33101"
    )


def test_a_prompt_definition_is_validated() -> None:
    with pytest.raises(ValueError, match="needs words, a number, a pattern or free_text"):
        Answer(effects=[Effect.CONFIRM_HOME])
    with pytest.raises(ValueError, match="set_attribute needs the attribute"):
        Answer(words=["yes"], effects=[Effect.SET_ATTRIBUTE])


def asked(prompt: str = "still_near", **changes: object) -> Contact:
    pending = PendingPrompt(prompt_id=prompt, asked_at=AT, expires_at=AT + timedelta(days=7), location="Leeds")
    return Contact(
        phone="+447700900123",
        created_at=AT - timedelta(days=400),
        consent_event=ConsentEvent(state=ConsentState.OPTED_IN, source="import", at=AT - timedelta(days=400)),
        home=HomeLocation(area="LS61AA", confirmed_at=AT - timedelta(days=300)),
        pending_prompt=pending,
    ).model_copy(update=changes)


def text(body: str, minutes: int = 5, sid: str = "SMa") -> InboundSms:
    return InboundSms(sid, "+447700900123", "+15005550006", body, AT + timedelta(minutes=minutes))


def test_yes_to_still_near_confirms_the_home_and_is_not_an_opt_in() -> None:
    outcome = receive(asked(), text("Yes"), REPLIES, lambda _: (), STILL_NEAR)
    assert outcome.message.kind == InboundKind.ANSWER and outcome.message.reply == "Thanks! We'll keep offers local."
    contact = outcome.contact
    assert contact.home is not None and contact.home.confirmed_at == AT + timedelta(minutes=5)
    assert contact.pending_prompt is None and contact.consent == ConsentState.OPTED_IN


def test_a_postcode_moves_the_home_and_no_marks_them_away() -> None:
    moved = receive(asked(), text("M1 1AE"), REPLIES, lambda _: (), STILL_NEAR).contact
    assert moved.home is not None and (moved.home.area, moved.home.source) == ("M11AE", "prompt:still_near")
    away = receive(asked(), text("no"), REPLIES, lambda _: (), STILL_NEAR).contact
    assert away.home is not None and away.home.area == AWAY


def test_stop_still_wins_over_a_pending_question() -> None:
    outcome = receive(asked(), text("STOP"), REPLIES, lambda _: (), STILL_NEAR)
    assert outcome.message.kind == InboundKind.OPT_OUT and outcome.contact.consent == ConsentState.OPTED_OUT


def test_an_unreadable_answer_is_asked_again_once_then_goes_to_a_person() -> None:
    first = receive(asked(), text("hmm, who is this?"), REPLIES, lambda _: (), STILL_NEAR)
    assert first.message.kind == InboundKind.REASKED and first.message.reply == STILL_NEAR.reask
    assert first.contact.pending_prompt is not None and first.contact.pending_prompt.reasked
    second = receive(first.contact, text("I said who is this", 9, "SMb"), REPLIES, lambda _: (), STILL_NEAR)
    assert second.message.kind == InboundKind.CONVERSATION and second.message.reply == ""
    assert second.contact.pending_prompt is None and second.contact.conversation is not None


def test_an_expired_question_is_not_answered() -> None:
    outcome = receive(asked(), text("yes", minutes=8 * 24 * 60), REPLIES, lambda _: (), STILL_NEAR)
    assert outcome.message.kind == InboundKind.OPT_IN  # YES is an opt-in again once nothing is asked


def test_yes_to_the_sunset_question_keeps_marketing_going() -> None:
    silent = Engagement(unanswered_marketing=3, reengagement_asked_at=AT)
    outcome = receive(
        asked("reengagement", engagement=silent), text("yes"), REPLIES, lambda _: (), default_prompts()["reengagement"]
    )
    engagement = outcome.contact.engagement
    assert outcome.message.kind == InboundKind.ANSWER
    assert engagement.reengagement_asked_at is None and engagement.unanswered_marketing == 0
