"""Scanned submissions read by OCR: image-only PDFs, PDFs with some scanned pages, JPEG and PNG
attachments — within the mail's OCR budgets, and hostile images refused cleanly.

Scans are made at test time as departments make them (tests/scans.py: the demo's plan and
summary .docx → PDF by LibreOffice → 150 dpi → tilted, blurred, speckled, JPEG 60) and cached
in the temp dir. They need Tesseract with Simplified Chinese (tesseract-ocr tesseract-ocr-chi-sim),
LibreOffice Writer and pdftoppm (poppler-utils): scripts/test installs them.
"""
from __future__ import annotations

import dataclasses
import io
import struct
import zlib
from datetime import date

import pytest
from PIL import Image

import needs
import scans
from mailbot.demo import samples
from mailbot.documents import docread, docsandbox, ocr, pdf, scan
from mailbot.documents.docread import Limits, read_document, read_each
from mailbot.documents.facts import extract_facts

OCR_PACKAGES = ocr.TESSERACT_PACKAGES


@pytest.fixture(scope="module")
def tesseract():
    if ocr.missing():
        needs.missing(ocr.missing(), OCR_PACKAGES)
    needs.binary("pdftoppm", "poppler-utils")


@pytest.fixture(scope="module")
def plan_scan(tesseract):
    """(page JPEGs, image-only PDF) of a 民政局 plan: 2022年8月24日, 参加人数 30人."""
    needs.libreoffice("writer")
    return scans.scan_of(samples.plan_docx("西吉县民政局", activity=date(2022, 8, 24), participants=30,
                                           contact="马晓琴", phone="0954-7012345"))


@pytest.fixture(scope="module")
def summary_scan(tesseract):
    """(page JPEGs, image-only PDF) of a 卫生健康局 summary: held 2022年9月5日, 32人 took part."""
    needs.libreoffice("writer")
    return scans.scan_of(samples.summary_docx("西吉县卫生健康局", held=date(2022, 9, 5), participants=32,
                                              suggestions=6, feedback="已逐条答复", contact="王丽",
                                              phone="0954-7023456"))


def read1(data: bytes, name: str, **kw) -> docread.DocText:
    docs = read_document(data, name, converter=None, **kw)
    assert len(docs) == 1, docs
    return docs[0]


# --- what a clerk gets from a scan -----------------------------------------------------------------


def test_image_only_pdf_of_a_plan_gives_its_date_and_headcount(plan_scan):
    _jpegs, scan_pdf = plan_scan
    doc = read1(scan_pdf, "民政局实施方案（盖章扫描件）.pdf")
    assert (doc.kind, doc.readable, doc.reason) == ("pdf", True, None)
    assert doc.source == "ocr" and doc.pages == 5 and doc.ocr_pages == (1, 2, 3, 4, 5)
    assert len(doc.page_texts) == 5 and doc.text == "\n".join(t for t in doc.page_texts if t.strip())
    assert "2022年8月24日" in doc.text and "30人" in doc.text
    facts = extract_facts(doc.text, kind="plan", year=2022)
    assert facts.dates() == [date(2022, 8, 24)]
    assert facts.value("participants") == 30
    assert facts.value("phone") == "0954-7012345"
    assert any(w.startswith("文字由扫描件识别得出（第 1、2、3、4、5 页）") for w in doc.warnings)


def test_jpeg_attachment_of_a_summary_page(summary_scan):
    jpegs, _pdf = summary_scan
    doc = read1(jpegs[0], "卫健局开展情况.jpg")
    assert (doc.kind, doc.readable, doc.source, doc.pages, doc.ocr_pages) == ("image", True, "ocr", 1, (1,))
    facts = extract_facts(doc.text, kind="summary", year=2022)
    assert facts.dates("held_dates") == [date(2022, 9, 5)]
    assert facts.value("actual_participants") == 32


def test_page_scanned_sideways_is_turned_and_read(summary_scan):
    jpegs, _pdf = summary_scan
    sideways = io.BytesIO()
    Image.open(io.BytesIO(jpegs[0])).rotate(90, expand=True).save(sideways, "JPEG", quality=80)
    doc = read1(sideways.getvalue(), "开展情况（横向扫描）.jpg")
    assert doc.readable and "2022年9月5日" in doc.text and "32人" in doc.text


def test_png_and_multipage_tiff_attachments(summary_scan):
    jpegs, _pdf = summary_scan
    pages = [Image.open(io.BytesIO(j)) for j in jpegs[:2]]
    png, tif = io.BytesIO(), io.BytesIO()
    pages[0].save(png, "PNG")
    pages[0].save(tif, "TIFF", save_all=True, append_images=pages[1:], compression="tiff_deflate")
    doc = read1(png.getvalue(), "开展情况.png")
    assert doc.readable and "2022年9月5日" in doc.text
    doc = read1(tif.getvalue(), "开展情况.tif")
    assert (doc.readable, doc.pages, doc.ocr_pages) == (True, 2, (1, 2))
    assert "2022年9月5日" in doc.page_texts[0] and "意见建议" in doc.page_texts[1]


def test_pdf_with_one_scanned_page_keeps_the_text_layer_of_the_others(summary_scan, tmp_path):
    """A summary typed in Word with its last page (the stamped signature page) scanned in."""
    from pypdf import PdfReader, PdfWriter
    jpegs, scan_pdf = summary_scan
    docx_bytes = samples.summary_docx("西吉县卫生健康局", held=date(2022, 9, 5), participants=32, suggestions=6,
                                      feedback="已逐条答复", contact="王丽", phone="0954-7023456")
    typed = PdfReader(io.BytesIO(scans.docx_to_pdf(docx_bytes)))
    scanned = PdfReader(io.BytesIO(scan_pdf))
    w = PdfWriter()
    w.add_page(typed.pages[0])
    w.add_page(typed.pages[1])
    w.add_page(scanned.pages[2])
    out = io.BytesIO()
    w.write(out)
    doc = read1(out.getvalue(), "开展情况.pdf")
    assert (doc.readable, doc.source, doc.pages, doc.ocr_pages) == (True, "ocr", 3, (3,))
    assert "2022年9月5日" in doc.page_texts[0]          # the text layer, exactly
    assert doc.page_texts[2].strip()                    # the scanned page, recognised


def test_scan_pasted_into_word_is_read_like_a_scanned_pdf(summary_scan):
    """Two scanned pages pasted into a .docx under a one-line title (a common way to send a stamped
    report); a small logo picture is not taken for a page."""
    import docx
    from docx.shared import Cm
    jpegs, _pdf = summary_scan
    logo = io.BytesIO()
    Image.new("RGB", (120, 120), "red").save(logo, "PNG")
    d = docx.Document()
    d.add_paragraph("卫生健康局开展情况（盖章扫描件）")
    d.add_picture(logo, width=Cm(1))
    for j in jpegs[:2]:
        d.add_picture(io.BytesIO(j), width=Cm(16))
    out = io.BytesIO()
    d.save(out)
    doc = read1(out.getvalue(), "开展情况.docx")
    assert (doc.kind, doc.readable, doc.source, doc.pages, doc.ocr_pages) == ("docx", True, "ocr", 2, (1, 2))
    assert doc.text.startswith("卫生健康局开展情况（盖章扫描件）\n")
    facts = extract_facts(doc.text, kind="summary", year=2022)
    assert facts.dates("held_dates") == [date(2022, 9, 5)] and facts.value("actual_participants") == 32


def test_a_seal_on_a_colour_scan_is_recorded_with_its_page(tesseract):
    import sealpages as sp
    if sp.cjk_font(20) is None:
        needs.missing("no CJK font to draw the page", "fonts-noto-cjk")
    page, _box = sp.seal_page()
    buf = io.BytesIO()
    page.convert("RGB").save(buf, "JPEG", quality=85, dpi=(150, 150))
    doc = read1(buf.getvalue(), "开展情况（盖章）.jpg")
    assert (doc.source, doc.pages, doc.seal_checked, doc.seal_pages) == ("ocr", 1, (1,), (1,))
    assert "2022年9月6日" in doc.text


def test_scan_fields_survive_the_sandbox(summary_scan):
    jpegs, _pdf = summary_scan
    [[doc], [plain]] = docsandbox.read_mail_documents([(jpegs[0], "开展情况.jpg"), (b"contact 0954-1", "a.txt")])
    assert (doc.kind, doc.readable, doc.source, doc.pages, doc.ocr_pages) == ("image", True, "ocr", 1, (1,))
    assert "2022年9月5日" in doc.text and doc.page_texts == (doc.text,)
    assert (plain.source, plain.pages, plain.page_texts) == ("text", 0, ())


def test_worker_json_with_bad_page_numbers_is_refused():
    good = docsandbox._doc_json(docread.DocText("a.pdf", "pdf", "x", True, source="ocr", pages=2,
                                                page_texts=("x", ""), ocr_pages=(1,), seal_pages=(2,)))
    assert docsandbox._doc_from_json(good).seal_pages == (2,)
    for bad in ({"seal_pages": [3]}, {"ocr_pages": [True]}, {"source": "magic"}, {"pages": -1},
                {"page_texts": [1]}):
        with pytest.raises(ValueError):
            docsandbox._doc_from_json({**good, **bad})


# --- budgets ---------------------------------------------------------------------------------------


def test_scan_over_the_page_budget_goes_to_a_person_naming_it(summary_scan):
    _jpegs, scan_pdf = summary_scan
    doc = read1(scan_pdf, "开展情况.pdf", limits=Limits(max_ocr_pages=2))
    assert (doc.readable, doc.reason) == (False, docread.REASON_OCR_PAGES.format(n=2))
    assert doc.reason == "扫描页超过本邮件的文字识别上限（2 页），其余页未识别，已转人工审核"
    assert doc.ocr_pages == (1, 2) and doc.page_texts[2] == ""
    assert docsandbox.refused(doc)


def test_the_page_budget_is_the_whole_mails(summary_scan):
    """Two scanned attachments of one mail share max_ocr_pages; the text attachment is still read."""
    jpegs, _pdf = summary_scan
    got = list(read_each([(jpegs[0], "第1页.jpg"), (jpegs[1], "第2页.jpg"), ("联系电话0954-7023456".encode(), "说明.txt")],
                         converter=None, limits=Limits(max_ocr_pages=1)))
    assert [(d.readable, d.reason) for [d] in got] == [
        (True, None), (False, docread.REASON_OCR_PAGES.format(n=1)), (True, None)]


def test_scan_over_the_ocr_time_budget(summary_scan):
    jpegs, _pdf = summary_scan
    got = list(read_each([(jpegs[0], "第1页.jpg"), (jpegs[1], "第2页.jpg")], converter=None,
                         limits=Limits(max_ocr_seconds=0.05)))
    reasons = [d.reason for [d] in got]
    assert reasons[1] == docread.REASON_OCR_TIME.format(s=0.05)
    assert reasons[1] == "扫描件文字识别超过本邮件的时限（0.05 秒），其余页未识别，已转人工审核"


def test_mailbudget_carries_the_ocr_budgets_to_the_reader():
    limits = docsandbox.MailBudget(max_ocr_pages=7, max_ocr_seconds=500, max_seconds=120).limits()
    assert (limits.max_ocr_pages, limits.max_ocr_seconds) == (7, 120)


# --- without OCR -----------------------------------------------------------------------------------


def test_without_tesseract_scans_go_to_a_person_saying_what_to_install(monkeypatch):
    monkeypatch.setattr(ocr, "missing", lambda name="tesseract": ocr.MISSING_TESSERACT)
    img = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(img, "JPEG")
    doc = read1(img.getvalue(), "扫描件.jpg")
    assert (doc.kind, doc.readable) == ("image", False)
    assert doc.reason == ("扫描件或图片：本机未安装文字识别程序（Tesseract），无法识别扫描件"
                          "（apt-get install tesseract-ocr tesseract-ocr-chi-sim），需人工审核")
    doc = read1(minimal_pdf_without_text(), "扫描件.pdf")
    assert (doc.kind, doc.readable) == ("pdf", False)
    assert doc.reason == docread.REASON_OCR_MISSING.format(why=ocr.MISSING_TESSERACT)


def test_ocr_switched_off_by_config():
    img = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(img, "PNG")
    doc = read1(img.getvalue(), "扫描件.png", limits=Limits(max_ocr_pages=0))
    assert doc.reason == docread.REASON_OCR_MISSING.format(why=scan.OCR_OFF)


# --- hostile images --------------------------------------------------------------------------------


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares width × height and carries one tiny compressed row."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


def test_huge_declared_image_is_refused_before_decoding(tesseract):
    doc = read1(png_header(60000, 60000), "扫描件.png")
    assert (doc.kind, doc.readable) == ("image", False)
    assert doc.reason == "图片尺寸过大（60000×60000 像素，上限 40 百万像素），已拒绝读取，需人工审核"
    assert docsandbox.refused(doc)
    doc = read1(png_header(9000, 5000), "长图.png")             # 45 M pixels: over the cap too
    assert doc.reason.startswith("图片尺寸过大（9000×5000 像素")


def test_truncated_and_damaged_images_are_refused_cleanly(summary_scan):
    jpegs, _pdf = summary_scan
    for data, name in ((jpegs[0][: len(jpegs[0]) // 2], "截断.jpg"), (png_header(800, 600), "坏.png"),
                       (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "方案.jpg"), (b"GIF89a" + b"\xff" * 40, "动图.gif")):
        doc = read1(data, name)
        assert (doc.kind, doc.readable, doc.reason) == ("image", False, docread.REASON_IMAGE_CORRUPT), name


def test_heic_photo_is_named_as_unsupported(tesseract):
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    doc = read1(heic, "IMG_0001.HEIC")
    assert doc.reason == "不支持识别这种格式的图片（HEIC），请改用 JPG、PNG 或 PDF，需人工审核"


def test_hostile_images_in_the_sandbox_do_not_stop_the_mail(summary_scan):
    jpegs, _pdf = summary_scan
    files = [(png_header(60000, 60000), "大图.png"), (jpegs[0][:5000], "截断.jpg"), (jpegs[0], "第1页.jpg")]
    got = docsandbox.read_mail_documents(files)
    assert [d.reason for [d] in got][:2] == [
        "图片尺寸过大（60000×60000 像素，上限 40 百万像素），已拒绝读取，需人工审核", docread.REASON_IMAGE_CORRUPT]
    assert got[2][0].readable and "2022年9月5日" in got[2][0].text


def test_pdf_page_claiming_to_be_five_metres_wide_is_rendered_within_bounds(tesseract, tmp_path):
    from pypdf import PdfWriter
    from mailbot.documents import render
    w = PdfWriter()
    w.add_blank_page(14400, 14400)                       # 5 m × 5 m: 30000² pixels at 150 dpi
    out = io.BytesIO()
    w.write(out)
    doc = read1(out.getvalue(), "扫描件.pdf")
    assert (doc.readable, doc.reason, doc.ocr_pages) == (False, docread.REASON_OCR_EMPTY, (1,))
    assert render.page_dpi((14400, 14400), 150, 1800) == 9
    # a page whose size we did not learn (or that lies about it) is cropped to the bound all the same
    (tmp_path / "a.pdf").write_bytes(out.getvalue())
    image = render.render_page(str(tmp_path / "a.pdf"), 1, size_pt=None, dpi=150, max_side=1800, timeout_s=60)
    assert image.size == (1800, 1800)


def test_blank_page_scan_is_unreadable_not_empty_text(tesseract):
    img = io.BytesIO()
    Image.new("L", (1240, 1754), 255).save(img, "PNG")
    doc = read1(img.getvalue(), "空白.png")
    assert (doc.readable, doc.reason, doc.source, doc.ocr_pages) == (False, docread.REASON_OCR_EMPTY, "ocr", (1,))


# --- which pages are scans -------------------------------------------------------------------------


def test_which_pdf_pages_are_read_by_ocr():
    real = "西吉县民政局2022年“政府开放日”活动实施方案，活动时间2022年8月24日，参加人数30人。"
    assert pdf.scan_pages([real, real], [False, False]) == []
    assert pdf.scan_pages([real, ""], [False, True]) == [2]          # a scanned page
    assert pdf.scan_pages([real, "— 2 —"], [False, True]) == [2]     # … with the scanner's page number
    assert pdf.scan_pages([real, ""], [False, False]) == []          # a blank page of a typed document
    assert pdf.scan_pages(["", ""], [False, False]) == [1, 2]        # no text layer anywhere
    garbage = "\ue001\ue002\ue003\ufffd\ufffd ÃÂÐÑ¸¹º»¼½¾¿ÀÁ"          # a font without encoding
    assert pdf.scan_pages([real, garbage], [False, False]) == [2]


def test_tidy_joins_what_ocr_spaces_out():
    assert ocr.tidy("我局于 2022 年 9 月 5 日 成功开展\n\n共 32 人参加\f") == "我局于2022年9月5日成功开展\n共32人参加"
    assert ocr.tidy("参加人数        30人") == "参加人数\t30人"
    assert ocr.tidy("联系电话  0954-7012345") == "联系电话0954-7012345"
    assert ocr.tidy("Open day plan") == "Open day plan"


def minimal_pdf_without_text() -> bytes:
    from pypdf import PdfWriter
    w = PdfWriter()
    w.add_blank_page(595, 842)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def test_replace_keeps_the_scan_fields():
    d = docread.DocText("a.pdf", "pdf", "x", True, source="ocr", pages=1, ocr_pages=(1,))
    assert dataclasses.replace(d, warnings=("w",)).ocr_pages == (1,)
