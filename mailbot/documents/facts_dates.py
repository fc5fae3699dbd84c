"""Dates in the forms people write (2022年8月24日, 8月24日至26日, 2022-08-24, 8.24, 八月二十四日),
with weekday and time of day; and which of a document's dates is the activity's, which a 原定
date, which a deadline (`DateFacts`, mixed into facts._Extractor)."""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import date, timedelta

from mailbot.documents.facts_text import Fact, NormText, cn_to_int

# --- dates -------------------------------------------------------------------------------

_Y = r"(?:(?:19|20)\d{2}|[〇零一二][〇零一二三四五六七八九]{3})"
_M = r"(?:1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"
_D = r"(?:3[01]|[12]\d|0?[1-9]|三十一?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?|[一二三四五六七八九])"
_RSEP = r"(?:至|到|~|-+|—+|–|―|－|∼)"
CN_DATE = re.compile(
    rf"(?<![\d])(?:(?P<y>{_Y}) *年[ .·]{{0,2}})?(?P<m>{_M}) *月[ .·]{{0,2}}(?P<d>{_D})(?![\d]) *(?P<suf>[日号])?")
ISO_DATE = re.compile(
    r"(?<![\d.])(?P<y>(?:19|20)\d{2}) *(?P<sep>[-/.]) *(?P<m>1[0-2]|0?[1-9]) *(?P=sep) *(?P<d>3[01]|[12]\d|0?[1-9])(?![\d])")
_FOUND: dict[tuple[int, str], tuple[str, list[re.Match]]] = {}


def found(pattern: re.Pattern, text: str) -> list[re.Match]:
    """PATTERN's matches in TEXT, kept for the last text scanned: a document's facts scan the
    same text for its dates two or three times (years, the campaign year, date_hits)."""
    key = (id(pattern), pattern.pattern)
    hit = _FOUND.get(key)
    if hit is None or hit[0] is not text and hit[0] != text:
        hit = _FOUND[key] = (text, list(pattern.finditer(text)))
    return hit[1]


COMPACT_DATE = re.compile(r"(?<!\d)(?P<y>20\d{2})(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])(?!\d)")
_SHORT_DATE = re.compile(r"(?<![\d./-])(?P<m>1[0-2]|0?[1-9]) *[./] *(?P<d>3[01]|[12]\d|0?[1-9])(?![\d.:%])(?! *[%元万米])")
_MONTH_ONLY = re.compile(
    rf"(?<![\d])(?:(?P<y>{_Y}) *年 *)?(?P<m>{_M}) *月 *(?:份)? *(?P<part>中下旬|上中旬|上旬|中旬|下旬|初|中|底|末)?(?![\d一二三四五六七八九十])")
# what may follow a date: weekday, then a time of day
_AFTER = re.compile(
    r"^ *(?:\(? *(?:星期|周|礼拜)[一二三四五六日天] *\)?)? *(?:\((?:暂定|拟定|待定)\))? *"
    r"(?P<ampm>上午|下午|晚上|早上|早晨|中午|傍晚)? *"
    r"(?:(?P<h>[01]?\d|2[0-3]|二十[一二三]?|十[一二三四五六七八九]?|[一二三四五六七八九]) *(?:[:] *(?P<mi>[0-5]\d)|(?<=\d)\.(?P<mi3>[0-5]\d)(?!\d)|"
    r"[点时] *(?:(?P<mi2>[0-5]?\d|[一二三四五]?十[一二三四五六七八九]?|[〇零]?[一二三四五六七八九]) *分|半)?))?")
_RANGE_TAIL = re.compile(
    rf"^ *{_RSEP} *(?:(?P<y>{_Y}) *年 *)?(?:(?P<m>{_M}) *月 *)?(?P<d>{_D}) *(?P<suf>[日号])")
_ISO_RANGE_TAIL = re.compile(
    r"^ *(?:至|到|~|-+|—+|–|―|－) *(?P<y>(?:19|20)\d{2}) *(?P<sep>[-/.]) *(?P<m>1[0-2]|0?[1-9]) *(?P=sep) *(?P<d>3[01]|[12]\d|0?[1-9])(?!\d)")
_LIST_TAIL = re.compile(rf"^ *[、,和及与] *(?:(?P<m>{_M}) *月 *)?(?P<d>{_D}) *(?P<suf>[日号])")


@dataclass(frozen=True)
class DateHit:
    dates: tuple[date, ...]
    start: int
    end: int
    time: str | None
    explicit_year: bool
    contextual: bool = False      # 9.5-style: only a date where the context says so


def _mk_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def year_of(s: str | None) -> int | None:
    if not s:
        return None
    v = cn_to_int(s.replace("O", "〇").replace("o", "〇"))
    return v if v and 1900 <= v <= 2099 else None


def _fmt_time(m: re.Match) -> str | None:
    h = m.group("h")
    if h is None:
        return None
    hh = cn_to_int(h)
    if hh is None or hh > 23:
        return None
    mi = m.group("mi") or m.group("mi2") or m.group("mi3") or ("30" if m.group(0).rstrip().endswith("半") else "00")
    mi = cn_to_int(mi.lstrip("〇零") or "0")
    if mi is None or mi > 59:
        return None
    if m.group("ampm") in ("下午", "晚上", "傍晚") and hh < 12:
        hh += 12
    return f"{hh:02d}:{mi:02d}"


def _expand(a: date, b: date) -> tuple[date, ...]:
    if b < a:
        return (a,)
    n = (b - a).days
    if n > 31:
        return (a, b)
    return tuple(a + timedelta(days=k) for k in range(n + 1))


def date_hits(text: str, year: int) -> list[DateHit]:
    hits: list[DateHit] = []
    covered = bytearray(len(text) + 1)

    def overlaps(s: int, e: int) -> bool:
        return covered.find(1, s, e) != -1

    def take(s: int, e: int) -> None:
        covered[s:e] = b"\x01" * (e - s)

    def tail(end: int, first: date, explicit: bool) -> tuple[tuple[date, ...], int]:
        """Ranges (至7日, -9月7日) and lists (、6日) after a date."""
        dates = [first]
        rest = text[end:end + 40]
        r = _RANGE_TAIL.match(rest) or _ISO_RANGE_TAIL.match(rest)
        if r:
            y2 = year_of(r.group("y")) or first.year
            m2 = cn_to_int(r.group("m")) if r.group("m") else first.month
            if not r.group("y") and m2 and m2 < first.month:      # 12月30日至1月2日: into the next year
                y2 += 1
            d2 = _mk_date(y2, m2, cn_to_int(r.group("d")) or 0)
            if d2 and d2 > first:
                return _expand(first, d2), end + r.end()
        pos = end
        while True:
            lt = _LIST_TAIL.match(text[pos:pos + 20])
            if not lt:
                break
            m2 = cn_to_int(lt.group("m")) if lt.group("m") else dates[-1].month
            d2 = _mk_date(dates[-1].year, m2, cn_to_int(lt.group("d")) or 0)
            if not d2:
                break
            dates.append(d2)
            pos += lt.end()
        return tuple(dates), pos

    def add(start: int, end: int, d: date, explicit: bool, contextual: bool = False) -> None:
        dates, end = tail(end, d, explicit)
        after = _AFTER.match(text[end:end + 30])
        time = _fmt_time(after) if after else None
        if after and after.group(0).strip():
            end += len(after.group(0).rstrip())
        # a range of times: 9:00-11:30
        tr = re.match(r"^ *(?:-+|—+|至|到|~|–) *(?:上午|下午)? *\d{1,2}[:：点]\d{0,2}", text[end:end + 16])
        if tr and time:
            end += len(tr.group(0))
        hits.append(DateHit(dates, start, end, time, explicit, contextual))
        take(start, end)

    for m in found(CN_DATE, text):
        if overlaps(m.start(), m.end()):
            continue
        if not m.group("suf"):
            # 9月5—7日: a day without 日 is fine only before a range
            if not re.match(rf"^ *{_RSEP} *(?:{_M} *月 *)?{_D} *[日号]", text[m.end():m.end() + 12]):
                continue
        y = year_of(m.group("y"))
        d = _mk_date(y or year, cn_to_int(m.group("m")) or 0, cn_to_int(m.group("d")) or 0)
        if d:
            add(m.start(), m.end(), d, y is not None)
    for m in found(ISO_DATE, text):
        if overlaps(m.start(), m.end()):
            continue
        d = _mk_date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
        if d:
            add(m.start(), m.end(), d, True)
    for m in COMPACT_DATE.finditer(text):
        if overlaps(m.start(), m.end()):
            continue
        d = _mk_date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
        if d:
            hits.append(DateHit((d,), m.start(), m.end(), None, True, True))
            take(m.start(), m.end())
    for m in _SHORT_DATE.finditer(text):
        if overlaps(m.start(), m.end()):
            continue
        d = _mk_date(year, int(m.group("m")), int(m.group("d")))
        if not d:
            continue
        after = text[m.end():m.end() + 12]
        strong = bool(re.match(r"^ *(?:[日号]|\(? *(?:星期|周)|上午|下午|早上|晚上|\d{1,2}:\d{2}|至|-)", after))
        end = m.end() + (1 if after[:1] in "日号" else 0)
        add(m.start(), end, d, False, contextual=not strong)
    hits.sort(key=lambda h: h.start)
    return hits


def parse_dates(text: str, year: int) -> list[date]:
    """Every date written in text (ranges expanded), yearless ones in `year`. For tests and tools."""
    nt = NormText(text)
    out: list[date] = []
    for h in date_hits(nt.text, year):
        if not h.contextual:
            out.extend(h.dates)
    return out


# --- which date is the activity's --------------------------------------------------------

_STRONG_NEG = re.compile(r"报送|报名|截止|备案|印发|提交|上报|成文|征集|公示|下发|报县|前报|审核|签发|落款|填报|填表|制表|预约")
_WEAK_NEG = re.compile(r"发布|公告|反馈|通知|结束后|之后|以后|通报|答复")
_HELD = re.compile(r"开展|举办|举行|召开")
_POSITIVE = re.compile(r"开展|举办|举行|召开|定于|将于|拟于|计划于|开放日|组织|于|走进|参观|活动当天|当日")
_ORIG_CUE = re.compile(r"原定|原计划|原拟|原于|原为|原来|原安排|原日期|原时间")
_NEW_CUE = re.compile(r"调整为|调整至|调整到|改为|改至|改到|变更为|变更至|延期至|延期到|延至|推迟至|推迟到|提前至|提前到|顺延至|调至|改期至|改期为|更改为|更改至|延后至")
_DEADLINE_AFTER = re.compile(r"^ *(?:之前|以前|前(?![往来])|止|截止|后|以后|之后|内)")



class DateFacts:
    """The date facts of facts._Extractor (mixed in; it provides t, dates, kind, year, lines,
    segs, sents, fact() and in_fields())."""

    def classify_dates(self) -> tuple[list[tuple[int, DateHit]], list[DateHit]]:
        """(tier, hit) of candidate activity dates (lower tier = better) and 原定 dates."""
        t = self.t
        cands: list[tuple[int, DateHit]] = []
        originals: list[DateHit] = []
        prev_end = 0
        for h in self.dates:
            start_from = prev_end
            prev_end = h.end
            # 落款: a line that is only a date (and maybe a unit name)
            ls, _ = self.lines.around(h.start, 40)
            _, le = self.lines.around(h.end, 40)
            line_rest = (t[ls:h.start] + t[h.end:le]).strip()
            if len(line_rest) < 2:
                if not self.in_fields(h.start, "time", "timeplace"):
                    continue
            if self.in_fields(h.start, "deadline"):
                continue
            after = t[h.end:h.end + 6]
            if _DEADLINE_AFTER.match(after):
                continue
            ss, se = self.segs.around(h.start)
            sent_s, sent_e = self.sents.around(h.start)
            before = t[max(ss, start_from):h.start]
            seg = t[ss:se]
            # adjustments: 原定 … 调整为 …
            new_cue = list(_NEW_CUE.finditer(before))
            orig_cue = list(_ORIG_CUE.finditer(before))
            if new_cue and (not orig_cue or new_cue[-1].start() > orig_cue[-1].start()):
                # an adjustment's new date; in a plan, a fallback (如遇雨天顺延至…): not the date
                if self.kind == "adjustment":
                    cands.append((0, h))
                continue
            if orig_cue:
                originals.append(h)
                continue
            if h.contextual and not self.in_fields(h.start, "time", "timeplace"):
                continue
            if self.in_fields(h.start, "time", "timeplace"):
                if _STRONG_NEG.search(seg):
                    continue
                cands.append((1, h))
                continue
            if _STRONG_NEG.search(seg):
                continue
            sent = t[sent_s:sent_e]
            if _WEAK_NEG.search(seg) and not re.search(r"开展|举办|举行|召开", seg):
                continue
            if _POSITIVE.search(sent):
                cands.append((2, h))
            elif self._leads_its_paragraph(h) and _HELD.search(t[slice(*self.lines.around(h.start, 400))]):
                # "9月17日，为…，参与权。和监督权，…开展…活动": a sentence cut short (a scan's stray
                # full stop) — the paragraph's first date, in a paragraph about holding it
                cands.append((3, h))
            else:
                cands.append((4, h))
        return cands, originals

    def _leads_its_paragraph(self, h: DateHit) -> bool:
        """No other date before it in its paragraph (self.dates is sorted by start)."""
        starts = self.__dict__.get("_date_starts")
        if starts is None:
            starts = self.__dict__["_date_starts"] = [o.start for o in self.dates]
        k = bisect.bisect_left(starts, h.start)
        ls, _ = self.lines.around(h.start, 400)
        return k == 0 or starts[k - 1] < ls

    def activity_dates(self) -> tuple[tuple[Fact, ...], tuple[Fact, ...], Fact | None]:
        cands, originals = self.classify_dates()
        best = min((tier for tier, _ in cands), default=None)
        if best is None or best >= 4:
            chosen: list[DateHit] = []
        else:
            chosen = [h for tier, h in cands if tier == best]
        out = tuple(self.fact(d, h.start, h.end) for h in chosen for d in h.dates)
        orig = tuple(self.fact(d, h.start, h.end) for h in originals for d in h.dates)
        time = next((self.fact(h.time, h.start, h.end) for h in chosen if h.time), None)
        return out, orig, time

    def activity_month(self) -> Fact | None:
        t = self.t
        covered = bytearray(len(t) + 1)
        for h in self.dates:
            covered[h.start:h.end] = b"\x01" * (h.end - h.start)
        for m in _MONTH_ONLY.finditer(t):
            if covered[m.start()]:
                continue
            month = cn_to_int(m.group("m"))
            y = year_of(m.group("y")) or self.year
            if not month:
                continue
            ss, se = self.segs.around(m.start())
            seg = t[ss:se]
            if self.in_fields(m.start(), "deadline") or _STRONG_NEG.search(seg):
                continue
            if _DEADLINE_AFTER.match(t[m.end():m.end() + 4]):
                continue
            if self.in_fields(m.start(), "time", "timeplace") or re.search(r"开展|举办|举行|定于|将于|拟于|拟定于|计划于", seg):
                part = m.group("part") or ""
                return self.fact(f"{y:04d}-{month:02d}" + (f" {part}" if part else ""), m.start(), m.end())
        return None
