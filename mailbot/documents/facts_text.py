"""The text facts are read from, and what a fact is: NFKC-normalised text with a map back to the
original (so every fact keeps the span it came from), Chinese numerals, line and span helpers."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

# --- normalisation with an offset map ----------------------------------------------------

_SLOW = re.compile(r"[^\u4e00-\u9fff\n\t!-~]")   # all but CJK ideographs and printable ASCII (NFKC-stable)
_NFKC_CACHE: dict[str, str] = {}


def _nfkc_char(ch: str) -> str:
    out = _NFKC_CACHE.get(ch)
    if out is None:
        out = unicodedata.normalize("NFKC", ch)
        if ch in "\u00a0\u3000\u2002\u2003\u2009\u200b\ufeff\r\f\v":
            out = "" if ch in "\u200b\ufeff" else " "
        elif ch in "\u25cb\u3007\u039f\u2d54\uff2f":   # ○ 〇 Ο ⵔ Ｏ: a zero in 二〇二二
            out = "〇"
        if len(_NFKC_CACHE) < 4096:
            _NFKC_CACHE[ch] = out
    return out


class NormText:
    """NFKC text with a map back to the original: `text[i]` came from `original[origin(i)]`.

    drop_spaces=True also removes spaces (not tabs or newlines), for synonym matching
    that must see 联 系 人 as 联系人.
    """

    __slots__ = ("original", "text", "_orig")

    def __init__(self, original: str, *, drop_spaces: bool = False):
        self.original = original or ""
        out: list[str] = []
        orig: list[int] = []
        done = 0
        for m in _SLOW.finditer(self.original):     # runs of NFKC-stable characters map 1:1
            i = m.start()
            out.append(self.original[done:i])
            orig.extend(range(done, i))
            n = _nfkc_char(m.group())
            if drop_spaces:
                n = n.replace(" ", "")
            out.append(n)
            orig.extend([i] * len(n))
            done = i + 1
        out.append(self.original[done:])
        orig.extend(range(done, len(self.original) + 1))
        self.text = "".join(out)
        self._orig = orig

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original-text span of text[start:end]."""
        if end <= start:
            o = self._orig[start]
            return (o, o)
        return (self._orig[start], self._orig[end - 1] + 1)

    def source(self, start: int, end: int) -> str:
        a, b = self.span(start, end)
        return self.original[a:b]


# --- Chinese numerals --------------------------------------------------------------------

_CN_DIGIT = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}


def cn_to_int(s: str) -> int | None:
    """'25' → 25, '二十五' → 25, '十二' → 12, '一百' → 100, '二〇二二' → 2022."""
    s = (s or "").strip()
    if not s:
        return None
    if s.isdigit():
        return int(s)
    if all(c in _CN_DIGIT for c in s):           # digit by digit: 二〇二二
        v = 0
        for c in s:
            v = v * 10 + _CN_DIGIT[c]
        return v
    total, cur = 0, 0
    for c in s:
        if c in _CN_DIGIT:
            cur = _CN_DIGIT[c]
        elif c in _CN_UNIT:
            total += (cur or 1) * _CN_UNIT[c]
            cur = 0
        else:
            return None
    return total + cur


# --- facts -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fact:
    """One fact: its value, the span of the original text it was read from, and that text."""
    value: Any
    span: tuple[int, int]
    source_text: str


def line_spans(text: str) -> list[tuple[int, int]]:
    out, pos = [], 0
    for part in text.split("\n"):
        out.append((pos, pos + len(part)))
        pos += len(part) + 1
    return out


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \t:":
        start += 1
    while end > start and text[end - 1] in " \t":
        end -= 1
    return start, end
