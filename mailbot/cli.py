"""The `mailbot` command: a thin argparse shell over the same functions the daemon runs.

Exit codes: 0 success, 1 a failure we report, 2 bad usage or configuration.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
import traceback
from datetime import date, datetime
from pathlib import Path
from typing import Callable

from mailbot.app import App, open_app
from mailbot.office.jobs import Jobs
from mailbot.campaign import CampaignError
from mailbot.config import SIGN_REQUIRED_DEFAULT, ConfigError
from mailbot.office.daemon import TerminalFilter, setup_logging
from mailbot.store.faults import FILE_ONLY
from mailbot.store.locks import Busy
from mailbot.store.modes import restrict_umask
from mailbot.redact import redact, redact_handlers
from mailbot.vocab import ACCEPTABLE, Outcome, Status, UnitStatus

log = logging.getLogger("mailbot")


class UsageError(Exception):
    pass


def _print(text: str = "") -> None:
    print(text, flush=True)


# --- commands --------------------------------------------------------------------------

def cmd_poll(app: App, args: argparse.Namespace) -> int:
    from mailbot.mailin.source import SourceError
    jobs = Jobs(app)
    try:
        report = jobs.poll()
    except SourceError as exc:
        app.ledger.event("poll", "error", str(exc))
        _print(f"收信失败：{exc}")
        return 1
    _print(report.summary())
    _print(jobs.deliver().summary())
    jobs.workbook()
    return 0


def cmd_remind(app: App, args: argparse.Namespace) -> int:
    jobs = Jobs(app)
    _, text = jobs.remind(dry_run=args.dry_run)
    _print(text)
    if not args.dry_run:
        _print(jobs.deliver().summary())
    return 0


def cmd_digest(app: App, args: argparse.Namespace) -> int:
    jobs = Jobs(app)
    _, text = jobs.digest(dry_run=args.dry_run)
    _print(text)
    if not args.dry_run:
        _print(jobs.deliver().summary())
    return 0


def cmd_workbook(app: App, args: argparse.Namespace) -> int:
    jobs = Jobs(app)
    n = jobs.sync_workbook()
    if n:
        _print(f"从跟踪表读取审核决定 {n} 条。{jobs.deliver().summary()}")
    result = jobs.workbook(force=True)
    _print(f"跟踪表已生成：{result.path}")
    for w in result.warnings:
        _print(f"注意：{w}")
    return 0


def cmd_review(app: App, args: argparse.Namespace) -> int:
    unit = app.roster.by_name(args.unit)
    if unit is None:
        raise UsageError(f"名单中没有单位“{args.unit}”。可用 mailbot status 查看单位名称。")
    decision, reason = (UnitStatus.APPROVED, None) if args.approve else (UnitStatus.RETURNED, args.return_reason)
    if decision == UnitStatus.RETURNED and not (reason or "").strip():
        raise UsageError("退回修改需要写明原因：--return \"原因\"")
    jobs = Jobs(app)
    _print(str(jobs.review(unit.name, decision, reason)))
    _print(jobs.deliver().summary())
    jobs.workbook()
    return 0


def cmd_accept(app: App, args: argparse.Namespace) -> int:
    """Without an id: list the held mail the office may accept; with one: file it and acknowledge."""
    from mailbot.office.pipeline import HeldMailError
    if args.id is None:
        held = app.ledger.messages(*ACCEPTABLE)
        if not held:
            _print(f"没有{'或'.join(s.label for s in ACCEPTABLE)}的邮件。")
            return 0
        for m in held:
            _print(f"编号 {m.id}  {m.received_at.astimezone(app.config.timezone):%m-%d %H:%M}  {m.from_addr}"
                   f"  “{m.subject}”  {m.unit or ''}\n    {m.reason or ''}")
        _print("电话核实确为该单位发出后：mailbot accept 编号 [--unit 单位]")
        return 0
    jobs = Jobs(app)
    try:
        _print(jobs.accept(args.id, args.unit))
    except HeldMailError as exc:
        _print(str(exc))
        return 1
    _print(jobs.deliver().summary())
    jobs.workbook()
    return 0


def cmd_assign(app: App, args: argparse.Namespace) -> int:
    """Without arguments: list the 待分拣 mail; with ID CAMPAIGN: file it in that collection."""
    from mailbot.campaign import CampaignError
    from mailbot.office.pipeline import HeldMailError
    if args.id is None or args.campaign is None:
        held = app.ledger.messages(Status.UNSORTED)
        if not held:
            _print(f"没有{Status.UNSORTED.label}的邮件。")
            return 0
        for m in held:
            _print(f"编号 {m.id}  {m.received_at.astimezone(app.config.timezone):%m-%d %H:%M}  {m.from_addr}"
                   f"  “{m.subject}”  {m.unit or ''}\n    {m.reason or ''}")
        known = "、".join(f"{c.id}（{c.title}）" for c in app.campaigns.values())
        _print(f"确认属于哪项收集后：mailbot assign 编号 活动编号（{known}）")
        return 0
    jobs = Jobs(app)
    try:
        _print(jobs.assign(args.id, args.campaign))
    except (HeldMailError, CampaignError) as exc:
        _print(str(exc))
        return 1
    _print(jobs.deliver().summary())
    jobs.workbook()
    return 0


def cmd_status(app: App, args: argparse.Namespace) -> int:
    from mailbot.table import render_table
    for view in app.each_campaign()[1:]:     # another collection each: its own table, first
        _print(_other_campaign_status(view, render_table) + "\n")
    return _status_first(app, render_table)


def _other_campaign_status(app: App, render_table) -> str:
    """A collection without the open day's plan/announcement model: each kind's status, version
    and due date per unit (a recurring kind: the period being collected — the next one due —
    then each earlier period the unit still owes)."""
    from mailbot.office.progress import period_states, unit_states
    from mailbot.office.workcalendar import WorkCalendar
    c = app.campaign
    single = [k for k in c.kinds.values() if k.every is None and k.has_due]
    recurring = [k for k in c.kinds.values() if k.every is not None]
    head = ["单位"] + [h for k in single for h in (f"{k.label}状态", "版本", "截止")] + \
        [f"{k.label}（当前一期；未报的往期）" for k in recurring]
    latest: dict[tuple[str, str], str] = {}
    cal = WorkCalendar.load(app.config.rules) if recurring else None
    for k in recurring:
        mine: dict[str, list] = {}
        for p in period_states(app.ledger, c, app.roster, k.key, app.today, calendar=cal):
            mine.setdefault(p.unit.name, []).append(p)
        for unit, periods in mine.items():
            current = next((p for p in periods if p.due.due >= app.today), periods[-1])
            owed = [p for p in reversed(periods) if p.due.due < current.due.due and not p.status.passing]
            latest[(unit, k.key)] = "；".join(f"{p.due.label} {p.status}" for p in [current, *owed])
    rows = []
    for s in unit_states(app.ledger, c, app.roster, app.today):
        row = [s.unit.name]
        for k in single:
            sub_ = s.submission_for(k.key)
            due = s.deadlines.due_for(k.key)
            row += [s.status_for(k.key), str(sub_.version) if sub_ and sub_.version else "—",
                    due.isoformat() if due else "—"]
        row += [latest.get((s.unit.name, k.key), "—") for k in recurring]
        rows.append(row)
    return f"{c.title}　截至 {app.today.isoformat()}\n" + render_table(head, rows)


def _status_first(app: App, render_table) -> int:
    from mailbot.office.progress import unit_states
    rows = []
    for s in unit_states(app.ledger, app.campaign, app.roster, app.today):
        rows.append([s.unit.name, s.activity_date.isoformat() if s.activity_date else "—",
                     s.plan_status, str(s.plan.version) if s.plan else "—",
                     s.deadlines.announce_due.isoformat() if s.deadlines.announce_due else "—",
                     s.summary_status, s.deadlines.summary_due.isoformat(),
                     "、".join(p.split("：")[0] for p in s.problems)])
    _print(f"{app.campaign.title}　截至 {app.today.isoformat()}")
    tally: dict[str, int] = {}
    for r in rows:
        tally[r[2]] = tally.get(r[2], 0) + 1
    _print("方案：" + "，".join(f"{k} {tally[k]}" for k in UnitStatus if k in tally) + f"（共 {len(rows)} 个单位）")
    _print(render_table(["单位", "活动日期", "方案状态", "版本", "公告截止", "开展情况", "开展情况截止", "问题"], rows))
    held = app.ledger.held_counts()
    if held:
        _print("其他邮件：" + "，".join(f"{status.label} {n} 封" for status, n in held.items()))
    failed = app.ledger.failed_outgoing()
    queued = app.ledger.queued_outgoing()
    _print(f"待发邮件 {len(queued)} 封，发送失败 {len(failed)} 封。")
    waiting = [r for r in queued if r.last_error]
    if waiting:
        _print(f"其中 {len(waiting)} 封正在等待重试，最近一次错误：{waiting[-1].last_error}")
    from mailbot.store.faults import remembered
    fault = remembered(app.config.ledger)
    if fault:
        at = datetime.fromisoformat(fault["at"]).astimezone(app.config.timezone)
        _print(f"故障：{at:%Y-%m-%d %H:%M} 台账无法写入，{fault['text']}")
    last_poll = app.ledger.last_event("poll")
    if last_poll:
        at = datetime.fromisoformat(last_poll.at).astimezone(app.config.timezone)
        _print(f"最近一次收信：{at:%Y-%m-%d %H:%M}（{'成功' if last_poll.level == 'ok' else '失败'}）{last_poll.text}")
    return 0


def _rules_file(name: str, app: App | None) -> Path:
    """--rules NAME: a path, else a file in the configured (or shipped) rules folder, `.toml` optional."""
    from mailbot.defaults import default_dir
    given = Path(name)
    if given.is_file():
        return given
    folders = [app.config.rules] if app is not None else []
    folders.append(default_dir("rules"))
    for folder in folders:
        for candidate in (folder / name, folder / f"{name}.toml"):
            if candidate.is_file():
                return candidate
    raise UsageError(f"找不到规则文件“{name}”。请写规则文件的路径，或 rules 文件夹中的文件名（如 annual-report-2022.toml）。")


def _default_rules_file() -> Path:
    """The shipped campaign that the shipped config.ini names ([campaign] rules, the first one)."""
    import configparser
    from mailbot.defaults import default_config_text, default_dir
    cp = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";", "；"))
    cp.read_string(default_config_text())
    first = cp.get("campaign", "rules", fallback="").split(",")[0].strip()
    rules = default_dir("rules")
    return rules / first if first and (rules / first).is_file() else \
        next(p for p in sorted(rules.glob("*.toml")) if p.name != "workdays.toml")


def cmd_check(args: argparse.Namespace) -> int:
    from mailbot.documents import check, docsandbox
    from mailbot.campaign import Roster, load_campaign, load_roster
    app = None
    try:
        app = open_app(args.config, args.today)
        campaign, roster = app.campaign, app.roster
    except (ConfigError, FileNotFoundError):
        path = _default_rules_file()
        campaign = load_campaign(path)
        roster = load_roster(path.parent / "units.csv", campaign.region)
    if args.rules:
        path = _rules_file(args.rules, app)
        campaign = load_campaign(path)
        if app is None:
            units = path.parent / "units.csv"
            roster = load_roster(units, campaign.region) if units.is_file() else Roster((), campaign.region)
    if args.kind and args.kind not in campaign.kinds:
        raise UsageError(f"--kind “{args.kind}”不是规则文件 {campaign.source.name} 中的材料类型"
                         f"（可选：{'、'.join(f'{k}（{v.label}）' for k, v in campaign.kinds.items())}）。")
    received = None
    if args.received:
        try:
            received = date.fromisoformat(args.received)
        except ValueError:
            raise UsageError(f"--received “{args.received}”格式不对，应为 YYYY-MM-DD。") from None
    paths = [Path(p) for p in args.files]
    for p in paths:
        if not p.is_file():
            raise UsageError(f"找不到文件 {p}。")
    kind = args.kind or None
    budget = app.config.doc_budget if app is not None else docsandbox.MailBudget()
    results = check.check_files(paths, campaign=campaign, roster=roster, kind=kind, unit=args.unit,
                                received=received,
                                read=lambda data, name: docsandbox.read_mail_documents([(data, name)], budget)[0])
    if app is not None:
        app.close()
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        _print(check.format_table(results))
    return 1 if any(r["outcome"] == Outcome.FIX for r in results) else 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from mailbot.mailin import authenticity
    from mailbot.config import load_config
    from mailbot.mailin.inspect import inspect_message
    app = None
    try:
        trust = load_config(args.config).trust
    except ConfigError:        # no office folder: the shipped defaults
        trust = authenticity.Policy(sign_required=tuple(d.strip() for d in SIGN_REQUIRED_DEFAULT.split(",")))
    try:
        app = open_app(args.config, args.today)
    except (ConfigError, CampaignError, FileNotFoundError):
        pass
    out = []
    for f in args.files:
        try:
            raw = Path(f).read_bytes()
        except OSError as exc:
            out.append({"file": f, "problems": [f"无法读取文件：{exc.strerror or exc}"]})
            continue
        verdict = authenticity.assess(raw, trust)
        identify_fn = _identify_with(app, verdict) if app is not None else None
        report = inspect_message(raw, f, own_addresses=app.config.own_addresses if app else (),
                                 identify=identify_fn)
        report["sender_trust"] = {"level": verdict.level, "trusted": verdict.trusted, "reason": verdict.reason,
                                  "evidence": list(verdict.evidence)}
        if app is not None:
            report["decision"] = _decision(app, raw, verdict)
        out.append(report)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        for o in out:
            _print(f"== {o['file']}")
            for key, label in (("subject", "主题"), ("from", "发件人"), ("date", "日期"), ("unit", "单位"),
                               ("kind", "类型")):
                _print(f"  {label}：{o.get(key) or '—'}")
            trust = o.get("sender_trust")
            if trust:
                label = {"pass": "真实（签名或服务商认证通过）", "none": "无证据（按单位名单处理）",
                         "fail": "不可信，将列为待核实", "pending": "暂时无法核对（DNS），稍后重试"}[trust["level"]]
                _print(f"  发件人核对：{label}{('：' + trust['reason']) if trust['reason'] else ''}")
            if o.get("automatic"):
                _print(f"  自动邮件：{o.get('automatic_reason')}（不会回复）")
            if o.get("decision"):
                d = o["decision"]
                if len(app.campaigns) > 1:
                    _print(f"  归入：{app.campaigns[d['campaign']].title if d['campaign'] else Status.UNSORTED.label}"
                           f"（{d['campaign_reason']}）")
                _print(f"  处理：{d['label']}{('：' + d['reason']) if d['reason'] else ''}（规则 {d['rule']}）")
            for a in o.get("attachments", []):
                _print(f"  附件：{a['filename'] or '（无文件名）'}  {a['content_type']}  {a['size']} 字节")
            for p in o.get("problems", []):
                _print(f"  问题：{p}")
    return 0


def _identify_with(app: App, verdict):
    """inspect's identify callback: as the poll identifies (a malformed From never matches)."""
    from mailbot.office.prepare import identify_sender

    def identify_fn(mail):
        who = identify_sender(app, mail, verdict)
        return who.unit, who.kind
    return identify_fn


def _decision(app: App, raw: bytes, verdict) -> dict:
    """What a poll would do with this mail today (the day's filing counts taken from the ledger)."""
    from mailbot.mailin.parse import parse_message
    from mailbot.office.pipeline import decide_mail
    from mailbot.office.prepare import Reading, identify_sender, route_by_content
    mail = parse_message(raw)
    when = mail.date.astimezone(app.config.timezone) if mail.date else app.now()
    way = route_by_content(app, mail, when)
    reading = Reading(verdict, mail, identify_sender(app.for_campaign(way.campaign or app.campaign.id), mail, verdict),
                      route=way, campaign=way.campaign)
    capp, _who, d, way = decide_mail(app, mail, reading, when)
    return {"status": d.status, "label": Status(d.status).label, "reason": d.reason,
            "reply": d.reply, "rule": d.rule, "trail": list(d.trail),
            "campaign": way.campaign, "campaign_reason": way.reason or f"只配置了一项收集（{capp.campaign.title}）",
            "campaign_candidates": list(way.candidates)}


def cmd_run(app: App, args: argparse.Namespace) -> int:
    """The daemon: the same jobs as the commands, on a schedule."""
    from mailbot.office import daemon
    jobs = Jobs(app)
    try:
        return daemon.run(app.config, poll=lambda: jobs.poll(real_day=True), deliver=jobs.deliver,
                          remind=jobs.queue_reminders, digest=jobs.queue_digest, workbook=jobs.workbook,
                          verify=jobs.verify, today=app.today if app.pretend else None, ledger=app.ledger,
                          calendar=jobs.calendar)
    except daemon.DaemonError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1


def cmd_verify(app: App, args: argparse.Namespace) -> int:
    """Ledger ↔ archive: every recorded file there with its sha256, nothing unrecorded."""
    result = Jobs(app).verify()
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
    else:
        for line in result.lines():
            _print(line)
        _print(result.summary())
    return 0 if result.ok else 1


def cmd_announce(app: App, args: argparse.Namespace) -> int:
    """The kickoff mail with its 填报表 to every unit; a rerun skips the units already announced."""
    jobs = Jobs(app)
    report = jobs.announce(args.campaign, dry_run=args.dry_run)
    _print(report.text())
    if not args.dry_run and report.queued:
        _print(jobs.deliver().summary())
    return 0


def cmd_export(app: App, args: argparse.Namespace) -> int:
    """Each unit's latest files, the workbook and an index in one .zip for the archive room."""
    from mailbot.office.export import ExportError
    try:
        report = Jobs(app).export(args.campaign, Path(args.out) if args.out else None)
    except ExportError as exc:
        raise UsageError(str(exc)) from None
    _print(report.text())
    return 0 if report.ok else 1


def cmd_doctor(app: App | None, args: argparse.Namespace) -> int:
    from mailbot.doctor import doctor
    ok = doctor(args.config, args.today, lambda text: _print(redact(text)))
    return 0 if ok else 1


def cmd_init(args: argparse.Namespace) -> int:
    from mailbot.defaults import init_folder
    folder = Path(args.dir).resolve()
    created = init_folder(folder)
    for p in created:
        _print(f"已创建 {p}")
    if not created:
        _print(f"{folder} 中已有 config.ini、rules/、templates/，未改动。")
    _print(f"下一步：编辑 {folder / 'config.ini'} 和 {folder / 'rules' / 'units.csv'}，然后运行 mailbot doctor。")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from mailbot.demo.replay import run_demo
    return run_demo(Path(args.dir), args.today, _print)


# --- argument parsing ----------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mailbot", description="报送邮箱的自动归档、检查、回执、催报与跟踪表。")
    p.add_argument("--config", default="config.ini", help="配置文件（默认 ./config.ini）")
    p.add_argument("--today", help="假定今天是 YYYY-MM-DD（也可用环境变量 MAILBOT_TODAY）")
    p.add_argument("-v", "--verbose", action="store_true", help="输出调试日志")
    sub = p.add_subparsers(dest="command", metavar="命令")
    sub.add_parser("poll", help="收取并处理新邮件一次")
    s = sub.add_parser("remind", help="发送催报")
    s.add_argument("--dry-run", action="store_true", help="只列出会发给谁、为什么，不发送")
    s = sub.add_parser("digest", help="发送每日汇总")
    s.add_argument("--dry-run", action="store_true", help="只打印汇总内容，不发送")
    sub.add_parser("workbook", help="立即生成跟踪表")
    sub.add_parser("run", help="守护进程：按计划收信、催报、汇总")
    s = sub.add_parser("check", help="离线检查文件（部门发送前可自查）")
    s.add_argument("files", nargs="+", metavar="FILE")
    s.add_argument("--json", action="store_true")
    s.add_argument("--kind", metavar="KIND", help="材料类型代号（规则文件 [kinds] 中的，如 plan、summary、report）")
    s.add_argument("--rules", metavar="FILE.toml", help="按哪个规则文件检查（路径，或 rules 文件夹中的文件名；默认为 config.ini 中的）")
    s.add_argument("--unit")
    s.add_argument("--received", metavar="YYYY-MM-DD")
    s = sub.add_parser("review", help="审核：--approve 备案，或 --return 原因 退回修改")
    s.add_argument("unit", metavar="UNIT")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--approve", action="store_true")
    g.add_argument("--return", dest="return_reason", metavar="REASON")
    s = sub.add_parser("accept", help="接收待核实（疑似冒用）或超出每日上限的邮件：核实后登记并回执")
    s.add_argument("id", type=int, nargs="?", metavar="编号", help="邮件编号（见每日汇总；不填则列出）")
    s.add_argument("--unit", help="登记为哪个单位（发件地址不在名单中时需要）")
    s = sub.add_parser("assign", help="把“待分拣”的邮件归入某项收集并登记、回执（不填参数则列出待分拣邮件）")
    s.add_argument("id", type=int, nargs="?", metavar="编号", help="邮件编号（见每日汇总或跟踪表）")
    s.add_argument("campaign", nargs="?", metavar="CAMPAIGN", help="活动编号（规则文件 [campaign] 的 id）或规则文件名")
    sub.add_parser("status", help="在终端显示各单位进度")
    sub.add_parser("doctor", help="检查配置、规则、邮箱登录")
    s = sub.add_parser("verify", help="核对台账与归档：登记的文件都在且未被改动，没有未登记的文件")
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("inspect", help="显示 mailbot 如何读取一封邮件（不登记）")
    s.add_argument("files", nargs="+", metavar="FILE.eml")
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("announce", help="向名单上每个单位发送活动启动通知（附填报表），已发过的不重复发送")
    s.add_argument("campaign", metavar="CAMPAIGN", help="活动编号（规则文件 [campaign] 的 id）或规则文件名（不含 .toml）")
    s.add_argument("--dry-run", action="store_true", help="只列出收件单位，并把一封样稿和填报表写入文件夹，不发送")
    s = sub.add_parser("export", help="导出各单位最新版本的材料、跟踪表和索引（.zip），交档案室")
    s.add_argument("campaign", metavar="CAMPAIGN", help="活动编号（规则文件 [campaign] 的 id）或规则文件名（不含 .toml）")
    s.add_argument("--out", metavar="FILE.zip", help="导出文件（默认 config.ini 所在目录下的 导出_活动编号_日期.zip）")
    s = sub.add_parser("init", help="在目录中生成默认的 config.ini、rules/、templates/")
    s.add_argument("dir", nargs="?", default=".")
    s = sub.add_parser("demo", help="无需服务器的演示：生成模拟邮件并完整运行一遍")
    s.add_argument("--dir", default="mailbot-demo", help="演示目录（默认 ./mailbot-demo）")
    return p


APP_COMMANDS: dict[str, Callable[[App, argparse.Namespace], int]] = {
    "poll": cmd_poll, "remind": cmd_remind, "digest": cmd_digest, "workbook": cmd_workbook,
    "review": cmd_review, "status": cmd_status, "run": cmd_run, "verify": cmd_verify, "accept": cmd_accept,
    "announce": cmd_announce, "export": cmd_export, "assign": cmd_assign,
}
FREE_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "check": cmd_check, "inspect": cmd_inspect, "init": cmd_init, "demo": cmd_demo,
    "doctor": lambda a: cmd_doctor(None, a),
}


def main(argv: list[str] | None = None) -> int:
    restrict_umask()                    # nothing mailbot writes is for other users of the machine
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command != "run":           # the daemon sets up its own log file and stderr handler
        logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        for h in logging.getLogger().handlers:    # the terminal: warnings (or all with -v) only
            h.setLevel(logging.DEBUG if args.verbose else logging.WARNING)
        if not args.verbose:
            for h in logging.getLogger().handlers:
                h.addFilter(TerminalFilter())
        redact_handlers(logging.getLogger().handlers)
    if not args.command:
        parser.print_help()
        return 2
    try:
        if args.command in FREE_COMMANDS:
            return FREE_COMMANDS[args.command](args)
        app = open_app(args.config, args.today)
        if args.command != "run":       # commands run from cron/Task Scheduler leave a trace too
            setup_logging(app.config.log, stderr=False)
        try:
            return APP_COMMANDS[args.command](app, args)
        except (OSError, sqlite3.Error) as exc:
            if isinstance(exc, BrokenPipeError):
                raise
            return machine_fault(exc, args, app)
        finally:
            app.close()
    except (ConfigError, CampaignError, UsageError) as exc:
        print(f"错误：{redact(str(exc))}", file=sys.stderr)
        return 2
    except Busy as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:            # `mailbot status | head`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (OSError, sqlite3.Error) as exc:   # before a command ran: e.g. a ledger locked by another program
        return machine_fault(exc, args, None)
    except Exception as exc:            # a bug: the traceback for the maintainer, passwords redacted
        if logging.getLogger("mailbot").handlers:      # the log file, when the command got that far
            log.error("%s failed", args.command, exc_info=exc, extra=FILE_ONLY)
        print(redact(traceback.format_exc()), file=sys.stderr)
        print(f"错误：mailbot 内部出错（{type(exc).__name__}）。请把上面的信息和日志文件发给维护人员。", file=sys.stderr)
        return 1


def machine_fault(exc: OSError | sqlite3.Error, args: argparse.Namespace, app: App | None) -> int:
    """A full disk, a folder that cannot be written, a locked ledger: one Chinese sentence naming
    the path and what to do (exit 1); the traceback goes to the log file only; the fault is
    recorded in the ledger, or beside it when the ledger is what failed (faults.py)."""
    from mailbot.store import faults
    config = app.config if app is not None else _config_or_none(args.config)
    fallback = (config.ledger if isinstance(exc, sqlite3.Error) else config.base) if config else None
    text = redact(faults.explain(exc, fallback))
    log.error("%s stopped by a machine fault: %s", args.command, exc, exc_info=exc, extra=FILE_ONLY)
    if config is not None:
        faults.record(app.ledger if app is not None else None, config.ledger,
                      "poll" if args.command in ("poll", "run") else args.command, text, exc)
    print(f"错误：{text}", file=sys.stderr)
    return 1


def _config_or_none(path: str):
    from mailbot.config import load_config
    try:
        return load_config(path)
    except Exception:
        return None


if __name__ == "__main__":
    sys.exit(main())
