"""Benchmark: compiling the tracking workbook (跟踪表) from a large ledger.

Builds a ledger with N units × 10 submissions each (plans with versions and findings,
an adjustment, summaries, feedback; one attachment per mail), then measures

* ``progress.unit_states`` alone (the ledger read every view shares),
* ``workbook.compile`` (all sheets, styles, validations, charts, links, atomic save),
* a bare openpyxl write-only dump of the same rows (总览, 提交记录, 检查明细; values only),

each as wall seconds (best of --rounds) and peak Python memory (tracemalloc, separate run),
and prints compile / bare dump as ratios.

    python benchmarks/workbook_bench.py [--units 3000] [--per-unit 10] [--rounds 3]
"""
from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from openpyxl import Workbook  # noqa: E402

from mailbot.office import workbook  # noqa: E402
from mailbot.campaign import Roster, Unit, load_campaign  # noqa: E402
from mailbot.config import load_config  # noqa: E402
from mailbot.store.ledger import Ledger  # noqa: E402
from mailbot.office.progress import unit_states  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CST = timezone(timedelta(hours=8))
TODAY = date(2022, 9, 25)
KINDS = ["plan", "plan", "plan", "plan", "adjustment", "adjustment", "summary", "summary", "feedback", "feedback"]
THEMES = ["走进乡村振兴 共享发展成果", "民政为民 开放同行", "健康西吉 你我同行", "项目建设开放日", "阳光财政 透明预算"]
ITEMS = [("温馨提示", "公告缺少“温馨提示”一项。", "二(五)"), ("参加人数", "参加人数少于25人。", "二(五)"),
         ("活动名称", "不得使用“校园开放日”，应为“西吉县××局“政府开放日””。", "三(二)"),
         ("座谈问答", "活动内容应包含座谈问答或问卷调查。", "二(六)")]


def build(root: Path, n_units: int, per_unit: int):
    shutil.copytree(REPO / "rules", root / "rules")
    (root / "config.ini").write_text(
        "[imap]\nbackend = maildir\npath = var/maildir\n[smtp]\nbackend = outbox\npath = var/outbox\n"
        "from_address = office@example.cn\n[paths]\nworkbook = 跟踪表.xlsx\n[campaign]\nrules = open-day-2022.toml\n",
        encoding="utf-8")
    config = load_config(root / "config.ini")
    campaign = load_campaign(config.campaign_file)
    units = [Unit(name=f"西吉县第{i:04d}号测试局", emails=(f"u{i}@example.cn",), contact="张三", phone="0954-3011201")
             for i in range(n_units)]
    roster = Roster(units, region=campaign.region)
    ledger = Ledger(config.ledger)
    uid = 0
    t0 = time.perf_counter()
    with ledger.transaction():
        for i, u in enumerate(units):
            versions: dict[str, int] = {}
            for j in range(per_unit):
                kind = KINDS[j % len(KINDS)]
                versions[kind] = versions.get(kind, 0) + 1
                v = versions[kind]
                uid += 1
                when = datetime(2022, 8, 10, 8, 0, tzinfo=CST) + timedelta(minutes=(i * 37 + j * 1301) % (45 * 1440))
                outcome = "需修改" if kind == "plan" and v < 3 else "待审核"
                folder = f"{campaign.id}/{u.name}/{kind}"
                mid = ledger.add_message(
                    source="maildir", uidvalidity=1, uid=uid, received_at=when, size=40_000 + uid, sha256=f"{uid:064x}",
                    message_id=f"<{uid}@example.cn>", subject=f"{u.name}政府开放日活动{campaign.kind(kind).label}（第{v}版）",
                    from_addr=u.emails[0], from_name=u.contact, status="filed", unit=u.name, kind=kind, version=v,
                    outcome=outcome, raw_path=f"{folder}/{when:%Y-%m-%d}_v{v}_{uid}.eml",
                    facts={"activity_dates": [f"2022-09-{1 + i % 28:02d}"], "theme": THEMES[i % len(THEMES)],
                           "participants": 25 + i % 20})
                aid = ledger.add_attachment(mid, 1, filename=f"{u.name}{campaign.kind(kind).label}v{v}.docx",
                                            content_type="application/vnd.openxmlformats-officedocument."
                                                         "wordprocessingml.document",
                                            size=38_000 + j, sha256=f"{uid:064x}",
                                            path=f"{folder}/{when:%Y-%m-%d}_v{v}_{u.name}.docx",
                                            doc_kind="plan", outcome=outcome)
                if outcome == "需修改":
                    for k in range(1 + (i + j) % 2):
                        item, text, clause = ITEMS[(i + j + k) % len(ITEMS)]
                        ledger.add_finding(mid, aid, f"rule{k}", "错误", item, text, clause)
    build_s = time.perf_counter() - t0
    return config, campaign, roster, ledger, build_s


def bare_rows(ledger: Ledger, states):
    """The same rows compile writes, as plain values: what a bare dump would need."""
    overview = [[s.unit.name, s.activity_date, s.theme, s.participants, s.plan_status,
                 s.plan.received_at.replace(tzinfo=None) if s.plan else None, s.plan.version if s.plan else None,
                 "\n".join(s.problems), None, None, s.deadlines.announce_due, s.summary_status, None,
                 s.deadlines.feedback_due, None, s.deadlines.plan_due, s.deadlines.adjust_cutoff,
                 s.deadlines.summary_due, s.reminders_sent, s.feedback_status, None, s.activity_source,
                 s.unit.contact, s.unit.phone] for s in states]
    atts = {m: files[-1] for m, files in ledger.attachments_by_message().items()}
    records = []
    for m in ledger.messages():
        a = atts.get(m.id)
        records.append([m.received_at.replace(tzinfo=None), m.unit, m.kind, m.version, m.from_addr, m.subject,
                        a.filename if a else None, a.size if a else m.size, a.sha256 if a else m.sha256,
                        m.outcome, m.raw_path])
    findings = [[f.unit, f.kind, f.version, f.filename, f.severity, f.item, f.text, f.clause,
                 f.received_at.replace(tzinfo=None)]
                for f in ledger.workbook_findings()]
    return overview, records, findings


def bare_dump(path: Path, overview, records, findings) -> None:
    wb = Workbook(write_only=True)
    for name, rows in (("总览", overview), ("提交记录", records), ("检查明细", findings)):
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)


def timed(fn, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def peak(fn) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=3000)
    ap.add_argument("--per-unit", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="wbbench-"))
    try:
        config, campaign, roster, ledger, build_s = build(root, args.units, args.per_unit)
        n_msgs = ledger.db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        n_find = ledger.db.execute("SELECT COUNT(*) FROM findings").fetchone()[0]
        print(f"ledger: {args.units} units, {n_msgs} mails, {n_msgs} attachments, {n_find} findings "
              f"(built in {build_s:.1f} s)")

        states = unit_states(ledger, campaign, roster, TODAY)
        rows = bare_rows(ledger, states)
        out = root / "跟踪表.xlsx"
        bare = root / "bare.xlsx"

        t_states = timed(lambda: unit_states(ledger, campaign, roster, TODAY), args.rounds)
        t_rows = timed(lambda: bare_rows(ledger, states), args.rounds)
        t_bare = timed(lambda: bare_dump(bare, *rows), args.rounds)
        t_compile = timed(lambda: workbook.compile(ledger, campaign, roster, config, TODAY, path=out), args.rounds)
        m_bare = peak(lambda: bare_dump(bare, *rows))
        m_bare_all = peak(lambda: bare_dump(bare, *bare_rows(ledger, unit_states(ledger, campaign, roster, TODAY))))
        m_states = peak(lambda: unit_states(ledger, campaign, roster, TODAY))
        m_compile = peak(lambda: workbook.compile(ledger, campaign, roster, config, TODAY, path=out))
        t_read = timed(lambda: workbook.read_back(out), args.rounds)

        print(f"{'':34}{'seconds':>10}{'peak MB':>10}")
        print(f"{'progress.unit_states':34}{t_states:10.2f}{m_states:10.1f}")
        print(f"{'bare: read rows from ledger':34}{t_rows:10.2f}{'':>10}")
        print(f"{'bare: openpyxl write-only dump':34}{t_bare:10.2f}{m_bare:10.1f}")
        print(f"{'bare: states + rows + dump':34}{t_states + t_rows + t_bare:10.2f}{m_bare_all:10.1f}")
        print(f"{'workbook.compile (everything)':34}{t_compile:10.2f}{m_compile:10.1f}")
        print(f"{'workbook.read_back':34}{t_read:10.2f}{'':>10}")
        print(f"ratio compile / bare dump:                  time {t_compile / t_bare:.2f}×")
        print(f"ratio compile / (states + rows + bare dump): time {t_compile / (t_states + t_rows + t_bare):.2f}×, "
              f"memory {m_compile / m_bare_all:.2f}×")
        print(f"file sizes: compiled {out.stat().st_size / 1e6:.1f} MB, bare {bare.stat().st_size / 1e6:.1f} MB")
        ledger.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
