"""A year of one office mailbox on real servers: the three shipped collections — the 2022 open
day (rules/open-day-2022.toml), the 2022 年度报告 (annual-report-2022.toml) and the 2023 monthly
return (monthly-return-2023.toml) — configured at once, Dovecot in and aiosmtpd out (loopback),
replayed day by day from 2022-08-15 to 2023-03-03 with `jobs.day` in this process and the
`mailbot` command as a subprocess on the days an office would type it (announce, poll, remind,
assign, export, status).

Each day's mail is delivered to Dovecot with its own arrival time; days with neither a working
day's jobs nor an arrival are skipped (nothing would happen on them), as is the quiet stretch
between the open day's last 催报 (11-03) and the report's first day (12-15). The shipped rules
never have two collections chasing one unit on the same day (the report's last 催报 is 2-07, the
January return's first 2-08): the test checks any such day it meets, and test_remind builds one.

Proves, over the year: every filed mail lands in its own collection's archive folder and is
numbered in its own collection's versions; exactly one 回执 per filed mail, threaded to it (none
while a mail waits 待分拣, one after `mailbot assign`); the 回执 of a report without section 五
names it; a reply to our kickoff mail goes to the kickoff's collection on threading alone; a
"本月无内容报送" mail with no file is that month's return; never more than one 催报 to a unit on
one day, even when the office runs `mailbot remind` by hand after the daemon's round; one
每日汇总 each working day with a part per collection (the report's listing who has not sent it),
none on other days; `mailbot export` lists every unit (未报送 for those that sent nothing) with
each latest file byte-identical and the report's own workbook; `mailbot status` prints a table
per collection, a monthly return's period being collected and the periods still owed.
"""
from __future__ import annotations

import csv
import email
import email.utils
import hashlib
import io
import os
import subprocess
import sys
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email import policy
from pathlib import Path

import docx
import pytest

from mailbot.app import open_app
from mailbot.defaults import init_folder
from mailbot.demo import samples
from mailbot.demo.seeds import CHINA_TZ
from mailbot.mailin.parse import parse_message
from mailbot.office import remind
from mailbot.office.jobs import Jobs
from mailbot.office.progress import period_states
from mailbot.vocab import Status, UnitStatus
from reportdocs import report_docx
from servers import point_config_at, unique_user

OFFICE = "xjxzwgkb@163.com"
PASSWORD = "AuthCode-year-3K"
OPEN_DAY, REPORT, MONTHLY = "2022-政府开放日", "2022-政府信息公开年报", "2023-政务信息月报"
RULES = "open-day-2022.toml, annual-report-2022.toml, monthly-return-2023.toml"
# the open day's first mail to its last 催报 (11-03); the report's first day of collecting
# (accept_from 12-15) to February's monthly returns (their 催报 begin 3-08)
SPANS = ((date(2022, 8, 15), date(2022, 11, 4)), (date(2022, 12, 15), date(2023, 3, 3)))
KICKOFF, UNSORTED_DAY = date(2022, 12, 16), date(2023, 1, 30)

# the open day: ten units' plans, adjustments and summaries from the demo mailbox (no forged,
# unknown or automatic mail: test_e2e_mailbox covers those)
OPEN_DAY_UNITS = ("西吉县农业农村局", "西吉县乡村振兴局", "西吉县民政局", "西吉县医疗保障局", "西吉县教育体育局",
                  "西吉县卫生健康局", "西吉县人力资源和社会保障局", "西吉县发展和改革局", "西吉县交通运输局",
                  "西吉县水务局")
OPEN_DAY_SCENARIOS = ("plan-ok", "plan-needs-fix", "plan-forbidden-name", "plan-late", "resend", "adjustment",
                      "adjustment-late", "summary", "supplement")
LATE_SUMMARY_UNIT = "西吉县乡村振兴局"      # activity 9-05: 开展情况 and 反馈 both due 9-20
DUE_DAY = date(2022, 9, 20)


def _at(d: date, h: int, m: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, h, m, tzinfo=CHINA_TZ)


@dataclass(frozen=True)
class Mail:
    arrival: datetime
    raw: bytes
    tag: str                 # what the test expects of it (e.g. "report-missing-5")
    unit: str | None


def _msgid(raw: bytes) -> str:
    return parse_message(raw).message_id.strip().strip("<>")


def _msg(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


def _to(msg) -> list[str]:
    return [a.lower() for _n, a in email.utils.getaddresses([str(msg["To"] or "")])]


def _body(msg) -> str:
    return msg.get_body(("plain",)).get_content()


def _docx(*paragraphs: str, table: list[list[str]] | None = None) -> bytes:
    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    if table:
        t = d.add_table(rows=len(table), cols=len(table[0]))
        for i, row in enumerate(table):
            for j, v in enumerate(row):
                t.cell(i, j).text = v
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def _without_title(data: bytes, unit: str) -> bytes:
    """The report with its title made 'X局2022年政府信息公开工作情况': no word of any collection
    left in the document (the sections and tables are all there)."""
    d = docx.Document(io.BytesIO(data))
    for p in d.paragraphs:
        if "年度报告" in p.text:
            for r in p.runs[1:]:
                r.text = ""
            p.runs[0].text = f"{unit}2022年政府信息公开工作情况"
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def _monthly_docx(unit: str, month: int) -> bytes:
    return _docx(f"{unit}2023年{month}月政务公开信息报送表",
                 table=[["序号", "信息标题", "公开时间", "公开渠道"],
                        ["1", f"关于2023年{month}月重点工作安排的通知", f"2023年{month}月6日", "县人民政府门户网站"],
                        ["2", "社会救助政策解读", f"2023年{month}月15日", "政务新媒体“西吉发布”"]])


class Year:
    """The office folder, its servers, the mail of the year and what the SMTP server received, by day."""

    def __init__(self, root: Path, dovecot, smtp):
        self.root, self.dovecot, self.smtp = root, dovecot, smtp
        self.user = unique_user("year")
        dovecot.add_user(self.user, PASSWORD)
        init_folder(root, demo_keys=True)
        cfg = point_config_at(root, imap_port=dovecot.port, user=self.user, password_env="MB_YEAR_PW",
                              smtp_port=smtp.port)
        text = cfg.read_text(encoding="utf-8")
        assert "\nrules = open-day-2022.toml\n" in text
        cfg.write_text(text.replace("\nrules = open-day-2022.toml\n", f"\nrules = {RULES}\n"), encoding="utf-8")
        self.config = cfg
        self.sent_on: dict[date, list[bytes]] = defaultdict(list)

    def cli(self, today: date, *args: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, MB_YEAR_PW=PASSWORD)
        env.pop("MAILBOT_CRASH_AT", None)
        before = len(self.smtp.received)
        r = subprocess.run([sys.executable, "-m", "mailbot", "--config", str(self.config), "--today",
                            today.isoformat(), *args], env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
        self.sent_on[today] += [rec.raw for rec in self.smtp.received[before:]]
        return r

    def deliver(self, mail: Mail) -> None:
        self.dovecot.append(self.user, mail.raw, internaldate=mail.arrival)


def _open_day_mails(app) -> list[Mail]:
    demo = samples.demo_mails(app.campaign, app.roster, OFFICE)
    out = [Mail(m.arrival, m.raw, m.scenario, m.unit) for m in demo
           if m.unit in OPEN_DAY_UNITS and m.scenario in OPEN_DAY_SCENARIOS and m.on_roster]
    assert len({m.unit for m in out}) == len(OPEN_DAY_UNITS)
    # the 乡村振兴局 (activity 9-05) sends its 开展情况 on its due day, in the afternoon: after the
    # morning's 催报 for it (开展情况 and 反馈 both due that day, one mail)
    u = app.roster.by_name(LATE_SUMMARY_UNIT)
    arrive = _at(DUE_DAY, 15, 20)
    data = samples.summary_docx(u.name, held=date(2022, 9, 5), participants=28, suggestions=4,
                                feedback="我局已于9月14日在县人民政府门户网站公开反馈意见建议采纳情况。",
                                signed=DUE_DAY, contact=u.contact, phone=u.phone, region=app.campaign.region)
    b = samples.MailBuilder(from_addr=u.emails[0], from_name=u.contact, to=OFFICE, subject="乡村振兴局政府开放日活动开展情况",
                            date=arrive - timedelta(seconds=30), client="foxmail", received_at=arrive,
                            text="县政务公开办：\r\n    现将我局“政府开放日”活动开展情况报送贵办，请审核。\r\n")
    b.attach("乡村振兴局政府开放日活动开展情况.docx", data)
    out.append(Mail(arrive, b.build(), "summary-on-due-day", u.name))
    return sorted(out, key=lambda m: m.arrival)


def _mail(app, unit: str, arrive: datetime, subject: str, files=(), *, text: str = "", reply_to: str | None = None,
          tag: str) -> Mail:
    u = app.roster.by_name(unit)
    b = samples.MailBuilder(from_addr=u.emails[0], from_name=u.contact, to=OFFICE, subject=subject,
                            date=arrive - timedelta(seconds=45), client="163web", received_at=arrive,
                            text=text or f"县政务公开办：\r\n    {subject}，请查收。\r\n{u.name}\r\n",
                            in_reply_to=f"<{reply_to}>" if reply_to else None)
    for name, data in files:
        b.attach(name, data)
    return Mail(arrive, b.build(), tag, u.name)


def _report(unit: str, **kw) -> bytes:
    return report_docx(unit, seed=sum(map(ord, unit)), **kw)


def _sent(raws: list[bytes], prefix: str) -> list[email.message.EmailMessage]:
    return [m for m in map(_msg, raws) if str(m["Subject"]).startswith(prefix)]


@pytest.mark.slow
def test_a_year_of_three_collections_in_one_mailbox(tmp_path, dovecot, smtp_server, monkeypatch):
    y = Year(tmp_path / "office", dovecot, smtp_server)
    monkeypatch.setenv("MB_YEAR_PW", PASSWORD)          # the in-process jobs log in too
    app = open_app(y.config, SPANS[0][0].isoformat())
    app.pretend = True
    assert list(app.campaigns) == [OPEN_DAY, REPORT, MONTHLY]
    titles = {c.id: c.title for c in app.campaigns.values()}
    jobs = Jobs(app)
    cal = jobs.calendar()
    roster = app.roster
    unit_of = {addr: u.name for u in roster.units for addr in u.emails}

    pending = sorted(_open_day_mails(app) + _report_mails(app) + _monthly_mails(app), key=lambda m: m.arrival)
    late: list[Mail] = []          # mail that answers ours: written once ours has arrived (below)
    chasers: dict[tuple[date, str], set[str]] = {}      # (day, unit) → the campaigns with a 催报 step for it
    days = [d for a, b in SPANS for d in (a + timedelta(n) for n in range((b - a).days + 1))]
    for day in days:
        app.today = day
        arrivals = [m for m in pending + late if m.arrival.date() == day]
        if not cal.is_workday(day) and not arrivals:
            continue                                  # nothing would happen
        for m in arrivals:
            if m.arrival.hour < 12:
                y.deliver(m)
        before = len(y.smtp.received)
        if day == KICKOFF:                            # the clerk sends the report's kickoff mail
            assert "26" in y.cli(day, "announce", REPORT).stdout
            assert not jobs.announce(REPORT).queued   # a rerun sends nothing twice
        jobs.day(day)                                 # the daemon's day: poll, 催报, workbooks, 每日汇总, send
        y.sent_on[day] += [rec.raw for rec in y.smtp.received[before:]]
        if _sent(y.sent_on[day], "催报："):           # who else would have chased whom today
            for view in app.each_campaign():
                for r in remind.plan_reminders(app.ledger, view.campaign, roster, cal, day, include_queued=True):
                    chasers.setdefault((day, r.unit.name), set()).add(view.campaign.id)
        afternoon = [m for m in arrivals if m.arrival.hour >= 12]
        for m in afternoon:                           # after the morning's round: polled by hand
            y.deliver(m)
        if afternoon:
            y.cli(day, "poll")
        if day == DUE_DAY:
            # the clerk runs the 催报 by hand after lunch: the 乡村振兴局 had one this morning (开展情况
            # and 反馈 due today, one mail) and has sent its 开展情况 since; no second mail today
            y.cli(day, "remind")
        if day == date(2023, 1, 11):
            # the 医保局 answers our 回执 with its whole report; the 统计局 answers the kickoff mail with a
            # report whose words name no collection; the 财政局 sends such a report with nothing to go by
            ack = next(m for raws in y.sent_on.values() for m in _sent(raws, "回执：")
                       if _to(m) == ["xjybj@163.com"] and "年度报告" in str(m["Subject"]))
            kickoff = next(m for m in y_sent(y, KICKOFF, "关于报送") if _to(m) == ["xjtjj@163.com"])
            late += [
                _mail(app, "西吉县医疗保障局", _at(date(2023, 1, 16), 9), "回复：" + str(ack["Subject"]),
                      [("医保局2022年年报（修改）.docx", _report("西吉县医疗保障局"))],
                      reply_to=str(ack["Message-ID"]).strip("<>"), tag="report-fixed"),
                _mail(app, "西吉县统计局", _at(UNSORTED_DAY, 10), "回复：材料已按要求报送",
                      [("统计局报告.docx", _without_title(_report("西吉县统计局"), "西吉县统计局"))],
                      reply_to=str(kickoff["Message-ID"]).strip("<>"), tag="report-threaded"),
                _mail(app, "西吉县财政局", _at(UNSORTED_DAY, 10, 30), "报送材料",
                      [("材料.docx", _without_title(_report("西吉县财政局"), "西吉县财政局"))], tag="unsorted"),
            ]
        if day == UNSORTED_DAY + timedelta(days=1):
            # the mail with nothing to go by waits, unanswered, naming the two collections open that day
            (held,) = app.ledger.messages(Status.UNSORTED)
            assert held.unit == "西吉县财政局" and not _acks_to(y, held)
            assert titles[REPORT] in held.reason and titles[MONTHLY] in held.reason and titles[OPEN_DAY] not in held.reason
            out = y.cli(day, "assign", str(held.id), "annual-report-2022").stdout
            assert f"已将编号 {held.id} 归入" in out
    last = days[-1]
    export = tmp_path / "年报导出.zip"
    y.cli(last, "export", REPORT, "--out", str(export))
    status = y.cli(last, "status").stdout
    ledger = app.ledger
    sent = {_msgid(m.raw): m for m in pending + late}
    by_tag: dict[str, list[Mail]] = defaultdict(list)
    for m in pending + late:
        by_tag[m.tag].append(m)

    # --- every mail filed in its own collection's archive; versions counted per collection -----
    filed = ledger.messages(Status.FILED, Status.SUPPLEMENT)
    assert {m.message_id.strip("<>") for m in filed} == set(sent)          # all filed, none left held
    for rec in filed:
        tag = sent[rec.message_id.strip("<>")].tag
        want = MONTHLY if tag.startswith("monthly") else REPORT if tag.startswith(("report", "unsorted")) else OPEN_DAY
        assert rec.campaign == want and rec.raw_path.startswith(f"{want}/{rec.unit}/"), (tag, rec.raw_path)
        for a in ledger.attachments(rec.id):
            assert a.path.startswith(f"{want}/{rec.unit}/")
            assert hashlib.sha256((y.root / "archive" / a.path).read_bytes()).hexdigest() == a.sha256
    versions = defaultdict(list)
    for m in sorted(filed, key=lambda m: m.id):
        versions[(m.campaign, m.unit, m.kind)].append((m.version, m.status, m.duplicate_of is not None))
    assert versions[(OPEN_DAY, "西吉县民政局", "plan")] == [(1, Status.FILED, False), (1, Status.FILED, True)]  # resent
    assert versions[(REPORT, "西吉县民政局", "report")] == [(1, Status.FILED, False)]     # its own numbering
    assert versions[(REPORT, "西吉县医疗保障局", "report")] == [(1, Status.FILED, False), (2, Status.FILED, False)]
    assert versions[(OPEN_DAY, "西吉县农业农村局", "summary")] == [(1, Status.FILED, False), (None, Status.SUPPLEMENT, False)]
    threaded, assigned = _record(filed, by_tag["report-threaded"][0]), _record(filed, by_tag["unsorted"][0])
    assert (threaded.campaign, threaded.kind, threaded.version) == (REPORT, "report", 1)     # by threading alone
    assert (assigned.campaign, assigned.kind, assigned.status) == (REPORT, "report", Status.FILED)

    # --- one 回执 per filed mail, to its sender, threaded; the incomplete report's names 五 ------
    acks = [m for raws in y.sent_on.values() for m in _sent(raws, "回执：")]
    assert Counter(str(a["In-Reply-To"]).strip().strip("<>") for a in acks) == \
        Counter({m.message_id.strip("<>"): 1 for m in filed})
    for a in acks:
        assert a["Auto-Submitted"] == "auto-replied" and a["References"]
        mail = sent[str(a["In-Reply-To"]).strip("<>")]
        assert unit_of[_to(a)[0]] == mail.unit
        words_of_other = "年度报告" if not mail.tag.startswith(("report", "unsorted")) else "开放日"
        assert words_of_other not in _body(a), mail.tag            # each collection in its own words
    missing5 = _body(_ack_of(acks, by_tag["report-missing-5"][0]))
    assert "需修改" in missing5 and "【五、存在的主要问题及改进情况】" in missing5
    assert not any(f"【{n}、" in missing5 for n in "一二三四六")
    for m in by_tag["report-ok"] + by_tag["report-fixed"] + by_tag["report-threaded"] + by_tag["unsorted"]:
        assert "待审核" in _body(_ack_of(acks, m)) and "存在的主要问题" not in _body(_ack_of(acks, m)), m.tag
    assert str(_ack_of(acks, by_tag["unsorted"][0])["Message-ID"]) in \
        [str(a["Message-ID"]) for a in y_sent(y, UNSORTED_DAY + timedelta(days=1), "回执：")]    # when assigned

    # --- the monthly return: January's and February's, a return and a "nothing this month" -------
    states = {(p.unit.name, p.due.period): p.status for p in
              period_states(ledger, app.campaigns[MONTHLY], roster, "monthly", last, calendar=cal)}
    assert states[("西吉县财政局", "2023-01")] == states[("西吉县财政局", "2023-02")] == UnitStatus.EMPTY_RETURN
    for period in ("2023-01", "2023-02"):
        assert states[("西吉县民政局", period)].passing and states[("西吉县民政局", period)] != UnitStatus.EMPTY_RETURN
    assert states[("西吉县水务局", "2023-01")] == UnitStatus.OVERDUE

    # --- 催报: never two to one unit on one day ------------------------------------------------
    per_unit_day: Counter = Counter()
    for day, raws in y.sent_on.items():
        for r in _sent(raws, "催报："):
            per_unit_day[(day, unit_of[_to(r)[0]])] += 1
    assert per_unit_day and max(per_unit_day.values()) == 1, [k for k, n in per_unit_day.items() if n > 1]
    assert per_unit_day[(DUE_DAY, LATE_SUMMARY_UNIT)] == 1
    for (day, unit), campaigns in chasers.items():     # (none with the shipped rules: their steps never meet)
        if len(campaigns) > 1:
            assert per_unit_day[(day, unit)] == 1, (day, unit, campaigns)
    def chased(word: str) -> set[str]:
        return {unit_of[_to(r)[0]] for d in days for r in y_sent(y, d, "催报：") if word in str(r["Subject"])}
    reported = {m.unit for m in pending + late if m.tag.startswith(("report", "unsorted"))}
    early = {"西吉县农业农村局", "西吉县民政局", "西吉县医疗保障局", "西吉县教育体育局"}   # before the first 催报 (1-19)
    assert "西吉县水务局" in chased("年度报告") and not chased("年度报告") & early
    assert {"西吉县统计局", "西吉县财政局"} <= chased("年度报告")            # chased until their mail of 1-30
    # January's return: the 民政局 sent it 2-03, the 财政局 its "nothing this month" 2-06, before the first 催报
    assert "西吉县水务局" in chased("月度信息") and not chased("月度信息") & {"西吉县民政局", "西吉县财政局"}

    # --- one 每日汇总 each working day, a part per collection collecting that day ---------------
    from mailbot.office.route import collecting
    for day in days:
        digests = y_sent(y, day, "每日汇总：")
        assert len(digests) == (1 if cal.is_workday(day) else 0), day
        for d in digests:
            text = _body(d)
            shown = [t for t in titles.values() if f"━━ {t} ━━" in text]
            active = [c.title for c in app.campaigns.values() if collecting(c, day)]
            assert shown == (active if len(active) > 1 else []), day     # one collection: no parts
            if len(shown) > 1:
                assert f"（共 {len(shown)} 项收集）" in str(d["Subject"])
            assert "正被 Excel/WPS 打开" not in text and text.count("八、运行状态") == 1
    jan30 = _body(y_sent(y, UNSORTED_DAY, "每日汇总：")[0]).split(f"━━ {titles[REPORT]} ━━")[1].split("━━ ")[0]
    assert "年度报告 1月31日（星期二）截止，还有 1 个工作日，尚缺 21 家" in jan30
    assert "西吉县统计局 年度报告 第1版" in jan30                 # new since yesterday's digest

    # --- the export for the archive room -----------------------------------------------------
    with zipfile.ZipFile(export) as z:
        names = set(z.namelist())
        rows = list(csv.DictReader(io.StringIO(z.read("index.csv").decode("utf-8-sig"))))
        files = {n: z.read(n) for n in names}
    by_unit = defaultdict(list)
    for r in rows:
        by_unit[r["单位"]].append(r)
    assert list(by_unit) == [u.name for u in roster.units]
    for u in roster.units:
        (row,) = by_unit[u.name]
        if u.name not in reported:
            assert (row["审核状态"], row["导出文件名"], row["版本"]) == ("未报送", "", ""), row
            continue
        latest = max((m for m in filed if m.unit == u.name and m.campaign == REPORT and m.version),
                     key=lambda m: m.version)
        assert row["版本"] == str(latest.version) and row["导出文件名"] == f"{u.name}_年度报告_v{latest.version}.docx"
        data = files[row["导出文件名"]]
        assert hashlib.sha256(data).hexdigest() == row["sha256"]
        assert data in [a.data for a in parse_message(sent[latest.message_id.strip("<>")].raw).attachments]
    assert f"跟踪表_{REPORT}.xlsx" in names, [n for n in names if not n.endswith(".docx")]

    # --- `mailbot status`: a table per collection ---------------------------------------------
    for title in titles.values():
        assert title in status
    assert "年度报告状态" in status and "月度信息（当前一期；未报的往期）" in status
    assert "2023年2月 待审核" in _status_line(status, MONTHLY_TITLE, "西吉县民政局")       # sent 3-02, due 3-10
    assert "2023年2月 已提交（无内容）" in _status_line(status, MONTHLY_TITLE, "西吉县财政局")
    assert "2023年2月 未提交；2023年1月 逾期未提交" in _status_line(status, MONTHLY_TITLE, "西吉县水务局")
    app.close()


def _report_mails(app) -> list[Mail]:
    """年度报告 mail after the kickoff (12-16): three complete, one without section 五."""
    def report(unit, day, hour, subject, name, **kw):
        return _mail(app, unit, _at(day, hour), subject, [(name, _report(unit, **kw))],
                     tag="report-missing-5" if kw.get("omit_section") else "report-ok")
    return [
        # in the weeks both the open day and the report collect: the words decide
        report("西吉县农业农村局", date(2022, 12, 20), 10, "农业农村局2022年政府信息公开工作年度报告",
               "农业农村局2022年政府信息公开工作年度报告.docx"),
        report("西吉县民政局", date(2023, 1, 9), 9, "关于报送西吉县民政局2022年政府信息公开工作年度报告的函",
               "西吉县民政局2022年政府信息公开工作年度报告.docx"),
        report("西吉县医疗保障局", date(2023, 1, 10), 16, "医保局2022年政府信息公开工作年度报告", "医保局2022年年报.docx",
               omit_section=5),
        report("西吉县教育体育局", date(2023, 1, 17), 11, "教体局2022年度政府信息公开工作年度报告", "教体局年度报告.docx",
               numbering="（一）"),
    ]


def _monthly_mails(app) -> list[Mail]:
    """January's and February's monthly returns: the 民政局 a table, the 财政局 "本月无内容报送" with no file."""
    return [
        _mail(app, "西吉县民政局", _at(date(2023, 2, 3), 10), "西吉县民政局2023年1月政务公开信息报送",
              [("民政局2023年1月政务公开信息.docx", _monthly_docx("西吉县民政局", 1))], tag="monthly"),
        _mail(app, "西吉县财政局", _at(date(2023, 2, 6), 9), "西吉县财政局2023年1月无内容报送",
              text="县政务公开办：\r\n    我局2023年1月无公开信息，本月无内容报送。\r\n西吉县财政局\r\n", tag="monthly-empty"),
        _mail(app, "西吉县民政局", _at(date(2023, 3, 2), 10), "西吉县民政局2023年2月政务公开信息报送",
              [("民政局2023年2月政务公开信息.docx", _monthly_docx("西吉县民政局", 2))], tag="monthly"),
        _mail(app, "西吉县财政局", _at(date(2023, 3, 3), 9), "西吉县财政局2023年2月份无内容报送",
              text="县政务公开办：\r\n    我局2月份没有需要报送的信息，本月无内容报送。\r\n西吉县财政局\r\n",
              tag="monthly-empty"),
    ]


MONTHLY_TITLE = "2023年政务公开信息月度报送"


def _status_line(status: str, title: str, unit: str) -> str:
    """UNIT's row in the table of the collection TITLE in `mailbot status`'s output."""
    table = status.split(title, 1)[1].split("\n\n", 1)[0]
    return next(line for line in table.splitlines() if line.startswith(unit + " "))


def test_status_shows_the_period_being_collected_and_the_periods_still_owed(tmp_path, capsys):
    """On 3-03 the monthly return being collected is February's (due 3-10), not March's (just
    begun); a unit that never sent January's is shown owing it."""
    from mailbot.cli import main
    init_folder(tmp_path, demo_keys=True)
    cfg = tmp_path / "config.ini"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("\nrules = open-day-2022.toml\n", f"\nrules = {RULES}\n"),
                   encoding="utf-8")
    app = open_app(cfg, "2023-03-03")
    samples.write_maildir(tmp_path / "var" / "maildir", [(m.arrival, m.raw) for m in _monthly_mails(app)])
    Jobs(app).poll()
    app.close()
    assert main(["--config", str(cfg), "--today", "2023-03-03", "status"]) == 0
    out = capsys.readouterr().out
    assert _status_line(out, MONTHLY_TITLE, "西吉县民政局").split()[1:] == ["2023年2月", "待审核"]
    assert "2023年2月 已提交（无内容）" in _status_line(out, MONTHLY_TITLE, "西吉县财政局")
    assert _status_line(out, MONTHLY_TITLE, "西吉县水务局").split(None, 1)[1].strip() == \
        "2023年2月 未提交；2023年1月 逾期未提交"


def y_sent(y: Year, day: date, prefix: str) -> list:
    return _sent(y.sent_on.get(day, []), prefix)


def _acks_to(y: Year, rec) -> list:
    return [m for raws in y.sent_on.values() for m in _sent(raws, "回执：")
            if str(m["In-Reply-To"]).strip("<>") == rec.message_id.strip("<>")]


def _ack_of(acks, mail: Mail):
    mid = _msgid(mail.raw)
    (a,) = [a for a in acks if str(a["In-Reply-To"]).strip().strip("<>") == mid]
    return a


def _record(filed, mail: Mail):
    mid = _msgid(mail.raw)
    (m,) = [m for m in filed if m.message_id.strip("<>") == mid]
    return m
