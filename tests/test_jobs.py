"""jobs.Jobs: the office's jobs in one place, and an idle poll that costs the same whatever the
mailbox size — it neither reads the workbook back nor rewrites it unless something changed."""
from __future__ import annotations

from datetime import date

import openpyxl

from mailbot.demo import samples
from mailbot.office import workbook
from mailbot.app import open_app
from mailbot.defaults import init_folder
from mailbot.office.jobs import Jobs


def _office(tmp_path, today="2022-08-24"):
    init_folder(tmp_path, demo_keys=True)
    app = open_app(tmp_path / "config.ini", today)
    mails = [m for m in samples.demo_mailbox(app.campaign, app.roster, app.config.from_address)
             if m[0].date() <= date(2022, 8, 23)]
    samples.write_maildir(tmp_path / "var" / "maildir", mails)
    return app, Jobs(app)


def test_an_idle_poll_neither_reads_nor_rewrites_the_workbook(tmp_path, monkeypatch):
    app, jobs = _office(tmp_path)
    report = jobs.poll()
    assert report.filed >= 3
    jobs.workbook()
    path = app.config.workbook
    first = path.stat().st_mtime_ns
    reads = []
    real = workbook.read_back
    monkeypatch.setattr(workbook, "read_back", lambda p: reads.append(p) or real(p))
    compiles = []
    real_compile = workbook.compile
    monkeypatch.setattr(workbook, "compile", lambda *a, **k: compiles.append(1) or real_compile(*a, **k))
    for _ in range(3):
        assert jobs.poll().fetched == 0
        jobs.workbook()
    assert reads == [] and compiles == []
    assert path.stat().st_mtime_ns == first
    # a new day: compiled again (deadlines and 逾期 depend on the day), still not read back
    app.today = date(2022, 8, 25)
    jobs.workbook()
    assert compiles == [1] and reads == []
    app.close()


def test_a_clerk_edit_is_read_once_and_decided_once(tmp_path):
    app, jobs = _office(tmp_path)
    jobs.poll()
    path = jobs.workbook().path
    unit = next(s.unit.name for s in __import__("mailbot.office.progress", fromlist=["x"]).unit_states(
        app.ledger, app.campaign, app.roster, app.today) if s.plan is not None)
    wb = openpyxl.load_workbook(path)
    ws = wb["总览"]
    header = next(r for r in range(1, 6) if ws.cell(r, 1).value == "单位")
    col = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1)}
    row = next(r for r in range(header + 1, ws.max_row + 1) if ws.cell(r, col["单位"]).value == unit)
    ws.cell(row, col["审核状态"]).value = "已备案"
    ws.cell(row, col["备注"]).value = "电话确认过"
    wb.save(path)
    gen = app.ledger.generation()
    assert jobs.sync_workbook() == 1                       # read: one decision
    assert app.ledger.generation() > gen
    assert [r.decision for r in app.ledger.reviews(unit)] == ["已备案"]
    assert jobs.sync_workbook() == 0                       # the same file again: not even read
    jobs.workbook()                                        # the ledger changed: compiled, edit kept
    kept = openpyxl.load_workbook(path, read_only=True)["总览"]
    values = [[c.value for c in r] for r in kept.iter_rows()]
    assert any(unit in r and "电话确认过" in r and "已备案" in r for r in values)
    assert [r.decision for r in app.ledger.reviews(unit)] == ["已备案"]
    app.close()


def test_a_deleted_workbook_is_written_again(tmp_path):
    app, jobs = _office(tmp_path)
    jobs.poll()
    path = jobs.workbook().path
    path.unlink()
    jobs.workbook()
    assert path.is_file()
    app.close()


def test_a_day_runs_the_daemons_jobs_in_order(tmp_path):
    app, jobs = _office(tmp_path, "2022-08-23")
    done = jobs.day(date(2022, 8, 23))
    assert done.poll.filed >= 3 and done.digest is True
    purposes = [r.purpose for r in app.ledger.outgoing()]
    assert "ack" in purposes and purposes[-1] == "digest"
    assert all(r.status == "sent" for r in app.ledger.outgoing())
    assert app.config.workbook.is_file()
    app.close()


def test_temp_workbooks_left_by_a_killed_save_are_swept(tmp_path):
    import os
    import time
    app, jobs = _office(tmp_path)
    jobs.poll()
    folder = app.config.workbook.parent
    stale, fresh = folder / ".跟踪表.killed1.tmp", folder / ".跟踪表.running2.tmp"
    for f in (stale, fresh):
        f.write_bytes(b"PK partial")
    old = time.time() - workbook.STALE_TEMP_SECONDS - 60
    os.utime(stale, (old, old))
    jobs.workbook(force=True)
    assert not stale.exists() and fresh.exists()           # another compile may own a fresh one
    app.close()


def test_the_poll_sends_each_batchs_acks_before_it_files_the_next_batch(tmp_path, monkeypatch):
    """回执 go out right after their batch commits, not after the whole mailbox is filed; and
    `deliver` afterwards reports them with what it sent itself."""
    from mailbot.office import pipeline
    init_folder(tmp_path, demo_keys=True)
    app = open_app(tmp_path / "config.ini", "2022-10-31")
    mails = samples.demo_mailbox(app.campaign, app.roster, app.config.from_address)
    samples.write_maildir(tmp_path / "var" / "maildir", mails)
    outbox = tmp_path / "var" / "outbox"
    monkeypatch.setattr(pipeline, "BATCH_MAILS", 4)
    seen: list[int] = []           # acks already in the outbox when each mail began to be filed
    real = pipeline.file_message
    monkeypatch.setattr(pipeline, "file_message",
                        lambda *a, **k: seen.append(len(list(outbox.glob("*.eml")))) or real(*a, **k))
    jobs = Jobs(app)
    report = jobs.poll()
    assert report.fetched == len(mails) > 12 and report.acks_queued >= 8
    assert seen[0] == 0 and seen[4] > 0 and seen[-1] >= report.acks_queued - 4    # batch by batch
    assert seen == sorted(seen)
    sent = jobs.deliver()
    assert sent.sent == report.acks_queued == len(list(outbox.glob("*.eml")))
    assert jobs.deliver().sent == 0                                             # counted once
    app.close()
