"""Query parameters, read one way on every route.

A bad value answers 400 with a JSON reason naming the parameter, never a
500: digits are ASCII only ("²".isdigit() is True but int("²") fails, and
int() would take "١٢" or " 12"), a parameter given twice is refused rather
than one of its values picked, and a blank one is refused rather than taken
as unset. Parameters a route does not read are ignored, on every route.
"""

from __future__ import annotations

import re

from chalice.app import BadRequestError, Request

__all__ = ["query_int", "query_text"]

_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")  # nine digits: bounded before int() is asked


def query_text(request: Request, name: str) -> str | None:
    """The parameter's one value, or None when it is not given."""
    params = request.query_params  # a MultiDict, or None when there is no query string
    values = params.getlist(name) if params is not None and name in params else []
    if not values:
        return None
    if len(values) > 1:
        raise BadRequestError(f"{name}: give it once, not {len(values)} times")
    value: str = values[0]
    return value


def query_int(request: Request, name: str, default: int, lowest: int, highest: int) -> int:
    """A whole number from `lowest` to `highest`; `default` when not given."""
    raw = query_text(request, name)
    if raw is None:
        return default
    if not _WHOLE_NUMBER.fullmatch(raw) or not lowest <= int(raw) <= highest:
        shown = raw if len(raw) <= 20 else raw[:20] + "…"
        raise BadRequestError(f"{name}: a whole number from {lowest} to {highest}, not {shown!r}")
    return int(raw)
