"""One cache for parsed input files: keyed by path and content hash, one version per path.

``mkdocs serve`` rebuilds after every save, and most inputs have not changed: their parse is
reused. The key is the file (and whatever else the result depends on, such as the root that
problem paths are relative to) plus the SHA-256 of its content, so an edit is always seen,
even one that keeps the size and modification time. Only the newest version of each file is
kept, since an edited file's old parse will never be asked for again. Values are stored as
they are returned to every caller, so they must be immutable (frozen objects and tuples); the
YAML documents are read-only by contract.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


def content_hash(data: bytes | str) -> str:
    """Return the SHA-256 of a file's bytes (or of its decoded text) as hex."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


class ContentCache(Generic[V]):
    """Parsed values by (file key, content hash), keeping one version per file key."""

    def __init__(self) -> None:
        self._entries: dict[Hashable, tuple[str, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, data: bytes | str, parse: Callable[[], V]) -> V:
        """Return the value for ``key`` at this content, calling ``parse`` only when new.

        Args:
            key: Identifies the file (its resolved path, and what the value depends on).
            data: The file's content, hashed to tell versions apart.
            parse: Makes the value from the content; its result must be immutable.
        """
        digest = content_hash(data)
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and hit[0] == digest:
            return hit[1]
        value = parse()
        with self._lock:
            self._entries[key] = (digest, value)
        return value

    def clear(self) -> None:
        """Forget every value (tests use this to measure cold loads)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
