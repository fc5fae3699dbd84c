"""Set-up on a machine that lacks something: LibreOffice without Writer says so (not "damaged"),
`doctor` really converts a .doc, and tests that need a missing package skip naming it.

A "Calc-only LibreOffice" is simulated by a fake install: <root>/program/soffice answering like the
real one does without Writer ("Error: source file could not be loaded", exit 0, no output) and
<root>/share/registry holding main.xcd and calc.xcd but no writer.xcd (Debian's layout)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mailbot.documents import docprobe
from mailbot.campaign import load_campaign
from mailbot.documents.check import check_document
from mailbot.defaults import init_folder
from mailbot.documents.docprobe import SELFTEST_DOC, SELFTEST_TEXT, probe_doc_conversion
from mailbot.documents.docread import REASON_NO_WRITER, ConversionError, Converter, lacks_writer, read_document
from mailbot.vocab import Outcome

ROOT = Path(__file__).resolve().parents[1]
DOC = SELFTEST_DOC.read_bytes()          # a real Word 97 .doc (LibreOffice made it)

NOT_LOADED = """#!/bin/sh
echo "Error: source file could not be loaded"
exit 0
"""

# answers like a working LibreOffice: writes <outdir>/input.docx holding SELFTEST_TEXT
CONVERTS = """#!{python}
import sys, zipfile
outdir = sys.argv[sys.argv.index("--outdir") + 1]
with zipfile.ZipFile(outdir + "/input.docx", "w") as z:
    z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    z.writestr("word/document.xml", '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>')
"""


def fake_libreoffice(root: Path, script: str = NOT_LOADED, *, writer: bool = False,
                     writer_lib: bool | None = None) -> str:
    """A LibreOffice install at `root` (program/ + share/registry/); returns its soffice."""
    program, registry = root / "program", root / "share" / "registry"
    program.mkdir(parents=True)
    registry.mkdir(parents=True)
    for xcd in ("main.xcd", "calc.xcd") + (("writer.xcd",) if writer else ()):
        (registry / xcd).write_text("<oor:data/>")
    if writer if writer_lib is None else writer_lib:
        (program / "libswlo.so").write_bytes(b"\x7fELF")
    exe = program / "soffice"
    exe.write_text(script.format(python=sys.executable, text=SELFTEST_TEXT))
    exe.chmod(0o755)
    return str(exe)


def test_calc_only_libreoffice_says_writer_is_missing(tmp_path):
    conv = Converter(soffice=fake_libreoffice(tmp_path / "lo"))
    with pytest.raises(ConversionError) as err:
        conv.to_docx(DOC, ".doc")
    assert str(err.value) == REASON_NO_WRITER
    for name in ("方案.doc", "方案.wps"):
        (doc,) = read_document(DOC, name, converter=conv)
        assert (doc.readable, doc.reason) == (False, REASON_NO_WRITER)
        assert "缺少 Writer 组件" in doc.reason and "可能已损坏" not in doc.reason
    result = check_document(doc, campaign=load_campaign(ROOT / "rules" / "open-day-2022.toml"), roster=None,
                            kind=None, unit="西吉县民政局", received=None)
    assert result.outcome == Outcome.HUMAN
    assert "缺少 Writer 组件" in result.findings[0].message


def test_with_writer_installed_a_failed_file_is_still_called_damaged(tmp_path):
    conv = Converter(soffice=fake_libreoffice(tmp_path / "lo", writer=True))
    (doc,) = read_document(DOC, "方案.doc", converter=conv)
    assert doc.reason == "LibreOffice 无法转换该文件（可能已损坏或加密），需人工审核"


def test_writer_removed_but_its_registry_file_left_behind(tmp_path):
    """`apt-get remove libreoffice-writer-nogui` (not purge) leaves writer.xcd in /etc: the Writer
    library is what is gone."""
    exe = fake_libreoffice(tmp_path / "lo", writer=True, writer_lib=False)
    assert lacks_writer(exe)
    (doc,) = read_document(DOC, "方案.doc", converter=Converter(soffice=exe))
    assert doc.reason == REASON_NO_WRITER


def test_unknown_layout_keeps_the_damaged_reason(tmp_path):
    exe = tmp_path / "soffice"                      # a bare wrapper: we cannot tell what is installed
    exe.write_text(NOT_LOADED)
    exe.chmod(0o755)
    assert not lacks_writer(str(exe))
    (doc,) = read_document(DOC, "方案.doc", converter=Converter(soffice=str(exe)))
    assert "可能已损坏或加密" in doc.reason


def test_mailbot_check_names_the_missing_writer(tmp_path):
    """As the clerk sees it: `mailbot check 方案.doc` with a Calc-only LibreOffice on PATH."""
    fake_libreoffice(tmp_path / "lo")
    (tmp_path / "方案.doc").write_bytes(DOC)
    env = {**os.environ, "PATH": f"{tmp_path / 'lo' / 'program'}{os.pathsep}{os.environ['PATH']}"}
    r = subprocess.run([sys.executable, "-m", "mailbot", "check", str(tmp_path / "方案.doc")], cwd=tmp_path,
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "需人工审核" in r.stdout and "缺少 Writer 组件" in r.stdout
    assert "可能已损坏" not in r.stdout


# --- the self-test behind doctor and the test suite's skips ------------------------------------

def test_probe_outcomes(tmp_path):
    missing = probe_doc_conversion(Converter(soffice=str(tmp_path / "nowhere" / "soffice")))
    assert not missing.ok and "未安装 LibreOffice" in missing.text
    assert "apt-get install libreoffice-writer-nogui fonts-noto-cjk" in missing.fix
    calc_only = probe_doc_conversion(Converter(soffice=fake_libreoffice(tmp_path / "calc")))
    assert not calc_only.ok and "缺少 Writer 组件" in calc_only.text
    assert "apt-get install libreoffice-writer-nogui fonts-noto-cjk" in calc_only.fix
    broken = probe_doc_conversion(Converter(soffice=fake_libreoffice(tmp_path / "broken", writer=True)))
    assert not broken.ok and "可能已损坏" in broken.text and "--reinstall" in broken.fix
    works = probe_doc_conversion(Converter(soffice=fake_libreoffice(tmp_path / "ok", CONVERTS, writer=True)))
    assert works.ok and "能转换 .doc" in works.text, works


@pytest.mark.soffice
def test_probe_with_the_real_libreoffice():
    probe = probe_doc_conversion()
    assert probe.ok, probe
    (doc,) = read_document(DOC, "自检.doc", converter=Converter())
    assert doc.text == SELFTEST_TEXT


@pytest.mark.parametrize("works", [True, False])
def test_doctor_shows_the_doc_conversion(tmp_path, monkeypatch, works):
    init_folder(tmp_path)
    probe = docprobe.Probe(True, "LibreOffice 能转换 .doc 文件（/usr/bin/soffice）") if works else \
        docprobe.Probe(False, "本机 LibreOffice 缺少 Writer 组件（libreoffice-writer）：收到的 .doc、.wps 文件无法读取，"
                              "只能人工审核", docprobe.INSTALL_FIX)
    monkeypatch.setattr(docprobe, "probe_doc_conversion", lambda converter=None: probe)
    from mailbot.doctor import doctor
    lines: list[str] = []
    ok = doctor(str(tmp_path / "config.ini"), "2022-09-01", lines.append)
    shown = [x for x in lines if ".doc" in x]
    assert len(shown) == 1
    if works:
        assert shown[0].startswith("✓ LibreOffice 能转换 .doc 文件")
    else:
        assert shown[0].startswith("✗ 本机 LibreOffice 缺少 Writer 组件")
        assert shown[0].endswith("→ 安装 LibreOffice 的 Writer 组件和中文字体：apt-get install libreoffice-writer-nogui "
                                 "fonts-noto-cjk")
        assert not ok and lines[-1] == "有 ✗ 项需要处理。"


def test_doctor_names_templates_that_still_say_the_open_day(tmp_path, monkeypatch):
    """A folder made by an older `mailbot init` keeps templates that hard-code 政府开放日; with a
    年度报告 collection configured, doctor names them (and says a deleted one falls back to the
    shipped template); the shipped ones alone give no warning."""
    from mailbot.doctor import doctor
    monkeypatch.setattr(docprobe, "probe_doc_conversion", lambda converter=None: docprobe.Probe(True, "ok"))
    init_folder(tmp_path)
    cfg = tmp_path / "config.ini"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        "rules = open-day-2022.toml", "rules = open-day-2022.toml, annual-report-2022.toml"), encoding="utf-8")
    lines: list[str] = []
    doctor(str(cfg), "2023-01-05", lines.append)
    assert not [x for x in lines if "旧版本" in x]
    old = tmp_path / "templates" / "reminder.txt.j2"
    old.write_text(old.read_text(encoding="utf-8") + "\n请按时报送“政府开放日”材料。\n", encoding="utf-8")
    lines.clear()
    doctor(str(cfg), "2023-01-05", lines.append)
    warn, = [x for x in lines if "旧版本" in x]
    assert "reminder.txt.j2" in warn and "2022年政府信息公开工作年度报告" in warn and "删除" in warn


# --- tests that need a missing package skip, naming it ------------------------------------------

def _pytest(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args],
                          cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300)


def test_writer_tests_skip_without_writer_and_fail_under_strict(tmp_path):
    fake_libreoffice(tmp_path / "lo")
    path = {"PATH": f"{tmp_path / 'lo' / 'program'}{os.pathsep}{os.environ['PATH']}"}
    test = "tests/test_docread.py::test_libreoffice_word2003_xml"
    r = _pytest(test, env={**path, "MAILBOT_TEST_STRICT": "0"})
    assert r.returncode == 0 and "1 skipped" in r.stdout, r.stdout
    assert "缺少 Writer 组件" in r.stdout and "apt-get install libreoffice-writer-nogui" in r.stdout
    strict = _pytest(test, env={**path, "MAILBOT_TEST_STRICT": "1"})
    assert strict.returncode == 1 and "1 error" in strict.stdout, strict.stdout    # failed in setup
    assert "MAILBOT_TEST_STRICT=1 and LibreOffice Writer cannot convert" in strict.stdout


def test_dovecot_tests_skip_without_dovecot():
    r = _pytest("tests/test_source_imap.py::test_missing_folder_is_folder_error",
                env={"MAILBOT_TEST_DOVECOT": "/nonexistent/dovecot", "MAILBOT_TEST_STRICT": "0"})
    assert r.returncode == 0 and "1 skipped" in r.stdout, r.stdout
    assert "apt-get install dovecot-imapd dovecot-lmtpd" in r.stdout
