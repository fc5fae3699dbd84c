"""`mailbot export`: the archive room's zip — each unit's latest version of each kind named
单位_类型_vN.ext, a freshly compiled workbook and index.csv — on a folder that filed the demo's
campaign mail plus a revised plan; every file checked against the sha256 the ledger recorded."""
from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from datetime import date, datetime, timedelta, timezone

import openpyxl
import pytest

from mailbot.app import open_app
from mailbot.cli import main
from mailbot.defaults import init_folder
from mailbot.demo import samples
from mailbot.office.export import INDEX_HEADER, IndexRow, index_csv
from mailbot.office.jobs import Jobs
from mailbot.vocab import UnitStatus

TZ = timezone(timedelta(hours=8))
TODAY = "2022-09-25"


def _revised_plan() -> tuple[datetime, bytes]:
    """民政局's second plan, after the first: the export must carry this one, as v2."""
    when = datetime(2022, 8, 30, 10, 20, tzinfo=TZ)
    b = samples.MailBuilder(from_addr="xjmzj@163.com", to="xjxzwgkb@163.com", from_name="李红霞",
                            subject="西吉县民政局政府开放日实施方案（修改稿）", date=when)
    b.attach("西吉县民政局“政府开放日”活动实施方案（修改稿）.docx",
             samples.plan_docx("西吉县民政局", activity=date(2022, 9, 6), theme="走进民政 共享温暖"))
    return when, b.build()


@pytest.fixture
def office(tmp_path):
    """A working folder whose mailbox held the demo campaign's mail and a revised 民政局 plan,
    polled once; the office approved the revision."""
    init_folder(tmp_path, demo_keys=True)
    app = open_app(tmp_path / "config.ini", TODAY)
    mails = samples.demo_mailbox(app.campaign, app.roster, app.config.from_address) + [_revised_plan()]
    samples.write_maildir(tmp_path / "var" / "maildir", mails)
    jobs = Jobs(app)
    assert jobs.poll().filed >= 10
    jobs.review("西吉县民政局", UnitStatus.APPROVED, None)
    yield app, jobs
    app.close()


def _index(zf: zipfile.ZipFile) -> list[dict[str, str]]:
    data = zf.read("index.csv")
    assert data.startswith(b"\xef\xbb\xbf")                       # Excel opens it as UTF-8
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"))))
    assert tuple(rows[0]) == INDEX_HEADER
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def test_export_has_the_latest_version_of_each_kind_the_workbook_and_an_index(office, tmp_path):
    app, jobs = office
    report = jobs.export("2022-政府开放日")
    assert report.ok and report.path == (tmp_path / "导出_2022-政府开放日_2022-09-25.zip").resolve()
    with zipfile.ZipFile(report.path) as zf:
        names = zf.namelist()
        # 民政局: the revision only, under its version number; its summary beside it
        assert "西吉县民政局_实施方案_v2.docx" in names and "西吉县民政局_实施方案_v1.docx" not in names
        assert "西吉县民政局_开展情况_v1.docx" in names
        assert "西吉县发展和改革局_调整_v1.docx" in names
        # an adjustment that came as mail text only: the mail itself
        assert any(n.startswith("西吉县卫生健康局_调整_v1") and n.endswith(".eml") for n in names)
        for info in zf.infolist():
            if not info.filename.isascii():
                assert info.flag_bits & 0x800                     # UTF-8 names: Explorer/WinRAR show Chinese
        index = _index(zf)
        files = {r["导出文件名"]: r for r in index if r["导出文件名"]}
        assert set(files) == {n for n in names if n not in ("index.csv", "跟踪表.xlsx")}
        for name, row in files.items():                           # what is in the zip is what arrived
            assert hashlib.sha256(zf.read(name)).hexdigest() == row["sha256"]
        revised = files["西吉县民政局_实施方案_v2.docx"]
        assert (revised["单位"], revised["类型"], revised["版本"], revised["审核状态"]) == \
               ("西吉县民政局", "实施方案", "2", "已备案")
        assert revised["收到时间"] == "2022-08-30 10:20"
        assert revised["原文件名"] == "西吉县民政局“政府开放日”活动实施方案（修改稿）.docx"
        assert files["西吉县教育体育局_实施方案_v1.docx"]["审核状态"] == "需修改"
        recorded = {a.sha256 for atts in app.ledger.attachments_by_message().values() for a in atts}
        assert revised["sha256"] in recorded
        # a unit that sent nothing is listed as 未报送, once per kind that has a due date
        silent = [r for r in index if r["单位"] == "西吉县财政局"]
        assert [(r["类型"], r["审核状态"]) for r in silent] == [("实施方案", "未报送"), ("开展情况", "未报送"), ("反馈", "未报送")]
        assert {r["单位"] for r in index} == {u.name for u in app.roster.units}
        wb = openpyxl.load_workbook(io.BytesIO(zf.read("跟踪表.xlsx")), read_only=True)
        assert "总览" in wb.sheetnames
    assert report.units == len(app.roster.units) and report.files == len(files)
    assert report.submitted_units == len({r["单位"] for r in files.values()})
    assert "个单位" in report.text() and "MB" in report.text()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".part-")]   # temp renamed, not left


def test_a_tampered_or_missing_file_is_never_exported_and_is_named(office, tmp_path, capsys):
    app, jobs = office
    by_message = app.ledger.attachments_by_message()
    subs = {(m.unit, m.kind): m for m in app.ledger.current_submissions()}
    changed = by_message[subs[("西吉县农业农村局", "plan")].id][0].path
    gone = by_message[subs[("西吉县水务局", "plan")].id][0].path
    with open(app.config.archive / changed, "ab") as fh:               # someone edited the archived plan
        fh.write(b"tampered")
    (app.config.archive / gone).unlink()
    out = tmp_path / "交档案室.zip"
    code = main(["--config", str(tmp_path / "config.ini"), "--today", TODAY, "export", "open-day-2022",
                 "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 1
    assert "错误" in printed and changed in printed and gone in printed and "mailbot verify" in printed
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert "西吉县农业农村局_实施方案_v1.docx" not in names and "西吉县水务局_实施方案_v1.docx" not in names
        assert "西吉县农业农村局_开展情况_v1.docx" in names               # the rest is exported
        rows = {(r["单位"], r["类型"]): r for r in _index(zf)}
    assert rows[("西吉县农业农村局", "实施方案")]["审核状态"] == "文件与台账记录不符，未导出"
    assert rows[("西吉县农业农村局", "实施方案")]["导出文件名"] == ""
    assert rows[("西吉县水务局", "实施方案")]["审核状态"] == "文件缺失，未导出"
    assert app.ledger.last_event("export").level == "error"


def test_cli_export_names_unknown_campaigns_and_refuses_the_archive_folder(office, tmp_path, capsys):
    cfg = str(tmp_path / "config.ini")
    assert main(["--config", cfg, "--today", TODAY, "export", "2021-政府开放日"]) == 2
    err = capsys.readouterr().err
    assert "没有编号为“2021-政府开放日”的活动" in err and "2022-政府开放日（open-day-2022.toml）" in err
    inside = tmp_path / "archive" / "导出.zip"
    assert main(["--config", cfg, "--today", TODAY, "export", "2022-政府开放日", "--out", str(inside)]) == 2
    assert "归档目录" in capsys.readouterr().err and not inside.exists()
    folder = tmp_path / "给档案室"
    folder.mkdir()
    assert main(["--config", cfg, "--today", TODAY, "export", "2022-政府开放日", "--out", str(folder)]) == 0
    printed = capsys.readouterr().out
    assert (folder / "导出_2022-政府开放日_2022-09-25.zip").is_file()
    assert "已导出" in printed and "未报送" in printed and "MB" in printed


def test_a_second_export_replaces_the_first_whole(office):
    app, jobs = office
    first = jobs.export("open-day-2022")
    size = first.path.stat().st_size
    second = jobs.export("open-day-2022")
    assert second.path == first.path and zipfile.ZipFile(second.path).testzip() is None
    assert abs(second.path.stat().st_size - size) < 4096          # same content (the workbook's time differs)


def test_index_cells_from_mail_never_become_formulas():
    row = IndexRow("西吉县民政局", "实施方案", "1", "2022-08-17 15:40", "待审核", "ab" * 32,
                   "西吉县民政局_实施方案_v1.docx", "=HYPERLINK(\"http://x.example/\",\"方案\").docx")
    text = index_csv([row])[3:].decode("utf-8")
    [_, cells] = list(csv.reader(io.StringIO(text)))
    assert cells[-1].startswith("'=") and cells[0] == "西吉县民政局"


def test_the_export_of_another_collection_carries_its_own_workbook(tmp_path):
    """With several collections, `export` of the second one ships 跟踪表_<id>.xlsx — that
    collection's workbook — not the first one's 跟踪表.xlsx."""
    init_folder(tmp_path, demo_keys=True)
    cfg = tmp_path / "config.ini"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        "rules = open-day-2022.toml", "rules = open-day-2022.toml, annual-report-2022.toml"), encoding="utf-8")
    app = open_app(cfg, "2023-02-01")
    report = Jobs(app).export("annual-report-2022", tmp_path / "年报.zip")
    with zipfile.ZipFile(report.path) as z:
        names = z.namelist()
        title = openpyxl.load_workbook(io.BytesIO(z.read("跟踪表_2022-政府信息公开年报.xlsx"))).properties.title
    assert "跟踪表.xlsx" not in names and report.workbook == "跟踪表_2022-政府信息公开年报.xlsx"
    assert title == "2022年政府信息公开工作年度报告跟踪表"
    app.close()
