"""The MIME tree walked into what the mail carries: attachments at every depth (inline images,
nameless parts, uuencoded blocks, each forwarded message as its received bytes *and* the files
inside it) and the body parts; at most ``max_parts`` entities, each read under its own ``try``.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email.message import Message
from functools import cached_property

from mailbot.mailin.charsets import codec_for, decode_bytes, guess_decode, no_surrogates, raw_to_bytes
from mailbot.mailin.headerdecode import choose_filename, decode_header_value, split_params
from mailbot.mailin.mimetree import (MAX_DEPTH, POLICY, bytes_parse, locate, message_charset, raw_header,
                                     stored_payload)
from mailbot.mailin.transfer import UU_BEGIN, UU_CTES, UU_END, decode_cte, looks_uu, uudecode

MAX_MESSAGE_DEPTH = 5                   # forwarded messages inside forwarded messages
DEBUG = False                           # tests/fuzzing: let per-part errors propagate


@dataclass(frozen=True)
class Attachment:
    filename: str | None      # decoded name as the sender meant it (before sanitising)
    content_type: str         # lowercased maintype/subtype
    data: bytes               # decoded bytes; message/rfc822: the part's bytes as received
    disposition: str | None   # "attachment" | "inline" | None
    depth: int                # 0 = top-level message, 1 = inside a forwarded message, ...

    @property
    def size(self) -> int:
        return len(self.data)

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


_FORWARDED_TYPES = ("message/rfc822", "message/global")


def _describe(filename, ctype):
    return f"附件「{filename}」" if filename else f"一个 {ctype} 部分"


class Walker:
    def __init__(self, max_parts: int, max_header_bytes: int):
        self.max_parts = max_parts
        self.max_header_bytes = max_header_bytes
        self.parts_seen = 0
        self.over_limit = False
        self.attachments: list[Attachment] = []
        self.problems: list[str] = []
        self.plain: list[str] = []
        self.html: list[str] = []

    def problem(self, text: str):
        if text not in self.problems and len(self.problems) < 50:
            self.problems.append(text)

    # one message level (the top-level mail or a forwarded one)
    def walk_message(self, msg: Message, raw: bytes | None, depth: int):
        locs: dict | None = None

        def get_locs():
            nonlocal locs
            if locs is None:
                locs = {}
                if raw is not None:
                    try:
                        locs = locate(raw, msg)
                    except Exception:
                        locs = {}
            return locs

        fallback = message_charset(msg)
        stack = [(msg, 0)]
        while stack:
            part, nest = stack.pop()
            if self.parts_seen >= self.max_parts:
                if not self.over_limit:
                    self.over_limit = True
                    self.problem(f"邮件包含的部分超过 {self.max_parts} 个，其余部分没有读取")
                return
            if nest > MAX_DEPTH:
                self.problem("邮件的嵌套层次过深，深处的部分没有读取")
                continue
            self.parts_seen += 1
            try:
                children = self.visit(part, raw, depth, get_locs, fallback)
            except RecursionError:
                self.problem("邮件的嵌套层次过深，深处的部分没有读取")
                continue
            except Exception as exc:  # one bad part must not lose the others
                if DEBUG:
                    raise
                self.problem(f"邮件的一个部分无法读取（{type(exc).__name__}: {str(exc)[:120]}）")
                continue
            for child in reversed(children):
                stack.append((child, nest + 1))

    def visit(self, part: Message, raw: bytes | None, depth: int, get_locs,
              fallback: str | None = None) -> list:
        """Handle one entity; return children to visit within this message level."""
        ctype = no_surrogates((part.get_content_type() or "application/octet-stream").lower())
        maintype = ctype.split("/", 1)[0]
        payload = stored_payload(part)
        if maintype == "multipart":
            if isinstance(payload, list):
                return payload
            # A multipart whose boundary never occurs: its bytes become one nameless
            # attachment rather than being lost (the defect is reported separately).
        ct_raw = raw_header(part, "content-type") or ""
        cd_raw = raw_header(part, "content-disposition") or ""
        cte = (raw_header(part, "content-transfer-encoding") or "").strip().lower()
        cte = cte.split(";")[0].strip().strip('"')
        _, ct_params = split_params(ct_raw[: self.max_header_bytes])
        disp_token, cd_params = split_params(cd_raw[: self.max_header_bytes])
        disp_token = disp_token.lower()
        disposition = disp_token if disp_token in ("attachment", "inline") else None
        own_charset = codec_for(dict(ct_params).get("charset"))
        name_problems: list[str] = []
        filename = choose_filename(cd_params, ct_params, name_problems, own_charset or fallback)
        for text in name_problems:
            self.problem(text)

        if ctype in _FORWARDED_TYPES and isinstance(payload, list):
            self.forwarded(part, payload, ctype, filename, disposition, cte, raw, depth, get_locs)
            return []
        if maintype == "message":
            # delivery-status, disposition-notification, ...: the body bytes as received.
            data = self.entity_body(part, raw, get_locs)
            data, kind = decode_cte(data, cte)
            self.note_cte(kind, filename, ctype)
            self.attachments.append(Attachment(filename, ctype, data, disposition, depth))
            return []

        body = raw_to_bytes(payload) if isinstance(payload, str) else b""
        data, kind = decode_cte(body, cte)
        if cte in UU_CTES:
            if filename is None:
                m = UU_BEGIN.search(body)
                if m:
                    filename = guess_decode(m.group(1))[0]
        if ctype in ("text/plain", "text/html") and filename is None and disposition != "attachment":
            self.note_cte(kind, filename, ctype)
            self.body_part(part, ctype, data, ct_params, depth)
            return []
        self.note_cte(kind, filename, ctype)
        self.attachments.append(Attachment(filename, ctype, data, disposition, depth))
        return []

    def note_cte(self, kind, filename, ctype):
        if kind is None:
            return
        what = _describe(filename, ctype)
        if kind == "base64":
            self.problem(f"{what}的 base64 编码已损坏，已尽量解码，文件可能不完整")
        elif kind == "uuencode":
            self.problem(f"{what}的 uuencode 编码已损坏，已尽量解码，文件可能不完整")
        elif kind.startswith("cte:"):
            self.problem(f"{what}使用了未知的传输编码 {kind[4:]}，按原样保存")

    def entity_body(self, part: Message, raw: bytes | None, get_locs) -> bytes:
        """Bytes of a message/* part's body exactly as received (not transfer-decoded)."""
        loc = get_locs().get(id(part)) if raw is not None else None
        if loc is not None:
            return raw[loc[0]:loc[1]]
        payload = stored_payload(part)
        if isinstance(payload, str):
            return raw_to_bytes(payload)
        # Last resort: re-serialise only this part's content (never the whole mail).
        self.problem(f"一个 {no_surrogates(part.get_content_type())} 部分无法按原样截取，已重新生成其内容")
        try:
            if isinstance(payload, list):
                return b"\n".join(
                    p.as_bytes(policy=POLICY.clone(refold_source="none", linesep="\r\n"))
                    for p in payload)
        except Exception:
            pass
        return b""

    def forwarded(self, part, payload, ctype, filename, disposition, cte, raw, depth, get_locs):
        body = self.entity_body(part, raw, get_locs)
        inner: Message | None = payload[0] if payload else None
        inner_raw: bytes | None = None
        if cte in ("base64", "quoted-printable"):
            # Not allowed by RFC 2046 but sent anyway: the parser read encoded text as
            # a message.  Decode and parse the real message.
            data, kind = decode_cte(body, cte)
            self.note_cte(kind, filename, ctype)
            try:
                inner = bytes_parse(data)
            except Exception:
                inner = None
            inner_raw = data
        else:
            data = body
            loc = get_locs().get(id(part)) if raw is not None else None
            inner_raw = data if loc is not None else None
        if filename is None:
            subject = ""
            if inner is not None:
                subject = decode_header_value(raw_header(inner, "subject") or "")
                subject = re.sub(r"\s+", " ", subject).strip()[:150]
            filename = (subject or "无主题") + ".eml"
        self.attachments.append(Attachment(filename, ctype, data, disposition, depth))
        if inner is None:
            return
        if depth + 1 > MAX_MESSAGE_DEPTH:
            self.problem(f"转发的邮件嵌套超过 {MAX_MESSAGE_DEPTH} 层，更深处的附件没有单独列出"
                         "（仍包含在上一层的 .eml 中）")
            return
        self.walk_message(inner, inner_raw, depth + 1)

    def body_part(self, part, ctype, data: bytes, ct_params, depth):
        charset = None
        for k, v in ct_params:
            if k == "charset":
                charset = v
        text, status = decode_bytes(data, charset)
        if status == "unknown" and depth == 0:
            self.problem(f"正文使用了无法识别的字符集 {charset}，已按猜测解码")
        if ctype == "text/plain" and b"begin " in data:
            text = self.extract_uu(data, text, depth, charset)
        if depth != 0:
            return
        if ctype == "text/plain":
            self.plain.append(text)
        else:
            self.html.append(text)

    def extract_uu(self, data: bytes, text: str, depth: int, charset: str | None) -> str:
        """Uuencoded files inside a text body become attachments; the text loses them."""
        spans: list[tuple[int, int]] = []
        pos = 0
        for count, m in enumerate(UU_BEGIN.finditer(data)):
            if count >= 100 or m.start() < pos:
                break
            first = data[m.end(): m.end() + 200].lstrip(b"\r\n").split(b"\n", 1)[0]
            if not looks_uu(first):
                continue
            endm = UU_END.search(data, m.end())
            block = data[m.end(): endm.start() if endm else len(data)]
            lines = [line for line in block.splitlines() if line.strip()]
            if not lines or not all(looks_uu(line) for line in lines):
                continue
            decoded, clean = uudecode(lines)
            name = guess_decode(m.group(1))[0]
            self.attachments.append(Attachment(name, "application/octet-stream", decoded, None, depth))
            if not clean:
                self.problem(f"附件「{name}」的 uuencode 编码已损坏，已尽量解码，文件可能不完整")
            pos = endm.end() if endm else len(data)
            spans.append((m.start(), pos))
        if not spans:
            return text
        kept = bytearray()
        last = 0
        for a, b in spans:
            kept += data[last:a]
            last = b
        kept += data[last:]
        return decode_bytes(bytes(kept), charset)[0]
