"""Structured JSON logs and CloudWatch metrics (embedded metric format).

Every log line passes through a formatter that masks phone numbers to their
last four digits, whatever code wrote it; message bodies are never logged at
INFO. Metrics go to stdout as EMF documents, which CloudWatch turns into
metrics without an API call.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from chalice.app import Request, Response

if TYPE_CHECKING:
    from aws_lambda_powertools.logging.types import LogRecord

SERVICE = "rapport"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Rapport")
# E.164 as written (+447700900123) or form-encoded (%2B447700900123).
_PHONE = re.compile(r"(\+|%2B)(\d{3,11})(\d{4})\b")
_MESSAGE_SID = re.compile(rb"(?:^|&)MessageSid=([A-Za-z0-9]{1,64})(?:&|$)")


def mask_phones(text: str) -> str:
    return _PHONE.sub(lambda match: "***" + match.group(3), text)


class MaskingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: LogRecord) -> str:
        return mask_phones(super().serialize(log))


logger = Logger(service=SERVICE, logger_formatter=MaskingFormatter())


def count(name: str, value: int = 1, **dimensions: str) -> None:
    """Add to a metric, written at once as its own EMF document, so each
    metric keeps its own dimensions and nothing is lost if a handler fails."""
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=value,
        namespace=NAMESPACE,
        default_dimensions={"service": SERVICE, **dimensions},
    ):
        pass


def _message_sid(request: Request) -> str | None:
    """Found without decoding the whole form again (the handler does that): a
    sid is letters and digits, so it needs no unquoting."""
    if not request.path.startswith("/twilio/"):
        return None
    body = request.raw_body
    found = _MESSAGE_SID.search(body if isinstance(body, bytes) else body.encode())
    return found.group(1).decode() if found else None


def observe_http(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """Chalice middleware: correlation id, one access line, server errors counted."""
    logger.set_correlation_id(_message_sid(request))
    started = time.perf_counter()
    response = get_response(request)
    route = request.context.get("resourcePath", request.path)  # the pattern: no phone numbers
    if response.status_code >= 500:
        count("HandlerErrors", route=route)
    logger.info(
        "request",
        extra={
            "method": request.method,
            "route": route,
            "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return response
