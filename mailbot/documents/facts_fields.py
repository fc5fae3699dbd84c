"""Fields: "label：value" in prose, "label<TAB>value" tables, header-row tables and numbered
headings (一、 (一) 1. 1、 (1)). Labels are matched from a vocabulary of synonyms (`_LABELS`),
longest first; a label alone on its line takes the following lines as its value."""
from __future__ import annotations

import re
from dataclasses import dataclass

from mailbot.documents.facts_text import line_spans, trim_span

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
    rf"^ *(?P<head>{_HEAD})? *(?P<label>{_LABEL_ALT}) *(?P<sep>[:。.]|(?= +\S)|(?=\d)| *$)")
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
class Field:
    keys: tuple[str, ...]
    label: str
    start: int          # value span in normalised text
    end: int
    line: int           # index of the line the label is on
    label_start: int = -1


def find_fields(text: str) -> list[Field]:
    lines = line_spans(text)
    found: list[Field] = []
    field_lines: set[int] = set()
    pending: list[tuple[Field, int]] = []          # label with empty value: filled from next lines

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
                            s, e = trim_span(text, *vcells[k])
                            found.append(Field(_label_key(m.group("label")), m.group("label"), s, e, i))
                    field_lines.update((i, i + 1))
                    i += 2
                    continue
            k = 0
            last_idx = None
            nested: list[Field] = []
            while k < len(cells):
                m = labels[k]
                if m:
                    j = k + 1
                    while j < len(cells) and not labels[j]:
                        j += 1
                    vals = [c for c in cells[k + 1:j] if text[c[0]:c[1]].strip()]
                    if vals:
                        s, e = trim_span(text, vals[0][0], vals[-1][1])
                    else:
                        s = e = cells[k][1]
                    found.append(Field(_label_key(m.group("label")), m.group("label"), s, e, i))
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
                tail_e = trim_span(text, a, b)[1]
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
                        e, prev = trim_span(text, la, lb)[1], ln
                        field_lines.add(j)
                        j += 1
                    if j > i + 1:
                        found[last_idx] = Field(last.keys, last.label, last.start, e, last.line, last.label_start)
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
    out: list[Field] = []
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
            s, e = trim_span(text, s, e)
            out.append(Field(f.keys, f.label, s, e, f.line))
        else:
            out.append(f)
    return [_restated(text, f) for f in out]


_GLUED = re.compile(r" *(?:主要|具体|其他|本次|此次|活动|开放|集合|参观|报名|咨询)? *")


def _restated(text: str, f: Field) -> Field:
    """A value that opens with a label of its own key (a 活动地点 cell: 主要参观地点：…) starts after it."""
    m = _LABEL_COLON.match(text, f.start, f.end)
    if m is None:
        g = re.compile(r" *(?:主要|具体|其他|本次|此次|活动|开放|集合|参观|报名|咨询)")
        gm = g.match(text, f.start, f.end)
        if gm:
            m = _LABEL_COLON.match(text, gm.end(), f.end)
    if m and set(_label_key(m.group("label"))) & set(f.keys) and m.end() < f.end:
        s, e = trim_span(text, m.end(), f.end)
        return Field(f.keys, f.label, s, e, f.line, f.label_start)
    return f


def _inline_fields(text: str, a: int, b: int, line: int) -> list[Field]:
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
        s, e = trim_span(text, a + vs, a + ve)
        while e > s and text[e - 1] in ",;、 ":
            e -= 1
        out.append(Field(_label_key(label), label, s, e, line, a + ls))
    return out
