"""Secrets from SSM Parameter Store (Powertools' SSMProvider on an injected
boto3 client).

A value read is kept for `max_age_s` (rotation reaches warm containers
within that), a failed read is retried with a short backoff and never
kept: the caller fails closed for this request (webhooks 503, sends
retried) and the next request reads again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.config import Config

from chalicelib.adapters.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

__all__ = ["CLIENT_CONFIG", "DEFAULT_MAX_AGE_S", "SecretStore", "SecretUnavailableError"]

DEFAULT_MAX_AGE_S = 300
ATTEMPTS = 3
BACKOFF_S = 0.1  # then 0.2: a refused webhook waits well under a second for it
# A webhook must answer within Twilio's 15 s: each call fails fast and SecretStore.get
# retries (at worst 3 x (1 s + 2 s) + 0.3 s when SSM does not answer at all).
CLIENT_CONFIG = Config(connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 1, "mode": "standard"})
# Retrying these within a request cannot help (the next request still tries again).
_PERMANENT = {"ParameterNotFound", "ParameterVersionNotFound", "AccessDeniedException", "ValidationException"}


class SecretUnavailableError(Exception):
    """The secret could not be read now; nothing was cached, so the next use reads again."""


class _SecureStrings(SSMProvider):
    """Powertools' SSMProvider (its max-age cache, nothing cached on failure),
    with the one SSM call this code makes spelled out here, where the IAM
    policy check (tests/infra) can see it."""

    def _get(self, name: str, decrypt: bool = False, **_sdk_options: Any) -> str:
        value: str = self.client.get_parameter(Name=name, WithDecryption=decrypt)["Parameter"]["Value"]
        return value


class SecretStore:
    """SSM SecureStrings by name, for one Lambda container."""

    def __init__(
        self,
        client: SSMClient,
        max_age_s: int = DEFAULT_MAX_AGE_S,
        attempts: int = ATTEMPTS,
        backoff_s: float = BACKOFF_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._provider = _SecureStrings(boto3_client=client)
        self._max_age_s = max_age_s
        self._attempts = max(1, attempts)
        self._backoff_s = backoff_s
        self._sleep = sleep

    def get(self, name: str) -> str:
        """The decrypted value, from the cache while it is younger than max_age_s.
        Raises SecretUnavailableError once the attempts are spent."""
        attempt = 0
        while True:
            attempt += 1
            try:
                value = self._provider.get(name, max_age=self._max_age_s, decrypt=True)
            except GetParameterError as error:
                if _error_code(error.__context__) in _PERMANENT or attempt >= self._attempts:
                    logger.error(
                        "secret unreadable; refused until a read succeeds",
                        extra={"parameter": name, "error": str(error), "attempts": attempt},
                    )
                    raise SecretUnavailableError(f"{name}: {error}") from error
                self._sleep(self._backoff_s * 2 ** (attempt - 1))
                continue
            if isinstance(value, str) and value:
                return value
            self._provider.store.clear()  # never keep an unusable value
            logger.error("secret empty; refused until a read succeeds", extra={"parameter": name})
            raise SecretUnavailableError(f"{name}: empty")


def _error_code(error: BaseException | None) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
