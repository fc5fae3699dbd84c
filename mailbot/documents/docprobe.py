"""Can this machine really read a Word .doc? `mailbot doctor` and the test suite ask.

A tiny .doc shipped with the package (selftest.doc, made by LibreOffice from a one-line .docx)
goes through the same Converter and reader as a department's attachment; the text must come
back. A LibreOffice without Writer, a broken one, or none at all each get their own answer.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mailbot.documents.docread import Converter, lacks_writer, read_document

SELFTEST_DOC = Path(__file__).resolve().parent / "selftest.doc"
SELFTEST_TEXT = "mailbot 自检文档：西吉县“政府开放日”实施方案"
INSTALL_FIX = "安装 LibreOffice 的 Writer 组件和中文字体：apt-get install libreoffice-writer-nogui fonts-noto-cjk"


@dataclass(frozen=True)
class Probe:
    ok: bool
    text: str          # one line for doctor, Chinese
    fix: str = ""      # what to do when not ok


def probe_doc_conversion(converter: Converter | None = None) -> Probe:
    """Convert SELFTEST_DOC and check its text (one LibreOffice start, about 2 s)."""
    conv = converter or Converter()
    exe = conv.binary()
    if exe is None:
        return Probe(False, "未安装 LibreOffice：收到的 .doc、.wps 文件无法读取，只能人工审核", INSTALL_FIX)
    (doc,) = read_document(SELFTEST_DOC.read_bytes(), "自检.doc", converter=conv)
    if doc.readable and SELFTEST_TEXT in doc.text:
        return Probe(True, f"LibreOffice 能转换 .doc 文件（{exe}）")
    if lacks_writer(exe):
        return Probe(False, "本机 LibreOffice 缺少 Writer 组件（libreoffice-writer）：收到的 .doc、.wps 文件无法读取，"
                            "只能人工审核", INSTALL_FIX)
    why = doc.reason or f"读出的文字不对：{doc.text[:40]!r}"
    return Probe(False, f"LibreOffice（{exe}）无法转换 .doc 文件：{why}",
                 "重新安装 LibreOffice：apt-get install --reinstall libreoffice-writer-nogui fonts-noto-cjk，"
                 "然后再运行 mailbot doctor")
