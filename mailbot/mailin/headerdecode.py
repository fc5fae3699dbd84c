"""Header values decoded: RFC 2047 encoded words, raw 8-bit bytes, unfolding, MIME parameters
(RFC 2231 continuations, encoded words inside quotes) and the attachment's file name.

Adjacent encoded words of one charset are joined *before* decoding (clients split multi-byte
characters across words). The file name comes from Content-Disposition ``filename``, then its
``name``, then Content-Type ``name``; iPhone's ``_____.txt`` placeholder, and a name holding "?"
(an encoder's stand-in for a lost character), lose to a real name.
"""
from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import unquote_to_bytes

from mailbot.mailin.charsets import (all_gb2312, codec_for, fix_8bit, guess_decode, has_controls,
                                     raw_to_bytes, strict_decode)

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
    b = raw_to_bytes(text).replace(b"_", b" ")
    return re.sub(rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), b)


def decode_header_value(value: str, fallback: str | None = None) -> str:
    """Decode one unfolded raw header value: RFC 2047 words and raw 8-bit bytes.

    Whitespace between two encoded words is dropped (RFC 2047 section 6.2); adjacent
    words of one charset are decoded together, so a character split across two words
    survives.  A word that no charset reads plausibly is kept as written."""
    if "=?" not in value:
        return fix_8bit(value, fallback)
    out: list[str] = []
    pending: list = []          # [key, label, bytearray, raw text]
    prev_word = False
    pos = 0

    def flush():
        if not pending:
            return
        _key, label, data, raw_text = pending
        codec = codec_for(label)
        text = None
        if data is None:
            text = raw_text                      # damaged word: keep it as written
        elif codec is not None:
            try:
                text = strict_decode(bytes(data), codec)
            except (ValueError, LookupError):
                # Mislabelled Chinese (GBK bytes under a UTF-8 label) is common enough.
                try:
                    gb = bytes(data).decode("gb18030")
                    if not has_controls(gb) and all_gb2312(gb):
                        text = gb
                except UnicodeDecodeError:
                    pass
        else:
            guess, confident = guess_decode(bytes(data))
            if confident:
                text = guess
        out.append(raw_text if text is None else text)
        pending.clear()

    for m in _ENCODED_WORD.finditer(value):
        between = value[pos:m.start()]
        if between and not (prev_word and _WS_ONLY.match(between)):
            flush()
            out.append(fix_8bit(between, fallback))
        label, enc, payload = m.group(1), m.group(2).upper(), m.group(3)
        data = _b_decode(payload) if enc == "B" else _q_decode(payload)
        key = codec_for(label) or label.lower()
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
        out.append(fix_8bit(value[pos:], fallback))
    return "".join(out)


def unfold_rfc(value: str) -> str:
    """RFC 5322 unfolding: remove the line breaks, keep the whitespace."""
    if "\n" not in value and "\r" not in value:
        return value
    return re.sub(r"\r\n|\r|\n", "", value)


def unfold(value: str) -> str:
    """Unfold a header: a line break and the whitespace after it become one space."""
    if "\n" not in value and "\r" not in value:
        return value
    value = re.sub(r"(?:\r\n|\r|\n)[ \t]+", " ", value)
    return re.sub(r"\r\n|\r|\n", "", value)


# ----------------------------------------------------------------- MIME parameters


def split_params(value: str) -> tuple[str, list[tuple[str, str]]]:
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
            buf += unquote_to_bytes(raw_to_bytes(val))
        else:
            buf += raw_to_bytes(val)
    data = bytes(buf)
    if not charset:
        if data.isascii() and "=?" in data.decode("ascii"):
            return _NameResult(decode_header_value(data.decode("ascii")))
        return _NameResult(guess_decode(data)[0])
    codec = codec_for(charset)
    if codec is None:
        return _NameResult(None, failed_charset=(charset, data))
    try:
        return _NameResult(strict_decode(data, codec))
    except ValueError:
        text, confident = guess_decode(data)
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


def choose_filename(cd_params, ct_params, problems: list, fallback: str | None = None) -> str | None:
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
            chosen = guess_decode(data)[0].replace("\x1b", "").replace("\x0e", "").replace("\x0f", "")
            problems.append(f"附件文件名使用了无法识别的字符集 {label}，文件名可能显示不正确：{chosen}")
    return chosen
