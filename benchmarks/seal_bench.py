"""Seal detection: found / not found and milliseconds per page, on the pages tests/sealpages.py draws.

    python benchmarks/seal_bench.py [--repeat 20]

One process, one core. Each page is decoded once (as a caller would hand it over); the time is
`seal.detect` alone, the median of --repeat runs, as CPU time of this process (the machine is
shared; wall time under load is printed at the end too). The candidates' measures show the margins:
residual (0 = on an ellipse; accepted ≤ 0.04), coverage (red along the ring; ≥ 0.60),
interior (red inside / on the ring; ≥ 0.08).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from PIL import Image, ImageChops, ImageFilter  # noqa: E402

import sealpages as sp  # noqa: E402
from mailbot.documents import seal  # noqa: E402


def pages() -> list[tuple[str, bool, Image.Image]]:
    """(name, a seal is expected, page)."""
    d = 4.2 * sp.PX_PER_CM
    out = [
        ("seal 4.2 cm", True, sp.seal_page()[0]),
        ("seal rotated 30°", True, sp.seal_page(angle=30)[0]),
        ("elliptical 4.5×3 cm, rotated 25°", True, sp.seal_page(diameter_cm=4.5, ratio=0.67, angle=25)[0]),
        ("faded, 30 % ink missing", True, sp.seal_page(fade=0.5, dropout=0.3)[0]),
        ("faded, JPEG q50", True, sp.jpeg(sp.seal_page(fade=0.5, dropout=0.3)[0], 50)),
        ("faded, blurred, JPEG q50", True,
         sp.jpeg(sp.seal_page(fade=0.5, dropout=0.3)[0].filter(ImageFilter.GaussianBlur(2)), 50)),
        ("faded, 50 % ink missing", True, sp.seal_page(fade=0.5, dropout=0.5)[0]),
        ("seal, JPEG q50", True, sp.jpeg(sp.seal_page()[0], 50)),
        ("seal, JPEG q30", True, sp.jpeg(sp.seal_page()[0], 30)),
        ("small 1.6 cm", True, sp.seal_page(diameter_cm=1.6)[0]),
        ("large 5.8 cm", True, sp.seal_page(diameter_cm=5.8)[0]),
        ("cut by the edge, 80 % on the page", True, sp.seal_page(centre=(round(sp.A4[0] - 0.3 * d), 1350))[0]),
        ("cut by the edge, 40 % on the page", False, sp.seal_page(centre=(round(sp.A4[0] + 0.1 * d), 1350))[0]),
        ("seal at 72 dpi", True, sp.seal_page()[0].resize((595, 842), Image.BILINEAR)),
        ("faded seal at 72 dpi, JPEG q50", True,
         sp.jpeg(sp.seal_page(fade=0.5, dropout=0.3)[0].resize((595, 842), Image.BILINEAR))),
        ("seal, pink paper cast", True,
         ImageChops.multiply(sp.seal_page()[0], Image.new("RGB", sp.A4, (250, 222, 205)))),
        ("red header 西吉县民政局文件 + rule", False, sp.red_header_page()),
        ("red header set wide", False, sp.red_header_page(spaced=True)),
        ("big red characters 国回局口", False, sp.big_red_characters_page()),
        ("red pen underline and tick", False, sp.underline_page()),
        ("red pen circle", False, sp.pen_circle_page()),
        ("black print only", False, sp.text_page()),
        ("blank page", False, sp.blank_page()),
        ("page all red", False, Image.new("RGB", sp.A4, sp.SEAL_RED)),
        ("red ring 0.8 cm", False, sp.seal_page(diameter_cm=0.8)[0]),
        ("red disc 3 cm, pie chart 65 % red", False, sp.solid_red_shapes_page()),
        ("grayscale scan of a sealed page", False, sp.seal_page()[0].convert("L")),
        ("grayscale scan saved as RGB", False, sp.seal_page()[0].convert("L").convert("RGB")),
    ]
    big = sp.seal_page()[0].resize((2480, 3508), Image.BILINEAR)
    out.append(("seal, 300-dpi page", True, big))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    if sp.cjk_font_path() is None:
        print("no CJK font (apt-get install fonts-noto-cjk)", file=sys.stderr)
        return 2
    right = 0
    rows = pages()
    print(f"{'page':40s} {'want':5s} {'got':5s} {'score':>5s} {'cpu ms':>6s}  best candidate (residual, coverage, interior, density, axes cm)")
    times_a4: list[float] = []
    walls_a4: list[float] = []
    for name, want, img in rows:
        img.load()
        ts, walls = [], []
        for _ in range(args.repeat):
            t0, w0 = time.process_time(), time.perf_counter()
            r = seal.detect(img)
            ts.append(time.process_time() - t0)
            walls.append(time.perf_counter() - w0)
        ms = statistics.median(ts) * 1000
        if img.size == sp.A4:
            times_a4.append(ms)
            walls_a4.append(statistics.median(walls) * 1000)
        got = seal.examine(img)
        cands = got[1] if isinstance(got, tuple) else []
        best = max(cands, key=lambda c: c.score, default=None)
        detail = (f"{best.residual:.3f}, {best.coverage:.2f}, {best.interior:.2f}, {best.density:.2f}, "
                  f"{best.axes_cm[0]:.1f}×{best.axes_cm[1]:.1f}") if best else ("no colour" if got is False else "—")
        right += r.found == want
        mark = "" if r.found == want else "  ← WRONG"
        print(f"{name:40s} {'yes' if want else 'no':5s} {'yes' if r.found else 'no':5s} {r.score:5.2f} {ms:6.1f}  {detail}{mark}")
    print(f"\n{right}/{len(rows)} as expected; 150-dpi A4 page (1240×1754): median "
          f"{statistics.median(times_a4):.1f} ms CPU, worst {max(times_a4):.1f} ms per page (one core); "
          f"wall median {statistics.median(walls_a4):.1f} ms at load {os.getloadavg()[0]:.1f}")
    return 0 if right == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
