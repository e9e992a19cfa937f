"""Jinja environment for generated Markdown, escaping every value that comes from data.

Templates are files in ``templates/`` rendered with ``StrictUndefined``. Output goes into
Markdown, which passes raw HTML through, so escaping only ``<`` and ``&`` is not enough: a
value could also carry Markdown (``*``, ``[x](javascript:...)``, backticks, ``|`` in a table
row) or citation syntax (``@key``). :func:`escape_data` turns every such character into a
numeric character reference, which Markdown shows as the literal character. The environment's
``finalize`` applies it to every ``{{ ... }}`` output, so a template cannot forget to escape;
trusted fragments built by the library are wrapped in :class:`markupsafe.Markup`.
"""

from __future__ import annotations

import html
import posixpath
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

TEMPLATES = Path(__file__).parent / "templates"

# Characters with a meaning in HTML, Markdown, its extensions, or the citation syntax, each
# replaced in one pass by a character reference (a second pass would re-escape the first).
_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#39;",
        "\r": " ",
        "\n": " ",
        **{c: f"&#{ord(c)};" for c in "\\`*_{}[]()#|~^@$!:=+"},
    }
)


_ORDERED_ITEM = re.compile(r"^([0-9]+)\.(?=\s|$)")


def escape_data(value: Any) -> str:
    """Return text from data as Markdown-and-HTML-inert text.

    Args:
        value: Any value; ``Markup`` passes through unchanged, ``None`` becomes ``""``.
    """
    if isinstance(value, Markup):
        return str(value)
    if value is None:
        return ""
    # Line breaks become spaces: a break inside a table cell would end the row. Leading
    # spaces would make an indented code block, a leading "-" or "1." a list item.
    text = str(value).lstrip().translate(_ESCAPES)
    if text.startswith("-"):
        text = "&#45;" + text[1:]
    return _ORDERED_ITEM.sub(r"\1&#46;", text, count=1)


#: What a page title handed to the theme may not hold, and what is shown instead. The theme
#: writes ``page.meta.title`` into ``<title>`` unescaped and ``page.title`` through
#: ``striptags``, which un-escapes ``&lt;``: no escaping survives, so the characters go.
_TITLE_CHARS = str.maketrans(
    {"<": "\u2039", ">": "\u203a", "&": "+", '"': "\u201d", "'": "\u2019", "`": "\u2019"}
)


def plain_title(title: str | None) -> str:
    """Return a page title as plain text that stays inert in every place the theme puts it.

    Args:
        title: The title as MkDocs found it: HTML text (``&lt;`` for ``<``) from the first
            heading, or the front matter's ``title``.

    Returns:
        The title's text with ``<`` and ``>`` shown as ``‹ ›``, ``&`` as ``+`` and quotes as
        typographic quotes; control characters and runs of white space become one space.
        It is safe raw, escaped, in an attribute, and after ``striptags``.
    """
    text = html.unescape(title or "")
    text = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text)
    return " ".join(text.translate(_TITLE_CHARS).split())


def escape_attr(value: Any) -> str:
    """Return text for an HTML attribute value (double-quoted)."""
    return html.escape("" if value is None else str(value), quote=True)


def trusted(text: str) -> Markup:
    """Mark a fragment built by the library (links, citations) as safe to insert as is."""
    return Markup(text)


# Pure functions of two strings, asked for every citation and link of every page: memoized.
@lru_cache(maxsize=1 << 16)
def relative_src(target: str, page_src: str) -> str:
    """Return a Markdown link from one source file to another (``../studies/x.md``)."""
    base = posixpath.dirname(page_src) or "."
    return posixpath.relpath(target, base)


@lru_cache(maxsize=1 << 16)
def relative_url(target_url: str, page_url: str) -> str:
    """Return an HTML href from one built page URL to another (directory URLs)."""
    base = page_url if page_url.endswith("/") or not page_url else posixpath.dirname(page_url) + "/"
    target_path, _, anchor = target_url.partition("#")
    rel = posixpath.relpath(target_path or ".", base or ".")
    if target_path.endswith("/") and not rel.endswith("/"):
        rel += "/"
    if rel == "./":
        rel = "./"
    return rel + (f"#{anchor}" if anchor else "")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """Return the shared Jinja environment (templates are files; undefined names fail)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        finalize=escape_data,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["attr"] = lambda v: Markup(escape_attr(v))
    return env


def render(template: str, **context: Any) -> str:
    """Render a template from ``templates/`` with the given context."""
    return environment().get_template(template).render(**context)
