"""Twilio's webhook fields, validated into domain values."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from chalicelib.domain import phone
from chalicelib.domain.delivery import Receipt
from chalicelib.domain.errors import RapportError
from chalicelib.domain.inbound import InboundSms
from chalicelib.domain.messages import DeliveryStatus

MESSAGE_SID = r"^[A-Z]{2}[0-9a-fA-F]{32}$"

CustomerPhone = Annotated[str, AfterValidator(phone.normalise)]
BrandNumber = Annotated[str, AfterValidator(phone.sender_address)]
BlankIsNone = BeforeValidator(lambda value: None if value == "" else value)


class BadFormError(RapportError, ValueError):
    """The form lacks a field or holds a value we cannot read."""


class _TwilioForm(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    message_sid: str = Field(alias="MessageSid", pattern=MESSAGE_SID)


class InboundForm(_TwilioForm):
    from_: CustomerPhone = Field(alias="From")
    to: BrandNumber = Field(alias="To")
    body: str = Field(alias="Body", max_length=1600)
    opt_out_type: Annotated[str | None, BlankIsNone] = Field(default=None, alias="OptOutType")

    def to_sms(self, at: datetime) -> InboundSms:
        return InboundSms(
            sid=self.message_sid,
            phone=self.from_,
            brand_number=self.to,
            body=self.body,
            at=at,
            opt_out_type=self.opt_out_type,
        )


class StatusForm(_TwilioForm):
    """A delivery receipt for a message we sent: `To` is the customer."""

    to: CustomerPhone = Field(alias="To")
    from_: BrandNumber = Field(alias="From")
    message_status: DeliveryStatus = Field(alias="MessageStatus")
    error_code: Annotated[int | None, BlankIsNone] = Field(default=None, alias="ErrorCode")

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


def reasons(error: ValidationError) -> str:
    """Each failing field and why, in one line for a 400 body."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in error.errors())


def parse(model: type[FormT], form: dict[str, str]) -> FormT:
    if "MessageStatus" not in form and "SmsStatus" in form:  # older callbacks carry only SmsStatus
        form = {**form, "MessageStatus": form["SmsStatus"]}
    try:
        return model.model_validate(form)
    except ValidationError as error:
        raise BadFormError(reasons(error)) from None
