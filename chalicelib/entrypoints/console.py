"""`GET /console`: the web console for agents and operators, plain HTML, CSS and
JavaScript modules shipped in the package (chalicelib/console/), no build step
and nothing from a CDN.

The files are static and public: they hold no data. Every call the page makes
goes to the documented `/api/` routes with the key the person entered (kept in
the browser's session storage, never in a URL), so the API's own checks apply.
Only files in that one folder with a known type are served; anything else is 404.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from chalice.app import Blueprint, Response

bp = Blueprint(__name__)

FOLDER = Path(__file__).resolve().parent.parent / "console"
INDEX = "index.html"
TYPES = {
    "html": "text/html; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "svg": "image/svg+xml; charset=utf-8",
}
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,60}\.(html|css|js|svg)$")
# The page talks only to its own origin: scripts, styles and API calls alike.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)


@functools.cache
def _files() -> frozenset[str]:
    """The names that may be served: the folder's files with a known type, read once."""
    return frozenset(path.name for path in FOLDER.iterdir() if path.is_file() and NAME.match(path.name))


def _read(name: str) -> str:
    return (FOLDER / name).read_text(encoding="utf-8")  # read each time: an edit shows on reload


def _file(name: str) -> Response:
    if name not in _files():
        return Response(
            body={"Code": "NotFoundError", "Message": f"no console file {name!r}"},
            status_code=404,
            headers={"Content-Type": "application/json"},
        )
    return Response(
        body=_read(name),
        status_code=200,
        headers={
            "Content-Type": TYPES[name.rsplit(".", 1)[1]],
            "Cache-Control": "no-cache",
            "Content-Security-Policy": POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


@bp.route("/console", methods=["GET"])
def console_page() -> Response:
    return _file(INDEX)


@bp.route("/console/{name}", methods=["GET"])
def console_asset(name: str) -> Response:
    return _file(name)
