"""The MIME tree: the standard library's parser under a hardened policy, the two repairs of
broken structure, and where each entity's body lies in the bytes as received.

Hardening (CPython email bugs: cpython#136063 quadratic header parsing, #151857 IndexError,
#143712 re-serialising): the policy hands Message plain unfolded header strings capped at 16 KiB
instead of structured header objects. Two common breakages are repaired on a copy used only for
parsing: top-level header lines folded without indentation (`repair_header_block`), and a
top-level boundary that the body never uses while it plainly uses another (`repair_boundary`).
`locate` maps each entity to its byte range so a forwarded message is cut out, never re-serialised.
"""
from __future__ import annotations

import re
from email.message import Message
from email.parser import BytesParser
from email.policy import EmailPolicy

from mailbot.mailin.charsets import SURROGATES, codec_for
from mailbot.mailin.headerdecode import split_params, unfold_rfc

MAX_DEPTH = 30                          # multipart nesting within one message
_STRUCTURED_PARSE_CAP = 16 * 1024       # what the stdlib header parser may see (quadratic)


class _SafePolicy(EmailPolicy):
    """policy.default whose structured header parsing cannot hang or raise:
    values are capped before the (quadratic, cpython#136063) parser sees them and a
    parser exception (cpython#151857) degrades to the plain unfolded string."""

    parse_cap = _STRUCTURED_PARSE_CAP

    def header_fetch_parse(self, name, value):
        # The parser itself only needs Content-Type's type and boundary, which Message
        # reads from the plain string (as under compat32, but unfolded as RFC 5322 says,
        # so a boundary folded inside its quotes still matches).  Skipping the
        # structured header classes avoids their quadratic cost (cpython#136063) and
        # their IndexErrors (cpython#151857).  Values we show are decoded in this
        # module from raw_items().
        if len(value) > self.parse_cap:
            value = value[: self.parse_cap]
        if "*" in value and not value.isascii():
            # get_param() would try the raw bytes as an RFC 2231 charset name and raise.
            value = SURROGATES.sub("?", value)
        return unfold_rfc(value)


POLICY = _SafePolicy()


def bytes_parse(raw: bytes) -> Message:
    return BytesParser(policy=POLICY).parsebytes(raw)


# ------------------------------------------------------------ raw-offset locator

_HEADER_LINE = re.compile(rb"(From |[\041-\071\073-\176]*:|[\t ])")
_EOL = re.compile(rb"\r\n|\r|\n")


def header_end(raw: bytes, start: int, end: int) -> int:
    """Offset where the body of the entity at raw[start:end] begins (feedparser rules)."""
    pos = start
    while pos < end:
        m = _EOL.search(raw, pos, end)
        line_end = m.start() if m else end
        nxt = m.end() if m else end
        if line_end == pos:                 # empty line: body follows it
            return nxt
        if not _HEADER_LINE.match(raw, pos, line_end):
            return pos                      # missing separator: this line starts the body
        pos = nxt
    return end


def header_block(raw: bytes) -> bytes:
    """RAW's top-level header lines, as a header-only parse reads them. The stdlib's
    BytesHeaderParser still splits the whole body into lines to throw them away (a 70 KB mail:
    0.6 ms); given this it sees the same headers for the cost of the headers."""
    return raw[:header_end(raw, 0, len(raw))]


def _split_multipart(raw: bytes, start: int, end: int, boundary: str) -> list[tuple[int, int]] | None:
    try:
        sep = b"--" + boundary.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return None
    marks: list[tuple[int, int, bool]] = []   # (line start, after line, is_close)
    pos = start
    while True:
        i = raw.find(sep, pos, end)
        if i < 0:
            break
        pos = i + len(sep)
        if i != start and raw[i - 1] not in (0x0A, 0x0D):
            continue
        j = i + len(sep)
        close = raw.startswith(b"--", j, end)
        if close:
            j += 2
        while j < end and raw[j] in (0x20, 0x09):
            j += 1
        if j < end:
            m = _EOL.match(raw, j, end)
            if not m:
                continue
            j = m.end()
        marks.append((i, j, close))
        if close:
            break
    if not marks:
        return None
    regions = []
    for k, (ls, after, close) in enumerate(marks):
        if close:
            break
        if k + 1 < len(marks):
            nls = marks[k + 1][0]
            e = nls
            if e > after and raw[e - 1] == 0x0A:
                e -= 1
                if e > after and raw[e - 1] == 0x0D:
                    e -= 1
            elif e > after and raw[e - 1] == 0x0D:
                e -= 1
        else:
            e = end
        regions.append((after, max(after, e)))
    return regions


def locate(raw: bytes, msg: Message) -> dict[int, tuple[int, int]]:
    """Map id(entity) -> (body start, body end) offsets in ``raw`` wherever the parsed
    tree and the bytes agree.  Entities that cannot be located are left out."""
    out: dict[int, tuple[int, int]] = {}
    stack = [(msg, 0, len(raw), 0)]
    while stack:
        ent, s, e, depth = stack.pop()
        if depth > MAX_DEPTH:
            continue
        bs = header_end(raw, s, e)
        out[id(ent)] = (bs, e)
        if not ent.is_multipart():
            continue
        children = stored_payload(ent)
        if not isinstance(children, list):
            continue
        maintype = ent.get_content_maintype()
        if maintype == "multipart":
            boundary = ent.get_boundary()
            if not boundary:
                continue
            regions = _split_multipart(raw, bs, e, boundary)
            if regions is None or len(regions) != len(children):
                continue
            for (rs, re_), child in zip(regions, children):
                stack.append((child, rs, re_, depth + 1))
        elif maintype == "message" and len(children) == 1 and \
                ent.get_content_subtype() != "delivery-status":
            stack.append((children[0], bs, e, depth + 1))
    return out


def stored_payload(part: Message):
    """The stored payload: a list of parts, or the body text exactly as received
    (ASCII + surrogate-escaped bytes).  ``Message.get_payload()`` would charset-decode
    8-bit text, and raises when the charset label itself holds raw bytes."""
    return getattr(part, "_payload", None)


def raw_header(part: Message, name: str) -> str | None:
    low = name.lower()
    try:
        for k, v in part.raw_items():
            if k.lower() == low:
                return unfold_rfc(v if isinstance(v, str) else str(v))
    except Exception:
        return None
    return None


def message_charset(msg: Message, limit: int = 50) -> str | None:
    """Codec of the charset the message declares for its text (first text part)."""
    stack = [msg]
    seen = 0
    while stack and seen < limit:
        part = stack.pop(0)
        seen += 1
        try:
            if part.get_content_maintype() == "multipart":
                payload = stored_payload(part)
                if isinstance(payload, list):
                    stack.extend(payload)
                continue
            if part.get_content_maintype() == "text":
                _, params = split_params(raw_header(part, "content-type") or "")
                codec = codec_for(dict(params).get("charset"))
                if codec:
                    return codec
        except Exception:
            continue
    return None


_KNOWN_HEADER = re.compile(
    rb"(from|to|cc|bcc|subject|date|message-id|mime-version|content-[a-z-]+|received|"
    rb"return-path|reply-to|sender|references|in-reply-to|delivered-to|x-[a-z0-9-]+|"
    rb"dkim-signature|auto-submitted|precedence|list-[a-z-]+|thread-[a-z-]+|importance)"
    rb"[ \t]*:", re.I)


def repair_header_block(raw: bytes) -> bytes | None:
    """Headers folded without leading whitespace (issue84-style) end the header block
    early in the stdlib parser and push Content-Type into the body.  When a line that
    is not a header is followed by lines that are well-known headers before the first
    empty line, indent it so it reads as a continuation.  None if nothing to repair."""
    m = re.search(rb"\r?\n\r?\n", raw)
    end = m.start() if m else len(raw)
    if end > 1024 * 1024:
        return None
    lines = raw[:end].split(b"\n")
    bad = [i for i, line in enumerate(lines)
           if i > 0 and line.strip() and not _HEADER_LINE.match(line)]
    if not bad or not any(_KNOWN_HEADER.match(line) for line in lines[bad[0] + 1:]):
        return None
    for i in bad:
        lines[i] = b" " + lines[i]
    return b"\n".join(lines) + raw[end:]


def repair_boundary(raw: bytes, msg: Message) -> bytes | None:
    """A top-level multipart whose declared boundary never occurs, while its body is
    plainly split by another one ("--token" lines): parse with the boundary actually
    used.  Only the Content-Type header of the copy that is parsed changes."""
    if msg.get_content_maintype() != "multipart" or isinstance(stored_payload(msg), list):
        return None
    body_start = header_end(raw, 0, len(raw))
    seps = re.findall(rb"(?m)^--([0-9A-Za-z'()+_,./:=?-]{1,70}?)(--)?[ \t]*\r?$", raw[body_start:])
    counts: dict[bytes, int] = {}
    for token, _close in seps:
        if re.search(rb"[0-9A-Za-z]", token):     # not a "----------" text rule
            counts[token] = counts.get(token, 0) + 1
    if not counts:
        return None
    token, n = max(counts.items(), key=lambda kv: kv[1])
    if n < 2 and not any(t == token and c for t, c in seps):
        return None
    head = raw[:body_start]
    m = re.search(rb"(?im)^content-type:", head)
    if not m:
        return None
    # Put the real boundary first among the parameters; a later duplicate is ignored.
    eol = re.compile(rb"\r?\n").search(head, m.end())
    line_end = eol.start() if eol else len(head)
    line = head[m.end():line_end]
    ctype, sep, rest = line.partition(b";")
    new_line = ctype + b'; boundary="' + token + b'"' + (b";" + rest if sep else b"")
    return head[:m.end()] + new_line + head[line_end:] + raw[body_start:]
