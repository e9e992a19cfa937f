"""One site build: what the MkDocs adapter asks of the library, event by event.

Kept free of MkDocs imports so the whole pipeline can be driven and tested without MkDocs:
the adapter passes plain strings (source paths, URLs, Markdown) and gets plain strings back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import changes, explorer, exports, meta, pages, release_views, releases
from .bibliography import Entry, Formatter
from .cache import content_hash, disk_table, open_disk_cache, save_disk_cache
from .citing import Citer, PageSource
from .errors import Problem, ProblemsFound, relative_path
from .load import read_text
from .manifest import write_manifest
from .model import SiteOptions, Study
from .project import (
    REFERENCES_SRC,
    Project,
    expand_page,
    generated_sources,
    load_project,
    split_front_matter,
)
from .validate import schema_validator
from .validate.options import check_site_options, read_site_options
from .verification import reference_labels


@dataclass(frozen=True)
class GeneratedPage:
    """A page the build adds in memory (never written into ``docs/``)."""

    src: str
    content: str
    in_nav: bool
    record: str = ""


def _entry_identity(entry: Entry) -> list[Any]:
    """Everything an entry's downloads depend on, as plain JSON data."""
    fields, cased = dict(entry.fields), dict(entry.cased)
    return [entry.key, entry.entry_type, entry.csl_json, fields, sorted(entry.others), cased]


@dataclass
class RenderedPages:
    """What each page in the site directory was rendered from, for ``mkdocs serve --dirty``.

    A dirty rebuild renders only the pages whose output can have changed. A page's output is
    a function of its final Markdown (data, markers and citation numbers included: a record
    edit that renumbers citations changes every page it renumbers) and of what every page
    shares (navigation, configuration, theme overrides, the version in the footer). So a page
    is rendered again when the digest of its final Markdown changed, and every page is when
    the shared part changed, on the first build, and after a failed build. The state lives in
    the library with its other per-process caches (the adapter stays a thin adapter).

    Attributes:
        dirty: Whether the running command is ``mkdocs serve --dirty``.
        site: Digest of the shared part, as last written.
        pages: Digest of each page's final Markdown (by source path), as last written.
    """

    dirty: bool = False
    site: str = ""
    pages: dict[str, str] = field(default_factory=dict)
    #: Final Markdown by source path, with the digest of its inputs (reused while equal).
    finals: dict[str, tuple[str, str]] = field(default_factory=dict)
    _pending: tuple[str, dict[str, str]] | None = None

    def stale(self, site: str, pages: dict[str, str]) -> set[str] | None:
        """Return the pages to render in this build (``None``: every page).

        Args:
            site: Digest of what every page shares, for this build.
            pages: Digest of each page's final Markdown, for this build.
        """
        self._pending = (site, pages)
        if not self.site or site != self.site:
            return None
        return {src for src, digest in pages.items() if self.pages.get(src) != digest}

    def written(self) -> None:
        """The build wrote the pages it rendered: remember what they were rendered from."""
        if self._pending is not None:
            self.site, self.pages = self._pending[0], dict(self._pending[1])
        self._pending = None

    def forget(self) -> None:
        """The build failed part-way: the next one renders every page."""
        self.site, self.pages, self._pending = "", {}, None


#: The serve session's record of rendered pages (one per process, like the input caches).
RENDERED = RenderedPages()


@dataclass
class SiteBuild:
    """State of one build, created afresh at every ``on_config``.

    Attributes:
        root: Project root (holds ``mkdocs.yml``, ``data/``, ``references.bib``).
        docs_dir: The hand-written pages.
        options: ``extra.review`` from ``mkdocs.yml`` (``style``, ``repo_url``, ...).
    """

    root: Path
    docs_dir: Path
    options: dict[str, Any] = field(default_factory=dict)
    project: Project | None = None
    citer: Citer | None = None
    _expanded: dict[str, str] = field(default_factory=dict)
    _bodies: dict[str, str] = field(default_factory=dict)
    #: The study behind each generated study page, by source path.
    _studies: dict[str, Study] = field(default_factory=dict)
    _abbr: str | None = None
    _settings: SiteOptions | None = None
    _sources: dict[str, str] = field(default_factory=dict)
    _final: dict[str, tuple[str, str]] = field(default_factory=dict)
    _model_digest: str | None = None

    def configure(self) -> list[Problem]:
        """Check the site options (``extra.review``); return one problem per wrong option.

        Positions are read from ``mkdocs.yml`` when the options are the ones it holds.
        """
        raw, positions = read_site_options(self.root)
        if raw != self.options:
            positions = {}
        self._settings, problems = check_site_options(self.options, positions, self.root)
        return problems

    @property
    def settings(self) -> SiteOptions:
        """The checked site options (checked on first use when :meth:`configure` was not run)."""
        if self._settings is None:
            problems = self.configure()
            if problems:
                raise ProblemsFound(problems)
        assert self._settings is not None
        return self._settings

    def load(self) -> None:
        """Load and validate every input (raises ``ProblemsFound``)."""
        settings = self.settings
        # Parsed BibTeX, schema checks and formatted references from earlier builds.
        open_disk_cache(self.root)
        self.project = load_project(self.root)
        formatter = Formatter(self.project.bibliography, style=settings.style, root=self.root)
        self.citer = Citer(self.project.bibliography, formatter)
        self.citer.labels = reference_labels(self.project.catalog)

    def _edit_link(self, record: str) -> str:
        repo, branch = self.settings.repo_url, self.settings.branch
        return f"{repo}/edit/{branch}/{record}" if repo else ""

    def model_digest(self) -> str:
        """Return a digest of everything the generated pages and data downloads are made from.

        The validated model (records, trials, vocabularies, glossary, PRISMA flow, release
        log), the records' hashes and the site options, through their ``repr``: the model is
        frozen dataclasses, tuples, mappings, strings and numbers, whose ``repr`` shows every
        field, so two models with the same digest are equal. (A value whose ``repr`` held an
        address would make every build miss the cache, never hit a stale entry.)
        """
        if self._model_digest is None:
            assert self.project is not None
            project = self.project
            parts = [
                repr(project.catalog),
                repr(project.prisma),
                repr(project.release_log),
                repr(project.versions),
                json.dumps(dict(project.record_hashes), sort_keys=True),
                repr(self.settings),
            ]
            self._model_digest = content_hash("\0".join(parts))
        return self._model_digest

    @staticmethod
    def _texts(
        table_name: str, key: Callable[[], str], make: Callable[[], dict[str, str]]
    ) -> dict[str, str]:
        """Return ``make()``, or what an earlier build stored under ``key()`` in the table.

        For generated text (pages, downloads) as a mapping of names to text; ``key()`` digests
        everything the text is made from (the table file adds the library version). Without
        a cache across builds, the key is not computed.
        """
        table = disk_table(table_name)
        if table is None:
            return make()
        digest = key()
        stored = table.get(digest)
        if isinstance(stored, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in stored.items()
        ):
            contents: dict[str, str] = stored
        else:
            contents = make()
        table.put(digest, contents)
        return contents

    def generated_pages(self) -> list[GeneratedPage]:
        """Return the pages generated from the data, in :func:`.project.generated_sources` order.

        Their Markdown is a function of the model (see :meth:`model_digest`), so a build of
        an unchanged model takes it from the cache across builds.
        """
        assert self.project is not None
        catalog = self.project.catalog
        fixed = {
            pages.STUDIES_INDEX: lambda: pages.studies_index(catalog),
            REFERENCES_SRC: lambda: "# References\n",
            explorer.EXPLORER_SRC: lambda: explorer.explorer_page(catalog),
            changes.WHATS_NEW_SRC: self._whats_new,
        }
        self._studies = {pages.study_src(s.id): s for s in catalog.studies}
        sources = generated_sources(catalog)

        def render_all() -> dict[str, str]:
            out = {}
            for src in sources:
                if src in fixed:
                    out[src] = fixed[src]()
                else:
                    study = self._studies[src]
                    out[src] = pages.study_page(study, catalog, self._edit_link(study.path))
            return out

        contents = self._texts("pages", self.model_digest, render_all)
        if list(contents) != sources:  # a stored value for another list of pages: remake
            contents = render_all()
        return [
            GeneratedPage(src, contents[src], in_nav=True)
            if src in fixed
            else GeneratedPage(src, contents[src], in_nav=False, record=self._studies[src].path)
            for src in sources
        ]

    def generated_files(self) -> list[GeneratedPage]:
        """Return the downloads that are added to the site as files (the study data).

        They are a function of the model and of the study schema (the data dictionary), so
        the schema's digest joins the model's in the key.
        """
        assert self.project is not None
        schema = schema_validator(self.root, "study").schema

        def build() -> dict[str, str]:
            return exports.build_downloads(
                self.project.bibliography,  # type: ignore[union-attr]
                (),
                self.project.catalog,  # type: ignore[union-attr]
                schema,
                groups=exports.FILE_GROUPS,
            )

        def key() -> str:
            return content_hash(self.model_digest() + json.dumps(schema, sort_keys=True))

        contents = self._texts("data-downloads", key, build)
        return [
            GeneratedPage(exports.DOWNLOADS_DIR + name, text, in_nav=False)
            for name, text in contents.items()
        ]

    def _whats_new(self) -> str:
        assert self.project is not None
        project = self.project
        versions_md = release_views.versions_markdown(
            project.catalog,
            project.release_log,
            project.snapshot(),
            flow=project.prisma is not None,
            page_src=changes.WHATS_NEW_SRC,
        )
        return changes.whats_new_page(
            project.catalog,
            project.versions,
            feed_href=changes.FEED_FILE,
            releases_md=versions_md,
            condition_feeds=release_views.feed_links(project.catalog, changes.WHATS_NEW_SRC),
        )

    def feed(self, site_url: str, title: str) -> str:
        """Return the Atom feed of versions and of new and updated studies (``feed.xml``)."""
        return self.feeds(site_url, title)[changes.FEED_FILE]

    def feeds(self, site_url: str, title: str) -> dict[str, str]:
        """Return every feed by file name: ``feed.xml`` and one per condition."""
        assert self.project is not None
        catalog, log = self.project.catalog, self.project.release_log
        versions = self.project.versions
        fallback = versions[0].date if versions else "1970-01-01"
        base, authority = changes.feed_base(site_url)
        out = {
            changes.FEED_FILE: changes.atom_feed(
                catalog,
                site_url,
                title,
                fallback,
                extra_entries=release_views.version_entries(catalog, log, base, authority),
            )
        }
        for condition, label, name in release_views.condition_feeds(catalog):
            subset = replace(
                catalog,
                studies=tuple(s for s in catalog.studies if s.condition == condition),
                trials=tuple(t for t in catalog.trials if t.condition == condition),
            )
            entries = release_views.version_entries(catalog, log, base, authority, condition)
            out[name] = changes.atom_feed(
                subset,
                site_url,
                f"{title}: {label}",
                fallback,
                extra_entries=entries,
                feed_file=name,
            )
        return out

    def warnings(self) -> list[Problem]:
        """Return the warnings found while loading (a strict build fails on them)."""
        assert self.project is not None
        return list(self.project.warnings)

    def cite_this_version(self) -> dict[str, Any]:
        """Return what the foot of every page says about the version shown."""
        assert self.project is not None
        citation = releases.read_citation(self.root)
        return release_views.cite_this_version(
            citation, self.project.release_log, self.project.snapshot()
        )

    def collision(self, src: str, existing: str | None) -> Problem:
        """Return the problem for a hand-written page at a generated page's path."""
        where = relative_path(existing, self.root) if existing else f"docs/{src}"
        return Problem(
            where,
            1,
            None,
            "",
            f"this page collides with the generated page '{src}'; rename or move it",
        )

    def record_for(self, src: str) -> str | None:
        """Return the data file behind a generated page, if any."""
        study = self._studies.get(src)
        return study.path if study is not None else None

    def description(self, src: str, given: object) -> tuple[str | None, Problem | None]:
        """Return a page's escaped meta description and a problem if the given one is not text.

        Args:
            src: The page's source path inside ``docs/``.
            given: ``description`` from the page's front matter, or ``None``.
        """
        assert self.project is not None
        if given is None:
            study = self._studies.get(src)
            if study is not None:
                design = self.project.catalog.vocab("designs").label(study.design)
                given = meta.study_description(study, design)
            else:
                given = meta.GENERATED.get(src)
            if given is None:
                return None, None
        text = meta.inert_description(given)
        if text is None:
            where = relative_path(self.docs_dir / src, self.root)
            msg = "must be one line of text (quote it in the front matter)"
            return None, Problem(where, 1, None, "description", msg)
        return text, None

    def edit_url(self, repo_url: str, edit_uri: str, record: str) -> str:
        """Return the URL that opens a record for editing in the repository."""
        # edit_uri points into the docs folder ("edit/main/docs/"); records live beside it,
        # so drop the docs folder's own path segments from its end.
        parts = [p for p in edit_uri.split("/") if p]
        docs = [p for p in relative_path(self.docs_dir, self.root).split("/") if p]
        if docs and parts[-len(docs) :] == docs:
            parts = parts[: -len(docs)]
        return "/".join([repo_url.rstrip("/"), *parts, record])

    def prepare(self, sources: list[tuple[str, str, str | Path, bool]]) -> list[Problem]:
        """Expand markers in every page and number all citations, in reading order.

        Args:
            sources: (src path, URL, content or file path, generated?) for every page, nav
                order first. Hand-written pages are given as paths and read here, so that
                unreadable text is reported like any other input problem.
        """
        assert self.project is not None and self.citer is not None
        problems: list[Problem] = []
        collected: list[PageSource] = []
        for src, _url, source, generated in sources:
            if src == REFERENCES_SRC:
                continue
            if isinstance(source, Path):
                content, found = read_text(source, self.root)
                problems.extend(found)
                if content is None:
                    continue
            else:
                content = source
            body, offset = split_front_matter(content)
            path = self.record_for(src) or (f"{src}" if generated else self._doc_path(src))
            expanded, found = expand_page(self.project, body, src, path, offset)
            problems.extend(found)
            self._expanded[src] = expanded
            self._bodies[src] = body
            self._sources[src] = content
            # Positions of citations are reported against the unexpanded source when the page
            # is hand-written; tables inserted by markers cite only validated record keys.
            collected.append(PageSource(path, expanded if generated else body, offset))
            if not generated and expanded != body:
                # A marker may cite a key that no text cites (the source of a published
                # certainty rating in the summary of findings): number it too.
                collected.append(PageSource(path, expanded, offset, quiet=True))
        problems.extend(self.citer.collect(collected))
        return problems

    def _doc_path(self, src: str) -> str:
        return relative_path(self.docs_dir / src, self.root)

    def page_markdown(self, src: str, url: str, markdown: str) -> str:
        """Return the final Markdown of a page: markers expanded, citations rendered.

        Works on ``markdown``, the text MkDocs passes in (front matter removed), so changes
        that other plugins made before this hook survive. When it is the text :meth:`prepare`
        read, the expansion made there is reused; otherwise the markers are expanded again,
        on this text (citations keep the numbers given in reading order).
        """
        assert self.citer is not None and self.project is not None
        done = self._final.get(src)
        if done is not None and markdown.lstrip("\n") == done[0].lstrip("\n"):
            return done[1]  # made by page_digests() for this very text
        if src == REFERENCES_SRC:
            return self.citer.references_page(url)
        text = self._expanded.get(src)
        # MkDocs drops the blank lines after front matter; they change nothing else.
        if text is None or markdown.lstrip("\n") != self._bodies.get(src, "").lstrip("\n"):
            path = self.record_for(src) or self._doc_path(src)
            # Problems in the inputs were reported by prepare(); text another plugin added
            # has no position in any file, so a bad marker there stays as written.
            text, _ = expand_page(self.project, markdown, src, path)
        text, cited = self.citer.render(text, url)
        return text + self.citer.reference_list(cited, url) + self._abbreviations()

    def page_digests(self, pages: list[tuple[str, str]]) -> dict[str, str]:
        """Return a digest of each page's source and final Markdown (see :class:`RenderedPages`).

        The final Markdown is made here, once: :meth:`page_markdown` returns it when MkDocs
        asks for the same text. Pages :meth:`prepare` could not read are left out (and so
        always rendered).

        Args:
            pages: (source path, URL) of every documentation page.
        """
        assert self.citer is not None
        # The final Markdown is a function of the page (URL, source, expanded markers), the
        # citation state and the glossary; while those are equal, the last one is reused.
        shared = content_hash(f"{self.citer.state_digest()}\0{self._abbreviations()}")
        out: dict[str, str] = {}
        for src, url in pages:
            if src == REFERENCES_SRC:
                body, source, expanded = "", "", ""
            elif src in self._bodies:
                body, source = self._bodies[src], self._sources[src]
                expanded = self._expanded.get(src, "")
            else:
                continue
            inputs = content_hash(f"{url}\0{source}\0{expanded}\0{shared}")
            known = RENDERED.finals.get(src)
            if known is not None and known[0] == inputs:
                final = known[1]
            else:
                final = self.page_markdown(src, url, body)
                RENDERED.finals[src] = (inputs, final)
            self._final[src] = (body, final)
            # The output, not the inputs: a reference edited renders only the pages citing it.
            out[src] = content_hash(f"{url}\0{source}\0{final}")
        return out

    def _abbreviations(self) -> str:
        """Return Markdown abbreviation definitions for the glossary (once per build)."""
        if self._abbr is None:
            assert self.project is not None
            lines = [
                f"*[{abbr}]: {definition.replace(']', ')')}"
                for abbr, definition in self.project.catalog.glossary
            ]
            self._abbr = "\n\n" + "\n".join(lines) + "\n" if lines else ""
        return self._abbr

    def write_manifest(
        self,
        site_dir: Path,
        pages: list[tuple[str, str | None]],
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        """Write the manifest the PDF reads: (URL, nav title) in reading order, site settings."""
        write_manifest(site_dir, pages, settings)

    def _reference_downloads(self, keys: list[str], groups: frozenset[str]) -> dict[str, str]:
        """The BibTeX, RIS and CSL-JSON downloads, from the cache across builds when it has them.

        They are a function of the cited entries in citation order (and of the library, whose
        version keys the table), so that is the key.
        """
        assert self.project is not None
        bibliography = self.project.bibliography

        def key() -> str:
            cited = [bibliography.get(k) for k in dict.fromkeys(keys)]
            identity = [sorted(groups), [_entry_identity(e) for e in cited if e is not None]]
            return content_hash(json.dumps(identity, ensure_ascii=False))

        return self._texts(
            "downloads", key, lambda: exports.build_downloads(bibliography, keys, groups=groups)
        )

    def save_cache(self) -> None:
        """Keep what this (successful) build computed for the next one (see :mod:`.cache`)."""
        save_disk_cache()

    def write_downloads(self, site_dir: Path) -> None:
        """Write the downloads that depend on the citations (references.bib/.ris/.json)."""
        assert self.project is not None and self.citer is not None
        keys = self.citer.ordered(self.citer.numbers)
        target = site_dir / exports.DOWNLOADS_DIR
        target.mkdir(parents=True, exist_ok=True)
        groups = frozenset({e.group for e in exports.EXPORTS}) - exports.FILE_GROUPS
        contents = self._reference_downloads(keys, groups)
        for name, text in contents.items():
            (target / name).write_text(text, encoding="utf-8")
