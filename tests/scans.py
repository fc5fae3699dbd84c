"""Scans made here, the way a department makes them: a .docx printed to PDF by LibreOffice,
rendered at 150 dpi, then tilted, blurred, speckled and saved as JPEG — as a stamped page
comes back from a cheap office scanner. Used by tests/test_ocr.py and benchmarks/ocr_bench.py.

    docx_to_pdf(docx)            LibreOffice headless (the product's Converter)
    render(pdf, dpi)             pdftoppm (poppler-utils) → PIL images, one a page
    degrade(image, seed)         tilt 1–2°, slight blur, speckle noise, JPEG quality 60 → JPEG bytes
    image_pdf(jpegs)             an image-only PDF (no text layer), one JPEG a page
    scan_of(docx)                all of it: (the page JPEGs, the image-only PDF)

Nothing is committed: each call works in a temp dir; ``cached`` keeps results under the
system temp dir keyed by the input's hash, so a test session converts each document once.
"""
from __future__ import annotations

import hashlib
import io
import os
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageFilter

CACHE = Path(tempfile.gettempdir()) / "mailbot-scan-cache"


def docx_to_pdf(docx: bytes) -> bytes:
    from mailbot.documents.convert import Converter
    return Converter(isolate_network=False).convert(docx, ".docx", "pdf", timeout_s=180)


def render(pdf: bytes, dpi: int = 150, *, gray: bool = True) -> list[Image.Image]:
    """Each page as an image (pdftoppm, as a person's PDF viewer would draw it)."""
    exe = shutil.which("pdftoppm")
    if exe is None:
        raise FileNotFoundError("pdftoppm (apt-get install poppler-utils)")
    with tempfile.TemporaryDirectory(prefix="mb-render-") as d:
        src = Path(d) / "in.pdf"
        src.write_bytes(pdf)
        subprocess.run([exe, "-r", str(dpi), "-png", *(["-gray"] if gray else []), str(src), str(Path(d) / "p")],
                       check=True, capture_output=True, timeout=300)
        pages = sorted(Path(d).glob("p-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        out = []
        for p in pages:
            with Image.open(p) as im:
                out.append(im.convert("RGB"))
        return out


def degrade(image: Image.Image, seed: int = 0, *, quality: int = 60) -> bytes:
    """A scanner's page: tilted 1–2° either way, slightly out of focus, dust specks, JPEG."""
    rnd = random.Random(seed)
    angle = rnd.choice((-1, 1)) * rnd.uniform(1.0, 2.0)
    im = image.convert("RGB").rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=(255, 255, 255))
    im = im.filter(ImageFilter.GaussianBlur(radius=0.6))
    px = im.load()
    w, h = im.size
    for _ in range(w * h // 400):                       # 0.25 % of the pixels: dark or light dust
        x, y = rnd.randrange(w), rnd.randrange(h)
        v = rnd.choice((0, 40, 90, 200, 255))
        px[x, y] = (v, v, v)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def image_pdf(jpegs: list[bytes], dpi: int = 150) -> bytes:
    """An image-only PDF: one page per JPEG, no text layer (what a scanner's "scan to PDF" gives)."""
    images = [Image.open(io.BytesIO(j)).convert("RGB") for j in jpegs]
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=float(dpi))
    return buf.getvalue()


def scan_of(docx: bytes, *, dpi: int = 150, seed: int = 0) -> tuple[list[bytes], bytes]:
    """(page JPEGs, image-only PDF) of a .docx, cached by its hash."""
    key = hashlib.sha256(docx + f"{dpi}/{seed}".encode()).hexdigest()[:24]
    folder = CACHE / key
    if not (folder / "done").is_file():
        pages = render(docx_to_pdf(docx), dpi)
        jpegs = [degrade(p, seed * 1000 + i) for i, p in enumerate(pages)]
        tmp = Path(tempfile.mkdtemp(prefix=key + ".", dir=_cache_root()))
        for i, j in enumerate(jpegs):
            (tmp / f"page{i + 1:03d}.jpg").write_bytes(j)
        (tmp / "scan.pdf").write_bytes(image_pdf(jpegs, dpi))
        (tmp / "done").write_text("")
        try:
            os.rename(tmp, folder)
        except OSError:                                  # another process made it first
            shutil.rmtree(tmp, ignore_errors=True)
    jpegs = [p.read_bytes() for p in sorted(folder.glob("page*.jpg"))]
    return jpegs, (folder / "scan.pdf").read_bytes()


def _cache_root() -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    return CACHE
