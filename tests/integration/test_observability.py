"""What operators see: EMF metric documents and JSON log lines, phones masked."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.adapters.observability import logger, mask_phones
from tests.integration.conftest import post_signed

CUSTOMER = "+447700900123"
SID = "SM" + "b" * 32


@pytest.fixture
def log_stream(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)
    return stream


def documents(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def emf_metrics(stdout: str) -> dict[str, dict[str, str]]:
    """Metric name -> its dimensions, from every EMF document printed."""
    found = {}
    for doc in documents(stdout):
        directive = doc["_aws"]["CloudWatchMetrics"][0]
        assert directive["Namespace"] == "Rapport"
        for metric in directive["Metrics"]:
            assert (metric["Unit"], doc[metric["Name"]]) == ("Count", [1.0])
            found[metric["Name"]] = {name: doc[name] for name in directive["Dimensions"][0]}
    return found


def test_an_inbound_text_writes_metrics_and_masked_logs(
    client: Client, log_stream: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    form = {"MessageSid": SID, "From": CUSTOMER, "To": "+15005550006", "Body": "STOP"}
    assert post_signed(client, "/twilio/inbound", form).status_code == 200
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["InboundMessages"] == {"service": "rapport"}
    assert metrics["Keywords"] == {"service": "rapport", "kind": "opt_out"}

    lines = documents(log_stream.getvalue())
    assert {line["message"] for line in lines} >= {"inbound", "request"}
    assert all(line["correlation_id"] == SID for line in lines)
    inbound = next(line for line in lines if line["message"] == "inbound")
    assert inbound["phone"] == "***0123" and inbound["kind"] == "opt_out"
    request = next(line for line in lines if line["message"] == "request")
    assert (request["route"], request["status"]) == ("/twilio/inbound", 200)
    everything = log_stream.getvalue()
    assert "447700900123" not in everything and "7700900123" not in everything
    assert "STOP" not in everything  # no message bodies at INFO


def test_receipts_forgeries_and_errors_are_counted(
    client: Client, log_stream: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    receipt = {"MessageSid": SID, "MessageStatus": "undelivered", "To": CUSTOMER, "From": "+15005550006"}
    post_signed(client, "/twilio/status", {**receipt, "ErrorCode": "30006"})
    post_signed(client, "/twilio/status", receipt, signature="forged")
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["DeliveryReceipts"] == {"service": "rapport", "status": "undelivered"}
    assert metrics["DeliveryErrors"] == {"service": "rapport", "code": "30006"}
    assert metrics["ForgedSignatures"] == {"service": "rapport"}
    assert "447700900123" not in log_stream.getvalue()


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ('{"phone": "+447700900123"}', '{"phone": "***0123"}'),
        ("From=%2B14155550100&To=%2B15005550006", "From=***0100&To=***0006"),
        ("sid SM0123456789abcdef at 2026-11-27T04:00:00Z", "sid SM0123456789abcdef at 2026-11-27T04:00:00Z"),
    ],
)
def test_phone_numbers_are_masked_to_their_last_four_digits(text: str, masked: str) -> None:
    assert mask_phones(text) == masked
