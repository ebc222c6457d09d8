"""`make repair-consent`: consent registers rebuilt from each contact's history
(services/repair.py), once, on the table TABLE_NAME names: the local stack's
(AWS_ENDPOINT_URL) or, with AWS credentials and no endpoint, a deployed one.
Profiles written before the registers whose STOP an import overwrote get it
back; every other profile is left as it is. Safe to run again."""

from __future__ import annotations

import os
import sys

import boto3

from chalicelib.adapters.dynamodb_store import DynamoConversationStore
from chalicelib.services.repair import repair_all


def main() -> int:
    table = os.environ.get("TABLE_NAME", "rapport")
    done = repair_all(DynamoConversationStore(boto3.client("dynamodb"), table))
    print(f"{table}: {done.seen} contacts read, {done.changed} whose consent was rebuilt from their history")
    return 0


if __name__ == "__main__":
    sys.exit(main())
