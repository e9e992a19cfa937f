"""What a reader sees on one screen: table cells off-screen, figure text size, page width.

Shared by ``tests/test_screens.py`` (which asserts on it) and ``scripts/screenshots.py`` (which
prints it next to the screenshots). Each measure runs in the page, after every ``<details>``
in the article is opened, so the data tables under the figures are measured too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Pages measured, relative to the site root: every page kind with a generated table or figure.
PAGES = (
    "",
    "eating-disorders/",
    "ptsd/",
    "studies/",
    "explorer/",
    "methods/",
    "studies/feder-2014/",
)
#: Viewport widths (CSS px) and the smallest figure text each must render (CSS px).
WIDTHS = {390: 11.0, 1280: 12.0}
VIEWPORT_HEIGHT = 900

#: Runs in the page; returns every problem a reader would meet on this screen.
MEASURE_JS = """
() => {
  const article = document.querySelector("article") || document.body;
  article.querySelectorAll("details").forEach((d) => { d.open = true; });
  const width = window.innerWidth;
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const where = (el) => {
    const table = el.closest("table");
    const id = table && (table.id || (table.caption && table.caption.textContent.slice(0, 40)));
    const heading = (() => {
      let node = table || el;
      while (node && node !== article) {
        let prev = node.previousElementSibling;
        while (prev) {
          if (/^H[1-6]$/.test(prev.tagName)) return prev.textContent.trim().slice(0, 40);
          prev = prev.previousElementSibling;
        }
        node = node.parentElement;
      }
      return "";
    })();
    return `${id || heading}: ${el.textContent.trim().slice(0, 30)}`;
  };
  // A cell is lost when any part of it is outside the window, or outside the visible box of
  // an ancestor that clips or scrolls sideways (a reader would have to find a hidden scroll).
  const clippedBy = (el) => {
    const r = el.getBoundingClientRect();
    if (r.left < -0.5 || r.right > width + 0.5) return "window";
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (style.overflowX === "visible") continue;
      const box = a.getBoundingClientRect();
      const left = box.left + a.clientLeft;
      const right = left + a.clientWidth;
      if (r.left < left - 0.5 || r.right > right + 0.5) {
        return `${a.tagName.toLowerCase()}.${[...a.classList].join(".")}`;
      }
    }
    return null;
  };
  // A header row hidden on purpose (1 px, for screen readers; the cards label every value
  // instead) is not something a reader scrolls to.
  const hiddenHead = (el) => {
    const head = el.closest("thead");
    if (!head) return false;
    const r = head.getBoundingClientRect();
    return r.width <= 1 || r.height <= 1;
  };
  const cells = [...article.querySelectorAll("td, th")].filter(
    (el) => visible(el) && !hiddenHead(el)
  );
  const lost = [];
  for (const cell of cells) {
    const by = clippedBy(cell);
    if (by) lost.push(`${where(cell)} (clipped by ${by})`);
  }
  // Rendered size of figure text: font size times the scale of the SVG user space on screen.
  const texts = [...article.querySelectorAll("svg text")].filter(visible);
  const sizes = texts.map((t) => {
    const m = t.getScreenCTM();
    const scale = m ? Math.hypot(m.a, m.b) : 1;
    const figure = t.closest("figure");
    const name = figure ? figure.className : "svg";
    return {
      px: parseFloat(getComputedStyle(t).fontSize) * scale,
      what: `${name}: ${t.textContent.trim().slice(0, 30)}`,
    };
  });
  return {
    cells: cells.length,
    lost: lost,
    texts: sizes,
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: width,
  };
}
"""


@dataclass(frozen=True)
class Screen:
    """What one page shows at one width."""

    cells: int
    lost: list[str]
    texts: list[dict[str, Any]]
    scroll_width: int
    inner_width: int

    def smallest_text(self, skip: frozenset[str] = frozenset()) -> tuple[float, str] | None:
        """Return the smallest rendered figure text (px, what), ignoring figure classes in skip."""
        sizes = [
            (t["px"], t["what"])
            for t in self.texts
            if not any(f"review-figure--{name}" in t["what"] for name in skip)
        ]
        return min(sizes) if sizes else None


def measure(page: Any) -> Screen:
    """Measure the loaded Playwright ``page``."""
    raw = page.evaluate(MEASURE_JS)
    return Screen(raw["cells"], raw["lost"], raw["texts"], raw["scrollWidth"], raw["innerWidth"])
