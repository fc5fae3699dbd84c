"""A stamped plan sent as a scan: read by OCR, filed, and the 回执 says its facts were read from
the scan (“（据扫描件识别）”), so the unit knows to check them; `check --json` says source "ocr".
Maildir in, outbox out; the scan is made here (tests/scans.py)."""
from __future__ import annotations

import email
import json
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from email import policy

import pytest

import needs
import scans
from mailbot.app import open_app
from mailbot.defaults import init_folder
from mailbot.demo import samples
from mailbot.documents import ocr
from mailbot.office.jobs import Jobs
from mailbot.vocab import Status

TZ = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def plan_pdf_scan():
    if ocr.missing():
        needs.missing(ocr.missing(), ocr.TESSERACT_PACKAGES)
    needs.binary("pdftoppm", "poppler-utils")
    needs.libreoffice("writer")
    _pages, pdf = scans.scan_of(samples.plan_docx("西吉县民政局", activity=date(2022, 9, 6), participants=30,
                                                   contact="马晓琴", phone="0954-7012345"))
    return pdf


def test_a_scanned_plan_is_filed_and_its_ack_says_read_from_the_scan(tmp_path, plan_pdf_scan):
    init_folder(tmp_path, demo_keys=True)
    when = datetime(2022, 8, 22, 10, tzinfo=TZ)
    b = samples.MailBuilder(from_addr="xjmzj@163.com", to="xjxzwgkb@163.com", date=when,
                            subject="西吉县民政局政府开放日实施方案（盖章扫描件）")
    b.attach("民政局实施方案（盖章）.pdf", plan_pdf_scan)
    samples.write_maildir(tmp_path / "var" / "maildir", [(when, b.build())])
    app = open_app(tmp_path / "config.ini", "2022-08-31")
    jobs = Jobs(app)
    assert jobs.poll().filed == 1
    plan, = app.ledger.messages(Status.FILED)
    assert plan.facts["source"] == "ocr" and "2022-09-06" in plan.facts["activity_dates"]
    jobs.deliver()
    ack, = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in (tmp_path / "var" / "outbox").glob("*.eml")]
    text = ack.get_body(("plain",)).get_content()
    assert "我们读到的活动日期（据扫描件识别）：2022-09-06" in text
    assert "检查结果（据扫描件识别）" in text
    app.close()

    f = tmp_path / "scan.pdf"
    f.write_bytes(plan_pdf_scan)
    out = subprocess.run([sys.executable, "-m", "mailbot", "--config", str(tmp_path / "config.ini"), "check",
                          "--json", str(f)], capture_output=True, text=True, timeout=300)
    got, = json.loads(out.stdout)
    assert got["source"] == "ocr" and got["ocr_pages"] and got["facts"]["participants"] == 30
