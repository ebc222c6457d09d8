"""Why a customer stopped ordering, read from their own words (the answer to
"why haven't we seen you lately?").

Rules, not a model: each reason has phrases (regular expressions over the text
lower-cased, accents and repeated letters folded, common misspellings
included), and a text has every reason whose phrases it holds, in the order
they appear in it ("too dear and it came cold" is price, then delivery). Nothing
found is `other`. The phrasings the rules are held to are in
tests/unit/test_reasons.py. An opt-out inside an answer never reaches here: the
inbound path reads STOP first.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel


class Reason(StrEnum):
    MOVED_AWAY = "moved_away"
    PRICE = "price"
    QUALITY = "quality"
    DELIVERY = "delivery"
    DIET = "diet"
    COMPETITOR = "competitor"
    BUSY = "busy"
    NOT_INTERESTED = "not_interested"
    OTHER = "other"


_PHRASES: dict[Reason, list[str]] = {
    Reason.MOVED_AWAY: [
        r"\bmov(ed|ing|e)\b",
        r"\bre-?locat",
        r"\bnew (house|flat|place|address|city|town|area)\b",
        r"\b(live|living|based) in \w+ now\b",
        r"\bdon'?t live\b",
        r"\bno longer (live|living)\b",
        r"\bleft (the area|town|the city|leeds|london|newcastle|\w+shire)\b",
        r"\btoo far\b",
        r"\bout of (your |the )?(area|range|delivery area)\b",
        r"\bemigrat",
        r"\bnot local\b",
        r"\bdon'?t deliver to\b",
        r"\bmiles away\b",
        r"\bnot (near|nearby) any ?more\b",
    ],
    Reason.PRICE: [
        r"\bexpens",
        r"\bexpen[cs]ive\b",
        r"\bpric(e|es|ey|y)\b",
        r"\bcost(s|ly)?\b",
        r"\bdear\b",
        r"\bafford",
        r"\btoo much\b",
        r"\brip ?-?off\b",
        r"\bskint\b",
        r"\bbroke\b",
        r"\bbudget\b",
        r"\bmoney\b",
        r"\bcheaper\b",
        r"\bdeals?\b",
        r"£|\$|💸|💰",
        r"\bsaving\b",
        r"\bcost of living\b",
        r"\bdelivery (fee|charge)s?\b",
    ],
    Reason.QUALITY: [
        r"\bquality\b",
        r"\bsoggy\b",
        r"\bburn[td]\b",
        r"\btaste[ds]?\b",
        r"\btasteless\b",
        r"\bbland\b",
        r"\bgreasy\b",
        r"\bstale\b",
        r"\bundercooked\b",
        r"\braw\b",
        r"\bgone downhill\b",
        r"\bnot (as )?good\b",
        r"\bfood poisoning\b",
        r"\bsick\b",
        r"\bhair in\b",
        r"\bwrong (order|pizza|toppings?)\b",
        r"\bmissing\b",
        r"\bdisgusting\b",
        r"\bhorrible\b",
        r"\bawful\b",
        r"\bterrible\b",
        r"\bsmaller\b",
        r"\bshrunk\b",
        r"\bless toppings\b",
        r"\bnot the same\b",
        r"🤢|🤮",
    ],
    Reason.DELIVERY: [
        r"\blate\b",
        r"\bslow\b",
        r"\btook (over |more than )?(ages|forever|hours|an hour|too long|\d+)",
        r"\bdeliver(y|ies|ed)\b(?! (area|fee|charge))",
        r"\bdriver\b",
        r"\bnever (arrived|came|turned up)\b",
        r"\bdidn'?t (arrive|come|turn up)\b",
        r"\b(arrived|came|was) (stone )?cold\b",
        r"\bcold (when|by the time)\b",
        r"\bwait(ed|ing)?\b",
        r"\bforever\b",
        r"\bages\b",
        r"\bhour late\b",
        r"\bcollection\b",
        r"⏰|🐌",
    ],
    Reason.DIET: [
        r"\bvegan\b",
        r"\bvege?tarian\b",
        r"\bveggie\b",
        r"\bgluten\b",
        r"\bc(o|e)eliac\b",
        r"\bceliac\b",
        r"\bdiet(ing)?\b",
        r"\bketo\b",
        r"\b(low|no|cutting( out)?) carbs?\b",
        r"\bhealth(y|ier)\b",
        r"\blactose\b",
        r"\bdairy\b",
        r"\ballerg",
        r"\bhalal\b",
        r"\blos(e|ing) weight\b",
        r"\bslimming\b",
        r"\bcalorie",
        r"\bgym\b",
        r"\bplant based\b",
        r"\bdoctor\b",
        r"🥗",
    ],
    Reason.COMPETITOR: [
        r"\bdomino'?s?\b",
        r"\bpapa ?johns?\b",
        r"\bpizza ?hut\b",
        r"\bdeliveroo\b",
        r"\buber ?eats\b",
        r"\bjust ?eat\b",
        r"\bsomewhere else\b",
        r"\belsewhere\b",
        r"\blocal place\b",
        r"\b(another|other|different|new) (place|shop|takeaway|pizza place)\b",
        r"\bbetter (pizza|place|deal|one)s?\b",
        r"\bfound (a |another )?(new |better |cheaper )?(place|shop|takeaway|pizza place|somewhere)\b",
        r"\bmake (my|our) own\b",
        r"\bhomemade\b",
        r"\bcook(ing)? at home\b",
        r"\bchippy\b",
    ],
    Reason.BUSY: [
        r"\bbusy\b",
        r"\bno time\b",
        r"\b(new|at) work\b",
        r"\bworking\b",
        r"\bhectic\b",
        r"\bbaby\b",
        r"\bnew job\b",
        r"\bbeen away\b",
        r"\bholiday\b",
        r"\bexams?\b",
        r"\btravel+ing\b",
        r"\bhospital\b",
        r"\bnot been (in|around|home)\b",
        r"\blife\b",
        r"\bforgot\b",
        r"\bjust haven'?t\b",
        r"\bno reason\b",
    ],
    Reason.NOT_INTERESTED: [
        r"\bnot interested\b",
        r"\bdon'?t (want|like|need|care)\b",
        r"\bno thanks\b",
        r"\bleave me alone\b",
        r"\bdon'?t eat pizza\b",
        r"\bgo(ne)? off pizza\b",
        r"\bnot (a )?fan\b",
        r"\bbored of\b",
        r"\bsick of pizza\b",
        r"\bnot for me\b",
        r"\bwhatever\b",
        r"\bmeh\b",
        r"\bmind your own\b",
        r"🙄",
    ],
}
_COMPILED = {reason: [re.compile(phrase) for phrase in phrases] for reason, phrases in _PHRASES.items()}


class FreeTextAnswer(BaseModel):
    """One answer in the customer's own words, with what it was read as."""

    prompt_id: str
    phone: str
    text: str
    reasons: list[Reason]
    at: datetime
    sid: str  # the text's MessageSid: the same text is one answer


def _folded(text: str) -> str:
    """Lower case, accents off, curly quotes straight, a letter said thrice or more said once
    ("soooo lateee" -> "so late"), runs of spaces one."""
    plain = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode("ascii")
    kept_symbols = "".join(ch for ch in text if ch in "£$" or unicodedata.category(ch) == "So")
    plain = re.sub(r"([a-z])\1{2,}", r"\1", plain)
    return " ".join(plain.split()) + (" " + kept_symbols if kept_symbols else "")


def reasons_in(text: str) -> list[Reason]:
    """Every reason the text gives, in the order it gives them; [OTHER] when none."""
    folded = _folded(text)
    found: list[tuple[int, Reason]] = []
    for reason, patterns in _COMPILED.items():
        positions = [hit.start() for pattern in patterns if (hit := pattern.search(folded))]
        if positions:
            found.append((min(positions), reason))
    return [reason for _, reason in sorted(found)] or [Reason.OTHER]
