"""Cold start and size: what a new Lambda container pays before its first answer.

`coldstart.import_ratio`: importing the app ÷ importing chalice + boto3 alone,
each in fresh processes, interleaved, median of several runs.
`coldstart.first_request_ratio`: importing the app and answering one /health
request (which builds the DynamoDB client) ÷ the same baseline.
`package.zip_mb`: the deployment package `make package` built.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench._support import Figure, log

ROOT = Path(__file__).resolve().parent.parent
RUNS = 15
BASELINE = "import chalice, boto3"
APP = "import app"
# An API Gateway REST event for GET /health, handed to the app as Lambda would.
FIRST_REQUEST = """
import app
event = {
    "resource": "/health", "path": "/health", "httpMethod": "GET", "headers": {}, "multiValueHeaders": {},
    "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": None,
    "stageVariables": None, "body": None, "isBase64Encoded": False,
    "requestContext": {"resourcePath": "/health", "httpMethod": "GET", "path": "/dev/health", "stage": "dev"},
}
assert app.app(event, None)["statusCode"] == 200
"""


def seconds_in_fresh_process(code: str) -> float:
    timed = f"import time\nt = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)"
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    out = subprocess.run([sys.executable, "-c", timed], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def run() -> list[Figure]:
    log(f"coldstart: {RUNS} fresh processes per case, interleaved")
    samples: dict[str, list[float]] = {BASELINE: [], APP: [], FIRST_REQUEST: []}
    for _ in range(RUNS):
        for code, found in samples.items():
            found.append(seconds_in_fresh_process(code))
    baseline = statistics.median(samples[BASELINE])
    figures: list[Figure] = [
        ("coldstart.import_ratio", statistics.median(samples[APP]) / baseline, "x"),
        ("coldstart.first_request_ratio", statistics.median(samples[FIRST_REQUEST]) / baseline, "x"),
        ("coldstart.baseline_ms", baseline * 1000, "ms"),
    ]
    package = ROOT / "build" / os.environ.get("STAGE", "dev") / "deployment.zip"
    if package.exists():
        figures.append(("package.zip_mb", package.stat().st_size / 1_000_000, "MB"))
    else:
        log(f"package: {package} missing; run `make package` first")
    return figures
