"""Documents per second per core for read + facts + check, over the accuracy set.

    python benchmarks/check_throughput.py [--seconds 5]

One process, one core. The .doc of the set is left out of the main figure (LibreOffice
conversion costs about a second a file on its own) and timed separately when present.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "docs"))

import make_fixtures  # noqa: E402
from mailbot.documents import check, docread  # noqa: E402
from mailbot.campaign import load_campaign, load_roster  # noqa: E402
from mailbot.documents.facts import extract_facts  # noqa: E402


def _loop(seconds: float, fn) -> tuple[int, float]:
    n, t0 = 0, time.perf_counter()
    while True:
        n += fn()
        el = time.perf_counter() - t0
        if el >= seconds:
            return n, el


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    campaign = load_campaign(ROOT / "rules" / "open-day-2022.toml")
    roster = load_roster(ROOT / "rules" / "units.csv", campaign.region)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        manifest = make_fixtures.build(out)
        files = sorted({out / k.split("/", 1)[0] for k in manifest})
        fast = [(p.name, p.read_bytes()) for p in files if p.suffix != ".doc"]
        slow = [(p.name, p.read_bytes()) for p in files if p.suffix == ".doc"]
        meta = {k.split("/", 1)[0]: v for k, v in manifest.items()}
        texts = [d for name, data in fast for d in docread.read_document(data, name) if d.readable]
        size = sum(len(d.text) for d in texts) / max(1, len(texts))

        def full() -> int:
            n = 0
            for name, data in fast:
                m = meta[name]
                rec = date.fromisoformat(m["received"]) if m["received"] else None
                for d in docread.read_document(data, name):
                    check.check_document(d, campaign=campaign, roster=roster, kind=None, unit=m["unit"], received=rec)
                    n += 1
            return n

        def facts_only() -> int:
            for d in texts:
                extract_facts(d.text, kind="plan", year=2022)
            return len(texts)

        def check_only() -> int:
            for d in texts:
                check.check_text(d.text, campaign=campaign, roster=roster, kind="plan", unit="民政局",
                                 received=date(2022, 8, 20))
            return len(texts)

        def read_only() -> int:
            return sum(len(docread.read_document(data, name)) for name, data in fast)

        full()  # warm up (regex compilation, caches)
        print(f"documents: {len(fast)} .docx/.zip (average {size:.0f} characters of text)")
        for label, fn in (("read + facts + check", full), ("read only (docread)", read_only),
                          ("facts only", facts_only), ("facts + check (text in)", check_only)):
            n, el = _loop(args.seconds, fn)
            print(f"{label:<26}{n / el:>9.1f} docs/s per core   ({el / n * 1000:.2f} ms/doc)")
        if slow:
            t0 = time.perf_counter()
            for name, data in slow:
                docread.read_document(data, name)
            el = time.perf_counter() - t0
            print(f"{'.doc via LibreOffice':<26}{len(slow) / el:>9.2f} docs/s per core   ({el / len(slow) * 1000:.0f} ms/doc)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
