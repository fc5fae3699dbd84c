"""Benchmark: ingest as the office runs it, against the raw limit measured in the same run.

M department mails (a ~50 KB plan .docx each, DKIM-signed as 163.com/QQ sign them, several mail
clients and file-name encodings; poll_bench's generator) are MULTIAPPENDed to a private Dovecot.
Then, in one run:

(i)   the raw limit: imapclient FETCH BODY.PEEK[] in chunks of 50 + stdlib email parse and
      decode + each attachment written to disk and fsynced → mail/s;
(ii)  `mailbot poll` as a subprocess on the same mails (`mailbot init --demo-keys` folder, so the
      sender check passes), acks sent to an aiosmtpd server (tests/servers.py SmtpServer),
      `send_per_minute` and the daily filing/ack caps lifted so no throttle binds: fetch, file
      (read and check the .docx in the read-ahead workers, archive, ledger rows committed in
      batches with their files fsynced, $Filed), send every 回执 (batch by batch, during the
      poll), compile the workbook → mail/s, and the ratio to (i);
(iii) where the time goes: the same ingest in-process on the first P mails (fresh folder), with
      light per-stage timers (exclusive ms/mail) and then under cProfile (top lines). The SMTP
      server's thread in this process keeps the poll from forking its read-ahead worker
      (prepare.py), so (iii) shows the serial path: every stage, on one core.

    python benchmarks/ingest_bench.py [--mails 1000] [--profile-n 300] [--keep]

Needs Dovecot (as the IMAP tests do). Not a test: it prints figures and asserts nothing.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from idle_poll_bench import top  # noqa: E402
import poll_bench  # noqa: E402
from poll_bench import (PASSWORD, PW_ENV, TODAY, CappedNew, Stages, gen_group, ingest_jobs,  # noqa: E402
                        instrument, make_workdir, raw_limit, uninstrument)
from servers import Dovecot, SmtpServer  # noqa: E402  (poll_bench put tests/ on sys.path)

from mailbot.mailout import send  # noqa: E402
from mailbot.app import open_app  # noqa: E402
from mailbot.office.jobs import Jobs  # noqa: E402

PICTURE_BYTES = 25 * 1024   # the county's emblem in the letterhead: plans come to ~50 KB
UNLIMITED = {"send_per_minute": 1_000_000, "send_per_day": 1_000_000, "send_per_15min": 1_000_000,
             "send_reserve": 0, "max_acks_per_sender_per_day": 1_000_000,
             "max_filed_per_sender_per_day": 1_000_000, "max_filed_per_unit_per_day": 1_000_000}


def office_folder(base: Path, name: str, dc: Dovecot, user: str, smtp: SmtpServer) -> Path:
    """poll_bench's folder ([imap] on Dovecot), [smtp] on the aiosmtpd server, no caps that bind."""
    cfg = make_workdir(base, name, dc, user)
    text = cfg.read_text(encoding="utf-8")
    text, n = re.subn(r"(?m)^backend = outbox\npath = var/outbox$",
                      f"host = 127.0.0.1\nport = {smtp.port}\nsecurity = none\nusername =", text)
    if n != 1:
        raise RuntimeError("config.ini: [smtp] backend = outbox not found")
    for key, value in UNLIMITED.items():
        text, n = re.subn(rf"(?m)^{key}\s*=.*$", f"{key} = {value}", text)
        if n != 1:
            raise RuntimeError(f"config.ini: {key} not found")
    cfg.write_text(text, encoding="utf-8")
    return cfg


def _docx_with_picture(data: bytes, revision: int, _unique=poll_bench._unique_docx) -> bytes:
    """poll_bench's per-mail .docx plus an embedded picture (incompressible, as a JPEG is)."""
    out = io.BytesIO(_unique(data, revision))
    with zipfile.ZipFile(out, "a") as z:
        z.writestr("word/media/image1.jpeg", random.Random(revision).randbytes(PICTURE_BYTES),
                   compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def make_mails(app, count: int) -> list[tuple[bytes, object, int]]:
    """(raw, arrival, docx size) per mail, generated in two worker processes."""
    poll_bench._unique_docx = _docx_with_picture      # gen_mail looks it up at call time
    jobs = ingest_jobs(app, count)
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for j in jobs:
        groups[(j[1], j[5], j[6])].append(j)
    made: dict[int, tuple] = {}
    with multiprocessing.get_context("fork").Pool(min(2, os.cpu_count() or 1)) as pool:
        for part in pool.imap_unordered(gen_group, list(groups.values())):
            for i, *rest in part:
                made[i] = tuple(rest)
    return [made[i] for i in range(len(jobs))]


def run_process(cfg: Path) -> tuple[float, str]:
    env = dict(os.environ, **{PW_ENV: PASSWORD}, PYTHONPATH=str(poll_bench.ROOT))   # this checkout's mailbot
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "mailbot", "--config", str(cfg), "--today", TODAY, "poll"],
                         env=env, capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"mailbot poll: exit {out.returncode}\n{out.stdout}\n{out.stderr}")
    return wall, out.stdout.strip()


def stage_table(stages: Stages, n: int, total: float, extra: dict[str, float]) -> None:
    rows = dict(stages.excl) | extra
    accounted = sum(rows.values())
    rows["other (poll loop, glue)"] = total - accounted
    print(f"    {'stage (exclusive time)':<44} {'ms/mail':>8} {'%':>6}")
    for label, sec in sorted(rows.items(), key=lambda kv: -kv[1]):
        if sec >= 0.002 * total:
            print(f"    {label:<44} {sec / n * 1000:>8.2f} {sec / total * 100:>5.1f}%")
    print(f"    {'total':<44} {total / n * 1000:>8.2f}  → {n / total:.1f} mail/s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mails", type=int, default=1_000, help="mails in the mailbox (1,000)")
    ap.add_argument("--profile-n", type=int, default=300, help="mails in the in-process profile runs (300)")
    ap.add_argument("--keep", action="store_true", help="keep the temp folders (printed)")
    args = ap.parse_args()
    prof_n = min(args.profile_n, args.mails)

    os.environ[PW_ENV] = PASSWORD
    base = Path(tempfile.mkdtemp(prefix="mb-ingestbench-"))
    dc = Dovecot(tls=False)
    smtp = SmtpServer()
    apps = []
    t_all = time.perf_counter()
    try:
        dc.start()
        smtp.start()
        print(f"ingest_bench: Python {sys.version.split()[0]}, {os.cpu_count()} CPU(s), Dovecot on 127.0.0.1:"
              f"{dc.port}, SMTP on 127.0.0.1:{smtp.port}, folders under {base}; load average "
              f"{os.getloadavg()[0]:.2f}")
        user = "ingest@xiji.test"
        dc.add_user(user, PASSWORD)
        cfg = office_folder(base, "process", dc, user, smtp)
        app = open_app(cfg, TODAY)
        t0 = time.perf_counter()
        made = make_mails(app, args.mails)
        app.close()
        t1 = time.perf_counter()
        dc.append_many(user, ({"msg": r, "date": when} for r, when, _ in made), chunk=100)
        sizes, dsizes = [len(r) for r, _, _ in made], [d for _, _, d in made]
        print(f"  {len(made):,} mails generated in {t1 - t0:.1f} s, MULTIAPPEND {time.perf_counter() - t1:.1f} s; "
              f".docx median {statistics.median(dsizes) / 1024:.1f} KB, mail median "
              f"{statistics.median(sizes) / 1024:.1f} KB, total {sum(sizes) / 1048576:.1f} MB")

        # (i) the raw limit
        store = base / "raw-store"
        store.mkdir()
        lim = raw_limit(dc, user, store=store)
        raw_s = lim["fetch"] + lim["parse"]
        raw_rate = lim["n"] / raw_s
        print(f"\n  (i) raw limit: FETCH {lim['fetch']:.2f} s + parse/decode {lim['parse'] - lim['store']:.2f} s "
              f"+ write+fsync {lim['parts']} attachments {lim['store']:.2f} s = {raw_s:.2f} s "
              f"→ {raw_rate:.1f} mail/s ({raw_s / lim['n'] * 1000:.2f} ms/mail)")

        # (ii) mailbot poll as a process
        received_before = len(smtp.received)
        wall, out = run_process(cfg)
        acks = len(smtp.received) - received_before
        rate = args.mails / wall
        print(f"  (ii) `mailbot poll` process: {wall:.2f} s → {rate:.1f} mail/s ({wall / args.mails * 1000:.2f} ms/mail); "
              f"{acks} mails accepted by the SMTP server")
        for line in out.splitlines():
            print(f"       | {line}")
        print(f"  ratio process / raw limit = {rate / raw_rate:.2f}× (target ≥ 0.5×)")

        # (iii) where the time goes, in-process
        cfg = office_folder(base, "stages", dc, user, smtp)
        app = open_app(cfg, TODAY)
        apps.append(app)
        jobs = Jobs(app)
        stages = Stages()
        instrument(app, stages)
        stages.patch(send.SmtpSender, "send", "send.SmtpSender.send (SMTP)")
        stages.patch(app.ledger, "mark_sent", "ledger.mark_sent (commit)")
        try:
            with CappedNew(prof_n):
                t0 = time.perf_counter()
                rep = jobs.poll()
                t1 = time.perf_counter()
                jobs.deliver()
                t2 = time.perf_counter()
                jobs.workbook()
                t3 = time.perf_counter()
        finally:
            uninstrument(app, stages)
        print(f"\n  (iii) in-process, first {rep.fetched} mails, per-stage timers: poll {t1 - t0:.2f} s, "
              f"deliver {t2 - t1:.2f} s, workbook {t3 - t2:.2f} s")
        stage_table(stages, rep.fetched, t3 - t0, {"jobs.workbook (compile)": t3 - t2})

        cfg = office_folder(base, "cprofile", dc, user, smtp)
        app = open_app(cfg, TODAY)
        apps.append(app)
        jobs = Jobs(app)
        prof = cProfile.Profile()
        with CappedNew(prof_n):
            prof.enable()
            rep = jobs.poll()
            jobs.deliver()
            jobs.workbook()
            prof.disable()
        print(f"\n  cProfile, {rep.fetched} mails in-process (poll + deliver + workbook), top 30 by own time:")
        print(top(prof, 30, "tottime"))
        print("\n  top 30 cumulative:")
        print(top(prof, 30, "cumulative"))
        print("\n  " + poll_bench.footer(t_all))
        return 0
    finally:
        poll_bench.teardown(apps, [smtp, dc], base, args.keep)


if __name__ == "__main__":
    sys.exit(main())
