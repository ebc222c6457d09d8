"""Who may call the operator and agent API (/api/*), and as whom.

A bearer token is either a named API key with a role (services/keys.py, kept
as a SHA-256 hash in DynamoDB) or one of the scripts' tokens, whose hashes come
from OPERATOR_TOKEN_SHA256 or SSM: those act as admins named `token:<hash
prefix>`. Each route says which roles may call it with `@allow(...)` above its
`@bp.route`; admins may call every route, and a route that says nothing is
theirs alone. No valid key: 401. A key outside the route's roles: 403 naming
the roles that may. The caller's identity is `caller()` while the route runs.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from chalice.app import Request, Response, RouteEntry

from chalicelib.bootstrap import deps, key_lookup, operator_token_hashes
from chalicelib.entrypoints.http import HttpError, RoleForbiddenError, UnauthorisedError, UnavailableError, error_answer
from chalicelib.services.keys import Identity, Role, key_hash

API_PREFIX = "/api/"
TOKEN_NAME_PREFIX = "token:"  # noqa: S105 (a name, not a secret); a script's token acts as `token:<first 8 hex of its hash>`
ROLES_ATTRIBUTE = "allowed_roles"
FuncT = TypeVar("FuncT", bound=Callable[..., Any])

_caller: ContextVar[Identity | None] = ContextVar("rapport_caller", default=None)


def token_hash(token: str) -> str:
    return key_hash(token)


def allow(*roles: Role) -> Callable[[FuncT], FuncT]:
    """Mark a route with the roles that may call it (admins always may)."""

    def mark(view: FuncT) -> FuncT:
        setattr(view, ROLES_ATTRIBUTE, frozenset({Role.ADMIN, *roles}))
        return view

    return mark


def roles_of(view: Callable[..., Any]) -> frozenset[Role]:
    roles: frozenset[Role] = getattr(view, ROLES_ATTRIBUTE, frozenset({Role.ADMIN}))
    return roles


def route_roles(routes: Mapping[str, Mapping[str, RouteEntry]]) -> dict[tuple[str, str], frozenset[Role]]:
    """(method, path template) -> the roles that may call it, for every /api/ route."""
    return {
        (method, path): roles_of(entry.view_function)
        for path, methods in routes.items()
        if path.startswith(API_PREFIX)
        for method, entry in methods.items()
    }


def caller() -> Identity:
    """Who is calling this route (set by the middleware for every /api/ route)."""
    identity = _caller.get()
    if identity is None:
        raise RuntimeError("no caller: the API key middleware did not run for this request")
    return identity


def bearer(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def script_identity(offered: str, hashes: frozenset[str]) -> Identity | None:
    for known in hashes:
        if hmac.compare_digest(offered, known):
            return Identity(f"{TOKEN_NAME_PREFIX}{known[:8]}", Role.ADMIN)
    return None


UNAUTHORISED = "a valid 'Authorization: Bearer <key>' header is required (the key may be wrong or revoked)"


def identify(authorization: str | None) -> Identity:
    """The caller; UnauthorisedError (401), or UnavailableError (503) when we cannot tell now."""
    token = bearer(authorization)
    if token is None:
        raise UnauthorisedError(UNAUTHORISED)
    offered = token_hash(token)
    script_hashes = operator_token_hashes()
    identity = script_identity(offered, script_hashes)
    if identity is not None:
        return identity
    try:
        identity = key_lookup().identity(offered)
    except (BotoCoreError, ClientError):
        raise UnavailableError("API keys cannot be read now: try again") from None
    if identity is not None:
        return identity
    if not script_hashes and _script_tokens_expected():
        raise UnavailableError("the operator tokens cannot be read now (OPERATOR_TOKENS_PARAM)")
    raise UnauthorisedError(UNAUTHORISED)


def _script_tokens_expected() -> bool:
    return bool(deps().settings.operator_tokens_param)


def require_api_key(routes: Mapping[str, Mapping[str, RouteEntry]]) -> Callable[..., Response]:
    """Chalice middleware over the app's routes (read per request: blueprints register after it)."""

    def middleware(request: Request, get_response: Callable[[Request], Response]) -> Response:
        if not request.path.startswith(API_PREFIX):
            return get_response(request)
        template = (request.context or {}).get("resourcePath") or request.path
        entry = routes.get(template, {}).get(request.method)
        allowed = roles_of(entry.view_function) if entry is not None else frozenset({Role.ADMIN})
        try:
            found = identify(request.headers.get("authorization"))
            if found.role not in allowed:
                may = ", ".join(sorted(role.value for role in allowed))
                raise RoleForbiddenError(
                    f"{found.name} has the role {found.role.value}; {request.method} {template} is for: {may}"
                )
        except HttpError as refused:
            return error_answer(refused)
        reset = _caller.set(found)
        try:
            return get_response(request)
        finally:
            _caller.reset(reset)

    return middleware
