"""One vocabulary: every status, outcome, severity and unit status has its Chinese words in
mailbot/vocab.py, and nothing the clerk reads shows a stored English status word.

GIVEN the statuses the code can write into the ledger (found in the code itself),
WHEN the vocabulary, the workbook, the poll summary and `mailbot status` show them,
THEN each has a label (and an archive folder when the mail is held), the stored values are
unchanged (existing ledgers keep working), and no module keeps a label table of its own.
"""
from __future__ import annotations

import json
import re
import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest

from mailbot import vocab
from mailbot.campaign import load_campaign, load_roster
from mailbot.cli import main
from mailbot.config import load_config
from mailbot.store.ledger import Ledger
from mailbot.office.pipeline import PollReport
from mailbot.vocab import ACCEPTABLE, Kind, Outcome, Severity, Status, UnitStatus
from mailbot.office.workbook import compile
from mailbot.office.workbook_sheets import RECORDS, UNMATCHED

REPO = Path(__file__).resolve().parents[1]
CODE = REPO / "mailbot"
CST = timezone(timedelta(hours=8))

# What ledgers written by earlier versions hold: these strings must keep their meaning.
STORED = {"filed", "unconfirmed", "unmatched", "automatic", "oversize", "unparsable", "own", "noattach",
          "resynced", "error", "before", "untrusted", "flood",
          "supplement",                                     # since ledger v3
          "unsorted",                                       # since ledger v4
          "query"}                                          # 查询 by mail (no ledger change)

HELD_NOT_ARCHIVED = {"filed", "supplement", "oversize", "resynced"}   # filed (beside its submission), never
                                                                      # downloaded, or already held once
OUTGOING = {"queued", "sent", "failed"}                   # outgoing.status: the send queue's own states


def statuses_written_by_code() -> set[str]:
    """Every status literal the code hands to the ledger or to a Decision."""
    found: set[str] = set()
    for path in CODE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r"""\bstatus\s*=\s*["']([a-z]+)["']""", text))
        found |= set(re.findall(r"""Decision\(\s*["']([a-z]+)["']""", text))
        found |= {Status[name].value for name in re.findall(r"\bStatus\.([A-Z]+)\b", text)}
    return found - OUTGOING


def test_every_status_the_ledger_can_hold_has_words_and_a_folder():
    written = statuses_written_by_code()
    assert {"filed", "before", "untrusted", "flood", "error"} <= written       # the scan does find them
    assert written <= {s.value for s in Status}, f"not in vocab.Status: {written - set(Status)}"
    assert {s.value for s in Status} == STORED                                 # stored values unchanged
    for s in Status:
        assert re.search(r"[\u4e00-\u9fff]", s.label) and re.search(r"[\u4e00-\u9fff]", s.explanation), s
        if s.value in HELD_NOT_ARCHIVED:
            assert s.hold_folder is None
        else:
            assert s.hold_folder.startswith("_") and "/" not in s.hold_folder
    folders = [s.hold_folder for s in Status if s.hold_folder]
    assert len(folders) == len(set(folders))
    assert Status.UNCONFIRMED.folder_for("西吉县民政局") == "_待确认/西吉县民政局"
    assert Status.UNMATCHED.folder_for("西吉县民政局") == "_未识别"            # no unit folder: unknown sender
    assert Status.UNTRUSTED.folder_for(None) == "_待核实"
    with pytest.raises(ValueError):
        Status.FILED.folder_for("西吉县民政局")
    assert set(ACCEPTABLE) == {Status.UNTRUSTED, Status.FLOOD}


def test_stored_strings_compare_equal_and_contract_values_hold():
    assert Status("before") == "before" and json.dumps([Status.FLOOD]) == '["flood"]'
    # SPEC §4: 方案状态 values and check --json outcome/severity strings
    plan_values = {"未提交", "逾期未提交", "需修改", "待审核", "已备案", "退回修改"}
    assert plan_values <= {u.value for u in UnitStatus}
    assert {o.value for o in Outcome} == {"待审核", "需修改", "需人工审核"}
    assert {s.value for s in Severity} == {"错误", "提醒"}
    assert Outcome.worst(["待审核", "需人工审核"]) == Outcome.HUMAN
    assert Outcome.worst(["需人工审核", "需修改", "待审核"]) == Outcome.FIX
    assert Outcome.worst([]) == Outcome.HUMAN                                 # nothing read: a person reads it
    assert [u for u in UnitStatus if u.passing] == [UnitStatus.APPROVED, UnitStatus.PENDING, UnitStatus.MANUAL,
                                                    UnitStatus.SUBMITTED, UnitStatus.EMPTY_RETURN]
    assert {u for u in UnitStatus if u.decided} == {UnitStatus.APPROVED, UnitStatus.RETURNED}
    assert all(UnitStatus.of(o).value == o.value for o in Outcome)
    assert {k.value for k in Kind} <= set(load_campaign(REPO / "rules" / "open-day-2022.toml").kinds)


OLD_TABLES = ("_STATUS_CN", "STATUS_LABEL", "_STATUS_TEXT", "STATUS_ORDER", "STATUS_FILL", "SEVERITY_FILL",
              "_OUTCOME_RANK", "SEVERITY_ERROR", "OUTCOME_HUMAN")


def test_no_module_keeps_its_own_words():
    """Labels live in vocab.py only: no old table names, no status label spelled out elsewhere,
    and templates compare no literals (they get labels and flags)."""
    words = {w for s in Status for w in (s.label, s.explanation)} - {s.value for s in UnitStatus}
    words |= {f'"{s.value}"' for s in (*Outcome, *Severity, *UnitStatus)}    # quoted, as code would spell them
    offenders = []
    for path in sorted(CODE.rglob("*.py")):
        if path.name in ("vocab.py", "samples.py"):      # samples.py writes documents, not our labels
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.name}: {name}" for name in OLD_TABLES if re.search(rf"\b{name}\b", text)]
        for line in text.splitlines():
            if "HEADERS" in line or "Col(" in line or "header = (" in line:     # column titles, not statuses
                continue
            offenders += [f"{path.name}: {w}" for w in words
                          if (w if w.startswith('"') else f'"{w}"') in line or f"'{w}'" in line]
    for path in sorted((REPO / "templates").glob("*.j2")):
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.name}: {m}" for m in re.findall(r"(?:==|!=|\bin)\s*\(?\s*'[^']*'", text)]
    assert offenders == []


# --- what the clerk sees ----------------------------------------------------------------------

@pytest.fixture
def office(tmp_path):
    shutil.copytree(REPO / "rules", tmp_path / "rules")
    shutil.copytree(REPO / "templates", tmp_path / "templates")
    (tmp_path / "config.ini").write_text(
        "[imap]\nbackend = maildir\npath = var/maildir\n"
        "[smtp]\nbackend = outbox\npath = var/outbox\nfrom_address = xjxzwgkb@163.com\n"
        "[office]\nname = 县人民政府政务公开办公室\n[paths]\nworkbook = 跟踪表.xlsx\n"
        "[campaign]\nrules = open-day-2022.toml\n", encoding="utf-8")
    config = load_config(tmp_path / "config.ini")
    campaign = load_campaign(config.campaign_file)
    roster = load_roster(config.rules / "units.csv", campaign.region)
    ledger = Ledger(config.ledger)
    # one mail of every status, none with a reason: the status's own words must carry it
    with ledger.transaction():
        for uid, s in enumerate(Status, start=1):
            ledger.add_message(source="imap", uidvalidity=1, uid=uid, size=4096, sha256=f"{uid:064x}",
                               received_at=datetime(2022, 8, 10 + uid, 9, 30, tzinfo=CST),
                               subject=f"西吉县民政局“政府开放日”实施方案（{uid}）", from_addr="xjmzj@163.com",
                               from_name="民政局办公室", status=s.value, reason=None,
                               unit="西吉县民政局" if s is Status.FILED else None,
                               kind="plan" if s is Status.FILED else None, version=1 if s is Status.FILED else None,
                               outcome="待审核" if s is Status.FILED else None, facts={}, problems=[])
    yield config, campaign, roster, ledger
    ledger.close()


def _cells(path: Path, sheet: str) -> list[str]:
    ws = openpyxl.load_workbook(path)[sheet]
    return [str(c) for row in ws.iter_rows(min_row=3, values_only=True) for c in row if isinstance(c, str)]


def test_workbook_shows_no_english_status_word(office):
    config, campaign, roster, ledger = office
    compile(ledger, campaign, roster, config, date(2022, 8, 30), now=datetime(2022, 8, 30, 17, 30))
    records, unmatched = _cells(config.workbook, RECORDS), _cells(config.workbook, UNMATCHED)
    shown = records + unmatched
    for s in Status:
        assert not any(re.search(rf"\b{s.value}\b", c) for c in shown), s.value
    assert Status.BEFORE.explanation in records                 # an old mail says so, in Chinese
    assert Status.UNTRUSTED.explanation in unmatched and Status.AUTOMATIC.explanation in records


def test_poll_summary_and_status_command_use_the_labels(office, capsys):
    config, *_ = office
    report = PollReport(fetched=3, filed=1, held={"before": 1, "untrusted": 1})
    assert report.summary() == ("收取新邮件 3 封：登记报送 1 封；活动开始前的旧邮件 1 封，待核实（疑似冒用） 1 封；"
                                "待发回执 0 封。")
    assert main(["--config", str(config.path), "--today", "2022-08-30", "status"]) == 0
    out = capsys.readouterr().out
    other = next(line for line in out.splitlines() if line.startswith("其他邮件："))
    assert all(f"{s.label} 1 封" in other for s in Status if s is not Status.FILED)
    assert not re.search(r"[a-z]{3,}", other)
