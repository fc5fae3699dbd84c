"""documents/seal.py on pages drawn in code (tests/sealpages.py), and the `seal` campaign rule.

Expected, and why:
- a seal (round, rotated, elliptical, faded with patchy ink, JPEG q30–50, 1.6–5.8 cm, cut by
  the page edge with most of its ring on the page) is found, its box where it was pressed;
- a seal only 40 % of whose diameter is on the page is NOT reported (too little ring to tell
  from a red arc; the rule then says the page lacks a seal and a clerk looks);
- a red-headed document (西吉县民政局文件 in red, the red rule), big boxy red characters
  (国 回 局 口), a red pen underline, tick or circle, a blank page, a page all red: no seal;
- a grayscale scan of a sealed page: no seal and `colour=False` — without colour a seal cannot
  be told from print; the rule's message should ask for a colour scan.
"""
import dataclasses
import io
from datetime import date

import pytest
from PIL import Image, ImageChops

import needs
import sealpages as sp
from mailbot.campaign import CampaignError
from mailbot.documents import seal
from mailbot.documents.check import check_document, check_text


@pytest.fixture(autouse=True, scope="module")
def _cjk_font():
    if sp.cjk_font_path() is None or sp.cjk_font_path("serif") is None:
        needs.missing("no CJK font to draw seals and red headers", "fonts-noto-cjk")


def overlap(a, b):
    """Intersection over union of two boxes."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area if area else 0.0


# --- seals are found ---------------------------------------------------------------------------

SEALED = {
    "round 4.2 cm": {},
    "rotated 30°": {"angle": 30},
    "elliptical 4.5×3 cm": {"diameter_cm": 4.5, "ratio": 0.67},
    "elliptical, rotated 25°": {"diameter_cm": 4.5, "ratio": 0.67, "angle": 25},
    "faded, 30 % of the ink missing": {"fade": 0.5, "dropout": 0.3},
    "small 1.6 cm": {"diameter_cm": 1.6},
    "large 5.8 cm": {"diameter_cm": 5.8},
    "high on the page, over the title": {"centre": (620, 230)},
}


@pytest.mark.parametrize("how", SEALED)
def test_a_stamped_page_has_one_seal_where_it_was_pressed(how):
    page, drawn = sp.seal_page(**SEALED[how])
    r = seal.detect(page)
    assert r.found and r.count == 1 and r.colour
    assert overlap(r.boxes[0], drawn) > 0.85, (r.boxes, drawn)
    assert 0.7 < r.score <= 1


@pytest.mark.parametrize("quality", [50, 30])
def test_jpeg_round_trip_keeps_the_seal(quality):
    page, drawn = sp.seal_page()
    r = seal.detect(sp.jpeg(page, quality))
    assert r.found and r.count == 1 and overlap(r.boxes[0], drawn) > 0.85


def test_faded_seal_survives_jpeg():
    page, drawn = sp.seal_page(fade=0.5, dropout=0.3)
    r = seal.detect(sp.jpeg(page, 50))
    assert r.found and overlap(r.boxes[0], drawn) > 0.8


def test_seal_cut_by_the_page_edge():
    d = 4.2 * sp.PX_PER_CM
    # 80 % of the diameter on the page: found, the box clipped to the page
    page, drawn = sp.seal_page(centre=(round(sp.A4[0] - 0.3 * d), 1350))
    r = seal.detect(page)
    assert r.found and r.boxes[0][2] == sp.A4[0] and overlap(r.boxes[0], drawn) > 0.8
    # 40 % of the diameter on the page: not reported
    page, _ = sp.seal_page(centre=(round(sp.A4[0] + 0.1 * d), 1350))
    assert not seal.detect(page).found


def test_two_seals_of_a_joint_document():
    page = sp.text_page()
    page, a = sp.stamp(page, sp.seal(4.2, name="西吉县民政局"), (380, 1400))
    page, b = sp.stamp(page, sp.seal(4.2, name="西吉县财政局"), (860, 1400), angle=-12)
    r = seal.detect(page)
    assert r.count == 2
    assert overlap(r.boxes[0], a) > 0.85 and overlap(r.boxes[1], b) > 0.85


def test_resolution_and_image_modes():
    page, drawn = sp.seal_page()
    big = page.resize((2480, 3508), Image.BILINEAR)             # 300 dpi
    r = seal.detect(big, dpi=300)
    assert r.found and overlap(r.boxes[0], tuple(2 * v for v in drawn)) > 0.85
    assert seal.detect(page.resize((595, 842), Image.BILINEAR)).found      # 72 dpi
    for mode in ("RGBA", "P", "CMYK"):
        assert seal.detect(page.convert(mode)).found, mode
    landscape = page.rotate(90, expand=True)
    assert seal.detect(landscape).found


def test_a_warm_or_pink_cast_is_paper_not_red():
    tint = Image.new("RGB", sp.A4, (250, 222, 205))
    sealed, _ = sp.seal_page()
    assert seal.detect(ImageChops.multiply(sealed, tint)).found
    assert not seal.detect(ImageChops.multiply(sp.text_page(), tint)).found


# --- what is not a seal ----------------------------------------------------------------------------

NOT_SEALS = {
    "red-headed document (红头文件) and its red rule": lambda: sp.red_header_page(),
    "red header set wide apart": lambda: sp.red_header_page(spaced=True),
    "red header, JPEG q30": lambda: sp.jpeg(sp.red_header_page(), 30),
    "big red boxy characters 国回局口": sp.big_red_characters_page,
    "red pen underline and tick": sp.underline_page,
    "red pen circle round a phrase": sp.pen_circle_page,
    "black print only": sp.text_page,
    "blank page": sp.blank_page,
    "page all red": lambda: Image.new("RGB", sp.A4, sp.SEAL_RED),
    "a small red ring of 0.8 cm": lambda: sp.seal_page(diameter_cm=0.8)[0],
    "a solid red disc and a pie chart with a 65 % red slice": sp.solid_red_shapes_page,
}


@pytest.mark.parametrize("what", NOT_SEALS)
def test_no_seal(what):
    r = seal.detect(NOT_SEALS[what]())
    assert not r.found and r.count == 0 and r.boxes == ()


def test_grayscale_scan_cannot_show_a_seal():
    page, _ = sp.seal_page()
    for gray in (page.convert("L"), page.convert("L").convert("RGB"), page.convert("1")):
        r = seal.detect(gray)
        assert not r.found and r.colour is False


def test_odd_images_never_raise():
    assert not seal.detect(Image.new("RGB", (3, 3), (255, 0, 0))).found
    assert not seal.detect(Image.new("RGB", (8, 60000), (220, 30, 40))).found
    assert not seal.detect(Image.new("F", (500, 700))).found
    assert not seal.detect(Image.new("I;16", (500, 700))).found
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), (255, 255, 255)).save(buf, "PNG")
    assert not seal.detect(Image.open(buf)).found


def test_result_is_plain_data_and_the_caller_sets_the_page():
    page, _ = sp.seal_page()
    r = dataclasses.replace(seal.detect(page), page=3)
    assert r.page == 3 and r.found
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.found = False


# --- the campaign rule: type = "seal" -----------------------------------------------------------

SUMMARY = ("西吉县民政局“政府开放日”活动开展情况\n我局于2022年9月6日上午开展“政府开放日”活动，"
           "邀请社区工作者、群众代表共30人参加，参观了局机关办公场所，召开座谈会，收集意见建议6条。")

SEAL_CHECK = {
    "id": "summary-seal", "type": "seal", "kinds": ["summary"], "severity": "错误",
    "item": "单位公章", "clause": "三(四)",
    "message": "{kind}未见红色公章（扫描件{missing}未识别到），请加盖公章后彩色扫描报送。",
}


def seal_campaign(campaign, **changes):
    return dataclasses.replace(campaign, checks=({**SEAL_CHECK, **changes},))


@dataclasses.dataclass(frozen=True)
class ScannedDoc:
    """What docread gives for a document (the OCR helper's DocText fields)."""
    name: str
    text: str
    source: str = "text"
    pages: int = 0
    seal_pages: tuple = ()
    ocr_pages: tuple = ()
    kind: str = "pdf"
    readable: bool = True
    reason: str | None = None
    warnings: tuple = ()


def check(campaign, doc, kind="summary"):
    return check_document(doc, campaign=campaign, roster=None, kind=kind, unit="西吉县民政局",
                          received=date(2022, 9, 15))


def test_scan_without_a_seal_is_named_with_its_pages(campaign):
    c = seal_campaign(campaign)
    r = check(c, ScannedDoc("开展情况.pdf", SUMMARY, source="ocr", pages=2))
    assert r.outcome == "需修改"
    (f,) = r.findings
    assert f.rule == "summary-seal" and f.item == "单位公章" and f.severity == "错误"
    assert f.message == "开展情况未见红色公章（扫描件第1–2页未识别到），请加盖公章后彩色扫描报送。"


def test_scan_with_a_seal_passes(campaign):
    r = check(seal_campaign(campaign), ScannedDoc("开展情况.pdf", SUMMARY, source="ocr", pages=2, seal_pages=(2,)))
    assert r.findings == () and r.outcome == "待审核"


def test_seal_on_the_last_page_or_every_page(campaign):
    last = seal_campaign(campaign, pages="last")
    r = check(last, ScannedDoc("开展情况.pdf", SUMMARY, source="ocr", pages=3, seal_pages=(1,)))
    assert "扫描件第3页未识别到" in r.findings[0].message
    assert check(last, ScannedDoc("开展情况.pdf", SUMMARY, source="ocr", pages=3, seal_pages=(3,))).findings == ()
    every = seal_campaign(campaign, pages="every")
    r = check(every, ScannedDoc("开展情况.pdf", SUMMARY, source="ocr", pages=4, seal_pages=(1, 3)))
    assert "扫描件第2、4页未识别到" in r.findings[0].message


def test_a_pdf_with_one_scanned_page_is_judged_on_that_page(campaign):
    """A report typed in Word with its signature page scanned and stamped: pages 1–2 carry their
    own text (no seal can show there), page 3 is the scan."""
    every = seal_campaign(campaign, pages="every")
    mixed = ScannedDoc("开展情况.pdf", SUMMARY, source="ocr", pages=3, ocr_pages=(3,))
    assert "扫描件第3页未识别到" in check(every, mixed).findings[0].message
    assert check(every, dataclasses.replace(mixed, seal_pages=(3,))).findings == ()
    last_typed = ScannedDoc("开展情况.pdf", SUMMARY, source="ocr", pages=3, ocr_pages=(1,), seal_pages=(1,))
    assert check(seal_campaign(campaign, pages="last"), last_typed).findings == ()


def test_electronic_document_is_not_a_false_alarm(campaign):
    docx = ScannedDoc("开展情况.docx", SUMMARY, kind="docx")
    assert check(seal_campaign(campaign), docx).findings == ()
    # an older DocText without the scan fields: the same
    bare = dataclasses.make_dataclass("Bare", ["name", "text", "readable", "reason"])("开展情况.docx", SUMMARY, True, None)
    assert check(seal_campaign(campaign), bare).findings == ()
    # a campaign that wants to say so: a 提醒, the submission still passes
    told = seal_campaign(campaign, electronic_message="电子文档无法核验盖章，请另报盖章扫描件或纸质版。")
    r = check(told, docx)
    assert r.outcome == "待审核"
    assert [(f.severity, f.message) for f in r.findings] == [("提醒", "电子文档无法核验盖章，请另报盖章扫描件或纸质版。")]


def test_seal_rule_only_for_its_kinds(campaign):
    r = check(seal_campaign(campaign), ScannedDoc("实施方案.pdf", SUMMARY, source="ocr", pages=1), kind="plan")
    assert r.findings == ()


def test_check_text_takes_the_scan_fields(campaign):
    r = check_text(SUMMARY, campaign=seal_campaign(campaign), roster=None, kind="summary", unit=None,
                   received=None, source="ocr", pages=1, seal_pages=[7, "1", True])   # nonsense dropped
    assert "扫描件第1页未识别到" in r.findings[0].message


@pytest.mark.parametrize("change, key", [
    ({"pages": "first"}, "pages"),
    ({"electronic_message": "{missing}无法核验"}, "electronic_message"),
    ({"message": "{page}未盖章"}, "message"),
    ({"min": 1}, "min"),
])
def test_malformed_seal_check_names_the_key(campaign, change, key):
    with pytest.raises(CampaignError) as e:
        check(seal_campaign(campaign, **change), ScannedDoc("开展情况.pdf", SUMMARY, source="ocr", pages=1))
    assert "summary-seal" in str(e.value) and key in str(e.value)


def test_detector_and_rule_together(campaign):
    """Pages as a scan would give them: the seal on page 2 of 2, then the same scan unstamped."""
    first, (second, _) = sp.text_page(), sp.seal_page()
    found = tuple(n for n, p in enumerate((first, second), start=1) if seal.detect(sp.jpeg(p)).found)
    assert found == (2,)
    c = seal_campaign(campaign)
    assert check(c, ScannedDoc("开展情况.jpg", SUMMARY, source="ocr", pages=2, seal_pages=found)).findings == ()
    none = tuple(n for n, p in enumerate((first, sp.text_page()), start=1) if seal.detect(p).found)
    assert check(c, ScannedDoc("开展情况.jpg", SUMMARY, source="ocr", pages=2, seal_pages=none)).findings


def test_the_campaign_files_example_works_when_uncommented(tmp_path):
    """rules/open-day-2022.toml ships a commented-out seal check; switched on as its comment says
    (the leading "# " removed), it compiles and names the unstamped scan."""
    from pathlib import Path

    from mailbot.campaign import load_campaign
    from mailbot.documents.check import compile_checks

    src = Path(__file__).resolve().parents[1] / "rules" / "open-day-2022.toml"
    lines = src.read_text(encoding="utf-8").splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("# [[checks]]") and
                 any(x == '# type = "seal"' for x in lines[i + 1:i + 4]))
    end = start + 1
    while end < len(lines) and lines[end].startswith("# ") and " = " in lines[end]:
        end += 1
    live = lines[:start] + [ln[2:] for ln in lines[start:end]] + lines[end:]
    path = tmp_path / "open-day.toml"
    path.write_text("\n".join(live) + "\n", encoding="utf-8")
    c = load_campaign(path)
    assert "seal" in {r.type for r in compile_checks(c)}
    r = check(c, ScannedDoc("开展情况.pdf", SUMMARY, source="ocr", pages=1))
    seal_findings = [f for f in r.findings if f.rule == "summary-seal"]
    assert [f.message for f in seal_findings] == [
        "开展情况扫描件第1页未识别到红色公章，如须盖章，请加盖公章后彩色扫描报送。"]
