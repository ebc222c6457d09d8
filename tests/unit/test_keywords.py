import time

import pytest

from chalicelib.domain.keywords import (
    HELP_WORDS,
    NATURAL_LANGUAGE,
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    OTHER_LANGUAGE_HELP_WORDS,
    OTHER_LANGUAGE_OPT_OUT_WORDS,
    REVOCATION_WORDS,
    Keyword,
    KeywordKind,
    classify,
    normalise_text,
)


@pytest.mark.parametrize(
    "body",
    ["STOP", "stop", " Stop. ", "STOP!", "StopAll", "UNSUBSCRIBE", "cancel", "END", "quit", "REVOKE", "optout"],
)
def test_opt_out_keywords_are_whole_message_any_case_trailing_punctuation_ignored(body: str) -> None:
    keyword = classify(body)
    assert keyword is not None and keyword.kind == KeywordKind.OPT_OUT
    assert keyword.word == body.strip().rstrip(".!").upper()


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ("ＳＴＯＰ 🛑", "STOP"),
        ("STOP 🛑", "STOP"),
        ("Stop pls", "STOP"),
        ("please stop", "STOP"),
        ("Stop please", "STOP"),
        ("stoooop", "STOP"),
        ("STOPPP!!!", "STOP"),
        ("S T O P", "STOP"),
        ("st\u200bop", "STOP"),
        ("STOP ALL", "STOPALL"),
        ("stop all please", "STOPALL"),
        ("unsubscribe 😡", "UNSUBSCRIBE"),
        ("Opt-out", "OPTOUT"),
        ("OPT OUT", "OPTOUT"),
        ("ARRÊT", "ARRET"),
        ("alto", "ALTO"),
    ],
)
def test_a_decorated_keyword_answers_its_canonical_word(body: str, word: str) -> None:
    assert classify(body) == Keyword(KeywordKind.OPT_OUT, word)


@pytest.mark.parametrize("body", ["START", "unstop", "Yes", "YES!", "Start!", "ＳＴＡＲＴ", "start please", "Un-stop"])
def test_opt_in_keywords(body: str) -> None:
    keyword = classify(body)
    assert keyword is not None and keyword.kind == KeywordKind.OPT_IN


@pytest.mark.parametrize("body", ["HELP", "help?", "Info", "ＨＥＬＰ", "help please", "AYUDA", "aide"])
def test_help_keywords(body: str) -> None:
    keyword = classify(body)
    assert keyword is not None and keyword.kind == KeywordKind.HELP


def test_yes_answers_an_open_question_instead_of_opting_in() -> None:
    assert classify("YES", awaiting_answer=True) is None
    assert classify("Yesss 👍", awaiting_answer=True) is None
    start = classify("START", awaiting_answer=True)
    assert start is not None and start.kind == KeywordKind.OPT_IN
    stop = classify("STOP", awaiting_answer=True)
    assert stop is not None and stop.kind == KeywordKind.OPT_OUT


def test_yes_with_more_words_is_a_reply_not_a_re_subscription() -> None:
    assert classify("yes please") is None
    assert classify("ok yes") is None
    assert classify("YES") == Keyword(KeywordKind.OPT_IN, "YES")


def test_an_opt_out_among_keywords_wins() -> None:
    assert classify("STOP HELP") == Keyword(KeywordKind.OPT_OUT, "STOP")
    assert classify("start stop") == Keyword(KeywordKind.OPT_OUT, "STOP")
    assert classify("HELP START") is None  # unclear: a person reads it


@pytest.mark.parametrize(
    "body",
    [
        "please stop texting me",
        "Can you stop sending me these?",
        "remove me from your list",
        "Take me off this list now",
        "unsubscribe me",
        "opt me out",
        "no more texts thanks",
        "Don't text me again",
        "Do not contact me",
        "leave me alone",
        "wrong number",
        "Please stop messaging me, I moved away",
        "STOP. I moved away",
        "stop it",
    ],
)
def test_natural_language_opt_outs(body: str) -> None:
    keyword = classify(body)
    assert keyword is not None
    assert (keyword.kind, keyword.word) == (KeywordKind.OPT_OUT, NATURAL_LANGUAGE)


@pytest.mark.parametrize(
    "body",
    [
        "don't stop",
        "Don’t stop texting me, I love the deals",
        "never stop sending these",
        "I'll stop by the shop later",
        "can't stop eating your pizza",
        "stopped by yesterday, great service",
        "what time do you close?",
        "yes please, two large",
        "helpful staff, thanks",
        "",
        "   ",
        "🛑",
    ],
)
def test_ordinary_texts_are_not_keywords(body: str) -> None:
    assert classify(body) is None


def test_the_fcc_revocation_words_are_all_opt_out_keywords() -> None:
    for word in REVOCATION_WORDS:
        assert classify(word) == Keyword(KeywordKind.OPT_OUT, word.replace(" ", "").upper())


def test_twilio_default_keyword_sets_are_unchanged() -> None:
    # local/twilio_sim.py mimics Twilio with these: only Twilio's own defaults belong here.
    assert {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"} == OPT_OUT_WORDS
    assert {"START", "UNSTOP", "YES"} == OPT_IN_WORDS
    assert {"HELP", "INFO"} == HELP_WORDS
    assert not (OTHER_LANGUAGE_OPT_OUT_WORDS | OTHER_LANGUAGE_HELP_WORDS) & (OPT_OUT_WORDS | OPT_IN_WORDS | HELP_WORDS)


def test_every_keyword_is_read_as_itself() -> None:
    groups = (
        (KeywordKind.OPT_OUT, OPT_OUT_WORDS | OTHER_LANGUAGE_OPT_OUT_WORDS),
        (KeywordKind.OPT_IN, OPT_IN_WORDS),
        (KeywordKind.HELP, HELP_WORDS | OTHER_LANGUAGE_HELP_WORDS),
    )
    for kind, words in groups:
        for word in words:
            assert classify(word) == Keyword(kind, word)
            assert classify(word.lower() + "!") == Keyword(kind, word)


@pytest.mark.parametrize(
    ("body", "normalised"),
    [
        ("  Yes!! ", "Yes"),
        ("ＹＥＳ", "YES"),
        ("don’t", "don't"),
        ("y\u200bes", "yes"),
        ("👍", "👍"),
        ("Nope, moved…", "Nope, moved"),
        ("LS6 3AB.", "LS6 3AB"),
    ],
)
def test_normalise_text_keeps_case_and_emoji_for_prompt_answers(body: str, normalised: str) -> None:
    assert normalise_text(body) == normalised


def test_reading_stays_fast_on_the_longest_texts() -> None:
    # Twilio delivers bodies of up to 1,600 characters; every inbound text is classified.
    bodies = [
        "don't stop texting me " * 73,
        "stop " * 320,
        "a" * 1600,
        "remove me from the waitlist " * 57,
        "🛑" * 1600,
        "why did you " * 133,
        ("s " * 800).strip(),
    ]
    started = time.perf_counter()
    for body in bodies * 10:
        classify(body)
    assert time.perf_counter() - started < 2.0
