"""A small thread-safe LRU for artefacts derived from a tenant's definitions (metadata snapshots,
OpenAPI documents, principals). Keys carry the stamp of what the artefact was derived from, so a
change is never served stale; the bound keeps memory flat however many tenants a process serves."""

from collections import OrderedDict
from threading import Lock


class BoundedCache:
    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = Lock()

    def get(self, key):
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
