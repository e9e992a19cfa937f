"""What changed in the living review, and when: the What's new page and the Atom feed.

Everything here is a pure function of validated inputs: the :class:`~.model.Catalog` (each
study and trial carries ``added`` and ``updated`` dates) and the review's released versions
from ``data/versions.yaml`` (loaded by :func:`load_versions`).

A record keeps only its latest ``updated`` date, so a study updated twice appears once, on the
later date; the history before that is in the repository's commits.

Feed identifiers: each entry's ``id`` is a ``tag:`` URI (RFC 4151) built from the record id and
the date it was added, so it stays the same when the study is updated or the site moves. Atom
needs absolute IRIs for links; when no ``site_url`` is given the links are relative to the
feed's own location (the site root), which feed readers resolve against the feed's URL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from .model import Catalog, Study, Trial, Version
from .pages import study_src, study_url
from .render import escape_data, relative_src, render, trusted

#: Source path of the generated What's new page, and the file name of the Atom feed.
WHATS_NEW_SRC = "whats-new.md"
FEED_FILE = "feed.xml"

ATOM_NS = "http://www.w3.org/2005/Atom"
DEFAULT_AUTHOR = "The Ketamine Evidence Review contributors"
#: ``tag:`` authority used when no site URL gives a host name (RFC 2606 reserves ``.invalid``).
FALLBACK_AUTHORITY = "ketamine-review.invalid"

# Characters XML 1.0 does not allow, even escaped.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class _Item:
    """One line of the What's new page: a link, what kind of record, and a summary."""

    link: Any
    detail: str
    summary: str


@dataclass
class _Day:
    """Everything that changed on one date."""

    date: str
    studies_added: list[_Item] = field(default_factory=list)
    studies_updated: list[_Item] = field(default_factory=list)
    trials_added: list[_Item] = field(default_factory=list)
    trials_updated: list[_Item] = field(default_factory=list)


# --- versions ------------------------------------------------------------------------------


def current_version(versions: Sequence[Version]) -> Version | None:
    """Return the newest version (the first listed), or ``None`` when there is none."""
    return versions[0] if versions else None


# --- the What's new page -------------------------------------------------------------------


def _study_item(study: Study, catalog: Catalog) -> _Item:
    href = relative_src(study_src(study.id), WHATS_NEW_SRC)
    link = trusted(f"[{escape_data(study.label)}]({href})")
    design = catalog.vocab("designs").label(study.design)
    condition = catalog.vocab("conditions").label(study.condition)
    return _Item(link, f"{design}, {condition}", study.summary)


def _trial_item(trial: Trial, catalog: Catalog) -> _Item:
    name = trial.registry_id + (f" ({trial.acronym})" if trial.acronym else "")
    link = trusted(f"[{escape_data(name)}]({trial.registry_url})")
    condition = catalog.vocab("conditions").label(trial.condition)
    return _Item(link, condition, trial.intervention)


def _days(catalog: Catalog) -> list[_Day]:
    days: dict[str, _Day] = {}

    def day(date: str) -> _Day:
        return days.setdefault(date, _Day(date))

    for s in sorted(catalog.studies, key=lambda s: s.id):
        day(s.added).studies_added.append(_study_item(s, catalog))
        if s.updated and s.updated != s.added:
            day(s.updated).studies_updated.append(_study_item(s, catalog))
    for t in sorted(catalog.trials, key=lambda t: t.id):
        if t.added:
            day(t.added).trials_added.append(_trial_item(t, catalog))
        if t.updated and t.updated != t.added:
            day(t.updated).trials_updated.append(_trial_item(t, catalog))
    return [days[d] for d in sorted(days, reverse=True)]


def whats_new_page(
    catalog: Catalog,
    versions: Sequence[Version],
    feed_href: str = "",
    *,
    releases_md: str = "",
    condition_feeds: str = "",
) -> str:
    """Return the Markdown of the generated page ``whats-new.md``.

    Args:
        catalog: The validated records.
        versions: Released versions, newest first (from :func:`load_versions`).
        feed_href: Link to the Atom feed from this page (``feed.xml``), or ``""`` to leave the
            subscription line out (for example when the build writes no feed).
        releases_md: The versions section computed from snapshots
            (:func:`.release_views.versions_markdown`); ``""`` shows the plain table of
            ``versions`` instead.
        condition_feeds: Markdown links to the per-condition feeds, or ``""``.

    Returns:
        The review's versions, then what changed on each date, newest first: studies added,
        studies updated (``updated`` differs from ``added``), trials added and updated. Study
        names link to their pages; every value from data is escaped.
    """
    days = []
    for day in _days(catalog):
        sections = [
            (heading, items)
            for heading, items in (
                ("Studies added", day.studies_added),
                ("Studies updated", day.studies_updated),
                ("Registered trials added", day.trials_added),
                ("Registered trials updated", day.trials_updated),
            )
            if items
        ]
        days.append((day.date, sections))
    return render(
        "whats_new.md.jinja",
        versions=list(versions),
        current=current_version(versions),
        days=days,
        feed=trusted(f"[Atom feed]({feed_href})") if feed_href else "",
        releases_md=trusted(releases_md),
        condition_feeds=trusted(condition_feeds),
    )


# --- the Atom feed -------------------------------------------------------------------------


def _xml_text(value: str) -> str:
    return escape(_XML_INVALID.sub("", value))


def _xml_attr(value: str) -> str:
    return quoteattr(_XML_INVALID.sub("", value))


def _timestamp(date: str) -> str:
    """Return an RFC 3339 timestamp at midnight UTC for ``YYYY-MM-DD`` (or a timestamp as is)."""
    return f"{date}T00:00:00Z" if len(date) == 10 else date


def _entry_title(study: Study, catalog: Catalog) -> str:
    new = not study.updated or study.updated == study.added
    design = catalog.vocab("designs").label(study.design)
    condition = catalog.vocab("conditions").label(study.condition)
    return f"{'New' if new else 'Updated'}: {study.label} ({design}, {condition})"


def feed_entries(catalog: Catalog, limit: int | None = None) -> list[Study]:
    """Return studies in feed order: latest change first, then by id.

    Args:
        catalog: The validated records.
        limit: Keep at most this many (``None`` keeps all).
    """
    ordered = sorted(catalog.studies, key=lambda s: s.id)
    ordered.sort(key=lambda s: s.updated or s.added, reverse=True)
    return ordered[:limit] if limit is not None else ordered


def atom_feed(
    catalog: Catalog,
    site_url: str,
    title: str,
    updated_fallback: str,
    *,
    author: str = DEFAULT_AUTHOR,
    limit: int | None = None,
    extra_entries: Sequence[tuple[str, str]] = (),
    feed_file: str = FEED_FILE,
) -> str:
    """Return an Atom 1.0 feed (``feed.xml``) of new and updated studies, newest first.

    The output depends only on the arguments (no clock, no randomness), so rebuilds are
    byte-identical.

    Args:
        catalog: The validated records.
        site_url: The site's absolute base URL (``https://host/path/``). When empty, links are
            relative to the feed's location at the site root and ``tag:`` ids use
            :data:`FALLBACK_AUTHORITY`.
        title: The feed's title (the site name).
        updated_fallback: The feed's ``updated`` time when there are no studies (a date
            ``YYYY-MM-DD`` or an RFC 3339 timestamp).
        author: Name of the feed's author.
        limit: Keep at most this many entries (``None`` keeps all).
        extra_entries: (date, ``<entry>`` XML) to list before the studies: one per version
            (:func:`.release_views.version_entries`).
        feed_file: The feed's file name at the site root (its ``id`` and ``self`` link).

    Returns:
        The feed as UTF-8 XML text. Each entry has an ``id`` (a ``tag:`` URI), ``title``,
        ``published`` (the added date), ``updated``, an alternate link to the study page
        (``{site_url}studies/<id>/``), a category (the condition) and a text summary.
    """
    base, authority = feed_base(site_url)
    studies = feed_entries(catalog, limit)
    updated = _timestamp(studies[0].updated or studies[0].added) if studies else updated_fallback
    if extra_entries:
        updated = max(updated, _timestamp(max(date for date, _ in extra_entries)))
    first_added = min((s.added for s in catalog.studies), default=updated_fallback[:10])
    feed_id = f"{base}{feed_file}" if base else f"tag:{authority},{first_added}:{feed_file[:-4]}"
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f"<feed xmlns={_xml_attr(ATOM_NS)}>",
        f"  <id>{_xml_text(feed_id)}</id>",
        f"  <title>{_xml_text(title)}</title>",
        f"  <updated>{_xml_text(_timestamp(updated))}</updated>",
        f"  <author><name>{_xml_text(author)}</name></author>",
    ]
    if base:
        lines.append(f'  <link rel="self" type="application/atom+xml" href={_xml_attr(feed_id)}/>')
    lines.append(f'  <link rel="alternate" type="text/html" href={_xml_attr(base or "./")}/>')
    lines.extend(entry for _, entry in extra_entries)
    lines.extend(_entry(s, catalog, base, authority) for s in studies)
    lines.append("</feed>")
    return "\n".join(lines) + "\n"


def feed_base(site_url: str) -> tuple[str, str]:
    """Return the base for links in feeds (``""`` or ending in ``/``) and the ``tag:`` authority."""
    base = site_url if not site_url or site_url.endswith("/") else site_url + "/"
    return base, urlsplit(base).hostname or FALLBACK_AUTHORITY


def _entry(study: Study, catalog: Catalog, base: str, authority: str) -> str:
    href = base + study_url(study.id)
    condition = catalog.vocab("conditions").label(study.condition)
    parts = [
        "  <entry>",
        f"    <id>{_xml_text(f'tag:{authority},{study.added}:studies/{study.id}')}</id>",
        f"    <title>{_xml_text(_entry_title(study, catalog))}</title>",
        f"    <published>{_xml_text(_timestamp(study.added))}</published>",
        f"    <updated>{_xml_text(_timestamp(study.updated or study.added))}</updated>",
        f'    <link rel="alternate" type="text/html" href={_xml_attr(href)}/>',
        f"    <category term={_xml_attr(study.condition)} label={_xml_attr(condition)}/>",
        f'    <summary type="text">{_xml_text(study.summary)}</summary>',
        "  </entry>",
    ]
    return "\n".join(parts)
