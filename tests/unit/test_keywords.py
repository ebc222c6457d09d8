import pytest

from chalicelib.domain.keywords import NATURAL_LANGUAGE, KeywordKind, classify


@pytest.mark.parametrize(
    "body",
    ["STOP", "stop", " Stop. ", "STOP!", "StopAll", "UNSUBSCRIBE", "cancel", "END", "quit", "REVOKE", "optout"],
)
def test_opt_out_keywords_are_whole_message_any_case_trailing_punctuation_ignored(body: str) -> None:
    keyword = classify(body)
    assert keyword is not None and keyword.kind == KeywordKind.OPT_OUT
    assert keyword.word == body.strip().rstrip(".!").upper()


@pytest.mark.parametrize("body", ["START", "unstop", "Yes", "YES!"])
def test_opt_in_keywords(body: str) -> None:
    keyword = classify(body)
    assert keyword is not None and keyword.kind == KeywordKind.OPT_IN


@pytest.mark.parametrize("body", ["HELP", "help?", "Info"])
def test_help_keywords(body: str) -> None:
    keyword = classify(body)
    assert keyword is not None and keyword.kind == KeywordKind.HELP


def test_yes_answers_an_open_question_instead_of_opting_in() -> None:
    assert classify("YES", awaiting_answer=True) is None
    start = classify("START", awaiting_answer=True)
    assert start is not None and start.kind == KeywordKind.OPT_IN


@pytest.mark.parametrize(
    "body",
    [
        "please stop texting me",
        "Stop please",
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
    ],
)
def test_ordinary_texts_are_not_keywords(body: str) -> None:
    assert classify(body) is None
