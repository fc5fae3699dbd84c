"""The text facts are read from, and what a fact is: NFKC-normalised text with a map back to the
original (so every fact keeps the span it came from), Chinese numerals, line and span helpers."""
from __future__ import annotations

import functools
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


@functools.lru_cache(maxsize=256)
def _odd_chars(chars: frozenset[str]) -> re.Pattern:
    return re.compile("[" + "".join(re.escape(c) for c in sorted(chars)) + "]")


class NormText:
    """NFKC text with a map back to the original: `text[i]` came from `original[origin(i)]`.

    drop_spaces=True also removes spaces (not tabs or newlines), for synonym matching
    that must see 联 系 人 as 联系人.
    """

    __slots__ = ("original", "text", "_orig")

    def __init__(self, original: str, *, drop_spaces: bool = False):
        self.original = text = original or ""
        # characters that become one character (，→, ０→0) are translated in place, the map
        # stays the identity; only those that grow or vanish (㈠ → (一), a dropped space) are
        # walked one by one
        same: dict[int, str] = {}
        odd: dict[str, str] = {}
        for ch in set(_SLOW.findall(text)):
            n = _nfkc_char(ch)
            if drop_spaces:
                n = n.replace(" ", "")
            if len(n) == 1:
                same[ord(ch)] = n
            else:
                odd[ch] = n
        if same:
            text = text.translate(same)
        orig = list(range(len(text) + 1))
        if odd:
            out: list[str] = []
            omap: list[int] = []
            done = 0
            for m in _odd_chars(frozenset(odd)).finditer(text):
                i = m.start()
                out.append(text[done:i])
                omap.extend(range(done, i))
                n = odd[m.group()]
                out.append(n)
                omap.extend([i] * len(n))
                done = i + 1
            out.append(text[done:])
            omap.extend(range(done, len(text) + 1))
            text, orig = "".join(out), omap
        self.text, self._orig = _repair(text, orig)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original-text span of text[start:end]."""
        if end <= start:
            o = self._orig[start]
            return (o, o)
        return (self._orig[start], self._orig[end - 1] + 1)

    def source(self, start: int, end: int) -> str:
        a, b = self.span(start, end)
        return self.original[a:b]


# --- what a scan's OCR gets wrong, put right where it cannot be meant otherwise -------------
#
# Tesseract on a tilted, blurred 150-dpi page (and a clerk typing in a hurry) writes a digit's
# look-alike: 2O22, l0月, 0954-3O12103, 5曰, 25入; a table's ruling as "|" glued to the words;
# stray marks before a heading (，二、活动地点) or its number lost (、活动地点); 《一）for （一）;
# 9:30一10:30 with the character 一 for the dash. Each repair below is one regex whose match
# cannot be meant as written (a letter O between digits, 曰 after a day number, 入员 for 人员);
# the offset map follows (a repaired character maps to the one it replaces, a dropped one
# vanishes), so spans and source texts still show what the document says.

_CJK = r"\u4e00-\u9fff"
_UNIT = r"年月日号时点人名位入"
# (the text is NFKC already: ，：；（） are , : ; ( ) here)
# Each pattern opens with the character it repairs, its context checked by lookbehinds after it:
# the regex engine then skips to candidate characters instead of trying every position (a
# leading lookbehind made these scans 0.5 ms a page, run three times for every document).
_DIGIT_LIKE_0 = re.compile(rf"[Oo〇](?:(?<=\d[Oo〇])(?=[\d{_UNIT}:.\-/]|$)|(?<=[Oo])(?<![A-Za-z][Oo])(?=\d))")
_DIGIT_LIKE_1 = re.compile(rf"[lI丨](?:(?<=\d[lI丨])(?=[\d{_UNIT}])|(?<=[lI])(?<![A-Za-z\d][lI])(?=\d{{1,3}}[{_UNIT}:]))")
# (月 is part of the match here, replaced by itself: same text, same map)
_DAY_MARK = re.compile(r"月(?:\d{1,2}|[一二三四五六七八九十]{1,3}) *[曰白目](?!标|录)|曰(?<=\d曰)")
_PEOPLE_MARK = re.compile(r"入(?:(?<=\d入)|(?<=[\d十百][余多]入)|(?<=参加入|参与入)(?=员|数)"
                          r"|(?<![录收输投加深纳转列引介]入)(?=员|数(?!据)))")
_DASH_LIKE = re.compile(r"一(?<=\d一)(?=(?:上午|下午)?\d)")
_OPEN_PAREN = re.compile(r"[《〈<](?=[一二三四五六七八九十\d]{1,2}\))")
_CLOSE_PAREN = re.compile(r"[〉》>](?:(?<=\([一二三四五六七八九十\d][〉》>])|(?<=\([一二三四五六七八九十\d]{2}[〉》>]))")
# a table's ruling read as "|" (with a speck or a dash), at a line's ends or glued between words
_RULING = re.compile(rf"^[ _.\-]*\|[ _.\-|]*(?=\S)|(?<=\S)[ _.\-|]*\|[ _.\-]*$|(?<=[{_CJK},。、;:“”])\|+(?=[{_CJK},。、;:“”\d])", re.M)
# marks before a line's first word: "，二、活动地点", "。。（一）", "、活动地点" (its number lost)
_LEAD_JUNK = re.compile(rf"^[,。.;、*·`]+(?=[ {_CJK}(])", re.M)


def _sub(text: str, orig: list[int], pattern: re.Pattern, repl) -> tuple[str, list[int]]:
    """pattern replaced by repl (a string or a function of the match) in text, with its map."""
    out: list[str] = []
    omap: list[int] = []
    done = 0
    for m in pattern.finditer(text):
        r = repl(m) if callable(repl) else repl
        out.append(text[done:m.start()])
        omap.extend(orig[done:m.start()])
        out.append(r)
        width = m.end() - m.start()
        if len(r) == width:
            omap.extend(orig[m.start():m.end()])
        else:
            omap.extend([orig[m.start()]] * len(r))
        done = m.end()
    if not out:
        return text, orig
    out.append(text[done:])
    omap.extend(orig[done:])
    return "".join(out), omap


def _repair(text: str, orig: list[int]) -> tuple[str, list[int]]:
    if not text:
        return text, orig
    if "|" in text:
        text, orig = _sub(text, orig, _RULING, "")
    text, orig = _sub(text, orig, _LEAD_JUNK, "")
    if re.search(r"[Oo〇lI丨]", text):
        text, orig = _sub(text, orig, _DIGIT_LIKE_0, "0")
        text, orig = _sub(text, orig, _DIGIT_LIKE_1, "1")
    if re.search("[曰白目]", text):
        text, orig = _sub(text, orig, _DAY_MARK, lambda m: m.group(0)[:-1] + "日")
    if "入" in text:
        text, orig = _sub(text, orig, _PEOPLE_MARK, "人")
    if "一" in text:
        text, orig = _sub(text, orig, _DASH_LIKE, "-")
    if re.search("[《〈<]", text):
        text, orig = _sub(text, orig, _OPEN_PAREN, "(")
    if re.search("[〉》>]", text):
        text, orig = _sub(text, orig, _CLOSE_PAREN, ")")
    return text, orig


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
