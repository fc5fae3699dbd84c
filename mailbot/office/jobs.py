"""The office's jobs, in one place: what `mailbot poll/remind/digest/workbook/review/accept/verify`,
the daemon (`mailbot run`), `mailbot demo` and the tests all run.

    jobs = Jobs(app)
    jobs.poll()        # the workbook's hand-kept columns read back (only if the file changed since
                       # we wrote it), the roster reloaded, new mail filed, held mail re-decided
    jobs.deliver()     # send what is queued and due
    jobs.remind(day)   # queue the day's 催报
    jobs.workbook()    # compile the tracking workbook (only if the ledger or the day changed)
    jobs.digest(day)   # queue the day's 每日汇总, a fresh workbook attached
    jobs.day(day)      # a whole day: poll → remind → workbook → digest → deliver (demo, tests)
    jobs.announce(id)  # queue a campaign's kickoff mail (with its 填报表) to every unit, once each
    jobs.export(id)    # the archive room's .zip: latest files, workbook, index

Cost stays flat in mailbox size: an idle poll neither reads nor rewrites the workbook. The ledger
counts its own changes (`Ledger.generation`, kept by triggers); the workbook is compiled when that
count or the day differs from the last compile, or the file is gone; it is read back when its size
or modification time differs from what we last wrote or read.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from mailbot.app import App

log = logging.getLogger("mailbot.jobs")

K_WORKBOOK = "workbook.state"      # {"generation", "day", "path", "stat"}: the last compile / read


@dataclass(frozen=True)
class DayReport:
    """What one simulated (or real) day did: for `mailbot demo` and the campaign tests."""
    day: date
    poll: Any
    reminders: int
    digest: bool
    delivered: Any
    workbook: Any


@dataclass(frozen=True)
class Unchanged:
    """`Jobs.workbook()` when nothing changed since the last compile: the file as it is."""
    path: Path
    locked_copy: bool = False
    warnings: tuple[str, ...] = ()


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


class Jobs:
    def __init__(self, app: App):
        self.app = app
        self._calendar = None
        self._sent_while_polling = None      # the DeliveryReport of the last poll's sending, until deliver()

    # --- shared pieces ------------------------------------------------------------------
    def calendar(self):
        from mailbot.office.workcalendar import WorkCalendar
        if self._calendar is None:
            self._calendar = WorkCalendar.load(self.app.config.rules)
        return self._calendar

    @property
    def scope(self) -> str:
        """"" for the first configured campaign, else this campaign's id (App.for_campaign)."""
        app = self.app
        return "" if app.campaign.id == next(iter(app.campaigns)) else app.campaign.id

    def each(self) -> "list[Jobs]":
        """One Jobs per configured campaign, the first one being this (for the primary app)."""
        if len(self.app.campaigns) == 1:
            return [self]
        out = []
        for view in self.app.each_campaign():
            j = self if view is self.app else Jobs(view)
            j._calendar = self._calendar
            out.append(j)
        return out

    def _key(self) -> str:
        return K_WORKBOOK + (f":{self.scope}" if self.scope else "")

    def _state(self) -> dict[str, Any]:
        try:
            return json.loads(self.app.ledger.get_meta(self._key()) or "{}")
        except ValueError:
            return {}

    def _remember(self, **fields: Any) -> None:
        state = self._state() | fields
        with self.app.ledger.transaction():
            self.app.ledger.set_meta(self._key(), json.dumps(state))

    # --- the jobs ----------------------------------------------------------------------
    def sync_workbook(self) -> int:
        """Hand-kept columns typed by the clerk → ledger; 审核状态 changes → review decisions,
        exactly once, in every campaign's workbook. Reads a file only when it changed since we
        last wrote or read it."""
        return sum(j._sync_one() for j in self.each())

    def _sync_one(self) -> int:
        app = self.app
        path = Path(app.config.workbook)
        stat = _stat(path)
        if stat is None or stat == self._state().get("stat"):
            return 0
        from mailbot.office import review, workbook  # openpyxl costs ~0.35 s to import: only when needed
        values = workbook.read_back(path)
        decided = 0
        if values:
            with app.ledger.transaction():     # a crash between the two must not lose a decision
                changed = workbook.keep_hand_columns(app.ledger, values, self.scope)
                if changed:
                    decided = len(review.apply_workbook_decisions(
                        app.ledger, app.config, app.campaign, app.roster, changed, app.today,
                        templates=app.templates))
        self._remember(stat=stat)
        return decided

    def poll(self, *, real_day: bool = False):
        """Fetch and file new mail once (pipeline.poll), after reading the workbook back and
        reloading the roster. `real_day`: a long-running process moves `today` with the clock."""
        from mailbot.store.faults import carry_over
        from mailbot.office.pipeline import poll
        from mailbot.mailout.deliver import Session
        app = self.app
        if real_day and not app.pretend:
            app.today = datetime.now(app.config.timezone).date()
        self.sync_workbook()
        app.reload_roster()            # the office may have added an address to units.csv
        # each batch's 回执 go out as soon as it is committed, while the next mails are read (unless
        # another program is sending: then the queue is its, and `deliver` afterwards)
        with Session(app, wait=False) as sending:
            report = poll(app, after_commit=lambda: self._send_step(sending))
        self._sent_while_polling = sending.report
        carry_over(app.ledger, app.config.ledger)   # a fault remembered beside the ledger: now an event
        return report

    @staticmethod
    def _send_step(sending) -> None:
        """One sending step of the poll. The ledger or the disk failing stops the poll as it
        would stop filing (nothing is lost: the batch is committed; the next run sends). Anything
        else — a broken [smtp] section, a bug — is not receiving's problem: sending stops here
        and `deliver` afterwards meets it again and reports it in Chinese."""
        import sqlite3
        try:
            sending.step()
        except (sqlite3.Error, OSError):
            raise
        except Exception as exc:
            log.warning("sending during the poll stopped (%s: %s); the queue is sent afterwards",
                        type(exc).__name__, exc)
            log.debug("sending during the poll stopped", exc_info=True)
            sending.active = False

    def deliver(self):
        """Send what is queued and due; the report counts the mail the last poll already sent."""
        from mailbot.mailout.deliver import deliver
        report = deliver(self.app)
        early, self._sent_while_polling = self._sent_while_polling, None
        return report.after(early) if early is not None else report

    def workbook(self, *, force: bool = False):
        """Compile every campaign's workbook when the ledger or the day changed since its last
        compile (or the file is gone); returns this campaign's result (the first one's)."""
        results = self.workbooks(force=force)
        return results[0]

    def workbooks(self, *, force: bool = False) -> list:
        """Each campaign's workbook (jobs.workbook), in config order."""
        return [j._workbook_one(force=force) for j in self.each()]

    def _workbook_one(self, *, force: bool = False):
        app = self.app
        state = self._state()
        path = Path(app.config.workbook)
        generation = app.ledger.generation()
        if (not force and state.get("generation") == generation and state.get("day") == app.today.isoformat()
                and state.get("path") == str(path) and state.get("stat") is not None
                and _stat(path) == state.get("stat")):
            return Unchanged(path)
        from mailbot.office import workbook  # openpyxl costs ~0.35 s to import: only when compiling
        self._sync_one()               # an edit the clerk saved is read before the file is replaced
        result = workbook.compile(app.ledger, app.campaign, app.roster, app.config, app.today,
                                  is_workday=self.calendar().is_workday, read_old=False, scope=self.scope)
        fields: dict[str, Any] = dict(generation=app.ledger.generation(), day=app.today.isoformat(), path=str(path))
        if not result.locked_copy:
            fields["stat"] = _stat(path)
        self._remember(**fields)
        return result

    def remind(self, day: date | None = None, *, dry_run: bool = False):
        """(reminders, Chinese report) for DAY (default: app.today)."""
        from mailbot.office import remind
        app = self.app
        if day is not None:
            app.today = day
        if len(app.campaigns) == 1:
            return remind.run_remind(app.ledger, app.config, app.campaign, app.roster, app.today, dry_run=dry_run,
                                     templates=app.templates, cal=self.calendar())
        cal = self.calendar()
        chosen = self._plan_reminders(app.today)
        if dry_run:
            texts = [f"【{c.title}】\n" + (remind.format_reminders(rs, app.today, cal, dry_run=True) or "无")
                     for c, rs in chosen]
            every = [r for _c, rs in chosen for r in rs]
            return every, "\n\n".join(texts + [remind.planned_volume(app.ledger, app.config, every)])
        done = self.queue_reminders(app.today)
        return done, remind.format_reminders(done, app.today, cal, dry_run=False)

    def _plan_reminders(self, day: date) -> list:
        """[(campaign, its reminders of DAY)] over every campaign, one mail per unit per day."""
        from mailbot.office import remind
        app, cal = self.app, self.calendar()
        from mailbot.office.progress import unit_states
        plans, reminded = {}, set()
        for view in app.each_campaign():
            states = unit_states(app.ledger, view.campaign, app.roster, day)
            for r in remind.plan_reminders(app.ledger, view.campaign, app.roster, cal, day, states=states,
                                           office_cc=app.config.digest_to, include_queued=True):
                plans[id(r)] = (view.campaign, r)
            # a unit reminded earlier today (by any campaign) gets nothing more, whatever it sent since
            reminded |= remind.units_reminded(app.ledger, view.campaign, app.roster, cal, day, states=states)
        keep = {id(r) for r in remind.one_per_unit(app.ledger, [r for _c, r in plans.values()], reminded)}
        return [(c, [r for c2, r in plans.values() if c2 is c and id(r) in keep]) for c in app.campaigns.values()]

    def queue_reminders(self, day: date) -> list:
        from mailbot.office import remind
        app = self.app
        app.today = day
        if len(app.campaigns) == 1:
            return remind.queue_reminders(app.ledger, app.config, app.campaign, app.roster, self.calendar(), day,
                                          templates=app.templates)
        done = []
        for campaign, rs in self._plan_reminders(day):
            if rs:
                done += remind.queue_reminders(app.ledger, app.config, campaign, app.roster, self.calendar(), day,
                                               templates=app.templates, reminders=rs)
        return done

    def digest(self, day: date | None = None, *, dry_run: bool = False):
        """(queued?, Chinese text) for DAY; a fresh workbook is attached."""
        from mailbot.office import digest
        app = self.app
        if day is not None:
            app.today = day
        results = None if dry_run else self.workbooks()
        active = self._collecting(app.today)
        return digest.run_digest(app.ledger, app.config, [c for c, _ in active], app.roster, app.today,
                                 dry_run=dry_run, workbook=[results[i].path for _, i in active] if results else None,
                                 templates=app.templates, cal=self.calendar())

    def _collecting(self, day: date) -> list:
        """[(campaign, its index)] of the campaigns collecting on DAY (route.collecting) — the
        digest covers those; the first campaign when none is."""
        from mailbot.office.route import collecting
        every = list(self.app.campaigns.values())
        return [(c, i) for i, c in enumerate(every) if collecting(c, day)] or [(every[0], 0)]

    def queue_digest(self, day: date) -> bool:
        from mailbot.office import digest
        app = self.app
        app.today = day
        results = self.workbooks()
        active = self._collecting(day)
        return digest.queue_digest(app.ledger, app.config, [c for c, _ in active], app.roster, self.calendar(),
                                   day, templates=app.templates, workbook=[results[i].path for _, i in active],
                                   key_ids=list(app.campaigns))

    def review(self, unit: str, decision: str, reason: str | None, via: str = "命令行"):
        from mailbot.office import review
        app = self.app
        return review.decide(app.ledger, app.config, app.campaign, app.roster, unit, decision, reason, via=via,
                             today=app.today, templates=app.templates)

    def accept(self, mid: int, unit: str | None = None) -> str:
        """File a held mail the office vouches for; then set $Filed on it in the mailbox, as a
        poll does (a mailbox that cannot be reached now only misses the keyword, said in the text)."""
        from mailbot.office.pipeline import accept
        return self._file_held(mid, lambda: accept(self.app, mid, unit))

    def assign(self, mid: int, campaign: str) -> str:
        """File a 待分拣 mail in campaign CAMPAIGN (id or file name), as `accept` files a held one."""
        from mailbot.office.pipeline import assign
        cid = self.campaign_named(campaign).id
        return self._file_held(mid, lambda: assign(self.app, mid, cid))

    def _file_held(self, mid: int, file_it) -> str:
        from mailbot.config import ConfigError
        from mailbot.mailin.source import SourceError, open_source
        from mailbot.store.locks import job_lock
        cfg = self.app.config
        with job_lock(cfg.ledger, "poll"):      # the archive has one writer at a time
            text = file_it()
            where, validity, uid = self.app.ledger.position_of(mid)
            try:
                source = open_source(cfg.imap, cfg.base, cfg.password("imap") if not cfg.imap.get("backend") else None)
                with source:
                    if source.name == where and source.uidvalidity() == validity:
                        source.mark_filed(uid)
            except (SourceError, ConfigError) as exc:
                log.warning("accept %s: $Filed not set: %s", mid, exc)
                text += f"（邮箱暂时连不上，未给原邮件加“已登记”标记：{exc}）"
        return text

    def verify(self):
        from mailbot.store.verify import run_verify
        return run_verify(self.app.ledger, self.app.archive, self.app.config.ledger)

    def campaign_named(self, name: str):
        """The loaded campaign whose id, or file name without `.toml`, is NAME (CampaignError, in
        Chinese and listing the known ones, when none is)."""
        from mailbot.campaign import CampaignError
        campaigns = tuple(self.app.campaigns.values())
        wanted = (name or "").strip()
        for c in campaigns:
            if wanted in (c.id, c.source.stem, c.source.name):
                return c
        known = "、".join(f"{c.id}（{c.source.name}）" for c in campaigns)
        raise CampaignError(f"没有编号为“{wanted}”的活动。已配置的活动：{known}。"
                            "请写活动编号（规则文件 [campaign] 的 id）或规则文件名（不含 .toml）。")

    def announce(self, name: str, *, dry_run: bool = False, preview_dir: Path | None = None):
        """Queue campaign NAME's kickoff mail to every roster unit not yet announced (a rerun
        queues nothing twice); DRY_RUN: list them and write one sample, nothing sent or recorded.
        The caller drains the queue (`deliver`), under the send throttle."""
        from mailbot.office.announce import run_announce
        app = self.app
        # two runs at once still queue each unit once: the dedupe key is unique in one transaction
        return run_announce(app.ledger, app.config, self.campaign_named(name), app.roster,
                            templates=app.templates, dry_run=dry_run, preview_dir=preview_dir)

    def export(self, name: str, out: Path | None = None):
        """Campaign NAME's export for the archive room (office/export.py), with a freshly compiled
        workbook; OUT defaults to `导出_<id>_<date>.zip` beside config.ini."""
        from mailbot.office.export import default_name, export
        app = self.app
        campaign = self.campaign_named(name)
        mine = next(j for j in self.each() if j.app.campaign.id == campaign.id)
        wb = mine._workbook_one(force=True)          # that campaign's workbook, not the first one's
        target = Path(out) if out is not None else app.config.base / default_name(campaign, app.today)
        if target.is_dir():
            target = target / default_name(campaign, app.today)
        return export(app.ledger, app.config, campaign, app.roster, target, workbook=wb.path, now=app.now())

    def day(self, day: date) -> DayReport:
        """One day of the office's work, as the daemon does it over a day: poll, 催报, workbook,
        每日汇总, send. `mailbot demo` and the campaign tests replay a campaign with it."""
        app = self.app
        app.today = day
        report = self.poll()
        reminders = self.queue_reminders(day)
        digested = self.queue_digest(day)
        sent = self.deliver()
        return DayReport(day, report, len(reminders), digested, sent, self._state())
