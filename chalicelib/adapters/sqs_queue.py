"""JobQueue on SQS: JSON bodies, sent ten to a request."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

BATCH = 10  # SendMessageBatch's limit


class SqsQueue:
    def __init__(self, client: Callable[[], SQSClient], url: str) -> None:
        self._make_client = client
        self._client: SQSClient | None = None  # made on first use: the webhooks never pay for it
        self._lock = threading.Lock()  # a send batch's threads may all queue at once; boto3 makes clients one at a time
        self._url = url

    def _connect(self) -> SQSClient:
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

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
