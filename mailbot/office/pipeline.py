"""poll(): new mail, one message at a time, through parse → identify → archive → check →
one ledger transaction (message, attachments, findings, queued 回执, source position) → $Filed.

A crash at any point replays to the same state: archive names are deterministic, ledger rows
are keyed by (source, UIDVALIDITY, UID), and the 回执 is queued in the same transaction as
the message it answers.
"""
from __future__ import annotations

import logging
import os
import signal
import time
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Callable

from mailbot.mailin import authenticity
from mailbot.documents import check, docread, docsandbox
from mailbot.mailout.acks import queue_ack, queue_missing_files_ack, queue_query_reply
from mailbot.app import App
from mailbot.office.decide import (FILED, LARGE_ATTACHMENT_REASON, REPLY_ACK, REPLY_NOFILE, REPLY_QUERY, Decision,
    Incoming, decide, is_query, large_attachment_links)
from mailbot.mailin.identify import Identity, identify, own_text
from mailbot.office import route, supplement
from mailbot.office.route import Route
from mailbot.mailout.compose import msg_ids
from mailbot.office.supplement import Supplement
from mailbot.office.prepare import (ReadAhead, Reading, assess, check_doc, check_files, identify_sender, kind_of,
                                    read, read_documents)
from mailbot.store.ledger import FindingRecord
from mailbot.store.locks import job_lock
from mailbot.store.names import attachment_name, hidden_characters_warning, numbered
from mailbot.mailin.parse import Attachment, ParsedMail, parse_message
from mailbot.mailin.source import Fetched, open_source
from mailbot.vocab import ACCEPTABLE, Outcome, Severity, Status

log = logging.getLogger("mailbot.poll")


@dataclass
class PollReport:
    fetched: int = 0
    filed: int = 0
    held: dict[str, int] = field(default_factory=dict)
    confirmed: int = 0
    acks_queued: int = 0
    filed_later: list[int] = field(default_factory=list)   # held mail filed by this poll (confirmed, re-decided)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        held = "，".join(f"{Status(k).label} {v} 封" for k, v in sorted(self.held.items()))
        text = f"收取新邮件 {self.fetched} 封：登记报送 {self.filed} 封"
        if held:
            text += f"；{held}"
        if self.confirmed:
            text += f"；确认此前待确认的邮件 {self.confirmed} 封"
        return text + f"；待发回执 {self.acks_queued} 封。"


def crashpoint(name: str) -> None:
    """Test hook: MAILBOT_CRASH_AT=name[:n] kills this process (SIGKILL) at the n-th pass."""
    spec = os.environ.get("MAILBOT_CRASH_AT", "")
    if not spec:
        return
    point, _, nth = spec.partition(":")
    if point != name:
        return
    count = int(os.environ.get("_MAILBOT_CRASH_COUNT", "0")) + 1
    os.environ["_MAILBOT_CRASH_COUNT"] = str(count)
    if count >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


BATCH_MAILS = 16        # mails whose ledger rows share one commit (one WAL fsync) …
BATCH_SECONDS = 1.0     # … or fewer, when the first of them was filed this long ago


class _Batch:
    """Several mails' ledger transactions joined into one commit, then $Filed on those filed.

    The rows of up to BATCH_MAILS mails commit together; just before, their archive files are
    fsynced together and named (archive.Staging), and only after it are their $Filed keywords
    set — so nothing is marked before it is on disk. A crash before the commit loses the
    batch's rows, not any named file: the next poll files those mails again to the same names
    (the archive never replaces, identical bytes are the same file). An exception rolls the
    open batch back (its files' temps removed) and propagates."""

    def __init__(self, ledger: Any, source: Any, after_commit: Callable[[], None] | None = None):
        self.ledger, self.source, self.after_commit = ledger, source, after_commit
        self._txn = None
        self._started = 0.0
        self._filed: list[int] = []
        self._count = 0

    def __enter__(self) -> "_Batch":
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if exc is None:
            self.commit()
        elif self._txn is not None:
            txn, self._txn = self._txn, None
            txn.__exit__(kind, exc, tb)           # ROLLBACK

    def open(self) -> None:
        """Before a mail is filed: its transaction joins the open batch (or starts one)."""
        if self._txn is None:
            self._txn = self.ledger.transaction()
            self._txn.__enter__()
            self._started = time.monotonic()

    def done(self, uid: int, filed: bool) -> None:
        """A mail's rows are written (inside the batch): commit when the batch is full or old."""
        self._count += 1
        if filed:
            self._filed.append(uid)
        if self._count >= BATCH_MAILS or time.monotonic() - self._started >= BATCH_SECONDS:
            self.commit()

    def commit(self) -> None:
        if self._txn is not None:
            txn, self._txn = self._txn, None
            txn.__exit__(None, None, None)        # COMMIT
        filed, self._filed, self._count = self._filed, [], 0
        if filed:
            self.source.mark_filed(filed)
        if self.after_commit is not None:
            self.after_commit()


def poll(app: App, *, after_commit: Callable[[], None] | None = None) -> PollReport:
    """Fetch and file new mail once. Raises SourceError when the mailbox cannot be reached.
    AFTER_COMMIT runs after each batch of mail is committed and marked (the 回执 go out then)."""
    report = PollReport()
    cfg = app.config
    source = open_source(cfg.imap, cfg.base, cfg.password("imap") if not cfg.imap.get("backend") else None)
    with job_lock(cfg.ledger, "poll"), source:
        uidvalidity = source.uidvalidity()
        after = app.ledger.source_position(source.name, uidvalidity)
        if after:   # a crash between a commit and its keywords left the last batch unmarked
            source.mark_filed(app.ledger.last_filed_uids(source.name, uidvalidity, BATCH_MAILS))
        with ReadAhead(app) as ahead, _Batch(app.ledger, source, after_commit) as batch:
            for fetched, reading in ahead.readings(source.new_messages(after, cfg.max_message_bytes)):
                report.fetched += 1
                batch.open()
                if app.ledger.seen(source.name, uidvalidity, fetched.uid):
                    with app.ledger.transaction():
                        app.ledger.set_source_position(source.name, uidvalidity, fetched.uid)
                    continue
                status = file_message(app, source.name, uidvalidity, fetched, report, reading)
                crashpoint("committed")
                batch.done(fetched.uid, status in (Status.FILED, Status.SUPPLEMENT))
        report.confirmed = confirm_waiting(app, report)
        report.confirmed += recheck_pending(app, report)
        for mid in report.filed_later:  # held mail filed now: $Filed on it too, when it is in this mailbox
            where, validity, uid = app.ledger.position_of(mid)
            if (where, validity) == (source.name, uidvalidity):
                source.mark_filed(uid)
    app.ledger.event("poll", "ok", report.summary())
    log.info("poll %s: fetched=%d filed=%d held=%s confirmed=%d acks_queued=%d", source.name, report.fetched,
             report.filed, report.held, report.confirmed, report.acks_queued)
    return report


def file_message(app: App, source: str, uidvalidity: int, fetched: Fetched, report: PollReport,
                 reading: Reading | None = None) -> str:
    """Archive and record one fetched mail; returns the ledger status it got. READING: what
    prepare.read learnt of it (the read-ahead worker's), else it is read here."""
    received = fetched.internaldate.astimezone(app.config.timezone)
    base = dict(source=source, uidvalidity=uidvalidity, uid=fetched.uid, received_at=received,
                size=fetched.size, campaign=app.campaign.id)
    if fetched.raw is None:
        limit = app.config.max_message_bytes // (1024 * 1024)
        reason = (f"邮件大小 {fetched.size / 1048576:.1f} MB，超过上限 {limit} MB，未下载。"
                  f"请在邮箱网页版查看，或调大 [limits] max_message_mb。")
        with app.ledger.transaction():
            app.ledger.add_message(**base, status=Status.OVERSIZE, reason=reason)
            app.ledger.set_source_position(source, uidvalidity, fetched.uid)
        report.held[Status.OVERSIZE] = report.held.get(Status.OVERSIZE, 0) + 1
        return Status.OVERSIZE
    raw = fetched.raw
    app.archive.take_collisions()      # left over from a mail that failed half-way: found again below
    base["sha256"] = digest = _sha(raw)
    earlier = app.ledger.same_mail_before(source, uidvalidity, digest)
    if earlier is not None:
        with app.ledger.transaction():
            app.ledger.add_message(**(base | {"sha256": earlier.sha256}), message_id=earlier.message_id,
                                   subject=earlier.subject, from_addr=earlier.from_addr,
                                   from_name=earlier.from_name, status=Status.RESYNCED, duplicate_of=earlier.id,
                                   reason=f"邮箱已重新编号（UIDVALIDITY 变化），这封邮件此前已于"
                                          f"{earlier.received_at:%Y-%m-%d} 登记，不再重复处理。")
            app.ledger.set_source_position(source, uidvalidity, fetched.uid)
        report.held[Status.RESYNCED] = report.held.get(Status.RESYNCED, 0) + 1
        return earlier.status
    if reading is None:
        reading = read(app, raw, received)
    verdict, mail, who = reading.verdict, reading.mail, reading.who
    way = None
    try:
        if mail is None:
            raise _Unreadable(reading.error or "")
        app, who, decision, way = decide_mail(app, mail, reading, received)
    except Exception as exc:   # parse never raises by contract; this is the last line of defence
        log.exception("could not read uid %s", fetched.uid)
        mail, who = None, Identity(None, False, None, "")
        name = exc.args[0] if isinstance(exc, _Unreadable) and exc.args[0] else exc.__class__.__name__
        decision = Decision(Status.UNPARSABLE, f"无法解析这封邮件：{name}。原文已保存，请人工查看。")
    base["campaign"] = None if decision.status == Status.UNSORTED else app.campaign.id
    header = _header_fields(mail)
    if decision.status != FILED:
        return _hold(app, base, header, raw, mail, who, decision, report, verdict)
    try:
        submission = prepare_submission(app, mail, who, received, raw, fetched.uid, reading=reading)
    except OSError:
        raise                          # disk full, permissions: stop and retry this mail next poll
    except Exception as exc:           # a bug must not wedge the mailbox on one mail: hold it
        log.exception("could not file uid %s", fetched.uid)
        error = Decision(Status.ERROR, f"处理这封邮件时程序出错（{exc.__class__.__name__}），原文和附件已保存，"
                                  f"请人工处理，并把日志 {app.config.log.name} 发给维护人员。")
        return _hold(app, base, header, raw, mail, who, error, report)
    crashpoint("archived")
    with app.ledger.transaction():
        mid = app.ledger.add_message(**(base | header | submission.message_fields()),
                                     problems=list(mail.problems))
        submission.record(app, mid)
        _record_verdict(app, mid, verdict)
        _record_collisions(app)
        if decision.reply == REPLY_ACK and queue_ack(app, mid, mail):
            report.acks_queued += 1
        app.ledger.set_source_position(source, uidvalidity, fetched.uid)
    if submission.status == Status.FILED:
        report.filed += 1
    else:
        report.held[submission.status] = report.held.get(submission.status, 0) + 1
    return submission.status


def decide_mail(app: App, mail: ParsedMail, reading: Reading, received: datetime
                ) -> tuple[App, Identity, Decision, Route]:
    """What becomes of a read mail, decided once (the poll, `inspect`): its campaign (the app
    about it), who sent it, the decision chain's outcome — 待分拣 when it would be filed but its
    campaign is unknown."""
    way = route_of(app, mail, reading)
    app = app.for_campaign(way.campaign or app.campaign.id)   # the first campaign's words for 待分拣
    who = reading.who if way.campaign == reading.campaign else identify_sender(app, mail, reading.verdict)
    decision = decide(incoming(app, mail, who, received, reading.verdict))
    if way.campaign is None and (decision.status == FILED or decision.reply == REPLY_NOFILE):
        decision = Decision(Status.UNSORTED, f"{way.reason}。请确认后用 mailbot assign 编号 活动编号 登记"
                                             f"（编号见跟踪表“提交记录”或每日汇总）。", trail=(*decision.trail, "route"))
    return app, who, decision, way


def route_of(app: App, mail: ParsedMail, reading: Reading) -> Route:
    """The campaign of a mail: a reply to one of ours goes where ours came from; otherwise the
    words and dates the read-ahead weighed (route.py)."""
    if len(app.campaigns) == 1:
        return Route(app.campaign.id, "")
    ids = msg_ids(mail.header("In-Reply-To") or "") + msg_ids(mail.header("References") or "")
    threaded = route.by_thread(list(app.campaigns.values()), app.ledger.campaigns_answered(ids))
    return threaded or reading.route or route.by_content(list(app.campaigns.values()), subject=mail.subject,
                                                         file_names=[a.filename or "" for a in mail.attachments],
                                                         text="", received=mail.date.date() if mail.date else app.today)


class _Unreadable(Exception):
    """prepare.read could not parse the mail (its exception's class name)."""


def _record_verdict(app: App, mid: int, verdict: authenticity.Verdict) -> None:
    retry_until = None
    if verdict.level == authenticity.PENDING:
        retry_until = datetime.now(app.config.timezone) + timedelta(hours=app.config.dns_retry_hours)
    app.ledger.set_trust(mid, verdict.level, verdict.reason, list(verdict.evidence), retry_until)


def _hold(app: App, base: dict[str, Any], header: dict[str, Any], raw: bytes, mail: ParsedMail | None,
          who: Identity, decision: Decision, report: PollReport,
          verdict: authenticity.Verdict | None = None) -> str:
    """Keep a mail that is not (yet) a submission: raw and attachments archived, one ledger row."""
    status, reason = decision.status, decision.reason
    if status == Status.QUERY:         # about every campaign: kept with the first one's, recorded under none
        app, base = app.for_campaign(next(iter(app.campaigns))), base | {"campaign": None}
    day, uid = base["received_at"].date().isoformat(), base["uid"]
    folder = Status(status).folder_for(who.unit)
    prefix = f"{day}_邮件{uid}"
    # held mail keeps its attachments too, beside its raw mail, so nothing must be dug out later
    used: dict[str, tuple[str, str]] = {}
    attached = list(mail.attachments if mail else ())
    raw_path, *paths = app.archive.store_all(folder, [(f"{prefix}.eml", raw), *(
        (_unique(attachment_name(prefix, _display_name(a)), a.sha256, used), a.data) for a in attached)])
    held_files = list(zip(attached, paths))
    problems = list(mail.problems) if mail else []
    problems += [w for a in (mail.attachments if mail else ()) if (w := hidden_characters_warning(a.filename))]
    crashpoint("archived")
    with app.ledger.transaction():
        mid = app.ledger.add_message(**base, **header, status=status, reason=reason,
                                     unit=who.unit, kind=who.kind, raw_path=raw_path, problems=problems)
        _record_collisions(app)
        for seq, (a, path) in enumerate(held_files, start=1):
            app.ledger.add_attachment(mid, seq, filename=a.filename, content_type=a.content_type,
                                      size=a.size, sha256=a.sha256, path=path)
        if verdict is not None:
            _record_verdict(app, mid, verdict)
        if decision.reply == REPLY_NOFILE and mail is not None and queue_missing_files_ack(app, mid, mail):
            report.acks_queued += 1
        if decision.reply == REPLY_QUERY and mail is not None and queue_query_reply(app, mid, mail):
            report.acks_queued += 1
        app.ledger.set_source_position(base["source"], base["uidvalidity"], uid)
    report.held[status] = report.held.get(status, 0) + 1
    return status


def _record_collisions(app: App) -> None:
    """Names the archive refused because an earlier, different file holds them (inside the
    caller's transaction): a warning the digest shows."""
    for c in app.archive.take_collisions():
        log.warning("archive name collision: %s kept, new bytes stored as %s", c.wanted, c.kept)
        app.ledger.event("archive", "warning", c.text())


def _sha(data: bytes) -> str:
    from mailbot.store.archive import sha256
    return sha256(data)


def _header_fields(mail: ParsedMail | None) -> dict[str, Any]:
    if mail is None:
        return {}
    return dict(message_id=mail.message_id, subject=mail.subject, from_addr=mail.from_addr,
                from_name=mail.from_name, date_header=mail.date.isoformat() if mail.date else None)


def incoming(app: App, mail: ParsedMail, who: Identity, received: datetime,
             verdict: authenticity.Verdict) -> Incoming:
    """The facts the decision chain (decide.py) needs about one mail."""
    cfg, day = app.config, received.date()
    return Incoming(mail=mail, who=who, received=day, verdict=verdict, own_addresses=cfg.own_addresses,
                    accept_from=app.campaign.accept_from, dns_retry_hours=cfg.dns_retry_hours,
                    filed_today_by_sender=app.ledger.filed_on(day.isoformat(), from_addr=mail.from_addr),
                    filed_today_for_unit=app.ledger.filed_on(day.isoformat(), unit=who.unit) if who.unit else 0,
                    max_per_sender=cfg.max_filed_per_sender_per_day, max_per_unit=cfg.max_filed_per_unit_per_day,
                    queries_today_for_unit=queries_on(app, day, who.unit) if who.unit and is_query(mail) else 0,
                    max_queries_per_unit=cfg.max_queries_per_unit_per_day,
                    empty_return=check.empty_return_word(own_text(mail.body_text), mail.subject, app.campaign, who.kind)
                    if who.kind in app.campaign.kinds and not mail.attachments else None)


def queries_on(app: App, day: date, unit: str) -> int:
    """查询 mails recorded from UNIT that arrived on DAY (office time): the daily answer cap counts them."""
    tz = app.config.timezone
    return sum(1 for m in app.ledger.messages(Status.QUERY)
               if m.unit == unit and m.received_at.astimezone(tz).date() == day)


# --- a submission: archive, read, check --------------------------------------------------

@dataclass
class StoredFile:
    attachment: Attachment
    path: str
    docs: list[Any]            # docread.DocText
    results: list[Any]         # check.CheckResult per readable doc


@dataclass
class Submission:
    unit: str
    kind: str
    version: int | None          # None: a supplement
    duplicate_of: int | None
    raw_path: str
    files: list[StoredFile]
    outcome: str | None          # None: a supplement (not checked)
    facts: dict[str, Any]
    body_results: list[Any] = field(default_factory=list)   # checks of the mail text itself
    copied_findings: list[FindingRecord] = field(default_factory=list)  # a resend shares its original's findings
    file_outcomes: dict[str, str | None] = field(default_factory=dict)   # …and per-file results
    supplement: Supplement | None = None   # attached to an earlier submission, not a version of its own
    campaign: str | None = None            # the campaign it is filed in

    @property
    def status(self) -> Status:
        return Status.SUPPLEMENT if self.supplement else Status.FILED

    def message_fields(self) -> dict[str, Any]:
        sup = self.supplement
        return dict(status=self.status, reason=sup.reason if sup else None, unit=self.unit, kind=self.kind,
                    version=self.version, duplicate_of=self.duplicate_of, outcome=self.outcome, facts=self.facts,
                    raw_path=self.raw_path, supplement_of=sup.target.id if sup else None, campaign=self.campaign)

    def record(self, app: App, mid: int) -> None:
        for seq, f in enumerate(self.files, start=1):
            a = f.attachment
            readable = [d for d in f.docs if d.readable]
            reason = "；".join(d.reason for d in f.docs if d.reason) or None
            outcome = Outcome.worst([r.outcome for r in f.results]) if f.results else (
                Outcome.HUMAN if f.docs and not readable and not self.supplement else self.file_outcomes.get(a.sha256))
            aid = app.ledger.add_attachment(mid, seq, filename=a.filename, content_type=a.content_type,
                                            size=a.size, sha256=a.sha256, path=f.path,
                                            doc_kind=",".join(sorted({d.kind for d in f.docs})) or None,
                                            outcome=outcome, reason=reason)
            for r in f.results:
                for fd in r.findings:
                    app.ledger.add_finding(mid, aid, fd.rule, fd.severity, fd.item, fd.message, fd.clause)
            for d in f.docs:
                if not d.readable and not self.supplement:
                    app.ledger.add_finding(mid, aid, "unreadable", Severity.HINT, "无法读取",
                                           f"{d.name}：{d.reason or '无法读取文字'}", "")
            hidden = hidden_characters_warning(a.filename)
            if hidden and not any(r.rule == "filename" and r.text == hidden for r in self.copied_findings):
                app.ledger.add_finding(mid, aid, "filename", Severity.HINT, "文件名", hidden, "")
        for r in self.body_results:
            for fd in r.findings:
                app.ledger.add_finding(mid, None, fd.rule, fd.severity, fd.item, fd.message, fd.clause)
        for row in self.copied_findings:
            app.ledger.add_finding(mid, None, row.rule, row.severity, row.item, row.text, row.clause)


def prepare_submission(app: App, mail: ParsedMail, who: Identity, received: datetime, raw: bytes,
                       uid: int, *, reading: Reading | None = None) -> Submission:
    """Archive the files of a unit's mail and check its documents (no ledger writes). The
    documents READING read and checked (prepare.read) are used when it read them for WHO."""
    assert who.unit is not None
    files_in = list(mail.attachments)
    docs_by_file = results_by_file = kind = None
    if reading is not None and reading.docs is not None:
        docs_by_file = reading.docs            # read alike whatever the campaign
        if reading.who == who and reading.campaign == app.campaign.id and reading.kind is not None:
            kind, results_by_file = reading.kind, reading.results
    if docs_by_file is None:
        docs_by_file = read_documents(app, mail)
    if kind is None:
        kind = kind_of(app, who, mail, docs_by_file)
    links = large_attachment_links(mail.body_text)
    body_docs = [] if files_in else [
        docread.DocText(name="邮件正文", kind="text", text=own_text(mail.body_text), readable=not links,
                        reason=(LARGE_ATTACHMENT_REASON + "（" + "、".join(links[:3]) + "）") if links else None)]
    label = app.campaign.kind(kind).label
    digests = [a.sha256 for a in files_in]
    day = received.date().isoformat()
    dup = app.ledger.filed_with_same_files(who.unit, kind, digests, app.campaign.id)
    folder = f"{who.unit}/{label}"
    stored: list[StoredFile] = []
    if dup is not None:
        # the same files again: nothing new to store or check; it shares the original's result
        original = app.ledger.message(dup)
        earlier = {r.sha256: r for r in app.ledger.attachments(dup)}
        raw_path = app.archive.store(folder, f"{day}_v{original.version}.邮件{uid}.eml", raw)
        return Submission(who.unit, kind, original.version or 1, dup, raw_path,
                          [StoredFile(a, earlier[a.sha256].path, [], []) for a in files_in],
                          original.outcome or Outcome.HUMAN, original.facts,
                          copied_findings=app.ledger.findings(dup),
                          file_outcomes={sha: r.outcome for sha, r in earlier.items()}, campaign=app.campaign.id)
    if results_by_file is None:
        results_by_file = check_files(app, docs_by_file, kind, who.unit, received, mail.subject)
    sup = None
    if not any(docsandbox.refused(d) for docs in docs_by_file for d in docs):
        sup = supplement.classify(app.campaign, subject=mail.subject, file_names=[_display_name(a) for a in files_in],
                                  docs_by_file=docs_by_file, results_by_file=results_by_file,
                                  current=lambda: app.ledger.current_submissions([who.unit], campaign=app.campaign.id),
                                  named_kind=who.kind)
    if sup is not None:
        # kept beside the submission it belongs to, named after it; not checked, no version
        kind, target = sup.target.kind, sup.target
        prefix = f"{day}_v{target.version or 1}补充"
        folder = f"{who.unit}/{app.campaign.kind(kind).label}"
    else:
        version = _next_version(app, who.unit, kind, received, mail.subject)
        prefix = f"{day}_v{version}"
    used: dict[str, tuple[str, str]] = {}
    names = [_unique(attachment_name(prefix, _display_name(a)), a.sha256, used) for a in files_in]
    # '.' after the prefix: never an attachment's name (names.py); one folder, fsynced together
    *paths, raw_path = app.archive.store_all(folder, [*zip(names, (a.data for a in files_in)),
                                                      (f"{prefix}.邮件{uid}.eml", raw)])
    if sup is not None:
        return Submission(who.unit, kind, None, None, raw_path,
                          [StoredFile(a, path, docs, []) for a, path, docs in zip(files_in, paths, docs_by_file)],
                          None, {}, supplement=sup, campaign=app.campaign.id)
    for a, path, docs, results in zip(files_in, paths, docs_by_file, results_by_file):
        stored.append(StoredFile(a, path, docs, results))
    body_results = [check_doc(app, d, kind, who.unit, received, mail.subject) for d in body_docs]
    checked = [(d, r) for f in stored for d, r in zip([d for d in f.docs if d.readable], f.results)]
    checked += list(zip(body_docs, body_results))
    results = [r for _d, r in checked]
    if results:
        outcome = Outcome.worst([r.outcome for r in results])
        doc, primary = min(checked, key=lambda dr: sum(1 for f in dr[1].findings if f.severity == Severity.ERROR))
        facts = primary.facts.as_json()
        if getattr(doc, "source", "text") == "ocr":
            facts["source"] = "ocr"          # read from a scan: the 回执 says "（据扫描件识别）"
    else:
        outcome, facts = Outcome.HUMAN, {}
    if any(docsandbox.refused(d) for f in stored for d in f.docs):
        outcome = Outcome.worst([outcome, Outcome.HUMAN])    # over a budget or hostile: a person reads the rest
    return Submission(who.unit, kind, version, dup, raw_path, stored, outcome, facts, body_results,
                      campaign=app.campaign.id)


def _next_version(app: App, unit: str, kind: str, received: datetime, subject: str) -> int:
    """The unit's next version of KIND — of that period, for a recurring return (2月's first
    return is its 第1版, whatever January had)."""
    camp = app.campaign
    if camp.kind(kind).every is None:
        return app.ledger.next_version(unit, kind, camp.id)
    period = camp.period_of(kind, received.date(), subject)
    same = [m for m in app.ledger.current_submissions([unit], campaign=camp.id) if m.kind == kind
            and camp.period_of(kind, m.received_at.date(), m.subject) == period]
    return max((m.version or 0 for m in same), default=0) + 1


def _display_name(a: Attachment) -> str:
    if a.filename:
        return a.filename
    return "附件.eml" if a.content_type == "message/rfc822" else "附件"


def _unique(name: str, sha256: str, used: dict[str, tuple[str, str]]) -> str:
    """NAME, or `NAME(2)`… when another file of the same mail took it (letter case ignored, as on
    an office PC: Plan.docx and plan.DOCX are one name there); identical bytes share one file."""
    n = 1
    while (held := used.get(numbered(name, n).casefold())) is not None and held[1] != sha256:
        n += 1
    return used.setdefault(numbered(name, n).casefold(), (numbered(name, n), sha256))[0]


# --- held mail: confirmed, re-decided, accepted -----------------------------------------------

class HeldMailError(Exception):
    """A held mail cannot be filed now (its archived copy is missing or altered); Chinese text."""


def _held_raw(app: App, msg: Any) -> bytes:
    """The held mail's archived bytes, checked against the sha256 recorded when it arrived."""
    if not msg.raw_path:
        raise HeldMailError(f"编号 {msg.id} 的邮件没有存档原文，无法登记。")
    path = app.archive.base / msg.raw_path
    try:
        raw = path.read_bytes()
    except OSError:
        raise HeldMailError(f"编号 {msg.id} 的存档原文 {path} 找不到了（被移动或删除？），无法登记；"
                            f"请运行 mailbot verify 检查档案。") from None
    if msg.sha256 and _sha(raw) != msg.sha256:
        raise HeldMailError(f"编号 {msg.id} 的存档原文 {path} 与收到时的内容不一致（被改动过），拒绝登记；"
                            f"请运行 mailbot verify 检查档案，并到邮箱中找回原邮件。")
    return raw


def file_held(app: App, msg: Any, raw: bytes, who: Identity, reason: str,
              report: PollReport | None = None) -> None:
    """File a held mail as WHO's submission and acknowledge it, in one transaction."""
    mail = parse_message(raw)
    sub = prepare_submission(app, mail, who, msg.received_at.astimezone(app.config.timezone), raw, msg.uid)
    with app.ledger.transaction():
        app.ledger.retire_files(msg.id)    # its held copies stay recorded for `mailbot verify`
        fields = sub.message_fields()
        if fields["reason"] is None:
            fields["reason"] = reason
        app.ledger.update_message(msg.id, **fields)
        app.ledger.clear_files(msg.id)
        _record_collisions(app)
        sub.record(app, msg.id)
        if queue_ack(app, msg.id, mail) and report is not None:
            report.acks_queued += 1
    if report is not None:
        report.filed_later.append(msg.id)


def campaign_app(app: App, msg: Any) -> App:
    """APP about the campaign held mail MSG was routed to (the primary one when it has none, or
    one no longer configured)."""
    return app.for_campaign(msg.campaign if msg.campaign in app.campaigns else app.campaign.id)


def _answered_as_query(app: App, msg: Any, mail: ParsedMail, who: Identity, verdict: authenticity.Verdict,
                       report: PollReport | None) -> bool:
    """A held mail now known to be a unit's 查询: recorded as one (answered within the day's
    limit, as the poll would have), never filed as a submission. False for anything else."""
    if not is_query(mail):
        return False
    decision = decide(incoming(app, mail, who, msg.received_at.astimezone(app.config.timezone), verdict))
    if decision.status != Status.QUERY:
        return False
    with app.ledger.transaction():
        app.ledger.update_message(msg.id, status=Status.QUERY, unit=who.unit, campaign=None, reason=decision.reason)
        _record_verdict(app, msg.id, verdict)
        if decision.reply == REPLY_QUERY and queue_query_reply(app, msg.id, mail) and report is not None:
            report.acks_queued += 1
    return True


def confirm_waiting(app: App, report: PollReport | None = None) -> int:
    """待确认 mail whose sender the office has since added to units.csv: file and acknowledge it
    — unless its sender turns out not to be genuine, then it waits as 待核实."""
    confirmed = 0
    for msg in app.ledger.messages(Status.UNCONFIRMED):
        unit = app.roster.by_email(msg.from_addr)
        if unit is None or not msg.raw_path:
            continue
        try:
            raw = _held_raw(app, msg)
            capp = campaign_app(app, msg)
            verdict = assess(app, raw)
            mail = parse_message(raw)
            who = identify_sender(capp, mail, verdict)
            if not verdict.trusted or who.unit is None:
                reason = decide(incoming(capp, mail, who, msg.received_at.astimezone(app.config.timezone), verdict)).reason
                with app.ledger.transaction():
                    app.ledger.update_message(msg.id, status=Status.UNTRUSTED, unit=who.unit or unit.name, reason=reason)
                    _record_verdict(app, msg.id, verdict)
                continue
            if _answered_as_query(capp, msg, mail, who, verdict, report):
                continue
            file_held(capp, msg, raw, who, f"发件地址已加入单位名单，确认为{unit.name}", report)
        except HeldMailError as exc:
            app.ledger.event("poll", "error", str(exc))
            continue
        except OSError:
            raise                      # the machine (disk, permissions): the poll stops, retried later
        except Exception as exc:       # one held mail must not wedge every later poll
            _held_failed(app, msg, exc)
            continue
        confirmed += 1
    return confirmed


def recheck_pending(app: App, report: PollReport | None = None) -> int:
    """待核实 mail held because the DKIM key could not be fetched: decide again now; after
    [security] dns_retry_hours, decide by the policy with the key counted as unavailable."""
    filed = 0
    now = datetime.now(app.config.timezone)
    for msg, retry_until in app.ledger.pending_trust():
        try:
            raw = _held_raw(app, msg)
            capp = campaign_app(app, msg)
            verdict = assess(app, raw, dns_given_up=retry_until is None or now >= retry_until)
            if verdict.level == authenticity.PENDING:
                continue
            mail = parse_message(raw)
            who = identify_sender(capp, mail, verdict)
            if not verdict.trusted or who.unit is None:
                reason = decide(incoming(capp, mail, who, msg.received_at.astimezone(app.config.timezone), verdict)).reason
                with app.ledger.transaction():
                    app.ledger.update_message(msg.id, reason=reason)
                    _record_verdict(app, msg.id, verdict)
                continue
            with app.ledger.transaction():
                _record_verdict(app, msg.id, verdict)
                if who.confirmed and _answered_as_query(capp, msg, mail, who, verdict, report):
                    pass
                elif who.confirmed:
                    file_held(capp, msg, raw, who, "DNS 恢复后核对了发件人签名，已登记" +
                              (f"（{verdict.reason}）" if verdict.reason else ""), report)
                    filed += 1
                else:
                    app.ledger.update_message(msg.id, status=Status.UNCONFIRMED, reason=who.how +
                                              "。把该地址加入 rules/units.csv 后，下一次收信会确认并发送回执。")
        except HeldMailError as exc:
            app.ledger.event("poll", "error", str(exc))
        except OSError:
            raise
        except Exception as exc:
            _held_failed(app, msg, exc)
    return filed


def _held_failed(app: App, msg: Any, exc: Exception) -> None:
    log.exception("held message %s could not be re-decided", msg.id)
    app.ledger.event("poll", "error", f"暂存的邮件（编号 {msg.id}，{msg.from_addr}“{msg.subject}”）重新处理时程序出错"
                                      f"（{exc.__class__.__name__}），已跳过，其他邮件照常处理；请把日志 "
                                      f"{app.config.log.name} 发给维护人员。")


def _held_message(app: App, mid: int) -> Any:
    try:
        return app.ledger.message(mid)
    except Exception:
        raise HeldMailError(f"台账中没有编号 {mid} 的邮件。") from None


def accept(app: App, mid: int, unit_name: str | None = None) -> str:
    """`mailbot accept`: the office vouches for a held mail (after a phone call): file it as the
    unit's submission and acknowledge it. Returns a Chinese sentence; raises HeldMailError."""
    msg = _held_message(app, mid)
    if msg.status not in ACCEPTABLE:
        raise HeldMailError(f"编号 {mid} 的邮件状态是“{msg.status.label}”，只有"
                            f"{'或'.join(s.label for s in ACCEPTABLE)}的邮件可以用 accept 接收。")
    app = campaign_app(app, msg)
    raw = _held_raw(app, msg)
    mail = parse_message(raw)
    who = identify(mail, app.campaign, app.roster)
    name = unit_name or msg.unit or who.unit
    unit = app.roster.by_name(name) if name else None
    if unit is None:
        raise HeldMailError(f"无法确定编号 {mid} 的邮件属于哪个单位，请用 --unit 指定（单位名单见 rules/units.csv）。")
    who = Identity(unit.name, True, who.kind, f"工作人员核实后接收，登记为{unit.name}")
    with app.ledger.transaction():
        file_held(app, msg, raw, who, f"工作人员核实后接收（原因：{msg.reason or msg.status.label}）")
        app.ledger.set_trust(mid, "accepted", "工作人员核实后接收", [], None)
        app.ledger.event("accept", "ok", f"编号 {mid}（{msg.from_addr}“{msg.subject}”）由工作人员核实后登记为{unit.name}")
    return _filed_text(app, mid, f"已接收编号 {mid}：登记为{unit.name}")


def assign(app: App, mid: int, campaign_id: str) -> str:
    """`mailbot assign`: a 待分拣 mail belongs to campaign CAMPAIGN_ID: file it there (unit,
    kind, checks, 回执 as a poll would). Returns a Chinese sentence; raises HeldMailError."""
    msg = _held_message(app, mid)
    if msg.status != Status.UNSORTED:
        raise HeldMailError(f"编号 {mid} 的邮件状态是“{msg.status.label}”，只有“{Status.UNSORTED.label}”"
                            f"的邮件需要用 assign 指定收集项目。")
    if campaign_id not in app.campaigns:
        known = "、".join(f"{c.id}（{c.title}）" for c in app.campaigns.values())
        raise HeldMailError(f"没有编号为“{campaign_id}”的收集项目。已配置的：{known}。")
    app = app.for_campaign(campaign_id)
    raw = _held_raw(app, msg)
    verdict = assess(app, raw)
    mail = parse_message(raw)
    who = identify_sender(app, mail, verdict)
    if who.unit is None:
        raise HeldMailError(f"编号 {mid} 的邮件无法确定属于哪个单位，请先核实发件人。")
    with app.ledger.transaction():
        file_held(app, msg, raw, who, f"工作人员指定归入“{app.campaign.title}”")
        app.ledger.event("assign", "ok", f"编号 {mid}（{msg.from_addr}“{msg.subject}”）归入“{app.campaign.title}”，"
                                         f"登记为{who.unit}")
    return _filed_text(app, mid, f"已将编号 {mid} 归入“{app.campaign.title}”：登记为{who.unit}")


def _filed_text(app: App, mid: int, head: str) -> str:
    filed = app.ledger.message(mid)
    what = app.campaign.kind(filed.kind).label
    if filed.status == Status.SUPPLEMENT:
        return f"{head} {what}的补充材料，回执已排队。"
    return f"{head} {what} 第{filed.version}版，回执已排队。"
