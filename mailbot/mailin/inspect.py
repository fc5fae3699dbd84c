"""inspect: how mailbot reads one mail, as the SPEC section 4 ``inspect --json`` object.

``inspect_message(raw, file, own_addresses=(), identify=None)`` returns::

    {"file", "message_id", "subject", "from", "date", "automatic", "automatic_reason",
     "unit", "kind", "attachments": [{"filename", "content_type", "size", "sha256"}],
     "problems": [str]}

``from`` is the sender's bare lowercased address (null when the mail names none);
``date`` is ISO 8601 with its offset (null when missing or unreadable);
``message_id`` keeps its angle brackets.  Attachments are listed at every depth: a
forwarded message/rfc822 part is listed itself (as an .eml) and so are the files inside
it.  ``identify`` is an optional callable ``(ParsedMail) -> (unit | None, kind | None)``.
Never raises: what cannot be read goes into ``problems``.
"""

from __future__ import annotations

from typing import Callable, Iterable

from mailbot.mailin.automatic import automatic_reason
from mailbot.mailin.parse import ParsedMail, parse_message

__all__ = ["inspect_message", "inspect_parsed"]

Identify = Callable[[ParsedMail], "tuple[str | None, str | None]"]


def inspect_parsed(mail: ParsedMail, file: str, own_addresses: Iterable[str] = (),
                   identify: Identify | None = None) -> dict:
    problems = list(mail.problems)
    try:
        reason = automatic_reason(mail, own_addresses)
    except Exception as exc:  # a bug here must not hide the rest of the report
        reason = None
        problems.append(f"无法判断是否为自动邮件（{type(exc).__name__}: {str(exc)[:120]}）")
    unit = kind = None
    if identify is not None:
        try:
            unit, kind = identify(mail)
        except Exception as exc:
            problems.append(f"无法识别单位和材料类型（{type(exc).__name__}: {str(exc)[:120]}）")
    date = None
    if mail.date is not None:
        try:
            date = mail.date.isoformat()
        except Exception:
            date = None
    return {
        "file": str(file),
        "message_id": mail.message_id,
        "subject": mail.subject,
        "from": mail.from_addr or None,
        "date": date,
        "automatic": reason is not None,
        "automatic_reason": reason,
        "unit": unit,
        "kind": kind,
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type,
             "size": a.size, "sha256": a.sha256}
            for a in mail.attachments
        ],
        "problems": problems,
    }


def inspect_message(raw: bytes, file: str, own_addresses: Iterable[str] = (),
                    identify: Identify | None = None) -> dict:
    """Read ``raw`` (one message's bytes) the way the pipeline does; never raises."""
    try:
        mail = parse_message(raw)
        return inspect_parsed(mail, file, own_addresses, identify)
    except Exception as exc:  # parse_message never raises; this guards inspect itself
        return {
            "file": str(file), "message_id": None, "subject": "", "from": None, "date": None,
            "automatic": False, "automatic_reason": None, "unit": None, "kind": None,
            "attachments": [],
            "problems": [f"邮件无法读取（{type(exc).__name__}: {str(exc)[:120]}），请人工查看原始邮件"],
        }
