"""Accuracy on documents we did not write: third-party plans, announcements and summaries, each
made into a .docx and into a scan, read and checked as `mailbot check --json` does.

    python benchmarks/thirdparty_accuracy.py FOLDER [--out DIR] [--forms docx,scan] [--cli]
                                             [--only ID,ID] [--json FILE] [--verbose] [--hard]

FOLDER holds pairs ``ID.txt`` + ``ID.json`` (the texts are third-party: keep them out of the repo).

``ID.txt``  the document's text, one paragraph a line. The first line is the title. Lines that
            start 一、 二、 … are top-level headings; lines after the last heading that are a unit
            name or a date alone are the signature. ASCII , : ; ( ) ? are written as their
            full-width forms in the .docx (as Word users type them), except inside times (9:00),
            numbers, e-mail addresses and URLs.

``ID.json`` the ground truth, written by hand from reading the text (before running mailbot):

    {"kind": "plan" | "summary",
     "layout": "headings" | "table" | "prose",   # table: 项目|内容 rows, one a top-level heading
     "title": "…", "file": "file name without extension (the kind word in it, as a mail's would)",
     "source": "address the text was read from",
     "activity_dates": ["2025-11-18", "09-26"],  # the activity's (a summary: held) dates;
                                                 # "MM-DD" when the text writes no year with it
     "activity_month": "2022-09",                # optional: only a month is given (dates [])
     "headcount": 25 | null,                     # participants (a range: its low end); null: none
     "present": ["报名方式", …],                  # check items the text does give
     "missing": ["联系人员", …],                  # check items the text does not give
     "note": "…"}                                # items in neither list are not scored

Items are the rule file's require_all items: the plan's 11 announcement items (announce-items)
and the summary's 开展时间/参加人数/意见建议征集情况/反馈采纳情况 (summary-items).

Scoring, per document and form:
  dates      the set of activity_dates (plans) / held_dates (summaries) equals the truth
             (compared by month and day for "MM-DD" entries; activity_month when given instead)
  headcount  participants (plans) / actual_participants (summaries) equals the truth (null = none)
  named      truly missing items that a finding names as missing
  false      items the text gives that a finding says are missing (false alarms)
  kind       the kind mailbot guessed from the file name and title
OCR speed is the characters of text read from the scans over the seconds reading them took
(rendering, OCR, seal detection: the whole read), on this machine.

The .docx is built with the demo's official-paper writer (mailbot.demo.docs), the scan with
tests/scans.py (LibreOffice → PDF → 150 dpi → tilt/blur/speckle → JPEG): one page → a .jpg,
more → an image-only PDF. Built files are kept under --out (default: a temp dir).
By default documents are read in this process with the same reader and budget as
`mailbot check` (docsandbox.read_mail_documents); --cli runs `mailbot check --json` itself.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from mailbot.campaign import load_campaign, load_roster  # noqa: E402
from mailbot.documents import check, docsandbox  # noqa: E402

ITEM_RULES = ("announce-items", "summary-items")
_HEAD = re.compile(r"^[一二三四五六七八九十]{1,3}、")
_SIGN = re.compile(r"^(?:[\u4e00-\u9fff（）()]{2,30}(?:局|办公室|委员会|政府|中心|办事处|管委会|公司|苏木|乡|镇)"
                   r"|(?:19|20)\d{2}年\d{1,2}月\d{1,2}日|特此公告。?)$")


# --- building the documents -----------------------------------------------------------

def fullwidth(s: str) -> str:
    """ASCII punctuation as a Word user types it in Chinese text; times, numbers, mail, URLs kept."""
    keep = [(m.start(), m.end()) for m in re.finditer(
        r"[\w.+-]+@[\w.-]+|https?://\S+|\d{1,2}:\d{2}|\d+\.\d+", s)]

    def kept(i: int) -> bool:
        return any(a <= i < b for a, b in keep)
    table = {",": "，", ":": "：", ";": "；", "(": "（", ")": "）", "?": "？", "!": "！"}
    return "".join(table[c] if c in table and not kept(i) else c for i, c in enumerate(s))


def _split(lines: list[str]) -> tuple[str, list[str], list[tuple[str, list[str]]], list[str]]:
    """(title, preamble, [(heading, body lines)], signature lines)."""
    title, rest = lines[0], lines[1:]
    sign: list[str] = []
    while rest and _SIGN.match(rest[-1]) and len(sign) < 3:
        sign.insert(0, rest.pop())
    pre: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    for ln in rest:
        if _HEAD.match(ln):
            sections.append((ln, []))
        elif sections:
            sections[-1][1].append(ln)
        else:
            pre.append(ln)
    return title, pre, sections, sign


def build_docx(text: str, truth: dict[str, Any]) -> bytes:
    from mailbot.demo.docs import _Doc
    lines = [fullwidth(ln.strip()) for ln in text.splitlines() if ln.strip()]
    title, pre, sections, sign = _split(lines)
    d = _Doc(truth.get("file", "")[:20], author="办公室", title=title, when=date(2022, 8, 20))
    d.title(title)
    for ln in pre:
        (d.plain if ln.endswith(("：", ":")) and len(ln) < 16 else d.text)(ln)
    layout = truth.get("layout", "headings")
    if layout == "table" and sections:
        rows = [("项目", "内容")]
        for head, body in sections:
            label = _HEAD.sub("", head)
            inline = ""
            m = re.match(r"^([^：]{2,12})：(.+)$", label)
            if m:
                label, inline = m.group(1), m.group(2)
            rows.append((label.rstrip("：:"), "\n".join(([inline] if inline else []) + body)))
        _table_multiline(d, rows)
    else:
        for head, body in sections:
            m = re.match(r"^([一二三四五六七八九十]{1,3}、[^：]{2,12}：)(.+)$", head)
            if m:
                d.h2(m.group(1), m.group(2))
            else:
                d.h1(head)
            for ln in body:
                lead = re.match(r"^(（[一二三四五六七八九十]{1,2}）[^。：]{2,14}[。：])(.*)$", ln)
                if lead and layout != "prose":
                    d.h2(lead.group(1), lead.group(2))
                else:
                    d.text(ln)
    if sign:
        d.signature(*sign)
    return d.bytes()


def _table_multiline(d: Any, rows: list[tuple[str, str]]) -> None:
    """A 项目|内容 table whose content cells hold several paragraphs."""
    from docx.shared import Cm
    from docx.enum.table import WD_TABLE_ALIGNMENT
    t = d.doc.add_table(rows=len(rows), cols=2)
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, (row, tr) in enumerate(zip(rows, t.rows)):
        for j, (value, cell) in enumerate(zip(row, tr.cells)):
            cell.width = Cm((3.2, 12.4)[j])
            for k, part in enumerate(value.split("\n")):
                p = cell.paragraphs[0] if k == 0 else cell.add_paragraph()
                p.paragraph_format.line_spacing = d._Pt(22)
                if i == 0 or j == 0:
                    p.alignment = d._A.CENTER
                d._font(p.add_run(part), "黑体" if i == 0 else "仿宋_GB2312", 14)


def build_scan(docx: bytes, seed: int, hard: bool = False) -> tuple[bytes, str]:
    """(bytes, extension): one page → .jpg, more → an image-only .pdf. hard: a worse scanner
    (tilt 1.5–2.5°, blur 1.0 px, 0.6 % dust, JPEG quality 35) than tests/scans.py's."""
    import scans
    if hard:
        pages = scans.render(scans.docx_to_pdf(docx), 150)
        jpegs = [_hard_degrade(p, seed * 1000 + i) for i, p in enumerate(pages)]
        pdf = scans.image_pdf(jpegs)
    else:
        jpegs, pdf = scans.scan_of(docx, seed=seed)
    return (jpegs[0], ".jpg") if len(jpegs) == 1 else (pdf, ".pdf")


def _hard_degrade(image: Any, seed: int) -> bytes:
    import io
    import random
    from PIL import Image, ImageFilter
    rnd = random.Random(seed)
    angle = rnd.choice((-1, 1)) * rnd.uniform(1.5, 2.5)
    im = image.convert("RGB").rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=(255, 255, 255))
    im = im.filter(ImageFilter.GaussianBlur(radius=1.0))
    px = im.load()
    w, h = im.size
    for _ in range(w * h * 6 // 1000):
        x, y = rnd.randrange(w), rnd.randrange(h)
        v = rnd.choice((0, 40, 90, 200, 255))
        px[x, y] = (v, v, v)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=35)
    return buf.getvalue()


# --- reading and scoring ------------------------------------------------------------------

@dataclass
class Row:
    doc: str
    kind: str
    form: str
    got_kind: str = ""
    dates_ok: bool = False
    dates_got: str = ""
    count_ok: bool = False
    count_got: Any = None
    named: int = 0
    missing: int = 0
    not_named: list[str] = field(default_factory=list)
    false: list[str] = field(default_factory=list)
    chars: int = 0
    pages: int = 0
    seconds: float = 0.0
    source: str = ""


def _dates_ok(truth: dict[str, Any], facts: dict[str, Any], kind: str) -> tuple[bool, str]:
    got = facts.get("held_dates" if kind == "summary" else "activity_dates") or []
    want = truth.get("activity_dates") or []
    shown = ",".join(got) or (facts.get("activity_month") or "—")
    if not want and truth.get("activity_month"):
        return (not got and (facts.get("activity_month") or "").startswith(truth["activity_month"])), shown
    if any(len(w) == 5 for w in want):
        return sorted(g[5:] for g in got) == sorted(w[-5:] for w in want), shown
    return sorted(got) == sorted(want), shown


def score(truth: dict[str, Any], obj: dict[str, Any], row: Row) -> None:
    facts = obj.get("facts") or {}
    row.got_kind = obj.get("kind", "")
    row.dates_ok, row.dates_got = _dates_ok(truth, facts, truth["kind"])
    count = facts.get("actual_participants" if truth["kind"] == "summary" else "participants")
    row.count_got = count
    row.count_ok = count == truth.get("headcount")
    reported = {f["item"] for f in obj.get("findings", []) if f["rule"] in ITEM_RULES}
    missing = set(truth.get("missing", []))
    row.missing = len(missing)
    row.named = len(missing & reported)
    row.not_named = sorted(missing - reported)
    row.false = sorted(set(truth.get("present", [])) & reported)


def read_in_process(path: Path) -> tuple[dict[str, Any], int, int, float, str]:
    """check_files with the CLI's reader, timed; (result, characters, OCR'd pages, seconds, source)."""
    campaign = load_campaign(ROOT / "rules" / "open-day-2022.toml")
    roster = load_roster(ROOT / "rules" / "units.csv", campaign.region)
    seen: dict[str, Any] = {}

    def read(data: bytes, name: str) -> list[Any]:
        t0 = time.perf_counter()
        docs = docsandbox.read_mail_documents([(data, name)], docsandbox.MailBudget())[0]
        seen["s"] = time.perf_counter() - t0
        seen["docs"] = docs
        return docs
    objs = check.check_files([path], campaign=campaign, roster=roster, kind=None, unit=None,
                             received=None, read=read)
    docs = seen.get("docs") or []
    chars = sum(len(getattr(d, "text", "") or "") for d in docs)
    pages = sum(len(getattr(d, "ocr_pages", ()) or ()) for d in docs)
    source = ",".join(sorted({str(getattr(d, "source", "") or "") for d in docs}))
    return objs[0], chars, pages, seen.get("s", 0.0), source


def read_cli(path: Path) -> tuple[dict[str, Any], int, int, float, str]:
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "mailbot", "check", "--json", str(path)],
                       capture_output=True, text=True, cwd=str(path.parent), timeout=900)
    secs = time.perf_counter() - t0
    objs = json.loads(p.stdout)
    return objs[0], 0, 0, secs, "cli"


def run(folder: Path, out: Path, forms: list[str], cli: bool, only: set[str], verbose: bool,
        hard: bool = False) -> list[Row]:
    rows: list[Row] = []
    for k, jp in enumerate(sorted(folder.glob("*.json"))):
        doc_id = jp.stem
        if only and doc_id not in only:
            continue
        truth = json.loads(jp.read_text(encoding="utf-8"))
        text = (folder / f"{doc_id}.txt").read_text(encoding="utf-8")
        docx = build_docx(text, truth)
        name = truth.get("file") or doc_id
        for form in forms:
            d = out / form
            d.mkdir(parents=True, exist_ok=True)
            if form == "docx":
                path = d / f"{doc_id}_{name}.docx"
                path.write_bytes(docx)
            else:
                data, ext = build_scan(docx, seed=k, hard=hard)
                path = d / f"{doc_id}_{name}{ext}"
                path.write_bytes(data)
            obj, chars, pages, secs, source = (read_cli if cli else read_in_process)(path)
            row = Row(doc_id, truth["kind"], form, chars=chars, pages=pages, seconds=secs, source=source)
            score(truth, obj, row)
            rows.append(row)
            if verbose:
                print(f"  {doc_id} {form}: {json.dumps(obj['facts'], ensure_ascii=False)[:400]}")
                for f in obj["findings"]:
                    print(f"      {f['rule']} {f['item']}")
    return rows


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def report(rows: list[Row]) -> str:
    out = [f"{'doc':5} {'kind':7} {'form':5} {'kind?':5} {'dates':26} {'count':9} {'named':7} {'not named / false alarm'}"]
    for r in rows:
        kind_ok = _mark(r.got_kind == r.kind)
        extra = []
        if r.not_named:
            extra.append("未指出:" + "、".join(r.not_named))
        if r.false:
            extra.append("误报:" + "、".join(r.false))
        out.append(f"{r.doc:5} {r.kind:7} {r.form:5} {kind_ok:5} {_mark(r.dates_ok)} {r.dates_got[:23]:24} "
                   f"{_mark(r.count_ok)} {str(r.count_got):7} {r.named}/{r.missing:<5} {' '.join(extra)}")
    out.append("")
    for form in sorted({r.form for r in rows}):
        rs = [r for r in rows if r.form == form]
        n = len(rs)
        named = sum(r.named for r in rs)
        missing = sum(r.missing for r in rs)
        false = sum(len(r.false) for r in rs)
        line = (f"{form:5} documents {n}: kind {sum(r.got_kind == r.kind for r in rs)}/{n}, "
                f"dates {sum(r.dates_ok for r in rs)}/{n}, headcount {sum(r.count_ok for r in rs)}/{n}, "
                f"missing items named {named}/{missing}, false alarms {false}")
        chars = sum(r.chars for r in rs)
        pages = sum(r.pages for r in rs)
        secs = sum(r.seconds for r in rs)
        if form == "scan" and secs and chars:
            line += (f"; read {chars} characters of {pages} OCR'd pages in {secs:.1f} s = "
                     f"{chars / secs:.0f} chars/s, {secs / max(pages, 1):.2f} s a page")
        elif secs:
            line += f"; {secs:.1f} s"
        out.append(line)
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--out", type=Path, default=None, help="where the built .docx and scans go")
    ap.add_argument("--forms", default="docx,scan")
    ap.add_argument("--cli", action="store_true", help="run `mailbot check --json` in a child process")
    ap.add_argument("--only", default="", help="comma-separated document ids")
    ap.add_argument("--json", type=Path, default=None, help="write the rows as JSON")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--hard", action="store_true", help="scans from a worse scanner (see build_scan)")
    a = ap.parse_args()
    out = a.out or Path(tempfile.mkdtemp(prefix="thirdparty-"))
    forms = [f.strip() for f in a.forms.split(",") if f.strip()]
    rows = run(a.folder, out, forms, a.cli, {x for x in a.only.split(",") if x}, a.verbose, a.hard)
    print(report(rows))
    print(f"\n(built files: {out})")
    if a.json:
        a.json.write_text(json.dumps([r.__dict__ for r in rows], ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
