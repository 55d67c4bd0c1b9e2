"""Named copies of the emulator's data, kept in memory as compact JSON and bounded in number and size."""

from __future__ import annotations

from collections.abc import Iterator

import orjson

from ..domain.errors import InvalidInput, NotFound
from ..store import Store

MAX_SNAPSHOTS = 100
MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024  # all snapshots together, as JSON (a 400 beyond)
MAX_NAME = 200


class Snapshots:
    """Saved as JSON bytes rather than as Python objects, which take several times the memory."""

    def __init__(self, max_count: int = MAX_SNAPSHOTS, max_bytes: int = MAX_SNAPSHOT_BYTES) -> None:
        self._saved: dict[str, bytes] = {}
        self.max_count = max_count
        self.max_bytes = max_bytes

    def __iter__(self) -> Iterator[str]:
        """The names of the snapshots, oldest first."""
        return iter(self._saved)

    def save(self, name: str, store: Store) -> None:
        """Keep a copy of every namespace's data under `name` (replacing one of that name)."""
        if not name or len(name) > MAX_NAME:
            raise InvalidInput(f"a snapshot needs a name of 1 to {MAX_NAME} characters")
        if name not in self._saved and len(self._saved) >= self.max_count:
            raise InvalidInput(f"at most {self.max_count} snapshots can be kept: delete some first")
        data = orjson.dumps(store.export())
        kept = sum(len(saved) for other, saved in self._saved.items() if other != name)
        if kept + len(data) > self.max_bytes:
            raise InvalidInput(
                f"the snapshots would take {(kept + len(data)) / 2**20:.1f} MiB, over the "
                f"{self.max_bytes / 2**20:.0f} MiB they may use together: delete some first"
            )
        self._saved[name] = data

    def restore(self, name: str, store: Store) -> None:
        data = self._saved.get(name)
        if data is None:
            raise NotFound(f"No snapshot named {name!r}")
        store.restore(orjson.loads(data))

    def delete(self, name: str) -> None:
        if self._saved.pop(name, None) is None:
            raise NotFound(f"No snapshot named {name!r}")
