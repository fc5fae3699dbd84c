"""The annual report's checks (rules/annual-report-2022.toml): a real report, and hostile texts.

    python benchmarks/report_check_bench.py

Prints milliseconds to read and check a generated 2022 report (.docx, six sections, three
statistics tables; tests/reportdocs.py), and seconds for the `headings` rule and for the whole
check on 2 MB texts built to make a heading search slow (a line per character, a numbering per
line, a title per line, one endless line).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from reportdocs import report_docx  # noqa: E402
from mailbot.campaign import Roster, load_campaign  # noqa: E402
from mailbot.documents import check, docread  # noqa: E402
from mailbot.documents.facts import Facts  # noqa: E402
from mailbot.documents.facts_text import NormText  # noqa: E402


def main() -> None:
    campaign = load_campaign(ROOT / "rules" / "annual-report-2022.toml")
    data = report_docx()
    runs, t0 = 20, time.perf_counter()
    for _ in range(runs):
        (doc,) = docread.read_document(data, "年度报告.docx")
        check.check_document(doc, campaign=campaign, roster=None, kind=None, unit=None, received=None)
    print(f"real report ({len(data) // 1024} KB .docx, {len(doc.text)} characters): "
          f"{(time.perf_counter() - t0) / runs * 1000:.1f} ms read + check")
    (headings,) = [r for r in check.compile_checks(campaign) if r.type == "headings"]
    for name, text in (("a line per character", "中\n" * 1_000_000), ("a numbering per line", "一、甲\n" * 400_000),
                       ("a title per line", "一、总体情况x\n" * 200_000), ("one endless line", "一、" + "甲" * 2_000_000)):
        doc = check._Doc(NormText(text, drop_spaces=True), Facts(), campaign, Roster((), ""), "report", None, None)
        t0 = time.perf_counter()
        headings.run(doc)
        t1 = time.perf_counter()
        check.check_text(text, campaign=campaign, roster=None, kind="report", unit=None, received=None)
        t2 = time.perf_counter()
        print(f"{name} ({len(text) / 1e6:.1f} M characters): headings {t1 - t0:.2f} s, whole check {t2 - t1:.2f} s")


if __name__ == "__main__":
    main()
