"""Where the API and the webhooks meet HTTP: request bodies and phone numbers
read with a clear 400, and the one table that turns every error raised on
purpose into its status code (use cases, webhooks, API keys, imports). Errors
raised here at the edge carry their own status, as Powertools' do (HttpError)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar
from urllib.parse import unquote

from chalice.app import BadRequestError, Blueprint, Response
from pydantic import BaseModel, ValidationError

from chalicelib.adapters.dynamodb_answers import BadAnswersCursorError
from chalicelib.adapters.secrets import SecretUnavailableError
from chalicelib.adapters.webhook import ForgedWebhookError, MalformedFormError, WebhooksDisabledError
from chalicelib.domain import phone
from chalicelib.domain.contact import ProfileLimitError
from chalicelib.domain.conversations import ClaimedError, NoConversationError
from chalicelib.domain.errors import ConcurrentUpdateError, InvalidPhoneError
from chalicelib.domain.stores import InvalidStoreIdError
from chalicelib.entrypoints.forms import BadFormError, reasons
from chalicelib.services.campaigns import UnknownCampaignError
from chalicelib.services.consents import ConsentStampError, ConsentTextChangedError, UnknownConsentTextError
from chalicelib.services.contacts import ExportTooLargeError
from chalicelib.services.conversations import (
    NotSendableError,
    RequestInProgressError,
    SenderBusyError,
    SendFailedError,
    SendUnknownError,
    UnknownContactError,
)
from chalicelib.services.idempotency import IdempotencyKeyMismatchError, InvalidIdempotencyKeyError, valid_key
from chalicelib.services.keys import InvalidKeyNameError, KeyNameTakenError, KeyStoresError, UnknownKeyError
from chalicelib.services.links import UnknownLinkError
from chalicelib.services.orders import EventTimeError, UnknownEventStoreError
from chalicelib.services.personal import ErasureUnavailableError, NothingHeldError
from chalicelib.services.saved_replies import StaleSavedReplyError, TooManySavedRepliesError, UnknownSavedReplyError
from chalicelib.services.stores import UnknownStoreError

ModelT = TypeVar("ModelT", bound=BaseModel)


class HttpError(Exception):
    """An answer decided at the edge (a refused key, a refused import), carrying
    its status, Code and headers; `extra` joins the JSON body."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "BadRequestError"
    headers: ClassVar[Mapping[str, str]] = {}

    def __init__(self, message: str, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.extra = dict(extra or {})


class UnauthorisedError(HttpError):
    status, code, headers = 401, "Unauthorized", {"WWW-Authenticate": "Bearer"}


class RoleForbiddenError(HttpError):
    status, code = 403, "Forbidden"


class UnavailableError(HttpError):
    status, code = 503, "ServiceUnavailable"


class ImportRefusedError(HttpError):
    """400 naming every refused line (`rejects`), nothing imported."""


@dataclass(frozen=True)
class Answer:
    status: int
    code: str  # Code in the JSON body
    prefix: str = ""  # what the message starts with
    headers: Mapping[str, str] | None = None


# Every error raised on purpose -> its answer, looked up by class (a subclass takes its base's row).
ERRORS: dict[type[Exception], Answer] = {
    ProfileLimitError: Answer(400, "BadRequestError"),
    InvalidKeyNameError: Answer(400, "BadRequestError"),
    KeyStoresError: Answer(422, "UnprocessableEntityError"),
    InvalidPhoneError: Answer(400, "BadRequestError"),
    InvalidStoreIdError: Answer(400, "BadRequestError"),
    BadAnswersCursorError: Answer(400, "BadRequestError"),
    EventTimeError: Answer(400, "BadRequestError"),
    UnknownEventStoreError: Answer(422, "UnprocessableEntityError"),
    UnknownConsentTextError: Answer(422, "UnprocessableEntityError"),
    ConsentStampError: Answer(400, "BadRequestError"),
    MalformedFormError: Answer(400, "BadRequestError"),  # a webhook's body that is no form
    BadFormError: Answer(400, "BadRequestError"),  # a webhook's form without a field Twilio always sends
    ForgedWebhookError: Answer(403, "ForbiddenError"),
    UnknownKeyError: Answer(404, "NotFoundError"),
    UnknownCampaignError: Answer(404, "NotFoundError"),
    UnknownContactError: Answer(404, "NotFoundError"),
    NoConversationError: Answer(404, "NotFoundError"),
    UnknownSavedReplyError: Answer(404, "NotFoundError"),
    UnknownStoreError: Answer(404, "NotFoundError"),
    NothingHeldError: Answer(404, "NotFoundError"),
    UnknownLinkError: Answer(404, "NotFoundError"),
    KeyNameTakenError: Answer(409, "ConflictError"),
    ConsentTextChangedError: Answer(409, "ConflictError"),
    StaleSavedReplyError: Answer(409, "ConflictError", "If-Match: "),
    TooManySavedRepliesError: Answer(409, "ConflictError"),
    ClaimedError: Answer(409, "ConflictError"),
    NotSendableError: Answer(409, "ConflictError"),
    RequestInProgressError: Answer(409, "ConflictError"),
    ExportTooLargeError: Answer(413, "PayloadTooLarge"),
    IdempotencyKeyMismatchError: Answer(
        422, "UnprocessableEntityError", "Idempotency-Key was used with another request: "
    ),
    SenderBusyError: Answer(429, "TooManyRequests"),  # the store's number at its rate: Retry-After says when
    SendFailedError: Answer(502, "BadGateway"),
    SendUnknownError: Answer(502, "SendOutcomeUnknown", "unknown: "),  # it may have gone: never resent
    # A record that kept changing under our retries: 5xx, so that Twilio retries a webhook (its
    # connection overrides retry 5xx) and a script knows to come back; nothing half-written.
    ConcurrentUpdateError: Answer(503, "Busy", "busy: the record kept changing, try again: ", {"Retry-After": "1"}),
    SecretUnavailableError: Answer(503, "ServiceUnavailable"),  # nothing was sent; the next call reads it again
    WebhooksDisabledError: Answer(503, "ServiceUnavailable"),  # no auth token: every webhook refused (fail closed)
    ErasureUnavailableError: Answer(503, "ServiceUnavailable"),  # no key to remember an opted-out number by
}
ANSWERED: tuple[type[Exception], ...] = (HttpError, *ERRORS)


def error_answer(error: Exception) -> Response:
    """The one place an error becomes an HTTP answer: its own status (HttpError) or the table's."""
    if isinstance(error, HttpError):
        found = Answer(error.status, error.code, headers=error.headers)
        extra = error.extra
    else:
        found = next(ERRORS[kind] for kind in type(error).__mro__ if kind in ERRORS)
        extra = {}
    headers: dict[str, str | list[str]] = {"Content-Type": "application/json", **(found.headers or {})}
    if isinstance(error, SenderBusyError):
        headers["Retry-After"] = str(error.retry_after_s)
    body = {"Code": found.code, "Message": f"{found.prefix}{error}", **extra}
    return Response(body=body, status_code=found.status, headers=headers)


def answer(work: Callable[[], Any], status: int = 200) -> Response:
    """Run a use case; its result as JSON, or its error as the table says."""
    try:
        result = work()
    except ANSWERED as error:
        return error_answer(error)
    if isinstance(result, Response):  # the use case chose its own status
        return result
    body = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})


def created_or_replaced(saved: BaseModel, created: bool) -> Response:
    """A PUT's answer: what was saved, 201 when it is new, else 200."""
    body = saved.model_dump(mode="json")
    return Response(body=body, status_code=201 if created else 200, headers={"Content-Type": "application/json"})


def body_of(bp: Blueprint, model: type[ModelT]) -> ModelT:
    """The body as the model, read strictly: `false` is no number and `1700000000`
    no time (lax pydantic takes both); times are ISO 8601 strings."""
    bp.current_request.json_body  # noqa: B018 - Chalice's own 400 for a body that is not JSON
    try:
        return model.model_validate_json(bp.current_request.raw_body or b"{}", strict=True)
    except ValidationError as error:
        raise BadRequestError(reasons(error)) from None


IDEMPOTENCY_KEY = "Idempotency-Key"


def idempotency_key(bp: Blueprint) -> str | None:
    """The request's Idempotency-Key header, checked (400), or None without one."""
    raw: str | None = bp.current_request.headers.get(IDEMPOTENCY_KEY)
    if raw is None:
        return None
    try:
        return valid_key(raw)
    except InvalidIdempotencyKeyError as error:
        raise BadRequestError(str(error)) from None


def phone_in_path(number: str) -> str:
    try:
        return phone.normalise(unquote(number))  # "%2B44…" arrives still encoded
    except InvalidPhoneError as error:
        raise BadRequestError(str(error)) from None
