"""Document bytes -> text, safely.

``read_document(data, name)`` turns one attachment into a list of ``DocText``
(a zip bundle gives one per document inside it). It never raises: whatever it
cannot read comes back with ``readable=False`` and a Chinese ``reason``.
``read_each(files)`` reads all attachments of one mail under ONE budget (parts,
decompressed bytes, characters, time); mailbot runs it in a limited worker
process (docsandbox.py).

How each format is read:

* .docx/.docm (and .dotx/.dotm): the package XML is walked directly with lxml
  ``iterparse`` (streaming, top-level blocks cleared as they are done). On a
  ~40 KB plan this takes ~1.5 ms against ~10-12 ms for python-docx
  ``Document()`` + paragraphs/tables/headers (benchmarks/docread_bench.py),
  and it sees what python-docx misses (nested tables, text boxes, content
  controls, headers/footers of every section variant) without repeating
  merged cells. Tracked deletions are dropped, insertions kept. Macros are
  never read (``vbaProject.bin`` is not even opened).
* .doc/.wps/.rtf/.odt/Word-XML: converted to .docx by LibreOffice (``Converter``)
  and then read as above.
* .pdf: pypdf, in a child process with a memory limit and a timeout.
* plain text / HTML / MHT ("Word" files that are really web pages): decoded here.
* .zip bundles: each member read recursively (bounded depth and budget).

Everything that could be hostile is bounded before work is done on it: input
size, zip entry count / declared sizes / per-member ratio (read from the zip
directory before anything is decompressed), members read through size-capped
streams, XML parsed without entity resolution, network or huge trees (and a
DTD in a package part is refused), table nesting depth, output characters, and
conversion/PDF time.
"""

from __future__ import annotations

import codecs
import email
import email.policy
import io
import json
import logging
import os
import posixpath
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from lxml import etree

from mailbot.documents import childenv

__all__ = [
    "DocText",
    "Limits",
    "Converter",
    "ConversionError",
    "DEFAULT",
    "read_document",
    "read_each",
    "detect_kind",
    "KINDS",
    "REASON_SCAN",
    "REASON_ENCRYPTED",
    "REASON_EMPTY",
]

log = logging.getLogger(__name__)

MiB = 1024 * 1024
UNPACK_FLOOR = 10 * MiB   # see unpack_budget

KINDS = (
    "docx", "docm", "doc", "wps", "rtf", "odt", "wordxml", "pdf", "zip",
    "image", "rar", "7z", "exe", "text", "html", "unknown",
)

# --- user-facing reasons and warnings (Simplified Chinese) -----------------

REASON_SCAN = "扫描件或图片，无法读取文字，需人工审核"
REASON_ENCRYPTED = "文件已加密（设有打开密码），无法读取，需人工审核"
REASON_EMPTY = "文档没有文字内容，需人工审核"
REASON_EMPTY_FILE = "文件是空的（0 字节），需人工审核"
REASON_CORRUPT = "文件已损坏或格式异常，无法读取，需人工审核"
REASON_NO_WRITER = ("本机 LibreOffice 缺少 Writer 组件（libreoffice-writer），无法转换 .doc、.wps 等文档，需人工审核；"
                    "请管理员安装后重试（Debian/Ubuntu：apt-get install libreoffice-writer-nogui）")
REASON_ZIP_CORRUPT = "压缩包已损坏，无法打开，需人工审核"
REASON_ZIP_EMPTY = "压缩包是空的，没有可读取的文件，需人工审核"
REASON_ZIP_BOMB = "压缩包解压后过大或压缩比异常（疑似压缩炸弹），已拒绝解压，需人工审核"
REASON_ZIP_NESTED = "压缩包嵌套层数过多，已拒绝解压，需人工审核"
REASON_ZIP_METHOD = "压缩包使用了不支持的压缩方式，无法解压，需人工审核"
REASON_ZIP_MEMBER_ENCRYPTED = "压缩包内的文件已加密（设有解压密码），无法读取，需人工审核"
REASON_DTD = "文档含 DTD/实体声明（正常 Word 文档不会有），疑似恶意构造，已拒绝读取，需人工审核"
REASON_XML = "文档内容损坏（XML 格式错误），无法读取，需人工审核"
REASON_UNKNOWN = "无法识别的文件格式，需人工审核"
# A budget of the whole call (one mail's attachments) ran out; the rest is not read.
REASON_MAIL_BYTES = "附件层层压缩，解压后超过本邮件的处理上限（{mb} MB），其余内容未读取，已转人工审核"
REASON_MAIL_PARTS = "附件和压缩包内的文件超过本邮件的处理上限（{n} 个），其余文件未读取，已转人工审核"
REASON_MAIL_CHARS = "附件的文字总量超过本邮件的处理上限（{n} 字），其余内容未读取，已转人工审核"
REASON_MAIL_TIME = "读取附件超过本邮件的处理时限（{s:g} 秒），未读完的附件已转人工审核"
REASON_MEMORY = "读取附件占用的内存超过上限，已停止读取该文件，已转人工审核"
REASON_PDF_GARBLED = "PDF 中的文字无法正确解码（字体缺少编码信息），需人工审核"

WARN_MACRO = "含宏的文档（{ext}），已拒绝读取宏，仅读取文字"
WARN_DELETIONS = "文档含修订痕迹，已忽略删除的文字，按修订后的文本读取"
WARN_HIDDEN = "文档含隐藏文字，已忽略"
WARN_DEEP = "表格或文本框嵌套超过 {n} 层，更深的内容已压平为纯文字"
WARN_TRUNCATED = "文档过长，仅读取了前 {n} 个字符，其余内容未检查"
WARN_XML_CAPPED = "文档内容过大，仅读取了前面部分，其余内容未检查"
WARN_XML_BROKEN = "文档部分内容损坏，仅读取了损坏位置之前的内容"
WARN_EXT = "文件扩展名为 {ext}，实际是{label}格式，已按实际格式读取"
WARN_FEW_WORDS_IMAGES = "文档文字很少且含图片（可能有扫描页），图片中的文字无法读取，需人工核对"
WARN_ALTCHUNK = "文档含无法读取的嵌入内容，需人工核对"
WARN_TEXT_DECODE = "部分文字的编码无法识别，已用替代符号显示"
WARN_PDF_PAGES = "PDF 第 {pages} 页没有文字层（可能是扫描页），需人工核对"
WARN_PDF_TRUNCATED = "PDF 页数过多，仅读取了前 {n} 页"
WARN_TOO_MANY = "压缩包内文件过多，仅读取了前 {n} 个"

KIND_LABELS = {
    "docx": "Word（.docx）", "docm": "含宏 Word（.docm）", "doc": "Word 97-2003（.doc）",
    "wps": "WPS 文字（.wps）", "rtf": "RTF", "odt": "ODT", "wordxml": "Word XML",
    "pdf": "PDF", "zip": "zip 压缩包", "image": "图片", "rar": "RAR 压缩包",
    "7z": "7z 压缩包", "exe": "可执行程序", "text": "纯文本", "html": "网页（HTML）",
    "unknown": "未知",
}

_EXT_KIND = {
    ".docx": "docx", ".dotx": "docx", ".docm": "docm", ".dotm": "docm",
    ".doc": "doc", ".dot": "doc", ".wps": "wps", ".wpt": "wps", ".rtf": "rtf",
    ".odt": "odt", ".pdf": "pdf", ".zip": "zip", ".rar": "rar", ".7z": "7z",
    ".txt": "text", ".htm": "html", ".html": "html", ".mht": "html", ".mhtml": "html",
    ".jpg": "image", ".jpeg": "image", ".png": "image", ".gif": "image",
    ".bmp": "image", ".tif": "image", ".tiff": "image", ".webp": "image",
    ".heic": "image", ".exe": "exe",
}
# Extension/kind pairs that are the same thing and deserve no warning.
_EXT_COMPATIBLE = {(".doc", "wps"), (".wps", "doc"), (".docx", "docm"), (".xml", "wordxml")}


# --- public data -----------------------------------------------------------


@dataclass(frozen=True)
class DocText:
    name: str
    kind: str
    text: str
    readable: bool
    reason: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 64 * MiB               # one input file, or one member of a bundle
    max_zip_entries: int = 2000             # entries in one zip (checked in the end record first)
    max_total_uncompressed: int = 256 * MiB  # declared total of one zip; also the whole call's budget
    max_total_ratio: float | None = None    # ... and at most this many times the input's size
    max_parts: int = 1000                   # documents and zip members visited in the whole call
    max_total_chars: int = 5_000_000        # characters extracted in the whole call
    max_seconds: float | None = None        # wall time of the whole call (checked between reads)
    max_ratio: float = 200.0                # per member, uncompressed/compressed ...
    ratio_min_size: int = 1 * MiB           # ... for members declaring at least this much
    max_xml_bytes: int = 16 * MiB           # one XML part, streamed; beyond -> truncated
    max_nesting_depth: int = 10             # nested tables / text boxes
    max_archive_depth: int = 2              # zip inside zip: depth 0 and 1 are opened
    max_documents: int = 200                # DocTexts from one call
    max_chars: int = 1_000_000              # output characters per document
    convert_timeout_s: float = 120.0        # LibreOffice, per conversion
    pdf_timeout_s: float = 60.0
    max_pdf_pages: int = 500
    pdf_memory_mb: int = 1024               # address-space limit of the PDF child process


class ConversionError(Exception):
    """A conversion failed; ``str(e)`` is a Chinese reason."""


class _DefaultConverter:
    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        return "DEFAULT"


DEFAULT = _DefaultConverter()
"""Sentinel: use the process-wide shared ``Converter``."""


# --- internal control flow -------------------------------------------------


class _Refused(Exception):
    """Stop reading this document; ``reason`` is user-facing."""

    def __init__(self, reason: str, kind: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


class _Stop(Exception):
    """The character budget ran out."""


@dataclass
class _Ctx:
    """What one call (one mail's attachments) may still spend; ``exhausted`` is the reason
    once any of it has run out, and every later part is refused with it."""
    limits: Limits
    converter: "Converter | None"
    budget: int  # bytes this call may still decompress
    unpack_cap: int = 0  # ... of this many at the start
    produced: int = 0
    parts: int = 0
    chars: int = 0
    deadline: float | None = None
    exhausted: str | None = None

    def stop(self, reason: str) -> None:
        self.exhausted = self.exhausted or reason
        raise _Refused(self.exhausted)

    def charge(self, n: int) -> None:
        self.budget -= n
        if self.budget < 0:
            self.stop(REASON_MAIL_BYTES.format(mb=-(-self.unpack_cap // MiB)))
        self.check_time()

    def check_time(self) -> None:
        if self.exhausted:
            raise _Refused(self.exhausted)
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.stop(REASON_MAIL_TIME.format(s=self.limits.max_seconds))

    def enter_part(self) -> None:
        self.check_time()
        self.parts += 1
        if self.parts > self.limits.max_parts:
            self.stop(REASON_MAIL_PARTS.format(n=self.limits.max_parts))
        if self.chars >= self.limits.max_total_chars:
            self.stop(REASON_MAIL_CHARS.format(n=self.limits.max_total_chars))

    def char_cap(self) -> int:
        """Characters the next document may produce."""
        return max(1, min(self.limits.max_chars, self.limits.max_total_chars - self.chars))

    def seconds_left(self, cap: float) -> float:
        if self.deadline is None:
            return cap
        return max(1.0, min(cap, self.deadline - time.monotonic()))


def _doc(name: str, kind: str, text: str = "", readable: bool = False,
         reason: str | None = None, warnings: tuple[str, ...] | list[str] = ()) -> DocText:
    return DocText(name=name, kind=kind, text=text, readable=readable, reason=reason,
                   warnings=tuple(dict.fromkeys(warnings)))


def _ext(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    i = base.rfind(".")
    return base[i:].lower() if i > 0 else ""


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
    conv = _shared_converter() if converter is DEFAULT else converter
    files = list(files)
    deadline = time.monotonic() + limits.max_seconds if limits.max_seconds else None
    budget = unpack_budget(limits, sum(len(f[0]) for f in files if f is not None))
    ctx = _Ctx(limits=limits, converter=conv, budget=budget, unpack_cap=budget,  # type: ignore[arg-type]
               deadline=deadline)
    for item in files:
        if item is None:
            yield []
            continue
        data, name = item
        try:
            out = _read_any(bytes(data), name, ctx, 0)
        except Exception:  # pragma: no cover - last line of defence
            log.exception("docread: unexpected failure on %r", name)
            out = [_doc(name, "unknown", reason=REASON_CORRUPT)]
        yield out or [_doc(name, "unknown", reason=REASON_CORRUPT)]


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
        kind = _sniff(data)
        if kind == "cfb":
            info = _cfb_inspect(data)
            return info.kind(name)
        if kind == "zip":
            if _zip_entry_count(data) is None:
                return "zip"
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                return _zip_family(zf, None)[0]
        if kind == "mht":
            return "html"
        return kind
    except Exception:
        return "unknown"


def _read_any(data: bytes, name: str, ctx: _Ctx, depth: int) -> list[DocText]:
    limits = ctx.limits
    kind = "unknown"
    try:
        if not data:
            return [_doc(name, "unknown", reason=REASON_EMPTY_FILE)]
        kind = _sniff(data)
        ctx.enter_part()
        if len(data) > limits.max_bytes:
            k = "html" if kind == "mht" else kind
            return [_doc(name, k if k in KINDS else "unknown",
                         reason=f"文件过大（{len(data) / MiB:.1f} MB，上限 {limits.max_bytes / MiB:.0f} MB），需人工审核")]
        if kind == "zip":
            docs = _read_zip_family(data, name, ctx, depth)
        elif kind == "cfb":
            docs = [_read_cfb(data, name, ctx, depth)]
        elif kind == "rtf":
            docs = [_convert_and_read(data, name, "rtf", ".rtf", ctx, depth)]
        elif kind == "wordxml":
            docs = [_convert_and_read(data, name, "wordxml", ".xml", ctx, depth)]
        elif kind == "pdf":
            docs = [_read_pdf(data, name, ctx)]
        elif kind == "image":
            docs = [_doc(name, "image", reason=REASON_SCAN)]
        elif kind in ("rar", "7z"):
            docs = [_doc(name, kind, reason=f"不支持的压缩格式（{kind.upper()}），无法解压，需人工审核")]
        elif kind == "archive":
            docs = [_doc(name, "unknown", reason="不支持的压缩格式（仅支持 zip），无法解压，需人工审核")]
        elif kind == "exe":
            ext = _ext(name)
            what = f"（扩展名为 {ext}）" if ext else ""
            docs = [_doc(name, "exe", reason=f"文件实际是可执行程序{what}，已拒绝读取，需人工审核")]
        elif kind == "text":
            docs = [_read_text(data, name, ctx)]
        elif kind in ("html", "mht"):
            docs = [_read_html(data, name, ctx, mht=(kind == "mht"))]
        else:
            docs = [_doc(name, "unknown", reason=REASON_UNKNOWN)]
    except _Refused as e:
        k = e.kind or ("html" if kind == "mht" else kind)
        docs = [_doc(name, k if k in KINDS else "unknown", reason=e.reason)]
    except MemoryError:
        k = "html" if kind == "mht" else kind
        docs = [_doc(name, k if k in KINDS else "unknown", reason=REASON_MEMORY)]
    except Exception:
        log.exception("docread: failed on %r", name)
        k = "html" if kind == "mht" else kind
        docs = [_doc(name, k if k in KINDS else "unknown", reason=REASON_CORRUPT)]
    ctx.chars += sum(len(d.text) for d in docs if d.name == name)   # members were counted below
    return [_with_ext_warning(d) if d.name == name else d for d in docs]


def _with_ext_warning(d: DocText) -> DocText:
    ext = _ext(d.name)
    expected = _EXT_KIND.get(ext)
    if (expected is None or expected == d.kind or d.kind in ("exe", "unknown")
            or (ext, d.kind) in _EXT_COMPATIBLE):
        return d
    w = WARN_EXT.format(ext=ext, label=KIND_LABELS.get(d.kind, d.kind))
    return DocText(d.name, d.kind, d.text, d.readable, d.reason, d.warnings + (w,))


# --- sniffing --------------------------------------------------------------

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGE_MAGIC = (
    b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*",
    b"\x00\x00\x01\x00",  # .ico
)
_EXE_MAGIC = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
              b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")


def _sniff(data: bytes) -> str:
    """Magic-byte type: zip, cfb, rtf, pdf, image, rar, 7z, archive, exe,
    wordxml, html, mht, text or unknown."""
    h = data[:32]
    if h[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return "zip"
    if h.startswith(_CFB_MAGIC):
        return "cfb"
    if h.startswith(b"{\\rtf"):
        return "rtf"
    if h.startswith(b"Rar!\x1a\x07"):
        return "rar"
    if h.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if h.startswith(_EXE_MAGIC[:-1]):
        return "exe"
    if h.startswith(_IMAGE_MAGIC) or (h[:4] == b"RIFF" and h[8:12] == b"WEBP") \
            or (h[4:8] == b"ftyp" and h[8:12] in (b"heic", b"heix", b"mif1", b"avif")) \
            or (h[:2] == b"BM" and len(data) > 26 and struct.unpack_from("<I", data, 2)[0] == len(data)):
        return "image"
    if h.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")) or data[257:262] == b"ustar":
        return "archive"
    if b"%PDF-" in data[:1024]:
        return "pdf"
    return _sniff_text(data)


def _sniff_text(data: bytes) -> str:
    head = data[:8192]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            s = head[: len(head) // 2 * 2].decode("utf-16", "ignore")
        except Exception:
            return "unknown"
    else:
        if b"\x00" in head:
            return "unknown"
        s = head.decode("utf-8", "ignore")
        if not s and head:
            s = head.decode("gb18030", "ignore")
    if head.startswith(b"#!"):
        return "exe"
    low = s.lstrip("\ufeff \t\r\n").lower()
    bad = sum(1 for ch in s if (ord(ch) < 32 and ch not in "\t\n\r\f") or ord(ch) == 0x7F)
    if s and bad > max(2, len(s) // 100):
        return "unknown"
    if low.startswith("<?xml") or low.startswith("<w:worddocument") or low.startswith("<pkg:package"):
        if 'progid="word.document"' in low or "<w:worddocument" in low or "<pkg:package" in low:
            return "wordxml"
    if low.startswith(("<!doctype html", "<html")) or "<html" in low[:2048]:
        return "html"
    first = low[:2048]
    if first.startswith(("mime-version:", "from:", "content-type:", "subject:", "date:")) \
            and "multipart/related" in first:
        return "mht"
    return "text"


# --- zip handling --------------------------------------------------------------


def _zip_entry_count(data: bytes) -> int | None:
    """Total entries from the end-of-central-directory record (zip64 aware),
    without building the directory. None if there is no end record."""
    tail_start = max(0, len(data) - (22 + 65535))
    pos = data.rfind(b"PK\x05\x06", tail_start)
    if pos < 0 or pos + 22 > len(data):
        return None
    total = struct.unpack_from("<H", data, pos + 10)[0]
    if total == 0xFFFF and pos >= 20 and data[pos - 20:pos - 16] == b"PK\x06\x07":
        z64 = struct.unpack_from("<Q", data, pos - 20 + 8)[0]
        if 0 <= z64 <= len(data) - 56 and data[z64:z64 + 4] == b"PK\x06\x06":
            total = struct.unpack_from("<Q", data, z64 + 32)[0]
    return total


def _open_zip(data: bytes, limits: Limits, *, what: str = "zip", ctx: _Ctx | None = None) -> zipfile.ZipFile:
    """Open a zip after checking its directory against the limits (and, with ``ctx``, its
    declared total against what the call may still decompress)."""
    count = _zip_entry_count(data)
    if count is None:
        raise _Refused(REASON_ZIP_CORRUPT if what == "zip" else REASON_CORRUPT)
    if count > limits.max_zip_entries:
        raise _Refused(f"压缩包内文件数过多（{count} 个，上限 {limits.max_zip_entries} 个），已拒绝解压，需人工审核")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError,
            NotImplementedError, struct.error, UnicodeDecodeError):
        raise _Refused(REASON_ZIP_CORRUPT if what == "zip" else REASON_CORRUPT) from None
    if len(infos) > limits.max_zip_entries:
        raise _Refused(f"压缩包内文件数过多（{len(infos)} 个，上限 {limits.max_zip_entries} 个），已拒绝解压，需人工审核")
    total = 0
    bomb = False
    for info in infos:
        total += info.file_size
        if info.file_size >= limits.ratio_min_size and \
                info.file_size > limits.max_ratio * max(info.compress_size, 1):
            bomb = True
    if bomb or total > limits.max_total_uncompressed:
        raise _Refused(REASON_ZIP_BOMB, kind=_guess_zip_kind(infos))
    if ctx is not None and total > ctx.budget:
        raise _Refused(REASON_MAIL_BYTES.format(mb=-(-ctx.unpack_cap // MiB)), kind=_guess_zip_kind(infos))
    return zf


def _guess_zip_kind(infos: list[zipfile.ZipInfo]) -> str:
    """Kind from member names alone (nothing decompressed)."""
    names = {i.filename.lower().lstrip("/") for i in infos}
    if "[content_types].xml" in names and any(n.startswith("word/") for n in names):
        return "docm" if "word/vbaproject.bin" in names else "docx"
    if "mimetype" in names and "content.xml" in names:
        return "odt"
    return "zip"


class _CappedStream(io.RawIOBase):
    """Read at most ``cap`` bytes of ``f``; notes whether more was there."""

    def __init__(self, f, cap: int, ctx: _Ctx | None = None) -> None:
        self._f = f
        self._left = cap
        self._ctx = ctx
        self.capped = False

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            if not self.capped and self._f.read(1):
                self.capped = True
            return b""
        if n is None or n < 0 or n > self._left:
            n = self._left
        n = min(n, 1 << 16)
        chunk = self._f.read(n)
        self._left -= len(chunk)
        if self._ctx is not None:
            self._ctx.charge(len(chunk))
        return chunk

    def readinto(self, b) -> int:  # pragma: no cover - lxml uses read()
        chunk = self.read(len(b))
        b[: len(chunk)] = chunk
        return len(chunk)


def _check_member(info: zipfile.ZipInfo) -> None:
    if info.flag_bits & 0x1:
        raise _Refused(REASON_ZIP_MEMBER_ENCRYPTED)
    # bzip2/lzma members decompress without an output bound inside zipfile:
    # only stored and deflated are accepted.
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _Refused(REASON_ZIP_METHOD)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, ctx: _Ctx) -> bytes:
    """Whole member, at most ``cap`` bytes (else _Refused)."""
    _check_member(info)
    if info.file_size > cap:
        raise _Refused(f"文件过大（{info.file_size / MiB:.1f} MB），已拒绝解压，需人工审核")
    buf = bytearray()
    with zf.open(info) as f:
        while True:
            chunk = f.read(min(1 << 16, cap + 1 - len(buf)))
            if not chunk:
                break
            buf += chunk
            ctx.charge(len(chunk))
            if len(buf) > cap:
                raise _Refused(REASON_ZIP_BOMB)
    return bytes(buf)


def _member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author meant it: UTF-8 flag, Info-ZIP Unicode
    Path extra field, else the raw bytes tried as UTF-8 then GB18030 (Windows
    Chinese zip tools write GBK names without the UTF-8 flag)."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            raw = name.encode("cp437")
        except UnicodeEncodeError:
            raw = None
        upath = _unicode_path_extra(info.extra, raw)
        if upath:
            name = upath
        elif raw is not None and not raw.isascii():
            for enc in ("utf-8", "gb18030"):
                try:
                    name = raw.decode(enc)
                    break
                except UnicodeDecodeError:
                    continue
    return name.replace("\\", "/")


def _unicode_path_extra(extra: bytes, raw: bytes | None) -> str | None:
    i = 0
    while i + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, i)
        body = extra[i + 4:i + 4 + size]
        i += 4 + size
        if tag == 0x7075 and len(body) > 5 and body[0] == 1:
            crc = struct.unpack_from("<I", body, 1)[0]
            if raw is None or zlib.crc32(raw) == crc:
                try:
                    return body[5:].decode("utf-8")
                except UnicodeDecodeError:
                    return None
    return None


_JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}


def _is_junk(path: str) -> bool:
    base = path.rsplit("/", 1)[-1]
    return (path.startswith("__MACOSX/") or base.startswith("._") or base.startswith("~$")
            or base.lower() in _JUNK_NAMES or not base)


# content types of the main part
_CT_WORD = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": "docx",
    "application/vnd.ms-word.document.macroenabled.main+xml": "docm",
    "application/vnd.ms-word.template.macroenabledtemplate.main+xml": "docm",
}
_REL_OFFICE_DOC = ("/officeDocument",)
_ODF_TEXT = ("application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.text-template")


def _zip_family(zf: zipfile.ZipFile, ctx: _Ctx | None) -> tuple[str, dict]:
    """(kind, info) of an opened zip: docx/docm, odt, zip (a bundle), or
    ('unknown', {'reason': ...}) for other office formats."""
    names = {i.filename.lower().lstrip("/"): i for i in zf.infolist()}
    if "[content_types].xml" in names:
        ct = _content_types(zf, names, ctx)
        main = None
        rels = _rels(zf, names, "_rels/.rels", ctx)
        for _rid, (rtype, target, external) in rels.items():
            if rtype.endswith(_REL_OFFICE_DOC) and not external:
                main = _resolve("", target)
                break
        if main is None or main.lower() not in names:
            main = "word/document.xml" if "word/document.xml" in names else main
        main_ct = ct(main) if main else ""
        kind = _CT_WORD.get(main_ct)
        if kind is None:
            if "spreadsheetml" in main_ct or "ms-excel" in main_ct:
                return "unknown", {"reason": "不支持的文件类型（Excel 表格），需人工审核"}
            if "presentationml" in main_ct or "ms-powerpoint" in main_ct:
                return "unknown", {"reason": "不支持的文件类型（PowerPoint 演示文稿），需人工审核"}
            if main and main.lower() in names and main.lower().startswith("word/"):
                kind = "docx"
            else:
                return "unknown", {"reason": REASON_CORRUPT}
        return kind, {"main": main, "names": names, "ct": ct}
    if "mimetype" in names:
        info = names["mimetype"]
        if info.file_size < 200 and info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) \
                and not info.flag_bits & 1:
            mt = zf.read(info).decode("ascii", "ignore").strip()
            if mt in _ODF_TEXT:
                return "odt", {}
            if mt.startswith("application/vnd.oasis.opendocument"):
                return "unknown", {"reason": "不支持的文件类型（ODF 表格或演示文稿），需人工审核"}
    if "word/document.xml" in names:
        return "docx", {"main": "word/document.xml", "names": names}
    return "zip", {}


def _read_zip_family(data: bytes, name: str, ctx: _Ctx, depth: int) -> list[DocText]:
    limits = ctx.limits
    zf = _open_zip(data, limits, ctx=ctx)
    kind, info = _zip_family(zf, ctx)
    if kind in ("docx", "docm"):
        try:
            return [_read_ooxml(zf, name, kind, info, ctx, depth)]
        except _Refused as e:
            raise _Refused(e.reason, kind=e.kind or kind) from None
    if kind == "odt":
        return [_convert_and_read(data, name, "odt", ".odt", ctx, depth)]
    if kind == "unknown":
        raise _Refused(info["reason"], kind="unknown")
    # A bundle.
    if depth >= limits.max_archive_depth:
        raise _Refused(REASON_ZIP_NESTED, kind="zip")
    out: list[DocText] = []
    members = [i for i in zf.infolist() if not i.is_dir()]
    members = [(i, _member_name(i)) for i in members]
    members = [(i, n) for i, n in members if not _is_junk(n)]
    if not members:
        raise _Refused(REASON_ZIP_EMPTY, kind="zip")
    for idx, (info, mname) in enumerate(members):
        full = f"{name}/{mname}"
        guess = _EXT_KIND.get(_ext(mname), "unknown")
        if ctx.produced >= limits.max_documents:
            out.append(_doc(name, "zip", reason=WARN_TOO_MANY.format(n=idx) + "，需人工审核"))
            break
        before = ctx.produced
        try:
            if info.file_size == 0:
                got = [_doc(full, guess, reason=REASON_EMPTY_FILE)]
            else:
                member = _read_member(zf, info, limits.max_bytes, ctx)
                got = _read_any(member, full, ctx, depth + 1)
        except _Refused as e:
            got = [_doc(full, guess, reason=e.reason)]
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError, ValueError):
            got = [_doc(full, guess, reason=REASON_ZIP_CORRUPT)]
        ctx.produced += max(0, len(got) - (ctx.produced - before))
        out.extend(got)
        if ctx.exhausted:
            break
    return out


# --- OOXML (docx/docm) -------------------------------------------------------------

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W_STRICT_NS = "http://purl.oclc.org/ooxml/wordprocessingml/main"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
M_NS = "http://schemas.openxmlformats.org/officeDocument/2006/math"
M_STRICT_NS = "http://purl.oclc.org/ooxml/officeDocument/math"
R_NAMESPACES = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships",
                "http://purl.oclc.org/ooxml/officeDocument/relationships")
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"

MC_ALT = f"{{{MC_NS}}}AlternateContent"
MC_CHOICE = f"{{{MC_NS}}}Choice"
MC_FALLBACK = f"{{{MC_NS}}}Fallback"

_SAFE = dict(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
             remove_comments=True, remove_pis=True)


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(**_SAFE)


def _parse_small(data: bytes) -> etree._Element:
    root = etree.fromstring(data, _safe_parser())
    if root.getroottree().docinfo.internalDTD is not None:
        raise _Refused(REASON_DTD)
    return root


def _read_part(zf: zipfile.ZipFile, names: dict, part: str, ctx: _Ctx | None, cap: int = 8 * MiB) -> bytes | None:
    info = names.get(part.lower().lstrip("/"))
    if info is None:
        return None
    if ctx is None:
        ctx = _Ctx(Limits(), None, budget=cap * 2)
    return _read_member(zf, info, cap, ctx)


def _content_types(zf, names, ctx) -> Callable[[str], str]:
    data = _read_part(zf, names, "[Content_Types].xml", ctx, cap=4 * MiB)
    defaults: dict[str, str] = {}
    overrides: dict[str, str] = {}
    if data:
        root = _parse_small(data)
        for el in root:
            tag = etree.QName(el).localname if isinstance(el.tag, str) else ""
            if tag == "Default":
                defaults[(el.get("Extension") or "").lower()] = (el.get("ContentType") or "").lower()
            elif tag == "Override":
                overrides[(el.get("PartName") or "").lower().lstrip("/")] = (el.get("ContentType") or "").lower()

    def lookup(part: str) -> str:
        p = part.lower().lstrip("/")
        if p in overrides:
            return overrides[p]
        return defaults.get(p.rsplit(".", 1)[-1] if "." in p else "", "")

    return lookup


def _rels(zf, names, part: str, ctx) -> dict[str, tuple[str, str, bool]]:
    """rId -> (type, target, external)."""
    data = _read_part(zf, names, part, ctx, cap=4 * MiB)
    out: dict[str, tuple[str, str, bool]] = {}
    if not data:
        return out
    root = _parse_small(data)
    for el in root:
        if not isinstance(el.tag, str) or etree.QName(el).localname != "Relationship":
            continue
        rid = el.get("Id")
        if rid:
            out[rid] = (el.get("Type") or "", el.get("Target") or "",
                        (el.get("TargetMode") or "").lower() == "external")
    return out


def _resolve(source_part: str, target: str) -> str:
    target = target.replace("\\", "/")
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    base = posixpath.dirname(source_part)
    return posixpath.normpath(posixpath.join(base, target)).lstrip("/")


def _rels_part(part: str) -> str:
    d, b = posixpath.split(part)
    return posixpath.join(d, "_rels", b + ".rels")


class _Tags:
    """Qualified tag names for one WordprocessingML namespace."""

    NAMES = (
        "p", "r", "t", "tab", "ptab", "br", "cr", "sym", "noBreakHyphen", "softHyphen",
        "delText", "drawing", "pict", "object", "ruby", "rubyBase", "hyperlink", "ins",
        "del", "moveFrom", "moveTo", "smartTag", "customXml", "fldSimple", "dir", "bdo",
        "sdt", "sdtContent", "sdtPr", "showingPlcHdr", "tbl", "tr", "tc", "trPr", "tcPr",
        "vMerge", "hMerge", "pPr", "rPr", "vanish", "sectPr", "headerReference",
        "footerReference", "txbxContent", "altChunk", "body", "hdr", "ftr", "footnote",
        "endnote",
    )

    def __init__(self, ns: str, m_ns: str) -> None:
        self.ns = ns
        for n in self.NAMES:
            setattr(self, n, f"{{{ns}}}{n}")
        self.a_val = f"{{{ns}}}val"
        self.a_type = f"{{{ns}}}type"
        self.a_char = f"{{{ns}}}char"
        self.a_font = f"{{{ns}}}font"
        self.m_t = f"{{{m_ns}}}t"
        self.m_math = (f"{{{m_ns}}}oMath", f"{{{m_ns}}}oMathPara")
        self.inline_pass = frozenset((self.hyperlink, self.ins, self.moveTo, self.smartTag,
                                      self.customXml, self.fldSimple, self.dir, self.bdo))
        self.deleted = frozenset((self.del_, self.moveFrom))
        self.containers = frozenset((self.body, self.hdr, self.ftr, self.footnote, self.endnote))
        self.top = (self.p, self.tbl, self.sdt, self.customXml, self.altChunk, self.sectPr,
                    self.del_, self.moveFrom)

    @property
    def del_(self) -> str:
        return f"{{{self.ns}}}del"


_TAGS = {W_NS: _Tags(W_NS, M_NS), W_STRICT_NS: _Tags(W_STRICT_NS, M_STRICT_NS)}
_TOP_TAGS = tuple(t for tags in _TAGS.values() for t in tags.top)

# Wingdings / Wingdings 2 characters that Chinese forms use as check boxes.
_SYM = {
    ("wingdings", 0xFE): "☑", ("wingdings", 0xFD): "☒", ("wingdings", 0xA8): "□",
    ("wingdings", 0x6F): "□", ("wingdings", 0xFC): "✓", ("wingdings", 0xFB): "✗",
    ("wingdings 2", 0x52): "☑", ("wingdings 2", 0x54): "☒", ("wingdings 2", 0xA3): "□",
    ("wingdings 2", 0x50): "✓", ("wingdings 2", 0x4F): "✗",
}


def _first_choice(alt: etree._Element) -> etree._Element | None:
    for c in alt:
        if c.tag == MC_CHOICE:
            return c
    return None


def _r_id(el: etree._Element) -> str | None:
    for ns in R_NAMESPACES:
        v = el.get(f"{{{ns}}}id")
        if v:
            return v
    return None


class _Walker:
    """Turns WordprocessingML block elements into lines of text."""

    def __init__(self, tags: _Tags, limits: Limits) -> None:
        self.T = tags
        self.max_depth = limits.max_nesting_depth
        self.deleted = False
        self.hidden = False
        self.too_deep = False
        self.drawings = 0
        self.refs: list[tuple[str, str]] = []  # ("header"|"footer", rId), in order
        self.altchunk: Callable[[str], list[str]] | None = None

    # blocks ---------------------------------------------------------------
    def block(self, el: etree._Element, depth: int, out: list[str]) -> None:
        T = self.T
        tag = el.tag
        if tag == T.p:
            self.para(el, depth, out)
        elif tag == T.tbl:
            self.table(el, depth + 1, out)
        elif tag == T.sdt:
            content = self._sdt_content(el)
            if content is not None:
                for c in content:
                    self.block(c, depth, out)
        elif tag == T.customXml or tag == T.ins or tag == T.moveTo:
            for c in el:
                self.block(c, depth, out)
        elif tag in T.deleted:
            self.deleted = True
        elif tag == T.sectPr:
            self._sect(el)
        elif tag == T.altChunk:
            rid = _r_id(el)
            if rid and self.altchunk is not None:
                out.extend(self.altchunk(rid))
        elif tag == MC_ALT:
            ch = _first_choice(el)
            if ch is not None:
                for c in ch:
                    self.block(c, depth, out)
        elif tag == T.r:  # stray run at block level
            buf: list[str] = []
            boxes: list[etree._Element] = []
            self.run(el, buf, boxes)
            out.append("".join(buf))

    def _sdt_content(self, sdt: etree._Element) -> etree._Element | None:
        T = self.T
        content = None
        for c in sdt:
            if c.tag == T.sdtPr:
                if c.find(T.showingPlcHdr) is not None:
                    return None  # placeholder prompt ("单击此处输入文字"), not content
            elif c.tag == T.sdtContent:
                content = c
        return content

    def _sect(self, sect: etree._Element) -> None:
        T = self.T
        for c in sect:
            if c.tag == T.headerReference or c.tag == T.footerReference:
                rid = _r_id(c)
                if rid:
                    self.refs.append(("header" if c.tag == T.headerReference else "footer", rid))

    def para(self, p: etree._Element, depth: int, out: list[str]) -> None:
        T = self.T
        buf: list[str] = []
        boxes: list[etree._Element] = []
        self.inline(p, buf, boxes)
        text = "".join(buf).strip("\n")
        keep = True
        if len(p) and p[0].tag == T.pPr:
            ppr = p[0]
            sect = ppr.find(T.sectPr)
            if sect is not None:
                self._sect(sect)
            rpr = ppr.find(T.rPr)
            if rpr is not None and not text and rpr.find(T.del_) is not None:
                keep = False  # the paragraph mark itself was deleted
                self.deleted = True
        if keep:
            out.append(text)
        for box in boxes:
            if depth + 1 > self.max_depth:
                self.too_deep = True
                flat = self.flat(box)
                if flat:
                    out.append(flat)
                continue
            for c in box:
                self.block(c, depth + 1, out)

    def inline(self, parent: etree._Element, buf: list[str], boxes: list[etree._Element]) -> None:
        T = self.T
        for c in parent:
            tag = c.tag
            if tag == T.r:
                self.run(c, buf, boxes)
            elif tag in T.inline_pass:
                self.inline(c, buf, boxes)
            elif tag == T.sdt:
                content = self._sdt_content(c)
                if content is not None:
                    self.inline(content, buf, boxes)
            elif tag in T.deleted:
                self.deleted = True
            elif tag == MC_ALT:
                ch = _first_choice(c)
                if ch is not None:
                    self.inline(ch, buf, boxes)
            elif tag in T.m_math:
                buf.append("".join(t.text or "" for t in c.iter(T.m_t)))

    def run(self, r: etree._Element, buf: list[str], boxes: list[etree._Element]) -> None:
        T = self.T
        for c in r:
            tag = c.tag
            if tag == T.t:
                if c.text:
                    buf.append(c.text)
            elif tag == T.rPr:
                v = c.find(T.vanish)
                if v is not None and v.get(T.a_val) not in ("0", "false", "off"):
                    self.hidden = True
                    return
            elif tag == T.tab or tag == T.ptab:
                buf.append("\t")
            elif tag == T.br or tag == T.cr:
                buf.append("\n")
            elif tag == T.noBreakHyphen:
                buf.append("-")
            elif tag == T.sym:
                buf.append(self._sym(c))
            elif tag == T.drawing or tag == T.pict or tag == T.object:
                self.drawings += 1
                self._find_boxes(c, boxes)
            elif tag == MC_ALT:
                ch = _first_choice(c)
                if ch is not None:
                    self.run(ch, buf, boxes)
            elif tag == T.ruby:
                base = c.find(T.rubyBase)
                if base is not None:
                    self.inline(base, buf, boxes)
            elif tag == T.delText:
                self.deleted = True

    def _sym(self, el: etree._Element) -> str:
        T = self.T
        try:
            code = int(el.get(T.a_char) or "", 16)
        except ValueError:
            return ""
        font = (el.get(T.a_font) or "").strip().lower()
        low = code - 0xF000 if 0xF000 <= code <= 0xF0FF else code
        mapped = _SYM.get((font, low))
        if mapped:
            return mapped
        if 0xE000 <= code <= 0xF8FF or code < 0x20:
            return ""
        try:
            return chr(code)
        except ValueError:
            return ""

    def _find_boxes(self, el: etree._Element, boxes: list[etree._Element]) -> None:
        T = self.T
        for c in el:
            tag = c.tag
            if tag == T.txbxContent:
                boxes.append(c)
            elif tag == MC_FALLBACK:
                continue  # the same text box again, as VML: never read twice
            elif tag == MC_ALT:
                ch = _first_choice(c)
                if ch is not None:
                    self._find_boxes(ch, boxes)
            elif len(c):
                self._find_boxes(c, boxes)

    # tables -----------------------------------------------------------------
    def table(self, tbl: etree._Element, depth: int, out: list[str]) -> None:
        if depth > self.max_depth:
            self.too_deep = True
            flat = self.flat(tbl)
            if flat:
                out.append(flat)
            return
        T = self.T
        for tr in self._children(tbl, T.tr):
            trpr = tr.find(T.trPr)
            if trpr is not None and trpr.find(T.del_) is not None:
                self.deleted = True
                continue
            cells: list[str] = []
            for tc in self._children(tr, T.tc):
                tcpr = tc[0] if len(tc) and tc[0].tag == T.tcPr else None
                if tcpr is not None:
                    vm = tcpr.find(T.vMerge)
                    hm = tcpr.find(T.hMerge)
                    if (vm is not None and vm.get(T.a_val) != "restart") or \
                            (hm is not None and hm.get(T.a_val) != "restart"):
                        cells.append("")  # continuation of a merged cell: its text is above/left
                        continue
                lines: list[str] = []
                for c in tc:
                    self.block(c, depth, lines)
                cells.append("\n".join(lines).strip("\n"))
            out.append("\t".join(cells))

    def _children(self, parent: etree._Element, want: str) -> Iterator[etree._Element]:
        """Rows of a table / cells of a row, also when wrapped in sdt or customXml."""
        T = self.T
        for c in parent:
            tag = c.tag
            if tag == want:
                yield c
            elif tag == T.sdt:
                content = self._sdt_content(c)
                if content is not None:
                    yield from self._children(content, want)
            elif tag == T.customXml or tag == T.ins or tag == T.moveTo:
                yield from self._children(c, want)
            elif tag in T.deleted:
                self.deleted = True

    def flat(self, el: etree._Element) -> str:
        """All w:t text below ``el`` on one line, without recursion."""
        return " ".join(t.text for t in el.iter(self.T.t) if t.text)


class _Budget:
    def __init__(self, max_chars: int) -> None:
        self.left = max_chars
        self.truncated = False

    def take(self, lines: list[str], out: list[str]) -> None:
        for line in lines:
            n = len(line) + 1
            if n > self.left:
                if self.left > 1:
                    out.append(line[: self.left - 1])
                self.left = 0
                self.truncated = True
                raise _Stop
            self.left -= n
            out.append(line)


@dataclass
class _PartResult:
    lines: list[str] = field(default_factory=list)
    capped: bool = False
    broken: bool = False


def _walk_part(stream: _CappedStream, limits: Limits, budget: _Budget,
               make_walker: Callable[[_Tags], _Walker]) -> tuple[_PartResult, _Walker | None]:
    """Stream one WordprocessingML part, emitting each top-level block as it ends."""
    res = _PartResult()
    walker: _Walker | None = None
    containers: frozenset[str] = frozenset()
    skip_notes = ("separator", "continuationSeparator", "continuationNotice")
    root: etree._Element | None = None
    done: etree._Element | None = None  # last block emitted (cleared, still in the tree)
    try:
        for _ev, el in etree.iterparse(stream, events=("end",), tag=_TOP_TAGS, **_SAFE):
            parent = el.getparent()
            if parent is None:
                continue
            if walker is None:
                if el.getroottree().docinfo.internalDTD is not None:
                    raise _Refused(REASON_DTD)
                ns = etree.QName(el).namespace
                walker = make_walker(_TAGS[ns])
                containers = walker.T.containers
                root = el.getroottree().getroot()
            if parent.tag not in containers:
                continue
            if parent.get(walker.T.a_type) not in skip_notes:
                lines: list[str] = []
                walker.block(el, 0, lines)
                budget.take(lines, res.lines)
            el.clear()
            done = el
            while el.getprevious() is not None:
                del parent[0]
    except _Stop:
        pass
    except etree.XMLSyntaxError as e:
        msg = str(e)
        if "amplification" in msg or "entity reference loop" in msg.lower():
            raise _Refused(REASON_DTD) from None
        if stream.capped:
            res.capped = True
        elif "Excessive depth" in msg:
            raise _Refused("文档结构嵌套过深，疑似恶意构造，已拒绝读取，需人工审核") from None
        else:
            res.broken = True
        if walker is not None and root is not None:
            _salvage(root, done, walker, budget, res, skip_notes)
    if stream.capped:
        res.capped = True
    return res, walker


def _salvage(root: etree._Element, done: etree._Element | None, walker: _Walker, budget: _Budget,
             res: _PartResult, skip_notes: tuple[str, ...]) -> None:
    """After a parse error (or the size cap), read the blocks parsed so far
    that never reached their end tag (e.g. the one table holding everything)."""
    T = walker.T
    try:
        for cont in root.iter(*T.containers):
            if cont.get(T.a_type) in skip_notes:
                continue
            for child in list(cont):
                if child is done or child.tag not in _TOP_TAGS:
                    continue
                lines: list[str] = []
                walker.block(child, 0, lines)
                budget.take(lines, res.lines)
    except _Stop:
        pass


def _read_ooxml(zf: zipfile.ZipFile, name: str, kind: str, info: dict, ctx: _Ctx, depth: int,
                *, kind_override: str | None = None) -> DocText:
    limits = ctx.limits
    names: dict[str, zipfile.ZipInfo] = info["names"]
    main: str = info["main"]
    warnings: list[str] = []
    out_kind = kind_override or kind
    macro = kind == "docm" or any(n.endswith("vbaproject.bin") for n in names)
    if macro and kind_override is None:
        out_kind = "docm"
        warnings.append(WARN_MACRO.format(ext=".docm"))
    main_info = names.get(main.lower())
    if main_info is None:
        raise _Refused(REASON_CORRUPT)
    _check_member(main_info)
    doc_rels = _rels(zf, names, _rels_part(main), ctx)
    ct = info.get("ct") or _content_types(zf, names, ctx)
    max_chars = ctx.char_cap()
    budget = _Budget(max_chars)
    flags = {"deleted": False, "hidden": False, "too_deep": False, "drawings": 0}

    def altchunk(rid: str) -> list[str]:
        rel = doc_rels.get(rid)
        if rel is None or rel[2]:
            return []
        part = _resolve(main, rel[1])
        try:
            data = _read_part(zf, names, part, ctx, cap=limits.max_xml_bytes)
        except _Refused:
            data = None
        if not data:
            warnings.append(WARN_ALTCHUNK)
            return []
        ctype = ct(part)
        text = None
        if "html" in ctype:
            text = _html_bytes_to_text(data)
        elif ctype in ("message/rfc822", "multipart/related") or part.lower().endswith((".mht", ".mhtml")):
            text = _mht_to_text(data)
        elif ctype.startswith("text/plain"):
            text = _decode_text(data)[0]
        elif "wordprocessingml" in ctype or _sniff(data) == "zip":
            if depth < limits.max_archive_depth:
                sub = _read_any(data, name, ctx, depth + 1)
                if sub and sub[0].readable:
                    text = sub[0].text
        if text is None:
            warnings.append(WARN_ALTCHUNK)
            return []
        return text.split("\n")

    def make_walker(tags: _Tags) -> _Walker:
        w = _Walker(tags, limits)
        w.altchunk = altchunk
        return w

    def stream(part_info: zipfile.ZipInfo) -> _CappedStream:
        _check_member(part_info)
        return _CappedStream(zf.open(part_info), limits.max_xml_bytes, ctx)

    def collect(w: _Walker | None) -> None:
        if w is not None:
            flags["deleted"] |= w.deleted
            flags["hidden"] |= w.hidden
            flags["too_deep"] |= w.too_deep
            flags["drawings"] += w.drawings

    body_res, body_walker = _walk_part(stream(main_info), limits, budget, make_walker)
    collect(body_walker)
    if body_res.capped:
        warnings.append(WARN_XML_CAPPED)
    if body_res.broken:
        if not body_res.lines:
            raise _Refused(REASON_XML)
        warnings.append(WARN_XML_BROKEN)

    # headers/footers referenced by any section (default/first/even), then notes
    def read_aux(part: str) -> list[str]:
        inf = names.get(part.lower())
        if inf is None or budget.left <= 0:
            return []
        try:
            res, w = _walk_part(stream(inf), limits, budget, make_walker)
        except _Refused as e:
            if e.reason == REASON_DTD:
                raise
            return []
        collect(w)
        return res.lines

    header_lines: list[str] = []
    footer_lines: list[str] = []
    seen_parts: set[str] = set()
    seen_text: set[str] = set()
    refs = body_walker.refs if body_walker is not None else []
    for which, rid in refs:
        rel = doc_rels.get(rid)
        if rel is None or rel[2]:
            continue
        part = _resolve(main, rel[1])
        if part.lower() in seen_parts:
            continue
        seen_parts.add(part.lower())
        lines = [ln for ln in read_aux(part)]
        text = "\n".join(lines).strip()
        if not text or text in seen_text:
            continue
        seen_text.add(text)
        (header_lines if which == "header" else footer_lines).extend(ln for ln in lines if ln.strip())
    note_lines: list[str] = []
    for rtype, target, external in doc_rels.values():
        if external or not rtype.endswith(("/footnotes", "/endnotes")):
            continue
        note_lines.extend(ln for ln in read_aux(_resolve(main, target)) if ln.strip())

    all_lines = header_lines + body_res.lines + note_lines + footer_lines
    text = _clean("\n".join(all_lines))
    if flags["deleted"]:
        warnings.append(WARN_DELETIONS)
    if flags["hidden"]:
        warnings.append(WARN_HIDDEN)
    if flags["too_deep"]:
        warnings.append(WARN_DEEP.format(n=limits.max_nesting_depth))
    if budget.truncated:
        warnings.append(WARN_TRUNCATED.format(n=max_chars))
    visible = _visible(text)
    has_media = flags["drawings"] > 0 or any(n.startswith("word/media/") for n in names)
    if visible < 20 and has_media:
        return _doc(name, out_kind, text, False, REASON_SCAN, warnings)
    if visible == 0:
        return _doc(name, out_kind, text, False, REASON_EMPTY, warnings)
    if visible < 300 and has_media:
        warnings.append(WARN_FEW_WORDS_IMAGES)
    attention = [w for w in warnings if w.startswith(("含宏", "文档过长", "文档内容过大", "文档部分内容损坏",
                                                      "文档文字很少"))]
    return _doc(name, out_kind, text, True, attention[0] if attention else None, warnings)


_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _clean(text: str) -> str:
    """Line ends to \\n; control characters other than tab/newline dropped."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL_RE.search(text):
        text = _CONTROL_RE.sub("", text)
    return text


def _visible(text: str) -> int:
    return sum(map(len, text.split()))


# --- CFB (OLE2): .doc / .wps / encrypted OOXML -------------------------------------


@dataclass
class _CfbInfo:
    streams: set[str]
    word_encrypted: bool = False

    def kind(self, name: str) -> str:
        s = self.streams
        if "encryptedpackage" in s and "encryptioninfo" in s:
            return "docm" if _ext(name) in (".docm", ".dotm") else "docx"
        if "worddocument" in s:
            return "wps" if _ext(name) in (".wps", ".wpt") else "doc"
        return "unknown"


def _cfb_inspect(data: bytes) -> _CfbInfo:
    """Directory entry names of a Compound File (lower-cased), and the Word
    FIB encryption flag. Bounded by the file size; raises on a broken file."""
    if len(data) < 512 or not data.startswith(_CFB_MAGIC):
        raise ValueError("not a CFB")
    sshift = struct.unpack_from("<H", data, 0x1E)[0]
    if sshift not in (9, 12):
        raise ValueError("bad sector size")
    ssz = 1 << sshift
    n_fat, first_dir = struct.unpack_from("<II", data, 0x2C)
    first_difat, n_difat = struct.unpack_from("<II", data, 0x44)
    nsect = max(0, (len(data) - ssz) // ssz)

    def sector(i: int) -> bytes:
        if i >= nsect:
            raise ValueError("sector out of range")
        off = (i + 1) * ssz
        return data[off:off + ssz]

    fat_sectors = [x for x in struct.unpack_from("<109I", data, 0x4C) if x < 0xFFFFFFFA]
    seen: set[int] = set()
    d = first_difat
    for _ in range(min(n_difat, nsect)):
        if d >= 0xFFFFFFFA or d in seen:
            break
        seen.add(d)
        vals = struct.unpack(f"<{ssz // 4}I", sector(d))
        fat_sectors.extend(x for x in vals[:-1] if x < 0xFFFFFFFA)
        d = vals[-1]
    fat_sectors = fat_sectors[: max(n_fat, 0) or len(fat_sectors)]
    fat: list[int] = []
    for s in fat_sectors[: nsect]:
        fat.extend(struct.unpack(f"<{ssz // 4}I", sector(s)))
    streams: set[str] = set()
    entries: dict[str, tuple[int, int]] = {}
    s = first_dir
    seen = set()
    while s < 0xFFFFFFFA and s not in seen and len(seen) <= nsect:
        seen.add(s)
        blk = sector(s)
        for off in range(0, ssz, 128):
            e = blk[off:off + 128]
            nlen = struct.unpack_from("<H", e, 0x40)[0]
            etype = e[0x42]
            if etype == 0 or nlen < 2 or nlen > 64:
                continue
            nm = e[: nlen - 2].decode("utf-16-le", "ignore").lower()
            streams.add(nm)
            start = struct.unpack_from("<I", e, 0x74)[0]
            size = struct.unpack_from("<I", e, 0x78)[0]
            entries.setdefault(nm, (start, size))
        s = fat[s] if s < len(fat) else 0xFFFFFFFE
    info = _CfbInfo(streams=streams)
    wd = entries.get("worddocument")
    if wd is not None and wd[1] >= 4096 and wd[0] < nsect:  # in regular sectors
        fib = sector(wd[0])[:12]
        if len(fib) == 12 and struct.unpack_from("<H", fib, 0)[0] == 0xA5EC:
            flags = struct.unpack_from("<H", fib, 0x0A)[0]
            info.word_encrypted = bool(flags & 0x0100) or bool(flags & 0x8000)
    return info


def _read_cfb(data: bytes, name: str, ctx: _Ctx, depth: int) -> DocText:
    try:
        info = _cfb_inspect(data)
    except (ValueError, struct.error, IndexError):
        raise _Refused(REASON_CORRUPT, kind="unknown") from None
    kind = info.kind(name)
    s = info.streams
    if "encryptedpackage" in s and "encryptioninfo" in s:
        return _doc(name, kind, reason=REASON_ENCRYPTED)
    if "worddocument" in s:
        if info.word_encrypted:
            return _doc(name, kind, reason=REASON_ENCRYPTED)
        extra = ()
        if "macros" in s or "_vba_project_cur" in s or "vba" in s:
            extra = (WARN_MACRO.format(ext=_ext(name) or ".doc"),)
        d = _convert_and_read(data, name, kind, ".doc", ctx, depth)  # .wps is DOC-based: name it .doc
        if extra:
            reason = d.reason if not d.readable else (d.reason or extra[0])
            d = DocText(d.name, d.kind, d.text, d.readable, reason, extra + d.warnings)
        return d
    if "workbook" in s or "book" in s:
        return _doc(name, "unknown", reason="不支持的文件类型（Excel 表格），需人工审核")
    if "powerpoint document" in s:
        return _doc(name, "unknown", reason="不支持的文件类型（PowerPoint 演示文稿），需人工审核")
    return _doc(name, "unknown", reason=REASON_UNKNOWN)


# --- LibreOffice conversion ---------------------------------------------------

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
                proc = childenv.popen(cmd, home=home, extra_env={"SAL_USE_VCLPLUGIN": "svp"},
                                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, cwd=work)
                try:
                    _out, err = proc.communicate(timeout=timeout_s)
                except subprocess.TimeoutExpired:
                    _killpg(proc.pid)
                    proc.communicate()
                    raise ConversionError(f"文档转换超时（超过 {timeout_s:g} 秒），需人工审核") from None
                finally:
                    _killpg(proc.pid)  # stragglers left in the group
                result = os.path.join(outdir, "input." + target)
                size = os.path.getsize(result) if os.path.isfile(result) else 0
                if size == 0:
                    log.info("soffice rc=%s produced no output: %s", proc.returncode,
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


def _killpg(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


_SHARED: Converter | None = None
_SHARED_LOCK = threading.Lock()


def _shared_converter() -> Converter:
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = Converter()
        return _SHARED


_CONVERT_LABEL = {"doc": ".doc", "wps": ".wps", "rtf": ".rtf", "odt": ".odt", "wordxml": "Word XML"}


def _convert_and_read(data: bytes, name: str, kind: str, suffix: str, ctx: _Ctx, depth: int) -> DocText:
    conv = ctx.converter
    label = _CONVERT_LABEL.get(kind, suffix)
    if conv is None:
        return _doc(name, kind, reason=f"未启用 LibreOffice 转换，无法读取 {label} 文件，需人工审核")
    if not conv.available():
        return _doc(name, kind, reason=f"未安装 LibreOffice，无法转换 {label} 文件，需人工审核")
    try:
        docx = conv.to_docx(data, suffix, timeout_s=ctx.seconds_left(ctx.limits.convert_timeout_s))
    except ConversionError as e:
        return _doc(name, kind, reason=str(e))
    except Exception:
        log.exception("docread: conversion of %r failed", name)
        return _doc(name, kind, reason=REASON_CORRUPT)
    zf = _open_zip(docx, ctx.limits, what="docx", ctx=ctx)
    fam, info = _zip_family(zf, ctx)
    if fam not in ("docx", "docm"):
        return _doc(name, kind, reason=REASON_CORRUPT)
    return _read_ooxml(zf, name, fam, info, ctx, depth, kind_override=kind)


# --- PDF -------------------------------------------------------------------------

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


def _read_pdf(data: bytes, name: str, ctx: _Ctx) -> DocText:
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
        _killpg(proc.pid)
        proc.communicate()
        return _doc(name, "pdf", reason=f"PDF 读取超时（超过 {timeout_s:g} 秒），需人工审核")
    try:
        res = json.loads(out.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return _doc(name, "pdf", reason=REASON_CORRUPT)
    if res.get("encrypted"):
        return _doc(name, "pdf", reason=REASON_ENCRYPTED)
    if res.get("error") and not res.get("texts"):
        return _doc(name, "pdf", reason=REASON_CORRUPT)
    texts: list[str] = [_clean(t) for t in res.get("texts", [])]
    warnings: list[str] = []
    npages = int(res.get("pages") or 0)
    if npages > limits.max_pdf_pages:
        warnings.append(WARN_PDF_TRUNCATED.format(n=limits.max_pdf_pages))
    if res.get("truncated"):
        warnings.append(WARN_TRUNCATED.format(n=max_chars))
    text = _close_pdf_gaps("\n".join(t.strip("\n") for t in texts))
    visible = [ch for ch in text if not ch.isspace()]
    if len(visible) < 20:
        return _doc(name, "pdf", text, False, REASON_SCAN, warnings)
    good = sum(1 for ch in visible if ch.isprintable() and ch != "\ufffd"
               and not 0xE000 <= ord(ch) <= 0xF8FF)
    if good < 0.6 * len(visible):
        return _doc(name, "pdf", text, False, REASON_PDF_GARBLED, warnings)
    empty = [str(i + 1) for i, t in enumerate(texts) if sum(1 for ch in t if not ch.isspace()) < 5]
    if empty:
        shown = "、".join(empty[:10]) + ("等" if len(empty) > 10 else "")
        warnings.append(WARN_PDF_PAGES.format(pages=shown))
    attention = [w for w in warnings if w.startswith(("PDF 第", "文档过长", "PDF 页数"))]
    return _doc(name, "pdf", text, True, attention[0] if attention else None, warnings)


_PDF_GAP = re.compile(r"(?<=[0-9０-９])[ \t\u3000“”\"]+(?=[年月日号时点])|(?<=[年月日号])[ \t\u3000]+(?=[0-9０-９])")


def _close_pdf_gaps(text: str) -> str:
    """PDF text layers space out mixed CJK and digits ("2022 年 9 月 5 日", "30 人") and can drop
    a quote mark into the middle of a date: join the date and number runs back together.
    (Lines broken at the page edge are left alone: rejoining them also glued headings on.)"""
    text = _PDF_GAP.sub("", text)
    return re.sub(r"(?<=[0-9])[ \t\u3000]+(?=[人名位个余条])", "", text)


# --- text, HTML, MHT ---------------------------------------------------------------

_GB_ALIASES = {"gb2312", "gbk", "cp936", "x-gbk", "gb_2312-80", "euc-cn", "csgb2312", "x-euc-cn", "936"}


def _norm_charset(cs: str | None) -> str | None:
    if not cs:
        return None
    cs = cs.strip().strip("\"'").lower()
    if cs in _GB_ALIASES:
        return "gb18030"
    try:
        return codecs.lookup(cs).name
    except LookupError:
        return None


def _decode_text(data: bytes, declared: str | None = None) -> tuple[str, bool]:
    """(text, lossy). BOM, then the declared charset, then UTF-8, then GB18030."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "replace"), False
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data[: len(data) // 2 * 2].decode("utf-16", "replace"), False
    for enc in (_norm_charset(declared), "utf-8", "gb18030"):
        if not enc:
            continue
        try:
            return data.decode(enc), False
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("gb18030", "replace"), True


def _limit_text(text: str, cap: int, warnings: list[str]) -> str:
    if len(text) > cap:
        warnings.append(WARN_TRUNCATED.format(n=cap))
        return text[:cap]
    return text


def _finish_plain(name: str, kind: str, text: str, warnings: list[str], ctx: _Ctx) -> DocText:
    text = _limit_text(_clean(text), ctx.char_cap(), warnings)
    if not text.strip():
        return _doc(name, kind, text, False, REASON_EMPTY, warnings)
    attention = [w for w in warnings if w.startswith("文档过长")]
    return _doc(name, kind, text, True, attention[0] if attention else None, warnings)


def _read_text(data: bytes, name: str, ctx: _Ctx) -> DocText:
    text, lossy = _decode_text(data)
    warnings = [WARN_TEXT_DECODE] if lossy else []
    return _finish_plain(name, "text", text, warnings, ctx)


_CHARSET_RE = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", re.I)
_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.S)
_HTML_BLOCKS = frozenset(("p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table",
                          "section", "article", "blockquote", "pre", "ul", "ol", "dl", "dt", "dd",
                          "header", "footer", "hr", "address", "center"))
_HTML_SKIP = frozenset(("script", "style", "head", "title", "noscript", "template", "xml", "object"))
_WS_RE = re.compile(r"[ \t\r\n\f\v\u00a0]+")


def _html_bytes_to_text(data: bytes, declared: str | None = None) -> str:
    m = _CHARSET_RE.search(data[:4096])
    text, _lossy = _decode_text(data, declared or (m.group(1).decode("ascii", "ignore") if m else None))
    return _html_to_text(text)


def _html_to_text(s: str) -> str:
    from lxml import html as lhtml

    s = _XML_DECL_RE.sub("", s, count=1)
    if not s.strip():
        return ""
    parser = lhtml.HTMLParser(no_network=True, remove_comments=True, remove_pis=True,
                              recover=True, huge_tree=False)
    try:
        root = lhtml.document_fromstring(s, parser=parser)
    except (etree.ParserError, ValueError):
        return ""
    parts: list[str] = []
    skip_depth = 0
    for ev, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        local = tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()
        if ev == "start":
            if local in _HTML_SKIP:
                skip_depth += 1
            if skip_depth:
                continue
            if local == "br":
                parts.append("\n")
            if el.text and tag:
                parts.append(_WS_RE.sub(" ", el.text))
        else:
            if local in _HTML_SKIP:
                skip_depth -= 1
                if skip_depth:
                    continue
            elif skip_depth:
                continue
            if local in _HTML_BLOCKS:
                parts.append("\n")
            elif local in ("td", "th"):
                parts.append("\t")
            if el.tail:
                parts.append(_WS_RE.sub(" ", el.tail))
    lines = []
    for line in "".join(parts).split("\n"):
        line = re.sub(r" *\t *", "\t", line).strip(" ").rstrip("\t")
        if line.strip():
            lines.append(line)
    return "\n".join(lines)


def _mht_to_text(data: bytes) -> str:
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    html_part = plain_part = None
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "text/html" and html_part is None:
            html_part = part
        elif ctype == "text/plain" and plain_part is None:
            plain_part = part
    part = html_part or plain_part
    if part is None:
        return ""
    payload = part.get_payload(decode=True) or b""
    if part is html_part:
        return _html_bytes_to_text(payload, part.get_content_charset())
    return _decode_text(payload, part.get_content_charset())[0]


def _read_html(data: bytes, name: str, ctx: _Ctx, *, mht: bool) -> DocText:
    text = _mht_to_text(data) if mht else _html_bytes_to_text(data)
    return _finish_plain(name, "html", text, [], ctx)
