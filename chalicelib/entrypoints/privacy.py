"""A customer's data rights, for admins: everything held about a number, and
its erasure (services/personal.py; docs/privacy.md)."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.bootstrap import deps, erasure_digest
from chalicelib.entrypoints import openapi
from chalicelib.entrypoints.auth import allow
from chalicelib.entrypoints.http import answer, phone_in_path
from chalicelib.services import personal

bp = Blueprint(__name__)


@allow()
@bp.route("/api/contacts/{number}/export", methods=["GET"])
@openapi.documented(returns=openapi.ContactExport)
def export_contact(number: str) -> Response:
    """Everything held about this number, as one JSON document (admins)

    The profile, consent history with its proof, messages, answers, orders,
    decisions, notes, sends and held texts. 404 when nothing is held."""
    e164 = phone_in_path(number)
    d = deps()
    return answer(lambda: personal.export_contact(e164, d.personal, d.prompts))


@allow()
@bp.route("/api/contacts/{number}", methods=["DELETE"])
@openapi.documented(returns=openapi.Erased)
def erase_contact(number: str) -> Response:
    """Erase every item that names this number (admins)

    A number that had opted out is remembered only by a keyed hash, so that no
    later import or campaign texts it until the customer opts in again. 404 when
    nothing is held."""
    e164 = phone_in_path(number)
    d = deps()

    def erase() -> dict[str, object]:
        erased = personal.erase_contact(e164, d.store, d.personal, d.prompts, erasure_digest(), d.clock)
        return {"phone": e164, "erased_items": erased.items, "suppressed": erased.suppressed}

    return answer(erase)
