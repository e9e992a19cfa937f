"""Text metrics: estimated widths of labels, fitting and wrapping them (no font files needed)."""

from __future__ import annotations

# Advance widths in em, close to DejaVu Sans (one of the widest common sans-serif fonts, and
# WeasyPrint's usual fallback), so that estimates err on the wide side for other fonts.
_NARROW = frozenset("ijl.,;:'!|")
_SEMI = frozenset("ftr ()[]-·")
_WIDE = frozenset("mwMW@%")


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Estimate the rendered width of text, generously, so that labels never collide."""
    total = 0.0
    for ch in text:
        if ch in _NARROW:
            total += 0.3
        elif ch in _SEMI:
            total += 0.4
        elif ch in _WIDE:
            total += 0.98
        elif ch.isupper():
            total += 0.74
        else:
            total += 0.64
    return total * size * (1.1 if bold else 1.0)


def fit_text(text: str, width: float, size: float, bold: bool = False) -> str:
    """Return text shortened with an ellipsis so that it fits ``width``."""
    if text_width(text, size, bold) <= width:
        return text
    while text and text_width(text + "…", size, bold) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def wrap_text(
    text: str, width: float, size: float, max_lines: int = 0, bold: bool = False
) -> list[str]:
    """Greedy word wrap to ``width``; beyond ``max_lines`` the last line ends with an ellipsis."""
    lines: list[str] = []
    current = ""
    # Words are split at ordinary spaces only: a no-break space keeps its neighbours together.
    for word in text.split(" "):
        if not word:
            continue
        trial = f"{current} {word}" if current else word
        if text_width(trial, size, bold) <= width or not current:
            current = trial
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if max_lines and len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :])]
    return [fit_text(line, width, size, bold) for line in lines] or [""]
