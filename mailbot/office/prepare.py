"""Reading one mail before the filing decision — everything that needs no ledger — and a
read-ahead worker that does it for the next mails while this one is being filed.

``read(app, raw, received)`` is a pure function of the mail's bytes, the campaign, the roster
and the config: who really sent it (authenticity), the parsed mail, which unit and kind, and
for a trusted mail naming a unit its documents read (in the document sandbox) and checked.
Nothing here writes the archive or the ledger, so its result may be computed early, in another
process, and thrown away.

``ReadAhead`` runs ``read`` in forked worker processes (two) for the next few fetched mails, so
that parsing, the DKIM check, reading and checking the documents of mail N+1… (CPU) overlap
with archiving, committing and acknowledging mail N (fsync waits, SQLite, MIME building) —
the two halves of an ingest take about the same time, and there are two cores on the office's
machine. Mail is still filed strictly in UID order, one transaction at a time, by the poll
loop; the worker only computes. A worker that dies or fails falls back to reading in-process,
mail by mail, with the same function, so the result never depends on which path read it.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Iterable, Iterator

from mailbot.app import App
from mailbot.documents import check, docsandbox
from mailbot.documents.facts import extract_facts
from mailbot.office import route
from mailbot.office.route import Route
from mailbot.mailin import authenticity
from mailbot.mailin.identify import Identity, identify, own_text
from mailbot.mailin.parse import Attachment, ParsedMail, parse_message
from mailbot.mailin.source import Fetched
from mailbot.vocab import Outcome, Severity

log = logging.getLogger("mailbot.poll")

DEPTH = 12              # mails handed to the workers ahead of the one being filed (4 let the workers
                        # run dry while the poll committed a batch and sent its 回执: 12.2 → 11.0 s a 1,000)
AHEAD_BYTES = 32 << 20  # … and at most this much mail in flight
MIN_MAILS = 2           # the workers start at the second new mail of a poll (one mail: in-process)
# Two workers, each with its own document sandbox: one worker alternates between its own CPU
# (DKIM, parse, facts) and waiting for its sandbox (the .docx walk); two keep both cores busy
# (200 mails on this 2-core machine: 14.6–18.1 ms/mail with one, 12.8–13.4 with two).
WORKERS = max(1, min(2, os.cpu_count() or 1))


@dataclass
class Reading:
    """What was learnt from one mail without the ledger."""
    verdict: authenticity.Verdict
    mail: ParsedMail | None
    who: Identity
    error: str | None = None                       # the exception class when the mail could not be read
    route: Route | None = None                     # which campaign, by words and dates (route.by_content)
    campaign: str | None = None                    # the campaign WHO and the checks below are about
    kind: str | None = None                        # the kind the documents were checked as
    docs: list[list[Any]] | None = None            # per attachment its DocTexts (None: not read)
    results: list[list[Any]] = field(default_factory=list)   # per attachment, CheckResult per readable doc


def assess(app: App, raw: bytes, *, dns_given_up: bool = False) -> authenticity.Verdict:
    """The sender-authenticity verdict; a bug here holds the mail for a person, never files it."""
    try:
        return authenticity.assess(raw, app.config.trust, dns_given_up=dns_given_up)
    except Exception as exc:
        log.exception("authenticity check failed")
        return authenticity.Verdict(authenticity.FAIL, f"核对发件人真伪时程序出错（{exc.__class__.__name__}），"
                                                       f"请人工核实", (), False)


def identify_sender(app: App, mail: ParsedMail, verdict: authenticity.Verdict) -> Identity:
    """identify(), but a From that is not exactly one well-formed address is never matched to
    the roster (the unit may still be named by the content)."""
    ok = verdict.from_ok and verdict.address == mail.from_addr
    return identify(mail if ok else replace(mail, from_addr=""), app.campaign, app.roster)


def doc_like(a: Attachment) -> bool:
    return a.content_type != "message/rfc822"


def read_documents(app: App, mail: ParsedMail) -> list[list[Any]]:
    """Per attachment its DocTexts, all of one mail read in the sandbox under one budget."""
    return docsandbox.read_mail_documents(
        [(a.data, a.filename or "附件") if doc_like(a) else None for a in mail.attachments], app.config.doc_budget)


def kind_of(app: App, who: Identity, mail: ParsedMail, docs_by_file: list[list[Any]]) -> str:
    """The kind named by subject or file names; else the first readable document's title decides."""
    if who.kind is not None:
        return who.kind
    readable = [(a, d) for a, docs in zip(mail.attachments, docs_by_file) for d in docs if d.readable]
    return check.guess_kind(readable[0][0].filename or "", readable[0][1].text, app.campaign) if readable else "plan"


def check_doc(app: App, doc: Any, kind: str, unit: str, received: datetime, subject: str = "") -> Any:
    """check.check_document (SUBJECT: the mail's — 无内容报送, a return's period), but a bug or an
    unforeseen document never stops the filing: the submission is kept, acknowledged, and
    handed to a person."""
    try:
        return check.check_document(doc, campaign=app.campaign, roster=app.roster, kind=kind, unit=unit,
                                    received=received.date(), subject=subject)
    except Exception as exc:
        log.exception("check failed on %s", doc.name)
        return check.CheckResult(kind=kind, outcome=Outcome.HUMAN,
                                 facts=extract_facts("", kind=kind, year=None),
                                 findings=(check.Finding("check-error", Severity.HINT, "自动检查",
                                                         f"{doc.name}：自动检查出错（{exc.__class__.__name__}），"
                                                         f"已转工作人员人工审核。", ""),))


def check_files(app: App, docs_by_file: list[list[Any]], kind: str, unit: str,
                received: datetime, subject: str = "") -> list[list[Any]]:
    return [[check_doc(app, d, kind, unit, received, subject) for d in docs if d.readable] for docs in docs_by_file]


def route_by_content(app: App, mail: ParsedMail, received: datetime, docs: list[list[Any]] | None = None) -> Route:
    """Which campaign, by the mail's words (and its documents' first lines) and its date."""
    heads = [d.text[:300] for per_file in (docs or ()) for d in per_file if d.readable]
    return route.by_content(list(app.campaigns.values()), subject=mail.subject,
                            file_names=[a.filename or "" for a in mail.attachments],
                            text="\n".join([own_text(mail.body_text)[:2000], *heads]), received=received.date())


def read(app: App, raw: bytes, received: datetime) -> Reading:
    """Everything about one mail that needs no ledger (see the module docstring)."""
    verdict = assess(app, raw)
    try:
        mail = parse_message(raw)
        way = route_by_content(app, mail, received)
        capp = app.for_campaign(way.campaign or app.campaign.id)
        who = identify_sender(capp, mail, verdict)
    except Exception as exc:   # parse never raises by contract; this is the last line of defence
        log.exception("could not read a mail")
        return Reading(verdict, None, Identity(None, False, None, ""), error=exc.__class__.__name__)
    reading = Reading(verdict, mail, who, route=way, campaign=way.campaign)
    if who.unit is not None and verdict.trusted and mail.attachments:
        # likely filed: its documents are read now (a held mail's, only when it is filed later)
        docs = read_documents(app, mail)
        reading.docs = docs
        if way.campaign is None:        # the documents' titles may say which collection
            way = reading.route = route_by_content(app, mail, received, docs)
            if way.campaign is not None:
                capp = app.for_campaign(way.campaign)
                reading.who = who = identify_sender(capp, mail, verdict)
                reading.campaign = way.campaign
        if way.campaign is not None:
            kind = kind_of(capp, who, mail, docs)
            reading.kind = kind
            reading.results = check_files(capp, docs, kind, who.unit, received, mail.subject)
    return reading


# --- the read-ahead worker ----------------------------------------------------------------------

_WORKER_APP: App | None = None


def _init_worker(app: App, parent: int) -> None:
    global _WORKER_APP
    _WORKER_APP = app
    # Die with the poll: a SIGKILLed parent must not leave this worker waiting forever on a
    # queue whose write end it holds itself, nor holding the caller's stdout/stderr pipes open.
    _die_with_parent(parent)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    # the parent's document sandbox and ledger connection are the parent's: never touched here
    docsandbox._SHARED = docsandbox.Sandbox()


def _die_with_parent(parent: int) -> None:
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)          # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass                                            # elsewhere: the queue's EOF ends it, usually
    if os.getppid() != parent:                          # the parent died before prctl took effect
        os._exit(0)


def _read_in_worker(raw: bytes, received: datetime) -> Reading:
    assert _WORKER_APP is not None
    return read(_WORKER_APP, raw, received)


# threads of ours that only ever wait on their own queue between tasks (the archive's fsync pool):
# a fork while they exist cannot leave the child holding a lock it needs
_IDLE_THREADS = ("archive-fsync",)


def _fork_safe() -> bool:
    return all(t is threading.main_thread() or t.name.startswith(_IDLE_THREADS) for t in threading.enumerate())


class ReadAhead:
    """Fetched mail in, (fetched, Reading | None) out, in the same order; see the module docstring.

    ``None`` for a mail whose body was not fetched (over the size cap). The worker is forked
    only when a poll brings at least MIN_MAILS mails, and only from a process without threads
    other than our idle fsync pool (forking one that has them can deadlock the child)."""

    def __init__(self, app: App, enabled: bool | None = None) -> None:
        self.app = app
        if enabled is None:
            enabled = os.environ.get("MAILBOT_READ_AHEAD", "1") != "0" and "fork" in multiprocessing.get_all_start_methods()
        self.enabled = enabled
        self._pool: ProcessPoolExecutor | None = None
        self.worker_reads = 0
        self.local_reads = 0
        self.waited = 0.0          # seconds the poll waited for the worker (the worker is the slower half)

    def __enter__(self) -> "ReadAhead":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
        if self.worker_reads:
            log.info("read ahead: %d mail(s) read by the worker, %d in-process; the poll waited %.2f s for it",
                     self.worker_reads, self.local_reads, self.waited)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _start(self) -> bool:
        if self._pool is None and self.enabled and _fork_safe():
            try:
                self._pool = ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("fork"),
                                                 initializer=_init_worker, initargs=(self.app, os.getpid()))
            except (OSError, ValueError) as exc:
                log.warning("read-ahead worker not started (%s): reading in-process", exc)
                self.enabled = False
        return self._pool is not None

    def _received(self, fetched: Fetched) -> datetime:
        return fetched.internaldate.astimezone(self.app.config.timezone)

    def readings(self, fetched_mail: Iterable[Fetched]) -> Iterator[tuple[Fetched, Reading | None]]:
        pending: deque[tuple[Fetched, Future | None]] = deque()
        seen = in_flight = 0
        for fetched in fetched_mail:
            seen += 1
            future = None
            if fetched.raw is not None and seen >= MIN_MAILS and self._start():
                try:
                    future = self._pool.submit(_read_in_worker, fetched.raw, self._received(fetched))
                except Exception as exc:      # a broken pool: the rest is read in-process
                    log.warning("read-ahead worker unavailable (%s): reading in-process", exc)
                    self.close()
                    self.enabled = False
            pending.append((fetched, future))
            in_flight += len(fetched.raw or b"")
            while len(pending) > DEPTH or in_flight > AHEAD_BYTES or (pending and pending[0][1] is None):
                done = pending.popleft()
                in_flight -= len(done[0].raw or b"")
                yield self._take(*done)
        while pending:
            yield self._take(*pending.popleft())

    def _take(self, fetched: Fetched, future: Future | None) -> tuple[Fetched, Reading | None]:
        if fetched.raw is None:
            return fetched, None
        if future is not None:
            try:
                t0 = time.perf_counter()
                reading = future.result()
                self.waited += time.perf_counter() - t0
                self.worker_reads += 1
                return fetched, reading
            except Exception as exc:          # the worker died or failed on this mail: read it here
                log.warning("read-ahead worker failed on uid %s (%s): reading in-process",
                            fetched.uid, exc.__class__.__name__)
        self.local_reads += 1
        return fetched, read(self.app, fetched.raw, self._received(fetched))
