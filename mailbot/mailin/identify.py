"""Who sent a mail (which unit) and what it is (which kind of submission)."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from mailbot.campaign import Campaign, Roster
from mailbot.mailin.parse import ParsedMail


@dataclass(frozen=True)
class Identity:
    unit: str | None        # roster 单位 name
    confirmed: bool         # True: the sender address is on the roster
    kind: str | None        # campaign kind key, None when nothing in subject or names says
    how: str                # Chinese: how the unit was found (shown by inspect and the digest)


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def kind_from_words(text: str, campaign: Campaign) -> str | None:
    """First kind in kind_order whose keyword appears (an adjustment also says 实施方案)."""
    t = _norm(text)
    for key in campaign.kind_order:
        if any(_norm(k) in t for k in campaign.kinds[key].keywords):
            return key
    return None


_REPLY = re.compile(r"^\s*(?:(?:回复|答复|转发|Re|RE|Fw|FW|Fwd|FWD|AW|WG)\s*[:：]\s*)+")
_OURS = re.compile(r"(?:回执|催报|审核结果|每日汇总)[:：]")
_QUOTE = re.compile(r"^(?:>|-{2,}\s*(?:原始邮件|Original Message|Forwarded message|转发的邮件)|"
                    r"(?:发件人|From)\s*[:：]|在.{0,60}写道[:：]\s*$|On .{0,80} wrote:\s*$|_{10,})", re.M | re.I)


def is_reply(subject: str) -> bool:
    """回复：/答复：/Re: (and forwards): the sender is answering or passing on something."""
    return bool(_REPLY.match(subject or ""))


def own_text(body: str) -> str:
    """The sender's own words: the body up to the quoted or forwarded original."""
    m = _QUOTE.search(body or "")
    return (body or "")[:m.start()] if m else (body or "")


def identify(mail: ParsedMail, campaign: Campaign, roster: Roster) -> Identity:
    names = " ".join(a.filename or "" for a in mail.attachments)
    if _OURS.search(mail.subject or ""):
        # a reply to our own 回执/催报: the subject's words are ours; the files say what this is
        kind = kind_from_words(names, campaign) or kind_from_words(mail.subject, campaign)
    else:
        kind = kind_from_words(mail.subject, campaign) or kind_from_words(names, campaign)
    unit = roster.by_email(mail.from_addr)
    if unit is not None:
        return Identity(unit.name, True, kind, f"发件地址 {mail.from_addr} 在单位名单中")
    for where, text in (("主题", mail.subject), ("附件名", names), ("正文", own_text(mail.body_text)[:2000]),
                        ("发件人名称", mail.from_name)):
        unit = roster.find_in_text(text)
        if unit is not None:
            return Identity(unit.name, False, kind,
                            f"发件地址 {mail.from_addr or '（无）'} 不在单位名单中，按{where}判断为“{unit.name}”，待确认")
    return Identity(None, False, kind, f"发件地址 {mail.from_addr or '（无）'} 不在单位名单中，主题和附件名中也没有单位名称")
