"""Reading an inbound text for opt-out, opt-in and help keywords.

People do not type keywords the way a parser would like: `STOP 🛑`, `ＳＴＯＰ`,
`Stop pls`, `stoooop`, `STOP ALL`, `unsubscribe me`, `please stop texting me`.
Every inbound text passes through `classify`, so it is a pure function over a
few precompiled regular expressions.

How a text is read (docs/policies.md, "Keywords and opt-outs: exactly what
Rapport recognises", is the contract):

1. Folded: NFKC (full-width and styled letters become plain ones), zero-width
   and other invisible characters removed, curly apostrophes made straight,
   casefolded, accents dropped (ARRÊT is ARRET).
2. Split into sentences at punctuation and emoji, sentences into words; any
   run of a repeated letter counts once ("stoooop", "STOPPP" are "stop").
3. The whole message is a keyword when, with courtesy words ("please", "pls",
   "thanks", "now"...) left out, it is one keyword, possibly repeated
   ("STOP STOP"), written in two words ("STOP ALL", "OPT OUT") or spelled out
   ("S T O P"). The answer carries the canonical keyword ("STOPALL"). A bare
   YES (no courtesy words) is an opt-in, unless a question awaits its answer.
4. Otherwise a sentence is an opt-out when it asks for the texts to stop
   ("stop texting me", "remove me from your list", "unsubscribe me", "no more
   texts", "wrong number"...), unless the request is negated ("don't stop
   texting me") or the writer speaks of their own texting ("I'll stop texting
   you"). A first or last sentence that is a bare STOP/UNSUBSCRIBE also counts
   ("STOP. I moved away"). These answer NATURAL_LANGUAGE.

Anything else is ordinary text (None): it opens a conversation for a person.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class KeywordKind(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


# Twilio's default keywords: the single words Twilio itself acts on (and the
# local simulator mimics). Rapport recognises them in every written form above.
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
PROMPT_SENSITIVE_WORDS = frozenset({"YES"})  # an answer to a question, not a re-subscription

# Keywords in other languages that Rapport recognises on its own account
# (Twilio's defaults are English-only; sources in docs/policies.md).
OTHER_LANGUAGE_OPT_OUT_WORDS = frozenset({"ARRET", "ARRETE", "ALTO"})
OTHER_LANGUAGE_HELP_WORDS = frozenset({"AIDE", "AYUDA"})

# The FCC's revocation words (47 CFR 64.1200(a)(10)); every one is an opt-out keyword above.
REVOCATION_WORDS = ("stop", "quit", "end", "revoke", "opt out", "cancel", "unsubscribe")

NATURAL_LANGUAGE = "natural_language"


@dataclass(frozen=True)
class Keyword:
    kind: KeywordKind
    word: str  # the canonical keyword ("STOP" for "ＳＴＯＰ 🛑"), or NATURAL_LANGUAGE


# --- folding ---------------------------------------------------------------

_APOSTROPHES = str.maketrans({c: "'" for c in "\u2018\u2019\u201b\u02bc\u02b9\u0060\u00b4\u2032\uff07"})
# Zero-width and format characters, variation selectors, tags: invisible, never meaningful here.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)
_NUMBER_SIGN = re.compile(r"(?<=wrong)\s*#")
_TRAILING_PUNCTUATION = re.compile(r"[\s.!?,;:…'\"]+$")


def normalise_text(body: str) -> str:
    """The text trimmed, NFKC-normalised (full-width letters become plain),
    with invisible characters removed, apostrophes made straight and trailing
    punctuation dropped. Case and emoji are kept (prompt answers use both)."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", body.translate(_APOSTROPHES)))
    return _TRAILING_PUNCTUATION.sub("", text.strip())


def _fold(body: str) -> str:
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", body.translate(_APOSTROPHES))).casefold()
    text = _NUMBER_SIGN.sub(" number", text)  # "wrong #"
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return text


# Sentences end at punctuation, emoji and other symbols; apostrophes, quotes,
# hyphens and slashes only separate words ("opt-out" is "opt out").
_BREAKS = re.compile(r"[^\w\s'\"\-/]+")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_REPEATS = re.compile(r"([^\W\d_])\1+")


def _collapse(word: str) -> str:
    return _REPEATS.sub(r"\1", word)


def _collapse_pattern(pattern: str) -> str:
    """A pattern written in plain spelling, with runs of a repeated letter
    collapsed the way the text is (escapes such as \\b and \\s are kept)."""
    out: list[str] = []
    previous = ""
    escaped = False
    for char in pattern:
        if escaped:
            out.append(char)
            escaped, previous = False, ""
        elif char == "\\":
            out.append(char)
            escaped, previous = True, ""
        elif char.isalpha() and char == previous:
            continue
        else:
            out.append(char)
            previous = char if char.isalpha() else ""
    return "".join(out)


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(_collapse_pattern(pattern))


def _sentences(folded: str) -> list[list[str]]:
    sentences = []
    for part in _BREAKS.split(folded):
        words = [_collapse(word) for word in _WORD.findall(part)]
        if words:
            sentences.append(words)
    return sentences


# --- whole-message keywords --------------------------------------------------


def _keyword_table() -> dict[str, Keyword]:
    table: dict[str, Keyword] = {}
    groups: tuple[tuple[KeywordKind, Iterable[str]], ...] = (
        (KeywordKind.OPT_OUT, sorted(OPT_OUT_WORDS) + sorted(OTHER_LANGUAGE_OPT_OUT_WORDS)),
        (KeywordKind.OPT_IN, sorted(OPT_IN_WORDS)),
        (KeywordKind.HELP, sorted(HELP_WORDS) + sorted(OTHER_LANGUAGE_HELP_WORDS)),
    )
    for kind, words in groups:
        for word in words:
            table.setdefault(_collapse(word.casefold()), Keyword(kind, word))
    return table


_KEYWORDS = _keyword_table()
_COURTESY = frozenset(
    _collapse(word)
    for word in (
        *("please", "pls", "plz", "plez", "plse", "pleez", "pleeze", "now", "asap", "again", "already", "just"),
        *("thanks", "thank", "thx", "thnx", "tnx", "tx", "ty", "thankyou", "cheers", "ta", "ok", "okay", "k"),
        *("sorry", "hi", "hello", "hey", "right", "immediately", "seriously", "guys"),
    )
)
_THANKED = frozenset({"you", "u"})  # courtesy after "thank"
# A bare one of these as a first or last sentence is an opt-out ("STOP. I moved away").
_SENTENCE_OPT_OUTS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "OPTOUT", "REVOKE"})


@dataclass(frozen=True)
class _Reading:
    keywords: tuple[Keyword, ...]
    courteous: bool  # courtesy words were left out


def _read_keywords(words: list[str]) -> _Reading | None:
    """The keywords a run of words consists of, or None when any word is
    neither a keyword nor a courtesy word."""
    if len(words) > 1 and all(len(word) == 1 for word in words):
        words = [_collapse("".join(words))]  # spelled out: "S T O P", "s.t.o.p"
    found: list[Keyword] = []
    courteous = False
    i = 0
    while i < len(words):
        word = words[i]
        if i + 1 < len(words) and (pair := _KEYWORDS.get(_collapse(word + words[i + 1]))):
            found.append(pair)  # "stop all", "opt out", "un stop"
            i += 2
            continue
        if keyword := _KEYWORDS.get(word):
            found.append(keyword)
        elif word in _COURTESY or (word in _THANKED and i and words[i - 1] == "thank"):
            courteous = True
        else:
            return None
        i += 1
    return _Reading(tuple(found), courteous) if found else None


def _whole_message(reading: _Reading, awaiting_answer: bool) -> Keyword | None:
    opt_outs = [k for k in reading.keywords if k.kind == KeywordKind.OPT_OUT]
    if opt_outs:
        return opt_outs[0]  # an opt-out among keywords wins: "STOP HELP" stops
    kinds = {k.kind for k in reading.keywords}
    if len(kinds) > 1:
        return None  # "HELP START": unclear, a person reads it
    if kinds == {KeywordKind.HELP}:
        return reading.keywords[0]
    chosen = next((k for k in reading.keywords if k.word not in PROMPT_SENSITIVE_WORDS), None)
    if chosen is not None:
        return chosen
    if reading.courteous or awaiting_answer:
        return None  # "yes please" is an answer or a reply, not a re-subscription
    return reading.keywords[0]


# --- sentences that ask for the texts to stop --------------------------------


def _alt(*choices: str) -> str:
    return "(?:" + "|".join(choices) + ")"


_STOP = _alt("stop", "quit", "cease", "halt", "pause", "discontinue", "end")
# What the brand does: texting, sending...
_AGENT_VERB = _alt(
    *("texting", "txting", "texing", "text", "txt", "messaging", "msging", "message", "msg", "sending", "send"),
    *("contacting", "contact", "spamming", "spam", "calling", "emailing", "bugging", "bothering", "harassing"),
    *("pestering", "blowing up"),
)
# What people call the texts: the channel, and what the texts carry.
_CHANNEL = _alt(
    *(r"texts?", r"txts?", r"messages?", r"msgs?", "sms", "smses", "spam", r"promos?", r"promotions?"),
    *(r"notifications?", r"alerts?", "ads", r"adverts?", r"advertisements?", "marketing", r"subscriptions?"),
    *(r"newsletters?", "emails", "mensajes", "textos"),
)
_NOUN = _alt(_CHANNEL, "deals", "offers", "coupons", "updates", "reminders")
# Words that may stand before such a noun: "stop all these stupid texts".
_DET = _alt(
    *("all", "the", "your", "ur", "these", "those", "this", "that", "any", "further", "future", "more", "such"),
    *("my", "automated", "auto", "daily", "weekly", "text", "sms", "promo", "promotional", "marketing"),
    *("annoying", "stupid", "damn", "fucking", "bloody", "spam", "junk", r"sales?", "pizza", "order"),
)
_DETS = rf"(?:{_DET}\s+){{0,3}}"
_ME = _alt("me", "us", "this number", "this phone", "my number", "my phone", "my cell", "my mobile", "here", "this")
_AFTER_AGENT = _alt(
    r"\s+"
    + _alt(_ME, "anymore", "any more", "again", "now", "please", "pls", "plz", "thanks", "thx", "them", "these")
    + r"\b",
    r"\s+" + _alt("those", "that", "stuff", "crap", "junk", "shit", "things", "to me", "ever") + r"\b",
    rf"\s+{_DETS}{_NOUN}\b",
    r"\s*$",
)
_OBJECT = _alt(
    "me", "us", r"my (?:phone |cell |mobile )?(?:number|no)", r"this (?:phone |cell )?number",
    "my details", "my info", r"my contact(?: info)?", "my data", "my name",
)  # fmt: skip
_LIST = _alt("list", "lists", "database", "system", "contacts", "texts", "messages", "group", "program", "club")
_NOT_TEXTS = _alt(
    r"wait\s?list", "waiting list", "reservation", "booking", "order", "queue", "table", "delivery", "cart"
)

# The brand's texting: "stop texting me", "quit sending these", "stop messaging this number".
# Needs the request not negated, and not the writer's own texting.
_STOP_TEXTING = _compile(rf"\b{_STOP}\s+(?:{_DET}\s+){{0,2}}{_AGENT_VERB}{_AFTER_AGENT}")
# Needs the request not negated.
_REQUESTS = [
    _compile(pattern)
    for pattern in (
        # stop these texts / cancel my subscription / end the promos / no more messages
        rf"\b{_alt(_STOP, 'cancel', 'unsubscribe from', 'opt out of')}\s+{_DETS}{_NOUN}\b",
        rf"\b{_alt('no more', 'enough', 'enough with')}\s+{_DETS}{_CHANNEL}\b",
        # I want to stop getting these
        rf"\b{_alt('stop', 'quit', 'cease')}\s+{_alt('receiving', 'getting')}\s+"
        + _alt(rf"{_DETS}{_NOUN}", "these", "them", "those", "this", "that")
        + r"\b",
        # remove me (from your list) / delete my number / unsubscribe me
        r"\b"
        + _alt("remove", "delete", "erase", "unsubscribe", "unsub", "unenroll", "unenrol", "unregister", "deregister")
        + rf"\s+{_OBJECT}\b(?!\s+from\s+{_alt('the', 'my', 'your', 'this')}\s+{_NOT_TEXTS})",
        # take me off (your list) / get my number off / sign me out of the texts
        rf"\b{_alt('take', 'get', 'scratch', 'cross', 'strike', 'sign')}\s+{_OBJECT}\s+"
        + _alt(r"off\b", rf"out of\s+{_alt('your', 'the', 'this', 'ur', 'all')}\s+(?:\w+\s+)?{_LIST}\b"),
        # opt me out / lose my number
        rf"\bopt\s+{_OBJECT}\s+out\b",
        r"\blose (?:my|this) number\b",
        # remove this from your list
        rf"\b{_alt('remove', 'delete', 'unsubscribe', 'unsub')}\s+(?:\w+\s+){{0,2}}{_alt('off', 'from', 'out of')}\s+"
        rf"{_alt('your', 'the', 'this', 'ur', 'all')}\s+(?:\w+\s+)?{_alt('list', 'lists', 'database', 'contacts')}\b",
        # unsubscribe or opt out anywhere: "I want to opt out", "how do I unsubscribe"
        r"\b"
        + _alt("unsubscribe", "unsubscribing", "unsub", "unsubcribe", "unsuscribe", "unsubscibe", "unsubsribe")
        + r"\b",
        rf"\b{_alt('opt out', 'opting out', 'optout')}\b",
        rf"\b{_alt('i', 'already')}\s+{_alt('opted out', 'unsubscribed')}\b",
        # I revoke my consent / withdraw consent
        rf"\b{_alt('revoke', 'revoking', 'withdraw', 'withdrawing', 'rescind', 'cancel')}\s+"
        rf"{_alt('my', 'all', 'your', 'the')}?\s*{_alt('consent', 'permission', 'authori[sz]ation', 'opt in')}\b",
        r"\bi revoke\b",
        # I want the texts to stop / these messages need to stop
        rf"\b{_DETS}{_NOUN}\s+{_alt('to', 'must', 'need to', 'needs to', 'have to', 'has to', 'should', 'gotta')}"
        r"\s+(?:stop|end)\b",
        # I'm reporting you
        rf"\b{_alt('report', 'reporting', 'reported')}\s+{_alt('you', 'u', 'this number', 'your number')}\b",
        # leave me alone / wrong number
        r"\bleave (?:me|us) alone\b",
        rf"\bwrong {_alt('number', 'num', 'no', 'person', 'phone')}\b",
        # I said STOP / I already replied stop
        rf"\b{_alt('said', 'told you', 'typed', 'texted', 'replied', 'replying', 'sent', 'wrote')}\s+"
        rf"(?:{_alt('to', 'the word', 'already')}\s+){{0,2}}"
        + _alt("stop", "stopall", "unsubscribe", "optout", "opt out", "quit", "end", "cancel")
        + r"\b",
    )
]
_NEGATIVE = _alt("don't", "dont", "do not", "never")
# These carry their own negation: "don't text me", "I don't want these texts".
_REFUSALS = [
    _compile(pattern)
    for pattern in (
        # don't text me (but not "you never text me", "why don't you text me")
        rf"(?<!you )(?<!u )(?<!they )(?<!why )\b{_NEGATIVE}\s+(?:ever\s+)?"
        + _alt("text", "txt", "message", "msg", "sms", "contact", "spam", "bother", "bug", "harass")
        + rf"\s+{_alt(_ME, 'again', 'anymore', 'any more', 'ever again')}\b",
        rf"\b{_NEGATIVE}\s+(?:ever\s+)?send\s+{_alt('me', 'us', 'this number')}\s+{_DETS}{_NOUN}\b",
        # I don't want these texts (but not "I don't want the texts to stop")
        rf"\b{_alt(_NEGATIVE, 'no longer')}\s+{_alt('want', 'wish')}\s+"
        rf"(?:to\s+{_alt('receive', 'get', 'have')}\s+)?{_DETS}{_NOUN}\b(?!\s+to\s+{_alt('stop', 'end', 'quit')})",
        rf"\b{_alt(_NEGATIVE, 'no longer')}\s+{_alt('want', 'wish')}\s+to\s+{_alt('receive', 'get')}\s+"
        + _alt("these", "them", "those", "this", "anything", "any")
        + r"\b",
        rf"\b{_alt(_NEGATIVE, 'no longer')}\s+{_alt('want', 'wish')}\s+to\s+be\s+"
        + _alt("contacted", "texted", "messaged", "spammed")
        + r"\b",
        rf"\bnot interested in\s+{_DETS}{_NOUN}\b",
        # could you not text me
        rf"\b{_alt('can', 'could', 'would', 'will')}\s+(?:you|u)\s+(?:please\s+)?not\s+"
        rf"{_alt('text', 'txt', 'message', 'msg', 'contact', 'spam')}\s+(?:me|us)\b",
        # I never signed up for these texts
        r"\b"
        + _alt("never", "didn't", "didnt", "did not")
        + r"\s+"
        + _alt("sign up", "signed up", "subscribe", "subscribed", "opt in", "opted in", "ask for", "asked for")
        + _alt(
            rf"\s+(?:for|to)\s+{_DETS}{_NOUN}\b",
            rf"\s+(?:for|to)\s+{_alt('this', 'these', 'them', 'it')}\s*$",
            r"\s*$",
        ),
        # how do I make these texts stop
        rf"\bmake\s+{_DETS}{_alt(_NOUN, 'them', 'these', 'it')}\s+stop\b",
    )
]
_POLITE = _alt("please", "pls", "plz", "just", "ok", "now", "thanks", "thx", "sorry")
# A sentence that is only this, courtesy aside: "remove", "no more", "stop it".
_BARE_SENTENCE = _compile(
    rf"^(?:{_POLITE}\s+)*"
    + _alt(
        *("remove", "remove me", "unsub", "no more", "no mas", "no mas mensajes"),
        *("stop it", "quit it", "stop this", "stop that", "enough already"),
    )
    + rf"(?:\s+{_alt(_POLITE, 'thank you', 'already', 'asap')})*$"
)
# "STOP I moved away", "stop im not interested": a stop word, then a reason.
_STOP_THEN_REASON = _compile(
    rf"^(?:{_POLITE}\s+)*{_alt('stop', 'stopall', 'stop all', 'unsubscribe', 'optout', 'opt out')}\s+"
    rf"(?:{_POLITE}\s+)*"
    + _alt(
        *("i", "i'm", "im", "i've", "ive", "we", "we're", "we've", "this is", "not", "no longer", "moved"),
        *("wrong", "you're", "youre", "already", "or"),
    )
    + r"(?=\s|$)"
)

_NEGATOR = _alt(
    *("don't", "dont", "do not", "doesn't", "doesnt", "does not", "didn't", "didnt", "did not", "never", "not"),
    *("won't", "wont", "will not", "can't", "cant", "cannot", "can not", "couldn't", "couldnt", "wouldn't"),
    *("wouldnt", "shouldn't", "shouldnt", "no need to", "why did you", "why'd you", "did you", "why would you"),
)
_NEGATION_FILLER = _alt(
    *("ever", "you", "u", "ya", "dare", "want", "wanna", "to", "gonna", "going", "need", "just", "even"),
    *("please", "pls", "y'all", "yall", "guys", "wish"),
)
_NEGATED = _compile(rf"\b{_NEGATOR}\s+(?:{_NEGATION_FILLER}\s+){{0,3}}$")
# ...except in an exasperated question: "why won't you stop texting me", "can't you just stop".
_EXASPERATED = _compile(
    _alt(
        r"\bwhy\s+" + _alt("won't", "wont", "can't", "cant", "don't", "dont"),
        "^" + _alt("won't", "wont", "can't", "cant"),
    )
    + r"\s+"
    + _alt("you", "u", "ya", "y'all", "yall", "they")
    + r"\s+(?:(?:just|ever|please)\s+)*$"
)
# The writer's own texting: "I'll stop texting you", "I can stop sending photos".
_SELF = _compile(
    r"\b"
    + _alt("i", "we", "i'll", "ill", "i'd", "i'm", "im", "we'll", "we'd", "we're")
    + r"\s+"
    + "(?:"
    + _alt(
        *("will", "can", "could", "might", "may", "would", "should", "shall", "am", "gonna", "going", "to"),
        *("have", "had", "need", "just", "also", "probably", "must", "better"),
    )
    + r"\s+){0,3}$"
)
_LOOK_BACK = 80  # characters before a match searched for a negation


def _asked(pattern: re.Pattern[str], sentence: str, *, own_texting_counts: bool = True) -> bool:
    for found in pattern.finditer(sentence):
        before = sentence[max(0, found.start() - _LOOK_BACK) : found.start()]
        if _NEGATED.search(before) and not _EXASPERATED.search(before):
            continue
        if not own_texting_counts and _SELF.search(before):
            continue
        return True
    return False


def _requested(sentence: str) -> bool:
    return (
        _asked(_STOP_TEXTING, sentence, own_texting_counts=False)
        or any(_asked(pattern, sentence) for pattern in _REQUESTS)
        or any(pattern.search(sentence) for pattern in _REFUSALS)
    )


def _bare_stop(words: list[str]) -> bool:
    reading = _read_keywords(words)
    return reading is not None and all(k.word in _SENTENCE_OPT_OUTS for k in reading.keywords)


def _natural_opt_out(sentences: list[list[str]]) -> bool:
    texts = [" ".join(words) for words in sentences]
    if any(_requested(text) or _BARE_SENTENCE.search(text) for text in texts):
        return True
    if _STOP_THEN_REASON.search(texts[0]):
        return True
    return len(sentences) > 1 and (_bare_stop(sentences[0]) or _bare_stop(sentences[-1]))


def classify(body: str, *, awaiting_answer: bool = False) -> Keyword | None:
    """Return the keyword a message is, or None when it is ordinary text.

    `awaiting_answer`: a question is open for this contact, so YES is its
    answer rather than an opt-in.
    """
    sentences = _sentences(_fold(body))
    if not sentences:
        return None
    reading = _read_keywords([word for words in sentences for word in words])
    if reading is not None:
        return _whole_message(reading, awaiting_answer)
    if _natural_opt_out(sentences):
        return Keyword(KeywordKind.OPT_OUT, NATURAL_LANGUAGE)
    return None
