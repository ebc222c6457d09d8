"""Use cases: the brand's stores, set and read by operators."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from chalicelib.domain.contact import Contact
from chalicelib.domain.errors import RapportError
from chalicelib.domain.stores import Origin, Store, StoreSpec, check_store_id, origin_of, template_fields
from chalicelib.services.ports import Clock, StoreBook
from chalicelib.services.retry import retry_on_conflict

STORES_KEPT_S = 60.0  # how long a container trusts its list of stores: an edit reaches every text within it


class UnknownStoreError(RapportError, LookupError):
    """No store has that id."""


def put_store(
    store_id: str, spec: StoreSpec, stores: StoreBook, clock: Clock, by: str | None = None
) -> tuple[Store, bool]:
    """Create the store or replace what it says (retiring it is `retired: true`: a
    store is never deleted). The store as saved, and whether it is new."""
    check_store_id(store_id)

    def attempt() -> tuple[Store, bool]:
        current = stores.get(store_id)
        now = clock.now()
        created_at = current.created_at if current else now
        saved = Store(**spec.model_dump(), id=store_id, created_at=created_at, updated_at=now, updated_by=by)
        stores.save(saved, current.version if current else None)
        return saved.model_copy(update={"version": current.version + 1 if current else 1}), current is None

    return retry_on_conflict(attempt)


def get_store(store_id: str, stores: StoreBook) -> Store:
    found = stores.get(store_id)
    if found is None:
        raise UnknownStoreError(f"no store {store_id!r} (GET /api/stores lists them)")
    return found


def not_live(store_ids: list[str], stores: StoreBook) -> str | None:
    """Why these stores cannot be a campaign's (unknown or retired), or None."""
    if not store_ids:
        return None
    known = {store.id: store for store in stores.list()}
    unknown = [store_id for store_id in store_ids if store_id not in known]
    retired = [store_id for store_id in store_ids if store_id in known and known[store_id].retired]
    reasons = [f"no store {', '.join(unknown)} (GET /api/stores lists them)"] if unknown else []
    reasons += [f"{', '.join(retired)} retired"] if retired else []
    return "; ".join(reasons) or None


def listed(stores: StoreBook) -> list[Store]:
    """Every store, retired ones too, by id."""
    return sorted(stores.list(), key=lambda store: store.id)


class StoreDirectory:
    """The stores as texts read them (a contact's sender, name and phone): listed
    once and kept for `kept_s`, so a text costs no read for its store. Stores
    change rarely; an edit reaches every container within `kept_s`. A store asked
    for and not in the list (created since it was read) is read on its own at
    once. The brand speaks for a contact without a store."""

    def __init__(
        self, book: StoreBook, clock: Clock, brand_name: str, brand_mps: float, kept_s: float = STORES_KEPT_S
    ) -> None:
        self._book, self._clock, self._kept_s = book, clock, kept_s
        self._brand_name, self._brand_mps = brand_name, brand_mps
        self._stores: dict[str, Store] = {}
        self._read_at: datetime | None = None

    def all(self, wanted: Iterable[str] = ()) -> list[Store]:
        """Every store; `wanted`: ids that should be among them (each missing one read on its own)."""
        now = self._clock.now()
        if self._read_at is None or (now - self._read_at).total_seconds() >= self._kept_s:
            self._stores, self._read_at = {store.id: store for store in self._book.list()}, now
        for store_id in wanted:
            if store_id not in self._stores and (found := self._book.get(store_id)) is not None:
                self._stores[store_id] = found
        return list(self._stores.values())

    def get(self, store_id: str | None) -> Store | None:
        if store_id is None:
            return None
        self.all(wanted=[store_id])
        return self._stores.get(store_id)

    def of(self, contact: Contact) -> Store | None:
        return self.get(contact.store_id)

    def origin(self, contact: Contact) -> Origin:
        return origin_of(self.of(contact), self._brand_mps)

    def template_fields(self, contact: Contact) -> dict[str, str]:
        return template_fields(self.of(contact), self._brand_name)

    def name_of(self, store_id: str) -> str | None:
        """The store's name; the brand's for a store it does not know; None once retired."""
        store = self.get(store_id)
        return None if store is not None and store.retired else template_fields(store, self._brand_name)["store_name"]
