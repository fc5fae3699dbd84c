"""`mailbot announce`: the kickoff mail of a campaign to every unit on the roster.

Each mail carries the campaign's own wording (`[announce]` subject and body in the campaign file),
the unit's activity date where the notice fixes it, the deadlines of each kind of submission as
progress.py derives them, the mailbox to send to, and one 填报表 (.docx, documents/template.py) per
kind whose checks require items. It is queued like every mail we send (compose.queue: a
Message-ID fixed from (campaign, unit, 'announce'), sent by deliver under the send throttle), and
recorded in the ledger's `announcements` in the same transaction — so a rerun skips every unit
already announced, and a department's reply (In-Reply-To our Message-ID) names the campaign.

`--dry-run` sends and records nothing: it lists the recipients and writes one unit's mail (.eml)
and forms to a folder for the clerk to look at.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any


from mailbot.campaign import Campaign, CampaignError, Roster, Unit
from mailbot.config import Config
from mailbot.documents import template
from mailbot.mailout import compose
from mailbot.office.progress import deadlines_for
from mailbot.store.fsutil import atomic_write
from mailbot.store.ledger import Ledger
from mailbot.store.modes import make_dirs
from mailbot.store.names import sanitise
from mailbot.table import render_table

log = logging.getLogger("mailbot.announce")

PURPOSE = "announce"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# --- the campaign's wording -------------------------------------------------------------

@dataclass(frozen=True)
class Wording:
    subject: str
    paragraphs: tuple[str, ...]
    forms: tuple[str, ...]          # kinds whose 填报表 is attached


def wording(campaign: Campaign) -> Wording:
    """The campaign's `[announce]` table, checked (Chinese errors naming the file and key). A
    campaign without one is announced in its own title and notice's words."""
    raw = campaign.raw.get("announce")
    where = f"规则文件 {campaign.source} 的 [announce]"
    if raw is None:
        raw = {}
    elif not isinstance(raw, dict):
        raise CampaignError(f"{where} 应为一个表（subject = \"…\"、body = \"\"\"…\"\"\"）。")
    subject = raw.get("subject", f"关于报送{campaign.title}材料的通知")
    body = raw.get("body", f"请按{campaign.notice or campaign.title}要求报送材料。")
    for key, value in (("subject", subject), ("body", body)):
        if not isinstance(value, str) or not value.strip():
            raise CampaignError(f"{where} 的 {key} 应为非空文字，现为“{value}”。")
    subject = " ".join(subject.split())
    with_items = template.form_kinds(campaign)
    forms = raw.get("forms", list(with_items))
    if not isinstance(forms, list) or not all(isinstance(k, str) for k in forms):
        raise CampaignError(f"{where} 的 forms 应为材料类型列表，如 [\"plan\"]，现为“{forms}”。")
    for k in forms:
        if k not in with_items:
            raise CampaignError(f"{where} 的 forms 中的“{k}”没有要求写明的检查项，无法生成填报表"
                                f"（可选：{'、'.join(with_items) or '无'}）。")
    paragraphs = tuple(" ".join(p.split()) for p in body.strip().split("\n\n") if p.strip())
    return Wording(subject=subject, paragraphs=paragraphs, forms=tuple(dict.fromkeys(forms)))


# --- one unit's mail ------------------------------------------------------------------------

@dataclass(frozen=True)
class Deadline:
    label: str                      # the kind's Chinese label (实施方案)
    text: str                       # 2022年8月26日（星期五）前 / 活动结束后 15 天内（即…前）
    due: date | None


@dataclass(frozen=True)
class Form:
    kind: str
    label: str
    name: str                       # the attachment's file name
    items: tuple[str, ...]
    data: bytes = field(repr=False)


def _on(d: date) -> str:
    from mailbot.cndate import cn_date, weekday
    return f"{cn_date(d)}（{weekday(d)}）"


def deadlines(campaign: Campaign, activity: date | None, unit: str | None = None,
              roster: Roster | None = None) -> list[Deadline]:
    """Each kind's deadline for UNIT whose activity date is ACTIVITY (None: not fixed by the notice),
    as progress.deadlines_for derives it (the unit's own date where the campaign fixes one), in
    words; a recurring return as its rule (每月一期，于次月10日前报送)."""
    dl = deadlines_for(campaign, activity, unit=unit, roster=roster)
    out: list[Deadline] = []
    feedback_window = next((k.days_after_activity for k in campaign.kinds.values()
                            if k.days_after_activity is not None and k.due is None), None)
    for key, kind in campaign.kinds.items():
        derived = dl.due_for(key)
        if kind.every is not None:
            out.append(Deadline(kind.label, kind.every.describe(), None))
        elif kind.due is not None or kind.due_by_unit:
            due = derived or kind.due
            if due is None:
                continue
            text = f"{_on(due)}前报送"
            if activity is None and derived == kind.due and key == "summary" and feedback_window is not None:
                text += f"（活动在此之后举办的，于活动结束后 {feedback_window} 天内报送）"
            out.append(Deadline(kind.label, text, due))
        elif kind.days_before_activity is not None:
            due = activity - timedelta(days=kind.days_before_activity) if activity else None
            text = f"如有调整，须在活动前 {kind.days_before_activity} 天报送" + (f"（即{_on(due)}前）" if due else "")
            out.append(Deadline(kind.label, text, due))
        elif kind.days_after_activity is not None:
            due = derived if derived is not None else (activity + timedelta(days=kind.days_after_activity)
                                                       if activity else None)
            text = f"活动结束后 {kind.days_after_activity} 天内" + (f"（即{_on(due)}前）" if due else "")
            out.append(Deadline(kind.label, text, due))
    return out


def forms_for(campaign: Campaign, words: Wording, unit: Unit, mailbox: str) -> list[Form]:
    return [Form(kind=k, label=campaign.kind(k).label, name=template.form_name(campaign, k, unit.name),
                 items=template.items(campaign, k),
                 data=template.form_docx(campaign, k, unit.name, mailbox=mailbox)) for k in words.forms]


def mailbox_of(config: Config) -> str:
    """The filing mailbox departments send to (the IMAP login when it is an address)."""
    user = config.imap.get("username", "").strip()
    return user if "@" in user else config.from_address


def dedupe_key(campaign: Campaign, unit: Unit) -> str:
    return f"{PURPOSE}:{campaign.id}:{unit.name}"


def render(templates: compose.Templates, config: Config, campaign: Campaign, roster: Roster, unit: Unit,
           words: Wording, forms: list[Form]) -> tuple[str, str, str]:
    activity = campaign.fixed_date_for(roster, unit.name)
    announce_due = activity - timedelta(days=campaign.announce_days_before) if activity else None
    ctx: dict[str, Any] = dict(
        unit=unit.name, campaign=campaign, subject=words.subject, paragraphs=words.paragraphs,
        activity=activity, announce_due=announce_due, window_start=campaign.window_start,
        window_end=campaign.window_end, deadlines=deadlines(campaign, activity, unit.name, roster), forms=forms,
        mailbox=mailbox_of(config), office=config.office_name,
        example_label=campaign.kind(words.forms[0]).label if words.forms else next(iter(campaign.kinds.values())).label)
    return templates.render("announce", **ctx)    # shipped wording when the folder predates announce


# --- the job --------------------------------------------------------------------------------

@dataclass
class AnnounceReport:
    campaign: Campaign
    dry_run: bool
    queued: list[str] = field(default_factory=list)          # units whose mail is queued now
    would_send: list[str] = field(default_factory=list)      # dry run: units that would get one
    already: list[str] = field(default_factory=list)         # announced before (sent, queued or failed)
    no_address: list[str] = field(default_factory=list)      # no 邮箱 in units.csv
    rows: list[list[str]] = field(default_factory=list)      # the recipient table
    preview: Path | None = None                              # dry run: where the sample went
    failed_before: list[str] = field(default_factory=list)   # announced before, but the send failed

    def text(self) -> str:
        lines = []
        title = self.campaign.title
        if self.rows:
            head = "将发送启动通知（演练，不发送、不记录）：" if self.dry_run else "启动通知收件单位："
            lines.append(f"{title}　{head}")
            lines.append(render_table(["单位", "收件邮箱", "活动日期", "处理"], self.rows))
        if self.dry_run:
            lines.append(f"演练：将发送 {len(self.would_send)} 个单位。")
            if self.preview is not None:
                lines.append(f"样稿（一封邮件 .eml 和填报表 .docx）已写入：{self.preview}")
        else:
            lines.append(f"已排队发送启动通知 {len(self.queued)} 封。")
        if self.already:
            lines.append(f"已发送过，跳过 {len(self.already)} 个单位。")
        if self.failed_before:
            lines.append(f"其中 {len(self.failed_before)} 个单位上次发送失败（{'、'.join(self.failed_before)}），"
                         "请核对 units.csv 中的邮箱，失败原因见每日汇总。")
        if self.no_address:
            lines.append(f"名单中没有邮箱、无法发送的单位 {len(self.no_address)} 个：{'、'.join(self.no_address)}。"
                         "请在 units.csv 中补上邮箱后重新运行（已发送的单位不会重复发送）。")
        return "\n".join(lines)


def run_announce(ledger: Ledger, config: Config, campaign: Campaign, roster: Roster, *,
                 templates: compose.Templates, dry_run: bool = False,
                 preview_dir: Path | None = None) -> AnnounceReport:
    """Queue CAMPAIGN's kickoff mail to every roster unit not yet announced (each in one
    transaction with its `announcements` row), or with DRY_RUN list them and write one sample."""
    words = wording(campaign)
    mailbox = mailbox_of(config)
    report = AnnounceReport(campaign=campaign, dry_run=dry_run)
    done = ledger.announcements(campaign.id)
    sample: tuple[Unit, list[Form], tuple[str, str, str]] | None = None
    for unit in roster.units:
        activity = campaign.fixed_date_for(roster, unit.name)
        when = f"{activity:%m-%d}（通知指定）" if activity else ("自定" if campaign.fixed_dates else "—")
        to = "、".join(unit.emails) or "（无）"
        before = done.get(unit.name)
        if before is not None:
            report.already.append(unit.name)
            state = {"sent": "已发送过", "queued": "已在发送队列"}.get(before.status, "上次发送失败")
            if before.status == "failed":
                report.failed_before.append(unit.name)
            report.rows.append([unit.name, to, when, f"跳过（{state}）"])
            continue
        if not unit.emails:
            report.no_address.append(unit.name)
            report.rows.append([unit.name, to, when, "无邮箱，无法发送"])
            continue
        if dry_run:
            report.would_send.append(unit.name)
            report.rows.append([unit.name, to, when, "将发送"])
            if sample is None:
                forms = forms_for(campaign, words, unit, mailbox)
                sample = (unit, forms, render(templates, config, campaign, roster, unit, words, forms))
            continue
        forms = forms_for(campaign, words, unit, mailbox)
        subject, text, html = render(templates, config, campaign, roster, unit, words, forms)
        key = dedupe_key(campaign, unit)
        with ledger.transaction():
            new = compose.queue(ledger, config, purpose=PURPOSE, dedupe_key=key, to=list(unit.emails),
                                subject=subject, text=text, html=html, auto_submitted=compose.AUTO_GENERATED,
                                unit=unit.name, attachments=[(f.name, f.data, DOCX) for f in forms],
                                campaign=campaign.id)
            mid = compose.message_id_for(key, _domain(config))
            ledger.record_announcement(campaign.id, unit.name, mid)
        if new:
            report.queued.append(unit.name)
            report.rows.append([unit.name, to, when, "已排队发送"])
        else:                     # queued before the announcements row existed: now recorded
            report.already.append(unit.name)
            report.rows.append([unit.name, to, when, "跳过（已在发送队列）"])
    if dry_run and sample is not None:
        report.preview = _write_preview(config, campaign, preview_dir, *sample)
    if not dry_run and report.queued:
        ledger.event(PURPOSE, "ok", f"{campaign.title}：启动通知排队 {len(report.queued)} 封。")
    log.info("announce %s: queued %d, skipped %d, no address %d%s", campaign.id, len(report.queued),
             len(report.already), len(report.no_address), " (dry run)" if dry_run else "")
    return report


def _domain(config: Config) -> str:
    return config.from_address.rpartition("@")[2] or "mailbot.local"


def preview_folder(config: Config, campaign: Campaign) -> Path:
    """Where `announce --dry-run` writes its sample: beside config.ini."""
    return config.base / sanitise(f"启动通知样稿_{campaign.id}")


def _write_preview(config: Config, campaign: Campaign, folder: Path | None, unit: Unit, forms: list[Form],
                   rendered: tuple[str, str, str]) -> Path:
    folder = folder or preview_folder(config, campaign)
    make_dirs(folder)
    subject, text, html = rendered
    key = dedupe_key(campaign, unit)
    raw = compose.build(config, to=list(unit.emails), subject=subject, text=text, html=html,
                        auto_submitted=compose.AUTO_GENERATED, message_id=compose.message_id_for(key, _domain(config)),
                        attachments=[(f.name, f.data, DOCX) for f in forms])
    atomic_write(folder / sanitise(f"启动通知_{unit.name}.eml"), raw)
    for f in forms:
        atomic_write(folder / sanitise(f.name), f.data)
    return folder


__all__ = ["Wording", "Deadline", "Form", "AnnounceReport", "wording", "deadlines", "forms_for", "render",
           "run_announce", "preview_folder", "PURPOSE"]
