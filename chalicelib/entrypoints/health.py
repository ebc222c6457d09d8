from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.bootstrap import twilio_auth_token

bp = Blueprint(__name__)


@bp.route("/health", methods=["GET"])
def health() -> dict[str, str]:
    webhooks = "enabled" if twilio_auth_token() else "disabled: TWILIO_AUTH_TOKEN not set"
    return {"status": "ok", "webhooks": webhooks}
