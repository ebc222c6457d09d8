"""A handset in the terminal: text the running service through the simulator.

python -m local.phone --from +447700900123 --body "hello"   one text
python -m local.phone --from +447700900123                  interactive
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

import requests

from local.environment import BRAND_NUMBER, LOOPBACK, Ports


def text(sim_url: str, sender: str, to: str, body: str) -> list[str]:
    try:
        response = requests.post(f"{sim_url}/sim/inbound", json={"from": sender, "to": to, "body": body}, timeout=30)
    except requests.ConnectionError:
        raise SystemExit(f"no Twilio simulator at {sim_url}: start the stack with `make run`") from None
    result = response.json()
    if response.status_code != 200 or result["status"] != 200:
        raise SystemExit(f"the service answered {result.get('status', response.status_code)}: {result}")
    replies: list[str] = result["replies"]
    return replies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="sender", required=True, help="the handset's number, E.164")
    parser.add_argument("--to", default=BRAND_NUMBER, help="the brand number texted")
    parser.add_argument("--body", help="one text to send; omit for an interactive session")
    parser.add_argument("--sim", default=f"http://{LOOPBACK}:{Ports.twilio}", help="the Twilio simulator")
    args = parser.parse_args()
    lines = [args.body] if args.body is not None else _typed_lines(args.sender)
    for line in lines:
        print(f"{args.sender} -> {args.to}: {line}")
        for reply in text(args.sim, args.sender, args.to, line) or ["(no reply)"]:
            print(f"{args.to} -> {args.sender}: {reply}")


def _typed_lines(sender: str) -> Iterator[str]:
    print(f"Texting as {sender}. Type a message and press Enter; Ctrl-D to quit.")
    for line in sys.stdin:
        if line.strip():
            yield line.rstrip("\n")


if __name__ == "__main__":
    main()
