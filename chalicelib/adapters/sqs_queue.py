"""JobQueue on SQS: JSON bodies, sent ten to a request."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

BATCH = 10  # SendMessageBatch's limit


class SqsQueue:
    def __init__(self, client: Callable[[], SQSClient], url: str) -> None:
        self._connect = cache(client)  # made on first use: the webhooks never pay for it
        self._url = url

    def enqueue(self, jobs: list[dict[str, Any]], delay_s: int = 0) -> None:
        for start in range(0, len(jobs), BATCH):
            entries: Any = [
                {"Id": str(i), "MessageBody": json.dumps(job, sort_keys=True), "DelaySeconds": delay_s}
                for i, job in enumerate(jobs[start : start + BATCH])
            ]
            for _ in range(5):
                response = self._connect().send_message_batch(QueueUrl=self._url, Entries=entries)
                failed = {entry["Id"] for entry in response.get("Failed", [])}
                entries = [entry for entry in entries if entry["Id"] in failed]
                if not entries:
                    break
            if entries:
                raise RuntimeError(f"SQS refused {len(entries)} messages for {self._url}")
