"""The PDF build's errors and its logger."""

from __future__ import annotations

import logging

log = logging.getLogger("livingreview.pdf")


class PdfError(Exception):
    """A problem that stops the PDF build; the message is one line for the reader."""


class RefusedURL(ValueError):
    """A URL the fetcher will not serve (a ``ValueError``, which WeasyPrint reports)."""
