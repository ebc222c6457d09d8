"""Opt-outs, opt-ins and help requests as people actually write them.

The table is the contract described in docs/policies.md ("Keywords and
opt-outs: exactly what Rapport recognises"): each phrasing with the answer
`classify` must give when no question is waiting for an answer.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.keywords import (
    HELP_WORDS,
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    OTHER_LANGUAGE_OPT_OUT_WORDS,
    Keyword,
    KeywordKind,
    classify,
    normalise_text,
)

OUT, IN, HELP = KeywordKind.OPT_OUT, KeywordKind.OPT_IN, KeywordKind.HELP

PHRASES: list[tuple[str, KeywordKind | None]] = [
    # --- a keyword, decorated: emoji, punctuation, width, case, repeats, invisibles, courtesy
    ("STOP", OUT),
    ("stop", OUT),
    ("Stop.", OUT),
    ("STOP!!!", OUT),
    ("STOP 🛑", OUT),
    ("🛑 STOP 🛑", OUT),
    ("ＳＴＯＰ", OUT),
    ("ＳＴＯＰ 🛑", OUT),
    ("𝐒𝐓𝐎𝐏", OUT),
    ("*STOP*", OUT),
    ('"STOP"', OUT),
    ("stop 😡😡😡", OUT),
    ("Stop pls", OUT),
    ("stop please", OUT),
    ("please stop", OUT),
    ("Please stop!!!", OUT),
    ("stop thanks", OUT),
    ("Stop, thank you", OUT),
    ("stop now", OUT),
    ("STOP NOW!!", OUT),
    ("stop asap", OUT),
    ("stop already", OUT),
    ("ok stop", OUT),
    ("hi, stop please", OUT),
    ("sorry, stop", OUT),
    ("Thanks! Stop", OUT),
    ("STOP STOP", OUT),
    ("stop stop stop", OUT),
    ("stoooop", OUT),
    ("STOPPP", OUT),
    ("Stopppp!!!", OUT),
    ("Stopp", OUT),
    ("s t o p", OUT),
    ("S.T.O.P.", OUT),
    ("st\u200bop", OUT),
    ("\ufeffSTOP", OUT),
    ("STOP\u200d", OUT),
    ("STOP ALL", OUT),
    ("stop all please", OUT),
    ("StopAll", OUT),
    ("STOPALL thanks", OUT),
    ("unsubscribe 😡", OUT),
    ("Unsubscribe.", OUT),
    ("UNSUBSCRIBE PLEASE", OUT),
    ("unsubscribeeee", OUT),
    ("cancel", OUT),
    ("CANCEL!!", OUT),
    ("end", OUT),
    ("END.", OUT),
    ("quit", OUT),
    ("revoke", OUT),
    ("optout", OUT),
    ("opt out", OUT),
    ("Opt-out", OUT),
    ("OPT OUT!", OUT),
    ("ARRÊT", OUT),
    ("arret", OUT),
    ("Arrête", OUT),
    ("ALTO", OUT),
    # --- asking for the texts to stop
    ("stop texting me", OUT),
    ("stop texting me!!", OUT),
    ("STOP texting me!", OUT),
    ("Please stop texting me", OUT),
    ("stop texting me please", OUT),
    ("Stop sending me these", OUT),
    ("Can you stop sending me these?", OUT),
    ("Could you please stop messaging me", OUT),
    ("stop messaging this number", OUT),
    ("Please STOP sending messages to this number", OUT),
    ("Stop sending texts to this number", OUT),
    ("quit texting me", OUT),
    ("stop contacting me", OUT),
    ("stop spamming me", OUT),
    ("stop calling me", OUT),
    ("stop harassing me", OUT),
    ("stop bothering me", OUT),
    ("stoooop texting meeee", OUT),
    ("pls stop txting me", OUT),
    ("Stop 🛑 texting me", OUT),
    ("I want you to stop texting me", OUT),
    ("Im not kidding stop texting me", OUT),
    ("stop texting me i'm not kidding", OUT),
    ("Why won't you stop texting me?", OUT),
    ("why can't you just stop texting me", OUT),
    ("why don't you stop texting me", OUT),
    ("stop the texts", OUT),
    ("stop these messages", OUT),
    ("stop all texts", OUT),
    ("STOP ALL MESSAGES", OUT),
    ("stop sending the deals", OUT),
    ("stop sending me coupons", OUT),
    ("quit sending promos", OUT),
    ("can you stop the promos", OUT),
    ("pause the texts", OUT),
    ("cancel my subscription", OUT),
    ("cancel the texts please", OUT),
    ("cancel my order updates", OUT),
    ("end my subscription", OUT),
    ("no more texts", OUT),
    ("No more texts thanks", OUT),
    ("no more messages please", OUT),
    ("enough with the texts", OUT),
    ("how do I make these texts stop", OUT),
    ("how do I make these stop", OUT),
    ("I'm reporting you", OUT),
    ("I just want the texts to stop", OUT),
    ("these texts need to stop", OUT),
    ("STOP THIS NOW", OUT),
    ("Please stop sending me texts at 3am", OUT),
    ("Stop sending me promos, I only want order updates", OUT),
    ("Stop texting me or I'll report you", OUT),
    ("STOP or I'm reporting you to the FCC", OUT),
    ("stop it", OUT),
    ("Quit it", OUT),
    # --- remove me, unsubscribe me, opt me out
    ("remove me from your list", OUT),
    ("Please remove me from your list", OUT),
    ("remove me", OUT),
    ("Remove me please", OUT),
    ("remove", OUT),
    ("remove my number", OUT),
    ("Please remove this number from your list", OUT),
    ("delete my number", OUT),
    ("lose my number", OUT),
    ("take me off", OUT),
    ("take me off your list", OUT),
    ("Take me off this list now", OUT),
    ("get me off this list", OUT),
    ("take my number off your list", OUT),
    ("unsubscribe me", OUT),
    ("Unsubscribe me from this list", OUT),
    ("pls unsub me", OUT),
    ("unsub", OUT),
    ("Unsuscribe", OUT),
    ("Opt out please", OUT),
    ("opt me out", OUT),
    ("I want to opt out", OUT),
    ("i would like to unsubscribe", OUT),
    ("how do I unsubscribe?", OUT),
    ("i already unsubscribed", OUT),
    ("I opted out last week, stop texting me", OUT),
    ("I revoke my consent", OUT),
    ("revoke consent", OUT),
    ("withdraw my consent", OUT),
    # --- not wanting the texts
    ("how do i stop getting these", OUT),
    ("I want to stop receiving texts", OUT),
    ("I don't want these texts anymore", OUT),
    ("I do not wish to receive these messages", OUT),
    ("i no longer wish to be contacted", OUT),
    ("not interested in your texts", OUT),
    ("I never signed up for these texts", OUT),
    ("I never signed up for this", OUT),
    ("don't text me", OUT),
    ("Don't text me again", OUT),
    ("do not contact me", OUT),
    ("Do not text this number", OUT),
    ("never text me again", OUT),
    ("Could you not text me", OUT),
    ("don't send me any more texts", OUT),
    ("leave me alone", OUT),
    ("Just leave me alone!!", OUT),
    ("wrong number", OUT),
    ("Wrong number, sorry", OUT),
    ("You have the wrong number", OUT),
    ("This is the wrong number, please stop", OUT),
    ("STOP!!! wrong number", OUT),
    ("wrong person", OUT),
    ("u have the wrong #", OUT),
    ("no más", OUT),
    ("NO MAS", OUT),
    # --- a stop sentence with a reason, and saying it again
    ("STOP. I moved away", OUT),
    ("Stop, I'm not interested", OUT),
    ("stop i moved to leeds", OUT),
    ("stop im not interested", OUT),
    ("I moved away. Stop", OUT),
    ("Nope. Stop.", OUT),
    ("I said STOP", OUT),
    ("I already replied stop", OUT),
    ("told you to stop", OUT),
    # --- opt-in
    ("START", IN),
    ("start", IN),
    ("Start!", IN),
    ("START 🙂", IN),
    ("ＳＴＡＲＴ", IN),
    ("start please", IN),
    ("start again", IN),
    ("UNSTOP", IN),
    ("unstop!", IN),
    ("Un-stop", IN),
    ("YES", IN),
    ("Yes!", IN),
    ("YESSS", IN),
    ("yes 👍", IN),
    # --- help
    ("HELP", HELP),
    ("help?", HELP),
    ("Help!!", HELP),
    ("ＨＥＬＰ", HELP),
    ("help please", HELP),
    ("please help", HELP),
    ("INFO", HELP),
    ("info?", HELP),
    ("Info pls", HELP),
    ("AYUDA", HELP),
    ("aide", HELP),
    # --- not opt-outs: negated, someone else's stopping, other meanings of the words
    ("don't stop", None),
    ("Don’t stop texting me, I love the deals", None),
    ("don't ever stop texting me", None),
    ("never stop sending these", None),
    ("please don't stop the deals", None),
    ("don't stop the music", None),
    ("can't stop eating your pizza", None),
    ("I can't stop thinking about that pizza", None),
    ("Please don't unsubscribe me", None),
    ("do not remove me from the list", None),
    ("I never said stop", None),
    ("I didn't say stop", None),
    ("why did you stop sending me deals?", None),
    ("Why'd you stop texting me?", None),
    ("Did you stop sending coupons?", None),
    ("you stopped texting me", None),
    ("You never text me anymore", None),
    ("why don't you text me when it's ready", None),
    ("I'll stop texting you now, bye", None),
    ("I won't stop texting you", None),
    ("I can stop sending photos if you want", None),
    ("is the bus stop near you?", None),
    ("where's the nearest stop?", None),
    ("stop by the store later", None),
    ("I'll stop by later", None),
    ("Stop by anytime!", None),
    ("Stopped by yesterday, great service", None),
    ("non stop fun", None),
    ("full stop", None),
    ("when does the sale end?", None),
    ("the deal ends friday", None),
    ("does the offer end today?", None),
    ("what's the end date for the offer?", None),
    ("end of season sale?", None),
    ("the end of the street", None),
    ("I had to cancel my order, can you help?", None),
    ("cancel my order", None),
    ("cancel my order pls", None),
    ("can I cancel my reservation?", None),
    ("Cancel the 7pm table please", None),
    ("I quit smoking", None),
    ("remove me from the waitlist", None),
    ("remove the mushrooms please", None),
    ("take me out to dinner", None),
    ("Pick from the list", None),
    ("Can I get one from the list of specials?", None),
    ("no more pizza for me, I'm full", None),
    ("no more deals?", None),
    ("I don't want the deal, just the pizza", None),
    ("I didn't ask for this pizza", None),
    ("keep the texts coming", None),
    ("I don't want the texts to stop", None),
    ("I don't want the deals to end", None),
    ("STOP the presses, is that a 2 for 1 deal?", None),
    ("can you remove my order?", None),
    ("Can you text me when my order is ready?", None),
    ("Please text me when you're open", None),
    ("I'll text you later", None),
    ("how do I subscribe?", None),
    # --- not keywords: replies, questions, answers a question would take
    ("yes please", None),
    ("yes please, two large", None),
    ("start with garlic bread please", None),
    ("I need help with my order", None),
    ("help me", None),
    ("more info", None),
    ("helpful staff, thanks", None),
    ("what time do you close?", None),
    ("no", None),
    ("nope, moved to London", None),
    ("not anymore", None),
    ("ok", None),
    ("thanks", None),
    ("🛑", None),
    ("👍", None),
    ("👎", None),
    ("not interested", None),
    ("stop texting my wife", None),
    ("", None),
]


def test_the_table_has_at_least_150_distinct_phrasings() -> None:
    bodies = [body for body, _ in PHRASES]
    assert len(bodies) == len(set(bodies))
    assert len(bodies) >= 150


@pytest.mark.parametrize(("body", "expected"), PHRASES, ids=[repr(body) for body, _ in PHRASES])
def test_each_phrasing_is_read_as_people_mean_it(body: str, expected: KeywordKind | None) -> None:
    keyword = classify(body)
    assert (keyword.kind if keyword else None) == expected


# --- properties -----------------------------------------------------------------

DECORATIONS = ["🛑", "😡", "🙏", "👍🏽", "❤️", "‼️", "!!!", "!", ".", "...", "?", "😂", "*", '"', "'", " ", "\n"]
COURTESY = ["please", "pls", "PLZ", "thanks", "thank you", "now", "ok", "sorry"]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@st.composite
def written_as_people_do(draw: st.DrawFn, word: str) -> str:
    """The keyword with any letter case, one letter held down, invisible
    characters inside, maybe full-width, wrapped in emoji, punctuation and
    courtesy words."""
    letters = [c.upper() if draw(st.booleans()) else c.lower() for c in word]
    held = draw(st.integers(0, len(letters) - 1))
    letters[held] *= draw(st.integers(1, 5))
    for _ in range(draw(st.integers(0, 2))):
        letters.insert(draw(st.integers(1, len(letters))), draw(st.sampled_from(INVISIBLE)))
    text = "".join(letters)
    if draw(st.booleans()):
        text = full_width(text)
    before = draw(st.lists(st.sampled_from(DECORATIONS), max_size=3))
    after = draw(st.lists(st.sampled_from(DECORATIONS), max_size=3))
    courtesy_before = draw(st.lists(st.sampled_from(COURTESY), max_size=1))
    courtesy_after = draw(st.lists(st.sampled_from(COURTESY), max_size=2))
    return " ".join([*courtesy_before, "".join(before) + text + "".join(after), *courtesy_after])


opt_out_words = st.sampled_from(sorted(OPT_OUT_WORDS | OTHER_LANGUAGE_OPT_OUT_WORDS))


@settings(max_examples=400, deadline=None)
@given(data=st.data(), word=opt_out_words)
def test_any_opt_out_keyword_however_decorated_is_that_opt_out(data: st.DataObject, word: str) -> None:
    body = data.draw(written_as_people_do(word))
    assert classify(body) == Keyword(KeywordKind.OPT_OUT, word), body
    assert classify(body, awaiting_answer=True) == Keyword(KeywordKind.OPT_OUT, word), body


@settings(max_examples=200, deadline=None)
@given(data=st.data(), word=st.sampled_from(sorted((OPT_IN_WORDS - {"YES"}) | HELP_WORDS)))
def test_start_unstop_help_and_info_tolerate_the_same_decoration(data: st.DataObject, word: str) -> None:
    body = data.draw(written_as_people_do(word))
    kind = KeywordKind.OPT_IN if word in OPT_IN_WORDS else KeywordKind.HELP
    assert classify(body) == Keyword(kind, word), body


NEGATED_STOPS = ["don't stop", "dont stop", "do not stop", "don’t stop", "DON'T STOP", "never stop", "don't ever stop"]
HARMLESS = [
    "i", "love", "these", "the", "deals", "texting", "sending", "messaging", "me", "messages", "texts", "pizza",
    "please", "ever", "keep", "them", "coming", "you", "guys", "are", "great", "lol", "ok", "now", "all", "😂",
    "❤️", ",", "!", "...", "🛑",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    before=st.lists(st.sampled_from(HARMLESS), max_size=6),
    negated=st.sampled_from(NEGATED_STOPS),
    after=st.lists(st.sampled_from(HARMLESS), max_size=6),
)
def test_a_text_that_says_dont_stop_is_never_an_opt_out(before: list[str], negated: str, after: list[str]) -> None:
    body = " ".join([*before, negated, *after])
    keyword = classify(body)
    assert keyword is None or keyword.kind != KeywordKind.OPT_OUT, body


@settings(max_examples=300, deadline=None)
@given(body=st.text(max_size=200))
def test_any_text_reads_the_same_once_normalised(body: str) -> None:
    keyword = classify(body)
    assert keyword == classify(normalise_text(body))
    assert keyword is None or isinstance(keyword.kind, KeywordKind)
