"""`make key NAME=alice ROLE=agent`: an API key on the local stack's table, printed once.

The same use case as `POST /api/keys` (services/keys.py), on the DynamoDB that
`make run` serves (AWS_ENDPOINT_URL, TABLE_NAME: the stack's defaults unless set).

  python -m local.keys create alice agent
  python -m local.keys list
  python -m local.keys revoke alice
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.clock import SystemClock
from chalicelib.adapters.dynamodb_keys import DynamoKeyStore
from chalicelib.services import keys as use_cases
from chalicelib.services.keys import KeyNameTakenError, Role, UnknownKeyError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BY = "make key"  # who created a key from the command line
STACK_KEYS = {
    Role.ADMIN: "local-admin",
    Role.OPERATOR: "local-operator",
    Role.AGENT: "local-agent",
    Role.INTEGRATION: "local-integration",
}


def role_keys(dynamodb: DynamoDBClient, table: str) -> dict[Role, tuple[str, str]]:
    """One fresh key per role (`make run`): role -> (name, key). A name in use is revoked and taken again."""
    store, clock = DynamoKeyStore(dynamodb, table), SystemClock()
    made = {}
    for role, name in STACK_KEYS.items():
        try:
            _, key = use_cases.create_key(name, role, store, clock, "make run")
        except KeyNameTakenError:
            use_cases.revoke_key(name, store, clock, "make run")
            _, key = use_cases.create_key(name, role, store, clock, "make run")
        made[role] = (name, key)
    return made


def _client() -> DynamoDBClient:
    import boto3

    from local.environment import Ports, stack_env

    env = stack_env(Ports())  # the stack's endpoint, table and credentials, unless set here
    return boto3.client(
        "dynamodb",
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL", env["AWS_ENDPOINT_URL"]),
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="a new key, printed once")
    create.add_argument("name")
    create.add_argument("role", choices=[role.value for role in Role])
    commands.add_parser("list", help="names, roles, when created and revoked")
    revoke = commands.add_parser("revoke", help="stops working within a minute")
    revoke.add_argument("name")
    args = parser.parse_args(argv)
    table = os.environ.get("TABLE_NAME", "rapport")
    store, clock = DynamoKeyStore(_client(), table), SystemClock()
    try:
        if args.command == "create":
            record, key = use_cases.create_key(args.name, Role(args.role), store, clock, BY)
            print(f"{record.name} ({record.role.value}): {key}")
            print("shown once: keep it now (only its hash is stored)", file=sys.stderr)
        elif args.command == "list":
            for record in use_cases.list_keys(store):
                state = f"revoked {record.revoked_at:%Y-%m-%d %H:%M}" if record.revoked_at else "in use"
                print(f"{record.name}\t{record.role.value}\tcreated {record.created_at:%Y-%m-%d %H:%M}\t{state}")
        else:
            record = use_cases.revoke_key(args.name, store, clock, BY)
            print(f"{record.name}: revoked (refused everywhere within a minute)")
    except (KeyNameTakenError, UnknownKeyError, ValueError) as error:
        print(error, file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as error:
        print(f"table {table!r} cannot be reached ({error}): is `make run` running?", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
