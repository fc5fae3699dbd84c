"""Who and how many: headcounts (30人, 不少于25人, 二十余人, 25-30人, a 参加人数 table cell), phone
numbers (mobile, landline, local) and the contact person (`PeopleFacts`, mixed into
facts._Extractor)."""
from __future__ import annotations

import bisect
import re
from typing import Iterable

from mailbot.documents.facts_dates import COMPACT_DATE
from mailbot.documents.facts_text import Fact, NormText, cn_to_int, line_spans, trim_span

# --- headcounts --------------------------------------------------------------------------

NUM = r"(?:\d{1,4}|[一二三四五六七八九十百两]{1,5})"
_HEADCOUNT = re.compile(
    rf"(?P<pre>不得低于|不得少于|不少于|不低于|不超过|不多于|至少|最少|最多|约|大约|共计|共有|总计|合计|共|计|限额|限报|限|"
    rf"拟邀请|邀请|计划|预计|控制在|达到|达|为)? *(?<![\d.第每])(?P<n>{NUM}) *"
    rf"(?:(?:-|~|至|到|—|–) *(?P<n2>{NUM}) *)?(?P<mod>余|多|来)? *(?P<u>名|人|位)(?!民|大|员|事|社|口|类|才)"
    rf"(?!联系人|联络|负责人|工作人员|讲解员|志愿者|安保|医护)(?P<post>次|左右|以上|以内|上下|许)?")
_HEADCOUNT_BARE = re.compile(rf"^ *(?:约|共|不少于|不低于|限额|限)? *(?P<n>{NUM}) *(?:余|多)? *(?:名|人|位|个)?")
_STAFF = re.compile(r"工作人员|讲解员|志愿者|安保|医护|服务人员|干部职工\d|局领导|班子成员|每组|每批|每团|每人|"
                    r"(?:本|我|局机关|单位|我局|本局|我单位)(?:参加|参会|出席)(?:人数|人员)")


_INVITED_LIST = re.compile(r"邀请|参加|参与|组织|代表|委员|群众|市民|居民|村民|学生|职工")
_STAFF_LIST = re.compile(r"安排|配备|抽调|调配|派出")


def is_staff(text: str, start: int, end: int) -> bool:
    """Does the count text[start:end] count staff (工作人员10名, 每组5人) rather than participants?
    A total after 等 that closes a list of invitees counts them all, volunteers among them
    (邀请人大代表、环保志愿者等30余人)."""
    if not _STAFF.search(text, max(0, start - 8), end + 2):
        return False
    if re.search(r"等 *$", text[max(0, start - 3):start]):
        clause = text[max(0, text.rfind("\n", 0, start), *(text.rfind(c, 0, start) for c in ",;。")):start]
        if _INVITED_LIST.search(clause) and not _STAFF_LIST.search(clause):
            return False
    return True


def parse_headcount(text: str) -> int | None:
    """'30人' → 30, '不少于25人' → 25, '二十余人' → 20, '25-30人' → 25, '限额10人' → 10."""
    nt = NormText(text)
    m = _HEADCOUNT.search(nt.text)
    if m:
        return _headcount_value(m)
    m = _HEADCOUNT_BARE.match(nt.text)
    return cn_to_int(m.group("n")) if m else None


# A table row whose label cell says who (参加群众人数 | 26人, 到场群众 | 二十六人, 参与代表 | 30名):
# the value cell is a count alone, the label names people and not staff, contacts or leaders.
_CELL_SPLIT = re.compile(r"\t|\|")
_HEADCOUNT_CELL = re.compile(
    rf"^ *(?:约|共|共计|合计|总计|计|达|不少于|不低于)? *(?P<n>{NUM}) *(?:(?:-|~|至|到|—|–) *{NUM} *)?"
    rf"(?:余|多)? *(?:名|人|位)? *(?:次|左右|以上|许)? *$")
_PEOPLE_LABEL = re.compile(r"人数|人次|群众|市民|公众|居民|村民|代表|嘉宾|名额|规模|参加|参与|到场|出席|参会|与会|受邀|邀请|参观|人员")
_NOT_PEOPLE_LABEL = re.compile(r"联系|联络|领导|工作人员|讲解|志愿|安保|医护|服务人员|电话|日期|时间|地点|序号|编号|"
                               r"年龄|岁|意见|建议|问卷|条数|件数|场次|天数|其中|本局|我局|本单位|干部|职工")
_TOTAL_LABEL = re.compile(r"合计|总|共|实际")
_HEADING = re.compile(r" *(?:[一二三四五六七八九十]{1,3} *[、.]|\( *[一二三四五六七八九十\d]{1,3} *\)|\d{1,2} *[、.](?!\d))")


def headcount_range(source: str) -> tuple[int, int] | None:
    """(low, high) when the text of a headcount is one range (25至30名, 30-40人), else None."""
    ms = list(_HEADCOUNT.finditer(NormText(source).text))
    if len(ms) != 1 or not ms[0].group("n2"):
        return None
    a, b = cn_to_int(ms[0].group("n")), cn_to_int(ms[0].group("n2"))
    if a is None or b is None or a == b:
        return None
    return (min(a, b), max(a, b))


def _headcount_value(m: re.Match) -> int | None:
    v = cn_to_int(m.group("n"))
    if m.group("n2"):
        v2 = cn_to_int(m.group("n2"))
        if v is not None and v2 is not None:
            v = min(v, v2)
    return v


# --- phone numbers -----------------------------------------------------------------------

# A number broken at a line's end after its dash ("0795-" / "7333835") is one number; so is a
# landline that OCR wrote with a colon (0818:8362198) or with the table's ruling read as a 1 before
# it (10818-6902058: no area code starts 10).
_MOBILE = re.compile(r"(?<![\d])(?P<a>1[3-9]\d) *(?:-\n|[- ])? *(?P<b>\d{4}) *(?:-\n|[- ])? *(?P<c>\d{4})(?![\d])")
_LANDLINE = re.compile(r"(?<![\d])(?:1(?=0\d{2,3} *[-—–―－]))?\(? *(?P<area>0\d{2,3}) *\)? *"
                       r"(?:[-—–―－:] *\n? *)?(?P<num>[2-9]\d{6,7})(?![\d])")
_LOCAL = re.compile(r"(?<![\d\-—.])(?P<num>[2-8]\d{6,7})(?![\d])")
_PHONE_CUE = re.compile(r"电话|手机|热线|联系方式|咨询|座机|Tel|TEL|tel")


def parse_phone(text: str) -> str | None:
    """First phone number in text: mobile '13909541234', landline '0954-3012103', local '3012103'."""
    nt = NormText(text)
    hits = phone_hits(nt.text, anywhere_local=True)
    return hits[0][0] if hits else None


def phone_hits(text: str, *, anywhere_local: bool = False,
                local_ok: Iterable[tuple[int, int]] = ()) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    covered = bytearray(len(text) + 1)
    for m in _MOBILE.finditer(text):
        out.append((m.group("a") + m.group("b") + m.group("c"), m.start(), m.end()))
        covered[m.start():m.end()] = b"\x01" * (m.end() - m.start())
    for m in _LANDLINE.finditer(text):
        if covered.find(1, m.start(), m.end()) != -1:
            continue
        out.append((f"{m.group('area')}-{m.group('num')}", m.start(), m.end()))
        covered[m.start():m.end()] = b"\x01" * (m.end() - m.start())
    local_ok = sorted(local_ok)
    ok_starts = [a for a, _ in local_ok]
    for m in _LOCAL.finditer(text):
        if covered.find(1, m.start(), m.end()) != -1:
            continue
        if len(m.group("num")) == 8 and COMPACT_DATE.fullmatch(m.group("num")):
            continue
        k = bisect.bisect_right(ok_starts, m.start()) - 1
        ok = anywhere_local or any(local_ok[i][0] <= m.start() < local_ok[i][1] for i in range(max(0, k - 3), k + 1)) or \
            bool(_PHONE_CUE.search(text[max(0, m.start() - 12):m.start()]))
        if ok:
            out.append((m.group("num"), m.start(), m.end()))
    out.sort(key=lambda t: t[1])
    return out



class PeopleFacts:
    """The headcount, phone and contact facts of facts._Extractor (mixed in; it provides t,
    segs, sents, fact(), fields_for(), in_fields() and first_sentence())."""

    def _pick_count(self, ms: list[re.Match], base: int) -> Fact:
        """One headcount from the counts of one field or sentence: the total if one is marked
        (共/合计), else the first before 其中, else the sum of an enumeration (企业代表10名、群众代表20名)."""
        t = self.t
        total = [m for m in ms if (m.group("pre") or "") in ("共", "共计", "合计", "总计", "计", "共有")]
        if total:
            m = total[0]
            return self.fact(_headcount_value(m), base + m.start(), base + m.end())
        first = ms[0]
        if len(ms) >= 2 and "其中" not in t[base + first.end():base + ms[1].start()] and all(
                re.search(r"[、,和及与]|\)", t[base + a.end():base + b.start()]) and
                not re.search(r"[。;\n]|其中|每", t[base + a.end():base + b.start()])
                for a, b in zip(ms, ms[1:])):
            n = sum(_headcount_value(m) or 0 for m in ms)
            return self.fact(n, base + first.start(), base + ms[-1].end())
        return self.fact(_headcount_value(first), base + first.start(), base + first.end())

    def _counts(self, s: int, e: int) -> list[re.Match]:
        v = self.t[s:e]
        return [m for m in _HEADCOUNT.finditer(v)
                if not is_staff(v, m.start(), m.end())]

    def _cells(self, a: int, b: int) -> list[tuple[int, int]]:
        out, pos = [], a
        for m in _CELL_SPLIT.finditer(self.t, a, b):
            out.append((pos, m.start()))
            pos = m.end()
        out.append((pos, b))
        return out

    def table_count(self) -> Fact | None:
        """A count in a table cell whose label (the cell to its left, or the table's first row)
        names the people who took part, whatever its words: 参加群众人数 | 26人, 到场群众 | 二十六人.
        A row labelled as a total (合计/总/实际) wins over the first such row."""
        t = self.t
        found: list[tuple[bool, Fact]] = []
        prev: list[tuple[int, int]] = []            # the table's first row: its header, if it has one
        for a, b in line_spans(t):
            if not _CELL_SPLIT.search(t, a, b):
                prev = []
                continue
            cells = self._cells(a, b)
            for k, (s, e) in enumerate(cells):
                m = _HEADCOUNT_CELL.match(t[s:e])
                if not m or not t[s:e].strip():
                    continue
                left = [t[x:y].strip() for x, y in cells[:k] if t[x:y].strip()]
                left = left[-1] if left and not _HEADCOUNT_CELL.match(left[-1]) else ""
                head = t[prev[k][0]:prev[k][1]].strip() if len(prev) == len(cells) else ""
                labels = [lab for lab in (left, head) if lab and len(lab) <= 20]
                unit = re.search(r"[名人位]", m.group(0))
                if (not labels or _NOT_PEOPLE_LABEL.search(left)
                        or not any(_PEOPLE_LABEL.search(lab) and not _NOT_PEOPLE_LABEL.search(lab)
                                   and (unit or re.search(r"人数|人次|名额|规模", lab)) for lab in labels)):
                    continue
                n = cn_to_int(m.group("n"))
                if n is None or n == 0:
                    continue
                s1, e1 = trim_span(t, s + m.start("n"), s + len(m.group(0).rstrip()))
                found.append((any(_TOTAL_LABEL.search(lab) for lab in labels), self.fact(n, s1, e1)))
            prev = prev or cells
        total = [f for is_total, f in found if is_total]
        return (total or [f for _, f in found] or [None])[0]

    def headcount(self) -> Fact | None:
        t = self.t
        # 1: a field that says how many
        for f in self.fields_for("participants", "invited"):
            ms = self._counts(f.start, f.end)
            if ms:
                return self._pick_count(ms, f.start)
            if "participants" in f.keys:
                b = _HEADCOUNT_BARE.match(t[f.start:f.end])
                if b and b.group("n"):
                    return self.fact(cn_to_int(b.group("n")), f.start + b.start("n"), f.start + b.end())
        # 1b: a table row whose label names people in other words
        got = self.table_count()
        if got is not None:
            return got
        # 2: a sentence about who takes part (one quoting the rule, 不得低于25人, only if nothing else)
        fallback: tuple[int, int] | None = None
        for m in _HEADCOUNT.finditer(t):
            if is_staff(t, m.start(), m.end()):
                continue
            if self.in_fields(m.start(), "leaders", "contact", "organizer", "phone"):
                continue
            ss, se = self.segs.around(m.start())
            if ss >= 2 and t[ss - 1] == "\n" and t[ss - 2] not in "。;:!?":
                ps = self.segs.around(ss - 2)[0]     # a line wrapped mid-sentence (a scan's table cell),
                ls = t.rfind("\n", 0, ss - 1) + 1    # not a heading above its text
                if ss - 1 - ls >= 8 and not _HEADING.match(t, ls):
                    ss = ps
            seg = t[ss:se]
            if not re.search(r"参加|参与|邀请|群众|市民|居民|村民|学生|代表|人数|名额|报名|规模|公众|嘉宾|限额|人员|对象|参观|走进|出席|共|本次|活动", seg):
                continue
            sent = self.sents.around(m.start())
            if re.search(r"不得|要求|按照|根据|规定", seg):
                fallback = fallback or sent
                continue
            ms = [x for x in self._counts(m.start(), sent[1])]
            return self._pick_count(ms, m.start()) if ms else None
        if fallback:
            ms = self._counts(*fallback)
            if ms:
                return self._pick_count(ms[:1], fallback[0])
        return None

    # -- phones and contact ----------------------------------------------------------

    def phones(self) -> tuple[Fact, ...]:
        zones = [(f.start, f.end) for f in self.fields_for("phone", "contact")]
        return tuple(self.fact(v, s, e) for v, s, e in phone_hits(self.t, local_ok=zones))

    def phone(self, phones: tuple[Fact, ...]) -> Fact | None:
        if not phones:
            return None
        zones = self.fields_for("phone", "contact")
        for f in zones:
            for p in phone_hits(self.t[f.start:f.end], anywhere_local=True):
                return self.fact(p[0], f.start + p[1], f.start + p[2])
        # a number near 电话 / 联系
        for v, s, e in phone_hits(self.t):
            if re.search(r"电话|手机|联系|热线|咨询|报名", self.t[max(0, s - 20):s]):
                return self.fact(v, s, e)
        return phones[0]

    _NOT_NAME = re.compile(r"电话|联系|办公|咨询|报名|热线|方式|手机|同志|负责|具体|工作|单位|地址|邮箱|股室|科室|我局|本局|人员")
    _ORG_TAIL = re.compile(r"(?:室|科|股|办|局|中心|站|所|部|组|处|队|院|馆)$")

    def _name_in(self, s: int, e: int) -> tuple[str, int, int] | None:
        v = self.t[s:e]
        v2 = re.sub(r"\(.*?\)", lambda m: " " * len(m.group(0)), v)
        for p in phone_hits(v2, anywhere_local=True):
            v2 = v2[:p[1]] + " " * (p[2] - p[1]) + v2[p[2]:]
        v2 = re.sub(r"电话|手机|联系电话|办公电话|座机|邮箱|[:;,/、]|@\S*", lambda m: " " * len(m.group(0)), v2)
        toks = [(m.group(0), m.start(), m.end()) for m in re.finditer(r"[\u4e00-\u9fff·]+", v2)]
        # 联系方式：联系人张三，… → 张三
        toks = [(w[k:], a + k, b) for w, a, b in toks
                for k in [len(re.match(r"(?:联系人员?|联络人|报名联系人)?", w).group(0))] if k < len(w)]
        # 李红霞同志 → 李红霞; 张女士 stays 张女士 (a surname alone is not a name)
        toks = [(w2, a, a + len(w2)) for w, a, b in toks
                for w2 in [re.sub(r"(?:同志|先生|女士|老师)$", "", w) if len(re.sub(r"(?:同志|先生|女士|老师)$", "", w)) >= 2 else w]]
        toks = [tk for tk in toks if tk[0]]
        people = [tk for tk in toks if len(tk[0]) <= 5 and not self._NOT_NAME.search(tk[0])
                  and not self._ORG_TAIL.search(tk[0])]
        pick = people[0] if people else (toks[0] if toks and len(toks[0][0]) <= 12 else None)
        if not pick:
            return None
        return pick[0], s + pick[1], s + pick[2]

    def contact(self) -> Fact | None:
        for f in self.fields_for("contact"):
            if f.end > f.start:
                r = self.first_sentence(f, 60) or (f.start, f.end)
                got = self._name_in(*r)
                if got:
                    return self.fact(*got)
        # prose: 联系人：李红霞 / 请联系李红霞（电话…）/ 联系人为马军同志
        m = re.search(r"联系人员?(?:为|是)? *(?P<n>[\u4e00-\u9fff]{2,4}?)(?:同志|老师)?(?=[ ,(:;。]|电话|手机|联系|\d|$)", self.t)
        if m and not self._NOT_NAME.search(m.group("n")):
            return self.fact(m.group("n"), m.start("n"), m.end("n"))
        for m in re.finditer(r"联系(?!人)(?:人员)? *(?P<n>[\u4e00-\u9fff]{2,3}?)(?:同志|老师)? *[,(:]? *(?:联系电话|电话|手机)? *:? *(?=\(?0\d{2,3}|1[3-9]\d{9}|\d{7,8})", self.t):
            if not self._NOT_NAME.search(m.group("n")):
                return self.fact(m.group("n"), m.start("n"), m.end("n"))
        for f in self.fields_for("phone"):
            # 联系电话：0954-3012103（李红霞）
            m = re.search(r"\( *(?P<n>[\u4e00-\u9fff]{2,3}) *\)", self.t[f.start:f.end])
            if m and not self._NOT_NAME.search(m.group("n")):
                return self.fact(m.group("n"), f.start + m.start("n"), f.start + m.end("n"))
        return None
