"""The bibliography model: one frozen Entry per key, and the Bibliography that holds them."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .csl import quote_url_part
from .fields import PMCID_RE

# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One reference, after macro, crossref and LaTeX resolution.

    Attributes:
        key: The citation key as written in the file.
        entry_type: The entry type in lower case (``article``, ``inproceedings``, ...).
        fields: Every field, lower-case name -> decoded Unicode text, including fields
            inherited through ``crossref``. Name fields are the decoded text of the whole list.
        line: 1-based line of the ``@type{key,`` header.
        csl_json: The CSL-JSON record as canonical JSON (sorted keys). Read it through
            :attr:`csl`, which returns a fresh dict each time so that callers cannot change
            the entry by changing the dict.
        others: Name fields (``author``, ``editor``, ...) whose list ended in ``and others``.
        cased: Title fields as CSL gets them (sentence case, braced words kept), by name.
            CSL-JSON has no way to say "et al.", so the name is left out of :attr:`csl` and
            recorded here for :func:`narrative_name` and the exports.
    """

    key: str
    entry_type: str
    fields: Mapping[str, str] = field(hash=False)
    line: int
    csl_json: str = field(repr=False)
    others: frozenset[str] = frozenset()
    cased: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    @property
    def csl(self) -> dict[str, Any]:
        """The CSL-JSON record (``id``, ``type``, ``title``, ``author``, ``issued``, ...)."""
        return json.loads(self.csl_json)

    @property
    def doi(self) -> str | None:
        """The DOI without any ``https://doi.org/`` prefix, or ``None``."""
        return self.csl.get("DOI")

    @property
    def doi_url(self) -> str | None:
        """``https://doi.org/<doi>``, percent-encoded where a URL needs it, or ``None``."""
        doi = self.doi
        if not doi:
            return None
        return "https://doi.org/" + quote_url_part(doi)

    @property
    def pubmed_url(self) -> str | None:
        """``https://pubmed.ncbi.nlm.nih.gov/<pmid>/`` when the PMID is all digits."""
        pmid = self.csl.get("PMID")
        if not pmid or not pmid.isdigit():
            return None
        return f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"

    @property
    def pmc_url(self) -> str | None:
        """``https://www.ncbi.nlm.nih.gov/pmc/articles/<PMCID>/`` when the PMCID is valid."""
        pmcid = self.csl.get("PMCID")
        if not pmcid or not PMCID_RE.match(pmcid):
            return None
        return f"https://www.ncbi.nlm.nih.gov/pmc/articles/{pmcid}/"

    @property
    def url(self) -> str | None:
        """The entry's URL (for arXiv preprints without one, the arXiv abstract page)."""
        return self.csl.get("URL")


@dataclass(frozen=True)
class Bibliography:
    """Every usable entry of one ``.bib`` file, by key.

    Entries dropped because of a problem (a later duplicate key, a block that failed to parse)
    are absent. Keys are looked up exactly; :meth:`suggest` finds near misses.

    Attributes:
        path: The file's path relative to the project root.
        entries: Key -> entry, in file order.
    """

    path: str
    entries: Mapping[str, Entry] = field(hash=False)
    _by_lower: Mapping[str, str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # Frozen dataclass: the derived index is set once, here, through object.__setattr__.
        object.__setattr__(self, "entries", MappingProxyType(dict(self.entries)))
        object.__setattr__(
            self, "_by_lower", MappingProxyType({k.lower(): k for k in self.entries})
        )

    def get(self, key: str) -> Entry | None:
        """Return the entry with exactly this key, or ``None``."""
        return self.entries.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def suggest(self, key: str, limit: int = 3) -> list[str]:
        """Return keys the author may have meant by ``key``, best first.

        Args:
            key: A key that is (usually) not in the bibliography.
            limit: At most this many suggestions.

        Returns:
            The key that matches ignoring case, if any, then close spellings
            (:func:`difflib.get_close_matches`, compared in lower case).
        """
        found: list[str] = []
        exact = self._by_lower.get(key.lower())
        if exact is not None:
            found.append(exact)
        for lower in difflib.get_close_matches(key.lower(), list(self._by_lower), n=limit + 1):
            candidate = self._by_lower[lower]
            if candidate not in found:
                found.append(candidate)
        return found[:limit]
