"""What reading a document produces and may spend: ``DocText``, ``Limits``, the budget of
one call (``Ctx``), the kinds, and every Chinese reason and warning a reader can give.

Shared by the readers (ooxml, pdf, plaintext, cfb, convert, zipsafe, ocr); ``docread``
re-exports the public names.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from mailbot.documents.convert import Converter

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
# Scans (image-only PDF pages, image attachments) and their OCR.
REASON_OCR_MISSING = "扫描件或图片：{why}，需人工审核"
REASON_OCR_EMPTY = "扫描件或图片中没有识别出文字，需人工审核"
REASON_OCR_FAILED = "扫描件文字识别失败（{why}），需人工审核"
REASON_OCR_PAGES = "扫描页超过本邮件的文字识别上限（{n} 页），其余页未识别，已转人工审核"
REASON_OCR_TIME = "扫描件文字识别超过本邮件的时限（{s:g} 秒），其余页未识别，已转人工审核"
REASON_IMAGE_TOO_BIG = "图片尺寸过大（{size}，上限 {mp} 百万像素），已拒绝读取，需人工审核"
REASON_IMAGE_CORRUPT = "图片已损坏或不完整，无法识别，需人工审核"
REASON_IMAGE_FORMAT = "不支持识别这种格式的图片（{fmt}），请改用 JPG、PNG 或 PDF，需人工审核"
REASON_RENDER = "PDF 扫描页无法转成图片（{why}），需人工审核"

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
WARN_OCR = "文字由扫描件识别得出（第 {pages} 页），可能有个别错字，关键内容请以原件为准"

KIND_LABELS = {
    "docx": "Word（.docx）", "docm": "含宏 Word（.docm）", "doc": "Word 97-2003（.doc）",
    "wps": "WPS 文字（.wps）", "rtf": "RTF", "odt": "ODT", "wordxml": "Word XML",
    "pdf": "PDF", "zip": "zip 压缩包", "image": "图片", "rar": "RAR 压缩包",
    "7z": "7z 压缩包", "exe": "可执行程序", "text": "纯文本", "html": "网页（HTML）",
    "unknown": "未知",
}

EXT_KIND = {
    ".docx": "docx", ".dotx": "docx", ".docm": "docm", ".dotm": "docm",
    ".doc": "doc", ".dot": "doc", ".wps": "wps", ".wpt": "wps", ".rtf": "rtf",
    ".odt": "odt", ".pdf": "pdf", ".zip": "zip", ".rar": "rar", ".7z": "7z",
    ".txt": "text", ".htm": "html", ".html": "html", ".mht": "html", ".mhtml": "html",
    ".jpg": "image", ".jpeg": "image", ".png": "image", ".gif": "image",
    ".bmp": "image", ".tif": "image", ".tiff": "image", ".webp": "image",
    ".heic": "image", ".exe": "exe",
}
# Extension/kind pairs that are the same thing and deserve no warning.
EXT_COMPATIBLE = {(".doc", "wps"), (".wps", "doc"), (".docx", "docm"), (".xml", "wordxml")}


# --- public data -----------------------------------------------------------


@dataclass(frozen=True)
class DocText:
    """One document's text. ``source`` is "ocr" when any of it was recognised from a scan
    (``ocr_pages`` says which pages; a later layer says "（据扫描件识别）"), else "text".
    For a PDF or an image ``pages`` is its page count and ``page_texts`` the text of each page
    read; ``seal_checked`` are the pages looked at in colour for a red seal (scans only) and
    ``seal_pages`` those of them that carry one. Pages are numbered from 1."""
    name: str
    kind: str
    text: str
    readable: bool
    reason: str | None = None
    warnings: tuple[str, ...] = ()
    source: str = "text"
    pages: int = 0
    page_texts: tuple[str, ...] = ()
    ocr_pages: tuple[int, ...] = ()
    seal_checked: tuple[int, ...] = ()
    seal_pages: tuple[int, ...] = ()


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
    max_ocr_pages: int = 20                 # scan pages (PDF pages, images) OCR'd in the whole call
    max_ocr_seconds: float = 100.0          # seconds of rendering + OCR in the whole call
    ocr_page_timeout_s: float = 60.0        # one page's OCR
    render_dpi: int = 150                   # a scanned PDF page rendered for OCR at this resolution …
    max_page_side_px: int = 1800            # … its long side at most this (and an image reduced to it:
                                            # Tesseract reads 150-200 dpi pages best, benchmarks/ocr_bench.py)
    max_image_pixels: int = 40_000_000      # an image attachment larger than this is refused (A4 at 600 dpi: 35 M)


# --- internal control flow -------------------------------------------------


class Refused(Exception):
    """Stop reading this document; ``reason`` is user-facing."""

    def __init__(self, reason: str, kind: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


class Stop(Exception):
    """The character budget ran out."""


@dataclass
class Ctx:
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
    ocr_pages: int = 0           # scan pages OCR'd so far
    ocr_seconds: float = 0.0     # … and the seconds they took
    ocr_engine: object = None    # the OCR engine, started on the first scan (ocr.Engine, or False: none)
    # the dispatch (docread), for documents inside documents (a docx altChunk)
    read_any: "Callable[[bytes, str, Ctx, int], list[DocText]] | None" = None

    def stop(self, reason: str) -> None:
        self.exhausted = self.exhausted or reason
        raise Refused(self.exhausted)

    def charge(self, n: int) -> None:
        self.budget -= n
        if self.budget < 0:
            self.stop(REASON_MAIL_BYTES.format(mb=-(-self.unpack_cap // MiB)))
        self.check_time()

    def check_time(self) -> None:
        if self.exhausted:
            raise Refused(self.exhausted)
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


def doc_text(name: str, kind: str, text: str = "", readable: bool = False,
             reason: str | None = None, warnings: tuple[str, ...] | list[str] = (), **pages) -> DocText:
    """A DocText, warnings without repeats; ``pages``: source, pages, page_texts, ocr_pages, seal_*."""
    return DocText(name=name, kind=kind, text=text, readable=readable, reason=reason,
                   warnings=tuple(dict.fromkeys(warnings)), **pages)


def ext_of(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    i = base.rfind(".")
    return base[i:].lower() if i > 0 else ""


_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def clean_text(text: str) -> str:
    """Line ends to \\n; control characters other than tab/newline dropped."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL_RE.search(text):
        text = _CONTROL_RE.sub("", text)
    return text


def visible_chars(text: str) -> int:
    return sum(map(len, text.split()))

