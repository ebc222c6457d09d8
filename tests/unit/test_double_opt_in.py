"""Consent won by double opt-in over text: JOIN asks the one question that says
what they join, and only a whole-text YES to it opts in, as the customer's own
word with its proof (domain/double_opt_in.py, domain/inbound.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.adapters.dynamodb_messages import DynamoMessageLog
from chalicelib.adapters.dynamodb_store import DynamoConsentTextBook
from chalicelib.domain.campaign import CampaignSpec
from chalicelib.domain.contact import ConsentState
from chalicelib.domain.double_opt_in import ALREADY_IN, JOIN_PROMPT, STOPPED_BEFORE, wording_version
from chalicelib.domain.inbound import BrandReplies, InboundSms
from chalicelib.domain.messages import InboundKind, Message
from chalicelib.domain.policy import PolicySettings
from chalicelib.domain.prompts import Answer, Effect, Prompt, default_prompts, refused_for_operators
from chalicelib.services.consents import ConsentTextChangedError, SignUp, UnknownConsentTextError, put_text, sign_up
from chalicelib.services.conversations import NotSendableError, Outbound
from chalicelib.services.inbound import handle_inbound
from tests.fakes import InMemoryPromptBook
from tests.world import SEND_AT, World

PHONE = "+447700900876"
QUESTION = default_prompts()[JOIN_PROMPT].text("Pizza Co")
REPLIES = BrandReplies(opt_out="bye", opt_in="welcome back", help="help", join_words=frozenset({"JOIN"}), join=QUESTION)


def text(world: World, body: str, sid: str) -> Message:
    sms = InboundSms(sid, PHONE, "+15005550006", body, world.clock.now())
    return handle_inbound(sms, world.store, REPLIES, world.runs, InMemoryPromptBook())


def test_join_asks_the_question_and_a_yes_opts_in_with_its_proof() -> None:
    world = World()
    asked = text(world, "Join!", "SMjoin")
    assert (asked.kind, asked.reply) == (InboundKind.JOIN, QUESTION)
    assert QUESTION == "Reply YES to get offers from Pizza Co. Msg&data rates may apply. Reply STOP to cancel."
    waiting = world.store.get_contact(PHONE)
    assert waiting is not None and waiting.consent == ConsentState.UNKNOWN  # not before the YES
    world.clock.sleep(120)
    said_yes = text(world, "yes", "SMyes")
    assert said_yes.kind == InboundKind.ANSWER and said_yes.reply.startswith("You're in!")
    contact = world.store.get_contact(PHONE)
    assert contact is not None and contact.consent == ConsentState.OPTED_IN and contact.pending_prompt is None
    event = contact.consent_event
    assert event is not None and event.by_customer and event.message_sid == "SMyes"
    assert event.proof is not None
    assert (event.proof.source, event.proof.message_sid) == ("sms", "SMjoin")
    assert event.proof.text_version == wording_version(QUESTION)
    [kept] = world.store.timeline.trail(PHONE).consents
    assert kept == event  # the proof is in the consent history too


def test_a_hedged_answer_or_no_opts_nobody_in() -> None:
    world = World()
    text(world, "JOIN", "SM1")
    assert text(world, "yes but only pizza offers", "SM2").kind == InboundKind.REASKED
    assert text(world, "no", "SM3").reply == "OK, no offers."
    contact = world.store.get_contact(PHONE)
    assert contact is not None and contact.consent == ConsentState.UNKNOWN


@pytest.mark.parametrize(("before", "reply"), [("START", ALREADY_IN), ("STOP", STOPPED_BEFORE)])
def test_join_from_someone_in_already_or_opted_out_asks_nothing(before: str, reply: str) -> None:
    world = World()
    text(world, before, "SM1")
    assert text(world, "JOIN", "SM2").reply == reply
    contact = world.store.get_contact(PHONE)
    assert contact is not None and contact.pending_prompt is None


def test_no_campaign_agent_or_operators_prompt_can_ask_for_consent() -> None:
    with pytest.raises(ValueError, match="only when a customer texts JOIN"):
        CampaignSpec.model_validate({"name": "x", "prompt_id": JOIN_PROMPT, "send_at": SEND_AT})
    sneaky = Prompt(
        id="deals", question="Want deals? Reply YES", reask="YES?",
        answers=[Answer(words=["yes"], effects=[Effect.CONFIRM_CONSENT])],
    )  # fmt: skip
    assert "confirm_consent" in (refused_for_operators(sneaky) or "")
    assert "service's own" in (refused_for_operators(default_prompts()[JOIN_PROMPT]) or "")
    assert refused_for_operators(default_prompts()["interests"]) is None


def test_a_yes_after_the_question_expired_is_no_double_opt_in() -> None:
    world = World()
    text(world, "JOIN", "SM1")
    world.clock.sleep(timedelta(hours=25).total_seconds())
    text(world, "YES", "SM2")  # YES alone is Twilio's opt-in keyword: single, without the proof
    contact = world.store.get_contact(PHONE)
    assert contact is not None and contact.consent_event is not None and contact.consent_event.proof is None


def book(world: World) -> DynamoConsentTextBook:
    return DynamoConsentTextBook(world.table.client, world.table.name)


def form(world: World, version: str = "footer-1") -> SignUp:
    at = world.clock.now()
    return SignUp(PHONE, "website footer", version, "203.0.113.9", "Mozilla/5.0", at)


def test_a_consent_texts_words_never_change_under_its_version() -> None:
    world = World()
    kept, created = put_text("footer-1", "Offers by text.", book(world), world.clock, "olive")
    assert created and kept.created_by == "olive"
    again, created = put_text("footer-1", "Offers by text.", book(world), world.clock, "olive")
    assert not created and again == kept
    with pytest.raises(ConsentTextChangedError):
        put_text("footer-1", "Offers and news by text.", book(world), world.clock, "olive")


def test_a_form_sign_up_texts_the_question_once_and_its_yes_keeps_the_forms_proof() -> None:
    world = World()
    put_text("footer-1", "Offers by text.", book(world), world.clock, "olive")
    outbound = Outbound(world.store, world.runs, world.sender, world.clock, PolicySettings(), world.directory)
    signed = form(world)
    first = sign_up(signed, book(world), world.store, "Pizza Co", outbound, "k1", ("Europe/London",))
    again = sign_up(signed, book(world), world.store, "Pizza Co", outbound, "k1", ("Europe/London",))
    assert again.sid == first.sid and [body for _, body, *_ in world.sender.sent] == [QUESTION]
    text(world, "YES", "SMyes")
    contact = world.store.get_contact(PHONE)
    assert contact is not None and contact.consent == ConsentState.OPTED_IN
    assert contact.consent_event is not None and contact.consent_event.proof is not None
    assert (contact.consent_event.proof.ip, contact.consent_event.proof.text_version) == ("203.0.113.9", "footer-1")


def test_a_form_cannot_opt_in_someone_who_opted_out_or_name_words_never_kept() -> None:
    world = World()
    put_text("footer-1", "Offers by text.", book(world), world.clock, "olive")
    outbound = Outbound(world.store, world.runs, world.sender, world.clock, PolicySettings(), world.directory)
    with pytest.raises(UnknownConsentTextError):
        sign_up(form(world, "never-shown"), book(world), world.store, "Pizza Co", outbound, "k0", ())
    text(world, "STOP", "SMstop")
    with pytest.raises(NotSendableError):
        sign_up(form(world), book(world), world.store, "Pizza Co", outbound, "k1", ())
    assert world.sender.sent == []


def test_the_same_sign_up_posted_twice_without_a_key_texts_once() -> None:
    world = World()
    put_text("footer-1", "Offers by text.", book(world), world.clock, "olive")
    outbound = Outbound(world.store, world.runs, world.sender, world.clock, PolicySettings(), world.directory)
    signed = form(world)
    first = sign_up(signed, book(world), world.store, "Pizza Co", outbound, None, ())
    again = sign_up(signed, book(world), world.store, "Pizza Co", outbound, None, ())
    assert again.sid == first.sid and len(world.sender.sent) == 1


def test_a_yes_that_a_later_stop_outranks_is_not_told_it_is_in() -> None:
    world = World()
    text(world, "JOIN", "SMjoin")
    later = world.clock.now() + timedelta(minutes=5)
    stop = InboundSms("SMstop", PHONE, "+15005550006", "STOP", later)
    handle_inbound(stop, world.store, REPLIES, world.runs, InMemoryPromptBook())  # applied before the YES below
    said_yes = text(world, "YES", "SMyes")  # received earlier than the STOP, applied after it
    contact = world.store.get_contact(PHONE)
    assert contact is not None and contact.consent == ConsentState.OPTED_OUT and said_yes.reply == ""


class CrashingMessages(DynamoMessageLog):
    """Dies once, after the profile's write and before the message's, as a Lambda can."""

    def __init__(self, world: World) -> None:
        super().__init__(world.table.client, world.table.name)
        self.crashed = False

    def put(self, message: Message) -> Message | None:
        if not self.crashed:
            self.crashed = True
            raise ConnectionError("the Lambda died here")
        return super().put(message)


def test_a_yes_whose_lambda_died_keeps_its_proof_when_twilio_retries() -> None:
    world = World()
    text(world, "JOIN", "SMjoin")
    world.store.messages = CrashingMessages(world)
    with pytest.raises(ConnectionError):
        text(world, "YES", "SMyes")
    text(world, "YES", "SMyes")  # Twilio's retry of the same text
    [kept] = world.store.timeline.trail(PHONE).consents
    assert kept.message_sid == "SMyes" and kept.proof is not None and kept.proof.message_sid == "SMjoin"
