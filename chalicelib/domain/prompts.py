"""Questions whose answers keep a profile true.

A prompt is data: the question, the answers it accepts (choices with
synonyms, numbered options, or a pattern such as a UK postcode or a US ZIP),
what each answer does to the contact, the reply to it, a re-ask text used
once for an answer it cannot read, and how long it waits. Matching is pure:
the inbound use case resolves the pending prompt and applies the answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.domain.contact import Attribute, Contact, FieldChange, HomeLocation, PendingPrompt
from chalicelib.domain.double_opt_in import JOIN_KEPT_HOURS, JOIN_PROMPT
from chalicelib.domain.keywords import normalise_text
from chalicelib.domain.policy import normalise_area
from chalicelib.domain.reasons import Reason, reasons_in
from chalicelib.domain.reorder import OFFER_KEPT, REORDER_PROMPT


class Effect(StrEnum):
    """What an answer does to the contact."""

    CONFIRM_HOME = "confirm_home"  # the home location is still right, as of now
    AWAY_FROM_HOME = "away_from_home"  # no longer near: location-tied offers stop
    SET_HOME_AREA = "set_home_area"  # the matched postcode or ZIP is the new home
    SET_ATTRIBUTE = "set_attribute"  # `attribute` = `value` (or the matched text)
    KEEP_TEXTS = "keep_texts"  # the re-engagement question answered yes
    RECORD_REASON = "record_reason"  # a free-text answer: kept whole, read for its reasons (domain/reasons.py)
    PLACE_ORDER = "place_order"  # the order a REORDER offered is placed (domain/reorder.py)
    CONFIRM_CONSENT = "confirm_consent"  # a JOIN's or a web form's opt-in confirmed (domain/double_opt_in.py)


# Questions only the customer's own action asks (a REORDER, a JOIN, a web form):
# their YES places an order or opts in, so no campaign, agent or operator's prompt may.
ASKED_BY_THE_CUSTOMER = {
    REORDER_PROMPT: "the reorder question is asked only when a customer texts REORDER",
    JOIN_PROMPT: "the join question is asked only when a customer texts JOIN or signs up on a form",
}
CUSTOMER_EFFECTS = (Effect.PLACE_ORDER, Effect.CONFIRM_CONSENT)


def join_question(brand: str) -> str:
    """The join question as a JOIN or a web form's sign-up asks it: its words are its version's."""
    return default_prompts()[JOIN_PROMPT].text(brand)


def refused_for_operators(prompt: Prompt) -> str | None:
    """Why an operator may not save this prompt, or None."""
    if prompt.id in ASKED_BY_THE_CUSTOMER:
        return f"prompt {prompt.id!r} is the service's own: {ASKED_BY_THE_CUSTOMER[prompt.id]}"
    if effects := sorted({e.value for a in prompt.answers for e in a.effects if e in CUSTOMER_EFFECTS}):
        return f"effects {effects} belong to the service's own questions (reorder, join)"
    return None


class Pattern(StrEnum):
    UK_POSTCODE = "uk_postcode"
    US_ZIP = "us_zip"


PATTERNS = {
    Pattern.UK_POSTCODE: re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?) ?(\d[A-Z]{2})\b", re.IGNORECASE),
    Pattern.US_ZIP: re.compile(r"\b(\d{5})(?:-\d{4})?\b"),
}
AWAY = "AWAY"  # the home area of someone who said they are no longer near
WHY_NOT_LATELY = "why_not_lately"  # "why haven't we seen you?": answered in the customer's own words
NEW_POSTCODE = "new_postcode"  # asked after an answer that says they moved
MAX_ANSWER = 256  # of a free-text answer kept on the profile (an attribute's bound); the message keeps it all


class Answer(BaseModel):
    """One accepted answer: words (with synonyms, emoji), a number, or a pattern."""

    model_config = ConfigDict(defer_build=True)  # built on first use: the webhooks never need it

    words: list[str] = Field(default_factory=list, max_length=30)
    number: int | None = Field(default=None, ge=0, le=99)
    pattern: Pattern | None = None
    effects: list[Effect] = Field(default_factory=list, max_length=5)
    attribute: str | None = Field(default=None, max_length=60)
    value: str | None = Field(default=None, max_length=200)
    reply: str = Field(default="", max_length=320)
    free_text: bool = Field(default=False, description="takes any reply the others do not, and keeps it whole")

    @field_validator("words")
    @classmethod
    def _normalised(cls, words: list[str]) -> list[str]:
        return [" ".join(normalise_text(word).lower().split()) for word in words if word.strip()]

    @model_validator(mode="after")
    def _readable(self) -> Answer:
        if not (self.words or self.number is not None or self.pattern or self.free_text):
            raise ValueError("an answer needs words, a number, a pattern or free_text")
        if Effect.SET_ATTRIBUTE in self.effects and not self.attribute:
            raise ValueError("set_attribute needs the attribute to set")
        return self


class Prompt(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built on first use: the webhooks never need it

    id: str = Field(pattern=r"^[a-z0-9_]{2,40}$")
    question: str = Field(min_length=1, max_length=320, description="may use {brand} and {location}")
    answers: list[Answer] = Field(min_length=1, max_length=20)
    reask: str = Field(min_length=1, max_length=320)
    expires_after_days: float = Field(default=7, gt=0, le=30)
    exact: bool = Field(default=False, description="answered only by a whole text (a word in a sentence is not)")

    def text(self, brand: str, location: str | None = None) -> str:
        return self.question.replace("{brand}", brand).replace("{location}", location or "us")

    def expires(self, asked_at: datetime) -> datetime:
        return asked_at + timedelta(days=self.expires_after_days)


@dataclass(frozen=True)
class Match:
    answer: Answer
    matched: str  # the text that matched (the postcode, the word, the number)


def _tokens(text: str) -> list[str]:
    return re.findall(r"[\w']+|[^\w\s]", text)


def match(prompt: Prompt, body: str) -> Match | None:
    """The answer a text gives, or None when it cannot be read. Whole-text words
    first, then a number, then a pattern, then a single answer word among a few."""

    text = " ".join(normalise_text(body).lower().split())
    for answer in prompt.answers:
        if text in answer.words:
            return Match(answer, text)
    if prompt.exact:  # "ok I'll think about it" or "yes but no garlic bread" is not a YES to an order
        return None
    number = re.fullmatch(r"(?:option |#)?(\d{1,2})[.)]?", text)
    if number:
        for answer in prompt.answers:
            if answer.number == int(number.group(1)):
                return Match(answer, number.group(1))
    for answer in prompt.answers:
        if answer.pattern is not None and (found := PATTERNS[answer.pattern].search(body)):
            return Match(answer, normalise_area("".join(found.groups(""))))
    for answer in prompt.answers:
        if answer.free_text and body.strip():
            return Match(answer, body.strip())
    tokens = _tokens(text)
    if len(tokens) > 8:  # a long message is a conversation, not an answer
        return None
    hits = {id(a): (a, w) for a in prompt.answers for w in a.words if w in tokens or (" " in w and w in text)}
    if len(hits) == 1:
        answer, word = next(iter(hits.values()))
        return Match(answer, word)
    return None  # none, or two answers at once ("yes no")


def apply(contact: Contact, prompt: Prompt, found: Match, sid: str, at: datetime) -> tuple[Contact, list[FieldChange]]:
    """The contact once this answer is applied, and the changes it made: every
    field set records where it came from, and each change keeps the value before."""
    source = f"prompt:{prompt.id}"
    attributes = dict(contact.attributes)
    changes: list[FieldChange] = []
    home = contact.home
    engagement = contact.engagement

    def change(field: str, old: str | None, new: str) -> None:
        changes.append(FieldChange(field=field, old=old, new=new, source=source, message_sid=sid, at=at))

    answer = found.answer
    for effect in answer.effects:
        if effect == Effect.CONFIRM_HOME and home is not None:
            home = home.model_copy(update={"confirmed_at": at, "source": source})
            change("home.confirmed_at", None, at.isoformat())
        elif effect == Effect.AWAY_FROM_HOME:
            change("home.area", home.area if home else None, AWAY)
            home = HomeLocation(area=AWAY, confirmed_at=at, source=source)
        elif effect == Effect.SET_HOME_AREA:
            change("home.area", home.area if home else None, found.matched)
            home = HomeLocation(area=found.matched, confirmed_at=at, source=source)
        elif effect == Effect.SET_ATTRIBUTE and answer.attribute:
            value = answer.value if answer.value is not None else found.matched
            previous = attributes.get(answer.attribute)
            change(f"attributes.{answer.attribute}", previous.value if previous else None, value)
            attributes[answer.attribute] = Attribute(value=value, source=source, updated_at=at, message_sid=sid)
        elif effect == Effect.KEEP_TEXTS:
            engagement = engagement.model_copy(update={"reengagement_asked_at": None, "unanswered_marketing": 0})
            change("engagement.sunset", "asked", "kept")
    update: dict[str, object] = {
        "attributes": attributes,
        "home": home,
        "engagement": engagement,
        "pending_prompt": None,
    }
    if Effect.RECORD_REASON in answer.effects:
        update.update(_reason_recorded(contact, prompt, found.matched, sid, at, attributes, change))
    return contact.model_copy(update=update), changes


def _reason_recorded(
    contact: Contact,
    prompt: Prompt,
    text: str,
    sid: str,
    at: datetime,
    attributes: dict[str, Attribute],
    change: Callable[[str, str | None, str], None],
) -> dict[str, object]:
    """A free-text answer kept whole with its reasons (`<prompt>` and `<prompt>_reason`).
    A move clears the store: a postcode or ZIP with it is the new home (the store
    is then that home's, chosen by the inbound path, which knows the stores);
    without one the home is AWAY until the new postcode, which is asked for. An
    answer that is only a postcode sets the home too; one elsewhere in a text
    that gives no move ("call me on 07700 900123") is not taken as a home."""
    source, reasons = f"prompt:{prompt.id}", reasons_in(text)
    for name, value in ((prompt.id, text[:MAX_ANSWER]), (f"{prompt.id}_reason", reasons[0].value)):
        previous = attributes.get(name)
        change(f"attributes.{name}", previous.value if previous else None, value)
        attributes[name] = Attribute(value=value, source=source, updated_at=at, message_sid=sid)
    moved = Reason.MOVED_AWAY in reasons
    area = _postcode_in(text) if moved else _postcode_in(text, whole=True)  # not a phone number or an order's
    update: dict[str, object] = {}
    if area is None and not moved:
        return update
    update.update(store_id=None, store_source=None, store_since=None)
    change("store_id", contact.store_id, "")
    new_home = area or AWAY  # moved, no postcode yet: away, so the old home gives no store back
    change("home.area", contact.home.area if contact.home else None, new_home)
    update["home"] = HomeLocation(area=new_home, confirmed_at=at, source=source)
    if area is None:
        follow_up = default_prompts()[NEW_POSTCODE]
        update["pending_prompt"] = PendingPrompt(prompt_id=follow_up.id, asked_at=at, expires_at=follow_up.expires(at))
    return update


def _postcode_in(text: str, whole: bool = False) -> str | None:
    """The postcode or ZIP in the text (`whole`: the text is one and nothing else), normalised."""
    for pattern in PATTERNS.values():
        found = pattern.fullmatch(text.strip()) if whole else pattern.search(text)
        if found:
            return normalise_area("".join(found.groups("")))
    return None


def reply_to_answer(found: Match, answered: Contact, prompt: Prompt) -> str:
    """What an answer is told: its own reply, or the question that follows it."""
    pending = answered.pending_prompt
    if pending is not None and pending.prompt_id != prompt.id:
        return default_prompts()[pending.prompt_id].question
    return found.answer.reply


YES = ["yes", "y", "yep", "yeah", "yup", "sure", "ok", "okay", "still here", "👍", "✅"]
NO = ["no", "n", "nope", "nah", "not any more", "not anymore", "moved", "👎"]
ORDER_YES = ["yes", "y", "yep", "yeah", "yes please", "yes pls"]  # an order is placed on these alone


@cache
def default_prompts() -> dict[str, Prompt]:
    """The shipped questions (built on first use: the webhooks rarely need them)."""
    return {
        prompt.id: prompt
        for prompt in (
            Prompt(
                id="still_near",
                question="{brand}: are you still near {location}? Reply YES, or send us your postcode or ZIP.",
                answers=[
                    Answer(
                        words=YES, number=1, effects=[Effect.CONFIRM_HOME], reply="Thanks! We'll keep offers local."
                    ),
                    Answer(
                        words=NO,
                        number=2,
                        effects=[Effect.AWAY_FROM_HOME],
                        reply="Thanks for telling us: no more offers for there.",
                    ),
                    Answer(
                        pattern=Pattern.UK_POSTCODE,
                        effects=[Effect.SET_HOME_AREA],
                        reply="Thanks, noted your postcode.",
                    ),
                    Answer(pattern=Pattern.US_ZIP, effects=[Effect.SET_HOME_AREA], reply="Thanks, noted your ZIP."),
                ],
                reask="Sorry, we didn't catch that. Reply YES if you're still near, NO if not, or your postcode/ZIP.",
            ),
            Prompt(
                id="interests",
                question="{brand}: what would you like to hear about? 1 for deals, 2 for new menu items, 3 for events",
                answers=[
                    Answer(
                        words=["deals", "offers"],
                        number=1,
                        effects=[Effect.SET_ATTRIBUTE],
                        attribute="interest",
                        value="deals",
                        reply="Deals it is.",
                    ),
                    Answer(
                        words=["menu", "new menu", "new menu items", "food"],
                        number=2,
                        effects=[Effect.SET_ATTRIBUTE],
                        attribute="interest",
                        value="menu",
                        reply="We'll tell you what's new.",
                    ),
                    Answer(
                        words=["events", "event"],
                        number=3,
                        effects=[Effect.SET_ATTRIBUTE],
                        attribute="interest",
                        value="events",
                        reply="We'll let you know what's on.",
                    ),
                ],
                reask="Sorry, we didn't catch that: reply 1 for deals, 2 for new menu items or 3 for events.",
            ),
            Prompt(
                id="reengagement",
                question="Still want texts from {brand}? Reply YES to keep them, or STOP to end them.",
                answers=[
                    Answer(words=YES, number=1, effects=[Effect.KEEP_TEXTS], reply="Great, you'll keep getting them.")
                ],
                reask="Reply YES to keep getting texts from us, or STOP to end them.",
            ),
            Prompt(
                id=WHY_NOT_LATELY,
                question="{brand}: we haven't seen you in a while and we'd love to know why. "
                "Just reply in your own words (STOP to opt out).",
                answers=[Answer(free_text=True, effects=[Effect.RECORD_REASON], reply="Thank you, that really helps.")],
                reask="Sorry, we didn't catch that: what's kept you away?",
                expires_after_days=14,
            ),
            Prompt(
                id=REORDER_PROMPT,
                question="{brand}: reply YES to order your usual again, or NO.",  # asked only by REORDER's offer
                answers=[
                    Answer(words=ORDER_YES, effects=[Effect.PLACE_ORDER], reply="Thanks! Sending your order now."),
                    Answer(words=NO, reply="OK, nothing ordered."),
                ],
                reask="Reply YES to order your usual again, or NO.",
                expires_after_days=OFFER_KEPT / timedelta(days=1),
                exact=True,
            ),
            Prompt(
                id=JOIN_PROMPT,  # asked only by a JOIN text or a web form: its YES is a double opt-in
                question="Reply YES to get offers from {brand}. Msg&data rates may apply. Reply STOP to cancel.",
                answers=[
                    Answer(
                        words=ORDER_YES,
                        effects=[Effect.CONFIRM_CONSENT],
                        reply="You're in! Reply STOP to cancel, HELP for help.",
                    ),
                    Answer(words=NO, reply="OK, no offers."),
                ],
                reask="Reply YES to get offers, or NO.",
                expires_after_days=JOIN_KEPT_HOURS / 24,
                exact=True,
            ),
            Prompt(
                id=NEW_POSTCODE,
                question="Sorry to see you move! Reply with your new postcode or ZIP and we'll find your nearest "
                "store, or ignore this.",
                answers=[
                    Answer(pattern=Pattern.UK_POSTCODE, effects=[Effect.SET_HOME_AREA], reply="Thanks, noted."),
                    Answer(pattern=Pattern.US_ZIP, effects=[Effect.SET_HOME_AREA], reply="Thanks, noted."),
                ],
                reask="Just your new postcode or ZIP, please (or ignore this).",
            ),
        )
    }
