"""Releases as readers see them: What's new, feed entries, living mode, cite this version.

The versions part of What's new, one feed entry per version, the living-mode table on
Methods, and the "cite this version" line at the foot of every page.

Pure functions of validated inputs (:mod:`.releases`); every value from data is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .model import Catalog, ReleaseLog, Snapshot
from .pages import study_src
from .releases import (
    PRISMA_COUNTS,
    Citation,
    Diff,
    for_condition,
    unreleased,
    version_changes,
)
from .render import escape_data, relative_src, render, trusted

WHATS_NEW_SRC = "whats-new.md"
#: Per-condition feeds sit beside ``feed.xml`` at the site root: ``feed-<condition>.xml``.
CONDITION_FEED = "feed-{condition}.xml"

_CONCLUSIONS = {
    "changed": "changed in this version",
    "unchanged": "unchanged",
    "": "not recorded for this version",
}
_PLAN_NOTE = {
    "protocol": "These parameters are those of the review's protocol.",
    "project-plan": (
        "These parameters are the plan this project adopts; no published protocol sets them."
    ),
}


@dataclass(frozen=True)
class _Item:
    link: Any
    note: str


def _groups(
    d: Diff, catalog: Catalog, log: ReleaseLog, page_src: str
) -> list[tuple[str, list[_Item]]]:
    have = {s.id: s for s in catalog.studies}

    def item(sid: str) -> _Item:
        study = have.get(sid)
        if study is not None:
            href = relative_src(study_src(sid), page_src)
            return _Item(trusted(f"[{escape_data(study.label)}]({href})"), "")
        removal = log.removal(sid)
        note = f"removed on {removal.date}: {removal.reason}" if removal else "record removed"
        return _Item(sid, note)

    out = []
    for heading, ids in (
        ("Studies added", d.added),
        ("Studies updated", d.updated),
        ("Studies removed", d.removed),
    ):
        if ids:
            out.append((trusted(f"{heading} ({len(ids)})"), [item(sid) for sid in ids]))
    return out


def versions_markdown(
    catalog: Catalog,
    log: ReleaseLog,
    now: Snapshot,
    *,
    flow: bool = False,
    page_src: str = WHATS_NEW_SRC,
) -> str:
    """Return the versions and flow-by-version sections of What's new.

    Args:
        catalog: The validated records.
        log: The release log.
        now: What the review holds now (:func:`.releases.current_snapshot`).
        flow: Insert the PRISMA figure (``[[figure prisma]]``) for the current state.
        page_src: Source path of the page (for relative links to study pages).
    """
    since = unreleased(log, now)
    versions = []
    for change in version_changes(log):
        release = change.release
        unknown = ""
        if release.snapshot is None:
            unknown = (
                "Snapshot not recorded for this version (it was released before snapshots were "
                "kept), so the studies it held and what changed in it cannot be listed."
            )
        elif change.diff is None and change.previous is not None:
            unknown = (
                f"The version before it ({change.previous.version}) has no recorded snapshot, so "
                f"what changed cannot be computed; this version holds "
                f"{len(release.snapshot.studies)} studies."
            )
        versions.append(
            {
                "release": release,
                "conclusions": _CONCLUSIONS[release.conclusions],
                "groups": None
                if change.diff is None
                else _groups(change.diff, catalog, log, page_src),
                "unknown": unknown,
            }
        )
    rows: list[tuple[str, str, Mapping[str, int] | None]] = []
    if log.releases:
        if since is None or since:
            rows.append(("Now (not yet released)", "", now.prisma))
        for release in log.releases:
            values = release.snapshot.prisma if release.snapshot is not None else None
            rows.append((release.version, release.date, values))
    keys = {k for _, _, values in rows if values for k in values}
    counts = [(heading, key) for key, heading in PRISMA_COUNTS if key in keys]
    return render(
        "releases.md.jinja",
        current=log.current,
        since=None if since is None else _groups(since, catalog, log, page_src),
        versions=versions,
        flow=flow,
        counts=counts or [(h, k) for k, h in PRISMA_COUNTS if k == "studies"],
        rows=rows,
    )


def living_mode_markdown(log: ReleaseLog) -> str | None:
    """Return the living-mode table for Methods, or ``None`` when the data give none."""
    if log.living is None:
        return None
    return render("living_mode.md.jinja", living=log.living, plan_note=_PLAN_NOTE[log.living.basis])


# --- feed entries --------------------------------------------------------------------------


def _xml(text: str) -> str:
    # Characters XML 1.0 forbids are dropped; the rest is escaped for element content.
    clean = "".join(c for c in text if c in "\t\n\r" or (c >= " " and c not in "\ufffe\uffff"))
    return html.escape(clean, quote=True)


def version_entries(
    catalog: Catalog,
    log: ReleaseLog,
    base: str,
    authority: str,
    condition: str | None = None,
) -> list[tuple[str, str]]:
    """Return Atom ``<entry>`` elements, one per version, with their ``updated`` dates.

    Args:
        catalog: The validated records (names of studies).
        log: The release log.
        base: The site's absolute base URL ending in ``/``, or ``""`` for links relative to
            the site root (where the feeds are).
        authority: Host name for ``tag:`` ids.
        condition: Keep only the studies of this condition (for a per-condition feed).

    Returns:
        (date, XML text) per version, newest first. The content is HTML (escaped as Atom's
        ``type="html"`` requires): the trigger, the conclusions, and studies added, updated
        and removed, each linked to its page.
    """
    labels = {s.id: s.label for s in catalog.studies}
    out = []
    for change in version_changes(log):
        release = change.release
        parts = [
            f"<p>Trigger: {html.escape(release.trigger or 'not recorded')}.</p>",
            f"<p>Conclusions: {html.escape(_CONCLUSIONS[release.conclusions])}.</p>",
        ]
        if release.summary:
            parts.append(f"<p>{html.escape(release.summary)}</p>")
        d = change.diff
        if d is not None and condition is not None:
            snaps = [s.snapshot for s in (release, change.previous) if s and s.snapshot]
            d = for_condition(d, condition, *snaps)
        if d is None:
            parts.append("<p>Snapshot not recorded: the studies changed cannot be listed.</p>")
        elif not d:
            parts.append("<p>No study record was added, changed or removed.</p>")
        for heading, ids in (
            ("Studies added", d.added if d else ()),
            ("Studies updated", d.updated if d else ()),
            ("Studies removed", d.removed if d else ()),
        ):
            if not ids:
                continue
            items = []
            for sid in ids:
                if sid in labels:
                    href = html.escape(f"{base}studies/{sid}/", quote=True)
                    items.append(f'<li><a href="{href}">{html.escape(labels[sid])}</a></li>')
                else:
                    removal = log.removal(sid)
                    why = f" (removed: {removal.reason})" if removal else ""
                    items.append(f"<li>{html.escape(sid + why)}</li>")
            parts.append(f"<p>{heading}:</p><ul>{''.join(items)}</ul>")
        title = f"Version {release.version}"
        if release.trigger:
            title += f": {release.trigger}"
        stamp = f"{release.date}T00:00:00Z"
        href = f"{base}{WHATS_NEW_SRC[:-3]}/"
        tag = f"tag:{authority},{release.date}:versions/{release.version}"
        entry = "\n".join(
            [
                "  <entry>",
                f"    <id>{_xml(tag)}</id>",
                f"    <title>{_xml(title)}</title>",
                f"    <published>{stamp}</published>",
                f"    <updated>{stamp}</updated>",
                f'    <link rel="alternate" type="text/html" href="{_xml(href)}"/>',
                f'    <content type="html">{_xml("".join(parts))}</content>',
                "  </entry>",
            ]
        )
        out.append((release.date, entry))
    return out


# --- cite this version ---------------------------------------------------------------------


def cite_this_version(citation: Citation, log: ReleaseLog, now: Snapshot) -> dict[str, Any]:
    """Return what the foot of every page says about the version shown (plain strings).

    The theme template escapes every value. ``unreleased`` is True when the records differ
    from the newest version's snapshot (or when it has none to compare with and records
    changed after its date is unknown: then it is ``None``).
    """
    current = log.current
    version = citation.version or (current.version if current else "")
    date = citation.date_released or (current.date if current else "")
    since: bool | None = None
    if current is not None and current.snapshot is not None:
        since = bool(unreleased(log, now))
    return {
        "version": version,
        "date": date,
        # Without CITATION.cff there is nothing to cite by (no title, no authors).
        "citation": citation.text() if version and citation.title else "",
        "doi": citation.doi,
        "doi_url": citation.doi_url,
        "unreleased": since,
        "whats_new": WHATS_NEW_SRC[:-3] + "/",
    }


def condition_feeds(catalog: Catalog) -> list[tuple[str, str, str]]:
    """Return (condition id, label, feed file) for every condition with studies."""
    vocab = catalog.vocab("conditions")
    used = sorted({s.condition for s in catalog.studies})
    return [(c, vocab.label(c), CONDITION_FEED.format(condition=c)) for c in used]


def feed_links(catalog: Catalog, page_src: str) -> str:
    """Return Markdown links to the per-condition feeds from a page."""
    links = [
        f"[{escape_data(label)}]({relative_src(name, page_src)})"
        for _, label, name in condition_feeds(catalog)
    ]
    return ", ".join(links)


__all__: Sequence[str] = (
    "CONDITION_FEED",
    "cite_this_version",
    "condition_feeds",
    "feed_links",
    "living_mode_markdown",
    "version_entries",
    "versions_markdown",
)
