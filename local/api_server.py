"""`chalice local`, able to take a burst: `python -m local.api_server local ...`
takes chalice's own command line.

chalice local serves on a ThreadingMixIn HTTPServer whose listen backlog is
socketserver's default of 5: sixteen texts from one number arriving at once
overflow it and some connections are reset before the app sees them (API
Gateway, in AWS, has no such queue). A deeper backlog is the only change.
"""

from __future__ import annotations

import sys

from chalice import local
from chalice.cli import main

BACKLOG = 128

if __name__ == "__main__":
    local.ThreadedHTTPServer.request_queue_size = BACKLOG
    sys.exit(main())
