"""parse_message: real-world Chinese mail, nesting, damage.

Fixtures are raw bytes written the way the named clients write them (not produced by
Python's email generator), so the parser meets what the office's mailbox will hold.
"""

from __future__ import annotations

import base64
import hashlib
import random
from datetime import datetime, timedelta, timezone
from urllib.parse import quote_from_bytes

import pytest

from mailbot.mailin.parse import Attachment, ParsedMail, decode_header_value, parse_message

DOCX = b"PK\x03\x04" + bytes(range(256)) * 40 + b"word/document.xml" + b"\x00" * 100
PDF = b"%PDF-1.4\n" + bytes(random.Random(7).randrange(256) for _ in range(5000)) + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(random.Random(8).randrange(256) for _ in range(700))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def b64_lines(data: bytes, width: int = 76) -> bytes:
    enc = base64.b64encode(data)
    return b"\r\n".join(enc[i:i + width] for i in range(0, len(enc), width))


def ew(text: str, charset: str = "GBK", codec: str | None = None) -> str:
    """One RFC 2047 B-word, as Foxmail/QQ write them."""
    data = text.encode(codec or charset)
    return f"=?{charset}?B?{base64.b64encode(data).decode()}?="


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")


# ----------------------------------------------------------------- Foxmail / QQ


def foxmail_submission() -> bytes:
    name = "西吉县民政局政府开放日实施方案.docx"
    subject = "西吉县民政局“政府开放日”实施方案"
    body = "您好：\r\n附件是我局的实施方案，请审核。\r\n西吉县民政局 张丽 13800000000\r\n".encode("gbk")
    head = crlf(
        "Date: Wed, 24 Aug 2022 10:12:33 +0800\n"
        f'From: "{ew("西吉县民政局")}" <MZJ_XiJi@163.com>\n'
        "To: \"xjxzwgkb\" <xjxzwgkb@163.com>\n"
        f"Subject: {ew(subject)}\n"
        "X-Priority: 3\n"
        "X-Mailer: Foxmail 7.2.23.121[cn]\n"
        "Mime-Version: 1.0\n"
        "Message-ID: <202208241012330129876@163.com>\n"
        "Content-Type: multipart/mixed;\n"
        '\tboundary="----=_001_NextPart843711127381_=----"\n'
        "\n"
        "This is a multi-part message in MIME format.\n"
        "\n"
        "------=_001_NextPart843711127381_=----\n"
        "Content-Type: text/plain;\n"
        '\tcharset="GB2312"\n'
        "Content-Transfer-Encoding: base64\n"
        "\n")
    att_head = crlf(
        "\n"
        "------=_001_NextPart843711127381_=----\n"
        "Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document;\n"
        f'\tname="{ew(name)}"\n'
        "Content-Transfer-Encoding: base64\n"
        "Content-Disposition: attachment;\n"
        f'\tfilename="{ew(name)}"\n'
        "\n")
    return head + b64_lines(body) + att_head + b64_lines(DOCX) + crlf(
        "\n\n------=_001_NextPart843711127381_=------\n\n")


def test_foxmail_gbk_encoded_words_everywhere():
    mail = parse_message(foxmail_submission())
    assert isinstance(mail, ParsedMail)
    assert mail.subject == "西吉县民政局“政府开放日”实施方案"
    assert mail.from_addr == "mzj_xiji@163.com"
    assert mail.from_name == "西吉县民政局"
    assert mail.to_addrs == ("xjxzwgkb@163.com",)
    assert mail.message_id == "<202208241012330129876@163.com>"
    assert mail.date == datetime(2022, 8, 24, 10, 12, 33, tzinfo=timezone(timedelta(hours=8)))
    assert "附件是我局的实施方案" in mail.body_text
    assert len(mail.attachments) == 1
    att = mail.attachments[0]
    assert att.filename == "西吉县民政局政府开放日实施方案.docx"
    assert att.content_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert att.disposition == "attachment"
    assert att.depth == 0
    assert att.sha256 == sha(DOCX) and att.size == len(DOCX)
    assert mail.problems == ()
    assert mail.header("X-Mailer") == "Foxmail 7.2.23.121[cn]"
    assert ("Subject", "西吉县民政局“政府开放日”实施方案") in mail.headers


def test_gb2312_label_with_gbk_only_characters():
    # Outlook labels GBK text "gb2312"; 國 (0x87F8) and 镕 are not in GB2312.
    name = "我不是中國共產.txt"
    raw = crlf(
        "From: a@b.cn\n"
        f"Subject: {ew('關於國家統計', 'gb2312', 'gbk')}\n"
        "Content-Type: multipart/mixed; boundary=BB\n\n"
        "--BB\nContent-Type: text/plain; charset=gb2312\nContent-Transfer-Encoding: base64\n\n"
    ) + b64_lines("朱镕基國".encode("gbk")) + crlf(
        "\n--BB\n"
        f'Content-Type: text/plain; name="{ew(name, "gb2312", "gbk")}"\n'
        "Content-Transfer-Encoding: base64\n"
        f'Content-Disposition: attachment; filename="{ew(name, "gb2312", "gbk")}"\n\n'
    ) + b64_lines(b"hello") + crlf("\n--BB--\n")
    mail = parse_message(raw)
    assert mail.subject == "關於國家統計"
    assert mail.body_text == "朱镕基國"
    assert [a.filename for a in mail.attachments] == [name]


def test_adjacent_encoded_words_split_inside_a_character():
    # Some clients cut the bytes of one character across two words.
    data = "西吉县教育体育局".encode("utf-8")
    w1 = base64.b64encode(data[:7]).decode()
    w2 = base64.b64encode(data[7:]).decode()
    assert decode_header_value(f"=?UTF-8?B?{w1}?=\r\n =?UTF-8?B?{w2}?=".replace("\r\n", "")) \
        == "西吉县教育体育局"


def test_encoded_words_keep_surrounding_text_and_drop_space_between_words():
    assert decode_header_value(f"回复: {ew('县民政局')} {ew('方案')} (第2版)") == "回复: 县民政局方案 (第2版)"
    assert decode_header_value("=?iso-8859-1?Q?a?= =?iso-8859-1?Q?_b?=") == "a b"
    assert decode_header_value("=?x-gbk?B?" + base64.b64encode("卫健局".encode("gbk")).decode() + "?=") == "卫健局"


# --------------------------------------------------------------------- RFC 2231


def rfc2231_message(disposition_params: str, ct_name: str = "", ctype="application/pdf") -> bytes:
    return crlf(
        "From: wjj@xiji.gov.cn\nSubject: test\n"
        "Content-Type: multipart/mixed; boundary=\"XX\"\n\n"
        "--XX\nContent-Type: text/plain; charset=utf-8\n\nbody\n"
        f"--XX\nContent-Type: {ctype}{ct_name}\n"
        "Content-Transfer-Encoding: base64\n"
        f"Content-Disposition: attachment;{disposition_params}\n\n"
    ) + b64_lines(PDF) + crlf("\n--XX--\n")


def pct(data: bytes) -> str:
    return quote_from_bytes(data, safe="")


def test_rfc2231_utf8_continuations():
    name = "西吉县卫生健康局政府开放日活动开展情况总结报告（定稿）.pdf"
    enc = pct(name.encode("utf-8"))                # only %XX escapes and ASCII
    tokens = []
    i = 0
    while i < len(enc):
        step = 3 if enc[i] == "%" else 1
        tokens.append(enc[i:i + step])
        i += step
    sections = ["".join(tokens[i:i + 20]) for i in range(0, len(tokens), 20)]
    params = "".join(
        f"\n filename*{i}*={'utf-8' + chr(39) * 2 if i == 0 else ''}{s};" for i, s in enumerate(sections)
    ).rstrip(";")
    mail = parse_message(rfc2231_message(params))
    assert len(sections) > 2
    assert [a.filename for a in mail.attachments] == [name]
    assert mail.attachments[0].sha256 == sha(PDF)


def test_rfc2231_gbk_single_section_and_gb2312_label():
    name = "西吉县医疗保障局实施方案.pdf"
    mail = parse_message(rfc2231_message(f"\n filename*=gbk''{pct(name.encode('gbk'))}"))
    assert mail.attachments[0].filename == name
    mail = parse_message(rfc2231_message(f" filename*=GB2312''{pct('镕.pdf'.encode('gbk'))}"))
    assert mail.attachments[0].filename == "镕.pdf"


def test_iso_2022_cn_falls_back_to_the_other_name_parameter():
    # Apple Mail: filename* in iso-2022-cn (no Python codec), name= as UTF-8 RFC 2047.
    params = "\n\tfilename*=iso-2022-cn''%1B%24%29A%0ENR2%3BJGVP%1B%24%29GYOGA%5C%28%0F.txt"
    ct_name = f';\n\tname="{ew("我不是中國共產.txt", "utf-8")}"'
    mail = parse_message(rfc2231_message(params, ct_name, "text/plain"))
    assert [a.filename for a in mail.attachments] == ["我不是中國共產.txt"]


def test_iphone_placeholder_name_loses_to_filename_star():
    name = "西吉县人社局方案.docx"
    ct_name = ';\n\tname="_____.docx"'
    mail = parse_message(rfc2231_message(f"\n\tfilename*=utf-8''{pct(name.encode())}", ct_name))
    assert mail.attachments[0].filename == name
    # The placeholder also loses when it is the Content-Disposition value.
    mail = parse_message(rfc2231_message(' filename="_____.docx"', f';\n\tname="{ew(name, "utf-8")}"'))
    assert mail.attachments[0].filename == name


def test_filename_precedence_disposition_then_content_type():
    mail = parse_message(rfc2231_message(' filename="from-disposition.pdf"', '; name="from-type.pdf"'))
    assert mail.attachments[0].filename == "from-disposition.pdf"
    mail = parse_message(rfc2231_message("", '; name="from-type.pdf"'))
    assert mail.attachments[0].filename == "from-type.pdf"
    # Windows 8 Mail: name= inside Content-Disposition.
    mail = parse_message(rfc2231_message(' name="in-disposition.pdf"'))
    assert mail.attachments[0].filename == "in-disposition.pdf"
    # Nothing at all: no invented name.
    mail = parse_message(rfc2231_message(""))
    assert mail.attachments[0].filename is None


def test_names_are_reported_raw_not_sanitised():
    mail = parse_message(rfc2231_message(r' filename="C:\TEMP\方案.pdf"'))
    assert mail.attachments[0].filename == "C:\\TEMP\\方案.pdf"
    mail = parse_message(rfc2231_message(' filename="../../etc/passwd"'))
    assert mail.attachments[0].filename == "../../etc/passwd"


# ------------------------------------------------------------------- raw 8-bit


def test_raw_8bit_gbk_subject_and_filename():
    raw = (b"From: =?GBK?B?" + base64.b64encode("张丽".encode("gbk")) + b"?= <zhangli@qq.com>\r\n"
           b"Subject: " + "西吉县住房城乡建设局开放日方案".encode("gbk") + b"\r\n"
           b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
           b"--b\r\nContent-Type: text/plain; charset=\"gbk\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           + "正文".encode("gbk") + b"\r\n"
           b"--b\r\nContent-Type: application/msword; name=\"" + "方案.doc".encode("gbk") + b"\"\r\n"
           b"Content-Disposition: attachment; filename=\"" + "方案.doc".encode("gbk") + b"\"\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n" + b64_lines(DOCX) + b"\r\n--b--\r\n")
    mail = parse_message(raw)
    assert mail.subject == "西吉县住房城乡建设局开放日方案"
    assert mail.from_name == "张丽"
    assert mail.body_text == "正文"
    assert [a.filename for a in mail.attachments] == ["方案.doc"]
    assert mail.attachments[0].sha256 == sha(DOCX)


def test_raw_8bit_utf8_subject():
    raw = b"From: x@qq.com\nSubject: " + "关于政府开放日的反馈".encode("utf-8") + b"\n\nhi\n"
    assert parse_message(raw).subject == "关于政府开放日的反馈"


def test_raw_8bit_gbk_uses_declared_charset_when_ambiguous():
    raw = (b"From: x@qq.com\nSubject: " + "县农业农村局".encode("gbk") +
           b"\nContent-Type: text/plain; charset=gb2312\n\nhi\n")
    assert parse_message(raw).subject == "县农业农村局"


# -------------------------------------------------------------- forwarded mail


def inner_message() -> bytes:
    return crlf(
        "From: \"=?UTF-8?B?" + base64.b64encode("县教体局".encode()).decode() + "?=\" <jtj@xiji.gov.cn>\n"
        "To: xjxzwgkb@163.com\n"
        f"Subject: {ew('教育体育局开放日方案', 'UTF-8')}\n"
        "Date: Mon, 22 Aug 2022 09:00:00 +0800\n"
        "Content-Type: multipart/mixed; boundary=\"inner\"\n\n"
        "--inner\nContent-Type: text/plain; charset=utf-8\n\nsee attachment\n"
        "--inner\nContent-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document\n"
        "Content-Transfer-Encoding: base64\n"
        f"Content-Disposition: attachment; filename=\"{ew('教体局方案.docx', 'UTF-8')}\"\n\n"
    ) + b64_lines(DOCX) + crlf("\n--inner--\n")


def test_forwarded_message_is_listed_and_so_is_its_docx():
    inner = inner_message()
    raw = crlf(
        "From: clerk@qq.com\nTo: xjxzwgkb@163.com\nSubject: Fw: 教体局方案\n"
        "Content-Type: multipart/mixed; boundary=\"outer\"\n\n"
        "--outer\nContent-Type: text/plain; charset=utf-8\n\n"
    ) + "请查收转发的邮件。".encode() + crlf(
        "\n--outer\nContent-Type: message/rfc822\n\n") + inner + crlf(
        "\n--outer\nContent-Type: application/pdf; name=\"cover.pdf\"\n"
        "Content-Transfer-Encoding: base64\n\n") + b64_lines(PDF) + crlf("\n--outer--\n")
    mail = parse_message(raw)
    got = [(a.filename, a.content_type, a.depth) for a in mail.attachments]
    assert got == [
        ("教育体育局开放日方案.eml", "message/rfc822", 0),
        ("教体局方案.docx",
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 1),
        ("cover.pdf", "application/pdf", 0),
    ]
    eml, docx, pdf = mail.attachments
    assert eml.data == inner                      # byte-identical, never re-serialised
    assert docx.sha256 == sha(DOCX) and pdf.sha256 == sha(PDF)
    assert mail.body_text == "请查收转发的邮件。"    # the inner body is not the outer body


def test_forwarded_message_sent_base64_encoded():
    inner = inner_message()
    raw = crlf(
        "From: clerk@qq.com\nSubject: Fw\nContent-Type: multipart/mixed; boundary=\"o\"\n\n"
        "--o\nContent-Type: text/plain\n\nfw\n"
        "--o\nContent-Type: message/rfc822; name=\"original.eml\"\nContent-Transfer-Encoding: base64\n"
        "Content-Disposition: attachment; filename=\"original.eml\"\n\n"
    ) + b64_lines(inner) + crlf("\n--o--\n")
    mail = parse_message(raw)
    assert [(a.filename, a.depth) for a in mail.attachments] == [("original.eml", 0), ("教体局方案.docx", 1)]
    assert mail.attachments[0].data == inner
    assert mail.attachments[1].sha256 == sha(DOCX)


# ----------------------------------------------------------- inline and bodies


def test_inline_images_are_attachments_bodies_are_not():
    raw = crlf(
        "From: a@b.cn\nSubject: html\nContent-Type: multipart/related; boundary=\"R\"; type=\"text/html\"\n\n"
        "--R\nContent-Type: multipart/alternative; boundary=\"A\"\n\n"
        "--A\nContent-Type: text/plain; charset=utf-8\n\nplain version\n"
        "--A\nContent-Type: text/html; charset=utf-8\n\n<p>html <img src=\"cid:logo\"></p>\n"
        "--A--\n"
        "--R\nContent-Type: image/png; name=\"logo.png\"\nContent-ID: <logo>\n"
        "Content-Disposition: inline; filename=\"logo.png\"\nContent-Transfer-Encoding: base64\n\n"
    ) + b64_lines(PNG) + crlf(
        "\n--R\nContent-Type: image/png\nContent-ID: <nameless>\nContent-Transfer-Encoding: base64\n\n"
    ) + b64_lines(PNG) + crlf("\n--R--\n")
    mail = parse_message(raw)
    assert [(a.filename, a.disposition) for a in mail.attachments] == [("logo.png", "inline"), (None, None)]
    assert all(a.sha256 == sha(PNG) for a in mail.attachments)
    assert mail.body_text == "plain version"


def test_html_only_body_is_stripped_and_named_text_part_is_an_attachment():
    raw = crlf(
        "From: a@b.cn\nSubject: x\nContent-Type: multipart/mixed; boundary=\"M\"\n\n"
        "--M\nContent-Type: text/html; charset=gb2312\nContent-Transfer-Encoding: base64\n\n"
    ) + b64_lines("<html><head><style>p{}</style></head><body><p>西吉县&nbsp;民政局</p>"
                  "<div>联系人：张丽</div></body></html>".encode("gbk")) + crlf(
        "\n--M\nContent-Type: text/plain; charset=utf-8; name=\"notes.txt\"\n"
        "Content-Disposition: inline; filename=\"notes.txt\"\n\nnot the body\n--M--\n")
    mail = parse_message(raw)
    assert mail.body_text == "西吉县 民政局\n\n联系人：张丽"
    assert [a.filename for a in mail.attachments] == ["notes.txt"]
    assert mail.attachments[0].data == b"not the body"


def test_single_part_attachment_message():
    raw = crlf("From: a@b.cn\nSubject: scan\nContent-Type: application/pdf; name=\"scan.pdf\"\n"
               "Content-Transfer-Encoding: base64\n\n") + b64_lines(PDF) + b"\r\n"
    mail = parse_message(raw)
    assert [(a.filename, a.sha256) for a in mail.attachments] == [("scan.pdf", sha(PDF))]
    assert mail.body_text == ""


def test_uuencoded_block_in_text_body():
    import binascii
    payload = b"uuencoded file content \x00\x01\x02" * 5
    lines = [binascii.b2a_uu(payload[i:i + 45]) for i in range(0, len(payload), 45)]
    body = b"Please see the file.\n\nbegin 644 report.txt\n" + b"".join(lines) + b"`\nend\n\nThanks\n"
    raw = b"From: a@b.cn\nSubject: uu\nContent-Type: text/plain\n\n" + body
    mail = parse_message(raw)
    assert [(a.filename, a.data) for a in mail.attachments] == [("report.txt", payload)]
    assert "Please see the file." in mail.body_text and "Thanks" in mail.body_text
    assert "begin 644" not in mail.body_text


def test_duplicate_names_are_both_kept():
    raw = crlf("From: a@b.cn\nSubject: d\nContent-Type: multipart/mixed; boundary=D\n\n"
               "--D\nContent-Type: text/plain; name=\"ATT00001.txt\"\n\none\n"
               "--D\nContent-Type: text/plain; name=\"ATT00001.txt\"\n\ntwo\n--D--\n")
    mail = parse_message(raw)
    assert [(a.filename, a.data) for a in mail.attachments] == [("ATT00001.txt", b"one"),
                                                               ("ATT00001.txt", b"two")]


# ------------------------------------------------------------------- damage


def test_corrupt_base64_is_decoded_leniently_with_a_problem():
    good = base64.b64encode(PDF)
    broken = good[:400] + b"!!##" + good[400:-3]       # junk inside, tail cut mid-quad
    raw = crlf("From: a@b.cn\nSubject: bad\nContent-Type: multipart/mixed; boundary=Q\n\n"
               "--Q\nContent-Type: application/pdf; name=\"broken.pdf\"\n"
               "Content-Transfer-Encoding: base64\n\n") + broken + crlf("\n--Q--\n")
    mail = parse_message(raw)
    att = mail.attachments[0]
    assert att.filename == "broken.pdf"
    assert PDF.startswith(att.data[:len(PDF) - 3]) and len(PDF) - 3 <= att.size <= len(PDF)
    assert any("broken.pdf" in p and "base64" in p for p in mail.problems)


def test_truncated_message_keeps_what_arrived():
    full = foxmail_submission()
    cut = full[: full.index(b"filename=") + 400]          # dies inside the attachment
    mail = parse_message(cut)
    assert mail.subject == "西吉县民政局“政府开放日”实施方案"
    assert len(mail.attachments) == 1
    att = mail.attachments[0]
    assert att.filename == "西吉县民政局政府开放日实施方案.docx"
    assert DOCX.startswith(att.data) and 0 < att.size < len(DOCX)
    assert any("不完整" in p for p in mail.problems)


@pytest.mark.parametrize("raw", [
    b"", b"\r\n\r\n", b"garbage without headers", bytes(range(256)) * 10,
    b"Content-Type: multipart/mixed; boundary=\n\n--\n--\n",
    b"Content-Type: text/plain; name*\n\nx",                      # cpython#151857
    b"To: (c):\nCc: (x): a@b.com;\n\nx",                          # cpython#151857
    b"Content-Type: multipart/mixed; boundary*=\xff''abc\n\n--abc\n\nx\n--abc--\n",
    b"Content-Type: message/rfc822\n\n" * 50,
    b"From: \xff\xfe\nSubject: =?bogus?Q?x?= =?utf-8?B?!!!?=\nDate: yesterday\n\n\xff",
])
def test_never_raises_on_hostile_input(raw):
    mail = parse_message(raw)
    assert isinstance(mail, ParsedMail)
    for text in (mail.subject, mail.body_text, *mail.problems, *(v for _, v in mail.headers)):
        text.encode("utf-8")                       # no lone surrogates escape


def test_long_header_and_part_caps():
    raw = (b"From: a@b.cn\nSubject: " + b"x" * 5000 + b"\nContent-Type: multipart/mixed; boundary=P\n\n"
           + b"".join(b"--P\nContent-Type: application/octet-stream; name=f%d\n\nx\n" % i for i in range(30))
           + b"--P--\n")
    mail = parse_message(raw, max_header_bytes=1000, max_parts=10)
    assert len(mail.subject) == 1000
    assert len(mail.attachments) < 10
    assert any("过长" in p for p in mail.problems)
    assert any("超过 10 个" in p for p in mail.problems)


def test_quadratic_header_is_fast():
    import time
    raw = (b"From: a@b.cn\nContent-Type: multipart/mixed; boundary=x" + b";" * 200_000 +
           b"\nTo: " + b",".join(b"u%d@x.cn" % i for i in range(20000)) + b"\n\n--x\n\nhi\n--x--\n")
    t = time.perf_counter()
    parse_message(raw)
    assert time.perf_counter() - t < 2.0


# ----------------------------------------------------------------- envelope


def test_message_id_date_and_addresses():
    raw = crlf("From: \"Zhang, Li\" <Zhang.Li@XiJi.gov.cn>\nTo: a@b.cn, \"B\" <B@C.CN>\n"
               "Message-ID:\n <abc.123@mail.example.cn>\nDate: Thu, 1 Sep 2022 08:00:00 -0000\n"
               "Subject: x\n\nhi\n")
    mail = parse_message(raw)
    assert mail.message_id == "<abc.123@mail.example.cn>"
    assert mail.from_addr == "zhang.li@xiji.gov.cn" and mail.from_name == "Zhang, Li"
    assert mail.to_addrs == ("a@b.cn", "b@c.cn")
    assert mail.date == datetime(2022, 9, 1, 8, 0, tzinfo=timezone.utc)
    bad = parse_message(b"From: a@b.cn\nDate: 2022\xc4\xea8\xd4\xc224\xc8\xd5\nSubject: x\n\nhi\n")
    assert bad.date is None and any("Date" in p for p in bad.problems)
    none = parse_message(b"Message-ID: bare-id@host\nSubject: x\n\nhi\n")
    assert none.date is None and none.problems == () and none.message_id == "<bare-id@host>"
    assert none.from_addr == "" and none.from_name == ""


def test_folded_subject_whitespace_and_attachment_properties():
    mail = parse_message(b"Subject: Die Hasen und\r\n   die Fr\xf6sche\r\n"
                         b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\nx")
    assert mail.subject == "Die Hasen und die Frösche"
    att = Attachment("a.txt", "text/plain", b"abc", None, 0)
    assert att.size == 3 and att.sha256 == sha(b"abc")


def test_declared_boundary_never_used_is_recovered():
    raw = crlf("From: a@b.cn\nSubject: b\nContent-Type: multipart/mixed; boundary=\"declared\"\n\n"
               "--actual-7f3a\nContent-Type: text/plain; charset=utf-8\n\n正文\n"
               "--actual-7f3a\nContent-Type: application/pdf; name=\"p.pdf\"\n"
               "Content-Transfer-Encoding: base64\n\n") + b64_lines(PDF) + crlf("\n--actual-7f3a--\n")
    mail = parse_message(raw)
    assert [(a.filename, a.sha256) for a in mail.attachments] == [("p.pdf", sha(PDF))]
    assert mail.body_text == "正文"
    assert any("分隔边界" in p for p in mail.problems)


def test_headers_folded_without_indentation_are_recovered():
    raw = crlf("Received: from mx.example.cn\nby relay.example.cn with ESMTP\n"
               "From: a@b.cn\nSubject: folded\nContent-Type: multipart/mixed; boundary=\"f\"\n\n"
               "--f\nContent-Type: application/pdf; name=\"p.pdf\"\nContent-Transfer-Encoding: base64\n\n"
               ) + b64_lines(PDF) + crlf("\n--f--\n")
    mail = parse_message(raw)
    assert mail.subject == "folded" and mail.from_addr == "a@b.cn"
    assert [a.filename for a in mail.attachments] == ["p.pdf"]


def test_damaged_encoded_word_is_kept_as_written():
    assert decode_header_value(f"{ew('实施方案')} =?UTF-8?B?broken!!?= x") == "实施方案=?UTF-8?B?broken!!?= x"
    # GBK bytes under a UTF-8 label are read as the Chinese they are.
    word = "=?UTF-8?B?" + base64.b64encode("开放日方案".encode("gbk")).decode() + "?="
    assert decode_header_value(word) == "开放日方案"


# ------------------------------------------------------------------ inspect


def test_inspect_message_is_the_spec_object():
    from mailbot.mailin.inspect import inspect_message

    out = inspect_message(foxmail_submission(), "m.eml", own_addresses=["xjxzwgkb@163.com"],
                          identify=lambda mail: ("西吉县民政局", "plan"))
    assert out == {
        "file": "m.eml",
        "message_id": "<202208241012330129876@163.com>",
        "subject": "西吉县民政局“政府开放日”实施方案",
        "from": "mzj_xiji@163.com",
        "date": "2022-08-24T10:12:33+08:00",
        "automatic": False,
        "automatic_reason": None,
        "unit": "西吉县民政局",
        "kind": "plan",
        "attachments": [{
            "filename": "西吉县民政局政府开放日实施方案.docx",
            "content_type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "size": len(DOCX),
            "sha256": sha(DOCX),
        }],
        "problems": [],
    }


def test_inspect_message_never_raises():
    from mailbot.mailin.inspect import inspect_message

    def broken_identify(mail):
        raise RuntimeError("roster unreadable")

    out = inspect_message(b"\xff\x00garbage", "bad.eml", identify=broken_identify)
    assert out["file"] == "bad.eml" and out["unit"] is None and out["date"] is None
    assert out["from"] is None and out["attachments"] == []
    assert any("roster unreadable" in p for p in out["problems"])
    out = inspect_message(b"", "empty.eml")
    assert out["problems"] == ["邮件内容为空"]
