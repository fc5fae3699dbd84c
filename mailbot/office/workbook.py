"""The tracking workbook (跟踪表): compiled from the ledger, the clerk's columns read back.

The ledger is the truth; the workbook is a view of it, regenerated in full each time. The
three columns the office fills in by hand — 审核状态, 纸质版, 备注 — travel the other way:

    values = read_back(path)                 # what the clerk typed (and what we had written)
    with ledger.transaction():               # one transaction: a crash loses no decision
        changed = keep_hand_columns(ledger, values)      # → ledger.hand_kept
        review.apply_workbook_decisions(..., changed, ...)   # 审核状态 edits → decisions, once
    compile(ledger, campaign, roster, config, today)     # regenerate from the ledger

Contracts:

* Every string that came from mail or documents is written as text, never as a formula or
  an error value (a leading = + - @ tab or CR, or an Excel error literal, gets a quote
  prefix and the string type); characters XML cannot carry are dropped; 32,767 at most.
* The workbook is written to a temporary file in its folder and moved into place
  (fsutil.move_into_place). When the target is locked (Excel/WPS on Windows holds it open), a dated
  copy `跟踪表-YYYYMMDD-HHMM.xlsx` is written instead and `CompileResult.locked_copy` says so.
* A hidden sheet `_底稿` records what each hand-kept cell showed when the file was written.
  A cell that differs from it was edited by the clerk; one that does not is stale (e.g. a
  decision made on the command line since) and is never taken as an edit. `compile` never
  drops an edit that was not read back yet: it carries it into the new file unconsumed.
* 审核状态 shows the decision in force on the unit's current plan version (from the
  reviews in the ledger): a new version clears it, so the clerk can decide again.
"""
from __future__ import annotations

import glob
import logging
import math
import os
import re
import time
import unicodedata
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Sequence

from openpyxl import Workbook
from openpyxl.reader.excel import ExcelReader
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet.datavalidation import DataValidation

from mailbot.campaign import Campaign, Roster
from mailbot.cndate import weekday
from mailbot.config import Config
from mailbot.store.fsutil import fsync_file, move_into_place, new_temp
from mailbot.store.ledger import Ledger, MailRecord, Message
from mailbot.office.progress import UnitState, unit_states
from mailbot.vocab import DECISIONS, NEEDS_LOOK, PLAN_KINDS, Kind, Status, UnitStatus

log = logging.getLogger(__name__)

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


# --- looks -------------------------------------------------------------------------------

FONT_NAME = "宋体"                 # on every Chinese Windows; WPS's default
_FILLS = {  # background, font colour: Excel's own good/bad/neutral palette where it fits
    "red": ("FFC7CE", "9C0006"),
    "amber": ("FFEB9C", "9C5700"),
    "green": ("C6EFCE", "006100"),
    "orange": ("F8CBAD", "843C0C"),
    "blue": ("DDEBF7", "1F4E78"),
    "grey": ("EDEDED", None),
    "header": ("D9E1F2", None),
    "input": ("FFF9E6", None),      # the columns the clerk fills in
}

PAPER_A4 = "9"
ROW_POINTS = 18         # CJK glyphs need more than the default 15 pt at 11 pt
LINE_POINTS = 14.5
CJK_SLACK = 1.07        # a 宋体 11 pt CJK glyph is ~2.14 Excel width units, not 2
MAX_ROW_LINES = 12      # a longer text is still all there: the clerk can widen the row
DATE_FMT = "yyyy-mm-dd"
DATETIME_FMT = "yyyy-mm-dd hh:mm"
MAX_CELL_CHARS = 32_767
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# direction overrides from a sender would show 报告\u202excod.exe as 报告exe.docx in the cell
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")
_ERROR_LITERALS = frozenset(ERROR_CODES) | {"#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!",
                                            "#BLOCKED!", "#UNKNOWN!", "#CONNECT!", "#BUSY!"}


@dataclass(frozen=True)
class CompileResult:
    path: Path                     # the file written: the workbook, or the dated copy
    locked_copy: bool = False      # True: the workbook was locked, `path` is a dated copy
    warnings: tuple[str, ...] = () # Chinese sentences for the CLI and the digest

    @property
    def path_written(self) -> Path:
        return self.path


class WorkbookError(Exception):
    """The workbook could not be written at all; the message is a Chinese sentence."""


class HandValues(dict):
    """read_back's answer: {unit: {"审核状态": …, "纸质版": …, "备注": …}}.

    `written` holds what those cells showed when mailbot wrote the file (None when the file
    has no `_底稿` sheet); `warnings` why nothing could be read."""

    def __init__(self, *args: Any, **kw: Any):
        super().__init__(*args, **kw)
        self.written: dict[str, dict[str, str]] | None = None
        self.warnings: list[str] = []


# --- text safety -------------------------------------------------------------------------

def safe_text(value: str) -> tuple[str, bool]:
    """(text fit for a cell, whether it must be forced to text with a quote prefix)."""
    if _XML_BAD.search(value):
        value = _XML_BAD.sub("", value)
    if _BIDI.search(value):
        value = _BIDI.sub("", value)
    if len(value) > MAX_CELL_CHARS:
        value = value[:MAX_CELL_CHARS - 1] + "…"
    risky = value.startswith(_FORMULA_LEAD) or value.strip().upper() in _ERROR_LITERALS
    return value, risky


def display_width(text: str) -> int:
    """Width in Excel character units: CJK wide/fullwidth (and ambiguous: full in CJK fonts) = 2."""
    if text.isascii():
        return len(text)
    w = 0
    for ch in text:
        w += 2 if ord(ch) > 0x10FF and unicodedata.east_asian_width(ch) in "WFA" else 1
    return w


# --- reading the clerk's columns back ----------------------------------------------------

def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _norm_choice(value: str) -> str:
    v = unicodedata.normalize("NFKC", value).strip()
    return "" if v in ("空", "无") else v


def _read_table(ws, key: str, wanted: Sequence[str], scan_rows: int = 10) -> dict[str, dict[str, str]] | None:
    """Rows of a sheet by header name: {row[key]: {col: text}}; None when no header row."""
    rows = ws.iter_rows(values_only=True)
    index: dict[str, int] | None = None
    for _, row in zip(range(scan_rows), rows):
        names = [_as_text(v) for v in row]
        if key in names and any(w in names for w in wanted):
            index = {n: i for i, n in enumerate(names) if n}
            break
    if index is None:
        return None
    out: dict[str, dict[str, str]] = {}
    k = index[key]
    for row in rows:
        if k >= len(row):
            continue
        unit = unicodedata.normalize("NFKC", _as_text(row[k]))
        if not unit:
            continue
        vals = {}
        for col in wanted:
            i = index.get(col)
            if i is not None:
                v = _as_text(row[i]) if i < len(row) else ""
                vals[col] = _norm_choice(v) if col == REVIEW_COL else v
        out[unit] = vals
    return out


class _HandReader(ExcelReader):
    """openpyxl's own reader (read_only, data_only), opening only 总览 and _底稿.

    load_workbook would also parse every other sheet's relationships (提交记录 holds two
    hyperlinks per row) and, in files without a <dimension>, every other sheet's rows."""

    def read_worksheets(self):
        for sheet, rel in self.parser.find_sheets():
            if sheet.name in (OVERVIEW, BASE) and rel.target in self.valid_files \
                    and "chartsheet" not in rel.Type:
                ws = ReadOnlyWorksheet(self.wb, sheet.name, rel.target, self.shared_strings)
                ws.sheet_state = sheet.state
                self.wb._sheets.append(ws)


def load_workbook(path: Path):
    reader = _HandReader(path, read_only=True, data_only=True)
    with warnings.catch_warnings():
        # print titles of the sheets not opened; extensions openpyxl does not read (LibreOffice)
        warnings.simplefilter("ignore", UserWarning)
        reader.read()
    return reader.wb


def read_back(path: Path) -> HandValues:
    """The hand-kept columns of the workbook at `path`, by header name.

    Never raises: a missing file gives {} silently; a corrupt, locked or foreign file gives
    {} with a warning (logged and in `.warnings`)."""
    out = HandValues()
    path = Path(path)
    if not path.exists():
        log.info("read_back: no workbook at %s yet", path)
        return out

    def warn(text: str) -> HandValues:
        log.warning("read_back %s: %s", path, text)
        out.clear()
        out.written = None
        out.warnings.append(text)
        return out

    try:
        wb = load_workbook(path)
    except PermissionError:
        return warn(f"跟踪表 {path.name} 被占用，无法读取手工填写的列；请关闭 Excel/WPS 后再试。")
    except Exception as exc:  # zip, XML, openpyxl: a damaged file must not stop the daemon
        return warn(f"跟踪表 {path.name} 无法打开（{type(exc).__name__}），本次未读取手工填写的列。")
    try:
        if OVERVIEW not in wb.sheetnames:
            return warn(f"跟踪表 {path.name} 中没有“{OVERVIEW}”工作表，本次未读取手工填写的列。")
        table = _read_table(wb[OVERVIEW], "单位", HAND_COLUMNS)
        if table is None:
            return warn(f"跟踪表 {path.name} 的“{OVERVIEW}”中找不到表头（单位、审核状态……），本次未读取。")
        out.update(table)
        if BASE in wb.sheetnames:
            out.written = _read_table(wb[BASE], "单位", HAND_COLUMNS)
    except Exception as exc:
        return warn(f"跟踪表 {path.name} 读取出错（{type(exc).__name__}），本次未读取手工填写的列。")
    finally:
        wb.close()
    return out


def _edits(values: dict[str, dict[str, str]], ledger_values: dict[tuple[str, str], str]
           ) -> dict[tuple[str, str], tuple[str, str]]:
    """{(unit, column): (typed, what mailbot had written)} for cells the clerk changed and
    the ledger does not hold yet."""
    written = getattr(values, "written", None)
    out = {}
    for unit, cols in values.items():
        base = written.get(unit) if written is not None else None
        for col in HAND_COLUMNS:
            if col not in cols:
                continue
            typed = cols[col] or ""
            had = ledger_values.get((unit, col), "")
            if base is not None and col in base and typed == base[col]:
                continue                       # untouched since written (maybe stale): not an edit
            if typed == had:
                continue                       # already in the ledger
            out[(unit, col)] = (typed, base[col] if base is not None and col in base else had)
    return out


def keep_hand_columns(ledger: Ledger, values: dict[str, dict[str, str]]) -> dict[str, str]:
    """Store the clerk's edits in ledger.hand_kept; return {unit: 审核状态} for units whose
    审核状态 changed against what the ledger had (the caller turns them into decisions).

    Runs in a transaction (joins the caller's, so keep + decide can commit together).
    Reading the same file again reports nothing: the ledger then already holds the values."""
    changed: dict[str, str] = {}
    with ledger.transaction():
        for (unit, col), (typed, _) in _edits(values, ledger.hand_kept()).items():
            ledger.set_hand_kept(unit, col, typed)
            if col == REVIEW_COL:
                changed[unit] = typed
    return changed


# --- the sheet writer --------------------------------------------------------------------

@dataclass(frozen=True)
class Col:
    name: str
    kind: str = "text"       # text | center | wrap | date | datetime | int | size | link | hash
    cap: int = 30            # widest the column gets (character units)
    min: int = 6


@dataclass
class V:
    """A cell value with extras."""
    value: Any
    fill: str | None = None
    link: str | None = None
    bold: bool = False


class _Owner:
    """The one thing a cell needs of its worksheet to register a style: the workbook."""

    def __init__(self, wb: Workbook):
        self.parent = wb


class _Styles:
    """StyleArrays made once per workbook and shared by every cell that uses them."""

    def __init__(self, wb: Workbook):
        self.owner = _Owner(wb)
        self.cache: dict[tuple, StyleArray] = {}
        side = Side(style="thin", color="A6A6A6")
        self.border = Border(left=side, right=side, top=side, bottom=side)

    def get(self, kind: str, fill: str | None = None, quote: bool = False, link: bool = False,
            bold: bool = False, header: bool = False, title: bool = False) -> StyleArray:
        key = (kind, fill, quote, link, bold, header, title)
        st = self.cache.get(key)
        if st is None:
            c = WriteOnlyCell(self.owner)
            colour = _FILLS[fill][1] if fill else None
            if title:
                c.font = Font(name=FONT_NAME, size=14, bold=True)
            elif link:
                c.font = Font(name=FONT_NAME, size=11, color="0563C1", underline="single")
            else:
                c.font = Font(name=FONT_NAME, size=11, bold=bold or header, color=colour)
            if fill:
                c.fill = PatternFill("solid", fgColor=_FILLS[fill][0])
            if header:
                c.border = self.border
            wrap = header or kind == "wrap"
            centre = header or kind in ("date", "datetime", "int", "center")
            c.alignment = Alignment(vertical="center", wrap_text=wrap, horizontal="center" if centre else None)
            if kind == "date":
                c.number_format = DATE_FMT
            elif kind == "datetime":
                c.number_format = DATETIME_FMT
            elif kind == "size":
                c.number_format = "#,##0"
            if quote:
                c.quotePrefix = True
            st = self.cache[key] = c._style
        return st


class _Table:
    """One sheet: title row, frozen header row, data rows, widths fitted to the text."""

    def __init__(self, wb: Workbook, styles: _Styles, name: str, cols: Sequence[Col], title: str):
        self.ws = wb.create_sheet(name)
        self.styles = styles
        self.cols = list(cols)
        self.title = title
        self.rows: list[list[Any]] = []

    def add(self, row: list[Any]) -> None:
        self.rows.append(row)

    def _cell(self, col: Col, v: Any) -> Any:
        fill = link = None
        bold = False
        if isinstance(v, V):
            fill, link, bold, v = v.fill, v.link, v.bold, v.value
        quote = False
        if isinstance(v, str):
            v, quote = safe_text(str(v))       # str(): a vocab member is written as its plain text
        elif isinstance(v, datetime) and v.tzinfo is not None:
            v = v.replace(tzinfo=None)
        c = WriteOnlyCell(self.ws, v)
        if quote:
            c.data_type = "s"
        c._style = StyleArray(self.styles.get(col.kind, fill, quote, bool(link), bold))
        if link:
            c.hyperlink = link
        return c

    def widths(self) -> list[float]:
        out = []
        for i, col in enumerate(self.cols):
            w = display_width(col.name) + 2       # header + filter button
            if col.kind == "hash":       # the full value is in the cell; its start is enough to see
                out.append(18)
                continue
            elif col.kind == "date":
                w = max(w, 11)
            elif col.kind == "datetime":
                w = max(w, 17)
            else:
                cap = col.cap
                for row in self.rows:
                    if w >= cap:
                        break
                    v = row[i] if i < len(row) else None
                    if isinstance(v, V):
                        v = v.value
                    if v is None:
                        continue
                    s = v if isinstance(v, str) else (f"{v:,}" if col.kind == "size" and isinstance(v, int) else str(v))
                    if len(s) * 2 * CJK_SLACK + 1 <= w:          # cannot be wider: skip the count
                        continue
                    for line in s.split("\n"):
                        w = max(w, math.ceil(display_width(line) * CJK_SLACK) + 1)
            out.append(min(max(w, col.min), max(col.cap, display_width(col.name) + 2)) + 1)
        return out

    def heights(self, widths: list[float]) -> dict[int, float]:
        """Row heights (points) for rows whose wrapped text needs more than one line.

        Excel grows such rows by itself, LibreOffice does not: say it explicitly."""
        wrapped = [(i, widths[i]) for i, c in enumerate(self.cols) if c.kind == "wrap"]
        out = {}
        if not wrapped:
            return out
        for r, row in enumerate(self.rows, 3):
            lines = 1
            for i, w in wrapped:
                v = row[i] if i < len(row) else None
                if isinstance(v, V):
                    v = v.value
                if not isinstance(v, str) or (len(v) * 2 * CJK_SLACK <= w - 2 and "\n" not in v):
                    continue
                usable = max(w - 2, 1)
                n = 0
                for par in v.split("\n"):
                    n += max(1, math.ceil(display_width(par) * CJK_SLACK / usable))
                    if n >= MAX_ROW_LINES:
                        break
                lines = max(lines, n)
            if lines > 1:
                out[r] = min(lines, MAX_ROW_LINES) * LINE_POINTS + 4
        return out

    def write(self, *, freeze: str = "A3", filter_: bool = True) -> None:
        ws, n = self.ws, len(self.cols)
        # Everything above <sheetData> must be set before the first row is streamed.
        widths = self.widths()
        for i, w in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(i)].width = w
        ws.freeze_panes = freeze
        _page_setup(ws)
        ws.row_dimensions[1].height = 26
        ws.row_dimensions[2].height = 32
        for r, h in self.heights(widths).items():
            ws.row_dimensions[r].height = h
        title = WriteOnlyCell(ws, safe_text(self.title)[0])
        title._style = StyleArray(self.styles.get("title", title=True))
        ws.append([title])
        header = []
        for col in self.cols:
            c = WriteOnlyCell(ws, col.name)
            c._style = StyleArray(self.styles.get("text", header=True, fill="header"))
            header.append(c)
        ws.append(header)
        for row in self.rows:
            ws.append([None if v is None else self._cell(col, v) for col, v in zip(self.cols, row)])
        if filter_ and self.rows:
            ws.auto_filter.ref = f"A2:{get_column_letter(n)}{len(self.rows) + 2}"
        ws.print_title_rows = "2:2"
        self.rows = []                      # free them: the sheet is on disk now


def _page_setup(ws) -> None:
    """Landscape A4, fit to the page width, gridlines printed, page numbers in the footer."""
    ws.sheet_format.defaultRowHeight = ROW_POINTS
    ws.sheet_format.customHeight = True
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = PAPER_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_options.gridLines = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top, ws.page_margins.bottom = 0.5, 0.7
    ws.page_margins.header, ws.page_margins.footer = 0.3, 0.3
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


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


class _Linker:
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


def _default_is_workday(day: date) -> bool:
    try:
        import chinese_calendar
        return bool(chinese_calendar.is_workday(day))
    except (ImportError, NotImplementedError):
        return day.weekday() < 5


def _fill(status: UnitStatus) -> str | None:
    return status.fill


def _effective_review(s: UnitState) -> str:
    """The decision in force on the unit's current plan version, else blank."""
    return s.plan_status.label if s.plan_status.decided else ""


# --- the sheets --------------------------------------------------------------------------

def _overview(wb, styles, title, campaign, states, hand, pending, tz):
    cols = [Col("单位", cap=30), Col("活动日期", "date"), Col("开放主题", "wrap", cap=24),
            Col("参加人数", "int"), Col("方案状态", "center", cap=12), Col("方案提交时间", "datetime"),
            Col("方案版本", "center", cap=12), Col("问题", "wrap", cap=36, min=16), Col(REVIEW_COL, "center", cap=10),
            Col(PAPER_COL, "center", cap=8), Col("公告发布截止", "date"), Col("开展情况状态", "center", cap=12),
            Col("开展情况提交时间", "datetime"), Col("反馈截止", "date"), Col(NOTE_COL, "wrap", cap=24, min=16),
            Col("方案截止", "date"), Col("调整截止", "date"), Col("开展情况截止", "date"),
            Col("催报次数", "int"), Col("反馈状态", "center", cap=12), Col("反馈提交时间", "datetime"),
            Col("日期来源", "center", cap=10), Col("联系人", cap=10), Col("电话", cap=16)]
    assert tuple(c.name for c in cols) == OVERVIEW_HEADERS
    t = _Table(wb, styles, OVERVIEW, cols, title)
    base_rows = []
    for s in states:
        name = s.unit.name
        dl = s.deadlines

        def hk(col: str, shown: str) -> tuple[str, str]:
            if (name, col) in pending:                 # an edit not read back yet: keep it pending
                return pending[(name, col)]
            return shown, shown

        review, review_base = hk(REVIEW_COL, _effective_review(s))
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
            bg, fg = _FILLS[fill]
            ws.conditional_formatting.add(
                f"{rcol}3:{rcol}{last}",
                CellIsRule(operator="equal", formula=[f'"{value}"'],
                           fill=PatternFill("solid", fgColor=bg, bgColor=bg), font=Font(color=fg)))
    return base_rows


def _records(wb, styles, title, messages, attachments, link, campaign, tz):
    cols = [Col("时间", "datetime"), Col("单位", cap=26), Col("类型", "center", cap=8), Col("版本", "int"),
            Col("发件人", cap=30), Col("主题", "wrap", cap=36), Col("文件名", "link", cap=36), Col("大小", "size", cap=12),
            Col("SHA-256", "hash"), Col("结果", "wrap", cap=30), Col("原始邮件", "link", cap=10)]
    t = _Table(wb, styles, RECORDS, cols, title)
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


def _findings(wb, styles, title, rows, current_ids, campaign, tz):
    cols = [Col("单位", cap=26), Col("类型", "center", cap=8), Col("版本", "int"), Col("文件", cap=30),
            Col("严重程度", "center", cap=8), Col("事项", cap=14), Col("说明", "wrap", cap=50), Col("条款", "center", cap=10),
            Col("收到时间", "datetime"), Col("是否当前版本", "center", cap=8)]
    t = _Table(wb, styles, FINDINGS, cols, title)
    for r in rows:
        t.add([r.unit or "（待确认）", _kind_label(campaign, r.kind) or None, r.version, r.filename,
               V(r.severity, fill=r.severity.fill), r.item, r.text, r.clause, _local(r.received_at, tz),
               "是" if r.message in current_ids else "否"])
    t.write(freeze="B3")


def _schedule(wb, styles, title, campaign, roster, states, today, is_workday):
    cols = [Col("日期", "date"), Col("星期", "center", cap=6), Col("工作日", "center", cap=8), Col("通知指定", "wrap", cap=30),
            Col("开展单位", "wrap", cap=50, min=30), Col("单位数", "int"), Col("说明", "wrap", cap=24, min=14)]
    t = _Table(wb, styles, SCHEDULE, cols, title)
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


def _unmatched(wb, styles, title, messages, attachments, link, tz):
    cols = [Col("时间", "datetime"), Col("发件人", cap=34), Col("主题", "wrap", cap=40), Col("附件", "wrap", cap=36),
            Col("原因", "wrap", cap=36), Col("疑似单位", cap=26), Col("原文", "link", cap=12)]
    t = _Table(wb, styles, UNMATCHED, cols, title)
    for m in messages:
        if m.status not in NEEDS_LOOK:
            continue
        names = "\n".join(a.filename or "" for a in attachments.get(m.id, ()))
        reason = m.reason or Status(m.status).explanation
        raw = V("打开原邮件", link=link(m.raw_path)) if m.raw_path else None
        t.add([_local(m.received_at, tz), _sender(m), m.subject, names or None, reason,
               m.unit or None, raw])
    t.write()


def _progress(wb, styles, title, campaign, states, messages, today, tz):
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
    _page_setup(ws)
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


def _base(wb, base_rows):
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


# --- compile -----------------------------------------------------------------------------

def compile(ledger: Ledger, campaign: Campaign, roster: Roster, config: Config, today: date, *,
            path: Path | None = None, is_workday: Callable[[date], bool] | None = None,
            now: datetime | None = None, read_old: bool = True) -> CompileResult:
    """Regenerate the workbook from the ledger. Read back first (see the module docstring):
    an edit in the old file that was not read back is carried over, never dropped.
    `read_old=False`: the caller has just read the file back into the ledger (jobs.workbook)."""
    path = Path(path or config.workbook)
    folder = path.parent
    tz = config.timezone
    now = now or datetime.now(tz).replace(tzinfo=None, microsecond=0)
    is_workday = is_workday or _default_is_workday
    warnings: list[str] = []

    old = read_back(path) if read_old else HandValues()
    warnings += old.warnings
    states = unit_states(ledger, campaign, roster, today)

    # 审核状态 in the ledger follows the decision in force on the current plan version.
    hand = ledger.hand_kept()
    pending = {k: v for k, v in _edits(old, hand).items() if roster.by_name(k[0]) is not None}
    pending = {(roster.by_name(u).name, c): v for (u, c), v in pending.items()}
    if pending:
        warnings.append(f"跟踪表中有 {len(pending)} 处手工修改尚未读入台账，已原样保留在新表中，"
                        f"将在下次收信或生成跟踪表时处理。")
    with ledger.transaction():
        for s in states:
            eff = _effective_review(s)
            if hand.get((s.unit.name, REVIEW_COL), "") != eff:
                ledger.set_hand_kept(s.unit.name, REVIEW_COL, eff)
                hand[(s.unit.name, REVIEW_COL)] = eff

    messages = ledger.mail_records()
    attachments = ledger.attachments_by_message()
    order = {u.name: i for i, u in enumerate(roster.units)}
    finding_rows = sorted(ledger.workbook_findings(), key=lambda r: (order.get(r.unit or "", len(order)), r.unit or "",
                                                                     r.kind or "", -(r.version or 0), r.id))
    current_ids = {m.id for s in states for m in (s.plan, s.summary, s.feedback) if m is not None}

    stamp = f"生成时间：{now:%Y-%m-%d %H:%M}"
    if today != now.date():
        stamp += f"（按 {today:%Y-%m-%d} 统计）"

    tmp = _temp_file(path)
    try:
        wb = Workbook(write_only=True)
        wb.properties.title = f"{campaign.title}跟踪表"
        wb.properties.creator = "mailbot"
        styles = _Styles(wb)
        link = _Linker(Path(config.archive), folder)
        base_rows = _overview(wb, styles, f"{campaign.title}跟踪表　{config.office_name}　{stamp}",
                              campaign, states, hand, pending, tz)
        _records(wb, styles, f"提交记录（每封邮件、每个附件一行，最新在前）　{stamp}", messages, attachments,
                 link, campaign, tz)
        _findings(wb, styles, f"检查明细（每条检查意见一行）　{stamp}", finding_rows, current_ids, campaign, tz)
        _schedule(wb, styles, f"活动日程（{campaign.window_start:%Y-%m-%d} 至 {campaign.window_end:%Y-%m-%d}）"
                              f"　{stamp}", campaign, roster, states, today, is_workday)
        _unmatched(wb, styles, f"未识别或待确认的邮件　{stamp}", messages, attachments, link, tz)
        _progress(wb, styles, f"{campaign.title}进度　{stamp}", campaign, states, messages, today, tz)
        _base(wb, base_rows)
        wb.save(tmp)
        fsync_file(tmp)
        return _move_into_place(tmp, path, now, warnings)
    finally:
        if os.path.exists(tmp):
            try:
                os.unlink(tmp)
            except OSError:
                pass


STALE_TEMP_SECONDS = 3600   # a temp workbook this old was left by a killed process


def _temp_file(path: Path) -> str:
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _sweep_stale_temps(folder, path.stem)
        return str(new_temp(folder, prefix=f".{path.stem}.", suffix=".tmp"))
    except OSError as exc:
        raise WorkbookError(f"无法在 {folder} 中写入跟踪表：{exc.strerror or exc}。"
                            f"请检查 config.ini [paths] workbook 所在目录的权限。") from None


def _sweep_stale_temps(folder: Path, stem: str) -> None:
    """Temp workbooks left by a process killed mid-save (visible clutter on an office PC). Only old
    ones: a compile running in another process right now has a fresh one."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    for old in folder.glob(f".{glob.escape(stem)}.*.tmp"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass


def _move_into_place(tmp: str, path: Path, now: datetime, warnings: list[str]) -> CompileResult:
    """Replace the workbook; when Excel/WPS holds it (PermissionError), a dated copy."""
    try:
        move_into_place(tmp, path)
        return CompileResult(path=path, warnings=tuple(warnings))
    except PermissionError:
        pass
    for n in range(100):
        copy = path.with_name(f"{path.stem}-{now:%Y%m%d-%H%M}{f'-{n}' if n else ''}{path.suffix}")
        try:
            move_into_place(tmp, copy)
        except PermissionError:
            continue
        warnings.append(f"跟踪表 {path.name} 正被 Excel/WPS 打开，无法更新；本次另存为 {copy.name}。"
                        f"关闭 {path.name} 后，下次生成会更新原文件。")
        log.warning("workbook %s is locked; wrote %s", path, copy)
        return CompileResult(path=copy, locked_copy=True, warnings=tuple(warnings))
    raise WorkbookError(f"跟踪表 {path.name} 及其带日期的副本都无法写入，请检查文件是否被占用。")
