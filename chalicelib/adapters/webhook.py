"""Twilio webhooks at the edge: form decoding, signature check, TwiML."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs, quote, quote_plus
from xml.sax.saxutils import escape

from chalicelib.domain.errors import RapportError

SIGNATURE_HEADER = "X-Twilio-Signature"
# The connection overrides (docs/operations.md) that make Twilio retry what we
# could not take: connection and read time-outs and 5xx answers, three times,
# all within Twilio's 15 s budget. Twilio reads them from the webhook URL's
# #fragment, which is not sent with the request.
CONNECTION_OVERRIDES = "rc=3&rp=ct,rt,5xx&ct=3000&rt=5000&tt=15000"


class ForgedWebhookError(RapportError):
    """The request was not signed by Twilio with our auth token."""


class WebhooksDisabledError(RapportError):
    """No auth token is configured, so no webhook can be trusted."""


class MalformedFormError(RapportError, ValueError):
    """The body is not a readable form."""


class _MultiMapping(Protocol):
    """chalice's MultiDict (request.query_params): every value of a key, in order."""

    def __iter__(self) -> Iterator[str]: ...
    def getlist(self, key: str) -> list[str]: ...


Query = Mapping[str, str] | Mapping[str, Sequence[str]] | _MultiMapping
Fields = Mapping[str, str] | Mapping[str, Sequence[str]]


def decode_fields(raw_body: bytes | str) -> dict[str, list[str]]:
    """Every value of every field, as posted (what Twilio signed)."""
    try:
        text = raw_body if isinstance(raw_body, str) else raw_body.decode("utf-8")
        return parse_qs(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
    except (UnicodeDecodeError, ValueError) as error:
        raise MalformedFormError(f"body is not a URL-encoded form: {error}") from None


def decode_form(raw_body: bytes | str) -> dict[str, str]:
    """Twilio posts each field once; a repeated field keeps its last value."""
    return {name: values[-1] for name, values in decode_fields(raw_body).items()}


# --- the URL Twilio signed -----------------------------------------------------
#
# Twilio signs the webhook URL exactly as it is configured (minus the
# #fragment of connection overrides). API Gateway (REST) and chalice hand the
# handler only the decoded query parameters, grouped by key, so the query
# string is rebuilt in every way an operator may have written it: spaces as
# %20 or +, reserved characters escaped or not, UTF-8 escaped or not, upper- or
# lower-case hex, a blank value with or without "=", and the keys in the order
# given, interleaved (a=1&b=2&a=3) or sorted. Every candidate decodes to the
# very parameters received, so accepting any of them accepts nothing else.

# Legal unescaped in a query (RFC 3986 sub-delims, ":", "@", "/", "?") but for
# the separators "&", "#" and a key's "="; "+" only where a space is not "+".
_RAW_IN_KEY = "!$'()*,;:@/?+"
_RAW_IN_VALUE = _RAW_IN_KEY + "="
_HEX = re.compile(r"%[0-9A-F]{2}")


@dataclass(frozen=True)
class _Spelling:
    plus_for_space: bool
    raw_reserved: bool
    raw_unicode: bool
    lower_hex: bool
    bare_blank: bool

    def component(self, text: str, raw: str) -> str:
        safe = raw if self.raw_reserved else ""
        if self.plus_for_space:
            safe = safe.replace("+", "")  # a literal "+" must then be %2B
        escape_ascii: Callable[[str], str] = (
            (lambda s: quote_plus(s, safe=safe)) if self.plus_for_space else (lambda s: quote(s, safe=safe))
        )
        if self.raw_unicode:
            spelled = "".join(ch if ord(ch) > 0x7F else escape_ascii(ch) for ch in text)
        else:
            spelled = escape_ascii(text)
        return _HEX.sub(lambda m: m.group().lower(), spelled) if self.lower_hex else spelled

    def pair(self, key: str, value: str) -> str:
        if self.bare_blank and not value:
            return self.component(key, _RAW_IN_KEY)
        return f"{self.component(key, _RAW_IN_KEY)}={self.component(value, _RAW_IN_VALUE)}"


_SPELLINGS = tuple(_Spelling(*flags) for flags in itertools.product((False, True), repeat=5))


def query_items(query: Query | None) -> list[tuple[str, list[str]]]:
    """Each key with all its values, in the order given."""
    if not query:
        return []
    getlist = getattr(query, "getlist", None)
    items: list[tuple[str, list[str]]] = []
    for key in query:
        values: Any = getlist(key) if getlist is not None else query[key]  # type: ignore[index]
        items.append((key, [values] if isinstance(values, str) else list(values)))
    return items


def _orders(items: list[tuple[str, list[str]]]) -> Iterator[list[tuple[str, str]]]:
    yield [(key, value) for key, values in items for value in values]  # grouped, as given
    rounds = itertools.zip_longest(*[[(key, value) for value in values] for key, values in items])
    yield [pair for round_ in rounds for pair in round_ if pair is not None]  # a=1&b=2&a=3
    yield [(key, value) for key, values in sorted(items) for value in values]


def query_strings(query: Query | None) -> list[str]:
    """Every spelling of the query Twilio may have signed; the first is the canonical one."""
    items = query_items(query)
    if not items:
        return [""]
    found: dict[str, None] = {}
    for spelling in _SPELLINGS:
        for order in _orders(items):
            found.setdefault("&".join(spelling.pair(key, value) for key, value in order))
    return list(found)


def signed_urls(public_base_url: str, path: str, query: Query | None) -> list[str]:
    """The URLs Twilio may have signed: the public base (scheme, host, stage
    prefix), which neither API Gateway's nor chalice local's request context
    knows, the route's path, and the query as the operator wrote it. With and
    without the port is RequestValidator's own concern."""
    url = public_base_url.rstrip("/") + path
    return [f"{url}?{q}" if q else url for q in query_strings(query)]


def signed_url(public_base_url: str, path: str, query: Query | None) -> str:
    """The canonical one of `signed_urls`: RFC 3986 escapes, %20 for a space."""
    return signed_urls(public_base_url, path, query)[0]


class _FormFields(dict[str, list[str]]):
    """All values of a field, the way RequestValidator reads a MultiDict."""

    def getlist(self, key: str) -> list[str]:
        return self[key]


def _form_fields(form: Fields) -> _FormFields:
    return _FormFields({k: [v] if isinstance(v, str) else list(v) for k, v in form.items()})


def verify_signature(auth_token: str, url: str | Iterable[str], form: Fields, signature: str | None) -> None:
    """Twilio's signature over one of the candidate URLs and the form.

    Each URL is also tried with the #fragment of CONNECTION_OVERRIDES: Twilio's
    documentation does not say whether the fragment is signed (by URL rules it
    is not part of the request), and a mistake there would refuse every text.
    """
    if not auth_token:
        raise WebhooksDisabledError("TWILIO_AUTH_TOKEN is not configured; webhooks are refused")
    if not signature:
        raise ForgedWebhookError(f"missing {SIGNATURE_HEADER}")
    from twilio.request_validator import RequestValidator  # only webhook paths pay for the import

    validator = RequestValidator(auth_token)
    fields = _form_fields(form)
    urls = [url] if isinstance(url, str) else list(url)
    for candidate in urls + [f"{u}#{CONNECTION_OVERRIDES}" for u in urls if "#" not in u]:
        if validator.validate(candidate, fields, signature):
            return
    raise ForgedWebhookError(f"{SIGNATURE_HEADER} does not match")


def verified_form(
    auth_token: Callable[[], str],
    public_base_url: str,
    path: str,
    query: Query | None,
    raw_body: bytes | str,
    signature: str | None,
) -> dict[str, str]:
    """The form, once Twilio's signature over the URL it called and every
    posted value checks out; a repeated field keeps its last value."""
    fields = decode_fields(raw_body)
    verify_signature(auth_token(), signed_urls(public_base_url, path, query), fields, signature)
    return {name: values[-1] for name, values in fields.items()}


def twiml(reply: str) -> str:
    if not reply:
        return '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    return f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escape(reply)}</Message></Response>'
