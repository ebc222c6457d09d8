"""The property-based API fuzzer (schemathesis) runs every operation that
GET /api/openapi.json describes against a local stack of its own, and finds no
5xx and no answer that breaks the document's schemas.

Its own stack, not the session's: the fuzzer imports contacts and creates
campaigns and keys, which other end-to-end tests would then count. A contact
with an open conversation and a campaign are there before it starts, so the
phone and campaign routes reach their use cases rather than a 404.

Bounded: RAPPORT_FUZZ_EXAMPLES cases per operation (25), a fixed seed
(RAPPORT_FUZZ_SEED, 20261127) so `make test` is repeatable, and a time limit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import OPERATOR_TOKEN, RunningStack, running_stack
from tests.e2e.test_campaigns import api, person, start_campaign
from tests.e2e.test_local_stack import text

TABLE = "rapport-fuzz"
PHONE = "+447700900123"  # the document's example for {number}
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
# The coverage phase also sends methods no route has. `chalice local` (Python's
# http.server) answers TRACE and QUERY itself with a 501 page before the app sees
# them; API Gateway answers 403. Not the app's answer, so not asked here.
CONFIG = """
[parameters]
campaign_id = "{campaign_id}"

[phases.coverage]
unexpected-methods = ["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"]
"""


@pytest.fixture(scope="module")
def fuzz_stack() -> Iterator[RunningStack]:
    with running_stack(TABLE, tick_seconds=None) as started:  # the schedule's own minute
        yield started


@pytest.mark.slow
def test_the_fuzzer_finds_no_server_error_and_no_answer_off_its_schema(
    fuzz_stack: RunningStack, tmp_path: Path
) -> None:
    api(fuzz_stack, "POST", "/api/contacts", {"contacts": [person(PHONE, "fuzz")]})
    text(fuzz_stack, PHONE, "Is the fuzzer in?")  # an open conversation to claim, reply to, close
    campaign = start_campaign(fuzz_stack, "fuzz")
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.format(campaign_id=campaign["id"]))
    command = [
        str(SCHEMATHESIS),
        "--config-file", str(config),
        "run", f"{fuzz_stack.api}/api/openapi.json",
        "--url", fuzz_stack.api,
        "--header", f"Authorization: Bearer {OPERATOR_TOKEN}",
        "--checks", "not_a_server_error,response_schema_conformance",
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", os.environ.get("RAPPORT_FUZZ_EXAMPLES", "25"),
        "--seed", os.environ.get("RAPPORT_FUZZ_SEED", "20261127"),
        "--workers", "1",  # 2 threads hit CPython 3.11.7's "AST constructor recursion depth mismatch" (gh-106905)
        "--request-timeout", "20",
        "--no-color",
    ]  # fmt: skip
    # a guard against a hang, not a speed check: with the stores, events, order texts and answers routes
    # it ran past 180 s beside the rest of the suite on 2 cores (2 min 22 s on its own)
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=480, check=False)
    report = result.stdout + result.stderr
    print(report[report.find("WARNINGS") :])  # shown with pytest -s: what was tried, what it could not reach
    assert result.returncode == 0, report[-20000:]
    assert "Operations:" in report and "selected" in report
