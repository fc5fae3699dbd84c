"""What happens to one incoming mail, decided once: a chain of small named rules (Mailman-style).

Each rule looks at the facts gathered about the mail (`Incoming`: the parsed mail, who it names,
the sender verdict, the day's filing counts) and either passes or decides. The first rule that
decides ends the chain; a mail no rule stops is filed. The `Decision` carries the status, the
Chinese reason, whether and how the sender is answered, and the trail of rules that were asked —
so `inspect`, the ledger and a test can say why. The pipeline only carries the decision out
(archive, ledger, queue); nothing here writes.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Callable

from mailbot.mailin import authenticity
from mailbot.mailin.automatic import automatic_reason
from mailbot.mailin.identify import Identity, is_reply, own_text
from mailbot.mailin.parse import ParsedMail
from mailbot.vocab import Status

FILED = Status.FILED
REPLY_ACK, REPLY_NOFILE = "ack", "ack_nofile"     # template sets (templates/ack.*, ack_nofile.*)
REPLY_QUERY = "query"                               # templates/query.*: the unit's state in every campaign


@dataclass(frozen=True)
class Incoming:
    """What is known about one mail before it is decided (all read-only)."""
    mail: ParsedMail
    who: Identity
    received: date                        # arrival day, office time zone
    verdict: authenticity.Verdict
    own_addresses: tuple[str, ...] = ()
    accept_from: date | None = None
    dns_retry_hours: float = 24
    filed_today_by_sender: int = 0        # filed mail that arrived the same day from this address
    filed_today_for_unit: int = 0         # ... for this unit
    max_per_sender: int = 10**9
    max_per_unit: int = 10**9
    queries_today_for_unit: int = 0       # 查询 mails from this unit that arrived the same day, before this one
    max_queries_per_unit: int = 10**9
    empty_return: str | None = None       # the kind's empty_return_words entry the mail says (无内容报送)


@dataclass(frozen=True)
class Decision:
    status: Status                        # FILED, or a hold status (vocab.Status: label, hold folder)
    reason: str | None                    # Chinese; None for a plain filing
    reply: str | None = None              # None | REPLY_ACK | REPLY_NOFILE | REPLY_QUERY
    trail: tuple[str, ...] = field(default=())   # the rules asked, in order; the last one decided

    @property
    def rule(self) -> str:
        return self.trail[-1] if self.trail else ""


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    check: Callable[[Incoming], Decision | None]


# --- the rules ----------------------------------------------------------------------------------

def _own(m: Incoming) -> Decision | None:
    if m.mail.from_addr and m.mail.from_addr in m.own_addresses:
        return Decision(Status.OWN, "本邮箱自己发出的邮件，不处理。")
    return None


def _unparsable(m: Incoming) -> Decision | None:
    if not m.mail.from_addr and not m.mail.attachments and m.mail.problems:
        return Decision(Status.UNPARSABLE, "；".join(m.mail.problems))
    return None


def _automatic(m: Incoming) -> Decision | None:
    reason = automatic_reason(m.mail, m.own_addresses)
    return Decision(Status.AUTOMATIC, reason) if reason else None


def _before(m: Incoming) -> Decision | None:
    if m.accept_from and m.received < m.accept_from:
        return Decision(Status.BEFORE, f"邮件于 {m.received:%Y-%m-%d} 到达，早于本次活动的收件起始日 {m.accept_from}"
                                  f"（规则文件 [campaign] accept_from），只存档，不登记、不回复。")
    return None


def _untrusted(m: Incoming) -> Decision | None:
    v, who = m.verdict, m.who
    if v.trusted:
        return None
    if who.unit is None:
        return Decision(Status.UNMATCHED, "；".join(x for x in (who.how, v.reason) if x))
    if v.level == authenticity.PENDING:
        return Decision(Status.UNTRUSTED, f"{v.reason}；DNS 恢复后自动登记并回执，{m.dns_retry_hours:g} 小时内仍查不到则按规则判定。")
    return Decision(Status.UNTRUSTED, f"{v.reason}。已存档，不登记、不回复；请电话向{who.unit}核实，"
                                 f"确为其发出的，运行 mailbot accept 编号 接收（mailbot accept 可列出编号）。")


def _unmatched(m: Incoming) -> Decision | None:
    return Decision(Status.UNMATCHED, m.who.how) if m.who.unit is None else None


def _unconfirmed(m: Incoming) -> Decision | None:
    if m.who.confirmed:
        return None
    return Decision(Status.UNCONFIRMED, m.who.how + "。把该地址加入 rules/units.csv 后，下一次收信会确认并发送回执。")


def _query(m: Incoming) -> Decision | None:
    """A rostered, genuine sender asking where its unit stands (查询 in the subject, no file): one
    reply with its state in every campaign, at most N a day per unit (arrival day); beyond that
    the mail is recorded, not answered. A 查询 mail with files is a submission like any other."""
    if not is_query(m.mail):
        return None
    limit, day = m.max_queries_per_unit, m.received.isoformat()
    if limit <= 0:
        return Decision(Status.QUERY, "单位查询进度；自动答复已关闭（[office] max_queries_per_unit_per_day = 0），"
                                      "已登记，未答复，如需答复请人工处理。")
    if m.queries_today_for_unit >= limit:
        return Decision(Status.QUERY, f"{m.who.unit} 在 {day} 已查询 {m.queries_today_for_unit} 次，达到每日自动答复上限"
                                      f"（[office] max_queries_per_unit_per_day = {limit}），本封已登记，不再答复。")
    return Decision(Status.QUERY, "主题含“查询”：" + Status.QUERY.explanation + "（各项收集的报送进度）。", REPLY_QUERY)


def _no_files(m: Incoming) -> Decision | None:
    """A unit's mail without attachments is filed when its text is the submission (an
    adjustment reported in the mail, a download link); a short one naming a kind gets ONE reply
    asking for the file (not to replies: a question to us is for a person)."""
    if m.mail.attachments or body_is_submission(m.mail, m.who) or m.empty_return:
        return None                    # (“本月无内容报送” in a line is that period's whole return)
    if m.who.kind and not is_reply(m.mail.subject):
        return Decision(Status.NOATTACH, "邮件没有附件，正文也不像报送材料，未登记；已回复发件人请补发附件。", REPLY_NOFILE)
    return Decision(Status.NOATTACH, "邮件没有附件，正文也不像报送材料，未登记；如需登记或回复请人工处理。")


def _flood(m: Incoming) -> Decision | None:
    """Per-sender and per-unit filing quotas per arrival day."""
    day = m.received.isoformat()
    for count, limit, who, key in ((m.filed_today_by_sender, m.max_per_sender, m.mail.from_addr,
                                    "max_filed_per_sender_per_day"),
                                   (m.filed_today_for_unit, m.max_per_unit, m.who.unit, "max_filed_per_unit_per_day")):
        if count >= limit:
            return Decision(Status.FLOOD, f"{who} 在 {day} 已登记 {limit} 封邮件，达到每日上限（[limits] {key}），"
                                     f"本封只存档、不登记、不回复；确需登记的，运行 mailbot accept 编号。")
    return None


CHAIN: tuple[Rule, ...] = (
    Rule("own", "our own mail (the office's address) is never filed or answered", _own),
    Rule("unparsable", "no sender, no files, only problems: keep it for a person", _unparsable),
    Rule("automatic", "RFC 3834: bounces, 自动回复, lists are never answered", _automatic),
    Rule("before", "arrived before the campaign's accept_from", _before),
    Rule("untrusted", "the sender is not who From says (authenticity.py): 待核实", _untrusted),
    Rule("unmatched", "no unit found by address or content", _unmatched),
    Rule("unconfirmed", "unit known from content only: 待确认 until the roster has the address", _unconfirmed),
    Rule("query", "查询 in the subject, no file: the unit's state in every campaign, N a day per unit", _query),
    Rule("no-files", "no attachment and the text is not a submission", _no_files),
    Rule("flood", "over the day's filing quota for the sender or the unit", _flood),
)


def decide(m: Incoming, chain: tuple[Rule, ...] = CHAIN) -> Decision:
    """Run the chain; the first rule that decides ends it. Unstopped mail is filed and acknowledged."""
    trail: list[str] = []
    for rule in chain:
        trail.append(rule.name)
        hit = rule.check(m)
        if hit is not None:
            return replace(hit, trail=tuple(trail))
    return Decision(FILED, None, REPLY_ACK, tuple(trail))


# --- what counts as a submission without attachments ----------------------------------------------

BODY_MIN_CHARS = 30

# 163/126/QQ "超大附件" and cloud-drive shares put a download link in the text instead of a file.
_LARGE_LINK = re.compile(r"https?://[^\s<>\"']*(?:ftn|largeattach|large_attach|dashi\.163\.com|"
                         r"pan\.baidu\.com|share\.weiyun\.com|cowtransfer|wenshushu)[^\s<>\"']*", re.I)
_LARGE_WORDS = ("超大附件", "文件中转站", "网盘链接", "百度网盘", "下载链接")
LARGE_ATTACHMENT_REASON = ("材料是超大附件或网盘下载链接，系统不会自动下载，已转工作人员人工下载审核；"
                           "如方便，请把文件直接作为附件重新发送")


def large_attachment_links(text: str) -> list[str]:
    """Download links (or the words for them) standing in for attached files."""
    links = _LARGE_LINK.findall(text or "")
    if not links and any(w in (text or "") for w in _LARGE_WORDS):
        links = [next(w for w in _LARGE_WORDS if w in text)]
    return links


def body_is_submission(mail: ParsedMail, who: Identity) -> bool:
    """A mail without attachments counts when it carries a download link, or when its subject
    names a kind and its own text says something (departments often report an adjustment in the
    mail text itself)."""
    if large_attachment_links(mail.body_text):
        return True
    return who.kind is not None and len("".join(own_text(mail.body_text).split())) >= BODY_MIN_CHARS


# --- what counts as a 查询 (a unit asking where it stands) ------------------------------------------

_ASKS = re.compile(r"查[询詢]")          # 查询进度, 进度查询, 查询审核结果 … (and the traditional form)
# the subjects of our own mails (identify._OURS, and our answer to a 查询): a reply to one of them
# that happens to say 查询 is a reply, not a new question
_OURS = re.compile(r"(?:回执|催报|审核结果|每日汇总|查询结果)[:：]")


def is_query(mail: ParsedMail) -> bool:
    """The subject asks for the unit's state (查询, NFKC, spaces ignored), it is not a reply to one
    of our own mails, and nothing is submitted with it: no attachment, no download link."""
    subject = "".join(unicodedata.normalize("NFKC", mail.subject or "").split())
    if not _ASKS.search(subject) or _OURS.search(subject):
        return False
    return not mail.attachments and not large_attachment_links(mail.body_text)
