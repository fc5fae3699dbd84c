"""Does a scanned page carry a red official seal (公章)? Colour first, then the ring's shape.

A Chinese official seal is a red ring — a circle, or an ellipse for some bodies — about 4 cm
across (1.5–6 cm here), usually with a red five-pointed star in the middle and the unit's name
in red along the inside of the ring. It is often stamped over black print, and often faint or
partly printed. `detect(image)` looks for exactly that:

1. Work on a copy reduced to at most `MAX_SIDE` pixels on the long side (a box filter), so that
   the cost is bounded whatever the caller decoded (a 150-dpi A4 page: ~9 ms of CPU).
2. Paper made white (a warm or pink cast of a scan or photo is not red), then red pixels: R
   clearly above both G and B (pinkish, faded and JPEG-smeared red included; black print over
   the seal is not red, and leaves gaps in the ring).
3. Connected components of red, on a coarse grid of cells dilated by two cells so that a ring
   broken by print or missing ink stays one piece.
4. For each component of seal size: its outer boundary (the farthest red pixel in each
   direction from the middle) is fitted with an ellipse (a least-squares conic, any
   rotation, any centre — a seal cut by the page edge still fits). It is a seal when
   - the boundary lies on that ellipse (a big red character such as 国 or 局 has corners),
   - red is present along most of the ellipse that lies on the page (a ring, not an arc),
   - the axes are 1.5–6 cm and at most 1 : 0.55 (no line, no title, no rule),
   - there is red inside the ring (the star and the name; a pen circle is empty), but the
     inside is not solid red (a red dot, a logo disc, a slice of a pie chart).

Sizes are measured against the page: without a trustworthy dpi the image's long side is taken
as an A4 page's 29.7 cm (a caller who knows the dpi of a rendered PDF page passes it).

What it cannot do, by design: a grayscale or black-and-white scan carries no colour, so a seal
on it cannot be told from print — the result says `colour=False` and `found=False`. A red ring
logo of seal size (some letterheads) would count as a seal. A seal less than ~60 % of whose
ring is on the page is not reported.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

__all__ = ["SealResult", "Candidate", "detect", "examine", "MAX_SIDE"]

MAX_SIDE = 1000              # the working copy's long side, at most (pixels)
A4_LONG_CM = 29.7            # a page's long side when the dpi is not known
MIN_CM, MAX_CM = 1.5, 6.0    # a seal's diameter (the long axis of an elliptical one)
_SLACK = 0.85                # measured sizes may fall this much short of / beyond the range

# red: R - max(G, B) at least this, and R at least this (0..255)
RED_MARGIN = 35
RED_MIN = 100
# colour present at all: this share of pixels with max-min channel spread above _CHROMA
_CHROMA = 40
_COLOUR_SHARE = 1e-4

_GRID_CELLS = 220            # the coarse grid's long side (cells)
_DILATE = 2                  # cells of dilation: a ring broken by print or missing ink stays one piece
_MAX_CANDIDATES = 40         # components of seal size examined per page, largest first
_BINS = 90                   # directions around a candidate

# acceptance (see the module docstring); measured on tests/sealpages.py's pages
_MAX_RESIDUAL = 0.04         # mean |ρ - 1| of the outer boundary (rays through gaps dropped)
_MIN_COVERAGE = 0.60         # share of the visible ellipse with red on the ring
_MIN_VISIBLE = 0.60          # share of the ellipse that lies on the page
_MIN_AXIS_RATIO = 0.55       # short axis / long axis
_MIN_INTERIOR = 0.08         # red inside the ring / red on the ring
_MAX_DENSITY = 0.5           # share of the inside that is red (a solid disc or pie slice: ~1)


@dataclass(frozen=True)
class SealResult:
    """What `detect` saw on one page. Boxes are (x0, y0, x1, y1) in the caller's pixels."""
    found: bool
    count: int
    boxes: tuple[tuple[int, int, int, int], ...]
    score: float                 # 0..1: the best seal's confidence (the best candidate's when none)
    colour: bool = True          # False: the image has no colour, so a seal cannot be seen
    page: int | None = None      # 1-based page number, set by the caller (dataclasses.replace)


@dataclass(frozen=True)
class Candidate:
    """One red component of seal size and how ring-like it is (benchmarks print these)."""
    box: tuple[float, float, float, float]   # the fitted ellipse's box, working pixels
    residual: float       # mean |ρ - 1| of the outer boundary (inliers): 0 on a perfect ellipse
    coverage: float       # share of the visible ellipse with red on the ring
    visible: float        # share of the ellipse on the page
    interior: float       # red inside the ring / red on the ring
    density: float        # share of the inside (ρ < 0.8) that is red
    axes_cm: tuple[float, float]             # long, short axis
    score: float
    accepted: bool


_NONE = SealResult(False, 0, (), 0.0)
_GRAY = SealResult(False, 0, (), 0.0, colour=False)


def detect(image: Image.Image, *, dpi: float | None = None) -> SealResult:
    """Red official seals on one page image (any mode, any size); never raises on odd pixels.

    `dpi` is the page's resolution when the caller knows it (a PDF page it rendered); without it
    sizes are judged against the page, whose long side is taken as 29.7 cm."""
    got = examine(image, dpi=dpi)
    if got is None:
        return _NONE
    if got is False:
        return _GRAY
    factor, cands = got
    w, h = image.size
    kept = _distinct([c for c in cands if c.accepted])
    if not kept:
        return SealResult(False, 0, (), round(max((c.score for c in cands), default=0.0), 3))
    out = []
    for c in kept:
        x0, y0, x1, y1 = c.box
        out.append((max(0, int(x0 * factor)), max(0, int(y0 * factor)),
                    min(w, math.ceil(x1 * factor)), min(h, math.ceil(y1 * factor))))
    out.sort(key=lambda bx: (bx[1], bx[0]))
    return SealResult(True, len(out), tuple(out), round(max(c.score for c in kept), 3))


def examine(image: Image.Image, *, dpi: float | None = None) -> tuple[int, list[Candidate]] | bool | None:
    """(reduction factor, every candidate examined); False for an image without colour; None
    for one too small or in a mode that has no pixels to read."""
    w, h = image.size
    if w < 8 or h < 8:
        return None
    if image.mode in ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "F"):
        return False
    factor = max(1, math.ceil(max(w, h) / MAX_SIDE))
    try:
        src = image
        if factor > 1 and image.mode in ("RGB", "RGBA", "CMYK", "RGBX"):
            src = image.reduce(factor)                # before converting: less to convert
        rgb = _rgb(src)
        if factor > 1 and src is image:
            rgb = rgb.reduce(factor)
        a = np.asarray(rgb, dtype=np.int16)
    except (ValueError, OSError):
        return None
    if a.ndim != 3 or a.shape[2] < 3:
        return None
    a = _white_balance(a)
    r, g, b = a[..., 0], a[..., 1], a[..., 2]
    hi = np.maximum(g, b)
    spread = np.maximum(r, hi) - np.minimum(np.minimum(g, b), r)
    if np.count_nonzero(spread > _CHROMA) < _COLOUR_SHARE * spread.size:
        return False
    red = (r - hi >= RED_MARGIN) & (r >= RED_MIN)

    H, W = red.shape
    px_per_cm = (dpi / 2.54 / factor) if dpi and 0 < dpi < 10_000 else max(H, W) / A4_LONG_CM
    min_px, max_px = MIN_CM * px_per_cm, MAX_CM * px_per_cm
    if np.count_nonzero(red) < math.pi * min_px * 0.25:    # not even a thin ring's worth
        return factor, []

    cell = max(2, round(max(H, W) / _GRID_CELLS))
    labels, boxes = _components(red, cell)
    sized = []
    for lab, (cy0, cx0, cy1, cx1, n) in enumerate(boxes, start=1):
        bh, bw = (cy1 - cy0) * cell, (cx1 - cx0) * cell
        long_side, short_side = max(bh, bw), min(bh, bw)
        # a seal cut by the page edge may show 60 % of its diameter
        if long_side < 0.6 * min_px * _SLACK or long_side > max_px / _SLACK + 2 * (_DILATE + 1) * cell:
            continue
        if short_side < 0.3 * long_side:
            continue
        sized.append((n, lab, (cy0, cx0, cy1, cx1)))
    sized.sort(reverse=True)
    cands = []
    for _, lab, cbox in sized[:_MAX_CANDIDATES]:
        c = _ring(red, labels, lab, cbox, cell, px_per_cm)
        if c is not None:
            cands.append(c)
    return factor, cands


def _rgb(image: Image.Image) -> Image.Image:
    """The image as RGB; transparency over white paper."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "RGBa", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, rgba).convert("RGB")
    return image.convert("RGB")


def _white_balance(a: np.ndarray) -> np.ndarray:
    """Paper made white: a scan or photo with a warm or pink cast would otherwise be red all over.
    The paper is the bright end of each channel (98th percentile of a sample)."""
    sample = a[::7, ::7].reshape(-1, 3)
    paper = np.percentile(sample, 98, axis=0)
    if paper.min() < 60 or paper.max() - paper.min() < 12:      # already white, or a dark image
        return a
    scale = (255.0 / paper).astype(np.float32)
    return np.minimum(a * scale, 255).astype(np.int16)


# --- connected components on a coarse grid --------------------------------------------------

def _components(mask: np.ndarray, cell: int) -> tuple[np.ndarray, list[tuple[int, int, int, int, int]]]:
    """Label 8-connected red on a grid of cell×cell blocks (any red → on), dilated by one cell.

    Returns the label grid (0 = none, 1..n) and, per label, (y0, x0, y1, x1, cells) in cells.
    Runs are found and paired with numpy; only the union of overlapping runs is a Python loop,
    over at most a few thousand runs (the grid is at most _GRID_CELLS on its long side)."""
    H, W = mask.shape
    gh, gw = -(-H // cell), -(-W // cell)
    padded = np.zeros((gh * cell, gw * cell), dtype=bool)
    padded[:H, :W] = mask
    grid = padded.reshape(gh, cell, gw, cell).any(axis=(1, 3))
    dil = grid
    for _ in range(_DILATE):
        col = dil.copy()
        col[1:, :] |= dil[:-1, :]
        col[:-1, :] |= dil[1:, :]
        dil = col.copy()
        dil[:, 1:] |= col[:, :-1]
        dil[:, :-1] |= col[:, 1:]

    edge = np.zeros((gh, gw + 2), dtype=np.int8)
    edge[:, 1:-1] = dil
    d = np.diff(edge, axis=1)
    sr, sc = np.nonzero(d == 1)
    er, ec = np.nonzero(d == -1)          # same order as the starts: row-major
    n = len(sr)
    labels = np.zeros((gh, gw), dtype=np.int32)
    if n == 0:
        return labels, []
    stride = gw + 2
    start_key = sr * stride + sc
    end_key = er * stride + ec            # exclusive end
    # run j in row y+1 touches run i in row y when start_i <= end_j and start_j <= end_i (8-connected)
    nxt = np.nonzero(sr > 0)[0]
    lo = np.searchsorted(end_key, (sr[nxt] - 1) * stride + sc[nxt], side="left")
    hi = np.searchsorted(start_key, (sr[nxt] - 1) * stride + ec[nxt], side="right")
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for j, a, b in zip(nxt.tolist(), lo.tolist(), hi.tolist()):
        for i in range(a, b):
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    roots = np.fromiter((find(i) for i in range(n)), dtype=np.int64, count=n)
    uniq, comp = np.unique(roots, return_inverse=True)
    comp = comp.astype(np.int32) + 1
    lengths = ec - sc
    flat_start = sr * gw + sc
    total = int(lengths.sum())
    offsets = np.repeat(flat_start - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    labels.ravel()[np.arange(total) + offsets] = np.repeat(comp, lengths)

    k = len(uniq)
    y0 = np.full(k + 1, gh, dtype=np.int64)
    x0 = np.full(k + 1, gw, dtype=np.int64)
    y1 = np.zeros(k + 1, dtype=np.int64)
    x1 = np.zeros(k + 1, dtype=np.int64)
    cells = np.zeros(k + 1, dtype=np.int64)
    np.minimum.at(y0, comp, sr)
    np.maximum.at(y1, comp, sr + 1)
    np.minimum.at(x0, comp, sc)
    np.maximum.at(x1, comp, ec)
    np.add.at(cells, comp, lengths)
    return labels, [(int(y0[i]), int(x0[i]), int(y1[i]), int(x1[i]), int(cells[i])) for i in range(1, k + 1)]


# --- one candidate: is it a ring? ------------------------------------------------------------

def _ring(red: np.ndarray, labels: np.ndarray, lab: int, cbox: tuple[int, int, int, int], cell: int,
          px_per_cm: float) -> Candidate | None:
    """How ring-like one component is; None when no ellipse fits it at all."""
    H, W = red.shape
    cy0, cx0, cy1, cx1 = cbox
    y0, x0, y1, x1 = cy0 * cell, cx0 * cell, min(H, cy1 * cell), min(W, cx1 * cell)
    sub = red[y0:y1, x0:x1]
    lab_sub = labels[cy0:cy1, cx0:cx1] == lab
    own = sub & np.repeat(np.repeat(lab_sub, cell, axis=0), cell, axis=1)[:y1 - y0, :x1 - x0]
    ys, xs = np.nonzero(own)
    if len(ys) < 20:
        return None
    ys = ys.astype(np.float64) + y0
    xs = xs.astype(np.float64) + x0

    # the outer boundary: the farthest pixel in each direction from the middle of the box
    cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
    dx, dy = xs - cx, ys - cy
    rr = np.hypot(dx, dy)
    bins = ((np.arctan2(dy, dx) + math.pi) * (_BINS / (2 * math.pi))).astype(np.int64) % _BINS
    order = np.lexsort((rr, bins))
    last = np.nonzero(np.diff(np.append(bins[order], _BINS)) != 0)[0]
    pick = order[last]
    bx, by = xs[pick], ys[pick]
    inside = (bx > 0) & (bx < W - 1) & (by > 0) & (by < H - 1)   # not a page edge that cut the ring
    bx, by = bx[inside], by[inside]
    if len(bx) < 24:
        return None
    fit = _fit_ellipse(bx, by)
    if fit is None:
        return None
    # A ray through a gap in the ring lands inside it (on the name or the star): such points
    # are dropped and the ellipse fitted again. A point outside the ellipse is never dropped:
    # the corners of a big red character are outside, and must count against it.
    keep = np.ones(len(bx), dtype=bool)
    for _ in range(3):
        rho = _rho(fit, bx, by)
        tol = max(0.05, 2.5 * float(np.median(np.abs(rho[keep] - 1))))
        new_keep = rho >= 1 - tol
        if new_keep.sum() < max(12, 0.5 * len(bx)) or (new_keep == keep).all():
            break
        keep = new_keep
        fit = _fit_ellipse(bx[keep], by[keep]) or fit
    dev = np.abs(_rho(fit, bx[keep], by[keep]) - 1)
    residual = float(dev.mean())

    (ex, ey), (sa, sb), angle = fit[0], fit[1], fit[2]
    if not (sa > 0 and sb > 0) or sa > 2 * MAX_CM * px_per_cm:
        return None
    # red on and inside the ring: all red pixels near the ellipse, whichever component they are in
    pad = int(0.1 * sa) + 2
    ry0, ry1 = max(0, int(ey - sa - pad)), min(H, int(ey + sa + pad) + 1)
    rx0, rx1 = max(0, int(ex - sa - pad)), min(W, int(ex + sa + pad) + 1)
    gy, gx = np.mgrid[ry0:ry1, rx0:rx1].astype(np.float32)
    ca, sn = math.cos(angle), math.sin(angle)
    gu = ((gx - ex) * ca + (gy - ey) * sn) / sa
    gv = (-(gx - ex) * sn + (gy - ey) * ca) / sb
    grho = np.hypot(gu, gv)
    inside = grho < 0.8
    crop = red[ry0:ry1, rx0:rx1]
    u, v, rho_all = gu[crop], gv[crop], grho[crop]
    band = max(0.12, 3.0 / sb)
    on_ring = (rho_all >= 1 - band) & (rho_all <= 1 + 0.04)
    t_bins = ((np.arctan2(v[on_ring], u[on_ring]) + math.pi) * (_BINS / (2 * math.pi))).astype(np.int64) % _BINS
    hit = np.zeros(_BINS, dtype=bool)
    hit[t_bins] = True
    t = (np.arange(_BINS) + 0.5) * (2 * math.pi / _BINS) - math.pi
    qx = ex + sa * np.cos(t) * ca - sb * np.sin(t) * sn
    qy = ey + sa * np.cos(t) * sn + sb * np.sin(t) * ca
    visible = (qx >= 0) & (qx <= W - 1) & (qy >= 0) & (qy <= H - 1)
    visible_share = float(visible.mean())
    coverage = float(hit[visible].mean()) if visible.any() else 0.0
    ring_n = int(np.count_nonzero(on_ring))
    inner_n = int(np.count_nonzero(crop & inside))
    interior = inner_n / ring_n if ring_n else 0.0
    density = inner_n / max(1, int(np.count_nonzero(inside)))     # the visible inside only

    score = (0.5 * coverage + 0.3 * max(0.0, 1 - residual / (2 * _MAX_RESIDUAL))
             + 0.2 * min(1.0, interior / (3 * _MIN_INTERIOR)))
    long_cm, short_cm = 2 * sa / px_per_cm, 2 * sb / px_per_cm
    ok = (short_cm >= MIN_CM * _SLACK and long_cm <= MAX_CM / _SLACK and sb / sa >= _MIN_AXIS_RATIO
          and residual <= _MAX_RESIDUAL and coverage >= _MIN_COVERAGE and visible_share >= _MIN_VISIBLE
          and interior >= _MIN_INTERIOR and density <= _MAX_DENSITY)
    hx = math.hypot(sa * ca, sb * sn)
    hy = math.hypot(sa * sn, sb * ca)
    return Candidate((ex - hx, ey - hy, ex + hx, ey + hy), round(residual, 4), round(coverage, 3),
                     round(visible_share, 3), round(interior, 3), round(density, 3), (round(long_cm, 2), round(short_cm, 2)),
                     round(score, 3), ok)


def _fit_ellipse(x: np.ndarray, y: np.ndarray) -> tuple[tuple[float, float], tuple[float, float], float] | None:
    """Least-squares conic A u² + B uv + C v² + D u + E v = 1 → ((cx, cy), (a, b), angle), a ≥ b;
    None when the points do not make an ellipse."""
    if len(x) < 6:
        return None
    mx, my = float(x.mean()), float(y.mean())
    s = float(np.hypot(x - mx, y - my).mean()) or 1.0
    u, v = (x - mx) / s, (y - my) / s
    m = np.column_stack((u * u, u * v, v * v, u, v))
    try:
        p, *_ = np.linalg.lstsq(m, np.ones_like(u), rcond=None)
    except np.linalg.LinAlgError:
        return None
    A, B, C, D, E = (float(q) for q in p)
    det = 4 * A * C - B * B
    if det <= 1e-12:
        return None
    u0 = (B * E - 2 * C * D) / det
    v0 = (B * D - 2 * A * E) / det
    k = 1 - (A * u0 * u0 + B * u0 * v0 + C * v0 * v0 + D * u0 + E * v0)   # value of -F at the centre
    if k <= 0:
        return None
    q = np.array([[A, B / 2], [B / 2, C]]) / k
    vals, vecs = np.linalg.eigh(q)
    if vals[0] <= 0:
        return None
    a, b = 1 / math.sqrt(vals[0]) * s, 1 / math.sqrt(vals[1]) * s       # vals ascending: a ≥ b
    angle = math.atan2(vecs[1, 0], vecs[0, 0])
    return (u0 * s + mx, v0 * s + my), (a, b), angle


def _rho(fit: tuple[tuple[float, float], tuple[float, float], float], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Normalised radius of points: 1 on the ellipse, <1 inside."""
    (ex, ey), (a, b), angle = fit
    ca, sn = math.cos(angle), math.sin(angle)
    u = ((x - ex) * ca + (y - ey) * sn) / a
    v = (-(x - ex) * sn + (y - ey) * ca) / b
    return np.hypot(u, v)


def _distinct(seals: list[Candidate]) -> list[Candidate]:
    """One per seal: a candidate whose centre lies inside a larger one's box is the same seal
    (a ring broken in two arcs, the star)."""
    kept: list[Candidate] = []
    for c in sorted(seals, key=lambda c: (-(c.box[2] - c.box[0]) * (c.box[3] - c.box[1]), -c.score)):
        cx, cy = (c.box[0] + c.box[2]) / 2, (c.box[1] + c.box[3]) / 2
        if any(k.box[0] <= cx <= k.box[2] and k.box[1] <= cy <= k.box[3] for k in kept):
            continue
        kept.append(c)
    return kept
