"""Use cases: the brand's stores, set and read by operators."""

from __future__ import annotations

from chalicelib.domain.errors import RapportError
from chalicelib.domain.stores import Store, StoreSpec, check_store_id
from chalicelib.services.ports import Clock, StoreBook
from chalicelib.services.retry import retry_on_conflict


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


def listed(stores: StoreBook) -> list[Store]:
    """Every store, retired ones too, by id."""
    return sorted(stores.list(), key=lambda store: store.id)
