"""Bearer tokens for the operator API, kept only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from chalice.app import Request, Response

from chalicelib.bootstrap import operator_token_hashes

API_PREFIX = "/api/"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_allowed(authorization: str | None, hashes: frozenset[str]) -> bool:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    offered = token_hash(token.strip())
    return any(hmac.compare_digest(offered, known) for known in hashes)


def require_operator(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """Chalice middleware: every /api/ route needs a valid bearer token."""
    if not request.path.startswith(API_PREFIX):
        return get_response(request)
    hashes = operator_token_hashes()
    if not hashes:
        body = {"Code": "ServiceUnavailable", "Message": "no operator tokens configured (OPERATOR_TOKEN_SHA256)"}
        return Response(body=body, status_code=503)
    if not token_allowed(request.headers.get("authorization"), hashes):
        body = {"Code": "Unauthorized", "Message": "a valid 'Authorization: Bearer <token>' header is required"}
        return Response(body=body, status_code=401, headers={"WWW-Authenticate": "Bearer"})
    return get_response(request)
