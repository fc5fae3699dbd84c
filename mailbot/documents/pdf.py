"""PDF: the text layer (pypdf in a child process with a memory limit and a timeout) where it is
real, OCR (``scan``, pages rendered by ``render``) where it is absent or garbage."""
from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import tempfile
import time

from mailbot.documents import childenv, render, scan
from mailbot.documents.doctext import (MiB, REASON_CORRUPT, REASON_ENCRYPTED, REASON_OCR_MISSING, REASON_OCR_TIME,
                                       REASON_PDF_GARBLED, REASON_RENDER, REASON_SCAN, WARN_PDF_PAGES,
                                       WARN_PDF_TRUNCATED, WARN_TRUNCATED, Ctx, DocText, clean_text, doc_text,
                                       visible_chars)

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
out = {"encrypted": False, "pages": 0, "texts": [], "sizes": [], "images": [], "error": None, "truncated": False}


def size_of(page):
    try:
        box = page.mediabox
        return [abs(float(box.width)), abs(float(box.height))]
    except Exception:
        return None


def has_image(page):
    # An image XObject on the page (or in a form it draws): it may be a scanned page.
    try:
        todo, seen = [page.get("/Resources")], 0
        while todo and seen < 50:
            res = todo.pop()
            res = res.get_object() if res is not None else None
            xo = res.get("/XObject") if res else None
            xo = xo.get_object() if xo is not None else None
            for key in list(xo.keys())[:50] if xo else ():
                seen += 1
                o = xo[key].get_object()
                if o.get("/Subtype") == "/Image":
                    return True
                if o.get("/Subtype") == "/Form":
                    todo.append(o.get("/Resources"))
    except Exception:
        pass
    return False


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
            out["sizes"].append(size_of(r.pages[i]))
            out["images"].append(has_image(r.pages[i]))
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
    try:
        _rc, out, _ = childenv.run(cmd, home=tempfile.gettempdir(), data=data, timeout=timeout_s,
                                   stderr=subprocess.DEVNULL)
    except TimeoutError:
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
    images = [bool(x) for x in res.get("images") or []]
    sizes = [_size(x) for x in res.get("sizes") or []]
    need = scan_pages(texts, images)
    no_ocr = scan.unavailable(limits, pdf=True)
    if need and no_ocr is None:
        return _ocr_pdf(data, name, ctx, texts, need, sizes, warnings)
    text = close_gaps("\n".join(t.strip("\n") for t in texts))
    extra = {"pages": len(texts), "page_texts": tuple(close_gaps(t) for t in texts)}
    visible = [ch for ch in text if not ch.isspace()]
    if len(visible) < 20:
        reason = REASON_OCR_MISSING.format(why=no_ocr) if need and no_ocr else REASON_SCAN
        return doc_text(name, "pdf", text, False, reason, warnings, **extra)
    good = sum(1 for ch in visible if _plausible(ch))
    if good < 0.6 * len(visible):
        return doc_text(name, "pdf", text, False, REASON_PDF_GARBLED, warnings, **extra)
    empty = [str(i + 1) for i, t in enumerate(texts) if visible_chars(t) < 5]
    if empty:
        shown = "、".join(empty[:10]) + ("等" if len(empty) > 10 else "")
        warnings.append(WARN_PDF_PAGES.format(pages=shown))
    attention = [w for w in warnings if w.startswith(("PDF 第", "文档过长", "PDF 页数"))]
    return doc_text(name, "pdf", text, True, attention[0] if attention else None, warnings, **extra)


# --- scanned pages ---------------------------------------------------------------------------------


def _plausible(ch: str) -> bool:
    """A character a Chinese document's text layer really holds (not U+FFFD, private use, control
    characters, or the Latin-1 soup of a font without a ToUnicode map)."""
    o = ord(ch)
    if ch == "\ufffd" or 0xE000 <= o <= 0xF8FF or not ch.isprintable():
        return False
    return (o < 0x80 or 0x2000 <= o <= 0x2BFF or 0x3000 <= o <= 0x303F or 0x3400 <= o <= 0x9FFF
            or 0xFF00 <= o <= 0xFFEF or o in (0xB0, 0xB7, 0xD7, 0xF7))


def _garbage(text: str) -> bool:
    visible = [ch for ch in text if not ch.isspace()]
    return len(visible) >= 5 and sum(1 for ch in visible if _plausible(ch)) < 0.6 * len(visible)


def scan_pages(texts: list[str], images: list[bool]) -> list[int]:
    """Pages (1-based) to read by OCR: a text layer that is garbage (a font without encoding), or
    next to none (< 20 characters: a scanner's page number) on a page that shows an image; and
    every page of a document that has no real text layer at all. A blank page of a text
    document is left alone."""
    real = sum(visible_chars(t) for t in texts if not _garbage(t))
    need = []
    for i, t in enumerate(texts):
        image = images[i] if i < len(images) else False
        if _garbage(t) or (visible_chars(t) < 20 and (image or real < 20)):
            need.append(i + 1)
    return need


def _size(x) -> tuple[float, float] | None:
    try:
        w, h = float(x[0]), float(x[1])
    except (TypeError, ValueError, IndexError, KeyError):
        return None
    return (w, h) if 0 < w < 1e6 and 0 < h < 1e6 else None


def _ocr_pdf(data: bytes, name: str, ctx: Ctx, texts: list[str], need: list[int],
             sizes: list[tuple[float, float] | None], warnings: list[str]) -> DocText:
    """Render each page of ``need`` and OCR it (scan.Pages keeps the mail's OCR budget); the other
    pages keep their text layer."""
    limits = ctx.limits
    pages = scan.Pages(ctx)
    with tempfile.TemporaryDirectory(prefix="mailbot-pdf-") as tmp:
        path = os.path.join(tmp, "in.pdf")
        with open(path, "wb") as f:
            f.write(data)
        for number in need:
            if not pages.ready():
                break
            left = limits.max_ocr_seconds - ctx.ocr_seconds
            timeout = ctx.seconds_left(min(limits.pdf_timeout_s, left))
            t0 = time.monotonic()
            try:
                image = render.render_page(path, number, size_pt=sizes[number - 1] if number <= len(sizes) else None,
                                           dpi=limits.render_dpi, max_side=limits.max_page_side_px,
                                           timeout_s=timeout)
            except TimeoutError:
                pages.stopped = (REASON_OCR_TIME.format(s=limits.max_ocr_seconds) if timeout >= left
                                 else REASON_RENDER.format(why=f"第 {number} 页超过 {timeout:g} 秒"))
                break
            except render.RenderError as e:
                pages.stopped = REASON_RENDER.format(why=str(e))
                break
            finally:
                ctx.ocr_seconds += time.monotonic() - t0
            if not pages.try_read(image, number):
                break
    layer = {i + 1: close_gaps(t) for i, t in enumerate(texts) if i + 1 not in need}
    d = scan.finish(name, "pdf", pages, len(texts), layer=layer, warnings_=warnings)
    attention = [w for w in warnings if w.startswith(("文档过长", "PDF 页数"))]
    if d.readable and attention:
        d = dataclasses.replace(d, reason=attention[0])
    return d


_PDF_GAP = re.compile(r"(?<=[0-9０-９])[ \t\u3000“”\"]+(?=[年月日号时点])|(?<=[年月日号])[ \t\u3000]+(?=[0-9０-９])")


def close_gaps(text: str) -> str:
    """PDF text layers space out mixed CJK and digits ("2022 年 9 月 5 日", "30 人") and can drop
    a quote mark into the middle of a date: join the date and number runs back together.
    (Lines broken at the page edge are left alone: rejoining them also glued headings on.)"""
    text = _PDF_GAP.sub("", text)
    return re.sub(r"(?<=[0-9])[ \t\u3000]+(?=[人名位个余条])", "", text)
