"""`mailbot demo`: a whole campaign run on the embedded backends, no server needed.

It makes a working folder (config.ini, rules/, templates/), then replays the campaign day by
day: each day's department mail lands in a local Maildir, and mailbot polls, acknowledges,
reminds and sends the digest as the daemon would, with --today set to that day.
"""
from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Callable

from mailbot.app import open_app, resolve_today
from mailbot.defaults import init_folder
from mailbot.store.modes import tighten

MARKER = ".mailbot-demo"


def run_demo(folder: Path, today: str | None, say: Callable[[str], None]) -> int:
    from mailbot.demo import samples
    from mailbot.office.jobs import Jobs

    folder = folder.resolve()
    if folder.exists() and any(folder.iterdir()) and not (folder / MARKER).exists():
        say(f"目录 {folder} 已存在且不是演示目录，请用 --dir 指定一个新目录。")
        return 1
    for stale in ("var", "archive"):
        shutil.rmtree(folder / stale, ignore_errors=True)
    init_folder(folder, demo_keys=True)
    (folder / MARKER).write_text("mailbot demo folder\n", encoding="utf-8")
    tighten(folder / MARKER)
    app = open_app(folder / "config.ini", None)
    (folder / "跟踪表.xlsx").unlink(missing_ok=True)
    mails = samples.demo_mailbox(app.campaign, app.roster, app.config.from_address)
    end, _ = resolve_today(today)
    summary_due = app.campaign.kind("summary").due or app.campaign.preferred_end
    end = end or (summary_due + timedelta(days=3))
    start = min(m[0].astimezone(app.config.timezone).date() for m in mails)
    maildir = folder / "var" / "maildir"
    jobs = Jobs(app)
    cal = jobs.calendar()
    say(f"演示：{app.campaign.title}，{start} 至 {end}，共 {len(mails)} 封模拟邮件。")
    day = start
    while day <= end:
        arrived = [m for m in mails if m[0].astimezone(app.config.timezone).date() <= day]
        samples.write_maildir(maildir, arrived)
        app.pretend = True
        done = jobs.day(day)
        if done.poll.fetched or done.reminders or done.delivered.sent:
            say(f"{day}（{'工作日' if cal.is_workday(day) else '休息日'}）：{done.poll.summary()}"
                f"催报 {done.reminders} 封；{'每日汇总 1 封；' if done.digest else ''}{done.delivered.summary()}")
        day += timedelta(days=1)
    wb = jobs.workbook()
    outbox = app.config.smtp.get("path", "var/outbox")
    say("")
    say(f"跟踪表：{wb.path}")
    say(f"归档：  {app.archive.root}")
    say(f"发出的邮件（.eml）：{(folder / outbox).resolve()}")
    say(f"台账：  {app.config.ledger}")
    say(f"查看进度：mailbot --config {folder / 'config.ini'} --today {end} status")
    app.close()
    return 0



