"""A brand's ordering system, as the local stack runs it beside the Twilio
simulator: it takes Rapport's reorder calls (POST /orders) as a brand's
developer would implement docs/stores-and-orders.md, then posts the order's
events back to Rapport's `POST /api/events` with an integration key.

- The signature is checked on its own code, from the contract (not Rapport's):
  a call without a valid `X-Rapport-Signature`, or signed more than
  TOLERANCE_S away from now, answers 401.
- `Idempotency-Key`: the same key again answers what it answered first, and
  orders nothing more. The key that counts is the body's (it is signed); a
  header that differs from it is refused (400): a replayed body under a fresh
  header orders nothing.
- A placed order answers `{"message": "... pay here <link>", "order_id"}` and,
  `event_gap_s` apart, posts order_placed, out_for_delivery and delivered.
- For tests: `GET /calls` lists every call (its key, whether its signature
  held, the body); `POST /control {"down": true}` answers 503 until
  `{"down": false}`.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.request
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from typing import Any

from local.json_http import JsonHandler

TOLERANCE_S = 300  # a signature older (or newer) than this is a replay
PRICE_PER_ITEM = 850  # the simulator's menu: every item £8.50
EVENTS = ("order_placed", "out_for_delivery", "delivered")


def verified(secret: str, header: str, body: bytes, now: float) -> bool:
    """`t=<unix seconds>,v1=<hex>`: HMAC-SHA256 over "<t>.<body>", within the tolerance."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return abs(now - timestamp) <= TOLERANCE_S and hmac.compare_digest(expected, parts.get("v1", ""))


class OrderingSimulator:
    def __init__(self, secret: str, api_base_url: str, integration_key: str, event_gap_s: float = 1.0) -> None:
        self.secret = secret
        self.api_base_url = api_base_url.rstrip("/")
        self.integration_key = integration_key
        self.event_gap_s = event_gap_s
        self.down = False
        self.calls: list[dict[str, Any]] = []
        self.answers: dict[str, dict[str, str]] = {}  # by Idempotency-Key
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self.port = 0

    def order(self, key: str, signature: str, body: bytes) -> tuple[int, dict[str, str]]:
        signed = verified(self.secret, signature, body, time.time())
        with self._lock:
            self.calls.append({"idempotency_key": key, "signed": signed, "body": body.decode(errors="replace")})
            if not signed:
                return 401, {"error": "bad or missing X-Rapport-Signature"}
            request = json.loads(body)
            if not key or key != request.get("idempotency_key"):
                return 400, {"error": "Idempotency-Key must be the body's idempotency_key"}
            if self.down:
                return 503, {"error": "down for maintenance"}
            if key in self.answers:
                return 200, self.answers[key]
            order_id = f"sms_{next(self._numbers)}"
            link = f"http://127.0.0.1:{self.port}/pay/{order_id}"
            self.answers[key] = {"message": f"Your order {order_id} is in: pay here {link}", "order_id": order_id}
        if self.api_base_url:  # none: the order is only answered (the adapter's contract tests)
            threading.Thread(target=self._post_events, args=(order_id, request), daemon=True).start()
        return 200, self.answers[key]

    def _post_events(self, order_id: str, request: dict[str, Any]) -> None:
        items = request["items"]
        amount = PRICE_PER_ITEM * sum(int(item["quantity"]) for item in items)
        for kind in EVENTS:
            time.sleep(self.event_gap_s)
            event = {
                "id": f"evt_{order_id}_{kind}", "type": kind, "order_id": order_id, "phone": request["phone"],
                "store_id": request["store_id"], "at": datetime.now(UTC).isoformat(),
                "total": {"amount": amount, "currency": "GBP"}, "items": items, "channel": "sms",
            }  # fmt: skip
            call = urllib.request.Request(  # noqa: S310 (the local stack's own http:// API)
                f"{self.api_base_url}/api/events",
                data=json.dumps(event).encode(),
                method="POST",
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.integration_key}"},
            )
            with urllib.request.urlopen(call, timeout=10):  # noqa: S310
                pass

    def serve(self, host: str, port: int) -> ThreadingHTTPServer:
        server = ThreadingHTTPServer((host, port), _handler_for(self))
        server.daemon_threads = True
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


def _handler_for(sim: OrderingSimulator) -> type[JsonHandler]:
    class Handler(JsonHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's names)
            if self.path == "/calls":
                self._send(200, sim.calls)
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self) -> None:  # noqa: N802 (http.server's names)
            body = self._body()
            if self.path == "/orders":
                key = self.headers.get("Idempotency-Key", "")
                self._send(*sim.order(key, self.headers.get("X-Rapport-Signature", ""), body))
            elif self.path == "/control":
                sim.down = bool(json.loads(body or b"{}").get("down"))
                self._send(200, {"down": sim.down})
            else:
                self._send(404, {"error": "not found"})

    return Handler
