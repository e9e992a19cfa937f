"""MkDocs adapter: the only module that imports MkDocs.

Each event is a few lines that call the plain library in ``hooks/livingreview/``. Data are
loaded inside events (never at import), because ``mkdocs serve`` does not reload hook modules;
the library caches parsed inputs by content, so unchanged files are not parsed again.

Event order in one build: ``on_config`` -> ``on_files`` (load + validate, add generated pages)
-> ``on_nav`` (expand markers and number citations across all pages in reading order) ->
``on_page_markdown`` per page (insert the prepared Markdown) -> ``on_post_build`` (downloads).
"""

from __future__ import annotations

import functools
import gc
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from livingreview.cache import content_hash
from livingreview.errors import Problem, ProblemsFound, internal_error
from livingreview.history import has_git_history
from livingreview.manifest import SETTINGS
from livingreview.preview import write_problems_page
from livingreview.render import plain_title
from livingreview.site import RENDERED, SiteBuild
from livingreview.validate import today
from livingreview.validate.docs import check_docs_files, docs_files
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import Abort, PluginError
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

# A logger under "mkdocs." so that `mkdocs build --strict` counts our warnings.
log = logging.getLogger("mkdocs.hooks.livingreview")

_build: SiteBuild | None = None
#: Under ``mkdocs serve``: the preview shows a build's problems in the browser (see preview.py).
_preview: dict[str, Any] = {"serving": False, "site_dir": None, "site_name": "", "problems": []}
#: The navigation pages in reading order, with the titles mkdocs.yml gives them (for the PDF).
_reading_order: list[tuple[str, str | None]] = []


def _reported(event: Callable[..., Any]) -> Callable[..., Any]:
    """Turn an exception escaping the library into one line that says it is a bug.

    Bad input never raises (it is a list of problems); anything else is a bug, reported with
    the step and place, and the build fails cleanly (``mkdocs serve`` keeps running).
    """

    @functools.wraps(event)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return event(*args, **kwargs)
        except (PluginError, ProblemsFound):
            raise
        except Exception as exc:
            log.error(internal_error(exc, f"running {event.__name__}"))
            raise PluginError("internal error in the review's build code; see above") from None

    return wrapper


def _fail(problems: list[Problem]) -> NoReturn:
    for problem in problems:
        log.error(problem.format())
    _preview["problems"] = list(problems)
    first = problems[0].format() if len(problems) == 1 else "see the lines above"
    raise PluginError(f"{len(problems)} problem(s) in the review's inputs: {first}")


class _DirtyNotice(logging.Filter):
    """Turn MkDocs' warning about dirty builds into an INFO line under ``serve --dirty``.

    MkDocs warns because it cannot know which pages a change affects; our hooks do (see
    ``RenderedPages``), and under ``strict: true`` the warning would abort every rebuild.
    """

    livingreview = True

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and record.getMessage().startswith(
            "A 'dirty' build is being performed"
        ):
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def on_startup(*, command: str, dirty: bool) -> None:
    """Note whether this is the author's preview (``mkdocs serve``), and whether ``--dirty``.

    Under ``serve --dirty`` the hooks choose which pages to render.
    """
    _preview["serving"] = command == "serve"
    RENDERED.forget()
    RENDERED.dirty = command == "serve" and dirty
    if RENDERED.dirty:
        logger = logging.getLogger("mkdocs.commands.build")
        if not any(getattr(f, "livingreview", False) for f in logger.filters):
            logger.addFilter(_DirtyNotice())


@_reported
def on_config(config: MkDocsConfig) -> MkDocsConfig | None:
    """Start a new build: forget the previous build's state (the library keeps its caches)."""
    global _build
    _preview.update(site_dir=config.site_dir, site_name=config.site_name, problems=[])
    # Read by overrides/main.html: the preview has no PDF, so the link says how to build it.
    config.extra["review_preview"] = _preview["serving"]
    try:
        today()  # MkDocs itself would fail on an unusable SOURCE_DATE_EPOCH with a traceback
    except ProblemsFound as exc:
        _fail(exc.problems)
    root = Path(config.config_file_path).parent
    options: dict[str, Any] = dict(config.extra.get("review", {}))
    _build = SiteBuild(root=root, docs_dir=Path(config.docs_dir), options=options)
    # Every option is checked here, once, so a misspelt one stops the build before any page.
    problems = _build.configure()
    if problems:
        _fail(problems)
    git_dates = config.plugins.get("git-revision-date-localized")
    if git_dates is not None and not has_git_history(root):
        # No history (a tarball or a copy): show no per-page git date rather than the clock.
        log.info("No git history: per-page 'last updated' dates are not shown.")
        git_dates.config["enabled"] = False
    return config


def _release_previous_model() -> None:
    """Let the previous build's objects be collected (``mkdocs serve`` builds again and again).

    What the previous build froze and has become garbage since is freed by reference
    counting, except where it forms reference cycles, which only a collection frees. Unfrozen
    and not collected, the next freeze would keep those for good, so a full collection runs
    here once per rebuild (a single ``mkdocs build`` has nothing frozen yet and skips it).
    """
    if gc.get_freeze_count():
        gc.unfreeze()
        gc.collect()


def _freeze_model() -> None:
    """Leave every object alive now out of later garbage collections.

    The model, the bibliography and the cache tables live until the build ends; each
    automatic collection while the rest is built (MkDocs renders every page) would walk them
    again. Frozen after loading and again after numbering citations: about 1 s of a 21-32 s
    build at 1,000 studies, at no cost in memory (BENCHMARKS.md). The next build (``mkdocs
    serve``) releases it first (:func:`_release_previous_model`).
    """
    gc.freeze()


@_reported
def on_files(files: Files, /, *, config: MkDocsConfig) -> Files | None:
    """Load and validate the data; add the generated pages as virtual files."""
    assert _build is not None
    _release_previous_model()
    try:
        _build.load()
    except ProblemsFound as exc:
        _fail(exc.problems)
    _freeze_model()
    for warning in _build.warnings():
        log.warning(warning.format())
    # Read by overrides/partials/cite-version.html at the foot of every page.
    config.extra["review_release"] = _build.cite_this_version()
    # Nothing outside the project, and nothing but regular files, is read or published.
    problems: list[Problem] = check_docs_files(docs_files(Path(config.docs_dir)), _build.root)
    for page in _build.generated_pages() + _build.generated_files():
        existing = files.get_file_from_path(page.src)
        if existing is not None:
            problems.append(_build.collision(page.src, existing.abs_src_path))
            continue
        # NOT_IN_NAV: a generated page is in the sidebar only where mkdocs.yml lists it, and
        # an unlisted one (every study page) is not reported as omitted from the nav.
        inclusion = InclusionLevel.NOT_IN_NAV
        files.append(File.generated(config, page.src, content=page.content, inclusion=inclusion))
    if problems:
        _fail(problems)
    for name, feed in _build.feeds(config.site_url or "", config.site_name).items():
        files.append(File.generated(config, name, content=feed))
    return files


@_reported
def on_nav(nav: Navigation, /, *, config: MkDocsConfig, files: Files) -> Navigation | None:
    """Expand markers and number citations over every page, in reading order, before rendering."""
    assert _build is not None
    _reading_order[:] = [(page.url, page.title) for page in nav.pages]
    ordered = [page.file for page in nav.pages]
    in_nav = {f.src_uri for f in ordered}
    rest = sorted(
        (f for f in files.documentation_pages() if f.src_uri not in in_nav),
        key=lambda f: f.src_uri,
    )
    # Hand-written pages are read by the library, which reports non-UTF-8 text and NUL bytes
    # as problems; File.content_string would raise on the first and pass the second.
    sources = [
        (
            f.src_uri,
            f.url,
            f.content_string if f.generated_by is not None else Path(f.abs_src_path or ""),
            f.generated_by is not None,
        )
        for f in ordered + rest
    ]
    problems = _build.prepare(sources)
    if problems:
        _fail(problems)
    if RENDERED.dirty:
        _skip_unchanged_pages(nav, config, files)
    _freeze_model()
    return nav


def _skip_unchanged_pages(nav: Navigation, config: MkDocsConfig, files: Files) -> None:
    """Under ``serve --dirty``, let MkDocs render only the pages whose output can have changed.

    MkDocs asks ``File.is_modified()`` (for a file on disk: is the source newer than the
    output?) to decide; that misses a hand-written page whose tables come from the data, and
    re-renders every generated page. Each page's answer is set here from ``RenderedPages``.
    """
    assert _build is not None
    pages = files.documentation_pages()
    digests = _build.page_digests([(f.src_uri, f.url) for f in pages])
    stale = RENDERED.stale(_site_digest(nav, config, files), digests)
    for file in pages:
        render = stale is None or file.src_uri in stale or file.src_uri not in digests
        # An instance attribute: MkDocs calls file.is_modified() for this build only.
        file.is_modified = functools.partial(bool, render)  # type: ignore[method-assign]


def _site_digest(nav: Navigation, config: MkDocsConfig, files: Files) -> str:
    """Digest of what every page shows besides its own Markdown (see ``RenderedPages``)."""
    shared: list[Any] = [
        [(page.title, page.url) for page in nav.pages],
        sorted(f.url for f in files.documentation_pages()),
        json.dumps(config.extra, sort_keys=True, default=str),
    ]
    if config.config_file_path:
        shared.append(content_hash(Path(config.config_file_path).read_bytes()))
    custom = config.theme.custom_dir if config.theme is not None else None
    if custom and Path(custom).is_dir():
        shared.append(
            [
                (p.as_posix(), p.stat().st_mtime_ns, p.stat().st_size)
                for p in sorted(Path(custom).rglob("*"))
                if p.is_file()
            ]
        )
    return content_hash(json.dumps(shared, default=str))


@_reported
def on_page_markdown(
    markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files
) -> str | None:
    """Return the page's prepared Markdown (markers expanded, citations numbered)."""
    assert _build is not None
    # Material prints page.meta.description unescaped into the <head>: store it inert.
    description, problem = _build.description(page.file.src_uri, page.meta.get("description"))
    if problem is not None:
        _fail([problem])
    if description is not None:
        page.meta["description"] = description
    record = _build.record_for(page.file.src_uri)
    if record is not None and config.repo_url:
        page.edit_url = _build.edit_url(config.repo_url, config.edit_uri or "", record)
    return _build.page_markdown(page.file.src_uri, page.file.url, markdown)


@_reported
def on_page_content(html: str, /, *, page: Page, config: MkDocsConfig, files: Files) -> str | None:
    """Hand the theme a plain-text title (data reaches study page titles via the H1)."""
    # The home page keeps the theme's default title (the site name) unless it sets one.
    if not page.is_homepage or "title" in page.meta:
        page.meta["title"] = plain_title(page.title)
    return html


@_reported
def on_post_build(*, config: MkDocsConfig) -> None:
    """Write the bibliography downloads and the manifest of built pages into the site."""
    assert _build is not None
    _build.write_downloads(Path(config.site_dir))
    _build.write_manifest(Path(config.site_dir), _reading_order, _pdf_settings(config))
    _build.save_cache()
    RENDERED.written()


def _pdf_settings(config: MkDocsConfig) -> dict[str, Any]:
    """Return the site settings the PDF uses, as this build resolved them (JSON-ready)."""
    settings: dict[str, Any] = {name: config.get(name) for name in SETTINGS}
    language = config.theme.get("language") if config.theme is not None else None
    settings["theme"] = {"language": language}
    keywords = (config.extra.get("review") or {}).get("keywords")
    if isinstance(keywords, list):
        settings["extra"] = {"review": {"keywords": [str(k) for k in keywords]}}
    return settings


def on_build_error(*, error: Exception) -> None:
    """After a failed build, render every page next time; under serve, show the problems.

    A build that failed may have written some pages, so the next dirty rebuild cannot trust
    what is on disk. Under ``mkdocs serve`` the browser shows the inputs' problems instead of
    old pages.
    """
    RENDERED.forget()
    if _preview["serving"] and _preview["problems"] and _preview["site_dir"]:
        write_problems_page(Path(_preview["site_dir"]), _preview["problems"], _preview["site_name"])
        log.info("The browser shows these problems until a rebuild succeeds.")


def on_serve(server: Any, /, *, config: MkDocsConfig, builder: Callable[..., Any]) -> Any:
    """Let the browser reload after a rebuild that failed on the inputs' problems.

    MkDocs reloads browsers only after a successful rebuild, so a failed one leaves the old
    page on screen ("The server will appear stuck"). A rebuild that stopped on problems in the
    inputs has written the problems page (:func:`on_build_error`): the browsers reload to it.
    The build itself still fails, and its lines are in the terminal.
    """
    rebuild = server.builder

    def rebuild_or_show_problems() -> None:
        try:
            rebuild()
        except Abort:
            if not _preview["problems"]:
                raise

    server.builder = rebuild_or_show_problems
    return server
