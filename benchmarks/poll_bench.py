"""Benchmark: ``pipeline.poll(app)`` against a private Dovecot (tests/servers.py).

1. Idle poll: a mailbox of 200 and one of 20,000 already-filed messages (two users of one
   Dovecot; "already filed" = the ledger's source position set to the highest UID). Times
   ``poll(app)`` (connect, LOGIN, ID, SELECT, UID SEARCH, nothing new, LOGOUT, ledger event)
   R times each → median/p90 ms and the ratio; per-command client-side times; the commands of
   one idle poll from Dovecot's rawlog. Then the same with the ledger also holding one
   message row per filed mail (copies of a real filed row from part 2), as a real ledger would.
2. Ingest: M department mails, each with a plan .docx (samples.plan_docx, roster units,
   Chinese file names in RFC 2231 / RFC 2231-GBK / RFC 2047-GBK, several mail clients),
   MULTIAPPENDed to a fresh user; one ``poll(app)`` end to end (fetch, parse, identify,
   archive with fsync, read docx, check, ledger, queued 回执) → messages/second, with an
   exclusive-time breakdown per stage (light wrappers, same run) and per-message growth;
   next to the raw limit: imapclient FETCH BODY.PEEK[] in chunks + stdlib ``email``
   (policy.default) parse → messages/second. Finally cProfile over a fresh ledger and the
   first P messages (top lines printed, full listing written to --profile-out).

    python benchmarks/poll_bench.py [--quick] [--runs 30] [--keep]

--quick: 2,000 instead of 20,000 idle messages and 200 ingest mails. Needs the Debian
dovecot-imapd/dovecot-lmtpd packages (as the IMAP tests do). The script is not a test:
it prints figures and asserts nothing.
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import imaplib
import io
import multiprocessing
import os
import pstats
import re
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from email import policy
from email.parser import BytesParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from servers import Dovecot  # noqa: E402

from mailbot.mailout import acks  # noqa: E402
from mailbot.mailin import authenticity
from mailbot.documents import check, docsandbox
from mailbot.office import decide, pipeline, progress
from mailbot.app import open_app  # noqa: E402
from mailbot.defaults import init_folder  # noqa: E402
from mailbot.demo.docs import plan_docx  # noqa: E402
from mailbot.demo.mailbuilder import FILENAME_STYLES, MailBuilder  # noqa: E402
from mailbot.mailin.source import ImapSource, open_source  # noqa: E402

PW_ENV = "MAILBOT_BENCH_IMAP_PASSWORD"
PASSWORD = "bench-pw-1"
OFFICE = "xjxzwgkb@163.com"
TODAY = "2022-08-20"           # inside the demo campaign (plan due 2022-08-26)
CN = timezone(timedelta(hours=8))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


# ------------------------------------------------------------------------------------------
# working folders


def make_workdir(base: Path, name: str, dc: Dovecot, user: str, max_acks: int | None = None) -> Path:
    """`mailbot init` files, [imap] pointed at the private Dovecot, [smtp] left on outbox."""
    folder = base / name
    init_folder(folder, demo_keys=True)   # the made-up mail is signed with the demo DKIM key
    cfg = folder / "config.ini"
    text = cfg.read_text(encoding="utf-8")
    imap = (f"[imap]\nhost = 127.0.0.1\nport = {dc.port}\nsecurity = none\nusername = {user}\n"
            f"password_env = {PW_ENV}\nfolder = INBOX\ntimeout = 60\n\n")
    text, n = re.subn(r"(?ms)^\[imap\]\n.*?(?=^\[smtp\])", imap, text)
    if n != 1:
        raise RuntimeError("config.ini: no [imap] section before [smtp] to rewrite")
    if max_acks is not None:
        text, n = re.subn(r"(?m)^max_acks_per_sender_per_day\s*=.*$",
                          f"max_acks_per_sender_per_day = {max_acks}", text)
        if n != 1:
            raise RuntimeError("config.ini: max_acks_per_sender_per_day not found")
    if not re.search(r"(?ms)^\[smtp\]\n(?:[^\[].*\n)*?backend\s*=\s*outbox", text):
        raise RuntimeError("config.ini: [smtp] backend = outbox expected")
    cfg.write_text(text, encoding="utf-8")
    return cfg


def source_of(app):
    return open_source(app.config.imap, app.config.base, app.config.password("imap"))


def mark_all_filed(app, dc: Dovecot, user: str) -> tuple[str, int, int]:
    """Ledger: every message up to the highest UID counts as filed (no pipeline run)."""
    with dc.client(user) as c:
        sel = c.select_folder("INBOX", readonly=True)
        last = int(sel[b"UIDNEXT"]) - 1
        uidvalidity = int(sel[b"UIDVALIDITY"])
    name = source_of(app).name
    with app.ledger.transaction():
        app.ledger.set_source_position(name, uidvalidity, last)
    return name, uidvalidity, last


# ------------------------------------------------------------------------------------------
# client-side IMAP command tap (imaplib underlies imapclient; every tagged command, including
# imapclient's raw ones, ends in IMAP4._command_complete(name, tag))


class CommandTap:
    def __init__(self) -> None:
        self.log: list[tuple[str, float]] | None = None
        orig = imaplib.IMAP4._command_complete
        tap = self

        def wrapped(imap, name, tag):
            t0 = time.perf_counter()
            try:
                return orig(imap, name, tag)
            finally:
                if tap.log is not None:
                    tap.log.append((str(name).upper(), time.perf_counter() - t0))

        imaplib.IMAP4._command_complete = wrapped
        self._orig = orig

    @contextlib.contextmanager
    def record(self):
        self.log = []
        try:
            yield self.log
        finally:
            self.log = None

    def remove(self) -> None:
        imaplib.IMAP4._command_complete = self._orig


# ------------------------------------------------------------------------------------------
# exclusive-time stage timers (wrappers; a stack subtracts nested stages from their parent)


class Stages:
    def __init__(self) -> None:
        self.excl: dict[str, float] = defaultdict(float)
        self.calls: Counter = Counter()
        self.samples: dict[str, list[float]] = defaultdict(list)
        self._stack: list[float] = []
        self._undo: list[tuple[object, str, object, bool]] = []

    def timed(self, label: str, fn, keep: bool = True):
        st = self

        def w(*a, **k):
            t0 = time.perf_counter()
            st._stack.append(0.0)
            try:
                return fn(*a, **k)
            finally:
                el = time.perf_counter() - t0
                child = st._stack.pop()
                st.excl[label] += el - child
                st.calls[label] += 1
                if keep:
                    st.samples[label].append(el)
                if st._stack:
                    st._stack[-1] += el
        return w

    def patch(self, obj, attr: str, label: str, keep: bool = True) -> None:
        had = attr in vars(obj) if not isinstance(obj, type) else True
        orig = getattr(obj, attr)
        setattr(obj, attr, self.timed(label, orig, keep))
        self._undo.append((obj, attr, orig, had))

    def patch_gen(self, cls, attr: str, label: str) -> None:
        """A generator method: time each next() (the network waits of a lazy fetch)."""
        orig = getattr(cls, attr)
        st = self

        def w(*a, **k):
            nxt = st.timed(label, orig(*a, **k).__next__)
            while True:
                try:
                    item = nxt()
                except StopIteration:
                    return
                yield item

        setattr(cls, attr, w)
        self._undo.append((cls, attr, orig, True))

    def undo(self) -> None:
        for obj, attr, orig, had in reversed(self._undo):
            if had:
                setattr(obj, attr, orig)
            else:
                delattr(obj, attr)
        self._undo = []


class _DbProxy:
    """sqlite3.Connection stand-in that times COMMIT (WAL + synchronous=FULL → fsync)."""

    def __init__(self, db, stages: Stages) -> None:
        self._db = db
        self._commit = stages.timed("ledger COMMIT (WAL fsync)", db.execute)

    def execute(self, sql, *args):
        if sql == "COMMIT":
            return self._commit(sql, *args)
        return self._db.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._db, name)


LEDGER_METHODS = ("seen", "source_position", "set_source_position", "add_message", "update_message",
                  "message", "messages", "next_version", "add_attachment", "attachments",
                  "filed_with_same_files", "add_finding", "findings", "queue", "is_queued",
                  "acks_to_sender_on", "event", "reviews")


def instrument(app, stages: Stages) -> None:
    s = stages
    s.patch(pipeline, "file_message", "pipeline.file_message (self)", keep=True)
    s.patch(pipeline, "parse_message", "parse.parse_message")
    s.patch(pipeline, "identify", "identify.identify")
    s.patch(decide, "automatic_reason", "automatic.automatic_reason")
    s.patch(authenticity, "assess", "authenticity.assess (DKIM)")
    s.patch(pipeline, "prepare_submission", "pipeline.prepare_submission (self)")
    s.patch(docsandbox, "read_mail_documents", "docsandbox.read_mail_documents (worker)")
    s.patch(check, "check_document", "check.check_document (facts+rules)")
    s.patch(pipeline, "queue_ack", "acks.queue_ack (self)")
    s.patch(progress, "unit_state", "progress.unit_state (self)")
    s.patch(acks, "queue", "compose.queue (build MIME)")
    s.patch(pipeline, "confirm_waiting", "pipeline.confirm_waiting (self)")
    s.patch(app.templates, "render", "compose.Templates.render (jinja)")
    s.patch(app.archive, "store_all", "archive.store_all (write+fsync)")
    for m in LEDGER_METHODS:
        s.patch(app.ledger, m, f"ledger.{m}")
    app.ledger.db = _DbProxy(app.ledger.db, s)
    s.patch(ImapSource, "connect", "imap connect+LOGIN+ID+SELECT")
    s.patch_gen(ImapSource, "new_messages", "imap UID SEARCH+FETCH (waits)")
    s.patch(ImapSource, "mark_filed", "imap STORE +$Filed")
    s.patch(ImapSource, "close", "imap LOGOUT")


def instrument_idle(app, stages: Stages) -> None:
    s = stages
    s.patch(ImapSource, "connect", "connect: TCP+greeting+CAPABILITY+LOGIN+ID+SELECT")
    s.patch_gen(ImapSource, "new_messages", "UID SEARCH (nothing new)")
    s.patch(ImapSource, "close", "LOGOUT")
    s.patch(pipeline, "confirm_waiting", "ledger: confirm_waiting")
    s.patch(app.ledger, "source_position", "ledger: source_position")
    s.patch(app.ledger, "event", "ledger: event INSERT")
    app.ledger.db = _DbProxy(app.ledger.db, s)


def uninstrument(app, stages: Stages) -> None:
    stages.undo()
    if isinstance(app.ledger.db, _DbProxy):
        app.ledger.db = app.ledger.db._db


# ------------------------------------------------------------------------------------------
# mail generation


def small_message(i: int, user: str) -> bytes:
    d = datetime(2022, 8, 1, 8, 0, tzinfo=CN) + timedelta(minutes=i)
    return (f"From: dept{i % 26}@163.com\r\nTo: {user}\r\n"
            f"Subject: =?UTF-8?B?5rS75Yqo5pa55qGI?= {i}\r\n"
            f"Date: {d.strftime('%a, %d %b %Y %H:%M:%S +0800')}\r\n"
            f"Message-ID: <bench.{i}@163.com>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            + "请查收我局政府开放日活动实施方案。\r\n" * 4).encode("utf-8")


_BASE_DOCS: dict = {}
CLIENT_CYCLE = ("foxmail", "outlook", "163web", "qqmail", "iphone", "generic")
STYLE_CYCLE = ("rfc2231", "rfc2231-gbk", "rfc2047-gbk")


def _unique_docx(data: bytes, revision: int) -> bytes:
    """Same document, its own bytes: docProps/core.xml revision = n (a resave in Word)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            blob = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                blob = re.sub(rb"<cp:revision>\d+</cp:revision>",
                              f"<cp:revision>{revision}</cp:revision>".encode(), blob)
            z.writestr(info, blob)
    return out.getvalue()


def gen_group(jobs: list[tuple]) -> list[tuple[int, bytes, datetime, int]]:
    """All mails sharing one base document (one plan_docx call per group)."""
    return [(job[0], *gen_mail(job)) for job in jobs]


def gen_mail(job: tuple) -> tuple[bytes, datetime, int]:
    """One department mail (runs in a worker process)."""
    i, unit, email, contact, phone, activity, layout, arrive, region, notice = job
    key = (unit, activity, layout)
    base = _BASE_DOCS.get(key)
    if base is None:
        base = _BASE_DOCS[key] = plan_docx(unit, activity=activity, contact=contact, phone=phone,
                                           email=email, region=region, notice=notice, layout=layout,
                                           participants=30 if layout == "table" else 25,
                                           signed=arrive.date() - timedelta(days=1))
    doc = _unique_docx(base, 4 + i)
    client = CLIENT_CYCLE[i % len(CLIENT_CYCLE)]
    style = STYLE_CYCLE[i % len(STYLE_CYCLE)]
    assert style in FILENAME_STYLES
    year = activity.year
    b = MailBuilder(from_addr=email, from_name=contact, to=OFFICE, to_name="县政务公开办公室",
                    subject=f"关于报送{unit}{year}年“政府开放日”活动实施方案的函（第{i + 1}号）",
                    date=arrive - timedelta(seconds=41), client=client, received_at=arrive,
                    text=(f"县政务公开办公室：\r\n\r\n    您好！按照{notice}要求，现将我局{year}年“政府开放日”"
                          f"活动实施方案报送贵办，请审核。\r\n\r\n    联系人：{contact}，联系电话：{phone}。\r\n\r\n"
                          f"{unit}\r\n"))
    b.attach(f"{unit}{year}年“政府开放日”活动实施方案.docx", doc, filename_style=style)
    return b.build(), arrive, len(doc)


def ingest_jobs(app, count: int) -> list[tuple]:
    units = [u for u in app.roster.units if u.emails]
    camp = app.campaign
    jobs = []
    start = datetime(2022, 8, 15, 8, 0, tzinfo=CN)
    for i in range(count):
        u = units[i % len(units)]
        fixed = camp.fixed_date_for(app.roster, u.name)
        variant = (i // len(units)) % 2
        if fixed is not None and variant == 0:
            activity = fixed
        else:   # a working day inside the activity window, different per unit and variant
            activity = camp.window_start + timedelta(days=(3 * (i % len(units)) + 11 * variant) % 28)
            while activity.weekday() >= 5:
                activity += timedelta(days=1)
        arrive = start + timedelta(minutes=3 * i, seconds=i % 50)
        jobs.append((i, u.name, u.emails[0], u.contact, u.phone, activity,
                     "table" if variant == 0 else "prose", arrive, camp.region, camp.notice))
    return jobs


# ------------------------------------------------------------------------------------------
# parts


def time_polls(app, runs: int, tap: CommandTap, stages: Stages | None = None
               ) -> tuple[list[float], dict[str, list[float]], dict[str, float]]:
    t0 = time.perf_counter()
    pipeline.poll(app)     # warm-up (read-write SELECT moves new/ → cur/, clears \Recent)
    first = time.perf_counter() - t0
    # Dovecot (maildir) re-reads cur/ at every SELECT while that directory's mtime is under
    # ~1 s old ("dirty"): wait that out, so the timed polls see the steady state.
    time.sleep(1.5)
    totals: list[float] = []
    per_cmd: dict[str, list[float]] = defaultdict(list)
    if stages is not None:
        instrument_idle(app, stages)
    try:
        _timed_loop(app, runs, tap, totals, per_cmd)
    finally:
        if stages is not None:
            uninstrument(app, stages)
    mean = {k: v / runs for k, v in stages.excl.items()} if stages is not None else {}
    if stages is not None:
        mean["other (poll() + Python)"] = statistics.mean(totals) - sum(mean.values())
    mean["_first"] = first
    return totals, per_cmd, mean


def _timed_loop(app, runs, tap, totals, per_cmd) -> None:
    for _ in range(runs):
        with tap.record() as log:
            t0 = time.perf_counter()
            rep = pipeline.poll(app)
            totals.append(time.perf_counter() - t0)
        if rep.fetched:
            raise RuntimeError(f"idle poll fetched {rep.fetched} messages")
        seen = Counter()
        for name, sec in log:
            seen[name] += 1
            per_cmd[name if seen[name] == 1 else f"{name}#{seen[name]}"].append(sec)
    return totals, per_cmd


def idle_table(results: dict[int, tuple], title: str) -> None:
    sizes = sorted(results)
    print(f"\n  {title}")
    print(f"  {'mailbox':>9} {'median ms':>10} {'p90 ms':>8} {'min ms':>8}   per command (median ms)")
    print("  (first poll after the fill, untimed warm-up: "
          + ", ".join(f"{n:,}: {ms(results[n][2]['_first'])} ms" for n in sizes) + ")")
    for n in sizes:
        tot, cmds, _ = results[n]
        detail = "  ".join(f"{k} {ms(statistics.median(v))}" for k, v in cmds.items())
        print(f"  {n:>9,} {ms(statistics.median(tot)):>10} {ms(pct(tot, 0.9)):>8} {ms(min(tot)):>8}   {detail}")
    for n in sizes:
        mean = {k: v for k, v in results[n][2].items() if not k.startswith("_")}
        if mean:
            print(f"  {n:>9,} where the time goes (mean ms/poll): "
                  + ", ".join(f"{k} {ms(v)}" for k, v in sorted(mean.items(), key=lambda kv: -kv[1])))
    lo, hi = sizes[0], sizes[-1]
    r = statistics.median(results[hi][0]) / statistics.median(results[lo][0])
    sel = "SELECT"
    if sel in results[hi][1] and sel in results[lo][1]:
        rs = statistics.median(results[hi][1][sel]) / statistics.median(results[lo][1][sel])
        print(f"  ratio {hi:,}/{lo:,}: poll median ×{r:.2f}; SELECT median ×{rs:.2f}")
    else:
        print(f"  ratio {hi:,}/{lo:,}: poll median ×{r:.2f}")


def insert_ledger_rows(app, template: dict, source: str, uidvalidity: int, n: int) -> None:
    """One messages row per filed mail (copies of a real filed row), as after real polls."""
    row = {k: v for k, v in template.items() if k != "id"}
    row.update(source=source, uidvalidity=uidvalidity, duplicate_of=None)
    cols = list(row)
    sql = f"INSERT INTO messages ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})"
    units = [u.name for u in app.roster.units]

    def rows():
        for uid in range(1, n + 1):
            row["uid"] = uid
            row["unit"] = units[uid % len(units)]
            row["version"] = uid // len(units) + 1
            row["message_id"] = f"<bench.{uid}@163.com>"
            yield tuple(row[c] for c in cols)

    with app.ledger.transaction():
        app.ledger.db.executemany(sql, rows())


def raw_limit(dc: Dovecot, user: str, chunk: int = 50, store: Path | None = None) -> dict[str, float]:
    """imapclient FETCH BODY.PEEK[] (chunks of `chunk`, like ImapSource) + email parse; with
    `store`, each attachment also written there and fsynced (time in "store", part of "parse")."""
    t_fetch = t_parse = t_bytes = t_store = 0.0
    nbytes = n = parts = 0
    t0 = time.perf_counter()
    c = dc.client(user, timeout=120)
    c.select_folder("INBOX", readonly=True)
    uids = sorted(c.search(["ALL"]))
    t_fetch += time.perf_counter() - t0
    parser = BytesParser(policy=policy.default)
    for i in range(0, len(uids), chunk):
        t1 = time.perf_counter()
        data = c.fetch(uids[i:i + chunk], ["BODY.PEEK[]"])
        t2 = time.perf_counter()
        t_fetch += t2 - t1
        for uid in uids[i:i + chunk]:
            raw = data[uid][b"BODY[]"]
            nbytes += len(raw)
            t3 = time.perf_counter()
            msg = parser.parsebytes(raw)
            t_bytes += time.perf_counter() - t3
            _ = (str(msg["subject"]), str(msg["from"]), str(msg["date"]), str(msg["message-id"]))
            body = msg.get_body(preferencelist=("plain", "html"))
            if body is not None:
                body.get_content()
            for part in msg.iter_attachments():
                part.get_filename()
                content = part.get_content()
                parts += 1
                if store is not None:
                    t4 = time.perf_counter()
                    with open(store / f"{n}.{parts}", "wb") as f:
                        f.write(content if isinstance(content, bytes) else content.encode())
                        f.flush()
                        os.fsync(f.fileno())
                    t_store += time.perf_counter() - t4
            n += 1
        t_parse += time.perf_counter() - t2
    c.logout()
    return dict(n=n, bytes=nbytes, fetch=t_fetch, parse=t_parse, parsebytes=t_bytes, parts=parts, store=t_store)


class CappedNew:
    """Limit ImapSource.new_messages to the first `cap` messages (profile run only)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.orig = ImapSource.new_messages

    def __enter__(self):
        cap, orig = self.cap, self.orig

        def capped(src, after, max_size, chunk=50):
            for k, f in enumerate(orig(src, after, max_size, chunk)):
                if k >= cap:
                    return
                yield f
        ImapSource.new_messages = capped
        return self

    def __exit__(self, *exc):
        ImapSource.new_messages = self.orig


# ------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2,000 idle messages, 200 ingest mails")
    ap.add_argument("--runs", type=int, default=30, help="timed idle polls per mailbox (30)")
    ap.add_argument("--idle", type=int, default=None, help="messages in the large idle mailbox")
    ap.add_argument("--ingest", type=int, default=None, help="mails in the ingest run")
    ap.add_argument("--profile-n", type=int, default=300, help="messages in the cProfile run (300)")
    ap.add_argument("--profile-out", default=os.path.join(tempfile.gettempdir(), "mailbot-poll-profile.txt"))
    ap.add_argument("--keep", action="store_true", help="keep the temp folders (printed)")
    args = ap.parse_args()
    big = args.idle or (2_000 if args.quick else 20_000)
    small = 200
    ingest_n = args.ingest or (200 if args.quick else 1_000)
    prof_n = min(args.profile_n, ingest_n)

    t_all = time.perf_counter()
    os.environ[PW_ENV] = PASSWORD
    base = Path(tempfile.mkdtemp(prefix="mb-pollbench-"))
    dc = Dovecot(tls=False)
    tap = CommandTap()
    apps = []
    try:
        dc.start()
        print(f"poll_bench: Python {sys.version.split()[0]}, {os.cpu_count()} CPU(s), Dovecot on "
              f"127.0.0.1:{dc.port} (mail_fsync=never, maildir), work folders under {base}; "
              f"load average at start {os.getloadavg()[0]:.2f}")

        # ---------------------------------------------------------------- 1. idle poll
        print(f"\n1. Idle poll ({args.runs} timed polls per mailbox, after one warm-up poll)")
        idle_apps = {}
        for n in (small, big):
            user = f"idle{n}@xiji.test"
            dc.add_user(user, PASSWORD)
            t0 = time.perf_counter()
            dc.append_many(user, (small_message(i, user) for i in range(n)), chunk=500)
            t_fill = time.perf_counter() - t0
            cfg = make_workdir(base, f"idle{n}", dc, user)
            app = open_app(cfg, TODAY)
            apps.append(app)
            name, uv, last = mark_all_filed(app, dc, user)
            idle_apps[n] = (app, user, name, uv)
            print(f"  filled {user}: {n:,} messages (~{len(small_message(0, user))} B) by MULTIAPPEND in "
                  f"{t_fill:.1f} s; ledger position = UID {last}")
        res = {n: time_polls(idle_apps[n][0], args.runs, tap, Stages()) for n in (small, big)}
        idle_table(res, "ledger: source position only")

        app_big, user_big = idle_apps[big][0], idle_apps[big][1]
        dc.enable_rawlog(user_big)
        with tap.record() as log:
            pipeline.poll(app_big)
        sessions = dc.rawlog_commands(user_big)
        print(f"  IMAP commands of one idle poll ({big:,} mailbox):")
        print(f"    client side (imaplib tap; CAPABILITY and LOGIN are pre-auth, SEARCH goes out as UID SEARCH): "
              f"{' '.join(n for n, _ in log)}  [{len(log)} commands]")
        print(f"    Dovecot rawlog (post-login only; LOGIN is not recorded there): "
              f"{' '.join(sessions[-1]) if sessions else '(no session recorded)'}")

        # ---------------------------------------------------------------- 2. ingest
        print(f"\n2. Ingest: {ingest_n:,} department mails with a plan .docx each")
        user = "ingest@xiji.test"
        dc.add_user(user, PASSWORD)
        cfg = make_workdir(base, "ingest", dc, user, max_acks=1_000_000)
        app = open_app(cfg, TODAY)
        apps.append(app)
        t0 = time.perf_counter()
        jobs = ingest_jobs(app, ingest_n)
        groups: dict[tuple, list[tuple]] = defaultdict(list)
        for j in jobs:
            groups[(j[1], j[5], j[6])].append(j)
        made_by_i: dict[int, tuple] = {}
        with multiprocessing.get_context("fork").Pool(min(2, os.cpu_count() or 1)) as pool:
            for part in pool.imap_unordered(gen_group, list(groups.values())):
                for i, *rest in part:
                    made_by_i[i] = tuple(rest)
        made = [made_by_i[i] for i in range(len(jobs))]
        t_gen = time.perf_counter() - t0
        sizes = [len(r) for r, _, _ in made]
        dsizes = [d for _, _, d in made]
        t0 = time.perf_counter()
        dc.append_many(user, ({"msg": r, "date": when} for r, when, _ in made), chunk=100)
        t_app = time.perf_counter() - t0
        units = len({j[1] for j in jobs})
        print(f"  generated in {t_gen:.1f} s ({len(groups)} plan_docx documents for {units} units, unique bytes per mail; clients {'/'.join(CLIENT_CYCLE)}, filename styles "
              f"{'/'.join(STYLE_CYCLE)}); .docx median {statistics.median(dsizes) / 1024:.1f} KB, mail median "
              f"{statistics.median(sizes) / 1024:.1f} KB, total {sum(sizes) / 1048576:.1f} MB; "
              f"MULTIAPPEND {t_app:.1f} s")

        stages = Stages()
        instrument(app, stages)
        t0 = time.perf_counter()
        rep = pipeline.poll(app)
        t_poll = time.perf_counter() - t0
        uninstrument(app, stages)
        print(f"  poll(app): {rep.summary()}")
        if rep.errors:
            print(f"  errors: {rep.errors[:3]}")
        print(f"  poll(app) end to end: {t_poll:.2f} s → {rep.fetched / t_poll:.1f} messages/s "
              f"({t_poll / max(1, rep.fetched) * 1000:.1f} ms/message)")
        fm = stages.samples.get("pipeline.file_message (self)", [])
        if len(fm) >= 20:
            q = len(fm) // 4
            means = [statistics.mean(fm[k * q:(k + 1) * q]) for k in range(4)]
            print("  file_message per mail (inclusive, fetch excluded), mean ms by quarter of the run: "
                  + " → ".join(ms(m) for m in means) + f"  (×{means[3] / means[0]:.2f})")

        accounted = sum(stages.excl.values())
        print(f"  stage breakdown (exclusive time; poll total {t_poll:.2f} s, unaccounted "
              f"{t_poll - accounted:.2f} s = poll() loop itself):")
        print(f"    {'stage':<40} {'s':>7} {'%':>6} {'calls':>7} {'ms/call':>8}   inclusive ms/call: first 25% → last 25% of calls")
        for label, sec in sorted(stages.excl.items(), key=lambda kv: -kv[1]):
            if sec < 0.0005 * t_poll:
                continue
            c = stages.calls[label]
            smp = stages.samples.get(label, [])
            grow = ""
            if len(smp) >= 8:
                q = len(smp) // 4
                a, b = statistics.mean(smp[:q]), statistics.mean(smp[-q:])
                grow = f"   {a * 1000:7.2f} → {b * 1000:7.2f}"
            print(f"    {label:<40} {sec:>7.2f} {sec / t_poll * 100:>5.1f}% {c:>7} {sec / c * 1000:>8.2f}{grow}")

        lim = raw_limit(dc, user)
        raw_rate = lim["n"] / (lim["fetch"] + lim["parse"])
        print(f"  raw limit, same {lim['n']:,} messages ({lim['bytes'] / 1048576:.1f} MB): imapclient FETCH "
              f"BODY.PEEK[] ×50/command {lim['fetch']:.2f} s ({lim['n'] / lim['fetch']:.0f} msg/s, "
              f"{lim['bytes'] / 1048576 / lim['fetch']:.0f} MB/s) + email policy.default parse and decode "
              f"{lim['parse']:.2f} s (parsebytes {lim['parsebytes']:.2f} s, then Subject/From/Date/Message-ID, "
              f"body and {lim['parts']} attachments get_content()) → {raw_rate:.0f} messages/s")
        pm = stages.excl.get("parse.parse_message", 0.0) / max(1, stages.calls.get("parse.parse_message", 1))
        print(f"    (for scale: mailbot's parse.parse_message took {pm * 1000:.2f} ms/message in the poll, the stdlib "
              f"pass above {lim['parse'] / max(1, lim['n']) * 1000:.2f} ms/message)")
        print(f"  pipeline / raw limit: {rep.fetched / t_poll:.1f} / {raw_rate:.0f} msg/s = "
              f"{(rep.fetched / t_poll) / raw_rate * 100:.1f}% (raw is ×{raw_rate / (rep.fetched / t_poll):.0f} faster)")

        # idle poll after ingest (the real ledger: 1000 filed rows, queued acks)
        tot, _cmds, _ = time_polls(app, min(args.runs, 15), tap)
        print(f"  idle poll of this folder afterwards ({rep.fetched:,} filed, acks queued): median "
              f"{ms(statistics.median(tot))} ms, p90 {ms(pct(tot, 0.9))} ms")

        # -------------------------------------------------- 1b. idle poll, ledger rows too
        tmpl = dict(app.ledger.db.execute("SELECT * FROM messages WHERE status='filed' ORDER BY id DESC LIMIT 1").fetchone())
        for n in (small, big):
            a, _u, name, uv = idle_apps[n]
            insert_ledger_rows(a, tmpl, name, uv, n)
        res = {n: time_polls(idle_apps[n][0], args.runs, tap, Stages()) for n in (small, big)}
        idle_table(res, f"1b. idle poll again, ledger also holding one filed row per message "
                        f"(copies of a real row, facts_json {len(tmpl.get('facts_json') or '')} chars)")

        # ---------------------------------------------------------------- cProfile
        cfg = make_workdir(base, "ingest-prof", dc, user, max_acks=1_000_000)
        papp = open_app(cfg, TODAY)
        apps.append(papp)
        prof = cProfile.Profile()
        with CappedNew(prof_n):
            t0 = time.perf_counter()
            prof.enable()
            prep = pipeline.poll(papp)
            prof.disable()
            t_prof = time.perf_counter() - t0
        out = io.StringIO()
        ps = pstats.Stats(prof, stream=out).strip_dirs().sort_stats("cumulative")
        ps.print_stats(60)
        Path(args.profile_out).write_text(out.getvalue(), encoding="utf-8")
        print(f"\n3. cProfile: fresh ledger, first {prep.fetched} messages, {t_prof:.2f} s under the profiler; "
              f"top 15 cumulative (full list: {args.profile_out}):")
        s2 = io.StringIO()
        pstats.Stats(prof, stream=s2).sort_stats("cumulative").print_stats(15)
        lines = s2.getvalue().splitlines()
        start = next((i for i, l in enumerate(lines) if l.lstrip().startswith("ncalls")), 0)
        for line in lines[start:]:
            if line.strip():
                print("    " + re.sub(r"\S*/(mailbot|site-packages|python3\.\d+)/", r"\1/", line))
        print("  top 8 by own time (tottime):")
        s3 = io.StringIO()
        pstats.Stats(prof, stream=s3).sort_stats("tottime").print_stats(8)
        lines = s3.getvalue().splitlines()
        start = next((i for i, l in enumerate(lines) if l.lstrip().startswith("ncalls")), 0)
        for line in lines[start:]:
            if line.strip():
                print("    " + re.sub(r"\S*/(mailbot|site-packages|python3\.\d+)/", r"\1/", line))
        print("\n" + footer(t_all))
        return 0
    finally:
        tap.remove()
        teardown(apps, [dc], base, args.keep)


def footer(t_all: float) -> str:
    """The closing line every benchmark prints: its wall time and the load it ran under."""
    return (f"total benchmark time {time.perf_counter() - t_all:.0f} s; load average at end "
            f"{os.getloadavg()[0]:.2f} (other work on these {os.cpu_count()} CPUs inflates every figure)")


def teardown(apps, servers, base, keep: bool) -> None:
    """Close the apps, stop the servers (Dovecot, SMTP), remove the work folder unless kept."""
    for a in apps:
        with contextlib.suppress(Exception):
            a.close()
    for srv in servers:
        (getattr(srv, "close", None) or srv.stop)()
    if keep:
        print(f"kept {base}")
    else:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
