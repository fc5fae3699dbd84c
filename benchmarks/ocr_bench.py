"""OCR engines on Chinese scans made here: character accuracy, facts found, speed.

    python benchmarks/ocr_bench.py [--engines tesseract,rapidocr] [--rounds 1] [--seed 0] [--keep DIR]

Scans are made as a department makes them (tests/scans.py): realistic plans and summaries
(mailbot.demo.samples, plus a statistics-table summary written here) → PDF by LibreOffice →
150 dpi → tilt 1–2°, blur, speckle, JPEG quality 60. Each engine reads every page image through
mailbot's own wrapper (mailbot.documents.ocr), and is scored against the text layer of the
unscanned PDF, page by page:

* character accuracy: difflib ratio of the page's OCR text and its true text, both NFKC with
  white space removed, weighted by the true text's length;
* facts: extract_facts on the OCR text against extract_facts on the .docx text — activity and
  held dates, headcount (planned and actual), phone, contact — a fact counts when equal;
* speed: wall seconds and CPU seconds per page (the OCR's own process and children), and
  characters per wall second. The machine is shared: CPU seconds are the steadier figure.

rapidocr is measured only where rapidocr-onnxruntime is installed (mailbot does not depend on
it): pip install rapidocr-onnxruntime==1.4.4 opencv-python-headless in a scratch venv.
"""
from __future__ import annotations

import argparse
import difflib
import io
import re
import resource
import statistics
import sys
import time
import unicodedata
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import docx  # noqa: E402
import scans  # noqa: E402
from PIL import Image  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from mailbot.demo import samples  # noqa: E402
from mailbot.documents import ocr  # noqa: E402
from mailbot.documents.docread import read_document  # noqa: E402
from mailbot.documents.facts import extract_facts  # noqa: E402

FACTS = ("activity_dates", "held_dates", "participants", "actual_participants", "phone", "contact")


def statistics_summary() -> bytes:
    """A 开展情况 laid out as a statistics table (参加群众人数 | 26人), as some units send it."""
    d = docx.Document()
    d.add_heading("西吉县自然资源局2022年“政府开放日”活动总结", level=1)
    d.add_paragraph("2022年8月31日上午，我局以“守护耕地红线 共建美丽西吉”为主题开展了“政府开放日”活动，"
                    "邀请人大代表、政协委员、群众代表走进不动产登记中心，现场观摩登记办理流程。")
    t = d.add_table(rows=0, cols=2)
    t.style = "Table Grid"
    for k, v in (("活动日期", "2022年8月31日"), ("活动地点", "西吉县不动产登记中心二楼大厅"),
                 ("参加群众人数", "26人"), ("其中人大代表、政协委员", "4人"), ("收集意见建议", "5条"),
                 ("已答复", "5条"), ("联系人", "杨文华"), ("联系电话", "0954-7031288")):
        row = t.add_row().cells
        row[0].text, row[1].text = k, v
    d.add_paragraph("活动中，群众代表对“一窗受理、集成服务”给予肯定，并就农村宅基地确权登记提出建议，"
                    "我局已于9月5日前逐条答复。下一步，我局将持续优化办事流程，推动政务公开常态化。")
    d.add_paragraph("西吉县自然资源局")
    d.add_paragraph("2022年9月7日")
    b = io.BytesIO()
    d.save(b)
    return b.getvalue()


def documents() -> list[tuple[str, str, bytes]]:
    return [
        ("民政局实施方案（表格）", "plan", samples.plan_docx("西吉县民政局", activity=date(2022, 8, 24), participants=30,
                                                     contact="马晓琴", phone="0954-7012345")),
        ("农业农村局实施方案（正文）", "plan", samples.plan_docx("西吉县农业农村局", activity=date(2022, 9, 6),
                                                        participants=25, layout="prose", contact="李建国",
                                                        phone="13895412345")),
        ("卫生健康局开展情况", "summary", samples.summary_docx("西吉县卫生健康局", held=date(2022, 9, 5), participants=32,
                                                       suggestions=6, feedback="已逐条答复", contact="王丽",
                                                       phone="0954-7023456")),
        ("自然资源局活动总结（统计表）", "summary", statistics_summary()),
    ]


def norm(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def facts_of(text: str, kind: str) -> dict:
    """The facts found; dates as a set (a date the plan repeats is one fact)."""
    f = extract_facts(text, kind=kind, year=2022)
    return {name: (sorted(set(v)) if isinstance(v := f.value(name), list) else v) for name in FACTS if f.has(name)}


def cpu() -> float:
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--engines", default="tesseract,rapidocr")
    ap.add_argument("--rounds", type=int, default=1, help="read every page this many times (speed: median)")
    ap.add_argument("--seed", type=int, default=0, help="another tilt, blur and speckle of the same pages")
    ap.add_argument("--keep", help="write page images and OCR texts here")
    args = ap.parse_args()

    engines = []
    for name in args.engines.split(","):
        why = ocr.missing(name)
        if why:
            print(f"{name}: skipped ({why})")
            continue
        t0 = time.perf_counter()
        eng = ocr.engine(name)
        engines.append((eng, time.perf_counter() - t0))

    docs = []
    t0 = time.perf_counter()
    for title, kind, data in documents():
        jpegs, _pdf = scans.scan_of(data, seed=args.seed)
        truth = [p.extract_text() or "" for p in PdfReader(io.BytesIO(scans.docx_to_pdf(data))).pages]
        (doc,) = read_document(data, title + ".docx", converter=None)
        docs.append((title, kind, jpegs, truth, facts_of(doc.text, kind)))
    pages = sum(len(d[2]) for d in docs)
    print(f"{len(docs)} documents, {pages} pages scanned at 150 dpi (made in {time.perf_counter() - t0:.1f} s)\n")

    for eng, load_s in engines:
        wall: list[float] = []
        cpus: list[float] = []
        chars = 0
        hits = total = 0
        weighted = weight = 0.0
        print(f"== {eng.name} (start {load_s:.2f} s)")
        for title, kind, jpegs, truth, want in docs:
            texts = []
            for i, j in enumerate(jpegs):
                image = Image.open(io.BytesIO(j))
                image.load()
                runs = []
                for _ in range(args.rounds):
                    c0, w0 = cpu(), time.perf_counter()
                    text = eng.read(image, 300)
                    runs.append((time.perf_counter() - w0, cpu() - c0))
                wall.append(statistics.median(r[0] for r in runs))
                cpus.append(statistics.median(r[1] for r in runs))
                texts.append(text)
                chars += len(norm(text))
                ref = norm(truth[i]) if i < len(truth) else ""
                if ref:
                    weighted += difflib.SequenceMatcher(None, ref, norm(text), autojunk=False).ratio() * len(ref)
                    weight += len(ref)
                if args.keep:
                    Path(args.keep).mkdir(parents=True, exist_ok=True)
                    Path(args.keep, f"{title}-p{i + 1}.jpg").write_bytes(j)
                    Path(args.keep, f"{title}-p{i + 1}.{eng.name}.txt").write_text(text, encoding="utf-8")
            got = facts_of("\n".join(texts), kind)
            ok = [k for k in want if got.get(k) == want[k]]
            bad = {k: (want[k], got.get(k)) for k in want if k not in ok}
            hits += len(ok)
            total += len(want)
            print(f"  {title}: facts {len(ok)}/{len(want)}" + (f"  missed {bad}" if bad else ""))
        print(f"  character accuracy {weighted / weight:.3f}; facts {hits}/{total}")
        print(f"  per page: {statistics.median(wall):.2f} s wall (max {max(wall):.2f}), "
              f"{statistics.median(cpus):.2f} s CPU; {chars / sum(wall):.0f} characters/s\n")

    # What mailbot itself spends on an image-only PDF: the text-layer child, pdftoppm, OCR.
    if ocr.missing() is None:
        print("== mailbot read_document on the image-only PDFs (text layer + render + OCR)")
        for title, kind, jpegs, _truth, want in docs:
            scan_pdf = scans.scan_of(next(d for t, _k, d in documents() if t == title), seed=args.seed)[1]
            c0, w0 = cpu(), time.perf_counter()
            (doc,) = read_document(scan_pdf, title + ".pdf", converter=None)
            w, c = time.perf_counter() - w0, cpu() - c0
            got = facts_of(doc.text, kind)
            ok = sum(1 for k in want if got.get(k) == want[k])
            print(f"  {title}: {doc.pages} pages, {w / doc.pages:.2f} s wall and {c / doc.pages:.2f} s CPU a page, "
                  f"facts {ok}/{len(want)}, readable={doc.readable}")


if __name__ == "__main__":
    main()
