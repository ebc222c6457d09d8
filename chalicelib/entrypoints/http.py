"""Where the operator and agent API meets HTTP: request bodies and phone numbers
read with a clear 400, and the one table that turns the errors use cases raise
into status codes. (The Twilio webhooks answer TwiML and map their own few.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote

from chalice.app import BadRequestError, Blueprint, Response
from pydantic import BaseModel, ValidationError

from chalicelib.adapters.secrets import SecretUnavailableError
from chalicelib.domain import phone
from chalicelib.domain.contact import ProfileLimitError
from chalicelib.domain.conversations import ClaimedError, NoConversationError
from chalicelib.domain.errors import ConcurrentUpdateError, InvalidPhoneError
from chalicelib.entrypoints.forms import reasons
from chalicelib.services.campaigns import UnknownCampaignError
from chalicelib.services.conversations import (
    NotSendableError,
    RequestInProgressError,
    SendFailedError,
    SendUnknownError,
    UnknownContactError,
)
from chalicelib.services.idempotency import IdempotencyKeyMismatchError
from chalicelib.services.keys import InvalidKeyNameError, KeyNameTakenError, UnknownKeyError
from chalicelib.services.saved_replies import StaleSavedReplyError, TooManySavedRepliesError, UnknownSavedReplyError

ModelT = TypeVar("ModelT", bound=BaseModel)

# error -> (status, Code in the JSON body, what the message starts with)
ERRORS: dict[type[Exception], tuple[int, str, str]] = {
    ProfileLimitError: (400, "BadRequestError", ""),
    InvalidKeyNameError: (400, "BadRequestError", ""),
    UnknownKeyError: (404, "NotFoundError", ""),
    KeyNameTakenError: (409, "ConflictError", ""),
    UnknownCampaignError: (404, "NotFoundError", ""),
    UnknownContactError: (404, "NotFoundError", ""),
    NoConversationError: (404, "NotFoundError", ""),
    UnknownSavedReplyError: (404, "NotFoundError", ""),
    StaleSavedReplyError: (409, "ConflictError", "If-Match: "),
    TooManySavedRepliesError: (409, "ConflictError", ""),
    ConcurrentUpdateError: (409, "ConflictError", "changed by someone else meanwhile, try again: "),
    ClaimedError: (409, "ConflictError", ""),
    NotSendableError: (409, "ConflictError", ""),
    RequestInProgressError: (409, "ConflictError", ""),
    IdempotencyKeyMismatchError: (422, "UnprocessableEntityError", "Idempotency-Key was used with another request: "),
    SendFailedError: (502, "BadGateway", ""),
    SendUnknownError: (502, "SendOutcomeUnknown", "unknown: "),  # it may have gone: never resent
    SecretUnavailableError: (503, "ServiceUnavailable", ""),  # nothing was sent; the next call reads it again
}


def answer(work: Callable[[], Any], status: int = 200) -> Response:
    """Run a use case; its result as JSON, or its error as the table says."""
    try:
        result = work()
    except tuple(ERRORS) as error:
        code, name, prefix = next(ERRORS[kind] for kind in type(error).__mro__ if kind in ERRORS)
        body = {"Code": name, "Message": f"{prefix}{error}"}
        return Response(body=body, status_code=code, headers={"Content-Type": "application/json"})
    if isinstance(result, Response):  # the use case chose its own status
        return result
    body = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})


def body_of(bp: Blueprint, model: type[ModelT]) -> ModelT:
    """The body as the model, read strictly: `false` is no number and `1700000000`
    no time (lax pydantic takes both); times are ISO 8601 strings."""
    bp.current_request.json_body  # noqa: B018 - Chalice's own 400 for a body that is not JSON
    try:
        return model.model_validate_json(bp.current_request.raw_body or b"{}", strict=True)
    except ValidationError as error:
        raise BadRequestError(reasons(error)) from None


def phone_in_path(number: str) -> str:
    try:
        return phone.normalise(unquote(number))  # "%2B44…" arrives still encoded
    except InvalidPhoneError as error:
        raise BadRequestError(str(error)) from None
