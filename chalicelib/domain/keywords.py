"""Reading an inbound text for opt-out, opt-in and help keywords.

Keywords are matched on the whole message, trimmed, case-insensitive, with
trailing punctuation ignored. Natural-language opt-outs ("please stop texting
me") count too, but a negated request ("don't stop") never does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class KeywordKind(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
PROMPT_SENSITIVE_WORDS = frozenset({"YES"})  # an answer to a question, not a re-subscription

NATURAL_LANGUAGE = "natural_language"


@dataclass(frozen=True)
class Keyword:
    kind: KeywordKind
    word: str  # the keyword as matched, or NATURAL_LANGUAGE


_TRAILING_PUNCTUATION = re.compile(r"[\s.!?,;:…'\"]+$")
_NEGATION = r"(?<!don't )(?<!dont )(?<!do not )(?<!never )(?<!won't )(?<!not )(?<!can't )"
_NATURAL_OPT_OUTS = [
    re.compile(pattern)
    for pattern in (
        r"^(please )?stop( please| it| now| now please| thanks| thank you)?$",
        _NEGATION + r"\b(stop|quit|cease) (texting|messaging|txting|sending|contacting|spamming)\b",
        r"\b(remove|delete|take) (me|my number|this number)( off| from)\b",
        r"\bunsubscribe me\b",
        r"\bopt (me )?out\b",
        r"\b(no more) (texts|messages|sms|txts)\b",
        r"\b(don't|dont|do not|never) (text|message|txt|sms|contact) (me|this number)\b",
        r"\bleave me alone\b",
        r"\bwrong number\b",
    )
]


def normalise_text(body: str) -> str:
    return _TRAILING_PUNCTUATION.sub("", body.strip()).replace("’", "'")


def classify(body: str, *, awaiting_answer: bool = False) -> Keyword | None:
    """Return the keyword a message is, or None when it is ordinary text.

    `awaiting_answer`: a question is open for this contact, so YES is its
    answer rather than an opt-in.
    """
    text = normalise_text(body)
    word = text.upper()
    if word in OPT_OUT_WORDS:
        return Keyword(KeywordKind.OPT_OUT, word)
    if word in HELP_WORDS:
        return Keyword(KeywordKind.HELP, word)
    if word in OPT_IN_WORDS and not (awaiting_answer and word in PROMPT_SENSITIVE_WORDS):
        return Keyword(KeywordKind.OPT_IN, word)
    lowered = " ".join(text.lower().split())
    if any(pattern.search(lowered) for pattern in _NATURAL_OPT_OUTS):
        return Keyword(KeywordKind.OPT_OUT, NATURAL_LANGUAGE)
    return None
