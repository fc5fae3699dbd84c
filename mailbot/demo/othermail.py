"""The other mail an office mailbox gets, as real senders write it: an Outlook 自动回复, a 163.com
退信, a newsletter, and broken MIME (truncated, bad base64, wrong boundary, junk 8-bit)."""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from email import policy
from email.parser import BytesParser
from email.utils import format_datetime, parseaddr

from mailbot.cndate import md
from mailbot.demo.mailbuilder import (CRLF, DOCX_TYPE, MailBuilder, b64_lines, crlf, decoded_subject,
                                      encode_header_text)
from mailbot.demo.seeds import aware

def out_of_office(to_addr: str, from_addr: str, *, date: datetime, original_subject: str = "",
                  in_reply_to: str | None = None, from_name: str = "",
                  text: str | None = None, until: date | None = None) -> bytes:
    """An Outlook 自动回复 (Auto-Submitted: auto-replied, X-Auto-Response-Suppress: All)."""
    date = aware(date)
    until = until or (date.date() + timedelta(days=6))
    body = text or (f"您好！本人{md(date.date())}至{md(until)}外出学习，期间不能及时查看邮件，"
                    "您的来信将在返回后尽快处理。如有急事，请联系单位办公室。\r\n\r\n此邮件为自动回复。")
    b = MailBuilder(from_addr=from_addr, from_name=from_name, to=to_addr, date=date,
                    subject=f"自动回复: {original_subject}".rstrip(": ").rstrip(),
                    text=body, client="outlook", in_reply_to=in_reply_to)
    b.add_header("Thread-Topic", "auto-reply")
    b.add_header("Auto-Submitted", "auto-replied")
    b.add_header("X-Auto-Response-Suppress", "All")
    b.add_header("X-MS-Exchange-Inbox-Rules-Loop", from_addr)
    return b.build()


def bounce(to_addr: str, original: bytes, *, date: datetime, recipient: str | None = None,
           diagnostic: str = "550 User not found: {rcpt}", reporting_mta: str = "m15-163.163.com",
           postmaster_domain: str = "163.com") -> bytes:
    """A 163.com-style 系统退信: multipart/report; report-type=delivery-status from MAILER-DAEMON,
    Return-Path: <>, with the original mail as message/rfc822."""
    date = aware(date)
    orig = BytesParser(policy=policy.default).parsebytes(original)
    rcpt = recipient or parseaddr(str(orig.get("to", "")))[1] or "unknown@invalid"
    subj = decoded_subject(orig)
    diag = diagnostic.format(rcpt=rcpt)
    seed = hashlib.sha256(original + date.isoformat().encode()).hexdigest()
    boundary = f"----=_Part_DSN_{seed[:12]}"
    human = ("您好！\r\n\r\n很抱歉，您发送的邮件被退回，以下是该邮件的相关信息：\r\n\r\n"
             f"    被退回的邮件主题：{subj}\r\n"
             f"    发送时间：{orig.get('date', '')}\r\n"
             f"    无法送达的收件人：{rcpt}\r\n\r\n"
             f"退信原因：收件人邮箱地址不存在（{diag}）。\r\n"
             "建议解决方案：请核实收件人邮箱地址是否正确后重新发送。\r\n\r\n"
             "此为系统邮件，请勿直接回复。\r\n").encode("utf-8")
    status = (f"Reporting-MTA: dns; {reporting_mta}\r\n"
              f"X-Postfix-Queue-ID: {seed[12:22].upper()}\r\n"
              f"Arrival-Date: {orig.get('date', format_datetime(date))}\r\n\r\n"
              f"Final-Recipient: rfc822; {rcpt}\r\n"
              f"Original-Recipient: rfc822; {rcpt}\r\n"
              "Action: failed\r\nStatus: 5.1.1\r\n"
              f"Remote-MTA: dns; mx.{rcpt.partition('@')[2] or 'invalid'}\r\n"
              f"Diagnostic-Code: smtp; {diag}\r\n").encode("ascii")
    o = crlf(original)
    parts = [
        b"Return-Path: <>",
        f"Received: from {reporting_mta} by {reporting_mta} (Postfix) id {seed[12:22].upper()};".encode()
        + b"\r\n\t" + format_datetime(date).encode("ascii"),
        f"Date: {format_datetime(date)}".encode("ascii"),
        f"From: MAILER-DAEMON@{postmaster_domain} (Mail Delivery System)".encode("ascii"),
        f"To: {to_addr}".encode("ascii"),
        b"Subject: " + encode_header_text("系统退信", "utf8-b"),
        f"Message-ID: <{seed[22:38]}.DSN@{reporting_mta}>".encode("ascii"),
        b"Auto-Submitted: auto-replied",
        b"MIME-Version: 1.0",
        f"Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\"".encode(),
        b"",
        b"This is a MIME-encapsulated message.",
        b"",
        f"--{boundary}".encode(),
        b"Content-Description: Notification",
        b"Content-Type: text/plain; charset=utf-8",
        b"Content-Transfer-Encoding: base64",
        b"",
        b64_lines(human),
        f"--{boundary}".encode(),
        b"Content-Description: Delivery report",
        b"Content-Type: message/delivery-status",
        b"",
        status,
        f"--{boundary}".encode(),
        b"Content-Description: Undelivered Message",
        b"Content-Type: message/rfc822",
        b"Content-Transfer-Encoding: " + (b"8bit" if any(x >= 0x80 for x in o) else b"7bit"),
        b"",
        o if o.endswith(CRLF) else o + CRLF,
        f"--{boundary}--".encode(),
        b"",
    ]
    return CRLF.join(parts)


def mailing_list(to_addr: str, *, date: datetime, list_id: str = "zwgk-weekly.list.zwxx-news.cn",
                 from_addr: str = "weekly@list.zwxx-news.cn", from_name: str = "政务信息周刊",
                 subject: str | None = None, issue: int = 35) -> bytes:
    """A newsletter: List-Id, List-Unsubscribe and Precedence: list, HTML + text."""
    date = aware(date)
    subject = subject or f"政务信息周刊（第{issue}期）：政务公开新规解读与基层实践"
    text = (f"政务信息周刊 第{issue}期\r\n\r\n"
            "【本期导读】\r\n"
            "1. 政务公开工作要点解读：如何做好政策解读与回应关切\r\n"
            "2. 基层实践：各地“政府开放日”活动经验做法汇编\r\n"
            "3. 政务新媒体运营规范答问\r\n\r\n"
            "您收到此邮件是因为您订阅了政务信息周刊。如需退订，请点击邮件底部的退订链接。\r\n")
    b = MailBuilder(from_addr=from_addr, from_name=from_name, to=to_addr, date=date, subject=subject,
                    text=text, client="generic", html=True)
    b.add_header("List-Id", encode_header_text(from_name, "utf8-b") + f" <{list_id}>".encode("ascii"))
    b.add_header("List-Unsubscribe", f"<mailto:unsubscribe@{list_id}>, <https://{list_id.partition('.')[2]}"
                                     f"/unsubscribe?u={hashlib.md5(to_addr.encode()).hexdigest()[:12]}>")
    b.add_header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    b.add_header("Precedence", "list")
    b.add_header("X-Campaign-Id", f"weekly-{issue}")
    return b.build()


MALFORMED_VARIANTS = ("mixed", "truncated", "bad-base64", "bad-boundary", "junk-8bit")


def malformed(variant: str = "mixed", *, to_addr: str = "office@example.cn",
              date: datetime | None = None) -> bytes:
    """A broken message. Variants: truncated (multipart cut off mid-attachment, no closing
    boundary), bad-base64 (invalid characters and bad padding), bad-boundary (declared boundary
    never used; parts split by another one), junk-8bit (undecodable 8-bit bytes in headers
    and body, NULs), mixed (all of them in one message)."""
    if variant not in MALFORMED_VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; one of {MALFORMED_VARIANTS}")
    date = aware(date or datetime(2000, 1, 3, 3, 14, 15))
    docx_like = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(range(256)) * 8
    good_b64 = b64_lines(docx_like)
    head = [f"Date: {format_datetime(date)}".encode(), b"From: \"\xd5\xc5\xff\xfe\x80\" <no-reply@\xff.example>",
            f"To: {to_addr}".encode(), b"Subject: =?GBK?B?yrXKqbe9sLg=?= =?UTF-8?B?broken!!?= \xb1\xa8\xcb\xcd",
            b"Message-ID: <malformed-" + variant.encode() + b"@samples.invalid>", b"MIME-Version: 1.0"]
    text = "附件为实施方案，请查收。".encode("gbk")
    if variant == "truncated":
        body = [b'Content-Type: multipart/mixed; boundary="==trunc=="', b"", b"--==trunc==",
                b"Content-Type: text/plain; charset=gbk", b"Content-Transfer-Encoding: 8bit", b"", text,
                b"--==trunc==", b"Content-Type: application/msword; name=\"plan.doc\"",
                b"Content-Transfer-Encoding: base64", b"", good_b64[: len(good_b64) // 3]]
    elif variant == "bad-base64":
        body = [b'Content-Type: multipart/mixed; boundary="==b64=="', b"", b"--==b64==",
                b"Content-Type: text/plain; charset=utf-8", b"Content-Transfer-Encoding: base64", b"",
                b"6ZmE5Lu25Li65a6e5pa95pa55qGI!!!\xa1\xa2", b"--==b64==",
                b"Content-Type: " + DOCX_TYPE.encode() + b"; name=\"plan.docx\"",
                b"Content-Disposition: attachment; filename=\"plan.docx\"",
                b"Content-Transfer-Encoding: base64", b"", b"UEsDBBQ@@@@AAAgAAAAhAA===x==\r\nQUJD\r\n=", b"--==b64==--", b""]
    elif variant == "bad-boundary":
        body = [b'Content-Type: multipart/mixed; boundary="declared-boundary"', b"", b"--other-boundary",
                b"Content-Type: text/plain; charset=gbk", b"", text, b"--other-boundary",
                b"Content-Type: application/octet-stream; name=\"a.docx\"", b"Content-Transfer-Encoding: base64",
                b"", good_b64, b"--other-boundary--", b""]
    elif variant == "junk-8bit":
        body = [b"Content-Type: text/plain; charset=us-ascii", b"Content-Transfer-Encoding: 7bit",
                b"X-Junk: \x00\x01\xff\xfe\x81\x30\x89", b"", b"\xff\xfe\x00\x00\xd5\xc5" + text + b"\x00\xe9\x80"]
    else:  # mixed
        body = [b'Content-Type: multipart/mixed; boundary="declared-boundary"', b"X-Junk: \xff\xfe\x80\x00",
                b"", b"--declared-boundary", b"Content-Type: text/plain; charset=\"gb2312\"",
                b"Content-Transfer-Encoding: base64", b"", b"uL28/s6qyrXKqbe9sLih!!\xff==", b"--wrong-boundary",
                b"Content-Type: " + DOCX_TYPE.encode() + b";\r\n\tname=\"=?GBK?B?yrXKqbe9sLg=?=.docx\"",
                b"Content-Transfer-Encoding: base64", b"Content-Disposition: attachment; filename=\"\xca\xb5\xca\xa9.docx",
                b"", b"UEsDB$$%%" + good_b64[: len(good_b64) // 4]]
    return CRLF.join(head + body)
