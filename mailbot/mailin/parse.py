"""parse: raw message bytes -> ParsedMail (envelope, body text, attachments, problems).

Contract
--------
``parse_message(raw)`` never raises.  Whatever cannot be read is described, in Chinese,
in ``ParsedMail.problems``; everything that can be read is returned.

The MIME tree comes from the standard library (``BytesParser`` with a hardened
``policy.default``).  Header *values* that matter (Subject, From, To, Date, Message-ID,
Content-Type / Content-Disposition parameters) are decoded here, from the raw header
text, because real Chinese mail needs more than the standard library does:

* RFC 2047 encoded words labelled gb2312/gbk/cp936/x-gbk are decoded as GB18030
  (senders label GBK text "gb2312"; 國 and 镕 are not in GB2312);
* adjacent encoded words of one charset are joined *before* decoding (clients split
  multi-byte characters across words);
* encoded words inside quoted parameters (Foxmail/QQ ``filename="=?GBK?B?...?="``);
* RFC 2231 ``filename*=`` with continuations; a charset without a codec
  (``iso-2022-cn``) falls back to the next name parameter;
* raw 8-bit header bytes are retried as UTF-8, then GB18030 (GB2312 repertoire), then
  Windows-1252 when that reads as letters, then GB18030 with replacement;
* the filename comes from Content-Disposition ``filename``, then its ``name``, then
  Content-Type ``name``; iPhone's ``_____.txt`` placeholder, and a name holding "?"
  (an encoder's stand-in for a lost character), lose to a real name.

Hardening (CPython email bugs: cpython#136063 quadratic header parsing, #151857
IndexError, #143712 re-serialising): the parser's policy hands Message plain unfolded
header strings capped at 16 KiB instead of structured header objects; every header
value we decode is capped at ``max_header_bytes``; at most ``max_parts`` MIME entities
are read, multiparts nest at most 30 deep and forwarded messages 5 deep; each part is
read under its own ``try``.  Two common breakages are repaired on a copy used only for
parsing: top-level header lines folded without indentation, and a top-level boundary
that the body never uses while it plainly uses another.

Attachments are every non-body leaf of the tree, at every depth: inline images with or
without a name, nameless non-text parts, uuencoded blocks inside a text body, and each
forwarded ``message/rfc822`` part (its bytes exactly as received, as an ``.eml``;
named from its Subject when it has no name) *and* the attachments inside it
(``depth`` + 1).  Body parts are the text/plain and text/html leaves that have no file
name and are not ``Content-Disposition: attachment``.

``message_id`` keeps its angle brackets: ``"<abc@example.com>"`` (brackets added when
the header lacks them), ready for In-Reply-To / References.  ``None`` when absent.

Inbound mail is never re-serialised: attachment bytes are decoded from the received
payload, and a message/rfc822 part's bytes are cut from the received message.

The work is split by job: `charsets` (bytes → text when labels lie), `headerdecode` (encoded
words, parameters, file names), `mimetree` (the hardened parser, repairs, byte offsets),
`mimewalk` (attachments and body parts), `transfer` (base64, quoted-printable, uuencode),
`bodytext` (plain, else HTML as text); this module reads the envelope and puts it together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from mailbot.mailin import bodytext, mimewalk
from mailbot.mailin.charsets import clean_text, fix_8bit, no_surrogates
from mailbot.mailin.headerdecode import decode_header_value, unfold
from mailbot.mailin.mimetree import (POLICY, bytes_parse, message_charset, repair_boundary,
                                     repair_header_block, stored_payload)
from mailbot.mailin.mimewalk import Attachment, Walker

__all__ = ["Attachment", "ParsedMail", "parse_message", "decode_header_value"]

DEFAULT_MAX_HEADER_BYTES = 64 * 1024   # one header field's value, as received
DEFAULT_MAX_PARTS = 1000               # MIME entities visited
DEFAULT_MAX_BODY_CHARS = 200_000       # body_text length
MAX_HEADERS = 2000                      # top-level header fields listed in ParsedMail.headers


@dataclass(frozen=True)
class ParsedMail:
    message_id: str | None    # "<id@host>" with angle brackets, None if absent
    subject: str
    from_addr: str            # lowercased bare address, "" if none
    from_name: str
    to_addrs: tuple[str, ...]
    date: datetime | None     # aware; None if missing or unreadable
    headers: tuple[tuple[str, str], ...]   # decoded (name, value), top level, in order
    body_text: str
    attachments: tuple[Attachment, ...]
    problems: tuple[str, ...]

    def header(self, name: str) -> str | None:
        """First decoded value of header ``name`` (case-insensitive), or None."""
        low = name.lower()
        for k, v in self.headers:
            if k.lower() == low:
                return v
        return None

    def header_values(self, name: str) -> tuple[str, ...]:
        low = name.lower()
        return tuple(v for k, v in self.headers if k.lower() == low)


# ------------------------------------------------------------------------ envelope


def _message_id(value: str | None) -> str | None:
    if not value:
        return None
    m = re.search(r"<([^<>]+)>", value)
    ident = m.group(1) if m else value
    ident = re.sub(r"\s+", "", ident)
    return f"<{ident}>" if ident else None


def _addresses(value: str, fallback: str | None = None) -> list[tuple[str, str]]:
    try:
        pairs = getaddresses([value])
    except Exception:
        pairs = []
    out = []
    for name, addr in pairs:
        if not name and not addr:
            continue
        out.append((decode_header_value(name, fallback).strip(),
                    fix_8bit(addr, fallback).strip().lower()))
    return out


def _parse_date(value: str | None, problems: list[str]) -> datetime | None:
    if not value or not value.strip():
        return None
    try:
        dt = parsedate_to_datetime(value.strip())
    except Exception:
        dt = None
    if dt is None or not (1970 <= dt.year <= 2200):
        problems.append(f"邮件的发送日期（Date）无法识别：{value.strip()[:80]}")
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt


_DEFECT_PROBLEMS = {
    "StartBoundaryNotFoundDefect": "邮件的 MIME 结构不完整（找不到起始边界），附件可能没有读出",
    "CloseBoundaryNotFoundDefect": "邮件不完整（缺少 MIME 结束边界），最后一个附件可能被截断",
    "NoBoundaryInMultipartDefect": "邮件声明为多部分，但没有给出分隔边界，附件可能没有读出",
}


def _collect_defects(msg: Message, problems: list[str], limit: int = 2000):
    seen = 0
    stack = [msg]
    while stack and seen < limit:
        part = stack.pop()
        seen += 1
        for d in getattr(part, "defects", ()):
            text = _DEFECT_PROBLEMS.get(type(d).__name__)
            if text and text not in problems:
                problems.append(text)
        payload = stored_payload(part) if part.is_multipart() else None
        if isinstance(payload, list):
            stack.extend(p for p in payload if isinstance(p, Message))


def parse_message(raw: bytes, *, max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
                  max_parts: int = DEFAULT_MAX_PARTS,
                  max_body_chars: int = DEFAULT_MAX_BODY_CHARS) -> ParsedMail:
    """Read one RFC 5322 message.  Never raises; see the module docstring."""
    try:
        return _parse(raw, max_header_bytes, max_parts, max_body_chars)
    except Exception as exc:  # last line of defence: the daemon must go on
        return ParsedMail(None, "", "", "", (), None, (), "", (),
                          (no_surrogates(f"邮件无法解析（{type(exc).__name__}: {str(exc)[:120]}），请人工查看原始邮件"),))


def _parse(raw, max_header_bytes, max_parts, max_body_chars) -> ParsedMail:
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raw = str(raw).encode("utf-8", "surrogateescape")
    raw = bytes(raw)
    problems: list[str] = []
    if not raw.strip():
        return ParsedMail(None, "", "", "", (), None, (), "", (), ("邮件内容为空",))
    try:
        msg = bytes_parse(raw)
    except Exception as exc:
        # Fall back to the headers alone so the envelope can still be read.
        problems.append(f"邮件结构无法解析（{type(exc).__name__}），只读取了邮件头，附件需人工查看原始邮件")
        try:
            from email.parser import BytesHeaderParser
            msg = BytesHeaderParser(policy=POLICY).parsebytes(raw)
        except Exception:
            msg = Message(policy=POLICY)
    if any(type(d).__name__ == "MissingHeaderBodySeparatorDefect" for d in msg.defects):
        try:
            repaired = repair_header_block(raw)
            if repaired is not None:
                msg2 = bytes_parse(repaired)
                if len(msg2.keys()) > len(msg.keys()):
                    msg, raw = msg2, repaired
                    problems.append("邮件头格式不规范（有的行缺少缩进），已按续行读取")
        except Exception:
            pass
    if any(type(d).__name__ == "StartBoundaryNotFoundDefect" for d in msg.defects):
        try:
            repaired = repair_boundary(raw, msg)
            if repaired is not None:
                msg2 = bytes_parse(repaired)
                if isinstance(stored_payload(msg2), list) and not any(
                        type(d).__name__ == "StartBoundaryNotFoundDefect" for d in msg2.defects):
                    msg, raw = msg2, repaired
                    problems.append("邮件声明的 MIME 分隔边界与正文实际使用的不一致，已按实际边界读取")
        except Exception:
            pass
    fallback = None
    try:
        fallback = message_charset(msg)
    except Exception:
        pass

    # ---- top-level headers, decoded
    headers: list[tuple[str, str]] = []
    long_noted = False
    items = list(msg.raw_items())
    if len(items) > MAX_HEADERS:
        problems.append(f"邮件头超过 {MAX_HEADERS} 行，其余的没有读取")
        items = items[:MAX_HEADERS]
    for name, value in items:
        value = value if isinstance(value, str) else str(value)
        if len(value) > max_header_bytes:
            if not long_noted:
                problems.append(f"邮件头「{name}」过长（{len(value)} 字节），只读取了前 {max_header_bytes} 字节")
                long_noted = True
            value = value[:max_header_bytes]
        try:
            dec = decode_header_value(unfold(value), fallback).strip()
        except Exception:
            dec = unfold(value).encode("utf-8", "replace").decode("utf-8").strip()
        headers.append((str(name), dec))

    def first_raw(name):
        low = name.lower()
        for k, v in msg.raw_items():
            if k.lower() == low:
                v = v if isinstance(v, str) else str(v)
                return unfold(v[:max_header_bytes])
        return None

    subject = decode_header_value(first_raw("subject") or "", fallback)
    subject = re.sub(r"[\r\n]+", " ", subject).strip()
    from_raw = first_raw("from") or ""
    froms = _addresses(from_raw, fallback) if from_raw else []
    from_name, from_addr = froms[0] if froms else ("", "")
    to_addrs = tuple(a for _, a in _addresses(", ".join(
        unfold(v[:max_header_bytes]) for k, v in msg.raw_items()
        if k.lower() == "to" and isinstance(v, str))) if a)
    date = _parse_date(first_raw("date"), problems)
    message_id = _message_id(first_raw("message-id"))

    # ---- body and attachments
    walker = Walker(max_parts, max_header_bytes)
    try:
        walker.walk_message(msg, raw, 0)
    except Exception as exc:
        if mimewalk.DEBUG:
            raise
        walker.problem(f"读取附件时出错（{type(exc).__name__}: {str(exc)[:120]}），请人工查看原始邮件")
    _collect_defects(msg, problems)
    problems.extend(p for p in walker.problems if p not in problems)

    body = bodytext.body_text(walker.plain, walker.html, max_body_chars)

    attachments = tuple(
        a if a.filename is None or a.filename.isascii()
        else Attachment(no_surrogates(a.filename), a.content_type, a.data, a.disposition, a.depth)
        for a in walker.attachments)
    return ParsedMail(
        message_id=clean_text(message_id) if message_id else None,
        subject=clean_text(subject),
        from_addr=clean_text(from_addr),
        from_name=clean_text(from_name),
        to_addrs=tuple(clean_text(a) for a in to_addrs),
        date=date,
        headers=tuple((clean_text(k), clean_text(v)) for k, v in headers),
        body_text=clean_text(body),
        attachments=attachments,
        problems=tuple(no_surrogates(p) for p in problems),
    )
