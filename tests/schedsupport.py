"""Test helpers for the schedule side (progress, remind, review, digest, daemon).

`World` is a throw-away office folder: config.ini with the embedded backends, the real
campaign rules and roster copied from the checkout, the real templates, and a fresh ledger.
`World.submit(...)` files a submission the way the pipeline would.
"""
from __future__ import annotations

import shutil
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from mailbot.campaign import load_campaign, load_roster
from mailbot.mailout.compose import Templates
from mailbot.config import load_config
from mailbot.store.ledger import Ledger

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Shanghai")

CONFIG = """\
[imap]
backend = maildir
path = var/maildir

[smtp]
backend = outbox
path = var/outbox
from_address = xjxzwgkb@163.com
from_name = 县政务公开办公室

[office]
name = 县人民政府政务公开办公室
digest_to = xjxzwgkb@163.com, boss@example.cn
timezone = Asia/Shanghai

[paths]
archive = archive
rules = rules
templates = templates
ledger = var/mailbot.sqlite3
workbook = 跟踪表.xlsx
log = var/mailbot.log

[schedule]
poll_minutes = 1
remind_at = 09:00
digest_at = 17:30

[campaign]
rules = open-day-2022.toml
"""


class World:
    def __init__(self, folder: Path, workdays_toml: str | None = None):
        self.folder = Path(folder)
        (self.folder / "rules").mkdir(parents=True, exist_ok=True)
        for name in ("open-day-2022.toml", "units.csv"):
            shutil.copy(ROOT / "rules" / name, self.folder / "rules" / name)
        if workdays_toml is not None:
            (self.folder / "rules" / "workdays.toml").write_text(workdays_toml, encoding="utf-8")
        shutil.copytree(ROOT / "templates", self.folder / "templates", dirs_exist_ok=True)
        (self.folder / "config.ini").write_text(CONFIG, encoding="utf-8")
        self.config = load_config(self.folder / "config.ini")
        self.campaign = load_campaign(self.config.campaign_file)
        self.roster = load_roster(self.config.rules / "units.csv", self.campaign.region)
        self.ledger = Ledger(self.config.ledger)
        self.templates = Templates(self.config.templates)
        self._uid = 0

    def calendar(self):
        from mailbot.office.workcalendar import WorkCalendar
        return WorkCalendar.load(self.config.rules)

    def unit(self, name: str):
        return self.roster.get(name)

    def submit(self, unit: str, kind: str, day: date, *, outcome: str = "待审核",
               facts: dict | None = None, errors: tuple[tuple[str, str], ...] = (),
               duplicate_of: int | None = None, status: str = "filed", hour: int = 10,
               from_addr: str | None = None) -> int:
        """File one mail as the pipeline would; returns the message id."""
        self._uid += 1
        u = self.roster.by_name(unit) if status == "filed" else None
        name = u.name if u else unit
        with self.ledger.transaction():
            version = self.ledger.next_version(name, kind) if status == "filed" else None
            mid = self.ledger.add_message(
                source="test", uidvalidity=1, uid=self._uid,
                received_at=datetime.combine(day, time(hour, 0), TZ), size=1000,
                sha256=f"{self._uid:064x}", message_id=f"<m{self._uid}@test>",
                subject=f"{name}{kind}", from_addr=from_addr or (u.emails[0] if u else "x@qq.com"),
                from_name="", status=status, unit=name if status != "unmatched" else None,
                kind=kind, version=version, duplicate_of=duplicate_of, outcome=outcome,
                facts=facts or {}, problems=[], reason=None if status == "filed" else "测试")
            for item, text in errors:
                self.ledger.add_finding(mid, None, "test", "错误", item, text, "二(五)")
        return mid

    def outgoing(self, purpose: str) -> list:
        return self.ledger.outgoing(purpose)

    def close(self) -> None:
        self.ledger.close()
