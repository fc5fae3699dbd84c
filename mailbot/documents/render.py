"""A PDF page as an image, the way a viewer draws it: ``pdftoppm`` (poppler-utils) in a child
process of its own group, one page a call, its output bounded in pixels whatever the page
claims to measure, killed at its timeout.

``render_page(path, page, size_pt, dpi, max_side)`` → a PIL RGB image carrying its dpi in
``image.info["dpi"]`` (the seal detector and Tesseract judge sizes by it). Raises RenderError
with a Chinese reason, or TimeoutError.
"""
from __future__ import annotations

import io
import shutil
import tempfile

from mailbot.documents import childenv

__all__ = ["RenderError", "render_page", "missing", "PACKAGE"]

PACKAGE = "poppler-utils"
MISSING = f"本机未安装 PDF 页面渲染程序 pdftoppm（apt-get install {PACKAGE}）"
_MAX_OUTPUT = 64 * 1024 * 1024     # bytes one page may produce (a 2500 × 2500 RGB bitmap is < 19 MB)


class RenderError(Exception):
    """``str(e)`` is a Chinese reason."""


def missing() -> str | None:
    return None if shutil.which("pdftoppm") else MISSING


def page_dpi(size_pt: tuple[float, float] | None, dpi: int, max_side: int) -> int:
    """``dpi``, lowered so that the page's long side stays within ``max_side`` pixels."""
    if not size_pt:
        return dpi
    long_in = max(size_pt) / 72.0
    if long_in <= 0:
        return dpi
    return max(1, min(dpi, int(max_side / long_in)))


def render_page(pdf_path: str, page: int, *, size_pt: tuple[float, float] | None, dpi: int,
                max_side: int, timeout_s: float):
    """Page ``page`` (1-based) of the PDF at ``pdf_path`` as an RGB image."""
    from PIL import Image

    exe = shutil.which("pdftoppm")
    if exe is None:
        raise RenderError(MISSING)
    res = page_dpi(size_pt, dpi, max_side)
    # -W/-H crop the output to max_side pixels: a page whose size lies cannot buy a bigger bitmap.
    # PPM, not PNG: pdftoppm's PNG compression costs ~0.7 s a page, the raw bitmap ~0.05 s.
    cmd = [exe, "-r", str(res), "-f", str(page), "-l", str(page), "-singlefile",
           "-x", "0", "-y", "0", "-W", str(max_side), "-H", str(max_side), pdf_path]
    returncode, out, _err = childenv.run(cmd, home=tempfile.gettempdir(), timeout=timeout_s)
    if returncode != 0 or not out:
        raise RenderError(f"pdftoppm 退出码 {returncode}")
    if len(out) > _MAX_OUTPUT:                              # cannot happen with -W/-H: belt and braces
        raise RenderError("页面图像过大")
    try:
        image = Image.open(io.BytesIO(out), formats=["PPM"])
        image.load()
        image = image.convert("RGB")
    except Exception as e:  # a PNG we did not expect: not a crash of the mail
        raise RenderError(f"页面图像无法解码：{type(e).__name__}") from None
    image.info["dpi"] = (res, res)
    return image
