"""How the tracking workbook looks: cell text made safe, styles, number formats, column widths,
row heights, page setup, and the streaming table writer every list sheet uses.

Every string that came from mail or documents is written as text, never as a formula or an
error value (a leading = + - @ tab or CR, or an Excel error literal, gets a quote prefix and
the string type); characters XML cannot carry are dropped; 32,767 at most.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter

# --- looks -------------------------------------------------------------------------------

FONT_NAME = "宋体"                 # on every Chinese Windows; WPS's default
FILLS = {  # background, font colour: Excel's own good/bad/neutral palette where it fits
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


class Styles:
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
            colour = FILLS[fill][1] if fill else None
            if title:
                c.font = Font(name=FONT_NAME, size=14, bold=True)
            elif link:
                c.font = Font(name=FONT_NAME, size=11, color="0563C1", underline="single")
            else:
                c.font = Font(name=FONT_NAME, size=11, bold=bold or header, color=colour)
            if fill:
                c.fill = PatternFill("solid", fgColor=FILLS[fill][0])
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


class Table:
    """One sheet: title row, frozen header row, data rows, widths fitted to the text."""

    def __init__(self, wb: Workbook, styles: Styles, name: str, cols: Sequence[Col], title: str):
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
        page_setup(ws)
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


def page_setup(ws) -> None:
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
