"""SMS segments as the server counts them (domain/segments.py), held to the
console's own counter (console/sms.js) for the same texts."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from chalicelib.domain.segments import Encoding, segments
from local.stack import ROOT

TEXTS = [
    "",
    "Hi",
    "x" * 160,
    "x" * 161,
    "x" * 306,
    "x" * 307,
    "€" * 80,
    "€" * 81,
    "[{~}] ^|\\",
    "Hi Sam,\r\nyour table is ready @ 8 — see you",
    "Pizza 🍕 tonight",
    "🍕" * 35,
    "🍕" * 36,
    "Ünïcödé ça va? ¿Qué tal? ñ ü à",
    "Ελληνικά Δ Φ Γ Λ Ω",
    "Café — " + "x" * 63,
    "Café — " + "x" * 64,
    "tab\there",
    "Zażółć gęślą jaźń",
]


def test_gsm_7_fits_160_then_153_per_segment() -> None:
    assert (segments("x" * 160).count, segments("x" * 161).count, segments("x" * 307).count) == (1, 2, 3)
    assert segments("x" * 161).limit == 306
    assert segments("").count == 0 and segments("").encoding == Encoding.GSM7


def test_the_extension_table_costs_two_septets() -> None:
    assert segments("€" * 80).units == 160 and segments("€" * 80).count == 1
    assert segments("€" * 81).count == 2


def test_one_other_character_makes_it_ucs_2_and_is_named() -> None:
    counted = segments("Hi Sam — 🍕 tonight")
    assert counted.encoding == Encoding.UCS2 and counted.because == ("—", "🍕")
    assert counted.units == 19  # the emoji is two UTF-16 units
    assert (segments("🍕" * 35).count, segments("🍕" * 36).count, segments("🍕" * 36).limit) == (1, 2, 134)


@pytest.mark.skipif(shutil.which("node") is None, reason="no node to run console/sms.js")
def test_the_console_counts_every_text_as_the_server_does() -> None:
    script = (
        f"import {{ segments }} from {json.dumps((ROOT / 'chalicelib/console/sms.js').as_uri())};\n"
        "const texts = JSON.parse(process.argv[1]);\n"
        "console.log(JSON.stringify(texts.map((t) => segments(t))));\n"
    )
    result = subprocess.run(
        ["node", "--input-type=module", "-e", script, json.dumps(TEXTS)],  # noqa: S607 (node from PATH)
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    console = json.loads(result.stdout)
    for text, theirs in zip(TEXTS, console, strict=True):
        ours = segments(text)
        assert (theirs["encoding"], theirs["units"], theirs["count"], theirs["limit"]) == (
            ours.encoding,
            ours.units,
            ours.count,
            ours.limit,
        ), text
        assert tuple(theirs.get("because", ())) == ours.because, text


def test_a_lone_surrogate_is_one_unit_not_an_error() -> None:
    assert segments("x\ud800").units == 2 and segments("x\ud800").encoding == Encoding.UCS2
