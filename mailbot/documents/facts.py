"""Document text → facts: activity dates, headcount, theme, contact, phone, place, … .

Input is the text docread gives (paragraphs separated by "\\n", table cells by "\\t",
rows by "\\n"). Every fact keeps the span of the original text it came from, so a finding
or a reviewer can point at it. Real plans rarely use the notice's exact words: labels are
matched from a vocabulary of synonyms, in "label：value" prose, "label<TAB>value" tables,
header-row tables and numbered headings (一、 (一) 1. 1、 (1)), and dates, headcounts and
phone numbers are read in the forms people actually write.

Nothing here knows a campaign: the caller passes the year that yearless dates belong to.
"""
from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any, Iterable

__all__ = ["Fact", "Facts", "NormText", "extract_facts", "parse_dates", "parse_headcount",
           "parse_phone", "cn_to_int", "FACT_NAMES"]


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


# --- fields: "label：value" ---------------------------------------------------------------

# key → labels. A label may name two fields (联系人及电话). Longest labels win.
_LABELS: dict[str, tuple[str, ...]] = {
    "time": ("活动时间", "开放时间", "开展时间", "举办时间", "举行时间", "活动日期", "开放日期",
             "具体时间", "时间安排", "召开时间", "开放日时间", "时间", "日期", "活动日", "开放日期及时间"),
    "time+form": ("活动时间及方式", "活动时间和方式", "时间及方式", "时间和方式", "活动时间及形式",
                  "活动时间和形式", "时间及形式"),
    "timeplace": ("时间地点", "时间和地点", "时间及地点", "时间与地点", "时间、地点",
                  "活动时间地点", "活动时间及地点", "活动时间和地点", "活动时间、地点",
                  "开放时间及地点", "开放时间和地点", "开放时间地点"),
    "place": ("活动地点", "开放地点", "集合地点", "举办地点", "活动场所", "开放场所", "参观地点",
              "开放区域", "活动场地", "座谈地点", "会议地点", "活动地址", "地点",
              "举办地", "活动举办地", "开放场地", "活动场馆", "开放地址"),
    "theme": ("开放主题", "活动主题", "开放日主题", "主题"),
    "theme+content": ("活动主题及内容", "主题及内容", "主题和内容", "活动主题和内容"),
    "content": ("活动内容", "开放内容", "活动安排", "活动流程", "活动议程", "主要内容", "具体内容",
                "活动环节", "日程安排", "活动程序", "开放项目", "内容安排", "议程安排", "议程",
                "具体安排", "活动具体安排", "流程安排", "活动日程", "开放安排",
                "活动流程及内容", "内容及流程", "开放内容及安排", "活动内容及安排"),
    "form": ("活动形式", "开放形式", "活动方式", "开放方式", "形式"),
    "form+content": ("活动形式及内容", "活动内容及形式", "内容及形式", "形式及内容"),
    "signup": ("报名方式", "参与方式", "报名办法", "报名途径", "报名渠道", "参加方式", "报名参加方式",
               "报名须知", "参与途径", "报名方法", "报名流程", "参与办法",
               "招募方式", "征集方式", "预约方式", "预约报名", "报名"),
    "invited+signup": ("邀请对象报名方式", "邀请对象及报名方式", "邀请对象和报名方式",
                       "参加对象及报名方式", "参与对象及报名方式"),
    "participants": ("参加人数", "参与人数", "活动人数", "邀请人数", "拟邀人数", "人数", "名额",
                     "活动规模", "规模", "参加规模", "人员规模", "参会人数",
                     "招募人数", "活动名额", "报名名额", "邀请名额", "参加名额", "拟邀人员数量"),
    "invited": ("邀请对象", "参加对象", "参与对象", "开放对象", "活动对象", "邀请人员", "参加人员",
                "参与人员", "参会人员", "受邀对象", "邀请范围"),
    "invited+participants": ("邀请对象及人数", "参加对象及人数", "参加人员及人数", "参与人员及人数"),
    "leaders": ("参加领导", "出席领导", "参会领导", "带队领导", "陪同领导", "出席人员", "参加的领导",
                "局领导", "参加局领导"),
    "organizer": ("承办单位", "主办单位", "组织单位", "承办部门", "承办科室", "牵头单位", "主办部门",
                  "协办单位", "责任单位", "实施单位", "承办股室", "举办单位", "承办", "主办"),
    "contact": ("联系人", "联系人员", "报名联系人", "活动联系人", "联络人", "咨询联系人",
                "联络员", "活动联络员", "对接人", "联系对接人"),
    "contact+phone": ("联系人及电话", "联系人及联系电话", "联系人员及电话", "联系人员及联系电话",
                      "联系人和电话", "联系人、电话", "联系人及联系方式", "联系方式"),
    "phone": ("联系电话", "咨询电话", "报名电话", "电话", "手机", "联系手机", "办公电话",
              "咨询热线", "报名热线"),
    "tips": ("温馨提示", "注意事项", "活动要求", "参加须知", "参观须知", "友情提示", "特别提示",
             "活动须知", "须知", "其他事项", "有关事项", "其他要求", "其他说明", "提示", "相关要求",
             "温馨提醒", "友情提醒", "特别提醒", "提醒事项", "参与须知", "参加要求"),
    # Dates under these labels are never the activity date.
    "deadline": ("报名时间", "报名截止时间", "截止时间", "报名截止", "报名日期", "发布时间", "公告时间",
                 "报送时间", "印发时间", "成文日期", "上传时间", "征集时间", "发布日期", "报名期限",
                 "填报日期", "填表日期", "报送日期", "签发日期", "制表日期", "预约时间"),
}

_LABEL_KEYS: dict[str, tuple[str, ...]] = {}
for _key, _labels in _LABELS.items():
    for _lab in _labels:
        _LABEL_KEYS[_lab] = tuple(_key.split("+"))


def _label_alt() -> str:
    labels = sorted(_LABEL_KEYS, key=len, reverse=True)
    return "|".join(" *".join(re.escape(c) for c in lab) for lab in labels)


# Heading numbers: 一、 (一) 1. 1、 (1) 第一条. ① becomes "1" under NFKC.
_HEAD = r"(?:[一二三四五六七八九十]{1,3} *[、.,]|\( *[一二三四五六七八九十]{1,3} *\)|\d{1,2} *[、.](?!\d)|\( *\d{1,2} *\)|\d{1,2}(?=[\u4e00-\u9fff])|第[一二三四五六七八九十]{1,3}[条部分章节项])"
_LABEL_ALT = _label_alt()
# label followed by a colon, anywhere in a line
_LABEL_COLON = re.compile(rf"(?P<label>{_LABEL_ALT}) *[:]")
# label at the start of a line, heading number optional
_LABEL_START = re.compile(
    rf"^ *(?P<head>{_HEAD})? *(?P<label>{_LABEL_ALT}) *(?P<sep>[:。.]|(?= +\S)| *$)")
_LABEL_CELL = re.compile(rf"^ *(?:{_HEAD})? *(?P<label>{_LABEL_ALT}) *[:]? *$")
# a signature line: the issuing office, or a date alone
_SIGNATURE = re.compile(r"^ *(?:[\u4e00-\u9fff()]{2,24}(?:局|办公室|委员会|政府|中心|办事处|管委会)|"
                        r"(?:19|20)\d{2} *年 *\d{1,2} *月 *\d{1,2} *日|(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}) *$")
_SHORT_KEYS = frozenset(("time", "timeplace", "place", "theme", "participants", "contact", "phone"))
_LIST_ITEM = re.compile(r"^ *(?:\d{1,2} *[、.)](?!\d)|\( *[\d一二三四五六七八九十]{1,3} *\)|[一二三四五六七八九十]{1,3} *[、.]|[一二三四五六七八九十]是)")
_TOP_HEAD = re.compile(r"^ *(?:[一二三四五六七八九十]{1,3} *[、.,]|第[一二三四五六七八九十]{1,3}[条部分章])")


def _label_key(label: str) -> tuple[str, ...]:
    return _LABEL_KEYS.get(label.replace(" ", ""), ())


@dataclass(frozen=True)
class _Field:
    keys: tuple[str, ...]
    label: str
    start: int          # value span in normalised text
    end: int
    line: int           # index of the line the label is on
    label_start: int = -1


def _lines(text: str) -> list[tuple[int, int]]:
    out, pos = [], 0
    for part in text.split("\n"):
        out.append((pos, pos + len(part)))
        pos += len(part) + 1
    return out


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \t:":
        start += 1
    while end > start and text[end - 1] in " \t":
        end -= 1
    return start, end


def _find_fields(text: str) -> list[_Field]:
    lines = _lines(text)
    found: list[_Field] = []
    field_lines: set[int] = set()
    pending: list[tuple[_Field, int]] = []          # label with empty value: filled from next lines

    i = 0
    while i < len(lines):
        a, b = lines[i]
        line = text[a:b]
        if "\t" in line:
            cells, pos = [], a
            for c in line.split("\t"):
                cells.append((pos, pos + len(c)))
                pos += len(c) + 1
            labels = [_LABEL_CELL.match(text[s:e]) for s, e in cells]
            nonempty = [k for k, (s, e) in enumerate(cells) if text[s:e].strip()]
            # a header row of labels over a row of values
            if (len([m for m in labels if m]) >= 2 and all(labels[k] for k in nonempty)
                    and i + 1 < len(lines) and "\t" in text[lines[i + 1][0]:lines[i + 1][1]]):
                na, nb = lines[i + 1]
                vcells, pos = [], na
                for c in text[na:nb].split("\t"):
                    vcells.append((pos, pos + len(c)))
                    pos += len(c) + 1
                if len(vcells) == len(cells) and not any(_LABEL_CELL.match(text[s:e]) for s, e in vcells):
                    for k, m in enumerate(labels):
                        if m:
                            s, e = _trim(text, *vcells[k])
                            found.append(_Field(_label_key(m.group("label")), m.group("label"), s, e, i))
                    field_lines.update((i, i + 1))
                    i += 2
                    continue
            k = 0
            last_idx = None
            nested: list[_Field] = []
            while k < len(cells):
                m = labels[k]
                if m:
                    j = k + 1
                    while j < len(cells) and not labels[j]:
                        j += 1
                    vals = [c for c in cells[k + 1:j] if text[c[0]:c[1]].strip()]
                    if vals:
                        s, e = _trim(text, vals[0][0], vals[-1][1])
                    else:
                        s = e = cells[k][1]
                    found.append(_Field(_label_key(m.group("label")), m.group("label"), s, e, i))
                    last_idx = len(found) - 1
                    # a value cell that itself says "主题：…" / "联系电话：…" (活动主题及内容 | 主题：“…” 内容：…)
                    for c0, c1 in vals:
                        nested.extend(_inline_fields(text, c0, c1, i))
                    field_lines.add(i)
                    k = j
                    continue
                # a cell that is itself "label：value"
                s0, e0 = cells[k]
                for f in _inline_fields(text, s0, e0, i):
                    found.append(f)
                    last_idx = len(found) - 1
                    field_lines.add(i)
                k += 1
            # A cell of several paragraphs (a numbered list, "1.进机关:" then its text) comes out
            # as the row's line followed by lines without tabs: they belong to the row's last value.
            # Fields nested in a value cell come after the row's own fields (those are read first).
            extended = False
            if last_idx is not None and found[last_idx].end > found[last_idx].start:
                last = found[last_idx]
                tail_e = _trim(text, a, b)[1]
                if last.end >= tail_e:
                    j, e = i + 1, last.end
                    prev = text[last.start:last.end]
                    while j < len(lines) and j - i <= 15:
                        la, lb = lines[j]
                        ln = text[la:lb].strip()
                        if not ln or "\t" in ln or _TOP_HEAD.match(ln) or _inline_fields(text, la, lb, j):
                            break
                        if not (_LIST_ITEM.match(ln) or prev.rstrip().endswith(":")):
                            break
                        e, prev = _trim(text, la, lb)[1], ln
                        field_lines.add(j)
                        j += 1
                    if j > i + 1:
                        found[last_idx] = _Field(last.keys, last.label, last.start, e, last.line, last.label_start)
                        extended = True
            found.extend(nested)
            if extended:
                i = j
                continue
            i += 1
            continue
        fs = _inline_fields(text, a, b, i)
        if fs:
            field_lines.add(i)
            found.extend(fs)
            last = fs[-1]
            if last.start >= last.end:
                pending.append((last, i))
        i += 1

    # A label alone on its line (a heading): its value is the following lines, up to the
    # next field line or top-level heading.
    out: list[_Field] = []
    empty = {id(f) for f, _ in pending}
    first_label: dict[int, int] = {}
    for g in found:
        if g.label_start >= 0 and (g.line not in first_label or g.label_start < first_label[g.line]):
            first_label[g.line] = g.label_start
    for f in found:
        if id(f) not in empty:
            out.append(f)
            continue
        j = f.line + 1
        s = e = None
        while j < len(lines) and j - f.line <= 12:
            la, lb = lines[j]
            if j in field_lines:
                # 杨丽娟，联系电话：…  — the text before the line's first label is the value
                first = first_label.get(j, la)
                # …but not a word glued to the label (主要参观地点：… is one label, not 主要 + 参观地点)
                if s is None and first > la and text[la:first].strip(" ,;、") and (
                        text[first - 1] in " ,;、" or not re.search(r"[\u4e00-\u9fff]$", text[la:first])
                        or re.fullmatch(r" *[\u4e00-\u9fff]{2,4} *", text[la:first]) and not re.search(
                            r"主要|具体|其他|本次|此次|活动|开放|集合|参观|报名|咨询", text[la:first])):
                    s, e = la, first
                    while e > s and text[e - 1] in " ,;、":
                        e -= 1
                break
            if _TOP_HEAD.match(text[la:lb]):
                break
            # a short value (时间：/ 地点：) already read, then a paragraph of prose: not the value
            if s is not None and _SHORT_KEYS.intersection(f.keys) and (
                    len(text[la:lb].strip()) > 40 and re.search(r"[。;]", text[la:lb])
                    or _SIGNATURE.match(text[la:lb])):
                break
            if text[la:lb].strip():
                if s is None:
                    s = la
                e = lb
            j += 1
        if s is not None:
            s, e = _trim(text, s, e)
            out.append(_Field(f.keys, f.label, s, e, f.line))
        else:
            out.append(f)
    return [_restated(text, f) for f in out]


_GLUED = re.compile(r" *(?:主要|具体|其他|本次|此次|活动|开放|集合|参观|报名|咨询)? *")


def _restated(text: str, f: _Field) -> _Field:
    """A value that opens with a label of its own key (a 活动地点 cell: 主要参观地点：…) starts after it."""
    m = _LABEL_COLON.match(text, f.start, f.end)
    if m is None:
        g = re.compile(r" *(?:主要|具体|其他|本次|此次|活动|开放|集合|参观|报名|咨询)")
        gm = g.match(text, f.start, f.end)
        if gm:
            m = _LABEL_COLON.match(text, gm.end(), f.end)
    if m and set(_label_key(m.group("label"))) & set(f.keys) and m.end() < f.end:
        s, e = _trim(text, m.end(), f.end)
        return _Field(f.keys, f.label, s, e, f.line, f.label_start)
    return f


def _inline_fields(text: str, a: int, b: int, line: int) -> list[_Field]:
    """Fields in one line (or one table cell): 一、活动时间：…  联系人：… 电话：…"""
    seg = text[a:b]
    hits: list[tuple[int, int, str]] = []          # (label start, value start, label)
    m = _LABEL_START.match(seg)
    if m:
        sep = m.group("sep")
        spaced_on = (" " in m.group("label") and sep.strip() == ""
                     and re.match(r" *[\u4e00-\u9fff](?: |$)", seg[m.end():]))   # 其 他 事 项 安 排
        if (sep == ":" or sep.strip() == "" or m.group("head")) and not spaced_on:
            hits.append((m.start("label"), m.end(), m.group("label")))
    for c in _LABEL_COLON.finditer(seg):
        if hits and c.start() < hits[-1][1]:
            continue
        hits.append((c.start("label"), c.end(), c.group("label")))
    out = []
    for n, (ls, vs, label) in enumerate(hits):
        ve = hits[n + 1][0] if n + 1 < len(hits) else len(seg)
        # 活动地点：主要参观地点：… — the next label, with a word glued before it, restates this
        # one: the value is what follows it, not the glued word.
        if n + 1 < len(hits) and set(_label_key(label)) & set(_label_key(hits[n + 1][2])) and \
                _GLUED.fullmatch(seg[vs:ve]):
            vs = hits[n + 1][1]
            ve = hits[n + 2][0] if n + 2 < len(hits) else len(seg)
        s, e = _trim(text, a + vs, a + ve)
        while e > s and text[e - 1] in ",;、 ":
            e -= 1
        out.append(_Field(_label_key(label), label, s, e, line, a + ls))
    return out


# --- dates -------------------------------------------------------------------------------

_Y = r"(?:(?:19|20)\d{2}|[〇零一二][〇零一二三四五六七八九]{3})"
_M = r"(?:1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"
_D = r"(?:3[01]|[12]\d|0?[1-9]|三十一?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?|[一二三四五六七八九])"
_RSEP = r"(?:至|到|~|-+|—+|–|―|－|∼)"
_CN_DATE = re.compile(
    rf"(?<![\d])(?:(?P<y>{_Y}) *年 *)?(?P<m>{_M}) *月 *(?P<d>{_D})(?![\d]) *(?P<suf>[日号])?")
_ISO_DATE = re.compile(
    r"(?<![\d.])(?P<y>(?:19|20)\d{2}) *(?P<sep>[-/.]) *(?P<m>1[0-2]|0?[1-9]) *(?P=sep) *(?P<d>3[01]|[12]\d|0?[1-9])(?![\d])")
_COMPACT_DATE = re.compile(r"(?<!\d)(?P<y>20\d{2})(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])(?!\d)")
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
class _DateHit:
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


def _year_of(s: str | None) -> int | None:
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


def _date_hits(text: str, year: int) -> list[_DateHit]:
    hits: list[_DateHit] = []
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
            y2 = _year_of(r.group("y")) or first.year
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
        hits.append(_DateHit(dates, start, end, time, explicit, contextual))
        take(start, end)

    for m in _CN_DATE.finditer(text):
        if overlaps(m.start(), m.end()):
            continue
        if not m.group("suf"):
            # 9月5—7日: a day without 日 is fine only before a range
            if not re.match(rf"^ *{_RSEP} *(?:{_M} *月 *)?{_D} *[日号]", text[m.end():m.end() + 12]):
                continue
        y = _year_of(m.group("y"))
        d = _mk_date(y or year, cn_to_int(m.group("m")) or 0, cn_to_int(m.group("d")) or 0)
        if d:
            add(m.start(), m.end(), d, y is not None)
    for m in _ISO_DATE.finditer(text):
        if overlaps(m.start(), m.end()):
            continue
        d = _mk_date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
        if d:
            add(m.start(), m.end(), d, True)
    for m in _COMPACT_DATE.finditer(text):
        if overlaps(m.start(), m.end()):
            continue
        d = _mk_date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
        if d:
            hits.append(_DateHit((d,), m.start(), m.end(), None, True, True))
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
    for h in _date_hits(nt.text, year):
        if not h.contextual:
            out.extend(h.dates)
    return out


# --- headcounts --------------------------------------------------------------------------

_N = r"(?:\d{1,4}|[一二三四五六七八九十百两]{1,5})"
_HEADCOUNT = re.compile(
    rf"(?P<pre>不得低于|不得少于|不少于|不低于|不超过|不多于|至少|最少|最多|约|大约|共计|共有|总计|合计|共|计|限额|限报|限|"
    rf"拟邀请|邀请|计划|预计|控制在|达到|达|为)? *(?<![\d.第每])(?P<n>{_N}) *"
    rf"(?:(?:-|~|至|到|—|–) *(?P<n2>{_N}) *)?(?P<mod>余|多|来)? *(?P<u>名|人|位)(?!民|大|员|事|社|口|类|才)"
    rf"(?!联系人|联络|负责人|工作人员|讲解员|志愿者|安保|医护)(?P<post>次|左右|以上|以内|上下|许)?")
_HEADCOUNT_BARE = re.compile(rf"^ *(?:约|共|不少于|不低于|限额|限)? *(?P<n>{_N}) *(?:余|多)? *(?:名|人|位|个)?")
_STAFF = re.compile(r"工作人员|讲解员|志愿者|安保|医护|服务人员|干部职工\d|局领导|班子成员|每组|每批|每团|每人|"
                    r"(?:本|我|局机关|单位|我局|本局|我单位)(?:参加|参会|出席)(?:人数|人员)")


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
    rf"^ *(?:约|共|共计|合计|总计|计|达|不少于|不低于)? *(?P<n>{_N}) *(?:(?:-|~|至|到|—|–) *{_N} *)?"
    rf"(?:余|多)? *(?:名|人|位)? *(?:次|左右|以上|许)? *$")
_PEOPLE_LABEL = re.compile(r"人数|人次|群众|市民|公众|居民|村民|代表|嘉宾|名额|规模|参加|参与|到场|出席|参会|与会|受邀|邀请|参观|人员")
_NOT_PEOPLE_LABEL = re.compile(r"联系|联络|领导|工作人员|讲解|志愿|安保|医护|服务人员|电话|日期|时间|地点|序号|编号|"
                               r"年龄|岁|意见|建议|问卷|条数|件数|场次|天数|其中|本局|我局|本单位|干部|职工")
_TOTAL_LABEL = re.compile(r"合计|总|共|实际")


def _headcount_range(source: str) -> tuple[int, int] | None:
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

_MOBILE = re.compile(r"(?<![\d])(?P<a>1[3-9]\d) *[- ]? *(?P<b>\d{4}) *[- ]? *(?P<c>\d{4})(?![\d])")
_LANDLINE = re.compile(r"(?<![\d])\(? *(?P<area>0\d{2,3}) *\)? *(?:[-—–―－] *)?(?P<num>[2-9]\d{6,7})(?![\d])")
_LOCAL = re.compile(r"(?<![\d\-—.])(?P<num>[2-8]\d{6,7})(?![\d])")
_PHONE_CUE = re.compile(r"电话|手机|热线|联系方式|咨询|座机|Tel|TEL|tel")


def parse_phone(text: str) -> str | None:
    """First phone number in text: mobile '13909541234', landline '0954-3012103', local '3012103'."""
    nt = NormText(text)
    hits = _phone_hits(nt.text, anywhere_local=True)
    return hits[0][0] if hits else None


def _phone_hits(text: str, *, anywhere_local: bool = False,
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
        if len(m.group("num")) == 8 and _COMPACT_DATE.fullmatch(m.group("num")):
            continue
        k = bisect.bisect_right(ok_starts, m.start()) - 1
        ok = anywhere_local or any(local_ok[i][0] <= m.start() < local_ok[i][1] for i in range(max(0, k - 3), k + 1)) or \
            bool(_PHONE_CUE.search(text[max(0, m.start() - 12):m.start()]))
        if ok:
            out.append((m.group("num"), m.start(), m.end()))
    out.sort(key=lambda t: t[1])
    return out


# --- facts -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fact:
    """One fact: its value, the span of the original text it was read from, and that text."""
    value: Any
    span: tuple[int, int]
    source_text: str


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
    rf"(?:意见建议|意见和建议|建议意见|意见|建议|问题|诉求)[^。;\n]{{0,10}}?(?P<n>{_N}) *(?:条|项|个|件)")
_SUGGESTIONS_B = re.compile(
    rf"(?<![\d.])(?P<n>{_N}) *(?:条|项|个|件)[^。;\n,]{{0,6}}?(?:意见建议|意见和建议|意见|建议|问题|诉求)")
_SUGG_CUE = re.compile(r"征集|收集|收到|提出|梳理|汇总|反映|共|形成|记录|整理")

# Prose announcements: "届时将组织群众代表参观…并召开座谈会" is the 活动内容; "请参加人员携带身份证" a 温馨提示.
_PROSE_CONTENT = re.compile(r"届时|活动当天|当天|将组织|组织(?:群众|市民|公众|参会|与会|受邀|代表)|带领|邀请")
_PROSE_CONTENT_ACT = re.compile(r"参观|观摩|座谈|体验|列席|旁听|走进|实地")
_RULE_QUOTE = re.compile(r"须设置|应包括|应当包括|要求|按照|根据|通知")
_PROSE_TIPS = re.compile(r"(?:(?<=[。;\n])|^)请")
_PROSE_TIPS_WHAT = re.compile(r"携带|准时|提前(?:\d|[一二三四五六七八九十])|佩戴|遵守|听从|着装|注意安全")
_PROSE_TIPS_SKIP = re.compile(r"报名|预约|截止")
_STRONG_NEG = re.compile(r"报送|报名|截止|备案|印发|提交|上报|成文|征集|公示|下发|报县|前报|审核|签发|落款|填报|填表|制表|预约")
_WEAK_NEG = re.compile(r"发布|公告|反馈|通知|结束后|之后|以后|通报|答复")
_POSITIVE = re.compile(r"开展|举办|举行|召开|定于|将于|拟于|计划于|开放日|组织|于|走进|参观|活动当天|当日")
_ORIG_CUE = re.compile(r"原定|原计划|原拟|原于|原为|原来|原安排|原日期|原时间")
_NEW_CUE = re.compile(r"调整为|调整至|调整到|改为|改至|改到|变更为|变更至|延期至|延期到|延至|推迟至|推迟到|提前至|提前到|顺延至|调至|改期至|改期为|更改为|更改至|延后至")
_DEADLINE_AFTER = re.compile(r"^ *(?:之前|以前|前(?![往来])|止|截止|后|以后|之后|内)")
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


class _Extractor:
    def __init__(self, text: str, kind: str, year: int | None, received: date | None):
        self.nt = NormText(text)
        self.t = self.nt.text
        self.kind = kind
        self.fields = _find_fields(self.t)
        self.segs = _Bounds(self.t, _SEG_BOUND)
        self.sents = _Bounds(self.t, _SENT_BOUND)
        self.lines = _Bounds(self.t, re.compile("\n"))
        self._by_keys: dict[tuple[str, ...], list[_Field]] = {}
        self._index: dict[tuple[str, ...], tuple[list[int], list[tuple[int, int]]]] = {}
        self.year = year or self._guess_year(received)
        if year:
            # A document whose every full date is in one later year (a 2023 plan checked against
            # the 2022 rules) means that year by 12月5日. An earlier year is more likely last year's
            # template left in a signature, so the campaign's year stands then.
            years = {_year_of(m.group("y")) for m in _CN_DATE.finditer(self.t) if m.group("y") and m.group("suf")}
            years |= {int(m.group("y")) for m in _ISO_DATE.finditer(self.t)}
            years.discard(None)
            if len(years) == 1 and next(iter(years)) > year:
                self.year = next(iter(years))
        self.dates = _date_hits(self.t, self.year)

    def _guess_year(self, received: date | None) -> int:
        for m in _CN_DATE.finditer(self.t):
            y = _year_of(m.group("y"))
            if y:
                return y
        m = _ISO_DATE.search(self.t)
        if m:
            return int(m.group("y"))
        return (received or date.today()).year

    def fact(self, value: Any, start: int, end: int) -> Fact:
        a, b = self.nt.span(start, end)
        return Fact(value, (a, b), self.nt.original[a:b])

    def fields_for(self, *keys: str) -> list[_Field]:
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

    def first_sentence(self, f: _Field, limit: int = 80) -> tuple[int, int] | None:
        s, e = f.start, f.end
        if s >= e:
            return None
        nl = self.t.find("\n", s, e)
        if nl != -1:
            e = nl
        m = re.search(r"[。;]", self.t[s:e])
        if m and m.start() > 1:
            e = s + m.start()
        s, e = _trim(self.t, s, e)
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

    # -- dates ------------------------------------------------------------------------

    def classify_dates(self) -> tuple[list[tuple[int, _DateHit]], list[_DateHit]]:
        """(tier, hit) of candidate activity dates (lower tier = better) and 原定 dates."""
        t = self.t
        cands: list[tuple[int, _DateHit]] = []
        originals: list[_DateHit] = []
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
            else:
                cands.append((3, h))
        return cands, originals

    def activity_dates(self) -> tuple[tuple[Fact, ...], tuple[Fact, ...], Fact | None]:
        cands, originals = self.classify_dates()
        best = min((tier for tier, _ in cands), default=None)
        if best is None or best >= 3:
            chosen: list[_DateHit] = []
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
            y = _year_of(m.group("y")) or self.year
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

    # -- headcount --------------------------------------------------------------------

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
                if not _STAFF.search(v[max(0, m.start() - 8):m.end() + 2])]

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
        for a, b in _lines(t):
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
                s1, e1 = _trim(t, s + m.start("n"), s + len(m.group(0).rstrip()))
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
            if _STAFF.search(t[max(0, m.start() - 8):m.end() + 2]):
                continue
            if self.in_fields(m.start(), "leaders", "contact", "organizer", "phone"):
                continue
            ss, se = self.segs.around(m.start())
            seg = t[ss:se]
            if not re.search(r"参加|参与|邀请|群众|市民|代表|人数|名额|报名|规模|公众|嘉宾|限额|人员|对象|参观|出席|共|本次|活动", seg):
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
        return tuple(self.fact(v, s, e) for v, s, e in _phone_hits(self.t, local_ok=zones))

    def phone(self, phones: tuple[Fact, ...]) -> Fact | None:
        if not phones:
            return None
        zones = self.fields_for("phone", "contact")
        for f in zones:
            for p in _phone_hits(self.t[f.start:f.end], anywhere_local=True):
                return self.fact(p[0], f.start + p[1], f.start + p[2])
        # a number near 电话 / 联系
        for v, s, e in _phone_hits(self.t):
            if re.search(r"电话|手机|联系|热线|咨询|报名", self.t[max(0, s - 20):s]):
                return self.fact(v, s, e)
        return phones[0]

    _NOT_NAME = re.compile(r"电话|联系|办公|咨询|报名|热线|方式|手机|同志|负责|具体|工作|单位|地址|邮箱|股室|科室|我局|本局|人员")
    _ORG_TAIL = re.compile(r"(?:室|科|股|办|局|中心|站|所|部|组|处|队|院|馆)$")

    def _name_in(self, s: int, e: int) -> tuple[str, int, int] | None:
        v = self.t[s:e]
        v2 = re.sub(r"\(.*?\)", lambda m: " " * len(m.group(0)), v)
        for p in _phone_hits(v2, anywhere_local=True):
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
                s, e = _trim(self.t, s, e)
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
            s, e = _trim(self.t, s, e)
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
            s, e = _trim(self.t, m.start(), m.end())
            return self.fact(True, s, e)
        return None

    def run(self) -> Facts:
        dates, originals, time = self.activity_dates()
        month = None if dates else self.activity_month()
        phones = self.phones()
        participants = self.headcount()
        low_high = _headcount_range(participants.source_text) if participants else None
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
