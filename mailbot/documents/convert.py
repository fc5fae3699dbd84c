"""LibreOffice headless conversion (.doc/.wps/.rtf/.odt/Word XML -> .docx, and to PDF for
rendering), each call in a private profile and process group, without network."""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from mailbot.documents import childenv, ooxml, zipsafe
from mailbot.documents.doctext import MiB, REASON_CORRUPT, REASON_NO_WRITER, Ctx, DocText, doc_text

log = logging.getLogger(__name__)


class ConversionError(Exception):
    """A conversion failed; ``str(e)`` is a Chinese reason."""


_FILTERS = {
    "docx": "docx:MS Word 2007 XML",
    "doc": "doc:MS Word 97",
    "odt": "odt:writer8",
    "rtf": "rtf:Rich Text Format",
    "pdf": "pdf:writer_pdf_Export",
}

_LO_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Writer/Content/Update"><prop oor:name="Link" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""

_UNSHARE_OK: bool | None = None


def _can_unshare() -> bool:
    """Whether ``unshare -rn`` works here (user + network namespace)."""
    global _UNSHARE_OK
    if _UNSHARE_OK is None:
        exe = shutil.which("unshare")
        ok = False
        if exe:
            try:
                ok = subprocess.run([exe, "-rn", "true"], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    env=childenv.minimal(tempfile.gettempdir()), timeout=5).returncode == 0
            except (OSError, subprocess.SubprocessError):
                ok = False
        _UNSHARE_OK = ok
    return _UNSHARE_OK


class Converter:
    """LibreOffice headless conversion (.doc/.wps/.rtf/.odt/Word XML -> .docx).

    Each call gets its own profile (``-env:UserInstallation``) and HOME in a
    fresh temp dir, a pre-seeded profile that disables macros and link updates,
    no network where ``unshare -rn`` works, a timeout that kills the whole
    process group, and its output file is checked (soffice may exit 0 without
    writing anything). One conversion at a time per process.
    """

    _lock = threading.Lock()

    def __init__(self, soffice: str | None = None, *, isolate_network: bool = True,
                 tmp_dir: str | None = None, max_output_bytes: int = 256 * MiB) -> None:
        self._soffice = soffice
        self.isolate_network = isolate_network
        self.tmp_dir = tmp_dir
        self.max_output_bytes = max_output_bytes

    def binary(self) -> str | None:
        if self._soffice:
            return shutil.which(self._soffice) or (self._soffice if os.path.isfile(self._soffice) else None)
        return shutil.which("soffice") or shutil.which("libreoffice")

    def available(self) -> bool:
        return self.binary() is not None

    def to_docx(self, data: bytes, suffix: str, *, timeout_s: float = 120.0) -> bytes:
        return self.convert(data, suffix, "docx", timeout_s=timeout_s)

    def convert(self, data: bytes, suffix: str, target: str = "docx", *, timeout_s: float = 120.0) -> bytes:
        """Convert ``data`` (a file whose extension is ``suffix``) to ``target``
        (docx, doc, odt, rtf). Raises ConversionError with a Chinese reason."""
        exe = self.binary()
        if exe is None:
            raise ConversionError("未安装 LibreOffice，无法转换文档，需人工审核")
        filt = _FILTERS[target]
        with self._lock:
            work = tempfile.mkdtemp(prefix="mailbot-lo-", dir=self.tmp_dir)
            try:
                profile = os.path.join(work, "profile")
                home = os.path.join(work, "home")
                outdir = os.path.join(work, "out")
                for d in (os.path.join(profile, "user"), home, outdir):
                    os.makedirs(d)
                with open(os.path.join(profile, "user", "registrymodifications.xcu"), "w", encoding="utf-8") as f:
                    f.write(_LO_PROFILE)
                src = os.path.join(work, "input" + suffix)
                with open(src, "wb") as f:
                    f.write(data)
                cmd = [exe, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless",
                       "--invisible", "--norestore", "--nolockcheck", "--nodefault", "--nologo",
                       "--convert-to", filt, "--outdir", outdir, src]
                if self.isolate_network and _can_unshare():
                    cmd = [shutil.which("unshare") or "unshare", "-rn", "--"] + cmd
                try:
                    returncode, _out, err = childenv.run(cmd, home=home, extra_env={"SAL_USE_VCLPLUGIN": "svp"},
                                                         timeout=timeout_s, cwd=work)
                except TimeoutError:
                    raise ConversionError(f"文档转换超时（超过 {timeout_s:g} 秒），需人工审核") from None
                result = os.path.join(outdir, "input." + target)
                size = os.path.getsize(result) if os.path.isfile(result) else 0
                if size == 0:
                    log.info("soffice rc=%s produced no output: %s", returncode,
                             err.decode("utf-8", "replace")[-500:])
                    if lacks_writer(exe):       # then every document fails, damaged or not
                        raise ConversionError(REASON_NO_WRITER)
                    raise ConversionError("LibreOffice 无法转换该文件（可能已损坏或加密），需人工审核")
                if size > self.max_output_bytes:
                    raise ConversionError("转换结果过大，需人工审核")
                with open(result, "rb") as f:
                    return f.read()
            finally:
                shutil.rmtree(work, ignore_errors=True)


def lacks_writer(soffice: str) -> bool:
    """True when `soffice` belongs to a LibreOffice installed without Writer (Debian: Calc alone,
    or libreoffice-writer-nogui removed). Such an install answers every .doc/.wps/.rtf like a
    damaged file (exit 0, no output); its layout tells the two apart: <install>/share/registry
    holds main.xcd, plus writer.xcd and program/*swlo.* (the Writer library) only with Writer.
    A layout we do not recognise (a wrapper script, macOS) gives False."""
    program = Path(os.path.realpath(soffice)).parent
    registry = program.parent / "share" / "registry"
    if not (registry / "main.xcd").is_file():
        return False
    return not (registry / "writer.xcd").is_file() or not any(program.glob("*swlo.*"))


_SHARED: Converter | None = None
_SHARED_LOCK = threading.Lock()


def shared_converter() -> Converter:
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = Converter()
        return _SHARED


_CONVERT_LABEL = {"doc": ".doc", "wps": ".wps", "rtf": ".rtf", "odt": ".odt", "wordxml": "Word XML"}


def convert_and_read(data: bytes, name: str, kind: str, suffix: str, ctx: Ctx, depth: int) -> DocText:
    conv = ctx.converter
    label = _CONVERT_LABEL.get(kind, suffix)
    if conv is None:
        return doc_text(name, kind, reason=f"未启用 LibreOffice 转换，无法读取 {label} 文件，需人工审核")
    if not conv.available():
        return doc_text(name, kind, reason=f"未安装 LibreOffice，无法转换 {label} 文件，需人工审核")
    try:
        docx = conv.to_docx(data, suffix, timeout_s=ctx.seconds_left(ctx.limits.convert_timeout_s))
    except ConversionError as e:
        return doc_text(name, kind, reason=str(e))
    except Exception:
        log.exception("docread: conversion of %r failed", name)
        return doc_text(name, kind, reason=REASON_CORRUPT)
    zf = zipsafe.open_zip(docx, ctx.limits, what="docx", ctx=ctx)
    fam, info = ooxml.package_kind(zf, ctx)
    if fam not in ("docx", "docm"):
        return doc_text(name, kind, reason=REASON_CORRUPT)
    return ooxml.read_ooxml(zf, name, fam, info, ctx, depth, kind_override=kind)
