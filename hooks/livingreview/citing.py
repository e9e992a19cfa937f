"""Site-wide citation numbering and the HTML of citations and reference lists.

Citations of every page are collected first, in reading order, and numbered by first
appearance; only then is any page rendered, so a reference has one number on every page and
in the PDF (as sphinxcontrib-bibtex does, and unlike per-page numbering).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .bibliography import Bibliography, Formatter
from .cache import content_hash
from .citations import Citation, CiteItem, find_citations, replace_citations
from .errors import Problem
from .exports import download_links
from .render import escape_data, relative_url

_TAG = re.compile(r"<[^>]+>")

#: URL of the generated References page (directory URLs).
REFERENCES_URL = "references/"


def anchor(key: str) -> str:
    """Return the HTML id of a reference entry; safe for any BibTeX key."""
    safe = re.sub(r"[^A-Za-z0-9_-]", lambda m: f".{ord(m.group()):x}.", key)
    return f"ref-{safe}"


@dataclass
class PageSource:
    """One page's Markdown as the citation stage sees it."""

    path: str
    markdown: str
    line_offset: int = 0
    #: Number the keys it cites but report nothing: a hand-written page's marker expansions,
    #: whose keys the validator checked and whose problems the page's own text would repeat.
    quiet: bool = False


@dataclass
class Citer:
    """Numbers citations across the site and renders them.

    Attributes:
        bibliography: The loaded ``references.bib``.
        formatter: CSL formatter for the configured style.
        numbers: Reference number by key, in order of first citation.
    """

    bibliography: Bibliography
    formatter: Formatter
    numbers: dict[str, int] = field(default_factory=dict)
    #: Verification label by key, (level, text), for references that are not fully checked.
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    _html: dict[str, str] = field(default_factory=dict)
    #: Citations found while numbering, by page text, so rendering does not parse it again.
    _found: dict[str, list[Citation]] = field(default_factory=dict)
    _plain: dict[str, str] = field(default_factory=dict)

    def collect(self, pages: Iterable[PageSource]) -> list[Problem]:
        """Number every cited key in reading order; report unknown keys with their position."""
        problems: list[Problem] = []
        for page in pages:
            if "@" not in page.markdown:
                continue
            found = self._found[page.markdown] = find_citations(page.markdown)
            for citation in found:
                for item in citation.items:
                    if item.key in self.bibliography:
                        self.numbers.setdefault(item.key, len(self.numbers) + 1)
                        continue
                    if page.quiet:
                        continue
                    problems.append(unknown_key(self.bibliography, item.key, page, citation))
        if self.numbers:
            self._html = self.formatter.format_references(list(self.numbers))
        return problems

    def state_digest(self) -> str:
        """Return a digest of what rendering depends on besides the page itself.

        That is the style, the numbers, the formatted references, the cited entries' data and
        the verification labels.
        """
        cited = [self.bibliography.get(key) for key in self.numbers]
        state = [
            self.formatter.style_name,
            self.formatter.citation_format,
            list(self.numbers.items()),
            [self._html.get(key, "") for key in self.numbers],
            [[e.csl_json, sorted(e.others)] if e is not None else None for e in cited],
            sorted(self.labels.items()),
        ]
        return content_hash(json.dumps(state, ensure_ascii=False))

    def plain(self, key: str) -> str:
        """Return the plain-text reference for tooltips.

        Taken from the HTML already formatted for the reference lists when there is one:
        formatting each reference a second time would double the citation stage's cost.
        """
        if key not in self._plain:
            formatted = self._html.get(key)
            if formatted:
                self._plain[key] = html.unescape(_TAG.sub("", formatted))
            else:
                self._plain[key] = self.formatter.format_plain(key)
        return self._plain[key]

    def reference_html(self, key: str) -> str:
        """Return the formatted reference as HTML."""
        return self._html.get(key) or escape_data(self.plain(key))

    @staticmethod
    def _href(key: str, page_url: str) -> str:
        return relative_url(f"{REFERENCES_URL}#{anchor(key)}", page_url)

    def _link(self, key: str, text: str, page_url: str) -> str:
        href = self._href(key, page_url)
        # escape_data, not html.escape: Markdown's link and emphasis patterns run before its
        # raw-HTML pattern, so Markdown syntax in a reference would come alive in the attribute.
        title = escape_data(self.plain(key))
        return f'<a class="citation-ref" href="{href}" title="{title}">{text}</a>'

    def _item(self, item: CiteItem, page_url: str, *, numeric: bool) -> str:
        if numeric:
            label = str(self.numbers[item.key])
        else:
            label = escape_data(
                self.formatter.format_intext(item.key, suppress_author=item.suppress_author)
            ).strip("()")
        text = self._link(item.key, label, page_url)
        if item.prefix:
            text = f"{escape_data(item.prefix)} {text}"
        if item.locator:
            text += f", {escape_data(_locator_text(item))}"
        if item.suffix:
            text += f"{'' if item.suffix.startswith(',') else ' '}{escape_data(item.suffix)}"
        return text

    def render(self, markdown: str, page_url: str) -> tuple[str, list[str]]:
        """Replace citations in a page with linked numbers (or author-date labels).

        Returns:
            The Markdown with citations as inline HTML, and the keys cited on the page in
            order of first citation.
        """
        cited: list[str] = []
        if "@" not in markdown:
            return markdown, cited
        numeric = self.formatter.is_numeric

        def one(citation: Citation) -> str:
            for item in citation.items:
                if item.key not in cited:
                    cited.append(item.key)
            if citation.narrative:
                item = citation.items[0]
                name = escape_data(self.formatter.narrative_name(item.key))
                inner = self._item(item, page_url, numeric=numeric)
                if numeric:
                    return f'<span class="citation">{name} [{inner}]</span>'
                return f'<span class="citation">{name} ({inner})</span>'
            parts = [self._item(i, page_url, numeric=numeric) for i in citation.items]
            if numeric:
                return f'<span class="citation">[{"; ".join(parts)}]</span>'
            return f'<span class="citation">({"; ".join(parts)})</span>'

        return replace_citations(markdown, one, self._found.pop(markdown, None)), cited

    def ordered(self, keys: Iterable[str]) -> list[str]:
        """Return keys in reference-number order."""
        return sorted(set(keys), key=lambda k: self.numbers.get(k, 10**9))

    def reference_list(
        self, keys: Iterable[str], page_url: str, *, heading: str = "References"
    ) -> str:
        """Return a page's own reference list (Markdown heading + HTML list)."""
        keys = self.ordered(keys)
        if not keys:
            return ""
        items = "\n".join(
            f'<li value="{self.numbers[k]}">{self.reference_html(k)}'
            f' <a class="reference-backlink" href="{self._href(k, page_url)}"'
            f' title="All references">↗</a></li>'
            for k in keys
        )
        return f'\n\n## {heading}\n\n<ol class="review-references">\n{items}\n</ol>\n'

    def references_page(self, page_url: str) -> str:
        """Return the Markdown of the References page: every cited entry with its links."""
        lines = [
            "# References",
            "",
            "Every work cited anywhere in the review, numbered in order of first citation "
            "(the same numbers as in the PDF).",
            "",
            "Download the cited references: " + download_links("references", page_url) + ".",
            "",
            '<ol class="review-references review-references--all">',
        ]
        for key in self.ordered(self.numbers):
            entry = self.bibliography.get(key)
            links = []
            if entry is not None:
                for url, label in (
                    (entry.doi_url, "DOI"),
                    (entry.pubmed_url, "PubMed"),
                    (entry.pmc_url, "PMC"),
                ):
                    if url:
                        links.append(f'<a href="{html.escape(url, quote=True)}">{label}</a>')
            extra = f' <span class="reference-links">{" · ".join(links)}</span>' if links else ""
            if key in self.labels:
                level, text = self.labels[key]
                extra += (
                    f' <span class="review-status review-status--{html.escape(level)}">'
                    f"{escape_data(text)}</span>"
                )
            lines.append(
                f'<li id="{anchor(key)}" value="{self.numbers[key]}">'
                f"{self.reference_html(key)}{extra}</li>"
            )
        lines.append("</ol>")
        return "\n".join(lines) + "\n"


def unknown_key(
    bibliography: Bibliography, key: str, page: PageSource, citation: Citation
) -> Problem:
    """Return the problem for a citation of a key that is not in the bibliography."""
    suggestions = bibliography.suggest(key)
    hint = f"; did you mean '{suggestions[0]}'?" if suggestions else ""
    return Problem(
        page.path,
        citation.line + page.line_offset,
        citation.column,
        "citation",
        f"unknown citation key '{key}' (not in references.bib){hint}",
    )


def check_keys(bibliography: Bibliography, page: PageSource) -> list[Problem]:
    """Return a problem for every citation of an unknown key in one page."""
    if "@" not in page.markdown:
        return []
    return [
        unknown_key(bibliography, item.key, page, citation)
        for citation in find_citations(page.markdown)
        for item in citation.items
        if item.key not in bibliography
    ]


def _locator_text(item: CiteItem) -> str:
    short = {
        "page": "p.",
        "chapter": "chap.",
        "section": "sec.",
        "figure": "fig.",
        "table": "table",
        "volume": "vol.",
        "paragraph": "para.",
        "line": "l.",
        "note": "n.",
    }
    label = short.get(item.label, item.label)
    if item.label == "page" and any(c in item.locator for c in "-–,"):
        label = "pp."
    return f"{label} {item.locator}".strip()
