"""Document text → facts: activity dates, headcount, theme, contact, phone, place, … .

Input is the text docread gives (paragraphs separated by "\\n", table cells by "\\t",
rows by "\\n"). Every fact keeps the span of the original text it came from, so a finding
or a reviewer can point at it. Real plans rarely use the notice's exact words: labels are
matched from a vocabulary of synonyms, in "label：value" prose, "label<TAB>value" tables,
header-row tables and numbered headings (一、 (一) 1. 1、 (1)), and dates, headcounts and
phone numbers are read in the forms people actually write.

Nothing here knows a campaign: the caller passes the year that yearless dates belong to.

This module is the public entry (`extract_facts`, `Facts`, the parse_* helpers); the families
live beside it: `facts_text` (normalised text, numerals, `Fact`), `facts_fields` (label：value
in every layout), `facts_dates` (dates, and which one is the activity's), `facts_people`
(headcount, phone, contact). What is left here: theme, place, signup, content, tips, forms, Q&A,
survey, suggestions, feedback, and putting the facts together.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Iterable

from mailbot.documents.facts_dates import CN_DATE, ISO_DATE, DateFacts, date_hits, found, parse_dates, year_of
from mailbot.documents.facts_fields import Field, find_fields
from mailbot.documents.facts_people import NUM, PeopleFacts, headcount_range, parse_headcount, parse_phone
from mailbot.documents.facts_text import Fact, NormText, cn_to_int, trim_span

__all__ = ["Fact", "Facts", "NormText", "extract_facts", "parse_dates", "parse_headcount",
           "parse_phone", "cn_to_int", "FACT_NAMES"]


FORM_NAMES = ("进机关", "进现场", "进会议")
_FORM_PATTERNS = {
    "进机关": re.compile(r"进机关|机关开放|走进(?:[^,。;\n]{0,8})?机关|参观(?:[^,。;\n]{0,6})?(?:机关|办公区|办公场所|办公楼|办公环境|工作场所)|机关开放日|"
                       r"观摩(?:[^,。;\n]{0,8})?(?:机关|股室|科室|办公)|(?:体验|模拟)办事|体验(?:[^,。;\n]{0,4})?(?:办事|办公)流程"),
    "进现场": re.compile(r"进现场|现场开放|走进(?:[^,。;\n]{0,10})?(?:现场|一线|工地|项目)|实地参观|现场参观|现场观摩|实地观摩|实地查看|实地走访|深入(?:[^,。;\n]{0,6})?现场|参观(?:[^,。;\n]{0,10})?(?:现场|基地|项目|窗口|大厅|中心)|参观(?:[^,。;\n]{0,14})?(?:专区|展馆|展厅|展区|村史馆|陈列馆)|"
                       r"现场体验|实地考察|实地调研|前往[^,。;\n]{0,12}(?:馆|中心|基地|现场|厂|园|站|所|项目)"),
    "进会议": re.compile(r"进会议|会议开放|列席(?:[^,。;\n]{0,12})?会|旁听(?:[^,。;\n]{0,8})?会|走进(?:[^,。;\n]{0,6})?会议|参加(?:[^,。;\n]{0,4})?(?:局务会|论证会|评审会|听证会|常务会)"),
}
_QA = re.compile(r"座谈|问答|答疑|互动交流|交流互动|面对面交流|恳谈|现场提问|解答(?:[^,。;\n]{0,6})?问题|交流发言|现场交流")
_SURVEY = re.compile(r"问卷|调查表|满意度调查|满意度测评|测评表|意见征集表|征求意见表|意见建议表|意见反馈表|意见表|意见卡|调查问卷|评议表")
_FEEDBACK = re.compile(r"反馈|答复|回复|回应|采纳|解答|办结|整改")
_FEEDBACK_NEG = re.compile(r"尚未|未能|没有|暂未|未(?:予|及时)?(?:反馈|答复|回复)")
_SUGGESTIONS_A = re.compile(
    rf"(?:意见建议|意见和建议|建议意见|意见|建议|问题|诉求)[^。;\n]{{0,10}}?(?P<n>{NUM}) *(?:条|项|个|件)")
_SUGGESTIONS_B = re.compile(
    rf"(?<![\d.])(?P<n>{NUM}) *(?:条|项|个|件)[^。;\n,]{{0,6}}?(?:意见建议|意见和建议|意见|建议|问题|诉求)")
_SUGG_CUE = re.compile(r"征集|收集|收到|提出|梳理|汇总|反映|共|形成|记录|整理")

# Prose announcements: "届时将组织群众代表参观…并召开座谈会" is the 活动内容; "请参加人员携带身份证" a 温馨提示.
_PROSE_CONTENT = re.compile(r"届时|活动当天|当天|将组织|组织(?:群众|市民|公众|参会|与会|受邀|代表)|带领|邀请")
_PROSE_CONTENT_ACT = re.compile(r"参观|观摩|座谈|体验|列席|旁听|走进|实地")
_RULE_QUOTE = re.compile(r"须设置|应包括|应当包括|要求|按照|根据|通知")
_PROSE_TIPS = re.compile(r"(?:(?<=[。;\n])|^)请")
_PROSE_TIPS_WHAT = re.compile(r"携带|准时|提前(?:\d|[一二三四五六七八九十])|佩戴|遵守|听从|着装|注意安全")
_PROSE_TIPS_SKIP = re.compile(r"报名|预约|截止")
_SEG_BOUND = re.compile(r"[,;。!?\n\t]")
_SENT_BOUND = re.compile(r"[;。!?\n]")


class _Bounds:
    """Positions of boundary characters, to find the clause or sentence around a position fast."""

    def __init__(self, text: str, bound: re.Pattern):
        self.n = len(text)
        self.at = [m.start() for m in bound.finditer(text)]

    def around(self, pos: int, limit: int = 200) -> tuple[int, int]:
        k = bisect.bisect_right(self.at, pos - 1)     # boundaries < pos are self.at[:k]
        s = self.at[k - 1] + 1 if k else 0
        e = self.at[k] if k < len(self.at) else self.n
        if e < pos:                                   # pos itself is a boundary
            e = pos
        return max(s, pos - limit), min(e, pos + limit)


@dataclass(frozen=True)
class Facts:
    """What a document says. Lists are tuples of Fact; absent facts are None or ()."""
    activity_dates: tuple[Fact, ...] = ()
    activity_month: Fact | None = None         # value "YYYY-MM" when only a month is given
    original_dates: tuple[Fact, ...] = ()      # an adjustment's 原定 dates
    time: Fact | None = None                   # "09:00"
    participants: Fact | None = None           # the low end when the document gives a range
    participants_range: Fact | None = None     # value (low, high) when it is a range: 25至30名
    theme: Fact | None = None
    contact: Fact | None = None
    phone: Fact | None = None
    phones: tuple[Fact, ...] = ()
    place: Fact | None = None
    leaders: Fact | None = None
    organizer: Fact | None = None
    signup: Fact | None = None
    invited_groups: Fact | None = None
    content: Fact | None = None
    tips: Fact | None = None
    forms: tuple[Fact, ...] = ()
    has_qa: Fact | None = None
    has_survey: Fact | None = None
    held_dates: tuple[Fact, ...] = ()
    actual_participants: Fact | None = None
    suggestions_count: Fact | None = None
    feedback_given: Fact | None = None

    def get(self, name: str) -> Any:
        return getattr(self, name)

    def has(self, name: str) -> bool:
        """True when the fact was found (a value, a non-empty list, a True flag)."""
        v = getattr(self, name)
        if isinstance(v, tuple):
            return bool(v)
        return v is not None and v.value not in (None, "", False)

    def dates(self, name: str = "activity_dates") -> list[date]:
        return sorted({f.value for f in getattr(self, name)})

    def value(self, name: str) -> Any:
        v = getattr(self, name)
        if isinstance(v, tuple):
            return [f.value for f in v]
        return None if v is None else v.value

    def as_json(self) -> dict[str, Any]:
        """The `facts` object of `mailbot check --json` (SPEC §4)."""
        def iso(name: str) -> list[str]:
            return [d.isoformat() for d in self.dates(name)]
        return {
            "activity_dates": iso("activity_dates"),
            "participants": self.value("participants"),
            "participants_range": list(self.participants_range.value) if self.participants_range else None,
            "theme": self.value("theme"),
            "contact": self.value("contact"),
            "phone": self.value("phone"),
            "place": self.value("place"),
            "time": self.value("time"),
            "activity_month": self.value("activity_month"),
            "original_dates": iso("original_dates"),
            "leaders": self.value("leaders"),
            "organizer": self.value("organizer"),
            "signup": self.value("signup"),
            "forms": sorted(set(self.value("forms")), key=FORM_NAMES.index),
            "has_qa": self.has("has_qa"),
            "has_survey": self.has("has_survey"),
            "invited_groups": self.value("invited_groups"),
            "tips": self.value("tips"),
            "content": self.value("content"),
            "held_dates": iso("held_dates"),
            "actual_participants": self.value("actual_participants"),
            "suggestions_count": self.value("suggestions_count"),
            "feedback_given": self.has("feedback_given"),
        }


FACT_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Facts))


class _Extractor(DateFacts, PeopleFacts):
    def __init__(self, text: str, kind: str, year: int | None, received: date | None):
        self.nt = NormText(text)
        self.t = self.nt.text
        self.kind = kind
        self.fields = find_fields(self.t)
        self.segs = _Bounds(self.t, _SEG_BOUND)
        self.sents = _Bounds(self.t, _SENT_BOUND)
        self.lines = _Bounds(self.t, re.compile("\n"))
        self._by_keys: dict[tuple[str, ...], list[Field]] = {}
        self._index: dict[tuple[str, ...], tuple[list[int], list[tuple[int, int]]]] = {}
        self.year = year or self._guess_year(received)
        if year:
            # A document whose every full date is in one later year (a 2023 plan checked against
            # the 2022 rules) means that year by 12月5日. An earlier year is more likely last year's
            # template left in a signature, so the campaign's year stands then.
            years = {year_of(m.group("y")) for m in found(CN_DATE, self.t) if m.group("y") and m.group("suf")}
            years |= {int(m.group("y")) for m in found(ISO_DATE, self.t)}
            years.discard(None)
            if len(years) == 1 and next(iter(years)) > year:
                self.year = next(iter(years))
        self.dates = date_hits(self.t, self.year)

    def _guess_year(self, received: date | None) -> int:
        for m in found(CN_DATE, self.t):
            y = year_of(m.group("y"))
            if y:
                return y
        m = ISO_DATE.search(self.t)
        if m:
            return int(m.group("y"))
        return (received or date.today()).year

    def fact(self, value: Any, start: int, end: int) -> Fact:
        a, b = self.nt.span(start, end)
        return Fact(value, (a, b), self.nt.original[a:b])

    def fields_for(self, *keys: str) -> list[Field]:
        got = self._by_keys.get(keys)
        if got is None:
            got = [f for f in self.fields if any(k in f.keys for k in keys)]
            self._by_keys[keys] = got
        return got

    def in_fields(self, pos: int, *keys: str) -> bool:
        """Is pos inside the value of a field with one of these keys? (bisect: many fields, many dates)"""
        idx = self._index.get(keys)
        if idx is None:
            spans = sorted((f.start, f.end) for f in self.fields_for(*keys) if f.end > f.start)
            idx = ([a for a, _ in spans], spans)
            self._index[keys] = idx
        starts, spans = idx
        k = bisect.bisect_right(starts, pos) - 1
        return any(spans[i][0] <= pos < spans[i][1] for i in range(max(0, k - 3), k + 1))

    # -- text values from a field -----------------------------------------------------

    def first_sentence(self, f: Field, limit: int = 80) -> tuple[int, int] | None:
        s, e = f.start, f.end
        if s >= e:
            return None
        nl = self.t.find("\n", s, e)
        if nl != -1:
            e = nl
        m = re.search(r"[。;]", self.t[s:e])
        if m and m.start() > 1:
            e = s + m.start()
        s, e = trim_span(self.t, s, e)
        if e - s > limit:
            e = s + limit
        return (s, e) if e > s else None

    def text_field(self, *keys: str, limit: int = 80, whole: bool = False, quotes: str = "\"“”'‘’「」《》") -> Fact | None:
        for f in self.fields_for(*keys):
            if whole:
                if f.end > f.start:
                    e = min(f.end, f.start + limit)
                    return self.fact(self.t[f.start:e].strip(), f.start, e)
                continue
            r = self.first_sentence(f, limit)
            if r:
                v = self.t[r[0]:r[1]].strip(" \t" + quotes)
                if v:
                    return self.fact(v, r[0], r[1])
        return None

    # -- prose fallbacks ---------------------------------------------------------------

    def theme(self) -> Fact | None:
        f = self.text_field("theme", limit=60, quotes="")
        if f:
            # 本次活动主题为“…” / 主题：“…” (a 主题及内容 cell) → what follows
            v = re.sub(r"^(?:本次|此次)?(?:活动|开放日?)?主题(?:为|是)?[: ]*(?=\S)", "", f.value)
            v = re.sub(r"^(?:以|为|是)", "", v).strip()
            v = re.sub(r"[。;]$", "", v).strip()
            # “民政为民 温暖同行”(主题活动) → 民政为民 温暖同行; “四好农村路”建设进行时 stays whole
            q = re.fullmatch(r"[“\"「《]([^“”\"「」《》]+)[”\"」》] *(?:主题活动|为主题|主题)?", v)
            if q:
                v = q.group(1).strip()
            # 举办“政务公开暖民心”政府开放日活动，让群众…  → the quoted name
            # “营造良好营商环境”平湖街道“政府开放日”活动 → the first quoted name (a unit name may sit between)
            inner = re.search(r"[“\"「](?P<t>[^”\"」]{2,40})[”\"」] *(?:主题)? *(?:[\u4e00-\u9fff]{2,12}?[“\"「])?[“\"「]?(?:政府开放[日周月]|政务开放[日周月]|开放[日周月]|主题活动|活动)", f.value)
            if inner and "开放日" not in inner.group("t"):
                v = inner.group("t").strip()
            if v and v != f.value:
                f = Fact(v, f.span, f.source_text)
            if f.value:
                return f
        for pat in (r"以[“\"「](?P<t>[^”\"」\n]{2,40})[”\"」]为(?:主题|题)",
                    r"主题(?:为|是)[: ]*[“\"「]?(?P<t>[^”\"」。;\n]{2,40}?)[”\"」]?(?:[,。;\n]|的)",
                    r"(?:开展|举办|举行|组织)(?:了|以)?[“\"「](?P<t>[^”\"」\n]{4,40})[”\"」](?:主题|为主题)?[“\"「]?(?:政府开放[日周月]|开放[日周月]|主题活动|活动)"):
            for m in re.finditer(pat, self.t):
                if "开放日" in m.group("t") and len(m.group("t")) < 12:
                    continue
                return self.fact(m.group("t").strip(), m.start("t"), m.end("t"))
        return None

    def place(self, date_hits: Iterable[Fact]) -> Fact | None:
        f = self.text_field("place", limit=60)
        if f:
            return f
        for fl in self.fields_for("timeplace"):
            s, e = fl.start, fl.end
            nl = self.t.find("\n", s, e)
            if nl != -1 and nl - s > 4:
                e = nl
            v = self.t[s:e]
            mask = list(v)
            for h in self.dates:
                if s <= h.start < e:
                    for k in range(h.start - s, min(h.end - s, len(mask))):
                        mask[k] = " "
            vv = "".join(mask)
            vv = re.sub(r"(?:上午|下午|\d{1,2}[:：]\d{2}|[-—~至])", lambda m: " " * len(m.group(0)), vv)
            m = re.search(r"(?:(?:地点|在)[: ]*)?(?P<p>[\u4e00-\u9fff\d()#号楼层室\-]{3,40})", vv)
            if m:
                p = m.group("p").strip()
                return self.fact(p, s + m.start("p"), s + m.start("p") + len(p))
        # prose: …将于9月23日上午9:30在县林业和草原局三楼会议室开展…
        anchors = [f.span for f in date_hits]
        best = None
        for m in re.finditer(r"在(?P<p>[^,。;\n在]{3,30}?)(?:举行|开展|举办|召开|进行|组织)", self.t):
            if re.search(r"范围|期间|过程|基础|方面|工作中|全县|各|之际|当天|以来", m.group("p")):
                continue
            near = any(0 <= self.nt.span(m.start(), m.start())[0] - b <= 40 for a, b in anchors)
            if best is None or near:
                best = m
                if near:
                    break
        if best:
            return self.fact(best.group("p"), best.start("p"), best.end("p"))
        # prose: …于9月7日上午组织开展…活动，…走进县人民医院，实地参观… (the sentence of the date)
        first = min(anchors, default=None)
        hit = next((h for h in self.dates if first and self.nt.span(h.start, h.end) == first), None)
        if hit is not None:
            s, e = self.sents.around(hit.start, 300)
            m = re.search(r"(?:走进|来到|前往|赴)(?P<p>[^,。;\n、]{3,20}?)(?=[,。;]|开展|参观|实地|观摩|召开)", self.t[s:e])
            if m and not re.search(r"(?:机关|一线|基层|群众|企业)$", m.group("p")):
                return self.fact(m.group("p"), s + m.start("p"), s + m.end("p"))
        return None

    def long_field(self, key: str, min_len: int) -> Fact | None:
        """A field long enough to describe more than its label says (活动形式 that lists the content)."""
        for f in self.fields_for(key):
            if f.end - f.start >= min_len:
                e = min(f.end, f.start + 300)
                return self.fact(self.t[f.start:e].strip(), f.start, e)
        return None

    def regex_fact(self, pattern: str, group: str = "v") -> Fact | None:
        m = re.search(pattern, self.t)
        if m:
            return self.fact(m.group(group).strip(), m.start(group), m.end(group))
        return None

    def signup(self) -> Fact | None:
        f = self.text_field("signup", limit=120)
        if f:
            return f
        pos = self.t.find("报名")
        while pos != -1:
            s, e = self.sents.around(pos)
            if re.search(r"电话|扫码|二维码|线上|线下|现场|邮箱|推荐|网站|公众号|微信|自愿", self.t[s:e]):
                s, e = trim_span(self.t, s, e)
                return self.fact(self.t[s:e], s, e)
            pos = self.t.find("报名", max(e, pos + 2))
        return None

    def prose_sentence(self, must: re.Pattern, also: re.Pattern | None = None,
                       skip: re.Pattern | None = None) -> Fact | None:
        """The first sentence that says what a label would have said (a prose announcement)."""
        for m in must.finditer(self.t):
            s, e = self.sents.around(m.start())
            sent = self.t[s:e]
            if also is not None and not also.search(sent):
                continue
            if skip is not None and skip.search(sent):
                continue
            s, e = trim_span(self.t, s, e)
            return self.fact(self.t[s:e], s, e)
        return None

    def flag(self, pattern: re.Pattern) -> Fact | None:
        m = pattern.search(self.t)
        return self.fact(True, m.start(), m.end()) if m else None

    def forms(self) -> tuple[Fact, ...]:
        out = []
        for name in FORM_NAMES:
            m = _FORM_PATTERNS[name].search(self.t)
            if m:
                out.append(self.fact(name, m.start(), m.end()))
        return tuple(out)

    def suggestions(self) -> Fact | None:
        for pat in (_SUGGESTIONS_A, _SUGGESTIONS_B):
            for m in pat.finditer(self.t):
                ss, se = self.sents.around(m.start())
                if not _SUGG_CUE.search(self.t[ss:se]):
                    continue
                v = cn_to_int(m.group("n"))
                if v is not None:
                    return self.fact(v, m.start(), m.end())
        return None

    def feedback(self) -> Fact | None:
        for m in re.finditer(r"[^。;\n]+", self.t):
            sent = m.group(0)
            if not _FEEDBACK.search(sent):
                continue
            if not re.search(r"意见|建议|问题|诉求|群众|代表|关切|采纳|已|公开|现场|当场|逐一|予以", sent):
                continue
            if _FEEDBACK_NEG.search(sent):
                continue
            s, e = trim_span(self.t, m.start(), m.end())
            return self.fact(True, s, e)
        return None

    def run(self) -> Facts:
        dates, originals, time = self.activity_dates()
        month = None if dates else self.activity_month()
        phones = self.phones()
        participants = self.headcount()
        low_high = headcount_range(participants.source_text) if participants else None
        summary = self.kind in ("summary", "feedback")
        kw: dict[str, Any] = dict(
            activity_dates=dates, activity_month=month, original_dates=originals, time=time,
            participants=participants,
            participants_range=Fact(low_high, participants.span, participants.source_text) if low_high else None,
            theme=self.theme(), contact=self.contact(), phone=self.phone(phones), phones=phones,
            place=self.place(dates),
            leaders=self.text_field("leaders", limit=80) or self.regex_fact(
                r"(?P<v>(?:县|局|我局)[^,，。;\n]{0,16}?(?:党组书记|局长|副局长|主任|书记)[\u4e00-\u9fff、]{0,12}?)(?:出席|参加|带队|陪同|致辞|讲话|主持)"),
            organizer=self.text_field("organizer", limit=60) or self.regex_fact(
                r"由(?P<v>[^,，。;\n由]{2,25}?)(?:承办|主办|负责组织|牵头组织|具体承办)"),
            signup=self.signup(),
            invited_groups=self.text_field("invited", limit=120) or self.regex_fact(
                r"邀请(?P<v>[^。;\n]{2,60}?)(?:参加|参与|走进|出席|代表参加)"),
            content=self.text_field("content", limit=300, whole=True) or self.long_field("form", 30)
            or (None if summary else self.prose_sentence(_PROSE_CONTENT, _PROSE_CONTENT_ACT, _RULE_QUOTE)),
            tips=self.text_field("tips", limit=300, whole=True)
            or (None if summary else self.prose_sentence(_PROSE_TIPS, _PROSE_TIPS_WHAT, _PROSE_TIPS_SKIP)),
            forms=self.forms(), has_qa=self.flag(_QA), has_survey=self.flag(_SURVEY),
        )
        if summary:
            kw["held_dates"] = dates
            kw["actual_participants"] = participants
            kw["suggestions_count"] = self.suggestions()
            kw["feedback_given"] = self.feedback()
        return Facts(**kw)


# A plan or summary is a few pages; beyond this many characters the rest is not read (spans
# stay valid: they point into the prefix). Keeps a hostile 1 MB "document" to a bounded cost.
MAX_CHARS = 300_000


def extract_facts(text: str, *, kind: str, year: int | None, received: date | None = None) -> Facts:
    """Facts of one document's text. `year` is the year of dates written without one
    (the campaign's); None means: the first year the document writes, else `received`'s."""
    return _Extractor((text or "")[:MAX_CHARS], kind, year, received).run()
