"""Write full-page screenshots of the review's main pages at phone and desktop widths.

Usage: ``python scripts/screenshots.py [--site-dir DIR] [--out build/screenshots]``

Builds the site with ``mkdocs build --strict`` (unless ``--site-dir`` names a built one), serves
it on 127.0.0.1 and opens each page of ``tests/screen_metrics.PAGES`` in Debian's chromium at
390 px and 1,280 px, in the light scheme, and the home page (the evidence map) in the dark
scheme too. Each PNG is named ``<page>-<width>[-dark].png``. One line per screen says what the
browser test measures: table cells off-screen, the smallest figure text, the page's width.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser_support import build_site, chromium_missing_reason, launch_options, serve  # noqa: E402
from screen_metrics import PAGES, VIEWPORT_HEIGHT, WIDTHS, measure  # noqa: E402


def _name(path: str) -> str:
    return path.strip("/").replace("/", "-") or "home"


def take(site: Path, out: Path) -> list[str]:
    """Write the screenshots of ``site`` into ``out``; return one summary line per screen."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    lines = []
    screens = [(p, w, "light") for p in PAGES for w in WIDTHS]
    screens += [("", w, "dark") for w in WIDTHS]
    with serve(site) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_options())
        try:
            for path, width, scheme in screens:
                context = browser.new_context(
                    viewport={"width": width, "height": VIEWPORT_HEIGHT}, color_scheme=scheme
                )
                page = context.new_page()
                page.goto(base + path, wait_until="networkidle")
                screen = measure(page)
                suffix = "-dark" if scheme == "dark" else ""
                target = out / f"{_name(path)}-{width}{suffix}.png"
                page.screenshot(path=str(target), full_page=True)
                smallest = screen.smallest_text()
                text = "no figure" if smallest is None else f"{smallest[0]:.1f} px ({smallest[1]})"
                lines.append(
                    f"{target.name}: {len(screen.lost)} of {screen.cells} cells off-screen; "
                    f"smallest figure text {text}; page {screen.scroll_width}/{width} px"
                )
                context.close()
        finally:
            browser.close()
    return lines


def main(argv: list[str] | None = None) -> int:
    """Build (or take) the site, write the screenshots, print what was measured."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site-dir", type=Path, help="a built site (default: build one)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "screenshots")
    args = parser.parse_args(argv)
    missing = chromium_missing_reason()
    if missing:
        print(f"error: {missing}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="screenshots-") as scratch:
        site = args.site_dir
        if site is None:
            site = Path(scratch) / "site"
            build_site(site)
        for line in take(site, args.out):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
