"""Benchmark: an idle poll as the office runs it, on mailboxes of 200, 2,000 and 20,000 filed mails.

For each N: a private Dovecot user holding N messages; a working folder (`mailbot init`,
[imap] on that Dovecot) whose ledger holds N filed mails the way real polls leave them —
message rows copied from a real ingest of department mails (with plan .docx files) done at
the start, each with its attachment rows, findings, trust verdict and a sent 回执 (the raw
MIME kept in `outgoing`), plus one `events` row per filed mail; the source position at the
top UID; the workbook compiled once. Then, with nothing new in the mailbox:

(a) `mailbot poll` as a subprocess (Python start, imports, open the ledger, sync the workbook
    if it changed, reload the roster, connect/SELECT/SEARCH, deliver, workbook if the ledger
    changed): R runs, median / p90 wall time;
(b) the daemon's poll step in one long-lived process: `Jobs(app).poll(real_day=True)` +
    `jobs.deliver()` + `jobs.workbook()`: median / p90 per poll.

Runs are interleaved across the mailbox sizes (round robin), so a change in machine load hits
every size alike. Prints a table and the ratios N/200.

    python benchmarks/idle_poll_bench.py [--sizes 200,2000,20000] [--runs 15] [--profile]

--profile: also cProfile one `mailbot poll` subprocess and the daemon step on the largest
mailbox (top lines printed). Needs Dovecot (as the IMAP tests do). Not a test: it prints
figures and asserts nothing.
"""
from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import multiprocessing
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import poll_bench  # noqa: E402
from poll_bench import (PASSWORD, PW_ENV, TODAY, gen_group, ingest_jobs, make_workdir,  # noqa: E402
                        mark_all_filed, ms, pct, small_message)
from servers import Dovecot  # noqa: E402  (poll_bench put tests/ on sys.path)

from mailbot.office import pipeline  # noqa: E402
from mailbot.app import open_app  # noqa: E402
from mailbot.mailout.deliver import deliver  # noqa: E402
from mailbot.office.jobs import Jobs  # noqa: E402

SEED_MAILS = 52          # two plans per roster unit: the template rows every ledger is built from


def seed_template(base: Path, dc: Dovecot) -> dict[str, list]:
    """Ingest real department mails once (plan .docx each, acks delivered to the outbox); the
    rows this leaves are the templates every benchmark ledger is copied from."""
    user = "seed@xiji.test"
    dc.add_user(user, PASSWORD)
    cfg = make_workdir(base, "seed", dc, user, max_acks=1_000_000)
    app = open_app(cfg, TODAY)
    try:
        jobs = ingest_jobs(app, SEED_MAILS)
        with multiprocessing.get_context("fork").Pool(min(2, os.cpu_count() or 1)) as pool:
            made = [m for part in pool.map(gen_group, [[j] for j in jobs]) for m in part]
        made.sort(key=lambda m: m[0])
        dc.append_many(user, ({"msg": raw, "date": when} for _, raw, when, _ in made), chunk=100)
        rep = pipeline.poll(app)
        deliver(app)
        db = app.ledger.db
        filed = [dict(r) for r in db.execute("SELECT * FROM messages WHERE status='filed' ORDER BY id")]
        if not filed:
            raise RuntimeError(f"seed ingest filed nothing: {rep.summary()}")
        by = lambda table, col: {m["id"]: [dict(r) for r in db.execute(      # noqa: E731
            f"SELECT * FROM {table} WHERE {col}=? ORDER BY rowid", (m["id"],))] for m in filed}
        tmpl = dict(messages=filed, attachments=by("attachments", "message"), findings=by("findings", "message"),
                    trust=by("trust", "message"), outgoing=by("outgoing", "answers"))
        print(f"  seed ingest: {rep.summary()} → {len(filed)} filed template rows, "
              f"{sum(map(len, tmpl['attachments'].values()))} attachments, "
              f"{sum(map(len, tmpl['findings'].values()))} findings, "
              f"{sum(map(len, tmpl['outgoing'].values()))} acks (sent)")
        return tmpl
    finally:
        app.close()


def _insert(db, table: str, row: dict) -> int:
    return db.execute(f"INSERT INTO {table} ({','.join(row)}) VALUES ({','.join('?' * len(row))})",
                      tuple(row.values())).lastrowid


def seed_ledger(app, tmpl: dict[str, list], source: str, uidvalidity: int, n: int) -> None:
    """N filed mails at UIDs 1..N: copies of the template rows, versions counted per unit and
    kind, unique digests and ids, every ack sent; one events row per mail."""
    versions: dict[tuple, int] = defaultdict(int)
    db = app.ledger.db
    with app.ledger.transaction():
        for uid in range(1, n + 1):
            t = tmpl["messages"][(uid - 1) % len(tmpl["messages"])]
            versions[(t["unit"], t["kind"])] += 1
            v = versions[(t["unit"], t["kind"])]
            digest = hashlib.sha256(f"{source}/{uid}".encode()).hexdigest()
            row = t | dict(id=None, source=source, uidvalidity=uidvalidity, uid=uid, version=v, duplicate_of=None,
                           sha256=digest, message_id=f"<seed.{uid}@163.com>",
                           raw_path=(t["raw_path"] or "").replace("_v", f"_{uid}_v", 1) or None)
            del row["id"]
            mid = _insert(db, "messages", row)
            att_ids = {}
            for a in tmpl["attachments"][t["id"]]:
                new = a | dict(message=mid, sha256=hashlib.sha256(f"{digest}/{a['seq']}".encode()).hexdigest(),
                               path=(a["path"] or "").replace("_v", f"_{uid}_v", 1) or None)
                del new["id"]
                att_ids[a["id"]] = _insert(db, "attachments", new)
            for f in tmpl["findings"][t["id"]]:
                new = f | dict(message=mid, attachment=att_ids.get(f["attachment"]))
                del new["id"]
                _insert(db, "findings", new)
            for tr in tmpl["trust"][t["id"]]:
                _insert(db, "trust", tr | dict(message=mid))
            for o in tmpl["outgoing"][t["id"]]:
                new = o | dict(answers=mid, dedupe_key=f"ack:{mid}", message_id=f"<mailbot.seed{uid}@163.com>",
                               status="sent", sent_at=o["queued_at"])
                del new["id"]
                _insert(db, "outgoing", new)
            db.execute("INSERT INTO events (at, job, level, text) VALUES (?,?,?,?)",
                       (t["recorded_at"], "poll", "ok", "收取新邮件 1 封：登记报送 1 封；待发回执 1 封。"))


def mailbot_cmd(cfg: Path, *extra: str) -> list[str]:
    return [sys.executable, *extra, "-m", "mailbot", "--config", str(cfg), "--today", TODAY, "poll"]


def run_poll_process(cfg: Path) -> float:
    env = dict(os.environ, **{PW_ENV: PASSWORD}, PYTHONPATH=str(poll_bench.ROOT))   # this checkout's mailbot
    t0 = time.perf_counter()
    out = subprocess.run(mailbot_cmd(cfg), env=env, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - t0
    if out.returncode != 0 or "收取新邮件 0 封" not in out.stdout:
        raise RuntimeError(f"mailbot poll: exit {out.returncode}\n{out.stdout}\n{out.stderr}")
    return wall


def daemon_poll(jobs: Jobs) -> float:
    t0 = time.perf_counter()
    rep = jobs.poll(real_day=True)
    jobs.deliver()
    jobs.workbook()
    wall = time.perf_counter() - t0
    if rep.fetched:
        raise RuntimeError(f"idle daemon poll fetched {rep.fetched}")
    return wall


def top(prof_or_path, n: int, key: str) -> str:
    out = io.StringIO()
    pstats.Stats(prof_or_path, stream=out).strip_dirs().sort_stats(key).print_stats(n)
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    return "\n".join("    " + line for line in lines[start:] if line.strip())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="200,2000,20000", help="filed mails per mailbox (comma-separated)")
    ap.add_argument("--runs", type=int, default=15, help="timed `mailbot poll` processes per size (15)")
    ap.add_argument("--daemon-runs", type=int, default=30, help="timed daemon polls per size (30)")
    ap.add_argument("--profile", action="store_true", help="cProfile both on the largest mailbox")
    ap.add_argument("--keep", action="store_true", help="keep the temp folders (printed)")
    args = ap.parse_args()
    sizes = [int(s.replace(",", "").replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    sizes = sorted(set(sizes))

    os.environ[PW_ENV] = PASSWORD
    base = Path(tempfile.mkdtemp(prefix="mb-idlebench-"))
    dc = Dovecot(tls=False)
    apps = []
    t_all = time.perf_counter()
    try:
        dc.start()
        print(f"idle_poll_bench: Python {sys.version.split()[0]}, {os.cpu_count()} CPU(s), Dovecot on "
              f"127.0.0.1:{dc.port}, folders under {base}; load average {os.getloadavg()[0]:.2f}")
        tmpl = seed_template(base, dc)
        cfgs: dict[int, Path] = {}
        for n in sizes:
            user = f"idle{n}@xiji.test"
            dc.add_user(user, PASSWORD)
            t0 = time.perf_counter()
            dc.append_many(user, (small_message(i, user) for i in range(n)), chunk=500)
            cfg = cfgs[n] = make_workdir(base, f"idle{n}", dc, user)
            app = open_app(cfg, TODAY)
            name, uv, last = mark_all_filed(app, dc, user)
            seed_ledger(app, tmpl, name, uv, n)
            t1 = time.perf_counter()
            Jobs(app).workbook(force=True)
            t2 = time.perf_counter()
            app.close()
            size = sum(p.stat().st_size for p in cfg.parent.glob("var/mailbot.sqlite3*"))
            print(f"  {n:>6,} filed: mailbox + ledger seeded in {t1 - t0:.1f} s (ledger {size / 1048576:.1f} MB, "
                  f"position UID {last}); workbook compiled once in {t2 - t1:.1f} s")

        # one untimed poll each (Dovecot moves new/ → cur/ at the first read-write SELECT), then
        # let Dovecot's maildir "dirty" second pass, as poll_bench does
        for n in sizes:
            run_poll_process(cfgs[n])
        time.sleep(1.5)

        proc: dict[int, list[float]] = defaultdict(list)
        for _ in range(args.runs):
            for n in sizes:
                proc[n].append(run_poll_process(cfgs[n]))

        jobs = {}
        for n in sizes:
            app = open_app(cfgs[n], TODAY)
            apps.append(app)
            jobs[n] = Jobs(app)
            daemon_poll(jobs[n])        # warm-up: imports, first workbook state read
        daemon: dict[int, list[float]] = defaultdict(list)
        for _ in range(args.daemon_runs):
            for n in sizes:
                daemon[n].append(daemon_poll(jobs[n]))

        lo = sizes[0]
        print(f"\n  idle poll, nothing new ({args.runs} processes / {args.daemon_runs} daemon polls per size, "
              f"interleaved)")
        print(f"  {'filed':>7}  {'mailbot poll (process)':>28}  {'daemon poll step (in-process)':>32}")
        print(f"  {'mails':>7}  {'median ms':>10} {'p90 ms':>8} {'×' + str(lo):>8}  "
              f"{'median ms':>10} {'p90 ms':>8} {'×' + str(lo):>8}")
        for n in sizes:
            pm, dm = statistics.median(proc[n]), statistics.median(daemon[n])
            print(f"  {n:>7,}  {ms(pm):>10} {ms(pct(proc[n], 0.9)):>8} {pm / statistics.median(proc[lo]):>8.2f}  "
                  f"{ms(dm):>10} {ms(pct(daemon[n], 0.9)):>8} {dm / statistics.median(daemon[lo]):>8.2f}")
        hi = sizes[-1]
        print(f"  ratio {hi:,}/{lo:,}: process ×{statistics.median(proc[hi]) / statistics.median(proc[lo]):.2f}, "
              f"daemon ×{statistics.median(daemon[hi]) / statistics.median(daemon[lo]):.2f} (target ≤ 1.2)")

        if args.profile:
            out = base / "poll.prof"
            env = dict(os.environ, **{PW_ENV: PASSWORD}, PYTHONPATH=str(poll_bench.ROOT))   # this checkout's mailbot
            subprocess.run(mailbot_cmd(cfgs[hi], "-m", "cProfile", "-o", str(out)), env=env, check=True,
                           capture_output=True)
            print(f"\n  cProfile, one `mailbot poll` process on {hi:,} filed mails, top 25 by own time:")
            print(top(str(out), 25, "tottime"))
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(5):
                daemon_poll(jobs[hi])
            prof.disable()
            print(f"\n  cProfile, 5 daemon polls on {hi:,} filed mails, top 20 cumulative:")
            print(top(prof, 20, "cumulative"))
        print("\n  " + poll_bench.footer(t_all))
        return 0
    finally:
        poll_bench.teardown(apps, [dc], base, args.keep)


if __name__ == "__main__":
    sys.exit(main())
