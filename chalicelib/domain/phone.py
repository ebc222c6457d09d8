"""Phone numbers: E.164 normalisation, and the time zones and places a number may be in."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

from chalicelib.domain.errors import InvalidPhoneError
from chalicelib.domain.jurisdictions import NANP_PLACES

UNKNOWN_ZONE = "Etc/Unknown"


def normalise(raw: str, default_region: str | None = None) -> str:
    """Return the E.164 form of `raw`, or raise InvalidPhoneError saying why.

    Numbers must carry a country code (`+44…`) unless `default_region` is
    given. "Possible" (right length for the country) is the bar rather than
    "valid": ranges reserved for testing and drama (+44 7700 900xxx) are
    real-shaped numbers that Twilio test tooling uses.
    """
    text = raw.strip()
    if not text:
        raise InvalidPhoneError("phone number is empty")
    if text[0].isdigit() and default_region is None:
        text = "+" + text  # E.164 written without its plus, as URLs often do
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhoneError(f"not a phone number: {error}") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhoneError("not a possible phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=4096)  # every text from a number may create its contact: look it up once
def country_of(e164: str) -> str:
    """The number's country (ISO 3166 alpha-2: GB, US): its own when the number is
    known to be valid, else its calling code's main country (+44: GB, +1: US)."""
    number = phonenumbers.parse(e164)
    own: str | None = phonenumbers.region_code_for_number(number)
    return own or phonenumbers.region_code_for_country_code(number.country_code or 0)


def time_zone_candidates(e164: str) -> tuple[str, ...]:
    """Every IANA zone the number could be in, narrowest data first.

    Falls back to the zones of the whole country when the number's own prefix
    is unknown, so a quiet-hours window can still be computed safely.
    """
    from phonenumbers import timezone  # the zone tables are large: load on first use
    from phonenumbers.tzdata import TIMEZONE_DATA

    number = phonenumbers.parse(e164)
    zones = tuple(z for z in timezone.time_zones_for_number(number) if z != UNKNOWN_ZONE)
    if zones:
        return zones
    return tuple(TIMEZONE_DATA.get(str(number.country_code), ()))


def places_for_number(e164: str) -> tuple[str, ...]:
    """Where the number says its holder is: ("US-CT",) from a Connecticut area
    code, ("CA-ON",) from a Toronto one; otherwise the country alone ("US" for a
    toll-free or other non-geographic US number, "GB", "AU"); () if unknown.

    Cheap and table-driven (the NANP area-code map in `jurisdictions`, built from
    phonenumbers' geocoder data): the geocoder itself costs ~0.4 s and ~100 MB
    to load, too much for a Lambda's first text.
    """
    if e164.startswith("+1"):
        return NANP_PLACES.get(e164[2:5]) or _nanp_country(e164)
    for length in (1, 2, 3):  # country calling codes are prefix-free: the first one known is the one
        digits = e164[1 : 1 + length]
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(digits)) if digits.isdigit() else None
        if regions:
            return (regions[0],) if regions[0] != "001" else ()  # "001": non-geographic (satellite, UIFN)
    return ()


@lru_cache(maxsize=1024)  # toll-free and Caribbean numbers only: rare, and parsing costs
def _nanp_country(e164: str) -> tuple[str, ...]:
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164))
    except phonenumbers.NumberParseException:
        return ()
    return (region,) if region else ()


def sender_address(raw: str) -> str:
    """Normalise one of the brand's own numbers: E.164, or a short code as is."""
    text = raw.strip()
    if text.isdigit() and 3 <= len(text) <= 8:
        return text
    return normalise(text)
