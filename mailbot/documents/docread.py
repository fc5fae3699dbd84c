"""Document bytes -> text, safely: the public API and the dispatch.

``read_document(data, name)`` turns one attachment into a list of ``DocText``
(a zip bundle gives one per document inside it). It never raises: whatever it
cannot read comes back with ``readable=False`` and a Chinese ``reason``.
``read_each(files)`` reads all attachments of one mail under ONE budget (parts,
decompressed bytes, characters, time); mailbot runs it in a limited worker
process (docsandbox.py).

What a file is comes from its magic bytes (``sniff``); each kind has its reader:

* .docx/.docm (and .dotx/.dotm): ``ooxml`` walks the package XML directly with lxml
  ``iterparse`` (streaming, top-level blocks cleared as they are done). On a
  ~40 KB plan this takes ~1.5 ms against ~10-12 ms for python-docx
  ``Document()`` + paragraphs/tables/headers (benchmarks/docread_bench.py),
  and it sees what python-docx misses (nested tables, text boxes, content
  controls, headers/footers of every section variant) without repeating
  merged cells. Tracked deletions are dropped, insertions kept. Macros are
  never read (``vbaProject.bin`` is not even opened).
* .doc/.wps (``cfb``), .rtf/.odt/Word-XML: converted to .docx by LibreOffice
  (``convert.Converter``) and then read as above.
* .pdf: ``pdf``, pypdf in a child process with a memory limit and a timeout; pages whose
  text layer is absent or garbage are rendered (``render``) and OCR'd (``scan``, ``ocr``).
* images (.jpg/.png/.tif/.bmp/…): ``scan`` — decoded safely, each page OCR'd and looked at for
  a red seal, within the mail's OCR budgets (``Limits.max_ocr_pages``, ``max_ocr_seconds``).
* plain text / HTML / MHT ("Word" files that are really web pages): ``plaintext``.
* .zip bundles: each member read recursively here (bounded depth and budget), through
  ``zipsafe``.

Everything that could be hostile is bounded before work is done on it: input
size, zip entry count / declared sizes / per-member ratio (read from the zip
directory before anything is decompressed), members read through size-capped
streams, XML parsed without entity resolution, network or huge trees (and a
DTD in a package part is refused), table nesting depth, output characters, and
conversion/PDF time. The budget of one call is ``doctext.Ctx``.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import time
import zipfile
import zlib
from typing import Iterable, Iterator

from mailbot.documents import cfb, convert, ooxml, pdf, plaintext, scan, sniff, zipsafe
from mailbot.documents.convert import ConversionError, Converter, lacks_writer
from mailbot.documents.doctext import (  # noqa: F401  (re-exported: the public names of docread)
    EXT_COMPATIBLE, EXT_KIND, KIND_LABELS, KINDS, MiB, UNPACK_FLOOR, REASON_CORRUPT, REASON_DTD,
    REASON_EMPTY, REASON_EMPTY_FILE, REASON_ENCRYPTED, REASON_MAIL_BYTES, REASON_MAIL_CHARS,
    REASON_MAIL_PARTS, REASON_MAIL_TIME, REASON_MEMORY, REASON_NO_WRITER, REASON_PDF_GARBLED, REASON_SCAN,
    REASON_UNKNOWN, REASON_XML, REASON_ZIP_BOMB, REASON_ZIP_CORRUPT, REASON_ZIP_EMPTY,
    REASON_ZIP_MEMBER_ENCRYPTED, REASON_ZIP_METHOD, REASON_ZIP_NESTED, REASON_OCR_MISSING, REASON_OCR_EMPTY,
    REASON_OCR_FAILED, REASON_OCR_PAGES, REASON_OCR_TIME, REASON_IMAGE_TOO_BIG, REASON_IMAGE_CORRUPT,
    REASON_IMAGE_FORMAT, REASON_RENDER, WARN_OCR, WARN_ALTCHUNK, WARN_DEEP,
    WARN_DELETIONS, WARN_EXT, WARN_FEW_WORDS_IMAGES, WARN_HIDDEN, WARN_MACRO, WARN_PDF_PAGES,
    WARN_PDF_TRUNCATED, WARN_TEXT_DECODE, WARN_TOO_MANY, WARN_TRUNCATED, WARN_XML_BROKEN, WARN_XML_CAPPED,
    Ctx, DocText, Limits, Refused, doc_text, ext_of)
from mailbot.documents.pdf import close_gaps as _close_pdf_gaps  # noqa: F401  (tests import it from here)

__all__ = [
    "DocText",
    "Limits",
    "Converter",
    "ConversionError",
    "DEFAULT",
    "lacks_writer",
    "read_document",
    "read_each",
    "unpack_budget",
    "detect_kind",
    "KINDS",
    "REASON_SCAN",
    "REASON_ENCRYPTED",
    "REASON_EMPTY",
]

log = logging.getLogger(__name__)


class _DefaultConverter:
    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        return "DEFAULT"


DEFAULT = _DefaultConverter()
"""Sentinel: use the process-wide shared ``Converter``."""


# --- entry points ------------------------------------------------------------


def read_document(data: bytes, name: str, *, converter: "Converter | None | _DefaultConverter" = DEFAULT,
                  limits: Limits = Limits()) -> list[DocText]:
    """Read one attachment. Returns at least one DocText; never raises."""
    return next(read_each([(data, name)], converter=converter, limits=limits))


def read_each(files: "Iterable[tuple[bytes, str] | None]", *,
              converter: "Converter | None | _DefaultConverter" = DEFAULT,
              limits: Limits = Limits()) -> Iterator[list[DocText]]:
    """Read one mail's attachments under ONE budget: the byte, part, character and time
    limits of ``limits`` hold for all of them together (nesting depth for each). Yields, per
    item, its DocTexts as soon as it is read ([] for None: not a document); once a budget is
    spent, each later attachment comes back unreadable with a reason naming that budget."""
    conv = convert.shared_converter() if converter is DEFAULT else converter
    files = list(files)
    deadline = time.monotonic() + limits.max_seconds if limits.max_seconds else None
    budget = unpack_budget(limits, sum(len(f[0]) for f in files if f is not None))
    ctx = Ctx(limits=limits, converter=conv, budget=budget, unpack_cap=budget,  # type: ignore[arg-type]
              deadline=deadline, read_any=_read_any)
    for item in files:
        if item is None:
            yield []
            continue
        data, name = item
        try:
            out = _read_any(bytes(data), name, ctx, 0)
        except Exception:  # pragma: no cover - last line of defence
            log.exception("docread: unexpected failure on %r", name)
            out = [doc_text(name, "unknown", reason=REASON_CORRUPT)]
        yield out or [doc_text(name, "unknown", reason=REASON_CORRUPT)]


def unpack_budget(limits: Limits, input_bytes: int) -> int:
    """Bytes one call may decompress: ``max_total_uncompressed``, and with ``max_total_ratio``
    no more than that many times the input (but at least ``UNPACK_FLOOR``). Honest documents
    unpack to a few times their size; a few KB of nested zips must not buy 200 MB of work."""
    cap = limits.max_total_uncompressed
    if limits.max_total_ratio is not None:
        cap = min(cap, max(UNPACK_FLOOR, int(limits.max_total_ratio * input_bytes)))
    return cap


def detect_kind(data: bytes, name: str = "") -> str:
    """The kind of ``data`` from its magic bytes (zip family told apart by its
    directory, never by decompressing). One of ``KINDS``."""
    try:
        kind = sniff.sniff(data)
        if kind == "cfb":
            info = cfb.inspect(data)
            return info.kind(name)
        if kind == "zip":
            if zipsafe.entry_count(data) is None:
                return "zip"
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                return ooxml.package_kind(zf, None)[0]
        if kind == "mht":
            return "html"
        return kind
    except Exception:
        return "unknown"


def _read_any(data: bytes, name: str, ctx: Ctx, depth: int) -> list[DocText]:
    limits = ctx.limits
    kind = "unknown"
    try:
        if not data:
            return [doc_text(name, "unknown", reason=REASON_EMPTY_FILE)]
        kind = sniff.sniff(data)
        ctx.enter_part()
        if len(data) > limits.max_bytes:
            k = "html" if kind == "mht" else kind
            return [doc_text(name, k if k in KINDS else "unknown",
                             reason=f"文件过大（{len(data) / MiB:.1f} MB，上限 {limits.max_bytes / MiB:.0f} MB），需人工审核")]
        if kind == "zip":
            docs = _read_zip_family(data, name, ctx, depth)
        elif kind == "cfb":
            docs = [cfb.read_cfb(data, name, ctx, depth)]
        elif kind == "rtf":
            docs = [convert.convert_and_read(data, name, "rtf", ".rtf", ctx, depth)]
        elif kind == "wordxml":
            docs = [convert.convert_and_read(data, name, "wordxml", ".xml", ctx, depth)]
        elif kind == "pdf":
            docs = [pdf.read_pdf(data, name, ctx)]
        elif kind == "image":
            docs = [scan.read_image(data, name, ctx)]
        elif kind in ("rar", "7z"):
            docs = [doc_text(name, kind, reason=f"不支持的压缩格式（{kind.upper()}），无法解压，需人工审核")]
        elif kind == "archive":
            docs = [doc_text(name, "unknown", reason="不支持的压缩格式（仅支持 zip），无法解压，需人工审核")]
        elif kind == "exe":
            ext = ext_of(name)
            what = f"（扩展名为 {ext}）" if ext else ""
            docs = [doc_text(name, "exe", reason=f"文件实际是可执行程序{what}，已拒绝读取，需人工审核")]
        elif kind == "text":
            docs = [plaintext.read_text(data, name, ctx)]
        elif kind in ("html", "mht"):
            docs = [plaintext.read_html(data, name, ctx, mht=(kind == "mht"))]
        else:
            docs = [doc_text(name, "unknown", reason=REASON_UNKNOWN)]
    except Refused as e:
        k = e.kind or ("html" if kind == "mht" else kind)
        docs = [doc_text(name, k if k in KINDS else "unknown", reason=e.reason)]
    except MemoryError:
        k = "html" if kind == "mht" else kind
        docs = [doc_text(name, k if k in KINDS else "unknown", reason=REASON_MEMORY)]
    except Exception:
        log.exception("docread: failed on %r", name)
        k = "html" if kind == "mht" else kind
        docs = [doc_text(name, k if k in KINDS else "unknown", reason=REASON_CORRUPT)]
    ctx.chars += sum(len(d.text) for d in docs if d.name == name)   # members were counted below
    return [_with_ext_warning(d) if d.name == name else d for d in docs]


def _with_ext_warning(d: DocText) -> DocText:
    ext = ext_of(d.name)
    expected = EXT_KIND.get(ext)
    if (expected is None or expected == d.kind or d.kind in ("exe", "unknown")
            or (ext, d.kind) in EXT_COMPATIBLE):
        return d
    w = WARN_EXT.format(ext=ext, label=KIND_LABELS.get(d.kind, d.kind))
    return dataclasses.replace(d, warnings=d.warnings + (w,))


def _read_zip_family(data: bytes, name: str, ctx: Ctx, depth: int) -> list[DocText]:
    limits = ctx.limits
    zf = zipsafe.open_zip(data, limits, ctx=ctx)
    kind, info = ooxml.package_kind(zf, ctx)
    if kind in ("docx", "docm"):
        try:
            return [ooxml.read_ooxml(zf, name, kind, info, ctx, depth)]
        except Refused as e:
            raise Refused(e.reason, kind=e.kind or kind) from None
    if kind == "odt":
        return [convert.convert_and_read(data, name, "odt", ".odt", ctx, depth)]
    if kind == "unknown":
        raise Refused(info["reason"], kind="unknown")
    # A bundle.
    if depth >= limits.max_archive_depth:
        raise Refused(REASON_ZIP_NESTED, kind="zip")
    out: list[DocText] = []
    members = [i for i in zf.infolist() if not i.is_dir()]
    members = [(i, zipsafe.member_name(i)) for i in members]
    members = [(i, n) for i, n in members if not zipsafe.is_junk(n)]
    if not members:
        raise Refused(REASON_ZIP_EMPTY, kind="zip")
    for idx, (info, mname) in enumerate(members):
        full = f"{name}/{mname}"
        guess = EXT_KIND.get(ext_of(mname), "unknown")
        if ctx.produced >= limits.max_documents:
            out.append(doc_text(name, "zip", reason=WARN_TOO_MANY.format(n=idx) + "，需人工审核"))
            break
        before = ctx.produced
        try:
            if info.file_size == 0:
                got = [doc_text(full, guess, reason=REASON_EMPTY_FILE)]
            else:
                member = zipsafe.read_member(zf, info, limits.max_bytes, ctx)
                got = _read_any(member, full, ctx, depth + 1)
        except Refused as e:
            got = [doc_text(full, guess, reason=e.reason)]
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError, ValueError):
            got = [doc_text(full, guess, reason=REASON_ZIP_CORRUPT)]
        ctx.produced += max(0, len(got) - (ctx.produced - before))
        out.extend(got)
        if ctx.exhausted:
            break
    return out
