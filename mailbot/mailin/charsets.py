"""Bytes in a charset that may be missing, wrong or exotic → text, the way real Chinese mail needs.

Labels lie: gb2312/gbk/cp936/x-gbk are read as GB18030, iso-8859-1 as Windows-1252 (and as UTF-8
when it is), Microsoft's ISO-2022-JP with its NEC/IBM rows; raw 8-bit bytes are tried as UTF-8,
then GB18030 (GB2312 repertoire), then Windows-1252 when that reads as letters, then GB18030 with
replacement. No lone surrogate leaves the parser (`no_surrogates`, `clean_text`).
"""
from __future__ import annotations

import codecs
import re

CHARSET_ALIASES = {
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


def codec_for(label: str | None) -> str | None:
    """A Python codec name for a MIME charset label, or None if there is none."""
    if not label:
        return None
    lab = label.strip().strip('"\'').lower()
    if "*" in lab:                      # RFC 2231 language suffix in encoded words
        lab = lab.split("*", 1)[0]
    if lab in CHARSET_ALIASES:
        return CHARSET_ALIASES[lab]
    if lab.startswith("x-mac-"):
        lab = lab[2:]
    try:
        return codecs.lookup(lab).name
    except (LookupError, ValueError):
        return None


def iso2022jp_ms(b: bytes) -> str:
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


def strict_decode(data: bytes, codec: str) -> str:
    """Decode strictly; raises ValueError (UnicodeDecodeError included) or LookupError."""
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        if codec.startswith("iso2022_jp"):
            return iso2022jp_ms(data)
        raise


def _cp1252(b: bytes) -> str:
    # cp1252 leaves 0x81 0x8D 0x8F 0x90 0x9D undefined; map those as Latin-1 does.
    return "".join(
        b[i:i + 1].decode("cp1252", "ignore") or chr(b[i]) for i in range(len(b))
    ) if any(c in b for c in (0x81, 0x8D, 0x8F, 0x90, 0x9D)) else b.decode("cp1252")


def has_controls(s: str) -> bool:
    return any((ord(c) < 32 and c not in "\t\r\n") or 0x7F <= ord(c) < 0xA0 for c in s)


def all_gb2312(s: str) -> bool:
    for c in s:
        if ord(c) >= 0x80:
            try:
                c.encode("gb2312")
            except UnicodeEncodeError:
                return False
    return True


def guess_decode(b: bytes) -> tuple[str, bool]:
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
    if gb is not None and not has_controls(gb) and all_gb2312(gb):
        return gb, True
    latin = _cp1252(b)
    if all(c.isalpha() or c in "\u00a0\u00b0\u00a7\u00b4\u00b7" for c in latin if ord(c) >= 0x80):
        return latin, True
    if gb is not None and not has_controls(gb):
        return gb, True
    return b.decode("gb18030", "replace"), False


def decode_bytes(b: bytes, label: str | None) -> tuple[str, str]:
    """Decode text with its declared charset.  Returns (text, status): "ok",
    "guessed" (label wrong or absent, a plausible reading was found), "unknown" (a
    label with no codec) or "lossy" (replacement characters were needed)."""
    codec = codec_for(label)
    if codec is None:
        text, confident = guess_decode(b)
        lab = (label or "").strip().strip('"\'').lower()
        if lab and lab not in CHARSET_ALIASES:
            return text, "unknown"
        return text, "guessed" if confident else "lossy"
    if codec == "cp1252" and not b.isascii():
        # Old clients label UTF-8 text "iso-8859-1"; Latin text is never valid UTF-8.
        try:
            return b.decode("utf-8"), "guessed"
        except UnicodeDecodeError:
            pass
    try:
        return strict_decode(b, codec), "ok"
    except (ValueError, LookupError):
        pass
    text, confident = guess_decode(b)
    if confident:
        return text, "guessed"
    try:
        return b.decode(codec, "replace"), "lossy"
    except LookupError:
        return text, "lossy"


def raw_to_bytes(s: str) -> bytes:
    """Header/payload text from BytesParser (ASCII + surrogate-escaped bytes) -> bytes."""
    try:
        return s.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogateescape")


def fix_8bit(s: str, fallback: str | None = None) -> str:
    """Decode raw bytes carried as surrogates in ``s``: UTF-8, else the charset the
    message declares (``fallback``, a codec name), else a plausible guess."""
    if s.isascii():
        if "\x1b$" in s:                       # raw ISO-2022-JP (7-bit, escapes)
            try:
                return iso2022jp_ms(s.encode("ascii"))
            except (ValueError, LookupError):
                return s
        if fallback == "utf-7" and "+" in s:
            try:
                return s.encode("ascii").decode("utf-7")
            except (ValueError, LookupError):
                return s
        return s
    b = raw_to_bytes(s)
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # A Western body charset says little about a raw header (Chinese clients set it for
    # ASCII bodies); the guess below prefers GB2312 text, then Latin letters, anyway.
    if fallback and fallback not in ("utf-8", "utf-7", "cp1252"):
        try:
            text = strict_decode(b, fallback)
            if not has_controls(text):
                return text
        except (ValueError, LookupError):
            pass
    text, _ = guess_decode(b)
    return text


SURROGATES = re.compile("[\ud800-\udfff]")


_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def no_surrogates(s: str) -> str:
    """No lone surrogates may leave this module (they break JSON, files, SQLite)."""
    return SURROGATES.sub("\ufffd", s) if not s.isascii() else s


def clean_text(s: str) -> str:
    """Display text: also without NULs and other C0 controls (tab and newline stay)."""
    return _CONTROLS.sub("", no_surrogates(s))
