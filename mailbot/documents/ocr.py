"""Text from a page image, offline: Tesseract 5 with Debian's Simplified Chinese data.

``engine()`` is the OCR engine of this machine, or None with ``missing()`` saying why in Chinese
(then scans are left to a person, as before OCR). ``Engine.read(image, timeout_s)`` gives the
page's text: Tesseract's word boxes (TSV) put back into lines, a tab between table cells of one
row (as the .docx reader gives a table row), a paragraph wrapped at the page edge joined again
(so that "2022年9月" / "5日" is one date), no space between Chinese characters and digits.

Why Tesseract (``tesseract-ocr`` + ``tesseract-ocr-chi-sim``, called as a child process), measured
by benchmarks/ocr_bench.py on 14 pages made here (.docx → PDF → 150 dpi, tilted 1–2°, blurred,
speckled, JPEG 60), against rapidocr-onnxruntime 1.4.4 (PP-OCRv4 models inside its wheel):
facts found 20/20 vs 19/20 (dates, headcounts, phones, contacts), characters 0.942 vs 0.951,
0.9 vs 4.5 CPU seconds a page, ~100 MB of memory vs ~600 MB (1.5 GB of address space: more than
the document worker's whole budget), no onnxruntime/opencv wheels. As a child process it is
limited, timed and killed like LibreOffice. Its data ships in the distribution; nothing is
downloaded at run time. Pages are read at ~150 dpi: on these scans Tesseract did worse on the
same page enlarged (1.5x: 0.71) and on a 300-dpi scan kept at 300 dpi than reduced to ~150.

``RapidOcr`` is kept for the benchmark only: ``engine("rapidocr")`` uses it where it is
installed; mailbot does not depend on it.
"""
from __future__ import annotations

import functools
import io
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from mailbot.documents import childenv

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["Engine", "OcrError", "engine", "missing", "tidy", "TESSERACT_PACKAGES"]

LANG = "chi_sim"
TESSERACT_PACKAGES = "tesseract-ocr tesseract-ocr-chi-sim"
MISSING_TESSERACT = f"本机未安装文字识别程序（Tesseract），无法识别扫描件（apt-get install {TESSERACT_PACKAGES}）"
MISSING_CHINESE = "本机文字识别程序缺少简体中文识别数据（apt-get install tesseract-ocr-chi-sim）"
MISSING_PILLOW = "本机缺少图像处理组件（Pillow），无法识别扫描件（pip install Pillow）"


class OcrError(Exception):
    """The engine failed on one page; ``str(e)`` is a Chinese reason."""


class Engine(Protocol):
    name: str

    def read(self, image: "Image.Image", timeout_s: float) -> str:
        """The text of one page image. Raises OcrError (with a Chinese reason) or TimeoutError."""
        ...


# --- Tesseract -----------------------------------------------------------------------------------


class Tesseract:
    """``tesseract stdin stdout -l chi_sim … tsv`` in its own process group, one page a call; the
    word boxes it reports are put back into lines and paragraphs (``paragraphs``)."""

    name = "tesseract"

    def __init__(self, binary: str, *, lang: str = LANG, home: str | None = None) -> None:
        self.binary = binary
        self.lang = lang
        self.home = home or tempfile.gettempdir()

    def read(self, image: "Image.Image", timeout_s: float) -> str:
        """The page's text. A page that reads as noise (mean confidence under ``_UPRIGHT``: a
        page scanned sideways or upside down) is turned the way Tesseract's orientation
        detection says and read again; the better reading is kept."""
        deadline = time.monotonic() + timeout_s
        gray = image.convert("L")
        dpi = image.info.get("dpi")
        lines, conf = _tsv_lines(self._run(gray, dpi, ["--psm", "3", "tsv"], deadline))
        if conf < _UPRIGHT and sum(len(ln.text) for ln in lines) >= 20:
            turn = _rotation(self._run(gray, dpi, ["--psm", "0"], deadline, osd=True))
            if turn:
                again, conf2 = _tsv_lines(self._run(gray.rotate(-turn, expand=True), dpi,
                                                    ["--psm", "3", "tsv"], deadline))
                if conf2 > conf:
                    lines = again
        return paragraphs(lines)

    def _run(self, gray: "Image.Image", dpi, args: list[str], deadline: float, *, osd: bool = False) -> str:
        buf = io.BytesIO()
        gray.save(buf, "PPM")                  # a raw 8-bit bitmap: nothing to compress or inflate
        cmd = [self.binary, "stdin", "stdout", "-l", "osd" if osd else self.lang]
        if dpi:
            cmd += ["--dpi", str(max(70, min(1200, int(round(float(dpi[0]))))))]
        cmd += args
        # One OCR thread: the machine's other core keeps serving the poll, and OpenMP's
        # spinning threads cost more CPU than they save on a page this size.
        returncode, out, err = childenv.run(cmd, home=self.home, extra_env={"OMP_THREAD_LIMIT": "1"},
                                            data=buf.getvalue(), timeout=deadline - time.monotonic())
        if returncode != 0:
            if osd:                            # no orientation found (too little text): not an error
                return ""
            raise OcrError(f"文字识别程序出错（退出码 {returncode}）："
                           + err.decode("utf-8", "replace").strip()[-200:])
        return out.decode("utf-8", "replace")


_UPRIGHT = 50.0     # mean word confidence of an upright page here: ~91; the same page on its side: ~20


def _rotation(osd: str) -> int:
    """Degrees (90, 180, 270) to turn a page clockwise, from ``tesseract --psm 0``; 0 when unsure."""
    m = re.search(r"Rotate:\s*(\d+)", osd)
    c = re.search(r"Orientation confidence:\s*([\d.]+)", osd)
    if not m or not c or float(c.group(1)) < 1.0:
        return 0
    turn = int(m.group(1)) % 360
    return turn if turn in (90, 180, 270) else 0


def _tsv_lines(tsv: str) -> tuple[list[Line], float]:
    """Tesseract's TSV word rows → (lines (block, box, text), words joined as ``join_words`` does;
    the mean confidence of the characters, 0–100)."""
    words: dict[tuple[int, int, int], list[tuple[int, int, int, int, float, str]]] = {}
    for row in tsv.split("\n")[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        try:
            block, par, line = int(cols[2]), int(cols[3]), int(cols[4])
            left, top, width, height = (int(c) for c in cols[6:10])
            conf = float(cols[10])
        except ValueError:
            continue
        text = cols[11].strip()
        if text:
            words.setdefault((block, par, line), []).append((left, top, left + width, top + height, conf, text))
    chars = sum(len(w[5]) for ws in words.values() for w in ws)
    conf = sum(w[4] * len(w[5]) for ws in words.values() for w in ws) / chars if chars else 0.0
    lines = []
    for (block, _par, _line), ws in words.items():
        if len(ws) <= 2 and sum(len(w[5]) for w in ws) <= 3 and max(w[4] for w in ws) < 60:
            continue                       # a speck read as a character or two
        lines.append(Line(block, min(w[0] for w in ws), min(w[1] for w in ws), max(w[2] for w in ws),
                          max(w[3] for w in ws), join_words([(w[0], w[2], w[5]) for w in ws],
                                                            statistics.median(w[3] - w[1] for w in ws))))
    return lines, conf


@functools.cache
def _tesseract_problem(binary: str | None) -> str | None:
    if binary is None:
        return MISSING_TESSERACT
    try:
        res = subprocess.run([binary, "--list-langs"], capture_output=True, timeout=30,
                             env=childenv.minimal(tempfile.gettempdir()))
    except (OSError, subprocess.SubprocessError):
        return MISSING_TESSERACT
    langs = (res.stdout + res.stderr).decode("utf-8", "replace").split()
    return None if LANG in langs else MISSING_CHINESE


# --- rapidocr (benchmark only) ----------------------------------------------------------------------


class RapidOcr:
    """rapidocr-onnxruntime's PP-OCRv4 models (shipped in its wheel), in this process."""

    name = "rapidocr"

    def __init__(self) -> None:
        from rapidocr_onnxruntime import RapidOCR
        self._ocr = RapidOCR()

    def read(self, image: "Image.Image", timeout_s: float) -> str:
        import numpy as np
        res, _elapsed = self._ocr(np.asarray(image.convert("RGB")))
        boxes = []
        for box, text, _score in res or ():
            xs = [p[0] for p in box]
            ys = [p[1] for p in box]
            boxes.append((min(xs), min(ys), max(xs), max(ys), text))
        return tidy(layout(boxes))


def layout(boxes: list[tuple[float, float, float, float, str]]) -> str:
    """Text boxes (x0, y0, x1, y1, text) → lines (boxes whose middles share a row, left to right)
    → paragraphs."""
    rows: list[list[tuple[float, float, float, float, str]]] = []
    for b in sorted(boxes, key=lambda b: (b[1] + b[3]) / 2):
        mid, height = (b[1] + b[3]) / 2, b[3] - b[1]
        if rows:
            last = rows[-1]
            lmid = sum((r[1] + r[3]) / 2 for r in last) / len(last)
            lh = min(r[3] - r[1] for r in last)
            if abs(mid - lmid) < 0.5 * min(height, lh):
                last.append(b)
                continue
        rows.append([b])
    lines = [Line(0, min(b[0] for b in row), min(b[1] for b in row), max(b[2] for b in row),
                  max(b[3] for b in row), join_words([(b[0], b[2], b[4]) for b in row],
                                                     statistics.median(b[3] - b[1] for b in row))) for row in rows]
    return paragraphs(lines)


# --- choosing ------------------------------------------------------------------------------------


def engine(name: str = "tesseract", *, home: str | None = None) -> Engine | None:
    """The named engine when this machine can run it, else None (``missing(name)`` says why)."""
    if missing(name) is not None:
        return None
    if name == "rapidocr":
        return RapidOcr()
    return Tesseract(shutil.which("tesseract") or "tesseract", home=home)


def missing(name: str = "tesseract") -> str | None:
    """None when the engine can run here, else a Chinese sentence naming what to install."""
    try:
        import PIL  # noqa: F401
    except ImportError:
        return MISSING_PILLOW
    if name == "rapidocr":
        try:
            import rapidocr_onnxruntime  # noqa: F401
        except ImportError:
            return "本机未安装 rapidocr-onnxruntime"
        return None
    return _tesseract_problem(shutil.which("tesseract"))


# --- the text ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One recognised line: its block (lines of different blocks are never joined), its box in
    pixels, its text."""
    block: int
    left: float
    top: float
    right: float
    bottom: float
    text: str

    @property
    def height(self) -> float:
        return max(1.0, self.bottom - self.top)


def join_words(words: list[tuple[float, float, str]], size: float) -> str:
    """Words (left, right, text) of one line whose characters are ``size`` pixels high, left to
    right: a tab where the gap is wider than three characters (a table's next cell), a space
    between two Latin words, else nothing."""
    words = sorted(words, key=lambda w: w[0])
    if not words:
        return ""
    height = max(1.0, size)
    parts = [words[0][2]]
    for prev, cur in zip(words, words[1:]):
        gap = cur[0] - prev[1]
        if gap > 3 * height:
            parts.append("\t")
        elif prev[2][-1:].isascii() and prev[2][-1:].isalnum() and cur[2][:1].isascii() and cur[2][:1].isalnum():
            parts.append(" ")
        parts.append(cur[2])
    return tidy("".join(parts))


def paragraphs(lines: list[Line]) -> str:
    """Lines → text, a wrapped paragraph on one line as a writer typed it: a line that runs to the
    right edge of its block joins the next when that one is not indented (a new paragraph is)
    and neither is a table row. A date or a headcount broken at the edge ("2022年9月" / "5日")
    is whole again; headings, short lines and table rows stay lines."""
    lines = [ln for ln in lines if ln.text.strip()]
    if not lines:
        return ""
    right: dict[int, float] = {}
    left: dict[int, float] = {}
    for ln in lines:
        right[ln.block] = max(right.get(ln.block, 0.0), ln.right)
        left[ln.block] = min(left.get(ln.block, ln.left), ln.left)
    out = [lines[0].text]
    for prev, cur in zip(lines, lines[1:]):
        h = min(prev.height, cur.height)
        wrapped = (prev.block == cur.block and "\t" not in prev.text and "\t" not in cur.text
                   and prev.right >= right[prev.block] - 2.0 * h
                   and cur.left <= left[cur.block] + 1.0 * h
                   and len(prev.text) >= 8)
        out.append(("" if wrapped else "\n") + cur.text)
    return "".join(out)


_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
_GAP_CJK = re.compile(rf"(?<=[{_CJK}])[ ]+(?=[{_CJK}0-9A-Za-z(（])|(?<=[0-9A-Za-z)）])[ ]+(?=[{_CJK}])")
_COLUMNS = re.compile(r"[ ]{3,}")


def tidy(text: str) -> str:
    """OCR text as the readers give text: no blank lines, no form feeds, a run of three or more
    spaces (a table's column gap) as a tab, no space between Chinese characters or between
    Chinese and digits ("2022 年 8 月" → "2022年8月": OCR engines space them, writers do not)."""
    lines = []
    for line in text.replace("\f", "\n").split("\n"):
        line = _COLUMNS.sub("\t", line.strip())
        line = "\t".join(_GAP_CJK.sub("", cell).strip() for cell in line.split("\t"))
        if line.strip():
            lines.append(line)
    return "\n".join(lines)
