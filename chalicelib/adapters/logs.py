"""Log helpers: phone numbers never appear whole in a log line."""

from __future__ import annotations


def mask_phone(phone: str) -> str:
    """Keep the last 4 digits, enough to correlate, too few to identify."""
    return "***" + phone[-4:] if len(phone) > 4 else "***"
