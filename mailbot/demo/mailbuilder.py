"""Raw RFC 5322 bytes the way real mail clients write them (Foxmail, Outlook, iPhone, 163 webmail,
QQ Mail, Outlook Express), and signed with DKIM as 163.com / QQ sign their users' mail.

Deterministic: Message-ID and MIME boundaries are derived from the content.

    MailBuilder(...).attach(...).build()            raw bytes, as the `client` writes them
    encode_header_text(text, style)                 a Subject in one of SUBJECT_ENCODINGS
    demo_dkim_sign(raw, domain, when)               RAW with a DKIM-Signature (demo key)
"""
from __future__ import annotations

import base64
import hashlib
import html
import os
import quopri
import re
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.parser import BytesParser
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any, Sequence

from mailbot.demo.seeds import aware, digest

FILENAME_STYLES = ("rfc2231", "rfc2231-gbk", "rfc2047-gbk", "rfc2047-utf8", "rfc2047-gb18030",
                   "raw-gbk")
SUBJECT_ENCODINGS = ("utf8-b", "utf8-q", "gbk-b", "gb2312-b", "gb18030-b", "raw-gbk", "ascii")

CRLF = b"\r\n"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

_CONTENT_TYPES = {
    ".docx": DOCX_TYPE,
    ".doc": "application/msword",
    ".wps": "application/kswps",
    ".pdf": "application/pdf",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xls": "application/vnd.ms-excel",
    ".zip": "application/zip",
    ".rar": "application/x-rar-compressed",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".txt": "text/plain",
    ".eml": "message/rfc822",
}


CLIENTS: dict[str, dict[str, Any]] = {
    # subject/from encoding, body charset and transfer encoding, html alternative, filename style,
    # and the headers that give a client away.
    "foxmail": dict(subject="gbk-b", charset="gbk", cte="base64", html=True, filename="rfc2047-gbk",
                    quote_name=True, signature="\r\n\r\n{from_addr}\r\n",
                    headers=[("X-Priority", "3"), ("X-GUID", "{guid}"), ("X-Has-Attach", "{has_attach}"),
                             ("X-Mailer", "Foxmail 7.2.23.116[cn]")],
                    boundary="----=_001_NextPart{n12}_=----", msgid="<{stamp}{n8}@{domain}>"),
    "outlook": dict(subject="gb2312-b", charset="gb2312", cte="base64", html=True, filename="rfc2231",
                    quote_name=False, signature="",
                    headers=[("X-Mailer", "Microsoft Outlook 16.0"), ("Thread-Index", "{thread_index}"),
                             ("Content-Language", "zh-cn")],
                    boundary="----=_NextPart_000_{h4}_01D8{h4b}.{h8}",
                    msgid="<000001d8{h4}${h8}${h8b}$@{domain}>"),
    "iphone": dict(subject="utf8-b", charset="utf-8", cte="base64", html=False, filename="rfc2231",
                   quote_name=False, signature="\r\n\r\n发自我的iPhone\r\n",
                   headers=[("X-Mailer", "iPhone Mail (19G82)")],
                   boundary="Apple-Mail-{uuid}", msgid="<{uuid}@{domain}>", mime_version="1.0 (1.0)"),
    "163web": dict(subject="utf8-b", charset="utf-8", cte="base64", html=True, filename="rfc2047-utf8",
                   quote_name=False, signature="",
                   headers=[("X-Priority", "3"),
                            ("X-Mailer", "Coremail Webmail Server Version XT5.0.13 build 20220113(9671e152) "
                                         "Copyright (c) 2002-2022 www.mailtech.cn 163com"),
                            ("X-NTES-SC", "AL_QuyTA/2SvEIo5imZbOkXn0sShO45Xsa0s/4n3YVSN5E0qCHp+i8Cd1kkQ1T1")],
                   boundary="----=_Part_{d6}_{d9}.{d13}", msgid="<{h8}.{h4}.{h11}.Coremail.{local}@{domain}>"),
    "qqmail": dict(subject="gb18030-b", charset="gb18030", cte="base64", html=True,
                   filename="rfc2047-gb18030", quote_name=True, signature="",
                   headers=[("X-QQ-MIME", "TCMime 1.0 by Tencent"), ("X-Mailer", "QQMail 2.x"),
                            ("X-QQ-Mailer", "QQMail 2.x")],
                   boundary="----=_NextPart_{h8}_{h8b}_{h8c}", msgid="<tencent_{H24}@{domain}>"),
    "legacy": dict(subject="raw-gbk", charset="gbk", cte="8bit", html=False, filename="raw-gbk",
                   quote_name=True, signature="",
                   headers=[("X-Mailer", "Microsoft Outlook Express 6.00.2900.5512"),
                            ("X-MimeOLE", "Produced By Microsoft MimeOLE V6.00.2900.5512")],
                   boundary="----=_NextPart_000_{h4}_01D8{h4b}.{h8}", msgid="<{h12}$1@{local}>"),
    "generic": dict(subject="utf8-b", charset="utf-8", cte="base64", html=False, filename="rfc2231",
                    quote_name=False, signature="", headers=[],
                    boundary="===============_{d13}==", msgid="<{h16}@{domain}>"),
}

_WORD_CHARSETS = {  # subject/filename style → (label in the header, codec)
    "utf8-b": ("UTF-8", "utf-8", "B"), "utf8-q": ("UTF-8", "utf-8", "Q"),
    "gbk-b": ("GBK", "gbk", "B"), "gb2312-b": ("gb2312", "gbk", "B"),
    "gb18030-b": ("gb18030", "gb18030", "B"),
}


def _q_encode(raw: bytes) -> str:
    out = []
    for b in raw:
        c = chr(b)
        if c == " ":
            out.append("_")
        elif c.isalnum() and b < 128:
            out.append(c)
        else:
            out.append(f"={b:02X}")
    return "".join(out)


def _encoded_words(text: str, style: str, limit: int = 75) -> list[str]:
    """text → encoded words of at most `limit` characters, split on character boundaries."""
    label, codec, mode = _WORD_CHARSETS[style]
    words, chunk = [], ""

    def enc(s: str) -> str:
        raw = s.encode(codec)
        body = base64.b64encode(raw).decode("ascii") if mode == "B" else _q_encode(raw)
        return f"=?{label}?{mode}?{body}?="

    for ch in text:
        if chunk and len(enc(chunk + ch)) > limit:
            words.append(enc(chunk))
            chunk = ""
        chunk += ch
    if chunk or not words:
        words.append(enc(chunk))
    return words


def encode_header_text(text: str, style: str) -> bytes:
    """An unstructured header value (Subject) in the given SUBJECT_ENCODINGS style, folded."""
    if style not in SUBJECT_ENCODINGS:
        raise ValueError(f"unknown subject encoding {style!r}")
    if style == "ascii" or text.isascii():
        return text.encode("ascii")
    if style == "raw-gbk":
        return text.encode("gbk")
    # 66 keeps "Subject: " + the first word within 76 characters.
    return "\r\n ".join(_encoded_words(text, style, limit=66)).encode("ascii")


def _encode_display_name(name: str, style: str, quote: bool) -> bytes:
    if not name:
        return b""
    if name.isascii():
        if re.search(r"[()<>\[\]:;@\\,.\"]", name):
            return b'"' + name.replace("\\", "\\\\").replace('"', '\\"').encode("ascii") + b'"'
        return name.encode("ascii")
    if style == "raw-gbk":
        return b'"' + name.encode("gbk") + b'"'
    word = "".join(_encoded_words(name, style if style != "ascii" else "utf8-b", limit=998))
    return (f'"{word}"' if quote else word).encode("ascii")


def _address(name: str, addr: str, style: str, quote: bool) -> bytes:
    dn = _encode_display_name(name, style, quote)
    return (dn + b" <" + addr.encode("ascii") + b">") if dn else addr.encode("ascii")


def _fallback_name(filename: str) -> str:
    """iPhone's ASCII stand-in for a non-ASCII name: every non-ASCII character becomes "_"."""
    return "".join(c if c.isascii() and c not in '"\\' else "_" for c in filename)


_ATTR_SAFE = "!#$&+-.^_`|~"


def _rfc2231_segments(text: str, codec: str, limit: int = 60) -> list[str]:
    segs, chunk = [], ""
    enc = (lambda s: urllib.parse.quote(s.encode(codec), safe=_ATTR_SAFE))
    for ch in text:
        if chunk and len(enc(chunk + ch)) > limit:
            segs.append(enc(chunk))
            chunk = ""
        chunk += ch
    segs.append(enc(chunk))
    return segs


def _quoted(value: bytes) -> bytes:
    return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def _filename_params(param: str, filename: str, style: str) -> list[bytes]:
    """The `param` (name / filename) of a Content-Type / Content-Disposition in `style`."""
    if style not in FILENAME_STYLES:
        raise ValueError(f"unknown filename style {style!r}")
    p = param.encode("ascii")
    if filename.isascii():
        return [p + b"=" + _quoted(filename.encode("ascii"))]
    if style in ("rfc2231", "rfc2231-gbk"):
        label, codec = ("UTF-8", "utf-8") if style == "rfc2231" else ("gbk", "gbk")
        segs = _rfc2231_segments(filename, codec)
        if len(segs) == 1:
            return [p + f"*={label}''{segs[0]}".encode("ascii")]
        out = [p + f"*0*={label}''{segs[0]}".encode("ascii")]
        out += [p + f"*{i}*={s}".encode("ascii") for i, s in enumerate(segs[1:], start=1)]
        return out
    if style == "raw-gbk":
        return [p + b"=" + _quoted(filename.encode("gbk"))]
    word_style = {"rfc2047-gbk": "gbk-b", "rfc2047-utf8": "utf8-b", "rfc2047-gb18030": "gb18030-b"}[style]
    # Clients put one long encoded word in the quoted string (not RFC 2047-conformant, but real).
    word = "".join(_encoded_words(filename, word_style, limit=10_000))
    return [p + b'="' + word.encode("ascii") + b'"']


def _header(name: str, first: bytes, params: Sequence[bytes] = (), sep: bytes = b"\t") -> bytes:
    line = name.encode("ascii") + b": " + first
    for prm in params:
        line += b";" + CRLF + sep + prm
    return line


def b64_lines(data: bytes, width: int = 76) -> bytes:
    enc = base64.b64encode(data)
    return CRLF.join(enc[i:i + width] for i in range(0, len(enc), width)) + CRLF


def crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def decoded_subject(msg) -> str:
    """A parsed message's subject; raw 8-bit headers retried as UTF-8, then GB18030."""
    for k, v in msg.raw_items():
        if k.lower() == "subject":
            raw = str(v).encode("ascii", "surrogateescape")
            if any(b >= 0x80 for b in raw):
                for codec in ("utf-8", "gb18030"):
                    try:
                        return re.sub(r"\r?\n[ \t]", " ", raw.decode(codec)).strip()
                    except UnicodeDecodeError:
                        continue
            break
    return str(msg.get("subject", "") or "").strip()


@dataclass
class _Attachment:
    filename: str
    data: bytes
    content_type: str
    filename_style: str
    disposition: str = "attachment"
    rfc822: bool = False


@dataclass
class MailBuilder:
    """Raw RFC 5322 bytes the way a given mail client writes them (CRLF line ends).

    `client` (a key of CLIENTS: foxmail, outlook, iphone, 163web, qqmail, legacy, generic)
    sets the defaults for subject_encoding, body charset/transfer encoding, the HTML
    alternative, the filename style of attachments and the tell-tale headers; every one of
    them can be overridden. Message-ID and MIME boundaries are derived from the content,
    so the same builder gives the same bytes.

        raw = (MailBuilder(from_addr="xjmzj@163.com", from_name="李红霞", to="office@163.com",
                           subject="关于报送…实施方案的函", date=datetime(...), client="foxmail")
               .attach("…实施方案.docx", data).build())
    """
    from_addr: str
    to: str | Sequence[str]
    subject: str
    date: datetime
    from_name: str = ""
    to_name: str = ""
    cc: Sequence[str] = ()
    text: str = ""
    client: str = "generic"
    message_id: str | None = None
    subject_encoding: str | None = None
    body_charset: str | None = None
    body_transfer: str | None = None
    html: bool | None = None
    filename_style: str | None = None
    in_reply_to: str | None = None
    references: Sequence[str] = ()
    received_at: datetime | None = None     # adds Return-Path and a receiving MX's Received line
    return_path: str | None = None           # "" gives Return-Path: <>
    headers: list[tuple[str, str | bytes]] = field(default_factory=list)
    dkim: bool = True                        # sign as the provider would (demo key; see demo_dkim_sign)
    _attachments: list[_Attachment] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if self.client not in CLIENTS:
            raise ValueError(f"unknown client {self.client!r}; one of {sorted(CLIENTS)}")
        self.date = aware(self.date)
        if self.received_at is not None:
            self.received_at = aware(self.received_at)
        self.headers = list(self.headers)

    # -- building up

    def add_header(self, name: str, value: str | bytes) -> "MailBuilder":
        """An extra header, written as given (str must be ASCII; bytes are written raw)."""
        self.headers.append((name, value))
        return self

    def attach(self, filename: str, data: bytes, *, content_type: str | None = None,
               filename_style: str | None = None, disposition: str = "attachment") -> "MailBuilder":
        ext = os.path.splitext(filename)[1].lower()
        ctype = content_type or _CONTENT_TYPES.get(ext, "application/octet-stream")
        style = filename_style or self.filename_style or CLIENTS[self.client]["filename"]
        if style not in FILENAME_STYLES:
            raise ValueError(f"unknown filename style {style!r}")
        self._attachments.append(_Attachment(filename, bytes(data), ctype, style, disposition))
        return self

    def attach_message(self, original: bytes, *, filename: str | None = None,
                       filename_style: str | None = None) -> "MailBuilder":
        """Attach a whole mail as message/rfc822 (how Outlook/Foxmail forward "as attachment")."""
        if filename is None:
            subj = decoded_subject(BytesParser(policy=policy.default).parsebytes(original))
            filename = (re.sub(r'[\\/:*?"<>|\r\n\t]', "_", subj)[:60] or "邮件") + ".eml"
        style = filename_style or self.filename_style or CLIENTS[self.client]["filename"]
        self._attachments.append(_Attachment(filename, crlf(original), "message/rfc822", style,
                                             rfc822=True))
        return self

    @classmethod
    def forwarded(cls, original: bytes, *, from_addr: str, to: str | Sequence[str], date: datetime,
                  from_name: str = "", text: str = "", prefix: str = "转发：",
                  **kwargs: Any) -> "MailBuilder":
        """A new mail "转发：<original subject>" carrying `original` as a message/rfc822 part."""
        msg = BytesParser(policy=policy.default).parsebytes(original)
        subj = decoded_subject(msg)
        head = ("\r\n\r\n-------- 转发邮件信息 --------\r\n"
                f"发件人：{msg.get('from', '')}\r\n"
                f"发送日期：{msg.get('date', '')}\r\n"
                f"收件人：{msg.get('to', '')}\r\n"
                f"主题：{subj}\r\n")
        b = cls(from_addr=from_addr, from_name=from_name, to=to, date=date,
                subject=f"{prefix}{subj}", text=(text or "") + head, **kwargs)
        if msg.get("message-id"):
            b.references = (*b.references, str(msg["message-id"]).strip())
        return b.attach_message(original)

    # -- output

    def _tokens(self) -> dict[str, str]:
        seed = digest("mail", self.from_addr, self.to, self.subject, self.date.isoformat(),
                       self.message_id, [(a.filename, hashlib.sha256(a.data).hexdigest())
                                         for a in self._attachments])
        hexs = hashlib.sha256(seed).hexdigest() + hashlib.sha256(seed + b"2").hexdigest()
        digits = str(int(hexs[:30], 16)).zfill(36)
        local, _, domain = self.from_addr.partition("@")
        u = hexs[:32].upper()
        return {
            "h4": hexs[0:4].upper(), "h4b": hexs[4:8].upper(), "h8": hexs[8:16].upper(),
            "h8b": hexs[16:24].upper(), "h8c": hexs[24:32].upper(), "h11": hexs[32:43],
            "h12": hexs[43:55].upper(), "h16": hexs[40:56], "H24": hexs[56:80].upper(),
            "n8": digits[:8], "n12": digits[8:20], "d6": digits[20:26], "d9": digits[26:35],
            "d13": str(int(self.date.timestamp() * 1000) + int(hexs[80:83], 16)),
            "uuid": f"{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:32]}",
            "stamp": self.date.strftime("%Y%m%d%H%M%S"),
            "guid": f"{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:32]}",
            "thread_index": base64.b64encode(bytes.fromhex(hexs[:44])).decode("ascii"),
            "local": local, "domain": domain or "localhost",
            "has_attach": "yes" if self._attachments else "no",
            "from_addr": self.from_addr,
        }

    def _message_id(self, tok: dict[str, str]) -> str:
        if self.message_id:
            mid = self.message_id.strip()
            return mid if mid.startswith("<") else f"<{mid}>"
        return CLIENTS[self.client]["msgid"].format(**tok)

    def _body_part(self, tok: dict[str, str], nested: int) -> list[bytes]:
        c = CLIENTS[self.client]
        charset = self.body_charset or c["charset"]
        cte = self.body_transfer or c["cte"]
        want_html = c["html"] if self.html is None else self.html
        text = self.text + c["signature"].format(**tok)
        text = crlf(text.encode("utf-8")).decode("utf-8")
        codec = {"gb2312": "gbk", "x-gbk": "gbk"}.get(charset.lower(), charset)

        def leaf(ctype: str, body: str) -> list[bytes]:
            raw = body.encode(codec)
            if cte == "base64":
                payload = b64_lines(raw)
            elif cte == "quoted-printable":
                payload = crlf(quopri.encodestring(raw.replace(b"\r\n", b"\n")))
                if not payload.endswith(CRLF):
                    payload += CRLF
            else:
                payload = raw if raw.endswith(CRLF) else raw + CRLF
            return [f"Content-Type: {ctype}; charset=\"{charset}\"".encode("ascii"),
                    f"Content-Transfer-Encoding: {cte}".encode("ascii"), b"", payload]

        if not want_html:
            return leaf("text/plain", text)
        body_html = ("<html><head><meta http-equiv=\"content-type\" content=\"text/html; charset="
                     f"{charset}\"></head><body><div style=\"font-family:微软雅黑; font-size:14px\">"
                     + "".join(f"<div>{html.escape(line) or '<br>'}</div>" for line in text.split("\r\n"))
                     + "</div></body></html>")
        boundary = self._boundary(tok, nested)
        out = [f"Content-Type: multipart/alternative;\r\n\tboundary=\"{boundary}\"".encode("ascii"), b"",
               b""]
        out.append(f"--{boundary}".encode("ascii"))
        out += leaf("text/plain", text)
        out.append(f"--{boundary}".encode("ascii"))
        out += leaf("text/html", body_html)
        out.append(f"--{boundary}--".encode("ascii"))
        out.append(b"")
        return out

    def _boundary(self, tok: dict[str, str], nested: int) -> str:
        b = CLIENTS[self.client]["boundary"].format(**tok)
        return b if nested == 0 else f"{b}_{nested}"

    def _attachment_part(self, a: _Attachment) -> list[bytes]:
        name_params = _filename_params("name", a.filename, a.filename_style)
        if a.filename_style == "rfc2231" and not a.filename.isascii():
            # iPhone: the real name only in filename*, an underscored stand-in in name=.
            name_params = [b"name=" + _quoted(_fallback_name(a.filename).encode("ascii"))]
        disp = _filename_params("filename", a.filename, a.filename_style)
        if a.rfc822:
            cte = "8bit" if any(b >= 0x80 for b in a.data) else "7bit"
            payload = a.data if a.data.endswith(CRLF) else a.data + CRLF
        else:
            cte, payload = "base64", b64_lines(a.data)
        return [_header("Content-Type", a.content_type.encode("ascii"), name_params),
                f"Content-Transfer-Encoding: {cte}".encode("ascii"),
                _header("Content-Disposition", a.disposition.encode("ascii"), disp),
                b"", payload]

    def build(self) -> bytes:
        raw = self._build()
        domain = self.from_addr.rpartition("@")[2].lower()
        if self.dkim and domain in demo_signed_domains():
            raw = demo_dkim_sign(raw, domain, self.date)
        return raw

    def _build(self) -> bytes:
        c = CLIENTS[self.client]
        tok = self._tokens()
        style = self.subject_encoding or c["subject"]
        if style not in SUBJECT_ENCODINGS:
            raise ValueError(f"unknown subject encoding {style!r}")
        quote = c["quote_name"]
        tos = [self.to] if isinstance(self.to, str) else list(self.to)
        lines: list[bytes] = []
        if self.received_at is not None or self.return_path is not None:
            rp = self.from_addr if self.return_path is None else self.return_path
            lines.append(f"Return-Path: <{rp}>".encode("ascii"))
        if self.received_at is not None:
            to_domain = parseaddr(tos[0])[1].partition("@")[2] or "localhost"
            from_domain = self.from_addr.partition("@")[2] or "localhost"
            octets = digest("ip", self.from_addr)
            ip = f"{36 + octets[0] % 180}.{octets[1]}.{octets[2]}.{1 + octets[3] % 250}"
            helo = f"m{12 + octets[5] % 4}-{octets[6] % 200}.{from_domain}"
            lines.append((f"Received: from {helo} (unknown [{ip}])\r\n\tby mx{1 + octets[4] % 3}."
                          f"{to_domain} (Coremail) with SMTP id {tok['h8']}{tok['h8b']};\r\n\t"
                          f"{format_datetime(self.received_at)}").encode("ascii"))
        lines.append(f"Date: {format_datetime(self.date)}".encode("ascii"))
        lines.append(b"From: " + _address(self.from_name, self.from_addr, style, quote))
        to_bytes = [_address(self.to_name if i == 0 else "", parseaddr(t)[1] or t, style, quote)
                    for i, t in enumerate(tos)]
        lines.append(b"To: " + b",\r\n\t".join(to_bytes))
        if self.cc:
            lines.append(b"Cc: " + b",\r\n\t".join(a.encode("ascii") for a in self.cc))
        lines.append(b"Subject: " + encode_header_text(self.subject, style))
        lines.append(f"Message-ID: {self._message_id(tok)}".encode("ascii"))
        if self.in_reply_to:
            lines.append(f"In-Reply-To: {self.in_reply_to}".encode("ascii"))
        refs = list(self.references) or ([self.in_reply_to] if self.in_reply_to else [])
        if refs:
            lines.append(b"References: " + "\r\n\t".join(refs).encode("ascii"))
        for name, value in c["headers"]:
            lines.append(f"{name}: {value.format(**tok)}".encode("ascii"))
        for name, value in self.headers:
            v = value if isinstance(value, bytes) else value.encode("ascii")
            lines.append(name.encode("ascii") + b": " + v)
        lines.append(f"MIME-Version: {c.get('mime_version', '1.0')}".encode("ascii"))
        if not self._attachments:
            lines += self._body_part(tok, 1)
            return CRLF.join(lines)
        boundary = self._boundary(tok, 0)
        lines.append(f"Content-Type: multipart/mixed;\r\n\tboundary=\"{boundary}\"".encode("ascii"))
        lines += [b"", b"This is a multi-part message in MIME format.", b""]
        lines.append(f"--{boundary}".encode("ascii"))
        lines += self._body_part(tok, 1)
        for a in self._attachments:
            lines.append(f"--{boundary}".encode("ascii"))
            lines += self._attachment_part(a)
        lines.append(f"--{boundary}--".encode("ascii"))
        lines.append(b"")
        return CRLF.join(lines)


# --------------------------------------------------------------------------------------------
# DKIM, as 163.com / QQ sign their users' mail: with a demo key whose public half is in
# demo_dkim_keys.txt (config `[security] dkim_keys` points there for the demo and the tests)

DEMO_DKIM_KEY = Path(__file__).with_name("demo_dkim.pem")
DEMO_DKIM_KEYS = Path(__file__).with_name("demo_dkim_keys.txt")
DEMO_SELECTOR = "mailbot-demo"
_SIGNED_HEADERS = [b"from", b"to", b"cc", b"subject", b"date", b"message-id", b"in-reply-to", b"references",
                   b"mime-version", b"content-type"]


def demo_signed_domains() -> frozenset[str]:
    names = (line.split()[0] for line in DEMO_DKIM_KEYS.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#"))
    return frozenset(n.partition("._domainkey.")[2] for n in names)


def demo_dkim_sign(raw: bytes, domain: str, when: datetime) -> bytes:
    """RAW with a DKIM-Signature of DOMAIN (demo key) after any Return-Path/Received lines.
    t= is WHEN, not the clock, so the same mail always gets the same bytes."""
    import dkim

    class _Clock:   # dkimpy reads time.time() for t=; only its own module global is swapped
        @staticmethod
        def time() -> float:
            return when.timestamp()

    saved = dkim.time
    dkim.time = _Clock
    try:
        sig = dkim.sign(raw, DEMO_SELECTOR.encode(), domain.encode(), DEMO_DKIM_KEY.read_bytes(),
                        include_headers=_SIGNED_HEADERS, linesep=b"\r\n")
    finally:
        dkim.time = saved
    at = 0
    while raw.startswith((b"Return-Path:", b"Received:"), at):
        at = raw.index(b"\r\n", at) + 2
        while raw[at:at + 1] in (b" ", b"\t"):
            at = raw.index(b"\r\n", at) + 2
    return raw[:at] + sig + raw[at:]
