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

The work is split by job: `workbook_sheets` builds each sheet, `workbook_style` says how a cell
looks and how wide a column is, `workbook_readback` reads the clerk's columns back; this module
is the public API (`compile`, `read_back`, `keep_hand_columns`) and the safe save.
"""
from __future__ import annotations

import glob
import logging
import os
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Callable

from openpyxl import Workbook

from mailbot.campaign import Campaign, Roster
from mailbot.config import Config
from mailbot.office.progress import period_states, unit_states
from mailbot.vocab import Severity
from mailbot.office.workbook_readback import HandValues, clerk_edits, keep_hand_columns, read_back
from mailbot.office.workbook_sheets import (REVIEW_COL, Linker, effective_review, write_base, write_findings,
                                            write_overview, write_overview_by_kind, write_progress, write_records,
                                            write_schedule, write_unmatched)
from mailbot.office.workbook_style import Styles
from mailbot.store.fsutil import fsync_file, move_into_place, new_temp
from mailbot.store.ledger import Ledger

log = logging.getLogger(__name__)

__all__ = ["CompileResult", "WorkbookError", "compile", "keep_hand_columns", "read_back"]


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


def _default_is_workday(day: date) -> bool:
    try:
        import chinese_calendar
        return bool(chinese_calendar.is_workday(day))
    except (ImportError, NotImplementedError):
        return day.weekday() < 5


# --- compile -----------------------------------------------------------------------------

def compile(ledger: Ledger, campaign: Campaign, roster: Roster, config: Config, today: date, *,
            path: Path | None = None, is_workday: Callable[[date], bool] | None = None,
            now: datetime | None = None, read_old: bool = True, scope: str = "") -> CompileResult:
    """Regenerate the workbook from the ledger. Read back first (see the module docstring):
    an edit in the old file that was not read back is carried over, never dropped.
    `read_old=False`: the caller has just read the file back into the ledger (jobs.workbook).
    SCOPE: "" for the first configured campaign's workbook (which also lists mail of no campaign,
    待分拣), else the campaign id (its hand-kept columns apart, ledger.hand_kept)."""
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
    hand = ledger.hand_kept(scope)
    pending = {k: v for k, v in clerk_edits(old, hand).items() if roster.by_name(k[0]) is not None}
    pending = {(roster.by_name(u).name, c): v for (u, c), v in pending.items()}
    if pending:
        warnings.append(f"跟踪表中有 {len(pending)} 处手工修改尚未读入台账，已原样保留在新表中，"
                        f"将在下次收信或生成跟踪表时处理。")
    with ledger.transaction():
        for s in states:
            eff = effective_review(s)
            if hand.get((s.unit.name, REVIEW_COL), "") != eff:
                ledger.set_hand_kept(s.unit.name, REVIEW_COL, eff, scope)
                hand[(s.unit.name, REVIEW_COL)] = eff

    messages = ledger.mail_records(campaign.id, unrouted=not scope)
    attachments = ledger.attachments_by_message()
    order = {u.name: i for i, u in enumerate(roster.units)}
    finding_rows = sorted(ledger.workbook_findings(campaign.id), key=lambda r: (order.get(r.unit or "", len(order)), r.unit or "",
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
        styles = Styles(wb)
        link = Linker(Path(config.archive), folder)
        head = f"{campaign.title}跟踪表　{config.office_name}　{stamp}"
        if campaign.has_activity:
            base_rows = write_overview(wb, styles, head, campaign, states, hand, pending, tz)
        else:                          # 年度报告, 月报: a column group per kind, the periods of a return
            periods: dict[tuple[str, str], list] = {}
            for k in campaign.kinds.values():
                if k.every is not None:
                    for p in period_states(ledger, campaign, roster, k.key, today):
                        periods.setdefault((p.unit.name, k.key), []).append(p)
            problems = {s.unit.name: [f"{f.item}：{f.text}" for k in campaign.kinds.values()
                                      if k.every is None and k.has_due and (m := s.submission_for(k.key)) is not None
                                      for f in ledger.findings(m.id) if f.severity == Severity.ERROR]
                        for s in states}
            base_rows = write_overview_by_kind(wb, styles, head, campaign, states, hand, pending, tz, periods,
                                               problems)
        write_records(wb, styles, f"提交记录（每封邮件、每个附件一行，最新在前）　{stamp}", messages, attachments,
                 link, campaign, tz)
        write_findings(wb, styles, f"检查明细（每条检查意见一行）　{stamp}", finding_rows, current_ids, campaign, tz)
        if campaign.has_activity:     # a collection without activities (年度报告, 月报) has no 日程
            write_schedule(wb, styles, f"活动日程（{campaign.window_start:%Y-%m-%d} 至 {campaign.window_end:%Y-%m-%d}）"
                                  f"　{stamp}", campaign, roster, states, today, is_workday)
        write_unmatched(wb, styles, f"未识别或待确认的邮件　{stamp}", messages, attachments, link, tz)
        write_progress(wb, styles, f"{campaign.title}进度　{stamp}", campaign, states, messages, today, tz)
        write_base(wb, base_rows)
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