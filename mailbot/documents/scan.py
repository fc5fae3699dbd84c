"""Scans read like a clerk reads them: the text of each page by OCR, and whether it carries a
red seal — for image attachments (.jpg, .png, .tif, .bmp, …) and for the pages of a PDF that
have no real text layer (rendered by ``render``).

Every page goes through ``Pages.read(image, number)``, which spends the call's OCR budget
(``Limits.max_ocr_pages``, ``max_ocr_seconds``; ``Ctx.ocr_pages``/``ocr_seconds`` count for
the whole mail): once it is spent, the remaining pages are not read and the document comes back
unreadable with a Chinese reason naming that budget. Without an OCR engine (``ocr.missing``)
nothing is recognised and the reason says what to install — scans then go to a person, as
before OCR.

An image attachment is decoded with Pillow from its bytes, never trusted: only JPEG, PNG, TIFF,
BMP, GIF and WebP decoders (no EPS/Ghostscript, no plugins), its declared size checked against
``max_image_pixels`` before any pixel is decoded, a truncated file refused (not padded),
EXIF rotation applied (a phone photo), reduced to ``max_page_side_px``. A multi-page TIFF is
read page by page.
"""
from __future__ import annotations

import io
import logging
import math
import struct
import threading
import time
from dataclasses import dataclass, field

from mailbot.documents import ocr, render
from mailbot.documents.doctext import (REASON_IMAGE_CORRUPT, REASON_IMAGE_FORMAT, REASON_IMAGE_TOO_BIG,
                                       REASON_OCR_EMPTY, REASON_OCR_FAILED, REASON_OCR_MISSING, REASON_OCR_PAGES,
                                       REASON_OCR_TIME, WARN_OCR, Ctx, DocText, clean_text, doc_text,
                                       visible_chars)

__all__ = ["Pages", "read_image", "read_pictures", "finish", "unavailable", "page_list"]

log = logging.getLogger(__name__)

FORMATS = ["JPEG", "PNG", "TIFF", "BMP", "GIF", "WEBP"]
_MIN_CHARS = 20          # fewer visible characters than this from a whole scan: nothing readable


class _Spent(Exception):
    """The OCR budget of the call is spent (or the engine is missing); ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Pages:
    """The pages of one scanned document read so far."""
    ctx: Ctx
    texts: dict[int, str] = field(default_factory=dict)      # page → OCR text
    seal_checked: list[int] = field(default_factory=list)
    seal_pages: list[int] = field(default_factory=list)
    stopped: str | None = None                                 # why the rest was not read

    def engine(self) -> "ocr.Engine":
        ctx = self.ctx
        why = unavailable(ctx.limits)
        if why:
            raise _Spent(REASON_OCR_MISSING.format(why=why))
        if ctx.ocr_engine is None:
            ctx.ocr_engine = ocr.engine()
        return ctx.ocr_engine  # type: ignore[return-value]

    def budget_left(self) -> float:
        """Seconds of OCR the call may still spend; raises _Spent when pages or seconds are gone."""
        ctx, limits = self.ctx, self.ctx.limits
        ctx.check_time()                         # the mail's own clock: Refused, as for any document
        if ctx.ocr_pages >= limits.max_ocr_pages:
            raise _Spent(REASON_OCR_PAGES.format(n=limits.max_ocr_pages))
        left = limits.max_ocr_seconds - ctx.ocr_seconds
        if left <= 0:
            raise _Spent(REASON_OCR_TIME.format(s=limits.max_ocr_seconds))
        return left

    def read(self, image, number: int) -> None:
        """OCR page ``number`` (and look for a seal on it), charging the budget."""
        eng = self.engine()
        left = self.budget_left()
        self.seal(image, number)
        limits = self.ctx.limits
        timeout = self.ctx.seconds_left(min(limits.ocr_page_timeout_s, left))
        t0 = time.monotonic()
        try:
            text = eng.read(image, timeout)
        except TimeoutError:
            self.ctx.ocr_seconds += time.monotonic() - t0
            if timeout >= left:
                raise _Spent(REASON_OCR_TIME.format(s=limits.max_ocr_seconds)) from None
            raise _Spent(REASON_OCR_FAILED.format(why=f"第 {number} 页超过 {timeout:g} 秒")) from None
        except ocr.OcrError as e:
            raise _Spent(REASON_OCR_FAILED.format(why=str(e))) from None
        finally:
            self.ctx.ocr_pages += 1
        self.ctx.ocr_seconds += time.monotonic() - t0
        self.texts[number] = clean_text(text)

    def seal(self, image, number: int) -> None:
        """The seal hook: documents/seal.py looks at the colour page (skipped where it cannot run)."""
        try:
            from mailbot.documents import seal
        except ImportError:            # numpy missing: no seal facts, the text is still read
            return
        try:
            found = seal.detect(image, dpi=_dpi(image))
        except Exception:              # a detector bug must not cost the page its text
            log.exception("seal detection failed on page %d", number)
            return
        if found.colour:
            self.seal_checked.append(number)
            if found.found:
                self.seal_pages.append(number)

    def read_all(self, images, start: int = 1) -> None:
        """OCR each image of an iterable (pages ``start``…), stopping where the budget ends."""
        try:
            for i, image in enumerate(images):
                self.read(image, start + i)
        except _Spent as e:
            self.stopped = e.reason

    def ready(self) -> bool:
        """Whether another page may be read (engine there, budget left); else ``stopped`` says why."""
        if self.stopped:
            return False
        try:
            self.engine()
            self.budget_left()
            return True
        except _Spent as e:
            self.stopped = e.reason
            return False

    def try_read(self, image, number: int) -> bool:
        """Like ``read``, but a spent budget is remembered (``stopped``) instead of raised."""
        if self.stopped:
            return False
        try:
            self.read(image, number)
            return True
        except _Spent as e:
            self.stopped = e.reason
            return False

    def fields(self) -> dict:
        """The DocText fields this reading adds (source, ocr_pages, seal_*)."""
        pages = tuple(sorted(self.texts))
        return {"source": "ocr" if pages else "text", "ocr_pages": pages,
                "seal_checked": tuple(self.seal_checked), "seal_pages": tuple(self.seal_pages)}


OCR_OFF = "本机已关闭文字识别（config.ini [limits] max_ocr_pages_per_mail 或 max_ocr_seconds_per_mail 为 0）"


def unavailable(limits, *, pdf: bool = False) -> str | None:
    """None when scans can be read here; else why not, in Chinese (switched off, or what to install)."""
    if limits.max_ocr_pages <= 0 or limits.max_ocr_seconds <= 0:
        return OCR_OFF
    return ocr.missing() or (render.missing() if pdf else None)


def page_list(pages: tuple[int, ...] | list[int]) -> str:
    shown = "、".join(str(p) for p in pages[:10])
    return shown + ("等" if len(pages) > 10 else "")


def _dpi(image) -> float | None:
    dpi = image.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else None
    except (TypeError, ValueError, IndexError):
        return None
    return value if value and 50 <= value <= 1200 else None


# --- image attachments ------------------------------------------------------------------------


class _BadImage(Exception):
    """Not decoded; ``reason`` is the Chinese reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, MemoryError, IndexError, TypeError, struct.error)


@dataclass
class _Image:
    """An opened (not yet decoded) image: its frames are decoded one at a time by ``pages()``."""
    im: object
    frames: int
    size: tuple[int, int]
    dpi: float | None

    def pages(self, limits):
        """Each frame as an RGB page: EXIF rotation applied, reduced to ``max_page_side_px``."""
        from PIL import ImageOps
        im, (w, h) = self.im, self.size
        for i in range(self.frames):
            if i:
                im.seek(i)
                if im.size[0] * im.size[1] > limits.max_image_pixels:
                    raise ValueError("frame too large")
            im.load()
            page = ImageOps.exif_transpose(im) if i == 0 else im.copy()
            page = page.convert("RGB")
            if self.dpi:                   # what the file says, scaled as the decoder scaled it
                scale = max(im.size) / max(w, h)
                page.info["dpi"] = (self.dpi * scale, self.dpi * scale)
            yield _reduce(page, limits.max_page_side_px)


def _open_image(data: bytes, limits) -> _Image:
    """Open an image from its header alone; _BadImage when it is not one we read, or too big."""
    from PIL import Image
    try:
        im = _open(Image, data)
    except Image.UnidentifiedImageError:
        fmt = _format_name(data)
        raise _BadImage(REASON_IMAGE_FORMAT.format(fmt=fmt) if fmt else REASON_IMAGE_CORRUPT) from None
    except Exception:
        raise _BadImage(REASON_IMAGE_CORRUPT) from None
    w, h = im.size
    if w * h > limits.max_image_pixels or w <= 0 or h <= 0:
        raise _BadImage(REASON_IMAGE_TOO_BIG.format(size=f"{w}×{h} 像素", mp=limits.max_image_pixels // 1_000_000))
    frames = getattr(im, "n_frames", 1) or 1
    dpi = _dpi(im)
    f = limits.max_page_side_px / max(w, h)
    if im.format == "JPEG" and f < 1:   # decode at 1/2, 1/4 or 1/8 scale when that is still big enough
        im.draft("RGB", (math.ceil(w * f), math.ceil(h * f)))
    return _Image(im, frames, (w, h), dpi)


def read_image(data: bytes, name: str, ctx: Ctx) -> DocText:
    """An image attachment: each of its pages (frames) OCR'd, within the call's budgets."""
    limits = ctx.limits
    why = unavailable(limits)
    if why:
        # Nothing to recognise with: do not even decode (today's answer, with what to install).
        return doc_text(name, "image", reason=REASON_OCR_MISSING.format(why=why))
    try:
        image = _open_image(data, limits)
    except _BadImage as e:
        return doc_text(name, "image", reason=e.reason)
    pages = Pages(ctx)
    try:
        pages.read_all(image.pages(limits))
    except _DECODE_ERRORS:
        if not pages.texts:
            return doc_text(name, "image", reason=REASON_IMAGE_CORRUPT, pages=image.frames)
        pages.stopped = pages.stopped or REASON_IMAGE_CORRUPT
    return finish(name, "image", pages, image.frames)


def read_pictures(pictures: list[bytes], pages: Pages) -> int:
    """OCR the pictures embedded in a document (a scan pasted into Word), each frame a page
    numbered from 1, into ``pages``; pictures too small to hold a page of text (icons, logos,
    rules) and pictures that cannot be decoded are skipped. Returns the pages counted."""
    limits = pages.ctx.limits
    n = 0
    for data in pictures:
        try:
            image = _open_image(data, limits)
        except _BadImage:
            continue
        if max(image.size) < 400 or min(image.size) < 150:
            continue
        try:
            for page in image.pages(limits):
                n += 1
                if not pages.try_read(page, n):
                    return n
        except _DECODE_ERRORS:
            continue
    return n


_OPEN_LOCK = threading.Lock()


def _open(Image, data: bytes):
    """``Image.open`` with Pillow's own pixel-count guard off for the call: it reads only the
    header, and ``read_image`` checks the declared size against ``max_image_pixels`` itself —
    so that the refusal can name the size (Pillow's guard would only say "too big")."""
    with _OPEN_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            return Image.open(io.BytesIO(data), formats=FORMATS)
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def finish(name: str, kind: str, pages: Pages, count: int, *,
           layer: dict[int, str] | None = None, warnings_: list[str] | None = None) -> DocText:
    """The DocText of a document whose pages were OCR'd (``pages``) or have a text layer
    (``layer``): unreadable when a needed page was not read (the budget's reason) or when no
    text came out at all."""
    layer = layer or {}
    warns = list(warnings_ or [])
    texts = {**layer, **pages.texts}
    page_texts = tuple(texts.get(i, "") for i in range(1, count + 1))
    text = "\n".join(t for t in page_texts if t.strip())
    extra = dict(pages.fields(), pages=count, page_texts=page_texts)
    cap = pages.ctx.char_cap()
    if len(text) > cap:
        text = text[:cap]
    if pages.texts:
        warns.append(WARN_OCR.format(pages=page_list(sorted(pages.texts))))
    if pages.stopped:
        return doc_text(name, kind, text, False, pages.stopped, warns, **extra)
    if visible_chars(text) < _MIN_CHARS:
        return doc_text(name, kind, text, False, REASON_OCR_EMPTY, warns, **extra)
    return doc_text(name, kind, text, True, None, warns, **extra)


def _reduce(image, max_side: int):
    w, h = image.size
    if max(w, h) <= max_side:
        return image
    f = max_side / max(w, h)
    from PIL import Image
    out = image.resize((max(1, round(w * f)), max(1, round(h * f))), Image.LANCZOS)
    dpi = _dpi(image)
    if dpi:
        out.info["dpi"] = (dpi * f, dpi * f)
    return out


def _format_name(data: bytes) -> str | None:
    h = data[:16]
    if h[4:8] == b"ftyp" and h[8:12] in (b"heic", b"heix", b"mif1"):
        return "HEIC"
    if h[4:8] == b"ftyp" and h[8:12] == b"avif":
        return "AVIF"
    if h[:4] == b"\x00\x00\x01\x00":
        return "ICO"
    return None
