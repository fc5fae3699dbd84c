"""`mailbot export`: what the office hands to the archive room, as one .zip.

For every unit on the roster (and any unit the ledger filed under a name no longer on it), the
latest version of each kind it submitted — its archived files, named `单位_类型_vN.ext` (the raw
mail `.eml` when the submission came without a file) — plus the tracking workbook, compiled fresh
by the caller, and `index.csv` (UTF-8 with BOM, so Excel and WPS open it in Chinese): 单位, 类型,
版本, 收到时间, 审核状态, sha256, 导出文件名, 原文件名. A unit with nothing of a kind that has a due
date is listed as 未报送.

Every file is read back and its sha256 compared with the one the ledger recorded when it arrived.
A file that differs (or is gone) is never put in the zip: its index row says so, and the report
names it, so the archive room never receives an altered file, nor silently misses one.

The zip is written as a private temp file beside its target, fsynced, then renamed over it; names
are UTF-8 with the zip's language-encoding flag (bit 11), which Windows Explorer, WinRAR and 7-Zip
read, so Chinese names survive.
"""
from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from mailbot.campaign import Campaign, Roster
from mailbot.config import Config
from mailbot.store.archive import Archive
from mailbot.store.fsutil import fsync_file, move_into_place, new_temp
from mailbot.store.ledger import AttachmentRecord, Ledger, Message
from mailbot.store.names import MAX_EXT_CHARS, numbered, sanitise
from mailbot.vocab import Status, UnitStatus

INDEX_NAME = "index.csv"
INDEX_HEADER = ("单位", "类型", "版本", "收到时间", "审核状态", "sha256", "导出文件名", "原文件名")
NOT_SUBMITTED = "未报送"
BAD_FILE = "文件与台账记录不符，未导出"
MISSING_FILE = "文件缺失，未导出"


class ExportError(Exception):
    """The export cannot be written where asked; the message is a Chinese sentence."""


@dataclass(frozen=True)
class IndexRow:
    unit: str
    kind: str                # the kind's Chinese label
    version: str
    received: str            # YYYY-MM-DD HH:MM, local time
    status: str              # 待审核 | 需修改 | 已备案 | … | 未报送 | 文件…未导出
    sha256: str
    file: str                # the name in the zip ("" when not exported)
    original: str            # the name the sender gave it

    def cells(self) -> list[str]:
        return [self.unit, self.kind, self.version, self.received, self.status, self.sha256, self.file,
                self.original]


@dataclass
class ExportReport:
    campaign: Campaign
    path: Path
    units: int = 0
    submitted_units: int = 0
    files: int = 0                       # submission files in the zip
    size: int = 0                        # bytes of the zip
    workbook: str | None = None          # its name in the zip
    refused: list[str] = field(default_factory=list)   # Chinese: each file left out and why
    rows: list[IndexRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refused

    def text(self) -> str:
        mb = self.size / (1024 * 1024)
        lines = [f"已导出{self.campaign.title}：{self.units} 个单位（已报送 {self.submitted_units} 个，"
                 f"未报送 {self.units - self.submitted_units} 个），材料文件 {self.files} 个"
                 f"{'，含跟踪表' if self.workbook else ''}，共 {mb:.2f} MB。",
                 f"导出文件：{self.path}"]
        if self.refused:
            lines.append(f"错误：以下 {len(self.refused)} 个文件与台账登记的不符，没有放入导出包（索引中已注明）：")
            lines += [f"  {r}" for r in self.refused]
            lines.append("请运行 mailbot verify 核对归档，从备份恢复这些文件后重新导出。")
        return "\n".join(lines)


def default_name(campaign: Campaign, today: date) -> str:
    return sanitise(f"导出_{campaign.id}_{today.isoformat()}.zip")


def _local(dt: datetime, config: Config) -> datetime:
    return dt.astimezone(config.timezone)


def _ext(name: str) -> str:
    suffix = PurePosixPath(name).suffix
    return suffix.lower() if 1 < len(suffix) <= MAX_EXT_CHARS + 1 and suffix[1:].isalnum() else ""


def _csv_cell(value: str) -> str:
    """Excel runs a cell starting with = + - @ as a formula: such text (a sender's file name) is
    written with a leading apostrophe, which Excel shows as plain text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def index_csv(rows: list[IndexRow]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(INDEX_HEADER)
    for r in rows:
        w.writerow([_csv_cell(c) for c in r.cells()])
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def _zip_time(dt: datetime) -> tuple[int, int, int, int, int, int]:
    dt = max(dt.replace(tzinfo=None), datetime(1980, 1, 1))
    return (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second)


class _Zip:
    """Entries added one by one, each name once (a clash gets `(2)`)."""

    def __init__(self, zf: zipfile.ZipFile):
        self.zf = zf
        self.names: set[str] = set()

    def add(self, name: str, data: bytes, when: datetime) -> str:
        n = 1
        while numbered(name, n).casefold() in self.names:
            n += 1
        name = numbered(name, n)
        self.names.add(name.casefold())
        info = zipfile.ZipInfo(name, date_time=_zip_time(when))   # non-ASCII: UTF-8 and flag bit 11
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        self.zf.writestr(info, data)
        return name


def _read_checked(base: Path, rel: str, sha256: str | None) -> tuple[bytes | None, str | None]:
    """(bytes, None) when the archived file REL is there with its recorded sha256, else (None, why)."""
    path = (base / rel).resolve()
    if base not in path.parents:
        return None, MISSING_FILE
    try:
        data = path.read_bytes()
    except OSError:
        return None, MISSING_FILE
    if sha256 is None or hashlib.sha256(data).hexdigest() != sha256:
        return None, BAD_FILE
    return data, None


def _files_of(msg: Message, attachments: list[AttachmentRecord]) -> list[tuple[str, str, str]]:
    """(archive path, sha256, the sender's name) of a submission: its stored attachments, else its raw mail."""
    stored = [(a.path, a.sha256, a.filename or PurePosixPath(a.path).name) for a in attachments if a.path]
    if stored:
        return stored
    if msg.raw_path and msg.sha256:
        return [(msg.raw_path, msg.sha256, msg.subject or "邮件原文")]
    return []


def _slots(campaign: Campaign, today: date) -> list[tuple[str, Any, str, str]]:
    """(kind key, kind, period key, label) of what each unit owes: a kind once; a recurring
    return once per period ended before TODAY (月度信息（2023年1月）): the month under way has
    no return yet."""
    out: list[tuple[str, Any, str, str]] = []
    for key, kind in campaign.kinds.items():
        if kind.every is None:
            out.append((key, kind, "", kind.label))
        else:
            out += [(key, kind, d.period or "", f"{kind.label}（{d.label}）") for d in campaign.due_for(key, None, today)
                    if d.end is None or d.end < today]
    return out


def export(ledger: Ledger, config: Config, campaign: Campaign, roster: Roster, out: Path, *,
           workbook: Path | None = None, now: datetime | None = None) -> ExportReport:
    """Write the export of CAMPAIGN to OUT (see the module docstring); returns what went in."""
    out = Path(out)
    base = Path(config.archive).resolve()
    target = out.resolve()
    if target == base or base in target.parents:
        raise ExportError(f"导出文件不能放在归档目录 {base} 里（mailbot verify 会把它当作未登记的文件），"
                          "请换一个位置，如 --out D:\\导出\\材料.zip。")
    if not target.parent.is_dir():
        raise ExportError(f"保存导出文件的目录 {target.parent} 不存在，请先建好目录或换一个 --out 位置。")
    now = now or datetime.now(config.timezone)
    folder = Archive(config.archive, campaign.id).root.name

    # the latest version of each (unit, kind) this campaign filed, by roster unit
    latest: dict[tuple[str, str], Message] = {}
    outside: list[str] = []                     # filed under a name no longer on the roster
    for m in ledger.current_submissions():
        if m.status != Status.FILED or not m.kind or not m.raw_path:
            continue
        if PurePosixPath(m.raw_path).parts[0] != folder:
            continue                            # another campaign's mail
        u = roster.by_name(m.unit) if m.unit else None
        name = u.name if u is not None else m.unit
        if u is None and name not in outside:
            outside.append(name)
        # a recurring return: the latest of each period (the one its subject names, else the last
        # month ended before it came), so every month is exported, not only the last one
        due = campaign.period_of(m.kind, m.received_at.date(), m.subject) if m.kind in campaign.kinds else None
        key = (name, m.kind, due.period if due is not None else "")
        best = latest.get(key)
        if best is None or (m.version or 0, m.received_at, m.id) > (best.version or 0, best.received_at, best.id):
            latest[key] = m
    decided: dict[int, str] = {}
    for r in ledger.reviews():                  # oldest first: the last decision on a version wins
        if r.message is not None:
            decided[r.message] = r.decision
    by_message = ledger.attachments_by_message()

    units = [u.name for u in roster.units] + outside
    required = [k for k, kind in campaign.kinds.items() if kind.has_due]   # fixed, per unit, derived or recurring
    report = ExportReport(campaign=campaign, path=target, units=len(units))
    tmp = new_temp(target.parent, suffix=".zip")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            z = _Zip(zf)
            for unit in units:
                submitted = False
                for key, kind, period, what in _slots(campaign, now.date()):
                    m = latest.get((unit, key, period))
                    if m is None:
                        if key in required:
                            report.rows.append(IndexRow(unit, what, "", "", NOT_SUBMITTED, "", "", ""))
                        continue
                    submitted = True
                    received = _local(m.received_at, config)
                    status = decided.get(m.id) or (UnitStatus.of(m.outcome).label if m.outcome else UnitStatus.SUBMITTED)
                    stem = sanitise(f"{unit}_{what}_v{m.version or 1}")
                    for rel, sha, original in _files_of(m, by_message.get(m.id, [])):
                        data, why = _read_checked(base, rel, sha)
                        if data is None:
                            report.refused.append(f"{rel}（{unit} {what} 第{m.version or 1}版：{why}）")
                            report.rows.append(IndexRow(unit, what, str(m.version or 1), f"{received:%Y-%m-%d %H:%M}",
                                                        why or BAD_FILE, sha, "", original))
                            continue
                        name = z.add(stem + _ext(rel), data, received)
                        report.files += 1
                        report.rows.append(IndexRow(unit, what, str(m.version or 1), f"{received:%Y-%m-%d %H:%M}",
                                                    str(status), sha, name, original))
                report.submitted_units += submitted
            if workbook is not None and Path(workbook).is_file():
                report.workbook = z.add(sanitise(Path(workbook).name), Path(workbook).read_bytes(), now)
            z.add(INDEX_NAME, index_csv(report.rows), now)
        fsync_file(tmp)
        move_into_place(tmp, target, replace=True)
    finally:
        tmp.unlink(missing_ok=True)
    report.size = target.stat().st_size
    if report.refused:
        ledger.event("export", "error", f"导出时 {len(report.refused)} 个文件与台账不符，未放入：" + "；".join(report.refused[:5]))
    else:
        ledger.event("export", "ok", f"{campaign.title}：导出材料 {report.files} 个到 {target.name}")
    return report


__all__ = ["ExportError", "ExportReport", "IndexRow", "INDEX_HEADER", "INDEX_NAME", "NOT_SUBMITTED", "default_name",
           "export", "index_csv"]
