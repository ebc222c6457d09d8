"""GET /l/{token}: a recipient's short link, redirected to its target and its
first click counted (services/links.py). Public: the handset has no key."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.bootstrap import deps
from chalicelib.domain.links import PATH
from chalicelib.entrypoints.http import error_answer
from chalicelib.services.links import UnknownLinkError, click

bp = Blueprint(__name__)
NOT_KEPT = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}  # every click reaches us; no token leaks on


@bp.route(PATH + "{token}", methods=["GET"])
def follow(token: str) -> Response:
    d = deps()
    try:
        target = click(token, d.links, d.runs, d.store, d.clock)
    except UnknownLinkError as error:
        return error_answer(error)
    return Response(body="", status_code=302, headers={"Location": target, **NOT_KEPT})
