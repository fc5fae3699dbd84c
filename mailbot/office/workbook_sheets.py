"""The sheets of the tracking workbook, one builder each: 总览, 提交记录, 检查明细, 日程, 未识别,
进度 (with its charts) and the hidden _底稿; the names and headers the office sees.

Each builder takes the write-only workbook, the shared `Styles` and what it shows, read from the
ledger by `workbook.compile`. 审核状态 shows the decision in force on the unit's current plan
version (`effective_review`): a new version clears it, so the clerk can decide again.
"""
from __future__ import annotations

import os
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from mailbot.campaign import Campaign
from mailbot.cndate import weekday
from mailbot.office.progress import UnitState
from mailbot.office.workbook_style import FILLS, Col, Table, V, display_width, page_setup, safe_text
from mailbot.store.ledger import MailRecord, Message
from mailbot.vocab import DECISIONS, NEEDS_LOOK, PLAN_KINDS, Kind, Status, UnitStatus

# --- names the office sees (and other modules rely on) -----------------------------------

OVERVIEW = "总览"
RECORDS = "提交记录"
FINDINGS = "检查明细"
SCHEDULE = "日程"
UNMATCHED = "未识别"
PROGRESS = "进度"
BASE = "_底稿"                     # hidden: what the hand-kept cells showed when written

REVIEW_COL, PAPER_COL, NOTE_COL = "审核状态", "纸质版", "备注"
HAND_COLUMNS = (REVIEW_COL, PAPER_COL, NOTE_COL)
REVIEW_CHOICES = tuple(d.label for d in DECISIONS)
PAPER_CHOICES = ("已收到", "未收到")

OVERVIEW_HEADERS = (
    "单位", "活动日期", "开放主题", "参加人数", "方案状态", "方案提交时间", "方案版本", "问题",
    "审核状态", "纸质版", "公告发布截止", "开展情况状态", "开展情况提交时间", "反馈截止", "备注",
    "方案截止", "调整截止", "开展情况截止", "催报次数",
    "反馈状态", "反馈提交时间", "日期来源", "联系人", "电话")
RECORD_HEADERS = ("时间", "单位", "类型", "版本", "发件人", "主题", "文件名", "大小", "SHA-256", "结果", "原始邮件")
FINDING_HEADERS = ("单位", "类型", "版本", "文件", "严重程度", "事项", "说明", "条款", "收到时间", "是否当前版本")
SCHEDULE_HEADERS = ("日期", "星期", "工作日", "通知指定", "开展单位", "单位数", "说明")
UNMATCHED_HEADERS = ("时间", "发件人", "主题", "附件", "原因", "疑似单位", "原文")


# --- helpers over the ledger -------------------------------------------------------------

def _local(value: datetime | None, tz) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(tz).replace(tzinfo=None)
    return value.replace(microsecond=0)


# What ends or breaks a URL, escaped the way Excel itself writes file links (Chinese stays).
_URL_ESCAPES = str.maketrans({"%": "%25", "#": "%23", " ": "%20", '"': "%22", "<": "%3C", ">": "%3E",
                              "[": "%5B", "]": "%5D", "^": "%5E", "`": "%60", "{": "%7B", "}": "%7D"})


class Linker:
    """Hyperlink targets for archived files, relative to the workbook's folder (Excel and
    LibreOffice resolve them against the workbook, so the folder can be moved as a whole)."""

    def __init__(self, archive_root: Path, folder: Path):
        try:
            self.prefix = Path(os.path.relpath(archive_root, folder)).as_posix().rstrip("/") + "/"
        except ValueError:                      # Windows: archive on another drive
            self.prefix = "file:///" + Path(archive_root).resolve().as_posix().lstrip("/") + "/"
        if self.prefix == "./":
            self.prefix = ""

    def __call__(self, rel: str | None) -> str | None:
        if not rel:
            return None
        return (self.prefix + rel.replace("\\", "/").lstrip("/")).translate(_URL_ESCAPES)


def _sender(m: MailRecord) -> str:
    if m.from_name and m.from_addr:
        return f"{m.from_name} <{m.from_addr}>"
    return m.from_addr or m.from_name or ""


def _result(m: MailRecord, versions: dict[int, MailRecord]) -> str:
    if m.status == Status.FILED:
        text = m.outcome or Status.FILED.explanation
        if m.duplicate_of is not None:
            first = versions.get(m.duplicate_of)
            text = f"重复发送（同第{first.version}版）" if first and first.version else "重复发送"
        return text
    text = Status(m.status).explanation
    return f"{text}：{m.reason}" if m.reason else text


def _version_text(m: Message | None, campaign: Campaign) -> str | None:
    if m is None or not m.version:
        return None
    if m.kind == Kind.ADJUSTMENT:
        return f"{_kind_label(campaign, m.kind)}第{m.version}版"
    return f"第{m.version}版"


def _kind_label(campaign: Campaign, kind: str | None) -> str:
    if not kind:
        return ""
    k = campaign.kinds.get(kind)
    return k.label if k else kind


def _fill(status: UnitStatus) -> str | None:
    return status.fill


def effective_review(s: UnitState) -> str:
    """The decision in force on the unit's current plan version, else blank."""
    return s.plan_status.label if s.plan_status.decided else ""


# --- the sheets --------------------------------------------------------------------------

def write_overview(wb, styles, title, campaign, states, hand, pending, tz):
    cols = [Col("单位", cap=30), Col("活动日期", "date"), Col("开放主题", "wrap", cap=24),
            Col("参加人数", "int"), Col("方案状态", "center", cap=12), Col("方案提交时间", "datetime"),
            Col("方案版本", "center", cap=12), Col("问题", "wrap", cap=36, min=16), Col(REVIEW_COL, "center", cap=10),
            Col(PAPER_COL, "center", cap=8), Col("公告发布截止", "date"), Col("开展情况状态", "center", cap=12),
            Col("开展情况提交时间", "datetime"), Col("反馈截止", "date"), Col(NOTE_COL, "wrap", cap=24, min=16),
            Col("方案截止", "date"), Col("调整截止", "date"), Col("开展情况截止", "date"),
            Col("催报次数", "int"), Col("反馈状态", "center", cap=12), Col("反馈提交时间", "datetime"),
            Col("日期来源", "center", cap=10), Col("联系人", cap=10), Col("电话", cap=16)]
    assert tuple(c.name for c in cols) == OVERVIEW_HEADERS
    t = Table(wb, styles, OVERVIEW, cols, title)
    base_rows = []
    for s in states:
        name = s.unit.name
        dl = s.deadlines

        def hk(col: str, shown: str) -> tuple[str, str]:
            if (name, col) in pending:                 # an edit not read back yet: keep it pending
                return pending[(name, col)]
            return shown, shown

        review, review_base = hk(REVIEW_COL, effective_review(s))
        paper, paper_base = hk(PAPER_COL, hand.get((name, PAPER_COL), ""))
        note, note_base = hk(NOTE_COL, hand.get((name, NOTE_COL), ""))
        base_rows.append([name, review_base, paper_base, note_base])
        problems = "\n".join(f"{i}. {p}" for i, p in enumerate(s.problems, 1)) if len(s.problems) > 1 \
            else (s.problems[0] if s.problems else None)
        t.add([
            name, s.activity_date, s.theme, s.participants,
            V(s.plan_status, fill=_fill(s.plan_status)),
            _local(s.plan.received_at, tz) if s.plan else None,
            _version_text(s.plan, campaign), problems,
            V(review or None, fill="input"), V(paper or None, fill="input"),
            dl.announce_due, V(s.summary_status, fill=_fill(s.summary_status)),
            _local(s.summary.received_at, tz) if s.summary else None,
            dl.feedback_due, V(note or None, fill="input"), dl.plan_due, dl.adjust_cutoff, dl.summary_due,
            s.reminders_sent, V(s.feedback_status, fill=_fill(s.feedback_status)),
            _local(s.feedback.received_at, tz) if s.feedback else None,
            s.activity_source, s.unit.contact or None, s.unit.phone or None])
    n = len(t.rows)
    ws = t.ws
    t.write(freeze="B3")
    # On paper, the office's own columns (SPEC §4, 单位 … 备注); the rest is for the screen.
    ws.print_area = f"A1:{get_column_letter(OVERVIEW_HEADERS.index(NOTE_COL) + 1)}{n + 2}"
    if n:
        last = n + 2
        rcol = get_column_letter(OVERVIEW_HEADERS.index(REVIEW_COL) + 1)
        pcol = get_column_letter(OVERVIEW_HEADERS.index(PAPER_COL) + 1)
        dv = DataValidation(type="list", formula1='"' + ",".join(REVIEW_CHOICES) + '"', allow_blank=True,
                            showErrorMessage=True, errorTitle="审核状态",
                            error="请从下拉列表中选择“已备案”或“退回修改”，或留空。",
                            showInputMessage=True, promptTitle="审核状态",
                            prompt="选“已备案”或“退回修改”（原因写在备注），保存后下次生成时通知单位。")
        dv.add(f"{rcol}3:{rcol}{last}")
        dv2 = DataValidation(type="list", formula1='"' + ",".join(PAPER_CHOICES) + '"', allow_blank=True,
                             showErrorMessage=True, errorTitle="纸质版", error="请选择“已收到”或“未收到”。")
        dv2.add(f"{pcol}3:{pcol}{last}")
        ws.data_validations.append(dv)
        ws.data_validations.append(dv2)
        # The clerk's choice is coloured at once, before mailbot has read it.
        for value, fill in ((d.label, d.fill) for d in DECISIONS):
            bg, fg = FILLS[fill]
            ws.conditional_formatting.add(
                f"{rcol}3:{rcol}{last}",
                CellIsRule(operator="equal", formula=[f'"{value}"'],
                           fill=PatternFill("solid", fgColor=bg, bgColor=bg), font=Font(color=fg)))
    return base_rows


def write_overview_by_kind(wb, styles, title, campaign, states, hand, pending, tz, periods, problems):
    """总览 of a collection without the open day's activity model (年度报告, 月报): per unit each
    kind's status, submission time, version and due date (a recurring kind: its periods so far,
    the latest first), the problems, 催报 sent, and the office's own 纸质版 / 备注 columns (read
    back like the open day's). PERIODS: {(unit, kind): [PeriodState…]} for recurring kinds;
    PROBLEMS: {unit: ["item：text", …]}, the errors of its current submissions."""
    single = [k for k in campaign.kinds.values() if k.every is None and k.has_due]
    recurring = [k for k in campaign.kinds.values() if k.every is not None]
    cols = [Col("单位", cap=30)]
    for k in single:
        cols += [Col(f"{k.label}状态", "center", cap=12), Col(f"{k.label}提交时间", "datetime"),
                 Col(f"{k.label}版本", "center", cap=10), Col(f"{k.label}截止", "date")]
    for k in recurring:
        cols += [Col(f"{k.label}（各期）", "wrap", cap=40, min=20)]
    cols += [Col("问题", "wrap", cap=36, min=16), Col(PAPER_COL, "center", cap=8), Col(NOTE_COL, "wrap", cap=24, min=16),
             Col("催报次数", "int"), Col("联系人", cap=10), Col("电话", cap=16)]
    t = Table(wb, styles, OVERVIEW, cols, title)
    base_rows = []
    for s in states:
        name = s.unit.name

        def hk(col: str, shown: str) -> tuple[str, str]:
            if (name, col) in pending:
                return pending[(name, col)]
            return shown, shown

        paper, paper_base = hk(PAPER_COL, hand.get((name, PAPER_COL), ""))
        note, note_base = hk(NOTE_COL, hand.get((name, NOTE_COL), ""))
        base_rows.append([name, "", paper_base, note_base])
        row: list[Any] = [name]
        for k in single:
            status, sub = s.status_for(k.key), s.submission_for(k.key)
            row += [V(status, fill=_fill(status)), _local(sub.received_at, tz) if sub else None,
                    f"第{sub.version}版" if sub and sub.version else None, s.deadlines.due_for(k.key)]
        for k in recurring:
            lines = [f"{p.due.label}：{p.status}" for p in reversed(periods.get((name, k.key), []))]
            row.append("\n".join(lines) or None)
        row += ["\n".join(problems.get(name, ())) or None, V(paper or None, fill="input"), V(note or None, fill="input"),
                s.reminders_sent, s.unit.contact or None, s.unit.phone or None]
        t.add(row)
    t.write(freeze="B3")
    return base_rows


def write_records(wb, styles, title, messages, attachments, link, campaign, tz):
    cols = [Col("时间", "datetime"), Col("单位", cap=26), Col("类型", "center", cap=8), Col("版本", "int"),
            Col("发件人", cap=30), Col("主题", "wrap", cap=36), Col("文件名", "link", cap=36), Col("大小", "size", cap=12),
            Col("SHA-256", "hash"), Col("结果", "wrap", cap=30), Col("原始邮件", "link", cap=10)]
    t = Table(wb, styles, RECORDS, cols, title)
    by_id = {m.id: m for m in messages}
    for m in messages:
        if m.status in (Status.OWN, Status.RESYNCED):    # our own mail; the same mail again after renumbering
            continue
        when = _local(m.received_at, tz)
        unit = m.unit or None
        kind = _kind_label(campaign, m.kind) or None
        result = _result(m, by_id)
        raw = V("打开", link=link(m.raw_path)) if m.raw_path else None
        head = [when, unit, kind, m.version if m.status == Status.FILED else None, _sender(m), m.subject]
        atts = attachments.get(m.id, ())
        if not atts:
            t.add(head + [None, m.size, m.sha256, result, raw])
            continue
        for a in atts:
            name = a.filename or a.path and Path(a.path).name or "（无名附件）"
            target = link(a.path)
            a_result = result
            if m.status == Status.FILED and m.duplicate_of is None and a.outcome:
                a_result = a.outcome + (f"：{a.reason}" if a.reason else "")
            elif a.reason and m.status == Status.FILED:
                a_result = f"{result}；{a.reason}"
            t.add(head + [V(name, link=target) if target else name, a.size, a.sha256, a_result, raw])
    t.write()


def write_findings(wb, styles, title, rows, current_ids, campaign, tz):
    cols = [Col("单位", cap=26), Col("类型", "center", cap=8), Col("版本", "int"), Col("文件", cap=30),
            Col("严重程度", "center", cap=8), Col("事项", cap=14), Col("说明", "wrap", cap=50), Col("条款", "center", cap=10),
            Col("收到时间", "datetime"), Col("是否当前版本", "center", cap=8)]
    t = Table(wb, styles, FINDINGS, cols, title)
    for r in rows:
        t.add([r.unit or "（待确认）", _kind_label(campaign, r.kind) or None, r.version, r.filename,
               V(r.severity, fill=r.severity.fill), r.item, r.text, r.clause, _local(r.received_at, tz),
               "是" if r.message in current_ids else "否"])
    t.write(freeze="B3")


def write_schedule(wb, styles, title, campaign, roster, states, today, is_workday):
    cols = [Col("日期", "date"), Col("星期", "center", cap=6), Col("工作日", "center", cap=8), Col("通知指定", "wrap", cap=30),
            Col("开展单位", "wrap", cap=50, min=30), Col("单位数", "int"), Col("说明", "wrap", cap=24, min=14)]
    t = Table(wb, styles, SCHEDULE, cols, title)
    by_day: dict[date, list[str]] = defaultdict(list)
    for s in states:
        if s.activity_date is None:
            continue
        label = s.unit.name
        if s.plan is None:
            label += "（未报方案）"
        by_day[s.activity_date].append(label)
    fixed = {d: "、".join(names) for d, names in campaign.fixed_dates}
    days = set()
    d = campaign.window_start
    while d <= campaign.window_end:
        days.add(d)
        d += timedelta(days=1)
    days |= set(by_day) | set(fixed)
    for d in sorted(days):
        try:
            work = bool(is_workday(d))
        except Exception:
            work = d.weekday() < 5
        weekend = d.weekday() >= 5
        kind = ("调休上班" if weekend else "是") if work else ("周末" if weekend else "节假日")
        notes = []
        if d == today:
            notes.append("今天")
        if not (campaign.window_start <= d <= campaign.window_end):
            notes.append("不在活动时间内")
        elif d > campaign.preferred_end:
            notes.append("晚于集中开展期")
        if not work and by_day.get(d):
            notes.append("非工作日开展")
        shade = None if work else "grey"
        units = by_day.get(d, [])
        t.add([V(d, fill=shade, bold=d == today), V(weekday(d), fill=shade),
               V(kind, fill=shade), V(fixed.get(d), fill="blue" if d in fixed else shade),
               V("、".join(units) or None, fill=shade), V(len(units) or None, fill=shade),
               V("；".join(notes) or None, fill="red" if "不在活动时间内" in notes else shade)])
    t.write(filter_=True)


def write_unmatched(wb, styles, title, messages, attachments, link, tz):
    cols = [Col("时间", "datetime"), Col("发件人", cap=34), Col("主题", "wrap", cap=40), Col("附件", "wrap", cap=36),
            Col("原因", "wrap", cap=36), Col("疑似单位", cap=26), Col("原文", "link", cap=12)]
    t = Table(wb, styles, UNMATCHED, cols, title)
    for m in messages:
        if m.status not in NEEDS_LOOK:
            continue
        names = "\n".join(a.filename or "" for a in attachments.get(m.id, ()))
        reason = m.reason or Status(m.status).explanation
        raw = V("打开原邮件", link=link(m.raw_path)) if m.raw_path else None
        t.add([_local(m.received_at, tz), _sender(m), m.subject, names or None, reason,
               m.unit or None, raw])
    t.write()


def write_progress(wb, styles, title, campaign, states, messages, today, tz):
    ws = wb.create_sheet(PROGRESS)
    kinds = [(k, _kind_label(campaign, k)) for k in ("plan", "summary", "feedback") if k in campaign.kinds]
    counts = {k: Counter(s.status_for(k) for s in states) for k, _ in kinds}
    statuses = [st for st in UnitStatus if any(counts[k][st] for k, _ in kinds)]

    # daily arrivals of filed, non-duplicate submissions
    per_day: dict[date, Counter] = defaultdict(Counter)
    first_plan: dict[str, date] = {}
    for m in messages:
        if m.status != Status.FILED or m.duplicate_of is not None or not m.kind:
            continue
        day = _local(m.received_at, tz).date()
        per_day[day][m.kind] += 1
        if m.kind in PLAN_KINDS and m.unit:
            first_plan[m.unit] = min(first_plan.get(m.unit, day), day)
    day_kinds = [k for k in campaign.kind_order if k in campaign.kinds]
    day_kinds.sort(key=lambda k: ("plan", "adjustment", "summary", "feedback").index(k)
                   if k in ("plan", "adjustment", "summary", "feedback") else 9)
    days: list[date] = []
    if per_day:
        start = min(per_day)
        end = max(max(per_day), min(today, start + timedelta(days=400)))
        start = max(start, end - timedelta(days=400))
        d = start
        while d <= end:
            days.append(d)
            d += timedelta(days=1)
    plan_days = sorted(first_plan.values())

    labels = [[lbl for _, lbl in kinds], [_kind_label(campaign, k) for k in day_kinds] + ["累计已报方案单位"]]
    for i in range(1, max(len(x) for x in labels) + 1):
        w = max(display_width(x[i - 1]) for x in labels if i <= len(x))
        ws.column_dimensions[get_column_letter(i + 1)].width = max(10, w + 3)
    ws.column_dimensions["A"].width = 14
    page_setup(ws)
    ws.print_options.gridLines = False
    st = styles

    def cell(v, kind="text", **kw):
        c = WriteOnlyCell(ws, v)
        c._style = StyleArray(st.get(kind, **kw))
        return c

    rows: list[list] = []
    rows.append([cell(safe_text(title)[0], "title", title=True)])
    rows.append([])
    rows.append([cell(f"单位总数：{len(states)}", bold=True)])
    rows.append([cell("状态", header=True, fill="header")] + [cell(lbl, header=True, fill="header") for _, lbl in kinds])
    status_first = len(rows) + 1
    for stt in statuses:
        rows.append([cell(stt, fill=_fill(stt))] + [cell(counts[k][stt], "int") for k, _ in kinds])
    status_last = len(rows)
    rows.append([cell("合计", bold=True)] + [cell(sum(counts[k].values()), "int", bold=True) for k, _ in kinds])
    rows.append([])
    rows.append([cell("每日收到的材料（不含重复发送）", bold=True)])
    rows.append([cell("日期", header=True, fill="header")]
                + [cell(_kind_label(campaign, k), header=True, fill="header") for k in day_kinds]
                + [cell("累计已报方案单位", header=True, fill="header")])
    day_first = len(rows) + 1
    j = 0
    for d in days:
        while j < len(plan_days) and plan_days[j] <= d:
            j += 1
        rows.append([cell(d, "date")] + [cell(per_day[d][k], "int") for k in day_kinds] + [cell(j, "int")])
    day_last = len(rows)
    if not days:
        rows.append([cell("尚未收到材料。")])

    for r in rows:
        ws.append(r)

    anchor_col = get_column_letter(len(day_kinds) + 4)
    if statuses:
        bar = BarChart()
        bar.type = "col"
        bar.grouping = "clustered"
        bar.title = "各类材料状态（单位数）"
        bar.y_axis.title = "单位数"
        data = Reference(ws, min_col=2, max_col=1 + len(kinds), min_row=status_first - 1, max_row=status_last)
        bar.add_data(data, titles_from_data=True)
        bar.set_categories(Reference(ws, min_col=1, min_row=status_first, max_row=status_last))
        bar.x_axis.delete = False
        bar.y_axis.delete = False
        bar.y_axis.majorGridlines = None
        bar.height, bar.width = 8, 18
        ws.add_chart(bar, f"{anchor_col}2")
    if days:
        line = LineChart()
        line.title = "每日收到的材料"
        line.y_axis.title = "件数"
        data = Reference(ws, min_col=2, max_col=1 + len(day_kinds) + 1, min_row=day_first - 1, max_row=day_last)
        line.add_data(data, titles_from_data=True)
        for series in line.series:
            series.smooth = False
        line.set_categories(Reference(ws, min_col=1, min_row=day_first, max_row=day_last))
        line.x_axis.number_format = "m-d"
        line.x_axis.delete = False
        line.y_axis.delete = False
        line.height, line.width = 8, 18
        ws.add_chart(line, f"{anchor_col}20")


def write_base(wb, base_rows):
    ws = wb.create_sheet(BASE)
    ws.sheet_state = "hidden"
    ws.append(["单位", *HAND_COLUMNS, None, "mailbot 用此表识别总览中的手工修改，请勿编辑。"])

    def plain(v: str) -> Any:
        text, risky = safe_text(v or "")
        if not risky:
            return text or None
        c = WriteOnlyCell(ws, text)
        c.data_type = "s"
        return c

    for r in base_rows:
        ws.append([plain(v) for v in r])
