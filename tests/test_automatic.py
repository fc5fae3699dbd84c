"""automatic_reason: never answer a machine (RFC 3834, Zammad/RT/Mailman practice)."""

from __future__ import annotations

import base64

import pytest

from mailbot.mailin.automatic import automatic_reason
from mailbot.mailin.parse import parse_message

OWN = ("xjxzwgkb@163.com",)


def b64w(text: str, charset: str = "gb2312", codec: str = "gbk") -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(codec)).decode()}?="


def mail(headers: str, body: bytes = b"hello\r\n", *, attachment: bool = False):
    head = headers.strip("\n").replace("\n", "\r\n").encode("utf-8")
    if not attachment:
        return parse_message(head + b"\r\n\r\n" + body)
    return parse_message(
        head + b"\r\nContent-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n"
        b"--zz\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body +
        b"\r\n--zz\r\nContent-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document;"
        b" name=\"plan.docx\"\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsDBA==\r\n--zz--\r\n")


def department_submission():
    return mail(f"""
From: "{b64w('西吉县民政局')}" <mzj@xiji.gov.cn>
To: xjxzwgkb@163.com
Subject: {b64w('西吉县民政局“政府开放日”实施方案')}
Date: Wed, 24 Aug 2022 10:12:33 +0800
Message-ID: <human-1@xiji.gov.cn>
X-Mailer: Foxmail 7.2.23.121[cn]
""", attachment=True)


def test_department_submission_is_human():
    assert automatic_reason(department_submission(), OWN) is None


def test_outlook_exchange_out_of_office():
    m = mail(f"""
From: =?gb2312?B?wu3D9w==?= <maming@xiji.gov.cn>
To: xjxzwgkb@163.com
Subject: {b64w('自动回复: 回执：西吉县民政局实施方案')}
Thread-Topic: {b64w('回执：西吉县民政局实施方案')}
Auto-Submitted: auto-generated
X-MS-Exchange-Inbox-Rules-Loop: maming@xiji.gov.cn
X-Auto-Response-Suppress: All
Content-Type: text/plain; charset="gb2312"
Content-Transfer-Encoding: base64
""", base64.b64encode("我于9月1日至9月7日休假，期间不在办公室。".encode("gbk")))
    assert m.subject == "自动回复: 回执：西吉县民政局实施方案"
    assert automatic_reason(m, OWN) == "自动回复（Auto-Submitted: auto-generated）"


def test_outlook_rule_reply_with_only_suppress_header():
    m = mail(f"""
From: maming@xiji.gov.cn
To: xjxzwgkb@163.com
Subject: {b64w('自动答复: 催报：请报送实施方案')}
X-Auto-Response-Suppress: DR, RN, NRN, OOF, AutoReply
""")
    assert automatic_reason(m, OWN) == "自动邮件（X-Auto-Response-Suppress: DR, RN, NRN, OOF, AutoReply）"


def netease_bounce():
    original = (
        "From: xjxzwgkb@163.com\r\nTo: nobody@xiji.gov.cn\r\nSubject: "
        + b64w("回执：已收到", "UTF-8", "utf-8") +
        "\r\nContent-Type: multipart/mixed; boundary=\"o\"\r\n\r\n--o\r\nContent-Type: text/plain\r\n\r\n"
        "ack\r\n--o\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64"
        "\r\n\r\nJVBERi0=\r\n--o--\r\n").encode()
    head = (
        "Return-Path: <>\r\n"
        "From: Postmaster@163.com\r\n"
        "To: xjxzwgkb@163.com\r\n"
        f"Subject: {b64w('系统退信', 'UTF-8', 'utf-8')}\r\n"
        "Date: Thu, 25 Aug 2022 09:00:01 +0800 (CST)\r\n"
        "Content-Type: multipart/report; report-type=delivery-status;\r\n"
        "\tboundary=\"----=_Part_report\"\r\n\r\n").encode()
    body = (
        "------=_Part_report\r\nContent-Type: text/plain; charset=UTF-8\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n").encode() + base64.b64encode(
        "很抱歉您发送的邮件被退回，以下是该邮件的相关信息：收件人地址不存在".encode()) + (
        "\r\n------=_Part_report\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; m13-25.163.com\r\n\r\nFinal-Recipient: rfc822; nobody@xiji.gov.cn\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n\r\n"
        "------=_Part_report\r\nContent-Type: message/rfc822\r\n\r\n").encode() + original + \
        b"\r\n------=_Part_report--\r\n"
    return parse_message(head + body), original


def test_163_bounce_multipart_report():
    m, original = netease_bounce()
    assert m.subject == "系统退信"
    assert automatic_reason(m, OWN) == "退信（投递状态报告 multipart/report）"
    # The returned original is readable too (as .eml, and its files one level down).
    kinds = [(a.content_type, a.depth) for a in m.attachments]
    assert kinds == [("message/delivery-status", 0), ("message/rfc822", 0), ("application/pdf", 1)]
    assert m.attachments[1].data == original


def test_plain_text_bounce_from_mailer_daemon():
    m = mail("""
From: MAILER-DAEMON@mx.xiji.gov.cn (Mail Delivery System)
To: xjxzwgkb@163.com
Subject: Undelivered Mail Returned to Sender
""", attachment=True)
    assert automatic_reason(m, OWN) == "退信（发件人为 MAILER-DAEMON）"


def test_read_receipt():
    m = mail("""
From: a@xiji.gov.cn
Subject: read
Content-Type: multipart/report; report-type=disposition-notification; boundary="r"
""", b"--r\r\nContent-Type: text/plain\r\n\r\nread\r\n--r--\r\n")
    assert automatic_reason(m, OWN) == "已读回执（阅读状态报告）"


@pytest.mark.parametrize("headers, expected", [
    ("From: a@xiji.gov.cn\nAuto-Submitted: auto-replied; owner-email=a@x", "自动回复（Auto-Submitted: auto-replied; owner-email=a@x）"),
    ("From: a@xiji.gov.cn\nPrecedence: bulk", "群发或自动邮件（Precedence: bulk）"),
    ("From: a@xiji.gov.cn\nPrecedence: junk", "群发或自动邮件（Precedence: junk）"),
    ("From: a@xiji.gov.cn\nPrecedence: auto_reply", "群发或自动邮件（Precedence: auto_reply）"),
    ("From: a@xiji.gov.cn\nList-Id: <gov.lists.nx.gov.cn>", "邮件列表（List-Id: <gov.lists.nx.gov.cn>）"),
    ("From: a@xiji.gov.cn\nList-Unsubscribe: <mailto:u@x>", "邮件列表（List-Unsubscribe: <mailto:u@x>）"),
    ("Return-Path: <>\nFrom: a@xiji.gov.cn", "退信或自动回复（Return-Path 为空 <>）"),
    ("From: postmaster@qq.com", "退信（发件人为 POSTMASTER）"),
    ("From: 10000@qq.com\nX-Autoreply: yes", "自动回复（X-Autoreply: yes）"),
    ("From: a@xiji.gov.cn\nX-Autorespond: 1", "自动回复（X-Autorespond: 1）"),
    ("From: NoReply@service.netease.com", "系统通知（发件人为不接收回复的地址 noreply@service.netease.com）"),
    ("From: do-not-reply@gov.cn", "系统通知（发件人为不接收回复的地址 do-not-reply@gov.cn）"),
    ("From: XJXZWGKB@163.COM", "本系统自己发出的邮件（发件人为 xjxzwgkb@163.com）"),
])
def test_header_signals_decide_alone_even_with_attachments(headers, expected):
    assert automatic_reason(mail(headers, attachment=True), OWN) == expected


def test_auto_submitted_no_is_human():
    m = mail("From: a@xiji.gov.cn\nAuto-Submitted: no\nSubject: 方案", attachment=True)
    assert automatic_reason(m, OWN) is None


@pytest.mark.parametrize("subject", [
    "自动回复：我已休假", "Automatic reply: 回执：方案", "Out of Office: back Monday",
    "Undeliverable: 催报：请报送", "Delivery Status Notification (Failure)", "系统退信",
    "Auto Reply", "休假通知", "不在办公室",
])
def test_subject_is_an_extra_signal_for_mail_without_files(subject):
    m = mail(f"From: staff@xiji.gov.cn\nSubject: {b64w(subject, 'UTF-8', 'utf-8')}")
    reason = automatic_reason(m, OWN)
    assert reason is not None and "没有附件" in reason


@pytest.mark.parametrize("subject", ["关于休假期间政府开放日安排的方案", "自动回复"])
def test_subject_alone_never_silences_a_submission(subject):
    m = mail(f"From: staff@xiji.gov.cn\nSubject: {b64w(subject, 'UTF-8', 'utf-8')}", attachment=True)
    assert automatic_reason(m, OWN) is None


def test_plain_question_without_files_is_human():
    m = mail(f"From: staff@xiji.gov.cn\nSubject: {b64w('请问方案模板在哪里下载？', 'UTF-8', 'utf-8')}")
    assert automatic_reason(m, OWN) is None
    assert automatic_reason(m, ()) is None


def test_subject_signal_ignores_signature_logos_but_not_forwarded_mail():
    logo = ("--zz\r\nContent-Type: image/png; name=\"image001.png\"\r\nContent-ID: <image001>\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--zz--\r\n")
    head = f"From: staff@xiji.gov.cn\nSubject: {b64w('自动回复：我已休假', 'UTF-8', 'utf-8')}\n" \
           "Content-Type: multipart/related; boundary=\"zz\""
    m = mail(head, ("--zz\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>休假</p>\r\n" + logo).encode())
    assert automatic_reason(m, OWN) == "自动回复（主题含“自动回复”且没有附件）"
    fwd = mail(f"From: staff@xiji.gov.cn\nSubject: {b64w('转发：休假前报送的方案', 'UTF-8', 'utf-8')}\n"
               "Content-Type: multipart/mixed; boundary=\"f\"",
               b"--f\r\nContent-Type: text/plain\r\n\r\nfw\r\n--f\r\nContent-Type: message/rfc822\r\n\r\n"
               b"Subject: plan\r\nContent-Type: application/pdf; name=\"p.pdf\"\r\n\r\nPDF\r\n--f--\r\n")
    assert [a.depth for a in fwd.attachments] == [0, 1]
    assert automatic_reason(fwd, OWN) is None
