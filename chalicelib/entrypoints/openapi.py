"""`GET /api/openapi.json`: the operator and agent API as an OpenAPI 3.1 document,
generated at run time from the app's routes and the pydantic models, never written
by hand.

What the routes table (`app.routes`) cannot tell, each route declares next to
itself with `@documented(...)`: its request body model, what it answers, its
query parameters and whether it takes an Idempotency-Key. Query parameters are
declared as `IntQuery` / `TextQuery` values that the route also reads the
request with, so the document and the route cannot disagree about a name, a
default or a bound.

Documented: every `/api/...` route and `GET /health`. Not documented: the
Twilio webhooks (`/twilio/*`): Twilio calls them with a signed form, not an
operator with a key (docs/api.md describes them), and anything else that is not
JSON under `/api/` (the console's pages).

The document is built once per container (the routes cannot change while it
runs) and, like every `/api/` route, needs a valid key of any role: it names
nothing secret, but one rule for all of `/api/` is simpler to hold than an
exception, and the console reads it with the key it already holds.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar

from chalice.app import Blueprint, Chalice, Request, Response
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode
from typing_extensions import TypedDict

from chalicelib.domain.campaign import Campaign
from chalicelib.domain.contact import ConsentEvent, ConsentState, Contact, FieldChange
from chalicelib.domain.messages import Message
from chalicelib.domain.prompts import Prompt
from chalicelib.domain.runs import DecisionRecord, Run
from chalicelib.domain.timeline import Entry, Event
from chalicelib.entrypoints.auth import allow
from chalicelib.entrypoints.params import query_int, query_text
from chalicelib.services.idempotency import KEY_PATTERN
from chalicelib.services.keys import Role

__all__ = ["IntQuery", "TextQuery", "document", "documented"]

API_PREFIX = "/api/"
DOCUMENT_PATH = "/api/openapi.json"
PUBLIC_PATHS = frozenset({"/health"})  # documented although outside /api/: no key needed
ViewT = TypeVar("ViewT", bound=Callable[..., Any])


# --- query parameters: one declaration, read by the route and shown in the document


@dataclass(frozen=True)
class IntQuery:
    """A whole number from `lowest` to `highest`, `default` when not given."""

    name: str
    default: int
    lowest: int
    highest: int
    description: str = ""

    def read(self, request: Request) -> int:
        return query_int(request, self.name, self.default, self.lowest, self.highest)

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.lowest, "maximum": self.highest, "default": self.default}


@dataclass(frozen=True)
class TextQuery:
    """Text, None when not given; given twice or blank is refused (params.query_text)."""

    name: str
    description: str = ""
    max_length: int | None = None

    def read(self, request: Request) -> str | None:
        return query_text(request, self.name)

    def schema(self) -> dict[str, Any]:
        bound = {} if self.max_length is None else {"maxLength": self.max_length}
        return {"type": "string", "minLength": 1, **bound}


Query = IntQuery | TextQuery


# --- what a route answers, where a model alone does not say it (schemas only)


class Error(TypedDict):
    """Every 4xx and 5xx answer: Chalice's own errors and ours (http.ERRORS) alike."""

    Code: str
    Message: str


class Health(TypedDict):
    status: str
    webhooks: str


class CampaignTimes(TypedDict):
    next_run: str | None
    deadline: str | None


class Preview(TypedDict):
    campaign_id: str
    evaluated_at: datetime
    audience: int
    decisions: dict[str, int]
    left_out: dict[str, int]  # the contacts not in the audience, by why (no tag vip, no order in the last 30 days)
    samples: dict[str, list[dict[str, str]]]


class RunList(TypedDict):
    runs: list[Run]


class Imported(TypedDict):
    imported: int


class ContactExtras(TypedDict):
    consent: ConsentState
    consent_history: list[ConsentEvent]
    history: list[FieldChange]
    decisions: list[DecisionRecord]


class ContactDecisions(TypedDict):
    phone: str
    decisions: list[DecisionRecord]


class InboxItem(TypedDict):
    phone: str
    opened_at: datetime
    waiting_since: datetime | None
    waiting_seconds: int
    agent: str | None
    messages: int
    unread: int  # the customer's texts no agent has read (opened or answered) yet
    last_inbound_at: datetime


class Inbox(TypedDict):
    conversations: list[InboxItem]


class Closed(TypedDict):
    phone: str
    closed: Literal[True]
    released_held_texts: int


class Created(TypedDict):
    created: bool


class Timeline(TypedDict):
    phone: str
    events: list[Event]
    next: str | None


class PromptList(TypedDict):
    prompts: list[Prompt]


class Funnel(TypedDict):
    """What a group of a run's texts earned; `revenue` in each currency's minor units."""

    planned: int
    sent: int
    delivered: int
    failed: int
    replied_24h: int
    opted_out_72h: int
    clicked: int
    ordered: int
    revenue: dict[str, int]
    segments: int
    segments_by_country: dict[str, int]
    unpriced_segments: int
    cost: float
    cost_currency: str
    revenue_per_cost: float | None


class StoreFunnel(Funnel):
    store_id: str | None  # None: contacts with no store (the brand's own number)


class VariantFunnel(Funnel):
    variant: str | None  # None: the campaign's one message


class ControlGroup(TypedDict):
    size: int  # the audience held out: texted nothing
    ordered: int
    revenue: dict[str, int]


class Incremental(TypedDict):
    """Orders and revenue beyond the control group's rate, scaled to the texted audience."""

    ordered: float
    revenue: dict[str, float]


class RunReport(Funnel):
    """A run's funnel (domain/report.py), per store and per variant, and against its control group."""

    run_id: str
    campaign_id: str
    by_store: list[StoreFunnel]
    by_variant: list[VariantFunnel]
    holdout: ControlGroup | None
    incremental: Incremental | None


class ContactExport(TypedDict):
    """And, each when there is any: messages, consent_history, answered_fields,
    notes_and_interactions, orders, decisions, sends, held_texts, free_text_answers."""

    phone: str
    profile: dict[str, Any] | None


class Erased(TypedDict):
    phone: str
    erased_items: int
    suppressed: bool  # a keyed hash kept: it had opted out, and no import opts it in again


# A response is a type pydantic can describe, or a tuple of them: all of them at once
# (a model's dump with a few keys added, as `{**model.model_dump(), ...}` answers),
# or a Listed: {key: [shape, ...]}.
Shape = Any


@dataclass(frozen=True)
class Listed:
    key: str
    item: Shape


@dataclass(frozen=True)
class Operation:
    body: type[BaseModel] | None = None
    returns: Shape = None
    status: int = 200
    also: dict[int, Shape] = field(default_factory=dict)  # other successful answers
    query: tuple[Query, ...] = ()
    idempotent: bool = False  # takes an Idempotency-Key header
    text_body: str | None = None  # also takes a body of this media type, as text (text/csv)
    media: str = "application/json"  # what the successful answer is


def documented(
    *,
    body: type[BaseModel] | None = None,
    returns: Shape = None,
    status: int = 200,
    also: dict[int, Shape] | None = None,
    query: Sequence[Query] = (),
    idempotent: bool = False,
    text_body: str | None = None,
    media: str = "application/json",
) -> Callable[[ViewT], ViewT]:
    """Declare what the document cannot read from the routes table; put it under
    `@bp.route(...)`. The view function is returned unchanged. `text_body`: a media
    type the route also takes as its body, as text (`body` stays the JSON one);
    `media`: the successful answer's media type when it is not JSON (`returns=str`)."""
    operation = Operation(body, returns, status, dict(also or {}), tuple(query), idempotent, text_body, media)

    def mark(view: ViewT) -> ViewT:
        view.__openapi__ = operation  # type: ignore[attr-defined]
        return view

    return mark


def declared(view: Callable[..., Any]) -> Operation | None:
    found = getattr(view, "__openapi__", None)
    return found if isinstance(found, Operation) else None


# --- the document

PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "number": {
        "description": "the contact's phone number in E.164 (+447700900123); the + may be sent as %2B",
        "schema": {"type": "string", "minLength": 1, "maxLength": 40},
        "examples": {"uk": {"value": "+447700900123"}},
    },
    "campaign_id": {"description": "a campaign's id, as POST /api/campaigns answered it", "schema": {"type": "string"}},
    "reply_id": {
        "description": "a saved reply's id, as POST /api/saved-replies answered it",
        "schema": {"type": "string", "minLength": 1, "maxLength": 40},
    },
}
ERROR_STATUSES = ("4XX", "5XX")
REF_TEMPLATE = "#/components/schemas/{model}"


def _shape_key(shape: Shape) -> str:
    return repr(shape)


class _Schemas:
    """Every type the document names, described by pydantic in one pass so that
    shared models become one entry in components.schemas."""

    def __init__(self) -> None:
        self._wanted: dict[tuple[str, JsonSchemaMode], tuple[Any, JsonSchemaMode, TypeAdapter[Any]]] = {}
        self._done: dict[tuple[str, JsonSchemaMode], dict[str, Any]] = {}
        self.components: dict[str, Any] = {}

    def want(self, shape: Shape, mode: JsonSchemaMode) -> None:
        if isinstance(shape, Listed):
            self.want(shape.item, mode)
            return
        for part in shape if isinstance(shape, tuple) else (shape,):
            key = (_shape_key(part), mode)
            if key not in self._wanted:
                self._wanted[key] = (key, mode, TypeAdapter(part))

    def build(self) -> None:
        done, definitions = TypeAdapter.json_schemas(list(self._wanted.values()), ref_template=REF_TEMPLATE)
        self._done = {key[0]: schema for key, schema in done.items()}
        self.components = definitions.get("$defs", {})

    def of(self, shape: Shape, mode: JsonSchemaMode) -> dict[str, Any]:
        if isinstance(shape, Listed):
            items = {"type": "array", "items": self.of(shape.item, mode)}
            return {"type": "object", "required": [shape.key], "properties": {shape.key: items}}
        parts = [self._done[(_shape_key(part), mode)] for part in (shape if isinstance(shape, tuple) else (shape,))]
        return parts[0] if len(parts) == 1 else {"allOf": parts}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _summary(view: Callable[..., Any]) -> tuple[str, str]:
    doc = inspect.getdoc(view) or view.__name__.replace("_", " ")
    first, _, rest = doc.partition("\n\n")
    return " ".join(first.split()), rest.strip()


def _operation(path: str, view: Callable[..., Any], args: list[str], schemas: _Schemas) -> dict[str, Any]:
    declaration = declared(view) or Operation()
    summary, description = _summary(view)
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, **PATH_PARAMETERS.get(name, {"schema": {"type": "string"}})}
        for name in args
    ]
    parameters += [
        {"name": q.name, "in": "query", "required": False, "description": q.description, "schema": q.schema()}
        for q in declaration.query
    ]
    if declaration.idempotent:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "1 to 255 printable ASCII characters: the same key never sends twice "
                "and answers what the first call answered",
                "schema": {"type": "string", "pattern": f"^{KEY_PATTERN.pattern}$"},
            }
        )
    answers: dict[str, Any] = {}
    for status, shape in {declaration.status: declaration.returns, **declaration.also}.items():
        described: dict[str, Any] = {"description": f"{status}"}
        if shape is not None:
            described["content"] = {declaration.media: {"schema": schemas.of(shape, "serialization")}}
        answers[str(status)] = described
    for errors in ERROR_STATUSES:
        answers[errors] = {
            "description": "an error: Code names it, Message says why",
            "content": _json(schemas.of(Error, "serialization")),
        }
    operation: dict[str, Any] = {
        "operationId": view.__name__,
        "summary": summary,
        "tags": [view.__module__.rsplit(".", 1)[-1]],
        "responses": answers,
    }
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = parameters
    if declaration.body is not None:
        required = any(f.is_required() for f in declaration.body.model_fields.values())  # else {} will do
        operation["requestBody"] = {"required": required, "content": _json(schemas.of(declaration.body, "validation"))}
        if declaration.text_body is not None:
            operation["requestBody"]["content"][declaration.text_body] = {"schema": {"type": "string"}}
    if path in PUBLIC_PATHS:
        operation["security"] = []
    return operation


def documented_routes(app: Chalice) -> dict[str, dict[str, Any]]:
    """path -> method -> Chalice's RouteEntry, for the routes the document describes."""
    return {
        path: {method.lower(): entry for method, entry in methods.items()}
        for path, methods in sorted(app.routes.items())
        if path.startswith(API_PREFIX) or path in PUBLIC_PATHS
    }


@functools.cache
def document(app: Chalice) -> dict[str, Any]:
    """The OpenAPI 3.1 document for this app's routes (built once per container)."""
    routes = documented_routes(app)
    schemas = _Schemas()
    schemas.want(Error, "serialization")
    for methods in routes.values():
        for entry in methods.values():
            declaration = declared(entry.view_function) or Operation()
            if declaration.body is not None:
                schemas.want(declaration.body, "validation")
            for shape in (declaration.returns, *declaration.also.values()):
                if shape is not None:
                    schemas.want(shape, "serialization")
    schemas.build()
    paths = {
        path: {
            method: _operation(path, entry.view_function, entry.view_args, schemas)
            for method, entry in sorted(methods.items())
        }
        for path, methods in routes.items()
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Rapport operator and agent API",
            "version": "1",
            "description": "Generated from the routes and models at run time. Every /api/ route needs "
            "'Authorization: Bearer <key>'. The Twilio webhooks (/twilio/*) are not described here: "
            "see docs/api.md.",
        },
        # relative to this document (<base>/api/openapi.json): the API's base, stage prefix included
        "servers": [{"url": "../"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas.components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "an API key"}},
        },
    }


bp = Blueprint(__name__)


@allow(Role.OPERATOR, Role.AGENT)  # and admins: every key
@bp.route(DOCUMENT_PATH, methods=["GET"])
@documented(returns=dict[str, Any])
def openapi_document() -> Response:
    """This document: OpenAPI 3.1, generated from the routes and models."""
    return Response(body=document(bp.current_app), status_code=200, headers={"Content-Type": "application/json"})


# what operator.py and agents.py answer, named here so their declarations stay one line
CampaignView = (Campaign, CampaignTimes)
CampaignList = Listed("campaigns", CampaignView)
ContactView = (Contact, ContactExtras)
InteractionView = (Entry, Created)
__all__ += ["CampaignList", "CampaignView", "ContactView", "InteractionView", "Message", "Prompt"]
