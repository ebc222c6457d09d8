"""Twilio's webhook fields, validated into domain values."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from chalicelib.domain import phone
from chalicelib.domain.delivery import Receipt
from chalicelib.domain.errors import RapportError
from chalicelib.domain.inbound import InboundSms
from chalicelib.domain.messages import DeliveryStatus

MESSAGE_SID = r"^[A-Z]{2}[0-9a-fA-F]{32}$"


class BadFormError(RapportError, ValueError):
    """The form lacks a field or holds a value we cannot read."""


class _TwilioForm(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    message_sid: str = Field(alias="MessageSid", pattern=MESSAGE_SID)
    from_: str = Field(alias="From")
    to: str = Field(alias="To")


class InboundForm(_TwilioForm):
    body: str = Field(alias="Body", max_length=1600)
    opt_out_type: str | None = Field(default=None, alias="OptOutType")

    @field_validator("from_")
    @classmethod
    def _customer(cls, value: str) -> str:
        return phone.normalise(value)

    @field_validator("to")
    @classmethod
    def _brand_number(cls, value: str) -> str:
        return phone.sender_address(value)

    def to_sms(self, at: datetime) -> InboundSms:
        return InboundSms(
            sid=self.message_sid,
            phone=self.from_,
            brand_number=self.to,
            body=self.body,
            at=at,
            opt_out_type=self.opt_out_type or None,
        )


class StatusForm(_TwilioForm):
    message_status: DeliveryStatus = Field(alias="MessageStatus")
    error_code: int | None = Field(default=None, alias="ErrorCode")

    @field_validator("to")
    @classmethod
    def _customer(cls, value: str) -> str:
        return phone.normalise(value)

    @field_validator("from_")
    @classmethod
    def _brand_number(cls, value: str) -> str:
        return phone.sender_address(value)

    @field_validator("error_code", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    def to_receipt(self, at: datetime) -> Receipt:
        return Receipt(
            sid=self.message_sid,
            status=self.message_status,
            phone=self.to,
            brand_number=self.from_,
            at=at,
            error_code=self.error_code,
        )


FormT = TypeVar("FormT", bound=_TwilioForm)


def parse(model: type[FormT], form: dict[str, str]) -> FormT:
    if "MessageStatus" not in form and "SmsStatus" in form:  # older callbacks carry only SmsStatus
        form = {**form, "MessageStatus": form["SmsStatus"]}
    try:
        return model.model_validate(form)
    except ValidationError as error:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise BadFormError(reasons) from None
