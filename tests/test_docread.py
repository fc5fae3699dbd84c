"""Tests for mailbot.docread: text in document order, and hostile input.

Fixtures are built here: python-docx for ordinary documents, raw XML for what
python-docx cannot write (text boxes with mc:AlternateContent, content
controls, tracked changes, DTDs), hand-made zips/CFBs/PDFs for the rest.
Tests marked ``soffice`` need LibreOffice (CI installs libreoffice-writer-nogui)
and fail, not skip, when it is missing.
"""

from __future__ import annotations

import io
import os
import random
import struct
import time
import zipfile
import zlib

import docx
import pytest

from mailbot.documents import docread
from mailbot.documents.docread import (REASON_DTD, REASON_EMPTY, REASON_ENCRYPTED, REASON_SCAN,
    REASON_ZIP_BOMB, REASON_ZIP_CORRUPT, REASON_ZIP_EMPTY, REASON_ZIP_NESTED, WARN_DELETIONS, Converter,
    DocText, Limits, detect_kind, read_document)

NO_CONV = None  # converter=None: never start LibreOffice in the non-soffice tests

NS = (
    'xmlns:wpc="http://schemas.microsoft.com/office/word/2010/wordprocessingCanvas" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:m="http://schemas.openxmlformats.org/officeDocument/2006/math" '
    'xmlns:v="urn:schemas-microsoft-com:vml" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'mc:Ignorable="w14"'
)


# --- fixture builders ----------------------------------------------------------


def save(d: docx.document.Document) -> bytes:
    b = io.BytesIO()
    d.save(b)
    return b.getvalue()


def base_docx() -> bytes:
    return save(docx.Document())


def rezip(data: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None,
          drop: tuple[str, ...] = ()) -> bytes:
    """Copy a zip, replacing/adding/dropping members."""
    replace = replace or {}
    add = add or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            body = replace.get(info.filename, None)
            dst.writestr(info.filename, body if body is not None else src.read(info))
        for name, body in add.items():
            dst.writestr(name, body)
    return out.getvalue()


def doc_xml(body: str, prolog: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}'
            f"<w:document {NS}><w:body>{body}<w:sectPr/></w:body></w:document>").encode("utf-8")


def docx_with_body(body: str, prolog: str = "") -> bytes:
    return rezip(base_docx(), replace={"word/document.xml": doc_xml(body, prolog)})


def P(text: str) -> str:
    return f"<w:p><w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r></w:p>"


def read1(data: bytes, name: str = "方案.docx", **kw) -> DocText:
    kw.setdefault("converter", NO_CONV)
    docs = read_document(data, name, **kw)
    assert len(docs) == 1, docs
    return docs[0]


def png_1x1() -> bytes:
    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
            + chunk(b"IEND", b""))


def cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal Compound File (v3, 512-byte sectors): sector 0 FAT, sector 1
    directory, then each stream's data in regular sectors."""
    ssz = 512
    data_sectors: list[bytes] = []
    starts = {}
    for name, body in streams.items():
        if not body:
            starts[name] = 0xFFFFFFFE
            continue
        starts[name] = 2 + len(data_sectors)
        for i in range(0, len(body), ssz):
            data_sectors.append(body[i:i + ssz].ljust(ssz, b"\x00"))
    fat = [0xFFFFFFFD, 0xFFFFFFFE]
    for name, body in streams.items():
        if not body:
            continue
        n = (len(body) + ssz - 1) // ssz
        first = starts[name]
        fat.extend(list(range(first + 1, first + n)) + [0xFFFFFFFE])
    fat += [0xFFFFFFFF] * (ssz // 4 - len(fat))

    def entry(name: str, etype: int, start: int, size: int, child: int = 0xFFFFFFFF,
              right: int = 0xFFFFFFFF) -> bytes:
        raw = (name + "\x00").encode("utf-16-le")
        e = raw.ljust(64, b"\x00") + struct.pack("<HBB", len(raw), etype, 1)
        e += struct.pack("<III", 0xFFFFFFFF, right, child) + b"\x00" * 16 + b"\x00" * 4 + b"\x00" * 16
        e += struct.pack("<IQ", start, size)
        return e.ljust(128, b"\x00")

    names = list(streams)
    entries = [entry("Root Entry", 5, 0xFFFFFFFE, 0, child=1 if names else 0xFFFFFFFF)]
    for i, name in enumerate(names):
        right = i + 2 if i + 1 < len(names) else 0xFFFFFFFF
        entries.append(entry(name, 2, starts[name], len(streams[name]), right=right))
    directory = b"".join(entries).ljust(ssz, b"\x00")[:ssz]
    header = bytearray(b"\x00" * 512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<I", header, 0x2C, 1)            # FAT sectors
    struct.pack_into("<I", header, 0x30, 1)            # first directory sector
    struct.pack_into("<I", header, 0x38, 4096)         # mini stream cutoff
    struct.pack_into("<II", header, 0x3C, 0xFFFFFFFE, 0)
    struct.pack_into("<II", header, 0x44, 0xFFFFFFFE, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *([0xFFFFFFFF] * 108))
    return bytes(header) + struct.pack(f"<{ssz // 4}I", *fat) + directory + b"".join(data_sectors)


def minimal_pdf(text_ops: str | None) -> bytes:
    """A one-page PDF; ``text_ops`` is the text drawn with Helvetica (None: no text)."""
    content = (f"BT /F1 12 Tf 72 720 Td ({text_ops}) Tj ET" if text_ops else "").encode("latin-1")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# --- docx text in document order ----------------------------------------------------


def test_paragraphs_and_tables_merged_and_nested():
    d = docx.Document()
    d.add_paragraph("西吉县民政局“政府开放日”活动实施方案")
    t = d.add_table(rows=3, cols=3)
    t.cell(0, 0).text = "活动时间"
    a = t.cell(0, 1).merge(t.cell(0, 2))  # gridSpan
    a.text = "2022年9月6日"
    b = t.cell(1, 0).merge(t.cell(2, 0))  # vMerge restart + continue
    b.text = "联系方式"
    t.cell(1, 1).text = "联系人员"
    t.cell(1, 2).text = "张三"
    t.cell(2, 1).text = "联系电话"
    inner = t.cell(2, 2).tables  # noqa: F841 - (python-docx) nested table below
    cell = t.cell(2, 2)
    cell.paragraphs[0].text = "0954-7012345"
    nested = cell.add_table(rows=2, cols=2)
    nested.cell(0, 0).text = "座谈问答"
    nested.cell(0, 1).text = "问卷调查"
    nested.cell(1, 0).merge(nested.cell(1, 1)).text = "进机关"
    d.add_paragraph("二、参加人数：30人")
    doc = read1(save(d))
    assert doc.readable and doc.kind == "docx" and doc.reason is None and doc.warnings == ()
    assert doc.text == (
        "西吉县民政局“政府开放日”活动实施方案\n"
        "活动时间\t2022年9月6日\n"
        "联系方式\t联系人员\t张三\n"
        "\t联系电话\t0954-7012345\n座谈问答\t问卷调查\n进机关\n"
        "二、参加人数：30人"
    )
    # each merged cell's text once (python-docx's row.cells repeats it)
    assert doc.text.count("2022年9月6日") == 1
    assert doc.text.count("联系方式") == 1
    assert doc.text.count("进机关") == 1


def test_headers_and_footers_every_variant_and_section():
    d = docx.Document()
    d.settings.odd_and_even_pages_header_footer = True
    s1 = d.sections[0]
    s1.different_first_page_header_footer = True
    s1.header.paragraphs[0].text = "页眉-默认"
    s1.first_page_header.paragraphs[0].text = "页眉-首页"
    s1.even_page_header.paragraphs[0].text = "页眉-偶数页"
    s1.footer.paragraphs[0].text = "页脚-默认"
    s1.first_page_footer.paragraphs[0].text = "页脚-首页"
    s1.even_page_footer.paragraphs[0].text = "页脚-偶数页"
    d.add_paragraph("第一节正文")
    s2 = d.add_section()
    s2.header.is_linked_to_previous = False
    s2.header.paragraphs[0].text = "第二节页眉"
    d.add_paragraph("第二节正文")
    doc = read1(save(d))
    lines = doc.text.split("\n")
    for want in ("页眉-默认", "页眉-首页", "页眉-偶数页", "页脚-默认", "页脚-首页", "页脚-偶数页",
                 "第二节页眉", "第一节正文", "第二节正文"):
        assert lines.count(want) == 1, (want, lines)
    # headers before the body, footers after it
    assert lines.index("页眉-首页") < lines.index("第一节正文") < lines.index("第二节正文") < lines.index("页脚-默认")
    assert lines.index("第二节页眉") < lines.index("第一节正文")


def test_text_box_read_once_skipping_fallback():
    box = "开放主题：走进民政，共话民生"
    para = (
        "<w:p><w:r><w:t>锚点段落</w:t></w:r><w:r><mc:AlternateContent>"
        '<mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic><a:graphicData>'
        f"<wps:wsp><wps:txbx><w:txbxContent>{P(box)}</w:txbxContent></wps:txbx></wps:wsp>"
        "</a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>"
        f"<mc:Fallback><w:pict><v:shape><v:textbox><w:txbxContent>{P(box)}</w:txbxContent>"
        "</v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>"
    )
    doc = read1(docx_with_body(P("前文") + para + P("后文")))
    assert doc.text == f"前文\n锚点段落\n{box}\n后文"
    assert doc.text.count(box) == 1


def test_content_controls_block_inline_and_placeholder():
    body = (
        "<w:sdt><w:sdtPr><w:alias w:val=\"活动主题\"/></w:sdtPr><w:sdtContent>"
        + P("块级内容控件：开放主题") + "</w:sdtContent></w:sdt>"
        "<w:p><w:r><w:t>联系电话：</w:t></w:r><w:sdt><w:sdtPr/><w:sdtContent>"
        "<w:r><w:t>13800000000</w:t></w:r></w:sdtContent></w:sdt></w:p>"
        "<w:p><w:r><w:t>联系人员：</w:t></w:r><w:sdt><w:sdtPr><w:showingPlcHdr/></w:sdtPr><w:sdtContent>"
        "<w:r><w:t>单击或点击此处输入文字。</w:t></w:r></w:sdtContent></w:sdt></w:p>"
    )
    doc = read1(docx_with_body(body))
    assert doc.text == "块级内容控件：开放主题\n联系电话：13800000000\n联系人员："


def test_tracked_changes_keep_insertions_drop_deletions():
    body = (
        "<w:p><w:r><w:t>参加人数：</w:t></w:r>"
        "<w:del w:id=\"1\" w:author=\"a\"><w:r><w:delText>20</w:delText></w:r></w:del>"
        "<w:ins w:id=\"2\" w:author=\"a\"><w:r><w:t>30</w:t></w:r></w:ins>"
        "<w:r><w:t>人</w:t></w:r></w:p>"
        # a whole paragraph deleted, mark included
        "<w:p><w:pPr><w:rPr><w:del w:id=\"3\" w:author=\"a\"/></w:rPr></w:pPr>"
        "<w:del w:id=\"4\" w:author=\"a\"><w:r><w:delText>邀请人大代表参加</w:delText></w:r></w:del></w:p>"
        # moved text: source dropped, destination kept
        "<w:p><w:moveFrom w:id=\"5\" w:author=\"a\"><w:r><w:t>旧位置</w:t></w:r></w:moveFrom></w:p>"
        "<w:p><w:moveTo w:id=\"6\" w:author=\"a\"><w:r><w:t>新位置</w:t></w:r></w:moveTo></w:p>"
        # a deleted table row
        "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>保留行</w:t></w:r></w:p></w:tc></w:tr>"
        "<w:tr><w:trPr><w:del w:id=\"7\" w:author=\"a\"/></w:trPr><w:tc><w:p>"
        "<w:del w:id=\"8\" w:author=\"a\"><w:r><w:delText>删除行</w:delText></w:r></w:del></w:p></w:tc></w:tr></w:tbl>"
    )
    doc = read1(docx_with_body(body))
    assert doc.text == "参加人数：30人\n\n新位置\n保留行"
    for gone in ("20", "人大代表", "旧位置", "删除行"):
        assert gone not in doc.text
    assert WARN_DELETIONS in doc.warnings
    assert doc.readable and doc.reason is None


def test_runs_tabs_breaks_symbols_hyperlinks_hidden_text():
    body = (
        "<w:p><w:r><w:t>甲</w:t><w:tab/><w:t>乙</w:t><w:br/><w:t>丙</w:t></w:r>"
        "<w:hyperlink r:id=\"rId99\"><w:r><w:t>链接文字</w:t></w:r></w:hyperlink>"
        "<w:r><w:sym w:font=\"Wingdings 2\" w:char=\"F052\"/><w:t>问卷调查</w:t>"
        "<w:sym w:font=\"Wingdings 2\" w:char=\"F0A3\"/><w:t>座谈问答</w:t></w:r>"
        "<w:r><w:rPr><w:vanish/></w:rPr><w:t>隐藏的进现场</w:t></w:r>"
        "<w:r><w:instrText> PAGE </w:instrText></w:r></w:p>"
        "<w:p><w:r><w:br w:type=\"page\"/></w:r><w:r><w:t>分页后</w:t></w:r></w:p>"
    )
    doc = read1(docx_with_body(body))
    assert doc.text == "甲\t乙\n丙链接文字☑问卷调查□座谈问答\n分页后"
    assert docread.WARN_HIDDEN in doc.warnings


def test_strict_ooxml_namespace():
    strict = doc_xml(P("严格模式文档") + "<w:tbl><w:tr><w:tc>" + P("甲") + "</w:tc><w:tc>" + P("乙")
                     + "</w:tc></w:tr></w:tbl>").replace(
        b"http://schemas.openxmlformats.org/wordprocessingml/2006/main",
        b"http://purl.oclc.org/ooxml/wordprocessingml/main")
    data = rezip(base_docx(), replace={"word/document.xml": strict})
    assert read1(data).text == "严格模式文档\n甲\t乙"


def test_docx_document_part_not_at_default_path():
    data = base_docx()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        ct = z.read("[Content_Types].xml").replace(b"/word/document.xml", b"/word/main.xml")
        rels = z.read("_rels/.rels").replace(b"word/document.xml", b"word/main.xml")
        drels = z.read("word/_rels/document.xml.rels")
    data = rezip(data, replace={"[Content_Types].xml": ct, "_rels/.rels": rels},
                 drop=("word/document.xml", "word/_rels/document.xml.rels"),
                 add={"word/main.xml": doc_xml(P("主文档在别处")), "word/_rels/main.xml.rels": drels})
    assert read1(data).text == "主文档在别处"


def test_footnotes_included():
    d = docx.Document()
    d.add_paragraph("正文")
    data = save(d)
    notes = (f'<?xml version="1.0" encoding="UTF-8"?><w:footnotes {NS}>'
             '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
             f'<w:footnote w:id="1">{P("脚注：依据西政办发〔2022〕号")}</w:footnote></w:footnotes>').encode()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        rels = z.read("word/_rels/document.xml.rels").replace(
            b"</Relationships>",
            b'<Relationship Id="rId90" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/footnotes" Target="footnotes.xml"/></Relationships>')
    data = rezip(data, replace={"word/_rels/document.xml.rels": rels}, add={"word/footnotes.xml": notes})
    assert read1(data).text == "正文\n脚注：依据西政办发〔2022〕号"


def test_docm_macro_flagged_and_vba_ignored():
    d = docx.Document()
    d.add_paragraph("含宏的实施方案")
    data = save(d)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        ct = z.read("[Content_Types].xml").replace(
            b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            b"application/vnd.ms-word.document.macroEnabled.main+xml")
    # a vbaProject.bin that would blow up anything that parsed it
    data = rezip(data, replace={"[Content_Types].xml": ct},
                 add={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\xff" * 5000})
    doc = read1(data, "方案.docm")
    assert doc.kind == "docm" and doc.readable
    assert doc.text == "含宏的实施方案"
    assert doc.reason == "含宏的文档（.docm），已拒绝读取宏，仅读取文字"
    assert doc.warnings == ("含宏的文档（.docm），已拒绝读取宏，仅读取文字",)
    # the same package named .docx is still detected as macro-enabled
    doc2 = read1(data, "方案.docx")
    assert doc2.kind == "docm" and doc2.reason == doc.reason


def test_docx_with_only_a_picture_is_a_scan():
    d = docx.Document()
    d.add_picture(io.BytesIO(png_1x1()))
    doc = read1(save(d))
    assert (doc.readable, doc.reason) == (False, REASON_SCAN)


def test_docx_with_pictures_and_few_words_is_flagged():
    d = docx.Document()
    d.add_paragraph("西吉县民政局“政府开放日”活动实施方案（正文为扫描页，见下图）")
    d.add_picture(io.BytesIO(png_1x1()))
    doc = read1(save(d))
    assert doc.readable and doc.reason == docread.WARN_FEW_WORDS_IMAGES


def test_empty_docx():
    doc = read1(base_docx())
    assert (doc.readable, doc.reason) == (False, REASON_EMPTY)


def test_altchunk_html_is_read():
    html = "<html><head><meta charset=\"gb2312\"><style>p{}</style></head><body><p>嵌入的网页内容</p></body></html>"
    data = docx_with_body(P("前") + '<w:altChunk r:id="rIdA"/>' + P("后"))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        rels = z.read("word/_rels/document.xml.rels").replace(
            b"</Relationships>",
            b'<Relationship Id="rIdA" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/aFChunk" Target="chunk.html"/></Relationships>')
        ct = z.read("[Content_Types].xml").replace(
            b"</Types>", b'<Default Extension="html" ContentType="text/html"/></Types>')
    data = rezip(data, replace={"word/_rels/document.xml.rels": rels, "[Content_Types].xml": ct},
                 add={"word/chunk.html": html.encode("gb18030")})
    assert read1(data).text == "前\n嵌入的网页内容\n后"


# --- hostile input ----------------------------------------------------------------


def test_zip_bomb_declared_huge_is_refused_before_decompressing():
    data = docx_with_body(P("x"))
    # declare word/document.xml as 3 GB in the central directory (and local header)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo("word/document.xml")
        real = info.file_size
    cd_sig = b"PK\x01\x02"
    buf = bytearray(data)
    name = b"word/document.xml"
    pos = 0
    patched = 0
    while True:
        pos = buf.find(name, pos + 1)
        if pos < 0:
            break
        # central directory entry: name at +46; local header: name at +30
        for hdr_len, size_off, sig in ((46, 24, cd_sig), (30, 22, b"PK\x03\x04")):
            start = pos - hdr_len
            if start >= 0 and buf[start:start + 4] == sig:
                assert struct.unpack_from("<I", buf, start + size_off)[0] == real
                struct.pack_into("<I", buf, start + size_off, 3_000_000_000)
                patched += 1
    assert patched == 2
    t0 = time.perf_counter()
    doc = read1(bytes(buf))
    assert (doc.readable, doc.reason, doc.kind) == (False, REASON_ZIP_BOMB, "docx")
    assert time.perf_counter() - t0 < 1


def test_zip_bomb_ratio_and_total():
    zeros = b"\x00" * (20 * 1024 * 1024)  # 20 MB -> ~20 KB deflated (ratio ~1000)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("方案.docx", zeros)
    bomb = out.getvalue()
    assert len(bomb) < 100_000
    doc = read1(bomb, "bundle.zip")
    assert (doc.readable, doc.reason, doc.kind) == (False, REASON_ZIP_BOMB, "zip")
    # many members, each under the ratio check, whose total is over the limit
    limits = Limits(max_total_uncompressed=5 * 1024 * 1024, ratio_min_size=10**9)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(8):
            z.writestr(f"{i}.txt", b"a" * (1024 * 1024))
    doc = read1(out.getvalue(), "bundle.zip", limits=limits)
    assert doc.reason == REASON_ZIP_BOMB


def test_zip_too_many_entries_counted_from_end_record():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for i in range(3000):
            z.writestr(f"{i}.txt", b"")
    doc = read1(out.getvalue(), "many.zip")
    assert not doc.readable and doc.reason.startswith("压缩包内文件数过多（3000 个")


def test_member_larger_than_declared_is_cut_at_declared_size():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("说明.txt", "参加人数 30 人。" * 1000)
    buf = bytearray(out.getvalue())
    real = len(("参加人数 30 人。" * 1000).encode())
    for sig, hdr_len, off in ((b"PK\x01\x02", 46, 24), (b"PK\x03\x04", 30, 22)):
        start = buf.find(sig)
        while start >= 0:
            if struct.unpack_from("<I", buf, start + off)[0] == real:
                struct.pack_into("<I", buf, start + off, 100)  # claims 100 bytes
            start = buf.find(sig, start + 4)
    docs = read_document(bytes(buf), "b.zip", converter=NO_CONV)
    assert len(docs) == 1 and not docs[0].readable
    assert docs[0].reason == REASON_ZIP_CORRUPT  # CRC of the first 100 bytes fails


def test_billion_laughs_in_docx():
    lol = ('<!DOCTYPE w:document [<!ENTITY lol "lol">'
           + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
           + "]>")
    data = docx_with_body(P("&lol9;"), prolog=lol)
    t0 = time.perf_counter()
    doc = read1(data)
    assert (doc.readable, doc.reason) == (False, REASON_DTD)
    assert "lollol" not in doc.text
    assert time.perf_counter() - t0 < 1


def test_xxe_in_docx_is_not_resolved():
    data = docx_with_body(P("&xxe;"), prolog='<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>')
    doc = read1(data)
    assert (doc.readable, doc.reason) == (False, REASON_DTD)
    assert "root:" not in doc.text
    # DTD in a header part (body fine) is refused too
    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = "页眉"
    d.add_paragraph("正文")
    data = save(d)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        hdr = [n for n in z.namelist() if n.startswith("word/header")][0]
        x = z.read(hdr)
    x = x.replace(b"?>", b'?><!DOCTYPE w:hdr [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', 1)
    doc = read1(rezip(data, replace={hdr: x}))
    assert (doc.readable, doc.reason) == (False, REASON_DTD)


@pytest.mark.parametrize("magic,name", [(b"MZ\x90\x00" + b"\x00" * 200, "方案.docx"),
                                        (b"\x7fELF\x02\x01\x01" + b"\x00" * 200, "方案.docx"),
                                        (b"MZ" + b"\x00" * 60, "报告.pdf")])
def test_executable_renamed_is_refused(magic, name):
    doc = read1(magic, name)
    assert doc.kind == "exe" and not doc.readable
    ext = name[name.rindex("."):]
    assert doc.reason == f"文件实际是可执行程序（扩展名为 {ext}），已拒绝读取，需人工审核"


def nested_tables(levels: int) -> str:
    xml = P("最内层")
    for i in range(levels, 0, -1):
        xml = f"<w:tbl><w:tr><w:tc>{P(f'第{i}层')}{xml}</w:tc></w:tr></w:tbl><w:p/>" if i > 1 else \
            f"<w:tbl><w:tr><w:tc>{P(f'第{i}层')}{xml}</w:tc></w:tr></w:tbl>"
    return xml


def test_deeply_nested_tables_are_bounded():
    limits = Limits(max_nesting_depth=5)
    doc = read1(docx_with_body(nested_tables(30)), limits=limits)
    assert doc.readable
    assert docread.WARN_DEEP.format(n=5) in doc.warnings
    lines = doc.text.split("\n")
    assert lines[:5] == ["第1层", "第2层", "第3层", "第4层", "第5层"]
    # below the limit the rest is flattened, nothing lost
    assert lines[5] == " ".join(f"第{i}层" for i in range(6, 31)) + " 最内层"


def test_xml_nesting_beyond_parser_depth_is_refused():
    doc = read1(docx_with_body(nested_tables(100)))  # 300+ element levels
    assert not doc.readable and "嵌套过深" in doc.reason


def test_ten_thousand_pages_truncated_at_max_chars():
    rnd = random.Random(7)
    alphabet = "政府开放日活动实施方案参加人数联系电话座谈问答问卷调查进机关进现场进会议温馨提示报名方式开放主题承办单位时间地点"
    parts = []
    for i in range(10_000):
        page = "".join(rnd.choices(alphabet, k=300))
        parts.append(f'<w:p><w:r><w:br w:type="page"/></w:r><w:r><w:t>第{i + 1}页：{page}</w:t></w:r></w:p>')
    data = docx_with_body("".join(parts))
    limits = Limits(max_chars=1_000_000)
    t0 = time.perf_counter()
    doc = read1(data, limits=limits)
    elapsed = time.perf_counter() - t0
    assert doc.readable and len(doc.text) <= 1_000_000
    assert len(doc.text) > 999_000
    assert doc.text.startswith("第1页：")
    assert "第10000页" not in doc.text
    assert doc.reason == "文档过长，仅读取了前 1000000 个字符，其余内容未检查"
    assert doc.reason in doc.warnings
    assert elapsed < 5, elapsed


def test_xml_part_over_size_cap_is_truncated():
    data = docx_with_body("".join(P(f"段落{i}" + "内容" * 50) for i in range(2000)))
    doc = read1(data, limits=Limits(max_xml_bytes=64 * 1024))
    assert doc.readable and doc.text.startswith("段落0")
    assert docread.WARN_XML_CAPPED in doc.warnings
    assert "段落1999" not in doc.text


def test_one_giant_table_over_size_cap_keeps_what_was_parsed():
    rows = "".join(f"<w:tr><w:tc>{P(f'第{i}行')}</w:tc><w:tc>{P('内容' * 40)}</w:tc></w:tr>" for i in range(3000))
    data = docx_with_body(P("标题") + f"<w:tbl>{rows}</w:tbl>")
    doc = read1(data, limits=Limits(max_xml_bytes=64 * 1024))
    assert doc.readable and docread.WARN_XML_CAPPED in doc.warnings
    lines = doc.text.split("\n")
    assert lines[0] == "标题" and lines[1] == "第0行\t" + "内容" * 40
    assert 50 < len(lines) < 3000


def test_broken_xml_keeps_text_before_the_damage():
    xml = doc_xml(P("完好的第一段") + P("完好的第二段")).replace(b"</w:body>", "<w:p><w:r><w:t>坏</w:r></w:body>".encode())
    doc = read1(rezip(base_docx(), replace={"word/document.xml": xml}))
    assert doc.readable and doc.text.startswith("完好的第一段\n完好的第二段")
    assert docread.WARN_XML_BROKEN in doc.warnings


def test_encrypted_ooxml_cfb():
    data = cfb({"EncryptionInfo": b"\x04\x00\x04\x00" + b"\x00" * 100, "EncryptedPackage": b"\x00" * 600})
    assert detect_kind(data, "方案.docx") == "docx"
    doc = read1(data, "方案.docx")
    assert (doc.kind, doc.readable, doc.reason) == ("docx", False, REASON_ENCRYPTED)
    assert doc.reason.startswith("文件已加密")


def test_encrypted_doc_by_fib_flag_without_converting():
    fib = struct.pack("<HHHHHH", 0xA5EC, 0xC1, 0, 0x0804, 0, 0x0100).ljust(4096, b"\x00")
    data = cfb({"WordDocument": fib, "1Table": b"\x00" * 600})
    for name, kind in (("方案.doc", "doc"), ("方案.wps", "wps")):
        doc = read1(data, name, converter=Converter(soffice="/nonexistent/soffice"))
        assert (doc.kind, doc.readable, doc.reason) == (kind, False, REASON_ENCRYPTED)


def test_doc_without_libreoffice_has_reason():
    fib = struct.pack("<HHHHHH", 0xA5EC, 0xC1, 0, 0x0804, 0, 0).ljust(4096, b"\x00")
    data = cfb({"WordDocument": fib, "1Table": b"\x00" * 600})
    doc = read1(data, "方案.doc", converter=Converter(soffice="/nonexistent/soffice"))
    assert (doc.kind, doc.readable) == ("doc", False)
    assert doc.reason == "未安装 LibreOffice，无法转换 .doc 文件，需人工审核"
    doc = read1(b"{\\rtf1\\ansi hello}", "a.rtf", converter=None)
    assert doc.reason == "未启用 LibreOffice 转换，无法读取 .rtf 文件，需人工审核"


@pytest.mark.parametrize("data,kind,label", [
    (b"Rar!\x1a\x07\x01\x00" + b"\x00" * 50, "rar", "RAR"),
    (b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 50, "7z", "7Z"),
])
def test_rar_and_7z_unsupported(data, kind, label):
    doc = read1(data, "材料." + kind)
    assert (doc.kind, doc.readable) == (kind, False)
    assert doc.reason == f"不支持的压缩格式（{label}），无法解压，需人工审核"


def test_images_without_text_need_manual_review():
    """An image is read by OCR (tests/test_ocr.py); one without text, or one OCR cannot read here,
    goes to a person with a reason that says it is a scan or an image."""
    doc = read1(png_1x1(), "扫描件.png")
    assert (doc.kind, doc.readable) == ("image", False) and doc.reason.startswith("扫描件或图片")
    doc = read1(b"\xff\xd8\xff\xe0" + b"\x00" * 100, "方案.docx")
    assert (doc.kind, doc.readable) == ("image", False)
    assert "文件扩展名为 .docx，实际是图片格式，已按实际格式读取" in doc.warnings


def test_empty_and_corrupt_inputs():
    assert read1(b"", "a.docx").reason == "文件是空的（0 字节），需人工审核"
    empty_zip = b"PK\x05\x06" + b"\x00" * 18
    doc = read1(empty_zip, "a.zip")
    assert (doc.kind, doc.reason) == ("zip", REASON_ZIP_EMPTY)
    doc = read1(base_docx()[:700], "a.docx")
    assert (doc.readable, doc.reason) == (False, REASON_ZIP_CORRUPT)
    doc = read1(b"PK\x03\x04" + b"\xff" * 300, "a.docx")
    assert (doc.readable, doc.reason) == (False, REASON_ZIP_CORRUPT)
    # a broken document.xml
    doc = read1(rezip(base_docx(), replace={"word/document.xml": b"<w:document"}))
    assert (doc.readable, doc.reason) == (False, docread.REASON_XML)


def test_file_over_max_bytes():
    doc = read1(b"x" * 2000, "a.txt", limits=Limits(max_bytes=1000))
    assert not doc.readable and doc.reason.startswith("文件过大")


def test_mutated_documents_never_raise():
    d = docx.Document()
    d.add_paragraph("西吉县“政府开放日”活动实施方案")
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).text = "参加人数"
    t.cell(0, 1).text = "30人"
    good = save(d)
    rnd = random.Random(1)
    t0 = time.perf_counter()
    for i in range(150):
        b = bytearray(good)
        op = i % 3
        if op == 0:
            for _ in range(rnd.randint(1, 20)):
                b[rnd.randrange(len(b))] = rnd.randrange(256)
        elif op == 1:
            del b[rnd.randrange(len(b)):]
        else:
            b[rnd.randrange(len(b)):rnd.randrange(len(b))] = bytes(rnd.randrange(256) for _ in range(50))
        docs = read_document(bytes(b), "m.docx", converter=NO_CONV)
        assert docs and all(isinstance(x, DocText) for x in docs)
        assert all(x.readable or x.reason for x in docs)
    assert time.perf_counter() - t0 < 20


# --- zip bundles ---------------------------------------------------------------------


def zip_with_raw_names(members: list[tuple[bytes, bytes]]) -> bytes:
    """A zip whose member names are the given raw bytes with the UTF-8 flag unset
    (what Windows Chinese zip tools write)."""
    out = io.BytesIO()
    placeholders = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for i, (raw, body) in enumerate(members):
            ph = (f"{i:02d}" + "X" * len(raw))[: len(raw)]
            assert len(ph) == len(raw)
            placeholders.append((ph.encode(), raw))
            z.writestr(ph, body)
    data = out.getvalue()
    for ph, raw in placeholders:
        assert data.count(ph) == 2
        data = data.replace(ph, raw)
    return data


def test_bundle_with_gbk_names_and_junk():
    d = docx.Document()
    d.add_paragraph("民政局实施方案正文")
    plan = save(d)
    data = zip_with_raw_names([
        ("西吉县民政局/实施方案.docx".encode("gbk"), plan),
        ("西吉县民政局/现场照片.png".encode("gbk"), png_1x1()),
        (b"__MACOSX/._x.docx", b"\x00\x05\x16\x07"),
        (b"Thumbs.db", b"\x00" * 10),
        ("~$实施方案.docx".encode("gbk"), b"\x00" * 162),
        ("说明.txt".encode("gbk"), "请审核。联系电话：0954-1234567".encode("gbk")),
    ])
    docs = read_document(data, "材料.zip", converter=NO_CONV)
    assert [(x.name, x.kind, x.readable) for x in docs] == [
        ("材料.zip/西吉县民政局/实施方案.docx", "docx", True),
        ("材料.zip/西吉县民政局/现场照片.png", "image", False),
        ("材料.zip/说明.txt", "text", True),
    ]
    assert docs[0].text == "民政局实施方案正文"
    assert docs[1].reason.startswith("扫描件或图片")       # a photo without text
    assert docs[2].text == "请审核。联系电话：0954-1234567"


def test_bundle_utf8_flag_names_and_nested_zip_depth():
    plan = docx_with_body(P("内层方案"))
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("内层方案.docx", plan)
    middle = io.BytesIO()
    with zipfile.ZipFile(middle, "w") as z:
        z.writestr("内层.zip", inner.getvalue())
        z.writestr("中层方案.docx", plan)
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w") as z:
        z.writestr("中层.zip", middle.getvalue())
    docs = read_document(outer.getvalue(), "外层.zip", converter=NO_CONV)
    got = [(x.name, x.readable, x.reason) for x in docs]
    assert got == [
        ("外层.zip/中层.zip/内层.zip", False, REASON_ZIP_NESTED),
        ("外层.zip/中层.zip/中层方案.docx", True, None),
    ]


def test_bundle_member_encrypted_and_document_limit():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for i in range(5):
            z.writestr(f"{i}.txt", f"第{i}个文件")
    buf = bytearray(out.getvalue())
    # set the "encrypted" flag on the first member (local + central headers)
    buf[6] |= 1
    cd = buf.find(b"PK\x01\x02")
    buf[cd + 8] |= 1
    docs = read_document(bytes(buf), "b.zip", converter=NO_CONV, limits=Limits(max_documents=3))
    assert docs[0].reason == docread.REASON_ZIP_MEMBER_ENCRYPTED
    assert [x.name for x in docs[:3]] == ["b.zip/0.txt", "b.zip/1.txt", "b.zip/2.txt"]
    assert docs[3].name == "b.zip" and docs[3].reason.startswith("压缩包内文件过多，仅读取了前 3 个")
    assert len(docs) == 4


# --- other formats ---------------------------------------------------------------------


def test_plain_text_utf8_and_gb18030():
    s = "西吉县民政局\r\n开放主题：走进民政\r\n参加人数：30人"
    assert read1(s.encode("utf-8"), "a.txt").text == s.replace("\r\n", "\n")
    doc = read1(s.encode("gb18030"), "a.txt")
    assert (doc.kind, doc.text) == ("text", s.replace("\r\n", "\n"))
    assert read1(s.encode("utf-16"), "a.txt").text == s.replace("\r\n", "\n")


def test_html_saved_as_doc():
    html = ('<html xmlns:w="urn:schemas-microsoft-com:office:word"><head>'
            '<meta http-equiv=Content-Type content="text/html; charset=gb2312"><style>p{}</style>'
            '<script>alert(1)</script></head><body><p class=MsoNormal>西吉县民政局&nbsp;“政府开放日”</p>'
            "<table><tr><td>参加人数</td><td>30人</td></tr><tr><td>联系电话</td><td>0954-7012345</td></tr></table>"
            "<p>国家機關</p></body></html>")  # 國/機 are GBK-only: labelled gb2312, decoded as GB18030
    doc = read1(html.replace("国家機關", "國家機關").encode("gb18030"), "方案.doc")
    assert doc.kind == "html" and doc.readable
    assert doc.text == "西吉县民政局 “政府开放日”\n参加人数\t30人\n联系电话\t0954-7012345\n國家機關"
    assert "文件扩展名为 .doc，实际是网页（HTML）格式，已按实际格式读取" in doc.warnings


def test_mht_saved_as_doc():
    html = "<html><body><p>MHT 网页内容：开放主题</p></body></html>".encode("gb18030")
    import base64
    mht = (b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"b1\"\r\n\r\n"
           b"--b1\r\nContent-Type: text/html; charset=\"gb2312\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           + base64.encodebytes(html) + b"\r\n--b1--\r\n")
    doc = read1(mht, "方案.doc")
    assert (doc.kind, doc.text) == ("html", "MHT 网页内容：开放主题")


def test_pdf_text_layer_scan_and_encrypted():
    doc = read1(minimal_pdf("Open day plan: 30 participants, phone 0954-7012345"), "a.pdf")
    assert (doc.kind, doc.readable) == ("pdf", True)
    assert doc.text == "Open day plan: 30 participants, phone 0954-7012345"
    doc = read1(minimal_pdf(None), "scan.pdf")          # no text layer, nothing to recognise either
    assert (doc.kind, doc.readable) == ("pdf", False) and doc.reason.startswith("扫描件或图片")

    from pypdf import PdfReader, PdfWriter

    def encrypted(user: str) -> bytes:
        w = PdfWriter()
        w.append(PdfReader(io.BytesIO(minimal_pdf("Open day plan with owner password only"))))
        w.encrypt(user_password=user, owner_password="owner", algorithm="AES-128")
        b = io.BytesIO()
        w.write(b)
        return b.getvalue()

    doc = read1(encrypted("secret"), "locked.pdf")
    assert (doc.readable, doc.reason) == (False, REASON_ENCRYPTED)
    doc = read1(encrypted(""), "owner-only.pdf")  # opens without a password: readable
    assert doc.readable and doc.text == "Open day plan with owner password only"


def test_pdf_garbage_never_raises():
    doc = read1(b"%PDF-1.7\n" + bytes(range(256)) * 20, "bad.pdf")
    assert doc.kind == "pdf" and not doc.readable and doc.reason


def test_unknown_binary():
    doc = read1(bytes(range(256)) * 4, "a.bin")
    assert (doc.kind, doc.readable, doc.reason) == ("unknown", False, docread.REASON_UNKNOWN)


def test_detect_kind():
    assert detect_kind(base_docx(), "a.doc") == "docx"
    assert detect_kind(b"%PDF-1.4\n", "") == "pdf"
    assert detect_kind(b"{\\rtf1 x}", "") == "rtf"
    assert detect_kind(b"MZ\x00\x00", "a.docx") == "exe"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("a.txt", "x")
    assert detect_kind(out.getvalue()) == "zip"


# --- LibreOffice (CI installs libreoffice-writer-nogui; these fail without it) -------


def plan_docx() -> bytes:
    d = docx.Document()
    d.add_paragraph("西吉县民政局“政府开放日”活动实施方案")
    d.add_paragraph("开放主题：走进民政，共话民生")
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).text = "参加人数"
    t.cell(0, 1).text = "30人"
    t.cell(1, 0).text = "联系电话"
    t.cell(1, 1).text = "0954-7012345"
    d.add_paragraph("温馨提示：请携带身份证")
    return save(d)


EXPECTED_PLAN = ("西吉县民政局“政府开放日”活动实施方案\n开放主题：走进民政，共话民生\n"
                 "参加人数\t30人\n联系电话\t0954-7012345\n温馨提示：请携带身份证")


@pytest.fixture(scope="module")
def soffice() -> Converter:
    conv = Converter()
    assert conv.available(), "LibreOffice (soffice) is required: apt-get install libreoffice-writer-nogui"
    return conv


@pytest.mark.soffice
@pytest.mark.parametrize("target,name,kind", [("doc", "方案.doc", "doc"), ("odt", "方案.odt", "odt"),
                                              ("rtf", "方案.rtf", "rtf"), ("doc", "方案.wps", "wps")])
def test_libreoffice_formats_read_back(soffice, target, name, kind):
    converted = soffice.convert(plan_docx(), ".docx", target)
    assert detect_kind(converted, name) == kind
    t0 = time.perf_counter()
    doc = read1(converted, name, converter=soffice)
    assert time.perf_counter() - t0 < 60
    assert (doc.kind, doc.readable, doc.reason) == (kind, True, None), doc
    assert doc.text == EXPECTED_PLAN


@pytest.mark.soffice
def test_libreoffice_word2003_xml(soffice):
    xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<?mso-application progid="Word.Document"?>\n'
           '<w:wordDocument xmlns:w="http://schemas.microsoft.com/office/word/2003/wordml">'
           "<w:body><w:p><w:r><w:t>模板导出的方案</w:t></w:r></w:p>"
           "<w:p><w:r><w:t>参加人数：30人</w:t></w:r></w:p></w:body></w:wordDocument>").encode("utf-8")
    doc = read1(xml, "导出.doc", converter=soffice)
    assert (doc.kind, doc.readable) == ("wordxml", True), doc
    assert doc.text == "模板导出的方案\n参加人数：30人"


@pytest.mark.soffice
def test_libreoffice_pdf_with_chinese_text_layer(soffice):
    pdf = soffice.convert(plan_docx(), ".docx", "pdf")
    doc = read1(pdf, "方案.pdf")
    assert doc.readable and doc.kind == "pdf"
    for want in ("政府开放日", "参加人数", "0954-7012345", "温馨提示"):
        assert want in doc.text


@pytest.mark.soffice
def test_libreoffice_bundle_with_doc_inside(soffice):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("方案.doc", soffice.convert(plan_docx(), ".docx", "doc"))
    (doc,) = read_document(out.getvalue(), "材料.zip", converter=soffice)
    assert (doc.name, doc.kind, doc.readable, doc.text) == ("材料.zip/方案.doc", "doc", True, EXPECTED_PLAN)


def _processes_mentioning(marker: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if marker in cmd:
            found.append(f"{pid}: {cmd}")
    return found


@pytest.mark.soffice
def test_libreoffice_timeout_kills_the_process_group(soffice, tmp_path):
    doc_bytes = soffice.convert(plan_docx(), ".docx", "doc")
    conv = Converter(tmp_dir=str(tmp_path))
    t0 = time.perf_counter()
    doc = read1(doc_bytes, "方案.doc", converter=conv, limits=Limits(convert_timeout_s=0.5))
    assert time.perf_counter() - t0 < 10
    assert not doc.readable and doc.reason == "文档转换超时（超过 0.5 秒），需人工审核"
    time.sleep(0.2)
    assert _processes_mentioning(str(tmp_path)) == []
    assert list(tmp_path.iterdir()) == []  # the private profile and files are gone


@pytest.mark.soffice
def test_libreoffice_exit_zero_without_output(soffice):
    # soffice prints "source file could not be loaded" and exits 0: the missing output is what tells
    doc = read1(b"{\\rtf1" + bytes(range(256)) * 50, "坏.rtf", converter=soffice)
    assert (doc.kind, doc.readable) == ("rtf", False)
    assert doc.reason == "LibreOffice 无法转换该文件（可能已损坏或加密），需人工审核"


def test_pdf_text_layer_gaps_in_dates_and_counts_are_closed():
    """pypdf spaces out mixed CJK and digits and can drop a quote mark into a date."""
    from mailbot.documents.docread import _close_pdf_gaps
    assert _close_pdf_gaps("我局于2022 年 9 月 5 “  日成功开展，共 32 人参加，收集意见 6 条") == \
        "我局于2022年9月5日成功开展，共 32人参加，收集意见 6条"
    assert _close_pdf_gaps("上午 9:00 至 11:30；2022 2023") == "上午 9:00 至 11:30；2022 2023"


@pytest.mark.soffice
def test_pdf_summary_reads_its_date_like_the_docx(tmp_path):
    """The same summary as .docx and as a LibreOffice PDF: both yield the date it was held."""
    import subprocess
    from datetime import date
    from mailbot.demo import samples
    from mailbot.documents.facts import extract_facts
    src = tmp_path / "总结.docx"
    src.write_bytes(samples.summary_docx("西吉县农业农村局", held=date(2022, 9, 5), participants=32,
                                         suggestions=6, feedback="已于9月15日公开反馈采纳情况"))
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(src)], check=True, capture_output=True, timeout=180)
    for f in (src, tmp_path / "总结.pdf"):
        doc = read_document(f.read_bytes(), f.name)[0]
        facts = extract_facts(doc.text, kind="summary", year=2022).as_json()
        assert facts["held_dates"] == ["2022-09-05"], f.name
