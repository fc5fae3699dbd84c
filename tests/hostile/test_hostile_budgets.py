"""Budgets per mail, not per file (issue 8 §5), and children without secrets (§7).

A 7 KB mail of nested zips once took minutes and 258 MB because every attachment had its own
256 MB budget. Now all documents of one mail share one budget (parts, decompressed bytes,
characters, nesting, wall time) and are read in a worker process with CPU and memory limits
(mailbot/docsandbox.py). What cannot be read within it comes back unreadable with a Chinese
reason naming the budget; through a real poll that mail is filed as 需人工审核 and the other
mails of the poll are filed as usual.

No test asserts a duration: each asserts WHICH limit refused the input (a bomb is refused by
the byte or part budget, never by the clock; a slow reader by the clock).
"""
from __future__ import annotations

import io
import os
import signal
import sqlite3
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from datetime import date
from pathlib import Path

import pytest

from mailbot.documents import childenv, docread
from mailbot.demo import samples
from mailbot.documents.docsandbox import REASON_CRASH, MailBudget, Sandbox, read_mail_documents

from test_e2e_mailbox import PASSWORD, Office
from servers import unique_user

MiB = 1024 * 1024
OFFICE_ADDR = "xjxzwgkb@163.com"
BUDGET = MailBudget()

BYTES = docread.REASON_MAIL_BYTES.split("（")[0]      # its figure depends on the mail's size
PARTS = docread.REASON_MAIL_PARTS.format(n=BUDGET.max_parts)
CHARS = docread.REASON_MAIL_CHARS.format(n=BUDGET.max_text_chars)


# --- hostile documents, built here ----------------------------------------------------------


def _zip(members, *, level: int = 9) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, data in members:
            z.writestr(name, data)
    return out.getvalue()


def nested_zip_bomb() -> bytes:
    """A few KB: zips of zips whose members are 1,000,000 zero bytes each (just under the
    per-member ratio check, which starts at 1 MiB): 480 MB per attachment when unpacked."""
    inner = _zip([(f"附件{i:03d}.txt", b"\0" * 1_000_000) for i in range(120)])
    return _zip([(f"第{j}批材料.zip", inner) for j in range(4)])


def nested_markup_bomb() -> bytes:
    """3 KB: zips of zips of 1 MB web pages of empty paragraphs. Each page costs the HTML
    reader ~0.3 s of walking, so a budget of bytes alone (200 MB) let it run for minutes."""
    page = b"<html><body>" + b"<p></p>" * 140_000 + b"</body></html>"
    inner = _zip([(f"说明{i:03d}.html", page) for i in range(100)])
    return _zip([(f"第{j}批材料.zip", inner) for j in range(2)])


def deep_nested_zip(levels: int = 12) -> bytes:
    """zip in zip in zip …, 42.zip style."""
    data = _zip([("方案.txt", "西吉县民政局政府开放日实施方案".encode())])
    for i in range(levels):
        data = _zip([(f"第{levels - i}层.zip", data)])
    return data


def overlapping_zip(entries: int = 150) -> bytes:
    """One deflated kernel of 1,000,000 zero bytes; `entries` central-directory records all
    point at it (the "better zip bomb" shape: each entry unpacks the same bytes again)."""
    raw = b"\0" * 1_000_000
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    kernel = comp.compress(raw) + comp.flush()
    crc = zlib.crc32(raw)
    name = b"a.txt"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(kernel), len(raw), len(name), 0)
    body = local + name + kernel
    cd = b""
    for _ in range(entries):
        cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(kernel), len(raw),
                          len(name), 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, entries, entries, len(cd), len(body), 0)
    return body + cd + end


def many_entries_zip(n: int) -> bytes:
    return _zip([(f"文件{i:05d}.txt", f"第{i}份".encode()) for i in range(n)], level=1)


def docx_with(document_xml: bytes) -> bytes:
    """A well-formed .docx package around a hostile word/document.xml."""
    plan = samples.plan_docx("西吉县民政局", activity=date(2022, 9, 6))
    src = zipfile.ZipFile(io.BytesIO(plan))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, document_xml if info.filename == "word/document.xml" else src.read(info))
    return out.getvalue()


W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def billion_laughs_docx() -> bytes:
    ents = [b'<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">'.encode() for i in range(1, 10)]
    xml = (b'<?xml version="1.0"?><!DOCTYPE w:document [' + b"".join(ents) + b"]>"
           b"<w:document " + W + b"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>")
    return docx_with(xml)


def huge_tree_docx(depth: int = 20_000) -> bytes:
    """0.9 MB of nested content controls (under the 1 MiB where the ratio check starts)."""
    xml = (b"<w:document " + W + b"><w:body>" + b"<w:sdt><w:sdtContent>" * depth + b"<w:p/>"
           + b"</w:sdtContent></w:sdt>" * depth + b"</w:body></w:document>")
    return docx_with(xml)


def plan() -> bytes:
    return samples.plan_docx("西吉县民政局", activity=date(2022, 9, 6), theme="阳光民政 温暖相伴",
                             contact="李红霞", phone="0954-3012103", region="西吉县")


def _reasons(docs) -> set[str]:
    """Reasons of the unreadable documents, the byte budget's without its figure."""
    return {BYTES if d.reason.startswith(BYTES) else d.reason for d in docs if not d.readable}


# --- (a) the reader, unit level ---------------------------------------------------------------


def test_nested_zip_bomb_is_refused_by_the_byte_budget_of_the_mail():
    bomb = nested_zip_bomb()
    assert len(bomb) < 30_000
    got = read_mail_documents([(plan(), "方案.docx"), (bomb, "材料1.zip"), (bomb, "材料2.zip"),
                               (bomb, "材料3.zip")], BUDGET)
    assert [d.readable for d in got[0]] == [True]          # the plan before the bombs is read
    refused = _reasons(d for docs in got[1:] for d in docs)
    assert BYTES in refused
    assert refused <= {BYTES, PARTS, docread.REASON_UNKNOWN}   # not the clock, not a crash
    assert all(len(docs) <= BUDGET.max_parts + 1 for docs in got)


def test_markup_bomb_is_stopped_by_the_size_ratio_of_the_mail():
    bomb = nested_markup_bomb()
    [docs] = read_mail_documents([(bomb, "材料.zip")], BUDGET)
    reasons = _reasons(docs)
    assert BYTES in reasons and reasons <= {BYTES, docread.REASON_EMPTY}
    walked = sum(1 for d in docs if d.reason == docread.REASON_EMPTY)
    assert walked * len(b"<p></p>") * 140_000 <= docread.UNPACK_FLOOR    # at most ~10 pages, not 200


def test_zip_in_zip_in_zip_stops_at_the_nesting_budget():
    [docs] = read_mail_documents([(deep_nested_zip(), "42.zip")], BUDGET)
    assert [(d.readable, d.reason) for d in docs] == [(False, docread.REASON_ZIP_NESTED)]


def test_overlapping_entries_cannot_unpack_more_than_the_mail_budget():
    bomb = overlapping_zip()
    assert len(bomb) < 30_000
    got = read_mail_documents([(bomb, "a.zip"), (bomb, "b.zip")], BUDGET)
    docs = [d for ds in got for d in ds]
    assert not any(d.readable for d in docs)
    unpacked = sum(1 for d in docs if d.reason == docread.REASON_UNKNOWN) * 1_000_000   # zeros: no format
    assert unpacked <= BUDGET.max_unpacked_mb * MiB
    assert BYTES in _reasons(docs)
    assert _reasons(docs) <= {BYTES, PARTS, docread.REASON_UNKNOWN}


def test_ten_thousand_entries_are_refused_from_the_directory_and_parts_are_counted_per_mail():
    [docs] = read_mail_documents([(many_entries_zip(10_000), "万个文件.zip")], BUDGET)
    assert len(docs) == 1 and not docs[0].readable and "文件数过多（10000 个" in docs[0].reason
    [docs] = read_mail_documents([(many_entries_zip(1_500), "一千五百个文件.zip")], BUDGET)
    assert len(docs) <= BUDGET.max_parts                    # the zip itself is a part too
    assert all(d.readable for d in docs[:-1]) and docs[-1].reason == PARTS


def test_a_mail_with_too_many_attachments_reads_the_first_ones_only():
    files = [(f"第{i}份说明.txt".encode("utf-8") * 5, f"说明{i}.txt") for i in range(BUDGET.max_parts + 50)]
    got = read_mail_documents(files, BUDGET)
    assert all(docs[0].readable for docs in got[:BUDGET.max_parts])
    assert [docs[0].reason for docs in got[BUDGET.max_parts:]] == [PARTS] * 50


def test_text_beyond_the_mail_character_budget_is_not_read():
    big = ("西吉县民政局政府开放日实施方案。" * 60_000).encode("utf-8")      # 960,000 characters
    got = read_mail_documents([(big, f"方案{i}.txt") for i in range(4)], BUDGET)
    assert [docs[0].readable for docs in got[:3]] == [True, True, True]
    assert docread.WARN_TRUNCATED.format(n=BUDGET.max_text_chars - 2 * 960_000) in got[2][0].warnings
    assert got[3][0].reason == CHARS
    assert sum(len(docs[0].text) for docs in got) <= BUDGET.max_text_chars


@pytest.mark.parametrize("make, reason", [
    (billion_laughs_docx, docread.REASON_DTD),
    (huge_tree_docx, "文档结构嵌套过深，疑似恶意构造，已拒绝读取，需人工审核"),
])
def test_hostile_docx_xml_is_refused_within_a_small_memory_budget(make, reason):
    small = MailBudget(max_memory_mb=384)    # a crash (out of memory) would give another reason
    [docs] = read_mail_documents([(make(), "方案.docx")], small)
    assert [(d.readable, d.reason) for d in docs] == [(False, reason)]


def slow_html(elements: int = 1_000_000) -> bytes:
    """8 MB of tiny paragraphs: the HTML reader walks them in Python for seconds."""
    return b"<html><body>" + b"<p>x</p>" * elements + b"</body></html>"


def test_a_slow_reader_is_killed_by_the_wall_time_budget_and_the_rest_is_kept():
    budget = MailBudget(max_seconds=0.5)
    got = read_mail_documents([(plan(), "方案.docx"), (slow_html(), "说明.html"), (plan(), "方案2.docx")], budget)
    late = docread.REASON_MAIL_TIME.format(s=0.5)
    assert got[0][0].readable                       # reported before the kill: kept
    assert [(d.readable, d.reason) for d in got[1]] == [(False, late)]
    assert [(d.readable, d.reason) for d in got[2]] == [(False, late)]
    # the next mail is read as usual
    assert read_mail_documents([(plan(), "方案.docx")], BUDGET)[0][0].readable


def test_a_dead_worker_is_replaced():
    box = Sandbox()
    try:
        assert box.read([(plan(), "方案.docx")], BUDGET)[0][0].readable
        os.kill(box.pid, signal.SIGKILL)
        os.waitpid(box.pid, 0)
        assert box.read([(plan(), "方案.docx")], BUDGET)[0][0].readable
    finally:
        box.close()


def test_a_worker_dying_mid_mail_gives_a_reason_not_an_exception():
    box = Sandbox()
    try:
        box.read([(plan(), "方案.docx")], BUDGET)            # started
        mail = [(slow_html(), "说明.html"), (plan(), "方案.docx")]   # seconds of reading
        killer = threading.Timer(0.5, os.kill, (box.pid, signal.SIGKILL))
        killer.start()
        got = box.read(mail, MailBudget(max_seconds=60))
        killer.join()
        crash = REASON_CRASH.format(mb=BUDGET.max_memory_mb)
        assert [[(d.readable, d.reason) for d in docs] for docs in got] == [[(False, crash)], [(False, crash)]]
        assert box.read([(plan(), "方案.docx")], BUDGET)[0][0].readable     # a new worker serves the next mail
    finally:
        box.close()


def test_folders_of_workers_killed_with_their_parent_are_swept(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    live = Sandbox()
    try:
        live.read([(plan(), "方案.docx")], BUDGET)
        stale = tmp_path / "mailbot-docs-stale"
        (stale / "mailbot-lo-x").mkdir(parents=True)
        (stale / "mailbot-lo-x" / "input.doc").write_bytes(b"a department's document")
        (stale / ".worker.lock").write_bytes(b"")           # its worker is gone: nobody holds the lock
        other = Sandbox()
        try:
            other.read([(plan(), "方案.docx")], BUDGET)
            assert not stale.exists()
            assert len(list(tmp_path.glob("mailbot-docs-*"))) == 2    # the two live workers' folders
        finally:
            other.close()
    finally:
        live.close()
    assert not list(tmp_path.glob("mailbot-docs-*"))


# --- children see no secrets -------------------------------------------------------------------

FAKE_SOFFICE = r'''#!{python}
"""A stand-in for LibreOffice: writes its environment (and its pid) as the converted .docx."""
import os, sys, time, zipfile
open({pidfile!r}, "w").write(str(os.getpid()))
if {sleep}:
    time.sleep({sleep})
outdir = sys.argv[sys.argv.index("--outdir") + 1]
paras = "".join("<w:p><w:r><w:t>%s</w:t></w:r></w:p>" % (k + "=" + v).replace("&", "&amp;").replace("<", "&lt;")
                for k, v in sorted(os.environ.items()))
with zipfile.ZipFile(os.path.join(outdir, "input.docx"), "w") as z:
    z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    z.writestr("word/document.xml", '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>' + paras + "</w:body></w:document>")
'''

RTF = rb"{\rtf1\ansi \f0 Xiji county open day plan\par}"


@pytest.fixture
def fake_soffice(tmp_path, monkeypatch):
    def install(sleep: float = 0) -> Path:
        bindir = tmp_path / "bin"
        bindir.mkdir(exist_ok=True)
        pidfile = tmp_path / "soffice.pid"
        exe = bindir / "soffice"
        exe.write_text(FAKE_SOFFICE.format(python=sys.executable, pidfile=str(pidfile), sleep=sleep))
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
        monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
        return pidfile
    return install


def _environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


def test_worker_and_libreoffice_get_a_minimal_environment(fake_soffice, monkeypatch):
    fake_soffice()
    monkeypatch.setenv("MAILBOT_SMTP_PASSWORD", "smtp-secret-Q7")
    monkeypatch.setenv("MAILBOT_IMAP_PASSWORD", "imap-secret-Q7")
    monkeypatch.setenv("MB_OFFICE_AUTHCODE", "authcode-secret-Q7")   # any password_env name
    box = Sandbox()               # a worker started now, from this environment
    try:
        [docs] = box.read([(RTF, "方案.rtf")], BUDGET)
        assert docs[0].readable, docs[0].reason
        child_env = dict(line.split("=", 1) for line in docs[0].text.splitlines())
        worker_env = _environ_of(box.pid)
    finally:
        box.close()
    for env in (child_env, worker_env):
        assert "secret-Q7" not in repr(env)
        assert {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL"} <= set(env)
        assert set(env) <= {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "SAL_USE_VCLPLUGIN"}
        assert env["HOME"] != os.environ.get("HOME")


def test_childenv_popen_passes_nothing_else(monkeypatch, tmp_path):
    monkeypatch.setenv("MAILBOT_SMTP_PASSWORD", "smtp-secret-Q7")
    proc = childenv.popen([sys.executable, "-c", "import os; print(' '.join(sorted(os.environ)))"],
                          home=str(tmp_path), stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate(timeout=30)
    assert out.split() == ["HOME", "LANG", "LC_ALL", "PATH", "TMPDIR"]


def test_wall_time_kill_also_kills_libreoffice(fake_soffice):
    pidfile = fake_soffice(sleep=120)
    box = Sandbox()
    try:
        [docs] = box.read([(RTF, "方案.rtf")], MailBudget(max_seconds=0.5))
    finally:
        box.close()
    assert not docs[0].readable
    pid = int(pidfile.read_text())
    for _ in range(500):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            break
        if state == "Z":
            break
        time.sleep(0.01)
    else:
        pytest.fail(f"LibreOffice stand-in {pid} still running after the kill")


# --- (b) through a real poll -------------------------------------------------------------------


def _mail(sender: str, unit: str, subject: str, attachments, day: int) -> bytes:
    b = samples.MailBuilder(from_addr=sender, from_name="办公室", to=OFFICE_ADDR, subject=subject,
                            date=samples._at(date(2022, 8, day), 9, 0), client="foxmail",
                            text="您好，附件是我单位的材料，请审阅。")
    for name, data in attachments:
        b.attach(name, data)
    return b.build()


def _unit_plan(unit: str, contact: str, phone: str) -> bytes:
    return samples.plan_docx(unit, activity=date(2022, 9, 6), theme="走进机关 共话发展", participants=30,
                             contact=contact, phone=phone, region="西吉县")


@pytest.fixture
def office(tmp_path, dovecot, smtp_server):
    user = unique_user("budget")
    dovecot.add_user(user, PASSWORD)
    off = Office(tmp_path / "office", dovecot, smtp_server, user)
    cfg = off.root / "config.ini"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("max_message_mb = 1", "max_message_mb = 5"),
                   encoding="utf-8")
    return off


def test_poll_files_the_bomb_for_a_person_and_the_others_as_usual(office):
    bomb = nested_zip_bomb()
    mails = [
        _mail("xjjytyj@163.com", "西吉县教育体育局", "教育体育局政府开放日实施方案",
              [("西吉县教育体育局政府开放日实施方案.docx", _unit_plan("西吉县教育体育局", "苏文华", "0954-3013105"))],
              18),
        _mail("xjmzj@163.com", "西吉县民政局", "民政局政府开放日实施方案（材料较多，已压缩）",
              [(f"实施方案及佐证材料{i}.zip", bomb) for i in range(1, 4)], 19),
        _mail("xjwsjkj@163.com", "西吉县卫生健康局", "卫生健康局政府开放日实施方案",
              [("西吉县卫生健康局政府开放日实施方案.docx", _unit_plan("西吉县卫生健康局", "杨丽娟", "0954-3013206"))],
              20),
    ]
    assert 3 * len(bomb) < 30_000
    for raw in mails:
        office.dovecot.append(office.user, raw, internaldate=samples._at(date(2022, 8, 20), 10, 0))
    r = office.mailbot("poll")
    assert r.returncode == 0, r.stderr
    db = sqlite3.connect(office.root / "var" / "mailbot.sqlite3")
    rows = {unit: (status, outcome) for unit, status, outcome in
            db.execute("SELECT unit, status, outcome FROM messages ORDER BY uid")}
    findings = [text for (text,) in db.execute(
        "SELECT f.text FROM findings f JOIN messages m ON m.id = f.message WHERE m.unit = '西吉县民政局'")]
    files = db.execute("SELECT a.outcome, a.reason FROM attachments a JOIN messages m ON m.id = a.message "
                       "WHERE m.unit = '西吉县民政局' ORDER BY a.seq").fetchall()
    db.close()
    assert rows["西吉县民政局"][1] == "需人工审核"
    assert any(BYTES in text for text in findings), findings
    assert any("（10 MB）" in text for text in findings)      # 3 × 4 KB of zips may unpack 10 MB, not 200
    assert [outcome for outcome, _ in files] == ["需人工审核"] * 3
    assert any(BYTES in reason for _, reason in files)
    assert not any(docread.REASON_MAIL_TIME.split("（")[0] in text for text in findings)
    for unit in ("西吉县教育体育局", "西吉县卫生健康局"):
        assert rows[unit][0] == rows["西吉县民政局"][0]          # filed like the bomb's mail, …
        assert rows[unit][1] in ("待审核", "需修改")             # … and read and checked


def test_a_readable_plan_beside_a_bomb_sends_the_whole_mail_to_a_person(office):
    """The plan is read and checked (its findings are kept), but what the bomb hid is unknown:
    the submission is 需人工审核, not 待审核."""
    raw = _mail("xjmzj@163.com", "西吉县民政局", "民政局政府开放日实施方案及佐证材料",
                [("西吉县民政局政府开放日实施方案.docx", _unit_plan("西吉县民政局", "李红霞", "0954-3012103")),
                 ("佐证材料.zip", nested_zip_bomb())], 19)
    office.dovecot.append(office.user, raw, internaldate=samples._at(date(2022, 8, 20), 10, 0))
    r = office.mailbot("poll")
    assert r.returncode == 0, r.stderr
    db = sqlite3.connect(office.root / "var" / "mailbot.sqlite3")
    (status, outcome), = db.execute("SELECT status, outcome FROM messages").fetchall()
    files = db.execute("SELECT filename, outcome FROM attachments ORDER BY seq").fetchall()
    db.close()
    assert (status, outcome) == ("filed", "需人工审核")
    assert files[0][1] in ("待审核", "需修改") and files[1][1] == "需人工审核"
