"""The ids a brand's systems choose, and what they may look like."""

from __future__ import annotations

import re

STORE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")  # a store: leeds, newcastle-2
EVENT_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"  # an order or an order event, as the ordering system names it
