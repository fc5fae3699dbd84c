"""Scanned pages drawn in code for the seal detector's tests and benchmark (no binary fixtures).

An A4 page at 150 dpi (1240 × 1754 px) with black 仿宋-sized print, and a red official seal
drawn as a clerk sees one: a ring ~4 cm across, a five-pointed star, the unit's name along the
inside of the ring and 专用章-style text under the star; stamped over the print (ink multiplies:
red over black stays black, so print breaks the ring), optionally rotated, elliptical, faded
with patchy ink, or cut by the page edge. Also the classic false positive, a 红头文件 header:
"西吉县民政局文件" in big red serif type with the red rule under it.

Needs a CJK font (Debian fonts-noto-cjk); `cjk_font()` returns None without one.
"""
from __future__ import annotations

import functools
import io
import math
import random
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFont

DPI = 150
A4 = (1240, 1754)                 # 210 × 297 mm at 150 dpi
PX_PER_CM = DPI / 2.54
SEAL_RED = (214, 32, 44)

_FONTS = {
    "sans": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    "serif": ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
              "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
              "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
              "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
}

BODY = ("为认真贯彻落实《西吉县2022年度“政府开放日”活动实施方案》要求，进一步提升政务公开工作水平，"
        "我局于2022年9月6日上午在局机关二楼会议室开展了“政府开放日”活动。现将有关情况总结如下：一、"
        "活动开展情况。本次活动邀请社区工作者、群众代表等共30人参加，参观了局机关办公场所和便民服务"
        "窗口，局长介绍了民政工作的主要职能和重点任务，群众代表提出意见建议6条，当场答复4条。二、"
        "主要做法。提前15天在政府网站发布活动公告，通过线上报名和线下推荐相结合的方式确定参加人员。")


@functools.cache
def cjk_font_path(style: str = "sans") -> str | None:
    for p in _FONTS[style]:
        if Path(p).exists():
            return p
    return None


def cjk_font(size: int, style: str = "sans") -> ImageFont.FreeTypeFont | None:
    p = cjk_font_path(style)
    return ImageFont.truetype(p, size) if p else None


def blank_page(size: tuple[int, int] = A4) -> Image.Image:
    return Image.new("RGB", size, (255, 255, 255))


def text_page(size: tuple[int, int] = A4, *, title: str = "西吉县民政局“政府开放日”活动开展情况",
              lines: int = 30) -> Image.Image:
    """A page of black print: a title and body lines at 16 pt (≈ 33 px), 1.2 cm margins... as filed."""
    page = blank_page(size)
    d = ImageDraw.Draw(page)
    w, _ = size
    title_font, body_font = cjk_font(44, "serif"), cjk_font(30)
    d.text((w // 2, 190), title, font=title_font, fill=(0, 0, 0), anchor="mm")
    left, right, per = 160, w - 160, 0
    per = max(1, int((right - left) / 31))
    text = BODY * 4
    y = 280
    for i in range(lines):
        chunk = text[i * per:(i + 1) * per]
        if not chunk:
            break
        d.text((left, y), chunk, font=body_font, fill=(20, 20, 20))
        y += 46
    return page


def seal(diameter_cm: float = 4.2, *, ratio: float = 1.0, name: str = "西吉县民政局",
         bottom: str = "", ring_mm: float = 1.2, colour: tuple[int, int, int] = SEAL_RED) -> Image.Image:
    """An RGBA seal: ring (an ellipse when ratio < 1, height = ratio × width), star, name, bottom text."""
    wpx = round(diameter_cm * PX_PER_CM)
    hpx = round(wpx * ratio)
    pad = 6
    img = Image.new("RGBA", (wpx + 2 * pad, hpx + 2 * pad), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    ring = max(3, round(ring_mm / 10 * PX_PER_CM))
    ink = colour + (255,)
    d.ellipse((pad, pad, pad + wpx, pad + hpx), outline=ink, width=ring)
    cx, cy = pad + wpx / 2, pad + hpx / 2
    # star: outer radius ~ 1/5 of the width
    ro, ri = wpx * 0.19, wpx * 0.19 * 0.382
    pts = []
    for k in range(10):
        rad = ro if k % 2 == 0 else ri
        ang = -math.pi / 2 + k * math.pi / 5
        pts.append((cx + rad * math.cos(ang), cy + rad * math.sin(ang)))
    d.polygon(pts, fill=ink)
    # the name along the upper 240° of the inside of the ring, upright towards the centre
    size = max(10, round(wpx * 0.15))
    font = cjk_font(size, "sans")
    if font is not None and name:
        a, b = wpx / 2 - ring - size * 0.75, hpx / 2 - ring - size * 0.75
        n = len(name)
        span = math.radians(min(240, 28 * n))
        for i, ch in enumerate(name):
            t = -math.pi / 2 - span / 2 + span * (i + 0.5) / n
            glyph = Image.new("RGBA", (size * 2, size * 2), (0, 0, 0, 0))
            ImageDraw.Draw(glyph).text((size, size), ch, font=font, fill=ink, anchor="mm")
            glyph = glyph.rotate(-math.degrees(t) - 90, resample=Image.BICUBIC)
            gx, gy = cx + a * math.cos(t) - size, cy + b * math.sin(t) - size
            img.alpha_composite(glyph, (round(gx), round(gy)))
        if bottom:
            d.text((cx, cy + hpx * 0.3), bottom, font=cjk_font(max(8, round(size * 0.7))), fill=ink, anchor="mm")
    return img


def stamp(page: Image.Image, seal_img: Image.Image, centre: tuple[int, int], *, angle: float = 0.0,
          fade: float = 0.0, dropout: float = 0.0, seed: int = 7) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """The page with the seal pressed on it at `centre` (px), rotated `angle` degrees; `fade` 0..1
    lightens the ink towards the paper, `dropout` 0..1 is the share of ink missing in patches.
    Returns the new page and the seal's box (x0, y0, x1, y1) as drawn, clipped to the page."""
    s = seal_img.rotate(angle, resample=Image.BICUBIC, expand=True) if angle else seal_img.copy()
    if dropout:
        rnd = random.Random(seed)
        # patchy ink: blotches of missing ink, ~2 mm each
        hole = Image.new("L", s.size, 255)
        hd = ImageDraw.Draw(hole)
        blot = max(4, round(0.2 * PX_PER_CM))
        n = int(-math.log(1 - min(dropout, 0.95)) * s.size[0] * s.size[1] / (math.pi * blot * blot))
        for _ in range(n):
            x, y = rnd.randrange(s.size[0]), rnd.randrange(s.size[1])
            hd.ellipse((x - blot, y - blot, x + blot, y + blot), fill=0)
        alpha = ImageChops.multiply(s.getchannel("A"), hole)
        s.putalpha(alpha)
    if fade:
        alpha = s.getchannel("A").point(lambda v: round(v * (1 - fade)))
        s.putalpha(alpha)
    layer = Image.new("RGB", page.size, (255, 255, 255))
    x0, y0 = centre[0] - s.size[0] // 2, centre[1] - s.size[1] // 2
    white = Image.new("RGB", s.size, (255, 255, 255))
    ink = Image.composite(s.convert("RGB"), white, s.getchannel("A"))
    layer.paste(ink, (x0, y0))
    out = ImageChops.multiply(page, layer)
    bbox = s.getchannel("A").getbbox() or (0, 0, 0, 0)
    box = (max(0, x0 + bbox[0]), max(0, y0 + bbox[1]),
           min(page.size[0], x0 + bbox[2]), min(page.size[1], y0 + bbox[3]))
    return out, box


def seal_page(**kw) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """A typical last page: print, and the seal over the signature at the lower right."""
    page = text_page()
    ratio = kw.pop("ratio", 1.0)
    diameter = kw.pop("diameter_cm", 4.2)
    centre = kw.pop("centre", (880, 1350))
    return stamp(page, seal(diameter, ratio=ratio, bottom="办公室"), centre, **kw)


def red_header_page(*, spaced: bool = False) -> Image.Image:
    """A 红头文件: 西吉县民政局文件 in big red serif type, the document number, the red rule, print."""
    page = text_page(title="关于开展“政府开放日”活动的报告")
    d = ImageDraw.Draw(page)
    w = page.size[0]
    # the header band: 2 cm characters (a little smaller than 小初 compressed-width 方正小标宋)
    size = round(1.7 * PX_PER_CM)
    font = cjk_font(size, "serif")
    text = "西吉县民政局文件"
    d.rectangle((0, 0, w, 175), fill=(255, 255, 255))        # clear the title area above the print
    if spaced:
        step = size * 1.25
        x = w / 2 - step * (len(text) - 1) / 2
        for i, ch in enumerate(text):
            d.text((x + i * step, 100), ch, font=font, fill=SEAL_RED, anchor="mm")
    else:
        d.text((w // 2, 100), text, font=font, fill=SEAL_RED, anchor="mm")
    d.text((w // 2, 165), "西民发〔2022〕56号", font=cjk_font(28), fill=(0, 0, 0), anchor="mm")
    d.rectangle((120, 185, w - 120, 189), fill=SEAL_RED)
    return page


def big_red_characters_page() -> Image.Image:
    """Single red characters of seal size, boxy ones (国 回 局 口) that a ring test could take for a seal."""
    page = text_page()
    d = ImageDraw.Draw(page)
    font = cjk_font(round(2.6 * PX_PER_CM), "serif")
    for i, ch in enumerate("国回局口"):
        d.text((240 + i * 260, 1450), ch, font=font, fill=SEAL_RED, anchor="mm")
    return page


def underline_page() -> Image.Image:
    """A reviewer's red pen: a wavy underline and a tick, no seal."""
    page = text_page()
    d = ImageDraw.Draw(page)
    pts = [(300 + x, 640 + 6 * math.sin(x / 18)) for x in range(0, 600, 6)]
    d.line(pts, fill=(200, 30, 30), width=4)
    d.line([(1000, 900), (1030, 940), (1090, 850)], fill=(200, 30, 30), width=5)
    return page


def pen_circle_page() -> Image.Image:
    """A red pen circle drawn around a phrase: seal-sized, round, but empty inside."""
    page = text_page()
    d = ImageDraw.Draw(page)
    d.ellipse((500, 600, 760, 830), outline=(205, 35, 35), width=4)
    return page


def solid_red_shapes_page() -> Image.Image:
    """A red disc of seal size (a sticker, a logo dot) and a pie chart whose red slice is 65 %."""
    page = text_page()
    d = ImageDraw.Draw(page)
    r = round(1.5 * PX_PER_CM)
    d.ellipse((300 - r, 1400 - r, 300 + r, 1400 + r), fill=SEAL_RED)
    r = round(2.2 * PX_PER_CM)
    box = (850 - r, 1400 - r, 850 + r, 1400 + r)
    d.pieslice(box, -90, -90 + 234, fill=(210, 40, 40))
    d.pieslice(box, 144, 216, fill=(40, 80, 200))
    d.pieslice(box, 216, 270, fill=(150, 150, 150))
    return page


def jpeg(image: Image.Image, quality: int = 50) -> Image.Image:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    return out
