"""Plain text, HTML and MHT ("Word" files that are really web pages) decoded: BOM, declared
charset, UTF-8, then GB18030 (gb2312/gbk labels read as GB18030)."""
from __future__ import annotations

import codecs
import email
import email.policy
import re

from lxml import etree

from mailbot.documents.doctext import REASON_EMPTY, WARN_TEXT_DECODE, WARN_TRUNCATED, Ctx, DocText, clean_text, doc_text

_GB_ALIASES = {"gb2312", "gbk", "cp936", "x-gbk", "gb_2312-80", "euc-cn", "csgb2312", "x-euc-cn", "936"}


def _norm_charset(cs: str | None) -> str | None:
    if not cs:
        return None
    cs = cs.strip().strip("\"'").lower()
    if cs in _GB_ALIASES:
        return "gb18030"
    try:
        return codecs.lookup(cs).name
    except LookupError:
        return None


def decode_text(data: bytes, declared: str | None = None) -> tuple[str, bool]:
    """(text, lossy). BOM, then the declared charset, then UTF-8, then GB18030."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "replace"), False
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data[: len(data) // 2 * 2].decode("utf-16", "replace"), False
    for enc in (_norm_charset(declared), "utf-8", "gb18030"):
        if not enc:
            continue
        try:
            return data.decode(enc), False
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("gb18030", "replace"), True


def _limit_text(text: str, cap: int, warnings: list[str]) -> str:
    if len(text) > cap:
        warnings.append(WARN_TRUNCATED.format(n=cap))
        return text[:cap]
    return text


def _finish_plain(name: str, kind: str, text: str, warnings: list[str], ctx: Ctx) -> DocText:
    text = _limit_text(clean_text(text), ctx.char_cap(), warnings)
    if not text.strip():
        return doc_text(name, kind, text, False, REASON_EMPTY, warnings)
    attention = [w for w in warnings if w.startswith("文档过长")]
    return doc_text(name, kind, text, True, attention[0] if attention else None, warnings)


def read_text(data: bytes, name: str, ctx: Ctx) -> DocText:
    text, lossy = decode_text(data)
    warnings = [WARN_TEXT_DECODE] if lossy else []
    return _finish_plain(name, "text", text, warnings, ctx)


_CHARSET_RE = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", re.I)
_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.S)
_HTML_BLOCKS = frozenset(("p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table",
                          "section", "article", "blockquote", "pre", "ul", "ol", "dl", "dt", "dd",
                          "header", "footer", "hr", "address", "center"))
_HTML_SKIP = frozenset(("script", "style", "head", "title", "noscript", "template", "xml", "object"))
_WS_RE = re.compile(r"[ \t\r\n\f\v\u00a0]+")


def html_bytes_to_text(data: bytes, declared: str | None = None) -> str:
    m = _CHARSET_RE.search(data[:4096])
    text, _lossy = decode_text(data, declared or (m.group(1).decode("ascii", "ignore") if m else None))
    return _html_to_text(text)


def _html_to_text(s: str) -> str:
    from lxml import html as lhtml

    s = _XML_DECL_RE.sub("", s, count=1)
    if not s.strip():
        return ""
    parser = lhtml.HTMLParser(no_network=True, remove_comments=True, remove_pis=True,
                              recover=True, huge_tree=False)
    try:
        root = lhtml.document_fromstring(s, parser=parser)
    except (etree.ParserError, ValueError):
        return ""
    parts: list[str] = []
    skip_depth = 0
    for ev, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        local = tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()
        if ev == "start":
            if local in _HTML_SKIP:
                skip_depth += 1
            if skip_depth:
                continue
            if local == "br":
                parts.append("\n")
            if el.text and tag:
                parts.append(_WS_RE.sub(" ", el.text))
        else:
            if local in _HTML_SKIP:
                skip_depth -= 1
                if skip_depth:
                    continue
            elif skip_depth:
                continue
            if local in _HTML_BLOCKS:
                parts.append("\n")
            elif local in ("td", "th"):
                parts.append("\t")
            if el.tail:
                parts.append(_WS_RE.sub(" ", el.tail))
    lines = []
    for line in "".join(parts).split("\n"):
        line = re.sub(r" *\t *", "\t", line).strip(" ").rstrip("\t")
        if line.strip():
            lines.append(line)
    return "\n".join(lines)


def mht_to_text(data: bytes) -> str:
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    html_part = plain_part = None
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "text/html" and html_part is None:
            html_part = part
        elif ctype == "text/plain" and plain_part is None:
            plain_part = part
    part = html_part or plain_part
    if part is None:
        return ""
    payload = part.get_payload(decode=True) or b""
    if part is html_part:
        return html_bytes_to_text(payload, part.get_content_charset())
    return decode_text(payload, part.get_content_charset())[0]


def read_html(data: bytes, name: str, ctx: Ctx, *, mht: bool) -> DocText:
    text = mht_to_text(data) if mht else html_bytes_to_text(data)
    return _finish_plain(name, "html", text, [], ctx)
