"""Plain-text tables for the terminal that line up with Chinese text (CJK counts double)."""
from __future__ import annotations

import unicodedata
from typing import Sequence


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _pad(text: str, w: int) -> str:
    return text + " " * (w - width(text))


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cols = [max([width(str(h))] + [width(str(r[i])) for r in rows]) for i, h in enumerate(header)]
    line = "  ".join(_pad(str(h), w) for h, w in zip(header, cols)).rstrip()
    rule = "  ".join("─" * w for w in cols)
    body = ["  ".join(_pad(str(c), w) for c, w in zip(r, cols)).rstrip() for r in rows]
    return "\n".join([line, rule, *body])
