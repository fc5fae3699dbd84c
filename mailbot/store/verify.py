"""`mailbot verify`: the ledger and the archive agree.

Every file the ledger names (each mail's raw .eml, each attachment, a held mail's copies after it
was filed anew) must exist with the sha256 recorded when it arrived; every file in the archive
must be named by the ledger. A resent duplicate names its original's attachment files: a path
is checked once, against every sha256 recorded for it.

What is walked: this campaign's folder under the archive root, and any other top-level folder
a ledger path starts with (another campaign's folder with its own ledger is not ours to judge).
Temp files of an interrupted write (`.part-…`) are listed as leftovers, not problems (the next
write into that folder removes them); Thumbs.db, desktop.ini and .DS_Store, which file managers
drop into folders they show, are ignored.

`quick=True` (doctor): existence, and size where the ledger has it, without reading the files.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from mailbot.store.archive import OS_CLUTTER, TEMP_PREFIX, Archive
from mailbot.store.ledger import Ledger, RecordedFile

MISSING, CHANGED, UNRECORDED = "missing", "changed", "unrecorded"
LABEL = {MISSING: "缺失", CHANGED: "被改动", UNRECORDED: "未登记"}
WHAT = {"raw": "邮件原文", "attachment": "附件", "retired": "待确认时存档的副本"}
EVENT_LINES = 10


@dataclass(frozen=True)
class Problem:
    kind: str                       # missing | changed | unrecorded
    path: str                       # relative to the archive root, as the ledger records it
    messages: tuple[int, ...] = ()  # ledger message ids that name it
    what: str = ""                  # raw | attachment | retired
    expected: str | None = None     # sha256 recorded (changed)
    actual: str | None = None       # sha256 now (changed)

    def line(self) -> str:
        if self.kind == UNRECORDED:
            return f"未登记：{self.path}（台账中没有记录这个文件，不是 mailbot 存档的）"
        ids = "、".join(str(m) for m in self.messages)
        whose = f"编号 {ids} 的邮件的{WHAT.get(self.what, '文件')}"
        if self.kind == MISSING:
            return f"缺失：{self.path}（{whose}）"
        if self.expected is None:
            return f"被改动：{self.path}（{whose}；大小与登记的不同）"
        return f"被改动：{self.path}（{whose}；登记的 sha256 {self.expected[:12]}…，现在是 {(self.actual or '')[:12]}…）"


@dataclass
class Result:
    checked: int                                     # recorded files looked at
    problems: list[Problem] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    quick: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, kind: str) -> int:
        return sum(1 for p in self.problems if p.kind == kind)

    def summary(self) -> str:
        how = "（快速：只查存在和大小）" if self.quick else ""
        if self.ok:
            text = f"档案核对{how}：{self.checked} 个文件全部一致。"
        else:
            parts = [f"{LABEL[k]} {self.count(k)} 个" for k in (MISSING, CHANGED) if self.count(k)]
            text = f"档案核对{how}：{self.checked} 个登记文件中" + ("、".join(parts) or "没有缺失或改动")
            if self.count(UNRECORDED):
                text += f"；另有未登记文件 {self.count(UNRECORDED)} 个"
            text += ("。缺失或被改动的文件请从备份恢复（原邮件仍在邮箱中，可据台账编号找回）；"
                     "未登记的文件不是 mailbot 写入的，请查明来源后移出档案目录。")
        if self.leftovers:
            text += f"另有写入中断留下的临时文件 {len(self.leftovers)} 个（下次写入该目录时自动清除）。"
        return text

    def lines(self) -> list[str]:
        return [p.line() for p in self.problems] + [f"临时文件：{p}" for p in self.leftovers]

    def event_text(self) -> str:
        """The summary and the first problems, for the ledger event the digest shows."""
        lines = [p.line() for p in self.problems[:EVENT_LINES]]
        if len(self.problems) > EVENT_LINES:
            lines.append(f"……另有 {len(self.problems) - EVENT_LINES} 项，运行 mailbot verify 查看全部。")
        return "\n".join([self.summary(), *lines])

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "quick": self.quick,
                "problems": [{"kind": p.kind, "path": p.path, "messages": list(p.messages), "what": p.what or None,
                              "expected_sha256": p.expected, "actual_sha256": p.actual} for p in self.problems],
                "leftovers": self.leftovers, "summary": self.summary()}


def verify(ledger: Ledger, archive: Archive, *, quick: bool = False) -> Result:
    """Compare the ledger's files with the archive folder (read-only)."""
    started = time.monotonic()
    base = archive.base.resolve()
    expected: dict[str, list[RecordedFile]] = {}
    for row in ledger.recorded_files():
        expected.setdefault(row.path, []).append(row)
    sizes = ledger.attachment_sizes()
    result = Result(checked=len(expected), quick=quick)
    for rel, rows in expected.items():
        ids = tuple(sorted({r.message for r in rows}))
        what = rows[0].what
        path = base / rel
        if not _inside(base, path) or not path.is_file():
            result.problems.append(Problem(MISSING, rel, ids, what))
            continue
        if quick:
            if rel in sizes and path.stat().st_size != sizes[rel]:
                result.problems.append(Problem(CHANGED, rel, ids, what))
            continue
        actual = _sha256(path)
        wrong = [r for r in rows if r.sha256 != actual]
        if wrong:
            result.problems.append(Problem(CHANGED, rel, tuple(sorted({r.message for r in wrong})),
                                           wrong[0].what, wrong[0].sha256, actual))
    tops = {PurePosixPath(p).parts[0] for p in expected if PurePosixPath(p).parts} | {archive.root.name}
    for top in sorted(tops):
        for folder, dirs, files in os.walk(base / top):
            dirs.sort()
            for name in sorted(files):
                rel = (Path(folder) / name).relative_to(base).as_posix()
                if name.startswith(TEMP_PREFIX):
                    result.leftovers.append(rel)
                elif rel not in expected and name.casefold() not in OS_CLUTTER:
                    result.problems.append(Problem(UNRECORDED, rel))
    result.seconds = time.monotonic() - started
    return result


def run_verify(ledger: Ledger, archive: Archive, ledger_path: Path | str, *, quick: bool = False) -> Result:
    """verify() while no poll writes (the poll lock), and the result recorded as a ledger event
    (job `verify`; level ok, or warning with the first problems) for the digest."""
    from mailbot.store.locks import job_lock
    with job_lock(ledger_path, "poll"):
        result = verify(ledger, archive, quick=quick)
    ledger.event("verify", "ok" if result.ok else "warning", result.event_text())
    return result


def _inside(base: Path, path: Path) -> bool:
    try:
        return path.resolve().is_relative_to(base)
    except OSError:
        return False


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
