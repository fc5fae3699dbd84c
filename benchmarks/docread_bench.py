"""Benchmark: document text extraction.

Compares, over a set of generated ~40 KB open-day plans (python-docx output
with headings, body text, two tables, header and footer):

* python-docx ``Document()`` + paragraphs/tables/headers/footers (the usual way),
* a bare lxml walk of ``word/document.xml`` (parse + iterate w:t),
* ``mailbot.documents.docread.read_document`` (the shipped reader: zip checks, rels,
  streaming walk, headers/footers/notes),

and prints ms per document for each and documents per second on one core
for the shipped reader. With LibreOffice installed it also converts a few
plans to .doc and times ``read_document`` on them (seconds per .doc).

    python benchmarks/docread_bench.py [--docs 40] [--rounds 5] [--no-soffice]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import docx  # noqa: E402
from lxml import etree  # noqa: E402

from mailbot.documents.docread import Converter, read_document  # noqa: E402

UNITS = ["县农业农村局", "县乡村振兴局", "县民政局", "县医疗保障局", "县教育体育局",
         "县卫生健康局", "县人力资源社会保障局", "县住房城乡建设局", "县自然资源局", "县市场监管局"]
PHRASES = ["认真贯彻落实中央和区、市关于政务公开工作的部署要求", "搭建社会公众了解政府、理解政府、支持政府的互动平台",
           "畅通关切回应、政民互动、意见征集的沟通渠道", "切实保障人民群众的知情权、表达权、参与权和监督权",
           "邀请群众代表走进机关、走进现场，面对面交流", "活动结束后及时收集整理意见建议并公开反馈",
           "严格落实疫情防控要求，参加人员须出示健康码", "通过政府网站、政务新媒体发布活动公告",
           "组织座谈问答和问卷调查，听取意见建议", "围绕群众关心的热点、堵点和焦点问题开展活动"]
SECTIONS = ["一、活动主题", "二、活动时间和地点", "三、参加人员", "四、活动内容", "五、活动形式",
            "六、报名方式", "七、工作要求", "八、温馨提示"]


def make_plan(seed: int) -> bytes:
    rnd = random.Random(seed)
    unit = UNITS[seed % len(UNITS)]
    d = docx.Document()
    sec = d.sections[0]
    sec.header.paragraphs[0].text = f"西吉县{unit[1:]}"
    sec.footer.paragraphs[0].text = "西吉县人民政府办公室印发"
    d.add_heading(f"西吉县{unit[1:]}“政府开放日”活动实施方案", level=1)
    for title in SECTIONS:
        d.add_heading(title, level=2)
        for _ in range(rnd.randint(4, 6)):
            d.add_paragraph("，".join(rnd.choice(PHRASES) for _ in range(3)) + "。")
        if title.startswith("二"):
            t = d.add_table(rows=6, cols=4)
            for i, row in enumerate(t.rows):
                for j, cell in enumerate(row.cells):
                    cell.text = f"9月{5 + i}日" if j == 0 else rnd.choice(PHRASES)[:10]
    t = d.add_table(rows=12, cols=2)
    labels = ["开放主题", "参加人数", "参加领导", "承办单位", "时间地点", "活动内容", "活动形式",
              "联系人员", "联系电话", "报名方式", "温馨提示", "备注"]
    for i, lab in enumerate(labels):
        t.cell(i, 0).text = lab
        t.cell(i, 1).text = "30人" if lab == "参加人数" else ("0954-7012345" if lab == "联系电话" else rnd.choice(PHRASES))
    b = io.BytesIO()
    d.save(b)
    return b.getvalue()


def extract_python_docx(data: bytes) -> str:
    d = docx.Document(io.BytesIO(data))
    parts = [p.text for p in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            parts.append("\t".join(c.text for c in row.cells))
    for s in d.sections:
        parts.extend(p.text for p in s.header.paragraphs)
        parts.extend(p.text for p in s.footer.paragraphs)
    return "\n".join(parts)


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def extract_lxml_bare(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        root = etree.fromstring(zf.read("word/document.xml"), PARSER)
    return "\n".join("".join(t.text or "" for t in p.iter(W + "t")) for p in root.iter(W + "p"))


def extract_mailbot(data: bytes) -> str:
    (doc,) = read_document(data, "plan.docx", converter=None)
    assert doc.readable, doc
    return doc.text


def time_it(fn, docs, rounds: int) -> float:
    """Median over rounds of ms per document."""
    per = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for d in docs:
            fn(d)
        per.append((time.perf_counter() - t0) * 1000 / len(docs))
    return statistics.median(per)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-soffice", action="store_true")
    args = ap.parse_args()
    docs = [make_plan(i) for i in range(args.docs)]
    sizes = [len(d) for d in docs]
    with zipfile.ZipFile(io.BytesIO(docs[0])) as zf:
        xml_size = zf.getinfo("word/document.xml").file_size
    print(f"{len(docs)} plans, {statistics.mean(sizes) / 1024:.1f} KB .docx on average "
          f"(word/document.xml {xml_size / 1024:.0f} KB, {len(extract_mailbot(docs[0]))} chars)")
    for fn in (extract_python_docx, extract_lxml_bare, extract_mailbot):  # warm-up
        fn(docs[0])
    rows = [
        ("python-docx Document() + paragraphs/tables/headers", time_it(extract_python_docx, docs, args.rounds)),
        ("lxml fromstring(document.xml), bare w:t walk", time_it(extract_lxml_bare, docs, args.rounds)),
        ("mailbot.documents.docread.read_document (shipped)", time_it(extract_mailbot, docs, args.rounds)),
    ]
    for label, ms in rows:
        print(f"  {label:<55} {ms:8.2f} ms/doc")
    ms = rows[2][1]
    print(f"  read_document: {1000 / ms:.0f} docs/s on one core (single-threaded; "
          f"{os.cpu_count()} cores here)")
    print(f"  python-docx / read_document: {rows[0][1] / ms:.1f}x")

    conv = Converter()
    if args.no_soffice or not conv.available():
        print("LibreOffice: skipped" + ("" if args.no_soffice else " (soffice not found)"))
        return
    n = 3
    docs_doc = [conv.convert(d, ".docx", "doc") for d in docs[:n]]
    times = []
    for d in docs_doc:
        t0 = time.perf_counter()
        (res,) = read_document(d, "plan.doc")
        times.append(time.perf_counter() - t0)
        assert res.readable, res
    print(f"  .doc via LibreOffice + reader: {statistics.mean(times):.2f} s/doc "
          f"(min {min(times):.2f}, max {max(times):.2f}; fresh profile per call)")


if __name__ == "__main__":
    main()
