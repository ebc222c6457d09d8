from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.contact import ConsentState, Contact, Deliverability, DeliverabilityState, Engagement
from chalicelib.domain.inbound import BrandReplies, BusinessHours, InboundOutcome, InboundSms, receive
from chalicelib.domain.messages import InboundKind

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CUSTOMER = "+447700900123"
BRAND = "+15005550006"
REPLIES = BrandReplies(opt_out="bye", opt_in="welcome back", help="help text", conversation_ack="")


def text(body: str, sid: str = "SM1", at: datetime = AT, opt_out_type: str | None = None) -> InboundSms:
    return InboundSms(sid=sid, phone=CUSTOMER, brand_number=BRAND, body=body, at=at, opt_out_type=opt_out_type)


def zones(_: str) -> tuple[str, ...]:
    return ("Europe/London",)


def run(contact: Contact | None, sms: InboundSms, replies: BrandReplies = REPLIES) -> InboundOutcome:
    return receive(contact, sms, replies, zones)


def test_a_first_text_creates_the_contact_with_zone_candidates_and_engagement() -> None:
    outcome = run(None, text("hi there"))
    contact = outcome.contact
    assert contact.phone == CUSTOMER and contact.created_at == AT
    assert contact.time_zone.candidates == ["Europe/London"] and contact.time_zone.confirmed is None
    assert contact.engagement.last_inbound_at == AT and contact.engagement.inbound_count == 1
    assert contact.consent == ConsentState.UNKNOWN
    assert outcome.message.kind == InboundKind.CONVERSATION and outcome.message.body == "hi there"


def test_stop_records_consent_history_and_confirms_once() -> None:
    stopped = run(None, text("STOP"))
    event = stopped.contact.consent_event
    assert event is not None and stopped.contact.consent == ConsentState.OPTED_OUT
    assert (event.source, event.keyword, event.brand_number, event.message_sid, event.at) == (
        "keyword",
        "STOP",
        BRAND,
        "SM1",
        AT,
    )
    assert stopped.message.reply == "bye"
    again = run(stopped.contact, text("stop", sid="SM2"))
    assert again.message.reply == ""
    assert again.contact.consent == ConsentState.OPTED_OUT and again.contact.consent_event is not None
    assert again.contact.consent_event.message_sid == "SM2"  # the latest instruction


def test_start_resubscribes() -> None:
    stopped = run(None, text("STOP")).contact
    started = run(stopped, text("START", sid="SM2"))
    assert started.contact.consent == ConsentState.OPTED_IN
    assert started.contact.consent_event is not None and started.contact.consent_event.message_sid == "SM2"
    assert started.message.reply == "welcome back"


def test_natural_language_opt_out_is_recorded_as_such() -> None:
    outcome = run(None, text("please remove me from your list"))
    assert outcome.contact.consent == ConsentState.OPTED_OUT
    assert outcome.contact.consent_event is not None and outcome.contact.consent_event.source == "natural_language"


def test_help_answers_without_touching_consent() -> None:
    outcome = run(None, text("HELP"))
    assert outcome.message.reply == "help text" and outcome.message.kind == InboundKind.HELP
    assert outcome.contact.consent_event is None


def test_twilio_advanced_opt_out_is_recorded_and_not_answered_again() -> None:
    outcome = run(None, text("Stop", opt_out_type="STOP"))
    assert outcome.contact.consent == ConsentState.OPTED_OUT
    assert outcome.contact.consent_event is not None
    assert outcome.contact.consent_event.source == "twilio_advanced_opt_out"
    assert outcome.message.reply == ""
    helped = run(outcome.contact, text("help", sid="SM2", opt_out_type="HELP"))
    assert helped.message.reply == "" and helped.message.kind == InboundKind.HELP


def test_other_texts_open_then_continue_one_conversation() -> None:
    replies = BrandReplies(opt_out="", opt_in="", help="", conversation_ack="Thanks, someone will reply soon")
    first = run(None, text("do you deliver?"), replies)
    assert first.contact.conversation is not None and first.contact.conversation.opened_at == AT
    assert first.message.reply == "Thanks, someone will reply soon"
    later = AT + timedelta(minutes=5)
    second = run(first.contact, text("to SW1?", sid="SM2", at=later), replies)
    assert second.contact.conversation is not None
    assert second.contact.conversation.message_count == 2 and second.contact.conversation.last_inbound_at == later
    assert second.message.reply == ""  # one acknowledgement per conversation


def test_the_acknowledgement_is_only_sent_inside_business_hours() -> None:
    hours = BusinessHours.parse("09:00-17:30", "Europe/London")
    replies = BrandReplies(opt_out="", opt_in="", help="", conversation_ack="Thanks!", business_hours=hours)
    at_nine = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # 09:00 in London (summer time)
    assert run(None, text("hi", at=at_nine), replies).message.reply == "Thanks!"
    at_night = datetime(2026, 6, 1, 16, 30, tzinfo=UTC)  # 17:30 in London: closed
    assert run(None, text("hi", at=at_night), replies).message.reply == ""
    with pytest.raises(ValueError, match="HH:MM-HH:MM"):
        BusinessHours.parse("9 to 5", "Europe/London")


def test_an_opted_out_contact_gets_no_acknowledgement() -> None:
    replies = BrandReplies(opt_out="bye", opt_in="", help="", conversation_ack="Thanks!")
    stopped = run(None, text("STOP"), replies).contact
    outcome = run(stopped, text("hello?", sid="SM2"), replies)
    assert outcome.message.reply == "" and outcome.contact.conversation is not None


def test_any_reply_resets_unanswered_marketing_and_proves_the_number_live() -> None:
    contact = Contact(
        phone=CUSTOMER,
        created_at=AT - timedelta(days=400),
        engagement=Engagement(unanswered_marketing=7, last_inbound_at=AT + timedelta(hours=1), inbound_count=3),
        deliverability=Deliverability(state=DeliverabilityState.UNDELIVERABLE, reason="error 30003 3 times"),
    )
    outcome = run(contact, text("hello"))
    assert outcome.contact.engagement.unanswered_marketing == 0
    assert outcome.contact.engagement.inbound_count == 4
    assert outcome.contact.engagement.last_inbound_at == AT + timedelta(hours=1)  # a late webhook never goes back
    assert outcome.contact.deliverability.state == DeliverabilityState.OK
