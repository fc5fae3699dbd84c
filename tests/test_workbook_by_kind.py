"""The workbook of a collection without activities (年度报告, 月报): its 总览 has a column group per
kind — status, when, version, due — and a return's periods; the office's 备注 is read back."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import openpyxl

from mailbot.app import open_app
from mailbot.defaults import init_folder
from mailbot.demo import samples
from mailbot.office.jobs import Jobs
from reportdocs import report_docx

TZ = timezone(timedelta(hours=8))
UNIT, ADDR = "西吉县民政局", "xjmzj@163.com"


def _office(tmp_path, rules: str, mails, today: str):
    init_folder(tmp_path, demo_keys=True)
    cfg = tmp_path / "config.ini"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("rules = open-day-2022.toml", f"rules = {rules}"),
                   encoding="utf-8")
    samples.write_maildir(tmp_path / "var" / "maildir", mails)
    app = open_app(cfg, today)
    return app, Jobs(app)


def _overview(path):
    wb = openpyxl.load_workbook(path)
    rows = [list(r) for r in wb["总览"].iter_rows(values_only=True)]
    head = next(r for r in rows if r and r[0] == "单位")
    return wb, head, {r[0]: dict(zip(head, r)) for r in rows[rows.index(head) + 1:] if r and r[0]}


def test_annual_report_overview_shows_the_report_and_reads_the_note_back(tmp_path):
    when = datetime(2023, 1, 16, 10, tzinfo=TZ)
    b = samples.MailBuilder(from_addr=ADDR, to="xjxzwgkb@163.com", date=when,
                            subject="西吉县民政局2022年政府信息公开工作年度报告")
    b.attach("民政局2022年政府信息公开工作年度报告.docx", report_docx(UNIT, omit_section=5))
    app, jobs = _office(tmp_path, "annual-report-2022.toml", [(when, b.build())], "2023-02-03")
    assert jobs.poll().filed == 1
    result = jobs.workbook(force=True)
    wb, head, rows = _overview(result.path)
    assert {"年度报告状态", "年度报告提交时间", "年度报告版本", "年度报告截止", "备注"} <= set(head)
    assert "方案状态" not in head and "开放主题" not in head
    mine = rows[UNIT]
    assert mine["年度报告状态"] == "需修改" and mine["年度报告版本"] == "第1版"
    assert "五、存在的主要问题及改进情况" in (mine["问题"] or "")
    assert rows["西吉县财政局"]["年度报告状态"] == "逾期未提交"
    # the clerk types a note; the next sync keeps it in the ledger and the next compile shows it
    ws = wb["总览"]
    r = next(i for i, row in enumerate(ws.iter_rows(values_only=True), start=1) if row[0] == UNIT)
    ws.cell(r, head.index("备注") + 1, "已电话提醒补第五部分")
    wb.save(result.path)
    jobs.sync_workbook()
    assert app.ledger.hand_kept()[(UNIT, "备注")] == "已电话提醒补第五部分"
    _wb, _head, rows = _overview(jobs.workbook(force=True).path)
    assert rows[UNIT]["备注"] == "已电话提醒补第五部分"
    app.close()


def test_monthly_return_overview_lists_the_periods(tmp_path):
    when = datetime(2023, 2, 6, 9, tzinfo=TZ)
    b = samples.MailBuilder(from_addr=ADDR, to="xjxzwgkb@163.com", date=when, text="本月无内容报送。",
                            subject="西吉县民政局2023年1月政务公开信息无内容报送")
    app, jobs = _office(tmp_path, "monthly-return-2023.toml", [(when, b.build())], "2023-03-15")
    jobs.poll()
    _wb, head, rows = _overview(jobs.workbook(force=True).path)
    col = next(h for h in head if h and h.endswith("（各期）"))
    assert rows[UNIT][col].splitlines()[-1] == "2023年1月：已提交（无内容）"
    assert "2023年1月：逾期未提交" in rows["西吉县财政局"][col]
    app.close()
