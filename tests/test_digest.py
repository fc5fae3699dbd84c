"""The daily digest: contents, once a working day, watermark, workbook attached."""
import email
from datetime import date, datetime
from email import policy as email_policy

from schedsupport import TZ

from mailbot.office.digest import build_digest, queue_digest, run_digest

D = date


def fill(w):
    w.submit("民政局", "plan", D(2022, 8, 20), facts={"activity_dates": ["2022-09-06"], "theme": "低保政策",
                                                     "participants": 30})
    w.submit("财政局", "plan", D(2022, 8, 22), outcome="需修改", errors=(("温馨提示", "缺少温馨提示"),))
    w.submit("统计局", "plan", D(2022, 8, 24), outcome="需人工审核")
    w.submit("审计局", "plan", D(2022, 8, 24), status="unconfirmed", from_addr="12345@qq.com")
    w.submit("?", "plan", D(2022, 8, 24), status="unmatched", from_addr="999@qq.com")
    w.ledger.event("poll", "ok", "新处理 5 项")
    w.ledger.event("send", "error", "SMTPAuthenticationError: 535 Login Fail")
    with w.ledger.transaction():
        w.ledger.queue(purpose="ack", dedupe_key="ack:x", message_id="<x@y>", sender="a@b",
                       recipients=["xjczj@163.com"], subject="回执：财政局", raw=b"x")
        w.ledger.db.execute("UPDATE outgoing SET status='failed', last_error='554 DT:SPM' WHERE dedupe_key='ack:x'")


def test_contents(w):
    fill(w)
    d = build_digest(w.ledger, w.config, w.campaign, w.roster, w.calendar(), D(2022, 8, 25),
                     now=datetime(2022, 8, 25, 17, 30, tzinfo=TZ))
    assert d.subject.startswith("每日汇总：")
    t = d.text
    assert "首次汇总" in t and "西吉县财政局 实施方案 第1版" in t and "温馨提示：缺少温馨提示" in t
    assert "待审核方案 2 件" in t and "需人工审阅" in t                      # 民政局 + 统计局(manual)
    assert "实施方案 8月26日（星期五）截止" in t and "尚缺 24 家" in t       # 26 − 民政局 − 统计局(需人工审核); 财政局 需修改 and unconfirmed 审计局 still owe
    assert "西吉县财政局（需修改）" in t
    assert "12345@qq.com" in t and "待确认" in t and "999@qq.com" in t
    assert "554 DT:SPM" in t and "发送失败 1 封" in t
    assert "最近一次成功收信" in t and "535 Login Fail" in t
    assert "四、未来 7 天的活动（0 项）" in t
    assert d.counts["new"] == 3 and d.counts["waiting"] == 1 and d.counts["failed"] == 1
    assert "<table>" in d.html and "西吉县财政局" in d.html
    assert d.attachments == ()


def test_activities_and_overdue(w):
    fill(w)
    t = build_digest(w.ledger, w.config, w.campaign, w.roster, w.calendar(), D(2022, 9, 1)).text
    assert "9月6日（星期二）西吉县民政局“低保政策”，30人；方案待审核" in t
    assert "9月5日（星期一）西吉县农业农村局；方案逾期未提交（日期为通知指定）" in t
    assert "实施方案 8月26日截止，已逾期 4 个工作日，仍缺 24 家：" in t
    assert "西吉县财政局（需修改）、西吉县自然资源局" in t
    t = build_digest(w.ledger, w.config, w.campaign, w.roster, w.calendar(), D(2022, 9, 22)).text
    assert "开展情况 9月20日截止，已逾期 2 个工作日，仍缺 26 家：" in t
    assert "反馈 9月20日截止，已逾期 2 个工作日，仍缺 2 家：\n     西吉县农业农村局、西吉县乡村振兴局" in t


def test_once_per_working_day_with_watermark_and_workbook(w):
    fill(w)
    wb = w.config.workbook
    wb.write_bytes(b"PK\x03\x04 fake xlsx")
    cal = w.calendar()
    assert not queue_digest(w.ledger, w.config, w.campaign, w.roster, cal, D(2022, 9, 10), workbook=wb)  # 中秋
    assert queue_digest(w.ledger, w.config, w.campaign, w.roster, cal, D(2022, 9, 9), workbook=wb)
    assert not queue_digest(w.ledger, w.config, w.campaign, w.roster, cal, D(2022, 9, 9), workbook=wb)
    [row] = w.outgoing("digest")
    msg = email.message_from_bytes(row.raw, policy=email_policy.default)
    assert msg["To"] == "xjxzwgkb@163.com, boss@example.cn"
    assert msg["Auto-Submitted"] == "auto-generated"
    [att] = list(msg.iter_attachments())
    assert att.get_filename() == "跟踪表-2022-09-09.xlsx" and att.get_content() == b"PK\x03\x04 fake xlsx"
    # the next digest only reports what is new since this one
    w.submit("水务局", "plan", D(2022, 9, 12), outcome="需修改")
    d = build_digest(w.ledger, w.config, w.campaign, w.roster, cal, D(2022, 9, 13), workbook=wb)
    assert d.counts["new"] == 1 and "2022年9月9日汇总以来，1 件" in d.text
    assert "上次汇总以来没有错误" in d.text
    assert d.counts["unmatched_new"] == 0 and "累计未识别邮件 1 封" in d.text


def test_dry_run_prints_and_queues_nothing(w):
    ok, text = run_digest(w.ledger, w.config, w.campaign, w.roster, D(2022, 10, 3), dry_run=True)
    assert not ok and "国庆节" in text and "主题：每日汇总：" in text and "尚未生成" in text
    assert w.outgoing("digest") == []
    ok, text = run_digest(w.ledger, w.config, w.campaign, w.roster, D(2022, 10, 3))
    assert not ok and "不是工作日" in text
    ok, text = run_digest(w.ledger, w.config, w.campaign, w.roster, D(2022, 10, 8))
    assert ok and len(w.outgoing("digest")) == 1


def test_coverage_note_for_an_unknown_year(w):
    t = build_digest(w.ledger, w.config, w.campaign, w.roster, w.calendar(), D(2099, 3, 2)).text
    assert "注意：" in t and "2099" in t and "周一至周五" in t



def test_digest_says_when_the_workbook_was_locked(w, tmp_path):
    """workbook.compile wrote a dated copy because Excel/WPS held the file: the digest says so."""
    fill(w)
    copy = tmp_path / "跟踪表-20220825-1730.xlsx"
    copy.write_bytes(b"PK\x03\x04 xlsx")
    d = build_digest(w.ledger, w.config, w.campaign, w.roster, w.calendar(), D(2022, 8, 25), workbook=copy)
    assert "正被 Excel/WPS 打开" in d.text and copy.name in d.text
    w.config.workbook.parent.mkdir(parents=True, exist_ok=True)
    w.config.workbook.write_bytes(b"PK\x03\x04 xlsx")
    d = build_digest(w.ledger, w.config, w.campaign, w.roster, w.calendar(), D(2022, 8, 25),
                     workbook=w.config.workbook)
    assert "正被 Excel/WPS 打开" not in d.text and "附件为截至今日的跟踪表" in d.text


def test_times_are_shown_in_the_office_time_zone(w):
    """Ledger times carry the machine's offset (UTC on a server); the digest shows 北京时间."""
    fill(w)
    with w.ledger.transaction():
        w.ledger.db.execute("INSERT INTO events (at, job, level, text) VALUES "
                            "('2022-08-25T01:05:00+00:00', 'poll', 'ok', '收取新邮件 0 封')")
    t = build_digest(w.ledger, w.config, w.campaign, w.roster, w.calendar(), D(2022, 8, 25)).text
    assert "最近一次成功收信：8月25日 09:05" in t


def test_no_contradiction_when_only_older_unmatched_mail_exists(w):
    w.submit("?", "plan", D(2022, 8, 20), status="unmatched", from_addr="999@qq.com")
    queue_digest(w.ledger, w.config, w.campaign, w.roster, w.calendar(), D(2022, 8, 22))
    t = build_digest(w.ledger, w.config, w.campaign, w.roster, w.calendar(), D(2022, 8, 23)).text
    six = t[t.index("六、"):t.index("七、")]
    assert "累计未识别邮件 1 封" in six and "无。" not in six


def test_a_collection_without_activities_in_the_digest(tmp_path):
    """Three collections configured, two collecting on 2023-01-30 (年度报告 due 1-31, 1月 月报 due
    2-10; the open day ended in October): the digest has those two parts. The report's part says
    how many sent a 年度报告 and lists who has not (not the open day's 方案) and, as the first part,
    carries the mailbox-wide sections; the monthly return's part names its period and does not
    repeat them; no part calls its own workbook a locked copy."""
    from mailbot.app import open_app
    from mailbot.defaults import init_folder
    from mailbot.demo import samples
    from mailbot.office.jobs import Jobs
    from reportdocs import report_docx
    init_folder(tmp_path, demo_keys=True)
    cfg = tmp_path / "config.ini"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        "rules = open-day-2022.toml", "rules = open-day-2022.toml, annual-report-2022.toml, monthly-return-2023.toml"),
        encoding="utf-8")
    when = datetime(2023, 1, 9, 10, tzinfo=TZ)
    samples.write_maildir(tmp_path / "var" / "maildir", [(when, samples.MailBuilder(
        from_addr="xjmzj@163.com", to="xjxzwgkb@163.com", subject="民政局2022年政府信息公开工作年度报告", date=when)
        .attach("民政局年度报告.docx", report_docx("西吉县民政局")).build())])
    app = open_app(cfg, "2023-01-30")
    jobs = Jobs(app)
    jobs.poll()
    assert jobs.queue_digest(D(2023, 1, 30))
    raw = app.ledger.outgoing("digest")[0].raw
    text = email.message_from_bytes(raw, policy=email_policy.default).get_body(("plain",)).get_content()
    report, monthly = ("\n" + text).split("\n━━ ")[1:]
    assert "政府开放日" not in text                                     # not collecting any more
    assert "最近一次成功收信" in report
    assert "年度报告报送：共 26 个单位，已报 1 家；待审核 1；未提交 25。" in report and "方案报送" not in report
    assert "年度报告 1月31日（星期二）截止，还有 1 个工作日，尚缺 25 家" in report
    assert "西吉县民政局" not in report.split("三、未报送")[1].split("四、")[0]
    assert "2023年1月月度信息报送：共 26 个单位，已报 0 家；未提交 26。" in monthly
    assert "运行状态" not in monthly and "尚无成功收信记录" not in monthly and "邮件发送" not in monthly
    assert "正被 Excel/WPS 打开" not in text
    html = email.message_from_bytes(raw, policy=email_policy.default).get_body(("html",)).get_content()
    assert "年度报告报送：共 26 个单位" in html and html.count("运行状态") == 1
    app.close()
