"""The author's preview (``mkdocs serve``): a page that lists the inputs' problems.

When a rebuild under ``mkdocs serve`` finds problems, the build still fails (the terminal
lists every ``path:line:col`` line, as ``mkdocs build --strict`` does), but the browser would
otherwise keep showing the last good pages, as if stuck. Instead, the adapter writes
:func:`problems_page` as the served site's ``404.html``, which the preview server returns for
every address, and lets the browser reload: the author sees each problem where they look.
The page checks its own address every two seconds and reloads once it is served again, i.e.
once a rebuild succeeds.

Every problem line is escaped: a problem quotes user text (a field's value, a file name).
"""

from __future__ import annotations

import html
import shutil
from collections.abc import Sequence
from pathlib import Path

from .errors import Problem

#: The file the preview server returns for any address it does not have.
NOT_FOUND = "404.html"

_STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem;
  padding: 0 1rem; color: #1a1a1a; background: #fff; }
h1 { font-size: 1.5rem; color: #8e0000; }
ol { padding-left: 1.5rem; }
li { margin: 0.4rem 0; }
code { font: 14px/1.4 ui-monospace, monospace; overflow-wrap: anywhere; }
@media (prefers-color-scheme: dark) {
  body { color: #e8e8e8; background: #1e2129; } h1 { color: #ef9a9a; } }
"""

# Reload once the address is served again: the next rebuild succeeded.
_SCRIPT = """
setInterval(function () {
  fetch(window.location.href, { cache: "no-store" }).then(function (response) {
    if (response.ok) { window.location.reload(); }
  }, function () {});
}, 2000);
"""


def problems_page(problems: Sequence[Problem], site_name: str) -> str:
    """Return a standalone HTML page listing ``problems``, one per line, escaped.

    Args:
        problems: What the build found, in the order it reports them.
        site_name: The site's name, for the page title.

    Returns:
        A complete HTML document with no outside resources.
    """
    items = "\n".join(f"<li><code>{html.escape(p.format())}</code></li>" for p in problems)
    count = f"{len(problems)} problem{'' if len(problems) == 1 else 's'}"
    name = html.escape(site_name)
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{count} in the review's inputs · {name}</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>The preview is not built: {count} in the review's inputs</h1>\n"
        "<p>Fix each line below in the file it names (path:line:column); the preview "
        "rebuilds when a file is saved and this page reloads by itself once the build "
        "succeeds. The terminal running <code>mkdocs serve</code> shows the same lines.</p>\n"
        f'<ol id="review-problems">\n{items}\n</ol>\n'
        f"</main>\n<script>{_SCRIPT}</script>\n</body>\n</html>\n"
    )


def write_problems_page(site_dir: Path, problems: Sequence[Problem], site_name: str) -> Path:
    """Empty the preview's ``site_dir`` and write the problems page as its not-found page.

    Only for ``mkdocs serve``, whose site directory is a temporary one of its own: with no
    other page left, every address shows the problems.

    Returns:
        The page written.
    """
    if site_dir.is_dir():
        for entry in site_dir.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    site_dir.mkdir(parents=True, exist_ok=True)
    page = site_dir / NOT_FOUND
    page.write_text(problems_page(problems, site_name), encoding="utf-8")
    return page
