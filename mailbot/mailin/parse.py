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
"""

from __future__ import annotations

import base64
import binascii
import codecs
import hashlib
import html
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import getaddresses, parsedate_to_datetime
from functools import cached_property
from html.parser import HTMLParser
from urllib.parse import unquote_to_bytes

__all__ = ["Attachment", "ParsedMail", "parse_message", "decode_header_value"]

DEFAULT_MAX_HEADER_BYTES = 64 * 1024   # one header field's value, as received
DEFAULT_MAX_PARTS = 1000               # MIME entities visited
DEFAULT_MAX_BODY_CHARS = 200_000       # body_text length
MAX_DEPTH = 30                          # multipart nesting within one message
MAX_MESSAGE_DEPTH = 5                   # forwarded messages inside forwarded messages
MAX_HEADERS = 2000                      # top-level header fields listed in ParsedMail.headers
_STRUCTURED_PARSE_CAP = 16 * 1024       # what the stdlib header parser may see (quadratic)
_HTML_INPUT_CAP = 4 * 1024 * 1024
_DEBUG = False                          # tests/fuzzing: let per-part errors propagate


# --------------------------------------------------------------------------- data


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


# ------------------------------------------------------------------ charset decoding

_CHARSET_ALIASES = {
    # Chinese: labels lie; GB18030 is a superset of all of them.
    "gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "x-gbk": "gb18030",
    "x-gb2312": "gb18030", "gb_2312-80": "gb18030", "gb_2312": "gb18030",
    "csgb2312": "gb18030", "euc-cn": "gb18030", "x-euc-cn": "gb18030", "euccn": "gb18030",
    "chinese": "gb18030", "ms936": "gb18030", "windows-936": "gb18030",
    "iso-ir-58": "gb18030", "csiso58gb231280": "gb18030", "gb18030": "gb18030",
    "hz-gb-2312": "hz",
    "big5": "big5hkscs", "x-big5": "big5hkscs", "cn-big5": "big5hkscs", "csbig5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    # Western: what browsers do.
    "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
    "l1": "cp1252", "iso_8859-1": "cp1252", "windows-1252": "cp1252",
    # "us-ascii" on 8-bit text means the client did not know: guess (UTF-8, GB18030, ...).
    "us-ascii": None, "ascii": None, "ansi_x3.4-1968": None, "us": None,
    "ks_c_5601-1987": "cp949", "euc-kr": "cp949", "ks_c_5601": "cp949", "ksc5601": "cp949",
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932",
    "windows-31j": "cp932", "iso-2022-jp": "iso2022_jp_ext",
    "utf8": "utf-8", "unicode-1-1-utf-7": "utf-7", "iso-8859-8-i": "iso8859-8",
    "x-unknown": None, "unknown-8bit": None, "unknown": None, "x-user-defined": None,
    "default": None, "binary": None,
}


def _codec_for(label: str | None) -> str | None:
    """A Python codec name for a MIME charset label, or None if there is none."""
    if not label:
        return None
    lab = label.strip().strip('"\'').lower()
    if "*" in lab:                      # RFC 2231 language suffix in encoded words
        lab = lab.split("*", 1)[0]
    if lab in _CHARSET_ALIASES:
        return _CHARSET_ALIASES[lab]
    if lab.startswith("x-mac-"):
        lab = lab[2:]
    try:
        return codecs.lookup(lab).name
    except (LookupError, ValueError):
        return None


def _iso2022jp_ms(b: bytes) -> str:
    """ISO-2022-JP with the NEC/IBM rows Microsoft uses (CP50220): via Shift_JIS/cp932."""
    out = bytearray()
    mode = "ascii"
    i, n = 0, len(b)
    while i < n:
        c = b[i]
        if c == 0x1B:
            seq = b[i + 1:i + 3]
            if seq in (b"$@", b"$B"):
                mode = "jis"
            elif seq in (b"(B", b"(J"):
                mode = "ascii"
            elif seq == b"(I":
                mode = "kana"
            else:
                raise ValueError("unsupported ISO-2022-JP escape")
            i += 3
            continue
        if mode == "jis" and c not in (0x0A, 0x0D):
            if i + 1 >= n:
                raise ValueError("truncated ISO-2022-JP")
            j1, j2 = c, b[i + 1]
            if j1 & 1:
                s2 = j2 + 0x1F + (1 if j2 + 0x1F >= 0x7F else 0)
            else:
                s2 = j2 + 0x7E
            s1 = ((j1 - 0x21) >> 1) + 0x81
            if s1 > 0x9F:
                s1 += 0x40
            out += bytes((s1 & 0xFF, s2 & 0xFF))
            i += 2
        elif mode == "kana":
            out.append((c + 0x80) & 0xFF)
            i += 1
        else:
            out.append(c)
            i += 1
    return bytes(out).decode("cp932")


def _strict(data: bytes, codec: str) -> str:
    """Decode strictly; raises ValueError (UnicodeDecodeError included) or LookupError."""
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        if codec.startswith("iso2022_jp"):
            return _iso2022jp_ms(data)
        raise


def _cp1252(b: bytes) -> str:
    # cp1252 leaves 0x81 0x8D 0x8F 0x90 0x9D undefined; map those as Latin-1 does.
    return "".join(
        b[i:i + 1].decode("cp1252", "ignore") or chr(b[i]) for i in range(len(b))
    ) if any(c in b for c in (0x81, 0x8D, 0x8F, 0x90, 0x9D)) else b.decode("cp1252")


def _has_controls(s: str) -> bool:
    return any((ord(c) < 32 and c not in "\t\r\n") or 0x7F <= ord(c) < 0xA0 for c in s)


def _all_gb2312(s: str) -> bool:
    for c in s:
        if ord(c) >= 0x80:
            try:
                c.encode("gb2312")
            except UnicodeEncodeError:
                return False
    return True


def _guess_decode(b: bytes) -> tuple[str, bool]:
    """Decode bytes of unknown charset.  Returns (text, confident)."""
    try:
        return b.decode("utf-8"), True
    except UnicodeDecodeError:
        pass
    gb = None
    try:
        gb = b.decode("gb18030")
    except UnicodeDecodeError:
        pass
    if gb is not None and not _has_controls(gb) and _all_gb2312(gb):
        return gb, True
    latin = _cp1252(b)
    if all(c.isalpha() or c in "\u00a0\u00b0\u00a7\u00b4\u00b7" for c in latin if ord(c) >= 0x80):
        return latin, True
    if gb is not None and not _has_controls(gb):
        return gb, True
    return b.decode("gb18030", "replace"), False


def _decode_bytes(b: bytes, label: str | None) -> tuple[str, str]:
    """Decode text with its declared charset.  Returns (text, status): "ok",
    "guessed" (label wrong or absent, a plausible reading was found), "unknown" (a
    label with no codec) or "lossy" (replacement characters were needed)."""
    codec = _codec_for(label)
    if codec is None:
        text, confident = _guess_decode(b)
        lab = (label or "").strip().strip('"\'').lower()
        if lab and lab not in _CHARSET_ALIASES:
            return text, "unknown"
        return text, "guessed" if confident else "lossy"
    if codec == "cp1252" and not b.isascii():
        # Old clients label UTF-8 text "iso-8859-1"; Latin text is never valid UTF-8.
        try:
            return b.decode("utf-8"), "guessed"
        except UnicodeDecodeError:
            pass
    try:
        return _strict(b, codec), "ok"
    except (ValueError, LookupError):
        pass
    text, confident = _guess_decode(b)
    if confident:
        return text, "guessed"
    try:
        return b.decode(codec, "replace"), "lossy"
    except LookupError:
        return text, "lossy"


def _raw_to_bytes(s: str) -> bytes:
    """Header/payload text from BytesParser (ASCII + surrogate-escaped bytes) -> bytes."""
    try:
        return s.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogateescape")


def _fix_8bit(s: str, fallback: str | None = None) -> str:
    """Decode raw bytes carried as surrogates in ``s``: UTF-8, else the charset the
    message declares (``fallback``, a codec name), else a plausible guess."""
    if s.isascii():
        if "\x1b$" in s:                       # raw ISO-2022-JP (7-bit, escapes)
            try:
                return _iso2022jp_ms(s.encode("ascii"))
            except (ValueError, LookupError):
                return s
        if fallback == "utf-7" and "+" in s:
            try:
                return s.encode("ascii").decode("utf-7")
            except (ValueError, LookupError):
                return s
        return s
    b = _raw_to_bytes(s)
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # A Western body charset says little about a raw header (Chinese clients set it for
    # ASCII bodies); the guess below prefers GB2312 text, then Latin letters, anyway.
    if fallback and fallback not in ("utf-8", "utf-7", "cp1252"):
        try:
            text = _strict(b, fallback)
            if not _has_controls(text):
                return text
        except (ValueError, LookupError):
            pass
    text, _ = _guess_decode(b)
    return text


_SURROGATES = re.compile("[\ud800-\udfff]")


_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(s: str) -> str:
    """No lone surrogates may leave this module (they break JSON, files, SQLite)."""
    return _SURROGATES.sub("\ufffd", s) if not s.isascii() else s


def _clean_text(s: str) -> str:
    """Display text: also without NULs and other C0 controls (tab and newline stay)."""
    return _CONTROLS.sub("", _clean(s))


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\r\n]*)\?=")
_WS_ONLY = re.compile(r"[ \t\r\n]*\Z")


def _b_decode(text: str) -> bytes | None:
    """RFC 2047 "B" text; missing padding is forgiven, other damage gives None."""
    t = re.sub(r"\s+", "", text).rstrip("=")
    if not re.fullmatch(r"[A-Za-z0-9+/]*", t) or len(t) % 4 == 1:
        return None
    try:
        return base64.b64decode(t + "=" * (-len(t) % 4))
    except (binascii.Error, ValueError):
        return None


def _q_decode(text: str) -> bytes:
    b = _raw_to_bytes(text).replace(b"_", b" ")
    return re.sub(rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), b)


def decode_header_value(value: str, fallback: str | None = None) -> str:
    """Decode one unfolded raw header value: RFC 2047 words and raw 8-bit bytes.

    Whitespace between two encoded words is dropped (RFC 2047 section 6.2); adjacent
    words of one charset are decoded together, so a character split across two words
    survives.  A word that no charset reads plausibly is kept as written."""
    if "=?" not in value:
        return _fix_8bit(value, fallback)
    out: list[str] = []
    pending: list = []          # [key, label, bytearray, raw text]
    prev_word = False
    pos = 0

    def flush():
        if not pending:
            return
        _key, label, data, raw_text = pending
        codec = _codec_for(label)
        text = None
        if data is None:
            text = raw_text                      # damaged word: keep it as written
        elif codec is not None:
            try:
                text = _strict(bytes(data), codec)
            except (ValueError, LookupError):
                # Mislabelled Chinese (GBK bytes under a UTF-8 label) is common enough.
                try:
                    gb = bytes(data).decode("gb18030")
                    if not _has_controls(gb) and _all_gb2312(gb):
                        text = gb
                except UnicodeDecodeError:
                    pass
        else:
            guess, confident = _guess_decode(bytes(data))
            if confident:
                text = guess
        out.append(raw_text if text is None else text)
        pending.clear()

    for m in _ENCODED_WORD.finditer(value):
        between = value[pos:m.start()]
        if between and not (prev_word and _WS_ONLY.match(between)):
            flush()
            out.append(_fix_8bit(between, fallback))
        label, enc, payload = m.group(1), m.group(2).upper(), m.group(3)
        data = _b_decode(payload) if enc == "B" else _q_decode(payload)
        key = _codec_for(label) or label.lower()
        if data is not None and pending and pending[0] == key and pending[2] is not None:
            pending[2] += data
            pending[3] += m.group(0)
        else:
            flush()
            pending.extend([key, label, None if data is None else bytearray(data), m.group(0)])
        prev_word = True
        pos = m.end()
    flush()
    if pos < len(value):
        out.append(_fix_8bit(value[pos:], fallback))
    return "".join(out)


def _unfold_rfc(value: str) -> str:
    """RFC 5322 unfolding: remove the line breaks, keep the whitespace."""
    if "\n" not in value and "\r" not in value:
        return value
    return re.sub(r"\r\n|\r|\n", "", value)


def _unfold(value: str) -> str:
    """Unfold a header: a line break and the whitespace after it become one space."""
    if "\n" not in value and "\r" not in value:
        return value
    value = re.sub(r"(?:\r\n|\r|\n)[ \t]+", " ", value)
    return re.sub(r"\r\n|\r|\n", "", value)


# ----------------------------------------------------------------- MIME parameters


def _split_params(value: str) -> tuple[str, list[tuple[str, str]]]:
    """'type; a=1; b="x;y"' -> ('type', [('a','1'), ('b','x;y')]).  Lenient, linear."""
    pieces: list[str] = []
    buf: list[str] = []
    quoted = False
    i, n = 0, len(value)
    while i < n:
        c = value[i]
        if quoted:
            if c == "\\" and i + 1 < n and value[i + 1] in '"\\':
                buf.append(c + value[i + 1])
                i += 2
                continue
            if c == '"':
                quoted = False
            buf.append(c)
        elif c == '"':
            quoted = True
            buf.append(c)
        elif c == ";":
            pieces.append("".join(buf))
            buf = []
        else:
            buf.append(c)
        i += 1
    pieces.append("".join(buf))
    first = pieces[0].strip()
    params: list[tuple[str, str]] = []
    for p in pieces[1:]:
        if "=" not in p:
            continue
        name, val = p.split("=", 1)
        name = name.strip().lower()
        val = val.strip()
        if len(val) >= 1 and val[0] == '"':
            end = val.rfind('"')
            inner = val[1:end] if end > 0 else val[1:]
            # Only \" and \\ are escapes: Windows paths (C:\TEMP\x.png) keep their backslashes.
            val = re.sub(r'\\(["\\])', r"\1", inner)
        if name:
            params.append((name, val))
    return first, params


class _NameResult:
    __slots__ = ("value", "failed_charset")

    def __init__(self, value, failed_charset=None):
        self.value = value
        self.failed_charset = failed_charset


def _rfc2231(params: list[tuple[str, str]], base: str) -> _NameResult | None:
    """Assemble ``base*`` / ``base*0*`` ... into a string.  None if absent."""
    sections: dict[int, tuple[str, bool]] = {}
    single = None
    for name, val in params:
        if name == base + "*":
            single = val
        elif name.startswith(base + "*"):
            rest = name[len(base) + 1:]
            enc = rest.endswith("*")
            num = rest[:-1] if enc else rest
            if num.isdigit() and int(num) < 1000 and int(num) not in sections:
                sections[int(num)] = (val, enc)
    if single is not None:
        parts = [(single, True)]
    elif sections:
        parts = [sections[k] for k in sorted(sections)]
    else:
        return None
    charset = None
    buf = bytearray()
    for idx, (val, enc) in enumerate(parts):
        if enc:
            if idx == 0 and val.count("'") >= 2:
                charset, _lang, val = val.split("'", 2)
            buf += unquote_to_bytes(_raw_to_bytes(val))
        else:
            buf += _raw_to_bytes(val)
    data = bytes(buf)
    if not charset:
        if data.isascii() and "=?" in data.decode("ascii"):
            return _NameResult(decode_header_value(data.decode("ascii")))
        return _NameResult(_guess_decode(data)[0])
    codec = _codec_for(charset)
    if codec is None:
        return _NameResult(None, failed_charset=(charset, data))
    try:
        return _NameResult(_strict(data, codec))
    except ValueError:
        text, confident = _guess_decode(data)
        return _NameResult(text if confident else data.decode(codec, "replace"))


def _param_value(params: list[tuple[str, str]], base: str, failures: list,
                 fallback: str | None = None) -> str | None:
    r = _rfc2231(params, base)
    if r is not None:
        if r.value:
            return r.value
        if r.failed_charset:
            failures.append(r.failed_charset)
    for name, val in params:
        if name == base:
            if not val:
                return None
            return decode_header_value(val, fallback)
    return None


_PLACEHOLDER = re.compile(r"^_+(\.[^.]*)?$")


def _choose_filename(cd_params, ct_params, problems: list, fallback: str | None = None) -> str | None:
    failures: list = []
    names = []
    for params, base in ((cd_params, "filename"), (cd_params, "name"), (ct_params, "name"),
                         (ct_params, "filename")):
        v = _param_value(params, base, failures, fallback)
        if v is not None and v.strip():
            names.append(v)
    # A placeholder ("_____.txt", iPhone) or a name with "?" (what an encoder writes for
    # a character its charset lacks; never valid in a Windows file name) loses to a
    # later candidate that has neither.
    chosen = None
    for v in names:
        if not _PLACEHOLDER.match(v.strip()):
            chosen = v
            break
    if chosen is not None and "?" in chosen:
        chosen = next((v for v in names if "?" not in v and not _PLACEHOLDER.match(v.strip())),
                      chosen)
    if chosen is None and names:
        chosen = names[0]
    if failures:
        label, data = failures[0]
        if chosen is None:
            chosen = _guess_decode(data)[0].replace("\x1b", "").replace("\x0e", "").replace("\x0f", "")
            problems.append(f"附件文件名使用了无法识别的字符集 {label}，文件名可能显示不正确：{chosen}")
    return chosen


# --------------------------------------------------------------- transfer encoding

_B64_KEEP = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_B64_DELETE = bytes(c for c in range(256) if c not in _B64_KEEP)
_WS_DELETE = b" \t\r\n\x0b\x0c"


def _b64_lenient(data: bytes) -> tuple[bytes, bool]:
    """Decode base64 like mail clients do.  Returns (bytes, clean)."""
    compact = data.translate(None, _WS_DELETE)
    try:
        return base64.b64decode(compact, validate=True), True
    except (binascii.Error, ValueError):
        pass
    cleaned = data.translate(None, _B64_DELETE)
    out = bytearray()
    for seg in re.split(rb"=+", cleaned):
        if not seg:
            continue
        cut = len(seg) - len(seg) % 4
        tail = seg[cut:]
        try:
            out += base64.b64decode(seg[:cut])
            if len(tail) >= 2:
                out += base64.b64decode(tail + b"=" * (4 - len(tail)))
        except (binascii.Error, ValueError):
            pass
    return bytes(out), False


def _uudecode(lines: list[bytes]) -> tuple[bytes, bool]:
    out = bytearray()
    clean = True
    for line in lines:
        line = line.rstrip(b"\r\n")
        if not line.strip():
            continue
        if line.strip() == b"end":
            break
        try:
            out += binascii.a2b_uu(line)
        except binascii.Error:
            nbytes = (((line[0] - 32) & 63) * 4 + 5) // 3
            try:
                out += binascii.a2b_uu(line[:nbytes])
            except binascii.Error:
                clean = False
    return bytes(out), clean


_UU_BEGIN = re.compile(rb"^begin(?:-base64)? +[0-7]{3,4} +([^\r\n]*[^\s])", re.M)
_UU_END = re.compile(rb"^end[ \t]*\r?$", re.M)


def _decode_uu_payload(data: bytes) -> tuple[bytes, str | None, bool]:
    """Body of a Content-Transfer-Encoding: x-uuencode part -> (bytes, begin-line name, clean)."""
    m = _UU_BEGIN.search(data)
    name = None
    if m:
        name = _guess_decode(m.group(1))[0]
        data = data[m.end():]
    body, clean = _uudecode(data.splitlines())
    return body, name, clean


_UU_CTES = ("x-uuencode", "uuencode", "x-uue", "uue")


def _decode_cte(payload: bytes, cte: str) -> tuple[bytes, str | None]:
    """Returns (decoded bytes, problem kind or None)."""
    cte = (cte or "").strip().lower()
    if cte == "base64":
        data, clean = _b64_lenient(payload)
        return data, None if clean else "base64"
    if cte == "quoted-printable":
        return binascii.a2b_qp(payload), None
    if cte in ("", "7bit", "8bit", "binary", "7-bit", "8-bit"):
        return payload, None
    if cte in _UU_CTES:
        data, _name, clean = _decode_uu_payload(payload)
        return data, None if clean else "uuencode"
    return payload, "cte:" + cte


# --------------------------------------------------------------------- HTML to text


class _HTMLText(HTMLParser):
    _BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table",
              "blockquote", "pre", "section", "article", "header", "footer", "ul", "ol"}
    _SKIP = {"script", "style", "head", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self.skip += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("\t")

    def handle_endtag(self, tag):
        if tag in self._SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    p = _HTMLText()
    try:
        p.feed(markup[:_HTML_INPUT_CAP])
        p.close()
    except Exception:  # html.parser is lenient; this is belt and braces
        return html.unescape(re.sub(r"<[^>]*>", " ", markup[:_HTML_INPUT_CAP]))
    text = "".join(p.parts).replace("\u00a0", " ").replace("\r", "\n")
    # Line by line: a regex spanning "spaces then newline" backtracks quadratically.
    lines = [re.sub(r"[ \t\f\v]{2,}", " ", line).strip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return text.strip()


# ------------------------------------------------------------------ hardened policy


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
            value = _SURROGATES.sub("?", value)
        return _unfold_rfc(value)


_POLICY = _SafePolicy()


def _bytes_parse(raw: bytes) -> Message:
    return BytesParser(policy=_POLICY).parsebytes(raw)


# ------------------------------------------------------------ raw-offset locator

_HEADER_LINE = re.compile(rb"(From |[\041-\071\073-\176]*:|[\t ])")
_EOL = re.compile(rb"\r\n|\r|\n")


def _header_end(raw: bytes, start: int, end: int) -> int:
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


def _locate(raw: bytes, msg: Message) -> dict[int, tuple[int, int]]:
    """Map id(entity) -> (body start, body end) offsets in ``raw`` wherever the parsed
    tree and the bytes agree.  Entities that cannot be located are left out."""
    out: dict[int, tuple[int, int]] = {}
    stack = [(msg, 0, len(raw), 0)]
    while stack:
        ent, s, e, depth = stack.pop()
        if depth > MAX_DEPTH:
            continue
        bs = _header_end(raw, s, e)
        out[id(ent)] = (bs, e)
        if not ent.is_multipart():
            continue
        children = _payload(ent)
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


# ------------------------------------------------------------------------ walking


def _payload(part: Message):
    """The stored payload: a list of parts, or the body text exactly as received
    (ASCII + surrogate-escaped bytes).  ``Message.get_payload()`` would charset-decode
    8-bit text, and raises when the charset label itself holds raw bytes."""
    return getattr(part, "_payload", None)


def _raw_header(part: Message, name: str) -> str | None:
    low = name.lower()
    try:
        for k, v in part.raw_items():
            if k.lower() == low:
                return _unfold_rfc(v if isinstance(v, str) else str(v))
    except Exception:
        return None
    return None


def _message_charset(msg: Message, limit: int = 50) -> str | None:
    """Codec of the charset the message declares for its text (first text part)."""
    stack = [msg]
    seen = 0
    while stack and seen < limit:
        part = stack.pop(0)
        seen += 1
        try:
            if part.get_content_maintype() == "multipart":
                payload = _payload(part)
                if isinstance(payload, list):
                    stack.extend(payload)
                continue
            if part.get_content_maintype() == "text":
                _, params = _split_params(_raw_header(part, "content-type") or "")
                codec = _codec_for(dict(params).get("charset"))
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


def _repair_header_block(raw: bytes) -> bytes | None:
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


def _repair_boundary(raw: bytes, msg: Message) -> bytes | None:
    """A top-level multipart whose declared boundary never occurs, while its body is
    plainly split by another one ("--token" lines): parse with the boundary actually
    used.  Only the Content-Type header of the copy that is parsed changes."""
    if msg.get_content_maintype() != "multipart" or isinstance(_payload(msg), list):
        return None
    body_start = _header_end(raw, 0, len(raw))
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


_FORWARDED_TYPES = ("message/rfc822", "message/global")


def _describe(filename, ctype):
    return f"附件「{filename}」" if filename else f"一个 {ctype} 部分"


class _Walker:
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
                        locs = _locate(raw, msg)
                    except Exception:
                        locs = {}
            return locs

        fallback = _message_charset(msg)
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
                if _DEBUG:
                    raise
                self.problem(f"邮件的一个部分无法读取（{type(exc).__name__}: {str(exc)[:120]}）")
                continue
            for child in reversed(children):
                stack.append((child, nest + 1))

    def visit(self, part: Message, raw: bytes | None, depth: int, get_locs,
              fallback: str | None = None) -> list:
        """Handle one entity; return children to visit within this message level."""
        ctype = _clean((part.get_content_type() or "application/octet-stream").lower())
        maintype = ctype.split("/", 1)[0]
        payload = _payload(part)
        if maintype == "multipart":
            if isinstance(payload, list):
                return payload
            # A multipart whose boundary never occurs: its bytes become one nameless
            # attachment rather than being lost (the defect is reported separately).
        ct_raw = _raw_header(part, "content-type") or ""
        cd_raw = _raw_header(part, "content-disposition") or ""
        cte = (_raw_header(part, "content-transfer-encoding") or "").strip().lower()
        cte = cte.split(";")[0].strip().strip('"')
        _, ct_params = _split_params(ct_raw[: self.max_header_bytes])
        disp_token, cd_params = _split_params(cd_raw[: self.max_header_bytes])
        disp_token = disp_token.lower()
        disposition = disp_token if disp_token in ("attachment", "inline") else None
        own_charset = _codec_for(dict(ct_params).get("charset"))
        name_problems: list[str] = []
        filename = _choose_filename(cd_params, ct_params, name_problems, own_charset or fallback)
        for text in name_problems:
            self.problem(text)

        if ctype in _FORWARDED_TYPES and isinstance(payload, list):
            self.forwarded(part, payload, ctype, filename, disposition, cte, raw, depth, get_locs)
            return []
        if maintype == "message":
            # delivery-status, disposition-notification, ...: the body bytes as received.
            data = self.entity_body(part, raw, get_locs)
            data, kind = _decode_cte(data, cte)
            self.note_cte(kind, filename, ctype)
            self.attachments.append(Attachment(filename, ctype, data, disposition, depth))
            return []

        body = _raw_to_bytes(payload) if isinstance(payload, str) else b""
        data, kind = _decode_cte(body, cte)
        if cte in _UU_CTES:
            if filename is None:
                m = _UU_BEGIN.search(body)
                if m:
                    filename = _guess_decode(m.group(1))[0]
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
        payload = _payload(part)
        if isinstance(payload, str):
            return _raw_to_bytes(payload)
        # Last resort: re-serialise only this part's content (never the whole mail).
        self.problem(f"一个 {_clean(part.get_content_type())} 部分无法按原样截取，已重新生成其内容")
        try:
            if isinstance(payload, list):
                return b"\n".join(
                    p.as_bytes(policy=_POLICY.clone(refold_source="none", linesep="\r\n"))
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
            data, kind = _decode_cte(body, cte)
            self.note_cte(kind, filename, ctype)
            try:
                inner = _bytes_parse(data)
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
                subject = decode_header_value(_raw_header(inner, "subject") or "")
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
        text, status = _decode_bytes(data, charset)
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
        for count, m in enumerate(_UU_BEGIN.finditer(data)):
            if count >= 100 or m.start() < pos:
                break
            first = data[m.end(): m.end() + 200].lstrip(b"\r\n").split(b"\n", 1)[0]
            if not _looks_uu(first):
                continue
            endm = _UU_END.search(data, m.end())
            block = data[m.end(): endm.start() if endm else len(data)]
            lines = [line for line in block.splitlines() if line.strip()]
            if not lines or not all(_looks_uu(line) for line in lines):
                continue
            decoded, clean = _uudecode(lines)
            name = _guess_decode(m.group(1))[0]
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
        return _decode_bytes(bytes(kept), charset)[0]


def _looks_uu(line: bytes) -> bool:
    """A uuencoded line: its first character gives the byte count, which fixes its length."""
    line = line.rstrip(b"\r\n")
    if line in (b"`", b" "):
        return True
    n = (line[0] - 32) & 63
    want = 1 + (n + 2) // 3 * 4       # trailing spaces may have been stripped in transit
    return len(line) <= want + 2 and all(32 <= c <= 96 for c in line)


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
                    _fix_8bit(addr, fallback).strip().lower()))
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
        payload = _payload(part) if part.is_multipart() else None
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
                          (_clean(f"邮件无法解析（{type(exc).__name__}: {str(exc)[:120]}），请人工查看原始邮件"),))


def _parse(raw, max_header_bytes, max_parts, max_body_chars) -> ParsedMail:
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raw = str(raw).encode("utf-8", "surrogateescape")
    raw = bytes(raw)
    problems: list[str] = []
    if not raw.strip():
        return ParsedMail(None, "", "", "", (), None, (), "", (), ("邮件内容为空",))
    try:
        msg = _bytes_parse(raw)
    except Exception as exc:
        # Fall back to the headers alone so the envelope can still be read.
        problems.append(f"邮件结构无法解析（{type(exc).__name__}），只读取了邮件头，附件需人工查看原始邮件")
        try:
            from email.parser import BytesHeaderParser
            msg = BytesHeaderParser(policy=_POLICY).parsebytes(raw)
        except Exception:
            msg = Message(policy=_POLICY)
    if any(type(d).__name__ == "MissingHeaderBodySeparatorDefect" for d in msg.defects):
        try:
            repaired = _repair_header_block(raw)
            if repaired is not None:
                msg2 = _bytes_parse(repaired)
                if len(msg2.keys()) > len(msg.keys()):
                    msg, raw = msg2, repaired
                    problems.append("邮件头格式不规范（有的行缺少缩进），已按续行读取")
        except Exception:
            pass
    if any(type(d).__name__ == "StartBoundaryNotFoundDefect" for d in msg.defects):
        try:
            repaired = _repair_boundary(raw, msg)
            if repaired is not None:
                msg2 = _bytes_parse(repaired)
                if isinstance(_payload(msg2), list) and not any(
                        type(d).__name__ == "StartBoundaryNotFoundDefect" for d in msg2.defects):
                    msg, raw = msg2, repaired
                    problems.append("邮件声明的 MIME 分隔边界与正文实际使用的不一致，已按实际边界读取")
        except Exception:
            pass
    fallback = None
    try:
        fallback = _message_charset(msg)
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
            dec = decode_header_value(_unfold(value), fallback).strip()
        except Exception:
            dec = _unfold(value).encode("utf-8", "replace").decode("utf-8").strip()
        headers.append((str(name), dec))

    def first_raw(name):
        low = name.lower()
        for k, v in msg.raw_items():
            if k.lower() == low:
                v = v if isinstance(v, str) else str(v)
                return _unfold(v[:max_header_bytes])
        return None

    subject = decode_header_value(first_raw("subject") or "", fallback)
    subject = re.sub(r"[\r\n]+", " ", subject).strip()
    from_raw = first_raw("from") or ""
    froms = _addresses(from_raw, fallback) if from_raw else []
    from_name, from_addr = froms[0] if froms else ("", "")
    to_addrs = tuple(a for _, a in _addresses(", ".join(
        _unfold(v[:max_header_bytes]) for k, v in msg.raw_items()
        if k.lower() == "to" and isinstance(v, str))) if a)
    date = _parse_date(first_raw("date"), problems)
    message_id = _message_id(first_raw("message-id"))

    # ---- body and attachments
    walker = _Walker(max_parts, max_header_bytes)
    try:
        walker.walk_message(msg, raw, 0)
    except Exception as exc:
        if _DEBUG:
            raise
        walker.problem(f"读取附件时出错（{type(exc).__name__}: {str(exc)[:120]}），请人工查看原始邮件")
    _collect_defects(msg, problems)
    problems.extend(p for p in walker.problems if p not in problems)

    plain = "\n".join(t for t in walker.plain if t)
    if plain.strip():
        body = plain
    else:
        body = "\n".join(html_to_text(h) for h in walker.html if h)
    body = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(body) > max_body_chars:
        body = body[:max_body_chars]

    attachments = tuple(
        a if a.filename is None or a.filename.isascii()
        else Attachment(_clean(a.filename), a.content_type, a.data, a.disposition, a.depth)
        for a in walker.attachments)
    return ParsedMail(
        message_id=_clean_text(message_id) if message_id else None,
        subject=_clean_text(subject),
        from_addr=_clean_text(from_addr),
        from_name=_clean_text(from_name),
        to_addrs=tuple(_clean_text(a) for a in to_addrs),
        date=date,
        headers=tuple((_clean_text(k), _clean_text(v)) for k, v in headers),
        body_text=_clean_text(body),
        attachments=attachments,
        problems=tuple(_clean(p) for p in problems),
    )
