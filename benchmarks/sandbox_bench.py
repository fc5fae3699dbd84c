"""Benchmark: what reading a mail's documents in the sandbox costs (mailbot/docsandbox.py).

Prints, for a mail holding one ordinary ~40 KB open-day plan (.docx):

* in-process ``docread.read_each`` (no isolation), ms per mail;
* the sandbox: the long-lived worker process (what ``poll`` does), ms per mail,
  and the overhead over in-process as a difference and a ratio;
* a fresh worker process per mail instead (start, read, stop), ms per mail;

and, for two hostile mails of nested zips beside a plan, the wall time and peak memory under
the per-mail budget (in a forked child) and through the sandbox:

* "zeros": three ~7 KB zips of zips of 1,000,000 zero bytes per member (480 MB each);
* "markup": one ~3 KB zip of zips of 1 MB web pages of empty paragraphs (each ~0.3 s to walk).

``--before`` also times one budget per attachment (``read_document`` on each file, what
mailbot did before; the markup bomb takes over a minute that way).

    python benchmarks/sandbox_bench.py [--mails 60] [--before]
"""
from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import sys
import time
import zipfile
from datetime import date

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from mailbot.documents import docread  # noqa: E402
from mailbot.demo import samples
from mailbot.documents.docsandbox import MailBudget, Sandbox, read_mail_documents  # noqa: E402


def _zip(members) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in members:
            z.writestr(name, data)
    return out.getvalue()


def zeros_bomb() -> bytes:
    inner = _zip([(f"附件{i:03d}.txt", b"\0" * 1_000_000) for i in range(120)])
    return _zip([(f"第{j}批材料.zip", inner) for j in range(4)])


def markup_bomb() -> bytes:
    page = b"<html><body>" + b"<p></p>" * 140_000 + b"</body></html>"
    inner = _zip([(f"说明{i:03d}.html", page) for i in range(100)])
    return _zip([(f"第{j}批材料.zip", inner) for j in range(2)])


def _median_ms(fn, n: int) -> float:
    fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def _in_child(fn) -> tuple[float, float]:
    """(seconds, peak RSS MB) of fn() run in a forked child."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        t = time.perf_counter()
        fn()
        os.write(w, f"{time.perf_counter() - t}".encode())
        os._exit(0)
    os.close(w)
    secs = float(os.read(r, 100) or b"nan")
    os.close(r)
    _, _, usage = os.wait4(pid, 0)
    return secs, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mails", type=int, default=60)
    ap.add_argument("--before", action="store_true", help="also time one budget per attachment (slow)")
    args = ap.parse_args()
    budget = MailBudget()
    plan = samples.plan_docx("西吉县民政局", activity=date(2022, 9, 6), theme="阳光民政 温暖相伴",
                             contact="李红霞", phone="0954-3012103", region="西吉县")
    mail = [(plan, "西吉县民政局政府开放日实施方案.docx")]

    inproc = _median_ms(lambda: list(docread.read_each(mail, limits=budget.limits())), args.mails)
    sandboxed = _median_ms(lambda: read_mail_documents(mail, budget), args.mails)

    def fresh() -> None:
        box = Sandbox()
        box.read(mail, budget)
        box.close()
    fresh_ms = _median_ms(fresh, max(5, args.mails // 6))

    print(f"normal mail, one {len(plan) // 1024} KB .docx plan (median of {args.mails}):")
    print(f"  in-process reader          {inproc:7.1f} ms/mail")
    print(f"  sandbox (reused worker)    {sandboxed:7.1f} ms/mail   overhead {sandboxed - inproc:+.1f} ms, "
          f"ratio {sandboxed / inproc:.1f}x")
    print(f"  fresh interpreter per mail {fresh_ms:7.1f} ms/mail   overhead {fresh_ms - inproc:+.1f} ms, "
          f"ratio {fresh_ms / inproc:.1f}x")

    for label, bomb, copies in (("zeros", zeros_bomb(), 3), ("markup", markup_bomb(), 1)):
        hostile = mail + [(bomb, f"佐证材料{i}.zip") for i in range(1, copies + 1)]
        print(f"\nnested zips \"{label}\": {copies} × {len(bomb)} bytes beside the plan:")
        if args.before:
            old_s, old_mb = _in_child(lambda: [docread.read_document(d, n) for d, n in hostile])
            print(f"  one budget per attachment (before)  {old_s:6.2f} s, peak RSS {old_mb:5.0f} MB")
        new_s, new_mb = _in_child(lambda: list(docread.read_each(hostile, limits=budget.limits())))
        print(f"  per-mail budget, in-process         {new_s:6.2f} s, peak RSS {new_mb:5.0f} MB")
        t = time.perf_counter()
        got = read_mail_documents(hostile, budget)
        box_s = time.perf_counter() - t
        refused = sorted({d.reason for docs in got[1:] for d in docs if d.reason and "本邮件" in d.reason})
        print(f"  per-mail budget, sandbox            {box_s:6.2f} s   refused by: {'；'.join(refused)}")


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
