"""The clerk's columns of the tracking workbook read back: 审核状态, 纸质版, 备注.

    values = read_back(path)                          # what the clerk typed (and what we had written)
    changed = keep_hand_columns(ledger, values)       # the edits → ledger.hand_kept

A hidden sheet `_底稿` records what each hand-kept cell showed when the file was written. A cell
that differs from it was edited by the clerk; one that does not is stale (e.g. a decision made on
the command line since) and is never taken as an edit (`clerk_edits`).
"""
from __future__ import annotations

import logging
import unicodedata
import warnings
from datetime import date, datetime
from pathlib import Path
from typing import Any, Sequence

from openpyxl.reader.excel import ExcelReader
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from mailbot.office.workbook_sheets import BASE, HAND_COLUMNS, OVERVIEW, REVIEW_COL
from mailbot.store.ledger import Ledger

log = logging.getLogger(__name__)


class HandValues(dict):
    """read_back's answer: {unit: {"审核状态": …, "纸质版": …, "备注": …}}.

    `written` holds what those cells showed when mailbot wrote the file (None when the file
    has no `_底稿` sheet); `warnings` why nothing could be read."""

    def __init__(self, *args: Any, **kw: Any):
        super().__init__(*args, **kw)
        self.written: dict[str, dict[str, str]] | None = None
        self.warnings: list[str] = []


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


def clerk_edits(values: dict[str, dict[str, str]], ledger_values: dict[tuple[str, str], str]
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


def keep_hand_columns(ledger: Ledger, values: dict[str, dict[str, str]], scope: str = "") -> dict[str, str]:
    """Store the clerk's edits in ledger.hand_kept; return {unit: 审核状态} for units whose
    审核状态 changed against what the ledger had (the caller turns them into decisions).

    Runs in a transaction (joins the caller's, so keep + decide can commit together).
    Reading the same file again reports nothing: the ledger then already holds the values."""
    changed: dict[str, str] = {}
    with ledger.transaction():
        for (unit, col), (typed, _) in clerk_edits(values, ledger.hand_kept(scope)).items():
            ledger.set_hand_kept(unit, col, typed, scope)
            if col == REVIEW_COL:
                changed[unit] = typed
    return changed
