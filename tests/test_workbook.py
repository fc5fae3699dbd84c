"""The tracking workbook: compiled from a ledger, read back, hand-kept columns kept.

GIVEN a ledger filled the way the pipeline fills it (realistic Xiji County departments),
WHEN the workbook is compiled, edited by the clerk (openpyxl, LibreOffice) and read back,
THEN the layout, the safety of untrusted text and the hand-kept columns hold.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import unquote

import needs
import openpyxl
import pytest

from mailbot.office import workbook, workbook_readback
from mailbot.campaign import load_campaign, load_roster
from mailbot.config import load_config
from mailbot.store.ledger import Ledger
from mailbot.office.workbook import compile, keep_hand_columns, read_back
from mailbot.office.workbook_sheets import (BASE, FINDINGS, OVERVIEW, OVERVIEW_HEADERS, PROGRESS, RECORDS,
                                            SCHEDULE, UNMATCHED)
from mailbot.office.workbook_style import display_width, safe_text

REPO = Path(__file__).resolve().parents[1]
CST = timezone(timedelta(hours=8))
TODAY = date(2022, 8, 30)          # after the plan deadline (8-26): some units are 逾期未提交
NOW = datetime(2022, 8, 30, 17, 30)

EVIL_SUBJECT = '=HYPERLINK("http://x","点我")'
EVIL_FILE = "@SUM(A1).docx"


# --- fixtures -------------------------------------------------------------------------------

class Office:
    """A working folder: config.ini, rules/, archive/, a ledger, loaded campaign and roster."""

    def __init__(self, root: Path):
        self.root = root
        shutil.copytree(REPO / "rules", root / "rules")
        (root / "config.ini").write_text(
            "[imap]\nbackend = maildir\npath = var/maildir\n"
            "[smtp]\nbackend = outbox\npath = var/outbox\nfrom_address = xjxzwgkb@163.com\n"
            "[office]\nname = 县人民政府政务公开办公室\n"
            "[paths]\nworkbook = 跟踪表.xlsx\n"
            "[campaign]\nrules = open-day-2022.toml\n", encoding="utf-8")
        self.config = load_config(root / "config.ini")
        self.campaign = load_campaign(self.config.campaign_file)
        self.roster = load_roster(self.config.rules / "units.csv", self.campaign.region)
        self.ledger = Ledger(self.config.ledger)
        self.uid = 0

    @property
    def path(self) -> Path:
        return self.config.workbook

    def store(self, rel: str, data: bytes) -> str:
        p = self.config.archive / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        return rel

    def mail(self, *, unit=None, kind=None, version=None, when: datetime, subject: str, sender: str,
             name: str = "", status="filed", outcome=None, facts=None, files=(), reason=None,
             duplicate_of=None) -> int:
        """A received mail as the pipeline records it; files: [(filename, bytes, outcome)]."""
        self.uid += 1
        cid = self.campaign.id
        folder = f"{cid}/{unit or '_待确认'}/{kind or 'unknown'}"
        day = when.date().isoformat()
        raw_rel = self.store(f"{folder}/{day}_v{version or 0}_{self.uid}.eml", b"From: x\r\n\r\nbody")
        with self.ledger.transaction():
            mid = self.ledger.add_message(
                source="maildir", uidvalidity=1, uid=self.uid, received_at=when, size=2048 + self.uid,
                sha256=f"{self.uid:064x}", message_id=f"<{self.uid}@example.cn>", subject=subject,
                from_addr=sender, from_name=name, status=status, reason=reason, unit=unit, kind=kind,
                version=version, outcome=outcome, facts=facts or {}, raw_path=raw_rel,
                duplicate_of=duplicate_of)
            for seq, (fname, data, a_outcome) in enumerate(files, 1):
                rel = self.store(f"{folder}/{day}_v{version or 0}_{fname.replace('/', '_')}", data)
                self.ledger.add_attachment(mid, seq, filename=fname, content_type="application/octet-stream",
                                           size=len(data), sha256=f"{seq:02d}" + "ab" * 31, path=rel,
                                           doc_kind="docx", outcome=a_outcome, reason=None)
        return mid

    def finding(self, mid: int, severity: str, item: str, text: str, clause: str) -> None:
        att = self.ledger.attachments(mid)
        with self.ledger.transaction():
            self.ledger.add_finding(mid, att[0].id if att else None, "rule." + item, severity, item, text, clause)

    def review(self, unit: str, mid: int, decision: str, reason=None, via="命令行") -> None:
        with self.ledger.transaction():
            self.ledger.add_review(unit, "plan", mid, decision, reason, via)

    def compile(self, today=TODAY, **kw):
        kw.setdefault("now", NOW)
        return compile(self.ledger, self.campaign, self.roster, self.config, today, **kw)

    def sync(self, path: Path | None = None) -> dict[str, str]:
        """What `mailbot workbook` does before compiling: read back, keep, decide (a stand-in
        for review.apply_workbook_decisions: it records the decision on the current plan)."""
        from mailbot.office.progress import unit_states
        values = read_back(path or self.path)
        with self.ledger.transaction():
            changed = keep_hand_columns(self.ledger, values)
            states = {s.unit.name: s for s in unit_states(self.ledger, self.campaign, self.roster, TODAY)}
            for unit, decision in changed.items():
                s = states.get(unit)
                if s and s.plan and decision in ("已备案", "退回修改"):
                    self.ledger.add_review(unit, "plan", s.plan.id, decision, None, "跟踪表")
        return changed


def fill(o: Office) -> dict[str, int]:
    """Realistic submissions: the notice's fixed-date departments and a few others."""
    ids = {}
    docx = b"PK\x03\x04 fake docx"
    ids["农业"] = o.mail(unit="西吉县农业农村局", kind="plan", version=1, when=datetime(2022, 8, 22, 9, 12, tzinfo=CST),
                       subject="西吉县农业农村局政府开放日活动实施方案", sender="xjnyncj@163.com", name="马建军",
                       outcome="待审核", facts={"activity_dates": ["2022-09-05"], "theme": "走进乡村振兴 共享发展成果",
                                               "participants": 30},
                       files=[("农业农村局政府开放日实施方案.docx", docx, "待审核")])
    ids["民政1"] = o.mail(unit="西吉县民政局", kind="plan", version=1, when=datetime(2022, 8, 23, 15, 40, tzinfo=CST),
                        subject="民政局开放日方案", sender="xjmzj@163.com", outcome="需修改",
                        facts={"activity_dates": ["2022-09-06"], "theme": "民政为民 开放同行", "participants": 20},
                        files=[("民政局方案（初稿）.docx", docx + b"1", "需修改")])
    o.finding(ids["民政1"], "错误", "温馨提示", "公告缺少“温馨提示”一项。", "二(五)")
    o.finding(ids["民政1"], "错误", "参加人数", "参加人数为20人，少于25人。", "二(五)")
    ids["民政2"] = o.mail(unit="西吉县民政局", kind="plan", version=2, when=datetime(2022, 8, 25, 10, 3, tzinfo=CST),
                        subject="回复：民政局开放日方案（修改稿）", sender="xjmzj_bgs@126.com", outcome="待审核",
                        facts={"activity_dates": ["2022-09-06"], "theme": "民政为民 开放同行", "participants": 28},
                        files=[("民政局方案 #2 [修改稿].docx", docx + b"2", "待审核")])
    ids["教体"] = o.mail(unit="西吉县教育体育局", kind="plan", version=1, when=datetime(2022, 8, 26, 18, 1, tzinfo=CST),
                       subject=EVIL_SUBJECT, sender="xjjytyj@163.com", outcome="需修改",
                       facts={"activity_dates": ["2022-09-07"], "theme": "校园开放日\x07活动", "participants": 40},
                       files=[(EVIL_FILE, docx + b"3", "需修改")])
    o.finding(ids["教体"], "错误", "活动名称", "不得使用“校园开放日”，应为“西吉县××局“政府开放日””。", "三(二)")
    o.finding(ids["教体"], "提醒", "说明", "长" * 40_000, "二(六)")
    ids["卫健"] = o.mail(unit="西吉县卫生健康局", kind="plan", version=1, when=datetime(2022, 8, 24, 8, 30, tzinfo=CST),
                       subject="卫生健康局政府开放日实施方案", sender="xjwsjkj@163.com", outcome="待审核",
                       facts={"activity_dates": ["2022-09-07"], "theme": "健康西吉 你我同行", "participants": 35},
                       files=[("卫健局实施方案.docx", docx + b"4", "待审核")])
    o.review("西吉县卫生健康局", ids["卫健"], "已备案")
    ids["发改"] = o.mail(unit="西吉县发展和改革局", kind="plan", version=1, when=datetime(2022, 8, 29, 11, 0, tzinfo=CST),
                       subject="发改局开放日方案", sender="xjfgj@163.com", outcome="待审核",
                       facts={"activity_dates": ["2022-09-17"], "theme": "项目建设开放日", "participants": 26},
                       files=[("发改局方案.docx", docx + b"5", "待审核"), ("公告.pdf", b"%PDF-1.4", "待审核")])
    ids["财政"] = o.mail(unit="西吉县财政局", kind="summary", version=1, when=datetime(2022, 8, 29, 16, 0, tzinfo=CST),
                       subject="财政局开展情况", sender="xjczj@163.com", outcome="待审核",
                       files=[("财政局开展情况.docx", docx + b"6", "待审核")])
    ids["未识别"] = o.mail(when=datetime(2022, 8, 28, 21, 5, tzinfo=CST), subject="-2+3 请查收", sender="12345@qq.com",
                        status="unmatched", reason="发件地址不在名单中，主题和附件也看不出单位。",
                        files=[("#N/A.docx", b"x", None)])
    ids["待确认"] = o.mail(unit="西吉县水务局", kind="plan", when=datetime(2022, 8, 27, 7, 45, tzinfo=CST),
                        subject="水务局开放日方案", sender="zhangsan@qq.com", status="unconfirmed",
                        reason="发件地址不在名单中，按主题判断为西吉县水务局，待确认。",
                        files=[("水务局方案.docx", b"y", None)])
    o.mail(when=datetime(2022, 8, 29, 8, 0, tzinfo=CST), subject="自动回复：休假中", sender="xjtjj@163.com",
           status="automatic", reason="Auto-Submitted: auto-replied")
    with o.ledger.transaction():
        o.ledger.set_hand_kept("西吉县农业农村局", "纸质版", "已收到")
        o.ledger.set_hand_kept("西吉县农业农村局", "备注", "纸质版8月23日送达")
    return ids


@pytest.fixture
def office(tmp_path):
    o = Office(tmp_path / "office")
    o.ids = fill(o)
    yield o
    o.ledger.close()


def rows_by_unit(path: Path) -> dict[str, dict[str, object]]:
    wb = openpyxl.load_workbook(path)
    ws = wb[OVERVIEW]
    header = [c.value for c in ws[2]]
    out = {}
    for row in ws.iter_rows(min_row=3, values_only=True):
        out[row[0]] = dict(zip(header, row))
    return out


def edit(path: Path, changes: dict[str, dict[str, str]], save_as: Path | None = None) -> None:
    """The clerk edits cells of 总览 in a spreadsheet program (here: openpyxl)."""
    wb = openpyxl.load_workbook(path)
    ws = wb[OVERVIEW]
    header = [c.value for c in ws[2]]
    for row in ws.iter_rows(min_row=3):
        for col, value in changes.get(row[0].value, {}).items():
            row[header.index(col)].value = value
    wb.save(save_as or path)


# --- layout -------------------------------------------------------------------------------

def test_sheets_headers_and_values(office):
    result = office.compile()
    assert result.path == office.path and not result.locked_copy
    wb = openpyxl.load_workbook(office.path)
    assert wb.sheetnames == [OVERVIEW, RECORDS, FINDINGS, SCHEDULE, UNMATCHED, PROGRESS, BASE]
    assert wb[BASE].sheet_state == "hidden"
    ws = wb[OVERVIEW]
    assert "2022年度“政府开放日”活动" in ws["A1"].value and "2022-08-30 17:30" in ws["A1"].value
    assert tuple(c.value for c in ws[2]) == OVERVIEW_HEADERS
    assert ws.freeze_panes == "B3"
    assert ws.auto_filter.ref == f"A2:{openpyxl.utils.get_column_letter(len(OVERVIEW_HEADERS))}{ws.max_row}"
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$2:$2"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.print_area == f"'{OVERVIEW}'!$A$1:$O${ws.max_row}"      # on paper: the SPEC's 15 columns

    rows = rows_by_unit(office.path)
    assert list(rows) == [u.name for u in office.roster.units]
    agri = rows["西吉县农业农村局"]
    assert agri["活动日期"] == datetime(2022, 9, 5) and agri["方案状态"] == "待审核"
    assert agri["开放主题"] == "走进乡村振兴 共享发展成果" and agri["参加人数"] == 30
    assert agri["方案提交时间"] == datetime(2022, 8, 22, 9, 12) and agri["方案版本"] == "第1版"
    assert agri["纸质版"] == "已收到" and agri["备注"] == "纸质版8月23日送达"
    assert agri["公告发布截止"] == datetime(2022, 8, 21) and agri["方案截止"] == datetime(2022, 8, 26)
    assert rows["西吉县民政局"]["方案版本"] == "第2版" and rows["西吉县民政局"]["问题"] is None
    edu = rows["西吉县教育体育局"]
    assert edu["方案状态"] == "需修改" and "校园开放日" in edu["问题"]
    assert edu["开放主题"] == "校园开放日活动"                     # the BEL control char is gone
    assert rows["西吉县卫生健康局"]["审核状态"] == "已备案"
    assert rows["西吉县统计局"]["方案状态"] == "逾期未提交"
    assert rows["西吉县财政局"]["开展情况状态"] == "待审核"

    # fills by status; date formats
    by_name = {r[0].value: r for r in ws.iter_rows(min_row=3)}
    col = OVERVIEW_HEADERS.index("方案状态")
    assert by_name["西吉县统计局"][col].fill.fgColor.rgb.endswith("FFC7CE")        # red
    assert by_name["西吉县教育体育局"][col].fill.fgColor.rgb.endswith("FFEB9C")   # amber
    assert by_name["西吉县卫生健康局"][col].fill.fgColor.rgb.endswith("C6EFCE")   # green
    assert by_name["西吉县农业农村局"][1].number_format == "yyyy-mm-dd"
    assert by_name["西吉县农业农村局"][5].number_format == "yyyy-mm-dd hh:mm"
    assert by_name["西吉县教育体育局"][OVERVIEW_HEADERS.index("问题")].alignment.wrap_text

    # widths fitted to CJK text: the longest unit name is 14 wide characters
    width = ws.column_dimensions["A"].width
    assert display_width("西吉县工业信息化和科学技术局") <= width <= 32     # fitted, capped


def test_validations_and_conditional_colours(office):
    office.compile()
    ws = openpyxl.load_workbook(office.path)[OVERVIEW]
    n = ws.max_row
    dvs = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    review = OVERVIEW_HEADERS.index("审核状态") + 1
    paper = OVERVIEW_HEADERS.index("纸质版") + 1
    rl, pl = (openpyxl.utils.get_column_letter(c) for c in (review, paper))
    assert dvs[f"{rl}3:{rl}{n}"].formula1 == '"已备案,退回修改"' and dvs[f"{rl}3:{rl}{n}"].allow_blank
    assert dvs[f"{pl}3:{pl}{n}"].formula1 == '"已收到,未收到"'
    assert len(ws.conditional_formatting) == 1


def test_submission_records_findings_unmatched_and_links(office):
    office.compile()
    wb = openpyxl.load_workbook(office.path)
    ws = wb[RECORDS]
    header = [c.value for c in ws[2]]
    assert header[:10] == ["时间", "单位", "类型", "版本", "发件人", "主题", "文件名", "大小", "SHA-256", "结果"]
    data = list(ws.iter_rows(min_row=3))
    # one row per attachment (发改局 sent two), one for a mail without any; 'own' mail excluded
    assert len(data) == 11
    assert data[0][0].value == datetime(2022, 8, 29, 16, 0)          # newest first
    names = [r[6].value for r in data]
    assert "发改局方案.docx" in names and "公告.pdf" in names
    # every hyperlink is relative to the workbook's folder and opens the archived file
    links = [c.hyperlink.target for r in data for c in (r[6], r[10]) if c.hyperlink]
    assert len(links) >= 20
    for target in links:
        assert not os.path.isabs(target) and "://" not in target
        assert (office.path.parent / unquote(target)).is_file(), target
    odd = next(r for r in data if r[6].value == "民政局方案 #2 [修改稿].docx")
    assert "%23" in odd[6].hyperlink.target and "%5B" in odd[6].hyperlink.target

    ws = wb[FINDINGS]
    assert [c.value for c in ws[2]][:8] == ["单位", "类型", "版本", "文件", "严重程度", "事项", "说明", "条款"]
    f = list(ws.iter_rows(min_row=3, values_only=True))
    assert len(f) == 4
    assert f[0][0] == "西吉县民政局" and f[0][5] == "温馨提示" and f[0][7] == "二(五)" and f[0][9] == "否"
    long = next(r for r in f if r[5] == "说明")
    assert len(long[6]) == 32_767                                      # capped

    ws = wb[UNMATCHED]
    u = list(ws.iter_rows(min_row=3))
    assert [r[1].value for r in u] == ["12345@qq.com", "zhangsan@qq.com"]
    assert u[1][5].value == "西吉县水务局" and u[0][6].hyperlink is not None


def test_untrusted_text_is_never_a_formula(office):
    office.compile()
    wb = openpyxl.load_workbook(office.path)
    found = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value in (EVIL_SUBJECT, EVIL_FILE, "-2+3 请查收", "#N/A.docx"):
                    found[c.value] = c
    assert set(found) == {EVIL_SUBJECT, EVIL_FILE, "-2+3 请查收", "#N/A.docx"}
    for value in (EVIL_SUBJECT, EVIL_FILE, "-2+3 请查收"):
        assert found[value].data_type == "s" and found[value].quotePrefix, value
    # and in the file itself: no formula element anywhere
    with zipfile.ZipFile(office.path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name


@pytest.mark.parametrize("value,risky", [
    ("=1+1", True), ("+86 139", True), ("-3", True), ("@SUM(A1)", True), ("\tx", True), ("\rx", True),
    ("#N/A", True), ("#DIV/0!", True), ("#REF!", True), ("西吉县民政局", False), ("a=b", False), ("", False)])
def test_safe_text(value, risky):
    assert safe_text(value)[1] is risky


def test_safe_text_strips_and_caps():
    assert safe_text("a\x00b\x1fc\ud800d\ufffe")[0] == "abcd"
    assert safe_text("x\ty\nz")[0] == "x\ty\nz"
    assert len(safe_text("中" * 40_000)[0]) == 32_767


def test_display_width():
    assert display_width("abc") == 3
    assert display_width("民政局") == 6
    assert display_width("“政府开放日”") == 14     # CJK quotes are full width in Chinese fonts
    assert display_width("ＡＢ") == 4


def test_schedule_and_progress(office):
    office.compile()
    wb = openpyxl.load_workbook(office.path)
    ws = wb[SCHEDULE]
    rows = {r[0].value.date(): r for r in ws.iter_rows(min_row=3)}
    assert min(rows) == date(2022, 9, 1) and max(rows) == date(2022, 10, 31)
    assert rows[date(2022, 9, 5)][3].value == "县农业农村局、乡村振兴局"          # notice's fixed date
    assert rows[date(2022, 9, 5)][4].value == "西吉县农业农村局、西吉县乡村振兴局（未报方案）"
    assert rows[date(2022, 9, 7)][5].value == 2
    assert rows[date(2022, 9, 10)][2].value == "周末" and rows[date(2022, 9, 10)][0].fill.fgColor.rgb.endswith("EDEDED")
    assert rows[date(2022, 10, 3)][2].value == "节假日"            # 国庆
    assert rows[date(2022, 10, 8)][2].value == "调休上班"          # Saturday worked in 2022
    assert rows[date(2022, 9, 12)][2].value == "节假日"            # 中秋
    # a workday predicate can be given
    office.compile(is_workday=lambda d: d.weekday() < 5)
    ws = openpyxl.load_workbook(office.path)[SCHEDULE]
    rows = {r[0].value.date(): r for r in ws.iter_rows(min_row=3)}
    assert rows[date(2022, 10, 3)][2].value == "是"

    with zipfile.ZipFile(office.path) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 2
    ws = openpyxl.load_workbook(office.path)[PROGRESS]
    cells = {r[0]: r[1:] for r in ws.iter_rows(min_row=4, values_only=True) if r and r[0]}
    assert cells["逾期未提交"][0] == len(office.roster.units) - 5
    assert cells["已备案"][0] == 1 and cells["合计"][0] == len(office.roster.units)


def test_a_collection_without_activities_has_no_schedule(office):
    """The 日程 sheet lists activity days; a 年度报告 or monthly return has none — its accept window
    (a monthly return's is a year) would be hundreds of empty, misleading rows."""
    for name in ("annual-report-2022.toml", "monthly-return-2023.toml"):
        camp = load_campaign(office.root / "rules" / name)
        assert not camp.has_activity
        path = office.root / f"跟踪表_{camp.id}.xlsx"
        compile(office.ledger, camp, office.roster, office.config, date(2023, 2, 1), path=path, now=NOW,
                scope=camp.id)
        wb = openpyxl.load_workbook(path)
        assert SCHEDULE not in wb.sheetnames and OVERVIEW in wb.sheetnames and RECORDS in wb.sheetnames


# --- the hand-kept columns ------------------------------------------------------------------

def test_edits_read_back_kept_and_reported_once(office):
    office.compile()
    edit(office.path, {"西吉县民政局": {"审核状态": "已备案", "纸质版": "已收到", "备注": "@张三 已电话确认"},
                       "西吉县教育体育局": {"审核状态": "退回修改", "备注": "名称不规范，请改为“西吉县教育体育局“政府开放日””"}})
    values = read_back(office.path)
    assert values["西吉县民政局"] == {"审核状态": "已备案", "纸质版": "已收到", "备注": "@张三 已电话确认"}
    assert values.written is not None and values.written["西吉县民政局"]["审核状态"] == ""

    assert office.sync() == {"西吉县民政局": "已备案", "西吉县教育体育局": "退回修改"}
    assert office.sync() == {}                         # the same file again: nothing new
    hk = office.ledger.hand_kept()
    assert hk[("西吉县民政局", "纸质版")] == "已收到" and hk[("西吉县民政局", "备注")] == "@张三 已电话确认"

    office.compile()
    rows = rows_by_unit(office.path)
    assert rows["西吉县民政局"]["审核状态"] == "已备案" and rows["西吉县民政局"]["方案状态"] == "已备案"
    assert rows["西吉县民政局"]["备注"] == "@张三 已电话确认"     # text, not a formula
    assert rows["西吉县教育体育局"]["方案状态"] == "退回修改"
    assert office.sync() == {}                         # the regenerated file: nothing new

    # deleting the workbook loses nothing
    office.path.unlink()
    office.compile()
    rows2 = rows_by_unit(office.path)
    for unit in ("西吉县民政局", "西吉县教育体育局", "西吉县农业农村局"):
        for col in ("审核状态", "纸质版", "备注"):
            assert rows2[unit][col] == rows[unit][col]


def test_stale_workbook_does_not_undo_a_command_line_decision(office):
    office.compile()                                   # shows 审核状态 blank for 发改局
    office.review("西吉县发展和改革局", office.ids["发改"], "退回修改", "缺少公告")   # mailbot review … --return
    assert office.sync() == {}                         # the old file's blank is not an edit
    office.compile()
    assert rows_by_unit(office.path)["西吉县发展和改革局"]["审核状态"] == "退回修改"


def test_new_plan_version_clears_the_decision(office):
    office.compile()
    edit(office.path, {"西吉县农业农村局": {"审核状态": "已备案"}})
    assert office.sync() == {"西吉县农业农村局": "已备案"}
    office.compile()
    assert rows_by_unit(office.path)["西吉县农业农村局"]["审核状态"] == "已备案"
    office.mail(unit="西吉县农业农村局", kind="plan", version=2, when=datetime(2022, 8, 30, 9, 0, tzinfo=CST),
                subject="农业农村局方案（第二版）", sender="xjnyncj@163.com", outcome="待审核",
                facts={"activity_dates": ["2022-09-05"]}, files=[("方案v2.docx", b"v2", "待审核")])
    office.compile()
    row = rows_by_unit(office.path)["西吉县农业农村局"]
    assert row["审核状态"] is None and row["方案状态"] == "待审核" and row["纸质版"] == "已收到"
    edit(office.path, {"西吉县农业农村局": {"审核状态": "已备案"}})     # approving v2 is a change again
    assert office.sync() == {"西吉县农业农村局": "已备案"}


def test_compile_keeps_edits_that_were_not_read_back(office):
    office.compile()
    edit(office.path, {"西吉县民政局": {"审核状态": "已备案", "备注": "待补纸质版"}})
    result = office.compile()                          # e.g. the daemon compiled before syncing
    assert any("尚未读入" in w for w in result.warnings)
    rows = rows_by_unit(office.path)
    assert rows["西吉县民政局"]["审核状态"] == "已备案" and rows["西吉县民政局"]["备注"] == "待补纸质版"
    assert office.sync() == {"西吉县民政局": "已备案"}  # still reported, exactly once
    assert office.sync() == {}


def test_keep_hand_columns_without_a_base_compares_with_the_ledger(office):
    with office.ledger.transaction():
        office.ledger.set_hand_kept("西吉县民政局", "纸质版", "未收到")
    values = {"西吉县民政局": {"审核状态": "", "纸质版": "已收到", "备注": ""},
              "西吉县财政局": {"审核状态": "已备案"}}
    assert keep_hand_columns(office.ledger, values) == {"西吉县财政局": "已备案"}
    assert office.ledger.hand_kept()[("西吉县民政局", "纸质版")] == "已收到"
    assert keep_hand_columns(office.ledger, values) == {}


def test_read_back_tolerates_missing_corrupt_and_locked(office, monkeypatch, caplog):
    missing = read_back(office.root / "nope.xlsx")
    assert missing == {} and missing.warnings == []
    bad = office.root / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    assert read_back(bad) == {} and read_back(bad).warnings
    bad.write_text("单位,审核状态\n", encoding="utf-8")
    assert read_back(bad) == {}
    office.compile()

    def locked(*a, **kw):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(workbook_readback, "load_workbook", locked)
    values = read_back(office.path)
    assert values == {} and "被占用" in values.warnings[0]
    assert "被占用" in caplog.text


def test_read_back_by_header_name_not_position(office):
    office.compile()
    wb = openpyxl.load_workbook(office.path)
    ws = wb[OVERVIEW]
    ws.move_range("O1:O40", cols=20)                   # the clerk moved 备注 far to the right
    ws.insert_cols(1)                                  # and inserted a column before 单位
    ws.delete_rows(1)                                  # and deleted the title row
    wb.save(office.path)
    assert read_back(office.path)["西吉县农业农村局"]["备注"] == "纸质版8月23日送达"


def test_locked_workbook_gets_a_dated_copy(office, monkeypatch):
    office.compile()
    real = os.replace

    def replace(src, dst):
        if Path(dst) == office.path:
            raise PermissionError(13, "The process cannot access the file because it is being used")
        return real(src, dst)
    monkeypatch.setattr(os, "replace", replace)
    result = office.compile()
    assert result.locked_copy and result.path.name == "跟踪表-20220830-1730.xlsx"
    assert result.path.is_file() and any("另存为" in w for w in result.warnings)
    assert [p.name for p in office.path.parent.glob(".*.tmp")] == []
    openpyxl.load_workbook(result.path)


def test_unwritable_folder_is_a_chinese_error(office, monkeypatch):
    def nope(*a, **kw):
        raise OSError(30, "Read-only file system")
    monkeypatch.setattr(workbook, "new_temp", nope)
    with pytest.raises(workbook.WorkbookError, match="无法在"):
        office.compile()


# --- LibreOffice ------------------------------------------------------------------------------

def soffice(*args: str, cwd: Path, timeout: int = 180) -> None:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    assert exe, "LibreOffice (soffice) is not installed"
    profile = cwd / f"lo-{uuid.uuid4().hex}"
    env = {**os.environ, "HOME": str(cwd)}
    proc = subprocess.Popen([exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                             *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.communicate()
        raise
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0, out


def lo_convert(src: Path, fmt: str, outdir: Path) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    soffice("--convert-to", fmt, "--outdir", str(outdir), str(src), cwd=outdir.parent)
    out = outdir / (src.stem + "." + fmt.split(":")[0])
    assert out.is_file(), f"soffice produced no {out}"
    return out


@pytest.mark.soffice("calc")
def test_libreoffice_saved_workbook_is_read_back(office, tmp_path):
    office.compile()
    edited = tmp_path / "edited" / "跟踪表.xlsx"
    edited.parent.mkdir()
    edit(office.path, {"西吉县民政局": {"审核状态": "已备案", "纸质版": "已收到", "备注": "-已核对"}}, save_as=edited)
    saved = lo_convert(edited, "xlsx", tmp_path / "lo")          # LibreOffice opens and saves it
    with zipfile.ZipFile(saved) as z:
        assert "LibreOffice" in z.read("docProps/app.xml").decode()
    values = read_back(saved)
    assert values["西吉县民政局"] == {"审核状态": "已备案", "纸质版": "已收到", "备注": "-已核对"}
    assert values.written is not None                         # the hidden sheet survived
    shutil.copy(saved, office.path)
    assert office.sync() == {"西吉县民政局": "已备案"}
    office.compile()
    assert office.sync() == {}
    rows = rows_by_unit(office.path)
    assert rows["西吉县民政局"]["审核状态"] == "已备案" and rows["西吉县民政局"]["备注"] == "-已核对"


@pytest.mark.soffice("calc")
def test_libreoffice_edit_without_openpyxl(office, tmp_path):
    """The edit itself made in a LibreOffice file (flat ODS XML), saved back to xlsx by LibreOffice."""
    from lxml import etree
    office.compile()
    fods = lo_convert(office.path, "fods", tmp_path / "fods")
    ns = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
          "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
          "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0"}
    T = "{%s}" % ns["table"]
    tree = etree.parse(str(fods))
    sheet = tree.find(f".//table:table[@table:name='{OVERVIEW}']", ns)

    def cells(row):
        """(logical column, element), expanding number-columns-repeated."""
        col = 0
        for c in row.iterfind("table:table-cell", ns):
            yield col, c
            col += int(c.get(T + "number-columns-repeated", "1"))

    target = OVERVIEW_HEADERS.index("审核状态")
    done = False
    for row in sheet.iterfind(".//table:table-row", ns):
        texts = {col: "".join(c.itertext()).strip() for col, c in cells(row)}
        if texts.get(0) != "西吉县财政局":
            continue
        for col, c in list(cells(row)):
            span = int(c.get(T + "number-columns-repeated", "1"))
            if not col <= target < col + span:
                continue
            if span > 1:                   # split the repeated run around the target cell
                before, after = target - col, col + span - target - 1
                for n, where in ((before, "before"), (after, "after")):
                    if n:
                        twin = etree.fromstring(etree.tostring(c))
                        twin.set(T + "number-columns-repeated", str(n))
                        getattr(c, "addprevious" if where == "before" else "addnext")(twin)
                c.attrib.pop(T + "number-columns-repeated")
            for child in list(c):
                c.remove(child)
            c.set("{%s}value-type" % ns["office"], "string")
            etree.SubElement(c, "{%s}p" % ns["text"]).text = "退回修改"
            done = True
    assert done
    tree.write(str(fods), xml_declaration=True, encoding="UTF-8")
    back = lo_convert(fods, "xlsx", tmp_path / "back")
    values = read_back(back)
    assert values["西吉县财政局"]["审核状态"] == "退回修改"
    assert values["西吉县农业农村局"]["备注"] == "纸质版8月23日送达"
    assert keep_hand_columns(office.ledger, values) == {"西吉县财政局": "退回修改"}


@pytest.mark.soffice("calc")
def test_opens_in_libreoffice_and_renders(office, tmp_path):
    """Convert to PDF and render every page to PNG (look at them: tests/…/render/*.png)."""
    office.compile()
    pdf = lo_convert(office.path, "pdf", tmp_path / "pdf")
    assert pdf.stat().st_size > 10_000
    needs.binary("pdftoppm", "poppler-utils")
    out = tmp_path / "render"
    out.mkdir()
    subprocess.run(["pdftoppm", "-r", "80", "-png", str(pdf), str(out / "page")], check=True, timeout=120)
    pages = sorted(out.glob("page*.png"))
    assert len(pages) >= 6                                    # one or more pages per visible sheet
    assert all(p.stat().st_size > 3_000 for p in pages)
    keep = os.environ.get("MAILBOT_RENDER_DIR")
    if keep:
        shutil.copytree(out, keep, dirs_exist_ok=True)
