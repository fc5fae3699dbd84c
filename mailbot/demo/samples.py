"""The demo campaign's mailbox: which unit sends what, when, and what the pipeline is expected to
make of each mail — for `mailbot demo` and the integration tests.

Everything is derived from the campaign (rules/*.toml) and the roster (rules/units.csv); the same
arguments give the same bytes.

    demo_mails(campaign, roster, office_address)    the demo campaign's mail, with expectations
    demo_mailbox(...)                               the same as [(arrival, raw bytes)]
    write_maildir(path, messages)                   a stdlib Maildir, file mtime = arrival time

The builders live beside it: `docs` (.docx documents), `mailbuilder` (raw mail as real clients
write it, DKIM), `othermail` (自动回复, 退信, newsletters, broken mail), `seeds` (determinism).
They are importable from here too: samples is the demo kit's one import for the tests and
benchmarks (about fifteen files use `samples.<builder>`).
"""

from __future__ import annotations

import hashlib
import mailbox
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Iterable

from mailbot.cndate import md
from mailbot.demo.docs import (ANNOUNCEMENT_ITEMS, adjustment_docx, default_leader, plan_docx,
                               short_name, signin_docx, summary_docx)
from mailbot.demo.mailbuilder import (CLIENTS, DEMO_DKIM_KEY, DEMO_DKIM_KEYS, FILENAME_STYLES,
                                      SUBJECT_ENCODINGS, MailBuilder, decoded_subject, demo_dkim_sign,
                                      encode_header_text)
from mailbot.demo.othermail import MALFORMED_VARIANTS, bounce, mailing_list, malformed, out_of_office
from mailbot.demo.seeds import CHINA_TZ, aware

__all__ = [
    "ANNOUNCEMENT_ITEMS", "FILENAME_STYLES", "SUBJECT_ENCODINGS", "CLIENTS", "MALFORMED_VARIANTS",
    "plan_docx", "adjustment_docx", "summary_docx", "MailBuilder", "out_of_office", "bounce",
    "mailing_list", "malformed", "DemoMail", "demo_mails", "demo_mailbox", "write_maildir",
    "decoded_subject", "encode_header_text", "default_leader",
    "DEMO_DKIM_KEY", "DEMO_DKIM_KEYS", "demo_dkim_sign",
]


def _workday(d: date) -> date:
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


@dataclass(frozen=True)
class DemoMail:
    """One demo mail, with what the pipeline is expected to make of it."""
    arrival: datetime          # INTERNALDATE
    raw: bytes
    sender: str                # envelope From address
    unit: str | None           # roster unit the mail concerns (None: nobody)
    kind: str | None           # plan | adjustment | summary | None
    scenario: str              # short tag, e.g. "plan-ok", "pending", "automatic"
    note: str                  # what it exercises (English)
    on_roster: bool = True     # sender address is on the roster


def _at(d: date, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime.combine(d, time(hh, mm, ss), tzinfo=CHINA_TZ)


def demo_mails(campaign: Any, roster: Any, office_address: str) -> list[DemoMail]:
    """The demo campaign's mail, sorted by arrival, derived only from campaign + roster.

    Fixed-date units (in the campaign's order) and the other roster units (in roster order)
    are given roles; roles whose unit the roster lacks are skipped. Every date is relative to
    the campaign's plan due date, summary due date and activity window.
    """
    region = campaign.region
    plan_kind, summary_kind = campaign.kinds["plan"], campaign.kinds["summary"]
    due = plan_kind.due or (campaign.window_start - timedelta(days=6))
    summary_due = summary_kind.due or (campaign.window_start + timedelta(days=19))
    year = due.year
    notice = campaign.notice or None
    office_name = campaign.office or "政务公开办公室"
    office_short = office_name
    office_domain = office_address.partition("@")[2] or "localhost"

    fixed: list[tuple[date, Any]] = []
    seen: set[str] = set()
    for day, names in campaign.fixed_dates:
        for n in names:
            u = roster.by_name(n)
            if u is not None and u.name not in seen:
                fixed.append((day, u))
                seen.add(u.name)
    others = [u for u in roster.units if u.name not in seen]
    mails: list[DemoMail] = []

    def who(u) -> tuple[str, str]:
        return (u.emails[0] if u.emails else f"office@{u.name}.invalid"), u.contact

    def plan_of(u, activity: date, signed: date, **kw: Any) -> bytes:
        return plan_docx(u.name, activity=activity, contact=u.contact, phone=u.phone,
                         email=(u.emails[0] if u.emails else ""), region=region, notice=notice,
                         signed=signed, **kw)

    def covering(u, what: str, extra: str = "") -> str:
        return (f"{office_short}：\r\n\r\n    您好！按照{campaign.notice or '通知'}要求，现将{what}报送贵办，请审核。"
                f"{extra}\r\n\r\n    联系人：{u.contact}，联系电话：{u.phone}。\r\n\r\n"
                f"{u.name}\r\n")

    def add(arrival: datetime, raw: bytes, sender: str, unit, kind, scenario, note, on_roster=True):
        mails.append(DemoMail(arrival, raw, sender, unit.name if unit is not None else None, kind,
                              scenario, note, on_roster))

    def plan_mail(u, activity: date, arrive: datetime, *, client: str, subject: str, filename: str,
                  scenario: str, note: str, style: str | None = None, subject_encoding: str | None = None,
                  **plan_kw: Any) -> bytes:
        addr, name = who(u)
        data = plan_of(u, activity, arrive.date() - timedelta(days=1), **plan_kw)
        b = MailBuilder(from_addr=addr, from_name=name, to=office_address, to_name=office_name,
                        subject=subject, date=arrive - timedelta(seconds=47), client=client,
                        text=covering(u, f"我局{year}年“政府开放日”活动实施方案"),
                        subject_encoding=subject_encoding, received_at=arrive)
        b.attach(filename, data, filename_style=style)
        raw = b.build()
        add(arrive, raw, addr, u, "plan", scenario, note)
        return raw

    def slot(i: int) -> tuple[date, Any] | None:
        return fixed[i] if i < len(fixed) else None

    def other(i: int):
        return others[i] if i < len(others) else None

    def short(u) -> str:
        return short_name(u.name, region)

    d0 = due - timedelta(days=11)
    first_plans: dict[str, bytes] = {}
    f = slot(0)
    if f:
        day, u = f
        plan_mail(u, day, _at(_workday(d0), 9, 12, 30), client="163web",
                  subject=f"关于报送{u.name}{year}年“政府开放日”活动实施方案的函",
                  filename=f"{u.name}{year}年“政府开放日”活动实施方案.docx", scenario="plan-ok",
                  note="valid plan on its fixed date; 163 webmail, RFC 2047 UTF-8 filename")
    f = slot(1)
    if f:
        day, u = f
        plan_mail(u, day, _at(_workday(d0 + timedelta(days=1)), 10, 5, 11), client="foxmail",
                  subject=f"{short(u)}“政府开放日”活动实施方案",
                  filename=f"{short(u)}政府开放日活动实施方案.docx", scenario="plan-ok",
                  note="valid plan; Foxmail: GBK subject, filename=\"=?GBK?B?...?=\", GBK body + HTML")
        # someone else writes "from" the same 163.com address, without 163's DKIM signature: a
        # 10-person "revised plan" that must never replace the genuine one (held as 待核实)
        addr, name = who(u)
        arrive = _at(_workday(d0 + timedelta(days=3)), 21, 14, 5)
        b = MailBuilder(from_addr=addr, from_name=name, to=office_address, subject=f"{short(u)}实施方案（修改版）",
                        date=arrive - timedelta(seconds=3), client="generic", dkim=False, received_at=arrive,
                        text="方案有调整，以此版为准。")
        b.attach(f"{short(u)}政府开放日活动实施方案（修改版）.docx",
                 plan_of(u, day, arrive.date(), participants=10, qa=False, survey=False))
        add(arrive, b.build(), addr, u, None, "forged",
            "forged: the unit's 163.com address without a DKIM signature → 待核实, never filed or answered")
    f = slot(2)
    if f:
        day, u = f
        first_plans["resend"] = plan_mail(
            u, day, _at(_workday(d0 + timedelta(days=2)), 15, 40, 2), client="outlook",
            subject=f"关于报送{u.name}{year}年“政府开放日”活动实施方案的函",
            filename=f"{u.name}“政府开放日”活动实施方案.docx", scenario="plan-ok",
            note="valid plan; Outlook: gb2312 subject, RFC 2231 filename*")
    f = slot(3)
    if f:
        day, u = f
        plan_mail(u, day, _at(_workday(d0 + timedelta(days=3)), 11, 20, 45), client="iphone",
                  subject=f"{u.name}{year}年政府开放日活动实施方案（请审核）",
                  filename=f"{u.name}{year}年“政府开放日”活动实施方案（定稿，请审核备案）.docx",
                  scenario="plan-ok",
                  note="valid plan; iPhone: long RFC 2231 filename*0*/*1* continuations, name=\"___.docx\"")
    f = slot(4)
    if f:
        day, u = f
        plan_mail(u, day, _at(_workday(d0 + timedelta(days=4)), 9, 48, 20), client="163web",
                  subject=f"{short(u)}校园开放日活动实施方案",
                  filename=f"{u.name}“校园开放日”活动实施方案.docx", scenario="plan-forbidden-name",
                  event_name="校园开放日",
                  note="plan named “校园开放日” (forbidden name, 三(二))")
    f = slot(5)
    if f:
        day, u = f
        plan_mail(u, day, _at(_workday(d0 + timedelta(days=4)), 16, 30, 8), client="foxmail",
                  subject=f"报送：{u.name}“政府开放日”活动方案",
                  filename=f"{short(u)}政府开放日活动方案.docx", scenario="plan-ok", layout="prose",
                  kind_title="方案",
                  note="valid plan, announcement as prose paragraphs instead of a table")
    f = slot(6)
    if f:
        day, u = f
        plan_mail(u, day, _at(_workday(due - timedelta(days=4)), 10, 15, 33), client="foxmail",
                  subject=f"{u.name}政府开放日实施方案",
                  filename=f"{short(u)}政府开放日实施方案.docx", scenario="plan-needs-fix",
                  style="rfc2231-gbk", participants=18, omit=("温馨提示",), qa=False, survey=False,
                  forms=("进机关",),
                  note="plan missing 温馨提示, 18人 (<25), no 座谈问答/问卷调查; RFC 2231 GBK filename*=gbk''")
    # slot(7) (the last fixed-date unit) never submits: reminders are due for it.

    o0 = other(0)
    o0_day = _workday(campaign.window_start + timedelta(days=14))
    if o0:
        plan_mail(o0, o0_day, _at(_workday(due - timedelta(days=4)), 14, 50, 12), client="outlook",
                  subject=f"关于报送{o0.name}{year}年“政府开放日”活动实施方案的报告",
                  filename=f"{o0.name}{year}年“政府开放日”活动实施方案.docx", scenario="plan-ok",
                  forms=("进机关", "进现场", "进会议"),
                  note="valid plan of a unit without a fixed date (activity inside the window)")
    o1 = other(1)
    if o1:
        day = _workday(campaign.window_start + timedelta(days=19))
        arrive = _at(_workday(due - timedelta(days=3)), 8, 55, 40)
        qq = "3516288472@qq.com"
        data = plan_of(o1, day, arrive.date() - timedelta(days=1))
        b = MailBuilder(from_addr=qq, from_name=o1.contact, to=office_address, subject=f"{short(o1)}开放日方案",
                        date=arrive - timedelta(seconds=31), client="qqmail", received_at=arrive,
                        text=f"您好，这是{o1.name}的政府开放日活动方案，单位邮箱登不上，先用个人邮箱发一下。"
                             f"\r\n{o1.contact} {o1.phone}\r\n")
        b.attach(f"{short(o1)}政府开放日活动实施方案.docx", data)
        add(arrive, b.build(), qq, o1, "plan", "pending",
            "plan from a personal QQ address not on the roster; unit only in subject/file → 待确认, no ack; "
            "QQ mail gb18030 encoded words", on_roster=False)
    o2 = other(2)
    if o2:
        day = _workday(campaign.window_start + timedelta(days=15))
        arrive = _at(_workday(due - timedelta(days=3)), 17, 10, 5)
        addr, name = who(o2)
        staff = "zhanglin_1990@163.com"
        inner_date = arrive - timedelta(hours=2, minutes=14)
        data = plan_of(o2, day, inner_date.date())
        inner = (MailBuilder(from_addr=staff, from_name="张林", to=addr, to_name=short(o2),
                             subject=f"{short(o2)}政府开放日活动实施方案（终稿）", date=inner_date,
                             client="163web", text="局办公室：\r\n    开放日方案终稿已按领导意见修改，请转报县政务公开办。\r\n")
                 .attach(f"{short(o2)}政府开放日活动实施方案（终稿）.docx", data).build())
        b = MailBuilder.forwarded(inner, from_addr=addr, from_name=name, to=office_address,
                                  date=arrive - timedelta(seconds=20), client="foxmail", received_at=arrive,
                                  text=covering(o2, f"我局{year}年“政府开放日”活动实施方案（见转发邮件附件）"))
        add(arrive, b.build(), addr, o2, "plan", "forwarded",
            "plan forwarded as a message/rfc822 attachment (转发：…) from the unit's address")
    f = slot(2)
    if f and "resend" in first_plans:
        day, u = f
        arrive = _at(_workday(due - timedelta(days=2)), 9, 30, 18)
        addr2 = u.emails[1] if len(u.emails) > 1 else u.emails[0]
        orig = BytesParser(policy=policy.default).parsebytes(first_plans["resend"])
        att = next(p for p in orig.iter_attachments())
        b = MailBuilder(from_addr=addr2, from_name=u.contact, to=office_address, to_name=office_name,
                        subject=f"关于报送{u.name}{year}年“政府开放日”活动实施方案的函",
                        date=arrive - timedelta(seconds=40), client="outlook", received_at=arrive,
                        text=covering(u, f"我局{year}年“政府开放日”活动实施方案",
                                      "前几日已发送，未收到回执，现重新发送一次。"))
        b.attach(att.get_filename(), att.get_content())
        add(arrive, b.build(), addr2, u, "plan", "resend",
            "the same file sent again (identical bytes) from the unit's second roster address")
    o3 = other(3)
    if o3:
        day = _workday(campaign.preferred_end + timedelta(days=12))
        plan_mail(o3, day, _at(_workday(due - timedelta(days=2)), 11, 2, 54), client="iphone",
                  subject=f"{o3.name}关于{year}年度“政府开放日”活动的实施方案",
                  filename=f"{short(o3)}开放日实施方案.docx", scenario="plan-ok", layout="prose",
                  participants_text=f"{30}余人", forms=("进现场",),
                  note="activity after the preferred month but inside the window; headcount “30余人”")
    arrive = _at(_workday(due - timedelta(days=1)), 10, 22, 7)
    citizen = "wangxiulan1965@sina.com"
    cb = MailBuilder(from_addr=citizen, from_name="王秀兰", to=office_address, client="generic",
                     subject="咨询：政府开放日活动怎么报名？", date=arrive - timedelta(seconds=15),
                     received_at=arrive,
                     text="您好：\r\n    我在网上看到县里要搞政府开放日活动，我是一名退休职工，想报名参加，"
                          "请问在哪里报名？需要带什么材料？谢谢！\r\n王秀兰\r\n")
    add(arrive, cb.build(), citizen, None, None, "unknown",
        "a citizen's question from an unknown address; names no unit → 未识别", on_roster=False)
    arrive = _at(due - timedelta(days=1), 20, 0, 3)
    add(arrive, mailing_list(office_address, date=arrive - timedelta(seconds=2)), "weekly@list.zwxx-news.cn",
        None, None, "automatic", "newsletter with List-Id / Precedence: list → no reply", on_roster=False)
    o6 = other(6) or other(5)
    if o6:
        arrive = _at(due, 8, 31, 9)
        addr, name = who(o6)
        reminder_id = f"<reminder.{hashlib.sha1(addr.encode()).hexdigest()[:10]}@{office_address.partition('@')[2]}>"
        raw = out_of_office(office_address, addr, from_name=name, date=arrive - timedelta(seconds=4),
                            original_subject=f"关于报送{year}年“政府开放日”活动实施方案的提醒",
                            in_reply_to=reminder_id)
        add(arrive, raw, addr, o6, None, "automatic",
            "Outlook 自动回复 from a roster address (Auto-Submitted: auto-replied) → never answered")
    o4 = other(4)
    if o4:
        day = _workday(campaign.window_start + timedelta(days=22))
        plan_mail(o4, day, _at(_workday(due + timedelta(days=1)), 9, 5, 51), client="legacy",
                  subject=f"{short(o4)}政府开放日活动方案（补报）",
                  filename=f"{short(o4)}政府开放日活动方案.docx", scenario="plan-late",
                  note="plan after the due date; old client: raw 8-bit GBK subject, From name and filename")
    o7 = other(7)
    if o7 and o7.emails:
        arrive = _at(_workday(due + timedelta(days=1)), 14, 12, 26)
        local, _, dom = o7.emails[0].partition("@")
        typo = f"{local[:-1]}@{dom}"
        sent = (MailBuilder(from_addr=office_address, from_name=office_name, to=typo,
                            subject=f"关于报送{year}年“政府开放日”活动实施方案的提醒",
                            date=arrive - timedelta(minutes=1, seconds=12), client="163web",
                            text=f"{o7.name}：\r\n    贵单位{year}年“政府开放日”活动实施方案尚未报送，请尽快报送。\r\n"))
        raw = bounce(office_address, sent.build(), date=arrive - timedelta(seconds=3), recipient=typo,
                     reporting_mta=f"m15-163.{office_domain}", postmaster_domain=office_domain)
        add(arrive, raw, f"MAILER-DAEMON@{office_domain}", None, None, "automatic",
            "163.com 系统退信 (multipart/report, Return-Path: <>) of the office's own mail to a mistyped "
            "address → never answered", on_roster=False)
    arrive = _at(_workday(due + timedelta(days=4)), 3, 14, 15)
    add(arrive, malformed("mixed", to_addr=office_address, date=arrive - timedelta(seconds=9)),
        "no-reply@invalid", None, None, "malformed",
        "truncated multipart, broken base64, wrong boundary, 8-bit junk in headers → recorded, never crashes",
        on_roster=False)
    if o0:
        new_day = o0_day + timedelta(days=7)
        arrive = _at(_workday(campaign.window_start), 10, 40, 16)
        addr, name = who(o0)
        data = adjustment_docx(o0.name, old_date=o0_day, new_date=new_day, reason="活动当天需承办全县重点项目观摩活动",
                               signed=arrive.date(), contact=o0.contact, phone=o0.phone, office=office_name,
                               region=region, notice=notice)
        b = MailBuilder(from_addr=addr, from_name=name, to=office_address, to_name=office_name,
                        subject=f"关于调整{o0.name}“政府开放日”活动时间的报告", date=arrive - timedelta(seconds=33),
                        client="outlook", received_at=arrive,
                        text=covering(o0, "我局“政府开放日”活动时间调整的报告"))
        b.attach(f"关于调整{short(o0)}政府开放日活动时间的报告.docx", data)
        add(arrive, b.build(), addr, o0, "adjustment", "adjustment",
            f"改期 {o0_day} → {new_day}, reported well ahead (≥ 3 days)")
    f = slot(5)
    if f:
        day, u = f
        arrive = _at(day - timedelta(days=2), 17, 45, 12)
        addr, name = who(u)
        new_day = day + timedelta(days=7)
        b = MailBuilder(from_addr=addr, from_name=name, to=office_address, to_name=office_name,
                        subject=f"{short(u)}政府开放日活动改期", date=arrive - timedelta(seconds=25),
                        client="foxmail", received_at=arrive,
                        text=(f"{office_short}：\r\n    因近期疫情防控形势变化，我局原定于{md(day)}开展的“政府开放日”活动"
                              f"改期至{md(new_day)}举行，活动内容不变。\r\n    联系人：{u.contact}，"
                              f"联系电话：{u.phone}。\r\n{u.name}\r\n"))
        add(arrive, b.build(), addr, u, "adjustment", "adjustment-late",
            f"改期 {day} → {new_day} reported only 2 days before (< 3 days), text only, no attachment")

    def summary_mail(u, held: date, arrive: datetime, *, client: str, subject: str, filename: str,
                     participants: int, suggestions: int, scenario: str, note: str) -> None:
        addr, name = who(u)
        fb = (f"我局已于{md(held + timedelta(days=9))}在县人民政府门户网站公开反馈意见建议采纳情况。")
        data = summary_docx(u.name, held=held, participants=participants, suggestions=suggestions,
                            feedback=fb, signed=arrive.date(), contact=u.contact, phone=u.phone,
                            region=region, notice=notice)
        b = MailBuilder(from_addr=addr, from_name=name, to=office_address, to_name=office_name,
                        subject=subject, date=arrive - timedelta(seconds=52), client=client, received_at=arrive,
                        text=covering(u, f"我局{year}年“政府开放日”活动开展情况"))
        b.attach(filename, data)
        add(arrive, b.build(), addr, u, "summary", scenario, note)

    f = slot(0)
    if f:
        day, u = f
        summary_mail(u, day, _at(_workday(day + timedelta(days=8)), 15, 3, 27), client="163web",
                     subject=f"{u.name}{year}年“政府开放日”活动开展情况",
                     filename=f"{u.name}{year}年“政府开放日”活动开展情况.docx", participants=35, suggestions=6,
                     scenario="summary", note="summary before its due date")
        # the next morning, the sign-in sheet: a supplement to that summary, not a version of it
        addr, name = who(u)
        arrive = _at(_workday(day + timedelta(days=9)), 9, 12, 40)
        b = MailBuilder(from_addr=addr, from_name=name, to=office_address, to_name=office_name,
                        subject=f"{short(u)}开放日活动签到表", date=arrive - timedelta(seconds=40), client="163web",
                        received_at=arrive, text=covering(u, "我局“政府开放日”活动签到表"))
        b.attach(f"{short(u)}活动签到表.docx", signin_docx(u.name, held=day))
        add(arrive, b.build(), addr, u, "summary", "supplement",
            "sign-in sheet after the summary → 补充材料 attached to it: no new version, not chased")
    f = slot(2)
    if f:
        day, u = f
        summary_mail(u, day, _at(_workday(summary_due - timedelta(days=4)), 10, 11, 9), client="outlook",
                     subject=f"关于报送{u.name}“政府开放日”活动开展情况的报告",
                     filename=f"{short(u)}政府开放日活动开展情况.docx", participants=32, suggestions=5,
                     scenario="summary", note="summary before its due date (Outlook RFC 2231 filename)")
    f = slot(1)
    if f:
        day, u = f
        summary_mail(u, day, _at(_workday(summary_due + timedelta(days=2)), 9, 40, 36), client="foxmail",
                     subject=f"{short(u)}政府开放日活动总结（补报）",
                     filename=f"{short(u)}政府开放日活动总结.docx", participants=28, suggestions=4,
                     scenario="summary-late", note="summary after the campaign's due date")
    if o0:
        held = o0_day + timedelta(days=7)
        summary_mail(o0, held, _at(_workday(held + timedelta(days=1)), 16, 20, 44), client="outlook",
                     subject=f"关于报送{o0.name}“政府开放日”活动开展情况的报告",
                     filename=f"{o0.name}“政府开放日”活动开展情况.docx", participants=30, suggestions=3,
                     scenario="summary",
                     note="summary of an activity held late (after the adjustment): due = activity + feedback window")
    mails.sort(key=lambda m: m.arrival)
    return mails


def demo_mailbox(campaign: Any, roster: Any, office_address: str) -> list[tuple[datetime, bytes]]:
    """The demo campaign's mail as (arrival time, raw bytes), sorted by arrival."""
    return [(m.arrival, m.raw) for m in demo_mails(campaign, roster, office_address)]


def write_maildir(path: Path, messages: Iterable[tuple[datetime, bytes]]) -> None:
    """Deliver messages into a Maildir (created if needed): bytes unchanged, under new/, each
    file's mtime = its arrival time.

    File names are derived from arrival time and content (<epoch>.M<usec>X<sha256[:12]>.samples),
    so name order is arrival order and writing the same message again is a no-op, wherever a
    reader has moved it (new/ or cur/, with or without :2,flags). `mailbot demo` calls this
    once per simulated day with all mail arrived so far.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mb = mailbox.Maildir(str(path), create=True)
    try:
        present = {name.split(":")[0] for sub in ("new", "cur") for name in os.listdir(path / sub)}
        for arrival, raw in messages:
            arrival = aware(arrival)
            ts = arrival.timestamp()
            name = f"{int(ts)}.M{arrival.microsecond}X{hashlib.sha256(raw).hexdigest()[:12]}.samples"
            if name in present:
                continue
            key = mb.add(raw)
            dest = path / "new" / name
            os.rename(path / "new" / key, dest)
            os.utime(dest, (ts, ts))
            present.add(name)
    finally:
        mb.close()
