"""`mailbot announce`: the kickoff mail with the campaign's wording, the unit's dates, the deadlines
and a 填报表 (.docx) of every item the checks require — queued once per unit (a rerun sends nothing
twice), threaded so replies name the campaign — and the checks accept a filled-in form as complete."""
from __future__ import annotations

import dataclasses
import io
import json
import re
from datetime import date, datetime, timedelta, timezone
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from docx import Document

from mailbot.app import open_app
from mailbot.campaign import CampaignError
from mailbot.cli import main
from mailbot.defaults import init_folder
from mailbot.demo import samples
from mailbot.documents import check, template
from mailbot.mailout.compose import message_id_for
from mailbot.office import announce
from mailbot.office.jobs import Jobs
from mailbot.vocab import Status

TZ = timezone(timedelta(hours=8))
CAMPAIGN = "2022-政府开放日"
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

# what a department writes into the form (realistic, as in published open-day notices)
PLAN_ANSWERS = {
    "报名方式": "线上报名与线下推荐相结合，群众可拨打电话或扫描公告中的二维码报名",
    "参加人数": "30人",
    "开放主题": "走进民政 共享温暖",
    "参加领导": "县民政局党组书记、局长马志军",
    "承办单位": "西吉县民政局社会救助股",
    "时间地点": "2022年9月6日上午9:00，西吉县民政局三楼会议室及县社会福利院",
    "活动内容": "参观社会救助服务大厅，观看低保评审流程，听取养老服务工作介绍",
    "活动形式": "进机关、进现场",
    "联系人员": "李红霞",
    "联系电话": "0954-3012103",
    "温馨提示": "请携带身份证，提前15分钟到场，活动期间请遵守会场秩序",
    "座谈问答或问卷调查": "设座谈问答环节，现场发放满意度问卷调查表",
    "进机关、进现场或进会议": "进机关：参观办公场所；进现场：低保评审现场",
    "活动名称": "西吉县民政局“政府开放日”",
}
SUMMARY_ANSWERS = {
    "活动名称": "西吉县民政局“政府开放日”",
    "开展时间": "2022年9月6日",
    "参加人数": "实际参加群众32人",
    "意见建议征集情况": "共征集意见建议6条，收回问卷30份",
    "反馈采纳情况": "已于9月15日在政府网站公开反馈采纳情况，采纳4条",
}


def _fill(data: bytes, answers: dict[str, str]) -> bytes:
    doc = Document(io.BytesIO(data))
    for row in doc.tables[0].rows[1:]:
        row.cells[1].text = answers[row.cells[0].text]
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# --- the form ----------------------------------------------------------------------------------

def test_the_form_has_a_row_for_every_item_the_checks_require(campaign):
    plan = template.items(campaign, "plan")
    # the notice's announcement items (SPEC §2, 二(五)), then the require_any checks of 二(六), 三(二)
    assert plan[:11] == ("报名方式", "参加人数", "开放主题", "参加领导", "承办单位", "时间地点", "活动内容",
                         "活动形式", "联系人员", "联系电话", "温馨提示")
    assert set(plan[11:]) == {"座谈问答或问卷调查", "进机关、进现场或进会议", "活动名称"}
    assert template.items(campaign, "summary") == ("活动名称", "开展时间", "参加人数", "意见建议征集情况", "反馈采纳情况")
    assert template.form_kinds(campaign) == ("plan", "summary")
    for kind in ("plan", "summary"):
        doc = Document(io.BytesIO(template.form_docx(campaign, kind, "西吉县民政局", mailbox="xjxzwgkb@163.com")))
        label = campaign.kind(kind).label
        assert doc.paragraphs[0].text == f"西吉县民政局{label}填报表"
        [table] = doc.tables
        rows = [[c.text for c in r.cells] for r in table.rows]
        assert rows[0] == list(template.HEADER)
        assert [r[0] for r in rows[1:]] == list(template.items(campaign, kind))
        assert all(r[1] == "" for r in rows[1:])


def test_a_filled_form_passes_the_item_checks_and_a_blank_one_names_every_item(campaign, tmp_path, capsys,
                                                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)            # no config.ini here: `check` uses the shipped campaign
    files = {}
    for kind, answers in (("plan", PLAN_ANSWERS), ("summary", SUMMARY_ANSWERS)):
        blank = template.form_docx(campaign, kind, "西吉县民政局", mailbox="xjxzwgkb@163.com")
        label = campaign.kind(kind).label
        files[f"blank-{kind}"] = tmp_path / f"西吉县民政局{label}填报表.docx"
        files[f"blank-{kind}"].write_bytes(blank)
        files[f"filled-{kind}"] = tmp_path / f"西吉县民政局{label}（已填写）.docx"
        files[f"filled-{kind}"].write_bytes(_fill(blank, answers))
    code = main(["check", "--json", "--unit", "西吉县民政局", "--received", "2022-08-17",
                 *(str(p) for p in files.values())])
    results = {Path(r["file"]).name: r for r in json.loads(capsys.readouterr().out)}
    assert code == 1                                   # the blank forms need fixing
    for kind in ("plan", "summary"):
        blank = results[files[f"blank-{kind}"].name]
        filled = results[files[f"filled-{kind}"].name]
        wanted = set(template.items(campaign, kind))
        assert blank["kind"] == filled["kind"] == kind
        assert {f["item"] for f in blank["findings"]} >= wanted       # every row named as missing
        assert blank["outcome"] == "需修改"
        assert not wanted & {f["item"] for f in filled["findings"]}, filled["findings"]
        assert filled["outcome"] == "待审核"
    facts = results[files["filled-plan"].name]["facts"]
    assert facts["activity_dates"] == ["2022-09-06"] and facts["participants"] == 30
    assert facts["phone"] == "0954-3012103" and facts["contact"] == "李红霞"


@pytest.mark.soffice
def test_a_form_saved_as_doc_reads_the_same(campaign):
    """WPS users often "save as .doc": read back through LibreOffice, the table keeps its rows
    (a table that ends a document, with no paragraph after it, is lost by LibreOffice's .doc)."""
    from mailbot.documents.docread import Converter, read_document
    conv = Converter()
    blank = template.form_docx(campaign, "plan", "西吉县民政局", mailbox="xjxzwgkb@163.com")
    wanted = set(template.items(campaign, "plan"))
    for data, missing in ((blank, wanted), (_fill(blank, PLAN_ANSWERS), set())):
        [doc] = read_document(conv.convert(data, ".docx", "doc"), "西吉县民政局实施方案填报表.doc", converter=conv)
        result = check.check_document(doc, campaign=campaign, roster=None, kind=None, unit="西吉县民政局",
                                      received=date(2022, 8, 17))
        assert {f.item for f in result.findings} & wanted == missing


def test_only_a_forms_empty_rows_are_dropped(campaign):
    header = "\t".join(template.HEADER)
    text = f"西吉县民政局实施方案填报表\n{header}\n报名方式\t\n温馨提示\t请携带身份证\n联系电话\t \n"
    assert template.answers_only(text, campaign) == f"西吉县民政局实施方案填报表\n{header}\n温馨提示\t请携带身份证\n"
    plain = "一、报名方式\t\n二、温馨提示：请携带身份证"            # not a form: unchanged
    assert template.answers_only(plain, campaign) == plain


# --- the mail ----------------------------------------------------------------------------------

@pytest.fixture
def office(tmp_path):
    init_folder(tmp_path, demo_keys=True)
    app = open_app(tmp_path / "config.ini", "2022-08-10")
    yield app
    app.close()


def _outbox(app) -> list[bytes]:
    folder = app.config.base / "var" / "outbox"
    return [p.read_bytes() for p in sorted(folder.glob("*.eml"))] if folder.is_dir() else []


def _parse(raw: bytes):
    return BytesParser(policy=policy.default).parsebytes(raw)


def test_dry_run_lists_recipients_writes_a_sample_and_sends_nothing(office, capsys):
    cfg = str(office.config.path)
    assert main(["--config", cfg, "--today", "2022-08-10", "announce", CAMPAIGN, "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "演练" in printed and f"将发送 {len(office.roster.units)} 个单位" in printed
    for unit in office.roster.units:
        assert unit.name in printed and unit.emails[0] in printed
    assert "09-06（通知指定）" in printed
    assert office.ledger.outgoing() == [] and office.ledger.announcements(CAMPAIGN) == {}
    assert _outbox(office) == []
    sample = office.config.base / "启动通知样稿_2022-政府开放日"
    first = office.roster.units[0].name
    assert sorted(p.name for p in sample.iterdir()) == sorted(
        [f"启动通知_{first}.eml", f"{first}实施方案填报表.docx", f"{first}开展情况填报表.docx"])
    mail = _parse((sample / f"启动通知_{first}.eml").read_bytes())
    assert first in mail["Subject"]
    Document(str(sample / f"{first}实施方案填报表.docx"))           # opens


def test_announce_sends_once_per_unit_with_dates_deadlines_and_forms(office, capsys):
    cfg = str(office.config.path)
    assert main(["--config", cfg, "--today", "2022-08-10", "announce", "open-day-2022"]) == 0
    printed = capsys.readouterr().out
    units = office.roster.units
    assert f"已排队发送启动通知 {len(units)} 封" in printed and f"发出邮件 {len(units)} 封" in printed
    sent = [_parse(raw) for raw in _outbox(office)]
    assert len(sent) == len(units)
    by_unit = {re.search(r"（([^（）]+)）$", m["Subject"]).group(1): m for m in sent}
    assert set(by_unit) == {u.name for u in units}
    assert len({m["Subject"] for m in sent}) == len(units)        # no one subject many times (554 DT:SPM)
    mz = by_unit["西吉县民政局"]
    assert mz["Subject"] == "关于报送2022年度“政府开放日”活动材料的通知（西吉县民政局）"
    assert mz["To"] == "xjmzj@163.com, xjmzj_bgs@126.com"
    assert mz["Auto-Submitted"] == "auto-generated"
    assert mz["Message-ID"] == message_id_for(f"announce:{CAMPAIGN}:西吉县民政局", "163.com")
    body = mz.get_body(("plain",)).get_content()
    assert "你单位活动时间为 2022年9月6日（星期二）" in body and "2022年8月22日前发布" in body
    assert "实施方案：2022年8月26日（星期五）前报送" in body
    assert "开展情况：2022年9月20日（星期二）前报送" in body
    assert "如有调整，须在活动前 3 天报送（即2022年9月3日（星期六）前）" in body
    assert "xjxzwgkb@163.com" in body and "纸质版请报县政务公开办公室" in body
    assert "按照《西吉县2022年度“政府开放日”活动实施方案》要求" in body          # the campaign's own words
    forms = {a.get_filename(): a.get_content() for a in mz.iter_attachments()}
    assert set(forms) == {"西吉县民政局实施方案填报表.docx", "西吉县民政局开展情况填报表.docx"}
    table = Document(io.BytesIO(forms["西吉县民政局实施方案填报表.docx"])).tables[0]
    assert [r.cells[0].text for r in table.rows[1:]] == list(template.items(office.campaign, "plan"))
    # a unit without a fixed date: no date line, the summary's later-activity rule spelled out
    fg = by_unit["西吉县发展和改革局"].get_body(("plain",)).get_content()
    assert "你单位活动时间为" not in fg and "活动在此之后举办的，于活动结束后 15 天内报送" in fg
    recorded = office.ledger.announcements(CAMPAIGN)
    assert set(recorded) == {u.name for u in units} and {a.status for a in recorded.values()} == {"sent"}

    # a rerun: nothing queued, nothing sent
    outgoing = len(office.ledger.outgoing())
    assert main(["--config", cfg, "--today", "2022-08-12", "announce", CAMPAIGN]) == 0
    printed = capsys.readouterr().out
    assert f"已发送过，跳过 {len(units)} 个单位" in printed and "已排队发送启动通知 0 封" in printed
    assert len(office.ledger.outgoing()) == outgoing and len(_outbox(office)) == len(units)


def test_no_campaign_words_in_the_announce_templates():
    for path in TEMPLATES.glob("announce.*.j2"):
        text = path.read_text(encoding="utf-8")
        assert "政府开放日" not in text and "西吉" not in text and "2022" not in text, path.name


def test_a_unit_added_later_gets_the_kickoff_mail_and_no_one_else_again(office):
    jobs = Jobs(office)
    first = jobs.announce(CAMPAIGN)
    assert len(first.queued) == len(office.roster.units)
    roster = office.config.rules / "units.csv"
    with open(roster, "a", encoding="utf-8") as fh:
        fh.write("西吉县档案馆,xjdag@163.com,马丽,0954-3019901,档案馆\n西吉县地震局,,,,\n")
    office.reload_roster()
    again = jobs.announce(CAMPAIGN)
    assert again.queued == ["西吉县档案馆"] and again.no_address == ["西吉县地震局"]
    assert len(again.already) == len(first.queued)
    text = again.text()
    assert "已发送过，跳过" in text and "西吉县地震局" in text and "units.csv" in text
    assert [m.unit for m in office.ledger.outgoing("announce")].count("西吉县民政局") == 1


def test_a_reply_to_the_kickoff_mail_threads_to_the_campaign_and_a_filled_form_is_complete(office):
    jobs = Jobs(office)
    jobs.announce(CAMPAIGN)
    jobs.deliver()
    ours = office.ledger.announcements(CAMPAIGN)["西吉县民政局"].message_id
    blank = template.form_docx(office.campaign, "plan", "西吉县民政局", mailbox="xjxzwgkb@163.com")
    when = datetime(2022, 8, 17, 15, 40, tzinfo=TZ)
    reply = samples.MailBuilder(from_addr="xjmzj@163.com", to="xjxzwgkb@163.com", from_name="李红霞",
                                subject="回复：关于报送2022年度“政府开放日”活动材料的通知（西吉县民政局）",
                                date=when, in_reply_to=ours, references=[ours], client="foxmail")
    reply.attach("西吉县民政局实施方案填报表.docx", _fill(blank, PLAN_ANSWERS))
    samples.write_maildir(office.config.base / "var" / "maildir", [(when, reply.build())])
    office.today = date(2022, 8, 17)
    assert jobs.poll().filed == 1
    [msg] = office.ledger.messages(Status.FILED)
    assert (msg.unit, msg.kind, msg.outcome) == ("西吉县民政局", "plan", "待审核")
    assert not {f.item for f in office.ledger.findings(msg.id)} & set(template.items(office.campaign, "plan"))
    found = office.ledger.announcement_answered([ours, "<other@example.cn>"])
    assert (found.campaign, found.unit, found.status) == (CAMPAIGN, "西吉县民政局", "sent")
    assert office.ledger.announcement_answered(["<other@example.cn>"]) is None


def test_announce_through_an_smtp_server_and_rerun(office, smtp_server):
    """Queued, then sent by deliver within the provider's limits (a quarter hour's budget may hold
    some back until later); a rerun in between queues nothing, so each unit gets one mail."""
    from mailbot.mailout.deliver import deliver
    cfg = office.config.path
    text = cfg.read_text(encoding="utf-8").replace(
        "backend = outbox\npath = var/outbox", f"host = 127.0.0.1\nport = {smtp_server.port}\nsecurity = none\nusername =")
    cfg.write_text(re.sub(r"(?m)^send_per_minute = \d+", "send_per_minute = 100000", text), encoding="utf-8")
    units = office.roster.units
    for rerun in range(2):
        app = open_app(cfg, "2022-08-10")
        report = Jobs(app).announce(CAMPAIGN)
        assert len(report.queued) == (0 if rerun else len(units))
        deliver(app)
        app.close()
    app = open_app(cfg, "2022-08-10")
    later = datetime.now().astimezone()
    while app.ledger.queued_outgoing() and later < datetime.now().astimezone() + timedelta(hours=2):
        later += timedelta(minutes=16)                      # the next quarter hour's budget
        deliver(app, later)
    assert {a.status for a in app.ledger.announcements(CAMPAIGN).values()} == {"sent"}
    app.close()
    assert len(smtp_server.received) == len(units)
    rcpts = sorted(r for got in smtp_server.received for r in got.rcpt_tos)
    assert rcpts == sorted(e for u in units for e in u.emails)
    ids = {_parse(got.raw)["Message-ID"] for got in smtp_server.received}
    assert len(ids) == len(units)


def test_the_campaigns_announce_table_is_checked_and_optional(campaign):
    words = announce.wording(campaign)
    assert words.subject == "关于报送2022年度“政府开放日”活动材料的通知" and len(words.paragraphs) == 3
    bare = dataclasses.replace(campaign, raw={k: v for k, v in campaign.raw.items() if k != "announce"})
    fallback = announce.wording(bare)
    assert fallback.subject == f"关于报送{campaign.title}材料的通知" and campaign.notice in fallback.paragraphs[0]
    assert fallback.forms == ("plan", "summary")
    with pytest.raises(CampaignError, match="subject 应为非空文字"):
        announce.wording(dataclasses.replace(campaign, raw={**campaign.raw, "announce": {"subject": 5}}))
    with pytest.raises(CampaignError, match="forms 中的“adjustment”"):
        announce.wording(dataclasses.replace(campaign, raw={**campaign.raw, "announce": {"forms": ["adjustment"]}}))


def test_cli_announce_names_the_known_campaigns(office, capsys):
    assert main(["--config", str(office.config.path), "announce", "年度报告"]) == 2
    err = capsys.readouterr().err
    assert "没有编号为“年度报告”的活动" in err and "2022-政府开放日" in err
