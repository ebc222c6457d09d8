"""API keys: each has a name (who acts) and a role (what it may do); only the
SHA-256 hash of a key is stored. One use case creates and revokes them, for
the admin routes (entrypoints/keys.py) and `make key` (local/keys.py) alike.

A container keeps what it looked up for at most LOOKUP_TTL_S, so a key revoked
in another container stops working within that time (here: at once)."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from chalicelib.domain.errors import RapportError
from chalicelib.services.ports import Clock

__all__ = [
    "KEY_PREFIX",
    "LOOKUP_TTL_S",
    "Identity",
    "InvalidKeyNameError",
    "KeyLookup",
    "KeyNameTakenError",
    "KeyRecord",
    "KeyStore",
    "Role",
    "UnknownKeyError",
    "create_key",
    "key_hash",
    "list_keys",
    "revoke_key",
]

KEY_PREFIX = "rk_"  # recognisable in a leaked log or a secret scanner
LOOKUP_TTL_S = 30.0  # a revocation elsewhere takes at most this long to reach a container
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,79}$")


class Role(StrEnum):
    ADMIN = "admin"  # keys, settings, and everything else
    OPERATOR = "operator"  # contacts, campaigns, prompts; reads conversations
    AGENT = "agent"  # conversations, timeline, replies, notes, questions
    INTEGRATION = "integration"  # the brand's ordering system: order events, and nothing else


@dataclass(frozen=True)
class Identity:
    """Who is calling: a key's name and role. The scripts' tokens
    (OPERATOR_TOKEN_SHA256 / SSM) are admins named `token:<hash prefix>`."""

    name: str
    role: Role
    stores: frozenset[str] | None = None  # an agent's key limited to these stores' customers (None: every store)

    def sees(self, store_id: str | None) -> bool:
        """Whether this caller may see a customer of this store (none: a customer of no store)."""
        return self.stores is None or store_id in self.stores


class InvalidKeyNameError(RapportError, ValueError):
    """A key name must be 1-80 letters, digits, `.`, `_`, `-` or `@`."""


class KeyNameTakenError(RapportError):
    """A key with that name is in use: revoke it first."""


class UnknownKeyError(RapportError, LookupError):
    """No key in use has that name."""


class KeyStoresError(RapportError, ValueError):
    """Only an agent's key may be limited to stores, and only to stores that exist."""


@dataclass(frozen=True)
class KeyRecord:
    name: str
    role: Role
    key_hash: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    stores: tuple[str, ...] | None = None  # an agent's key: only these stores' customers

    @property
    def identity(self) -> Identity:
        return Identity(self.name, self.role, frozenset(self.stores) if self.stores is not None else None)

    def view(self) -> dict[str, str | list[str] | None]:
        """What the API shows: never the hash."""
        return {
            "name": self.name,
            "role": self.role.value,
            "stores": list(self.stores) if self.stores is not None else None,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "revoked_by": self.revoked_by,
        }


class KeyStore(Protocol):
    def add(self, record: KeyRecord) -> None:
        """Raises KeyNameTakenError when a key in use has the name (a revoked one may be replaced)."""

    def by_hash(self, key_hash: str) -> KeyRecord | None: ...

    def list(self) -> list[KeyRecord]:
        """The keys by name: the one in use, or the latest revoked."""

    def revoke(self, name: str, at: datetime, by: str) -> KeyRecord:
        """Raises UnknownKeyError when no key in use has the name."""


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    name: str, role: Role, keys: KeyStore, clock: Clock, by: str, stores: tuple[str, ...] | None = None
) -> tuple[KeyRecord, str]:
    """A new key for `name`: its record, and the key itself (shown once, never stored).
    `stores`: an agent's key sees only those stores' customers (the caller checks they exist)."""
    if not NAME.fullmatch(name):
        raise InvalidKeyNameError(f"name {name!r}: 1-80 letters, digits, '.', '_', '-' or '@', not starting with one")
    if stores is not None and Role(role) != Role.AGENT:
        raise KeyStoresError("stores: only an agent's key may be limited to stores")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    record = KeyRecord(
        name=name, role=Role(role), key_hash=key_hash(key), created_at=clock.now(), created_by=by, stores=stores
    )
    keys.add(record)
    return record, key


def revoke_key(name: str, keys: KeyStore, clock: Clock, by: str, lookup: KeyLookup | None = None) -> KeyRecord:
    """Revoked in the store at once; in this container's lookup at once; elsewhere within LOOKUP_TTL_S."""
    record = keys.revoke(name, clock.now(), by)
    if lookup is not None:
        lookup.forget(record.key_hash)
    return record


def list_keys(keys: KeyStore) -> list[KeyRecord]:
    return keys.list()


class KeyLookup:
    """Key hash -> Identity, kept for at most `ttl_s` per container. Unknown
    hashes are not kept: a key created elsewhere works on its first call."""

    def __init__(
        self,
        keys: Callable[[], KeyStore],
        ttl_s: float = LOOKUP_TTL_S,
        monotonic: Callable[[], float] = time.monotonic,
        most: int = 1000,
    ) -> None:
        self._keys, self._ttl_s, self._monotonic, self._most = keys, ttl_s, monotonic, most
        self._known: dict[str, tuple[float, Identity | None]] = {}
        self._lock = threading.Lock()

    def identity(self, hashed: str) -> Identity | None:
        now = self._monotonic()
        with self._lock:
            kept = self._known.get(hashed)
        if kept is not None and now - kept[0] < self._ttl_s:
            return kept[1]
        record = self._keys().by_hash(hashed)
        found = record.identity if record is not None and record.revoked_at is None else None
        with self._lock:
            if found is None:
                self._known.pop(hashed, None)
                return None
            if len(self._known) >= self._most:
                self._known.clear()
            self._known[hashed] = (now, found)
        return found

    def forget(self, hashed: str) -> None:
        with self._lock:
            self._known.pop(hashed, None)
