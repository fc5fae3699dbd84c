"""PDF text layer: pypdf in a child process with a memory limit and a timeout."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile

from mailbot.documents import childenv
from mailbot.documents.doctext import (MiB, REASON_CORRUPT, REASON_ENCRYPTED, REASON_PDF_GARBLED, REASON_SCAN,
                                       WARN_PDF_PAGES, WARN_PDF_TRUNCATED, WARN_TRUNCATED, Ctx, DocText,
                                       clean_text, doc_text, kill_group)

_PDF_WORKER = r"""
import io, json, sys
mem, max_pages, max_chars = (int(a) for a in sys.argv[1:4])
try:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
except Exception:
    pass
import logging, warnings
logging.disable(logging.CRITICAL)
warnings.simplefilter("ignore")
out = {"encrypted": False, "pages": 0, "texts": [], "error": None, "truncated": False}
try:
    data = sys.stdin.buffer.read()
    from pypdf import PdfReader
    r = PdfReader(io.BytesIO(data), strict=False)
    if r.is_encrypted:
        try:
            ok = r.decrypt("")
        except Exception:
            ok = 0
        if not ok:
            out["encrypted"] = True
    if not out["encrypted"]:
        n = len(r.pages)
        out["pages"] = n
        total = 0
        for i in range(min(n, max_pages)):
            try:
                t = r.pages[i].extract_text() or ""
            except Exception:
                t = ""
            t = t[: max(0, max_chars - total)]
            out["texts"].append(t)
            total += len(t)
            if total >= max_chars:
                out["truncated"] = True
                break
except MemoryError:
    out["error"] = "memory"
except Exception as e:
    out["error"] = type(e).__name__ + ": " + str(e)[:200]
sys.stdout.write(json.dumps(out, ensure_ascii=False))
"""


def read_pdf(data: bytes, name: str, ctx: Ctx) -> DocText:
    limits = ctx.limits
    max_chars = ctx.char_cap()
    timeout_s = ctx.seconds_left(limits.pdf_timeout_s)
    cmd = [sys.executable, "-I", "-c", _PDF_WORKER, str(limits.pdf_memory_mb * MiB),
           str(limits.max_pdf_pages), str(max_chars)]
    proc = childenv.popen(cmd, home=tempfile.gettempdir(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL)
    try:
        out, _ = proc.communicate(data, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        proc.communicate()
        return doc_text(name, "pdf", reason=f"PDF 读取超时（超过 {timeout_s:g} 秒），需人工审核")
    try:
        res = json.loads(out.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return doc_text(name, "pdf", reason=REASON_CORRUPT)
    if res.get("encrypted"):
        return doc_text(name, "pdf", reason=REASON_ENCRYPTED)
    if res.get("error") and not res.get("texts"):
        return doc_text(name, "pdf", reason=REASON_CORRUPT)
    texts: list[str] = [clean_text(t) for t in res.get("texts", [])]
    warnings: list[str] = []
    npages = int(res.get("pages") or 0)
    if npages > limits.max_pdf_pages:
        warnings.append(WARN_PDF_TRUNCATED.format(n=limits.max_pdf_pages))
    if res.get("truncated"):
        warnings.append(WARN_TRUNCATED.format(n=max_chars))
    text = close_gaps("\n".join(t.strip("\n") for t in texts))
    visible = [ch for ch in text if not ch.isspace()]
    if len(visible) < 20:
        return doc_text(name, "pdf", text, False, REASON_SCAN, warnings)
    good = sum(1 for ch in visible if ch.isprintable() and ch != "\ufffd"
               and not 0xE000 <= ord(ch) <= 0xF8FF)
    if good < 0.6 * len(visible):
        return doc_text(name, "pdf", text, False, REASON_PDF_GARBLED, warnings)
    empty = [str(i + 1) for i, t in enumerate(texts) if sum(1 for ch in t if not ch.isspace()) < 5]
    if empty:
        shown = "、".join(empty[:10]) + ("等" if len(empty) > 10 else "")
        warnings.append(WARN_PDF_PAGES.format(pages=shown))
    attention = [w for w in warnings if w.startswith(("PDF 第", "文档过长", "PDF 页数"))]
    return doc_text(name, "pdf", text, True, attention[0] if attention else None, warnings)


_PDF_GAP = re.compile(r"(?<=[0-9０-９])[ \t\u3000“”\"]+(?=[年月日号时点])|(?<=[年月日号])[ \t\u3000]+(?=[0-9０-９])")


def close_gaps(text: str) -> str:
    """PDF text layers space out mixed CJK and digits ("2022 年 9 月 5 日", "30 人") and can drop
    a quote mark into the middle of a date: join the date and number runs back together.
    (Lines broken at the page edge are left alone: rejoining them also glued headings on.)"""
    text = _PDF_GAP.sub("", text)
    return re.sub(r"(?<=[0-9])[ \t\u3000]+(?=[人名位个余条])", "", text)
