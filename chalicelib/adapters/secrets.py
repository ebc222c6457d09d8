"""Secrets from SSM Parameter Store, read once per Lambda container."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient


def read_secret(client: SSMClient, name: str) -> str:
    """The decrypted value, or "" when it cannot be read: the caller then
    fails closed (webhooks refused) instead of failing every request."""
    try:
        return client.get_parameter(Name=name, WithDecryption=True)["Parameter"].get("Value", "")
    except (ClientError, BotoCoreError) as error:
        logger.error("secret unreadable; webhooks will be refused", extra={"parameter": name, "error": str(error)})
        return ""
