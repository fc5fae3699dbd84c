"""Content-Transfer-Encoding decoded the way mail clients do: base64 forgiving damage, quoted-
printable, uuencode (as a transfer encoding and as blocks inside a text body)."""
from __future__ import annotations

import base64
import binascii
import re

from mailbot.mailin.charsets import guess_decode

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


def uudecode(lines: list[bytes]) -> tuple[bytes, bool]:
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


UU_BEGIN = re.compile(rb"^begin(?:-base64)? +[0-7]{3,4} +([^\r\n]*[^\s])", re.M)
UU_END = re.compile(rb"^end[ \t]*\r?$", re.M)


def _decode_uu_payload(data: bytes) -> tuple[bytes, str | None, bool]:
    """Body of a Content-Transfer-Encoding: x-uuencode part -> (bytes, begin-line name, clean)."""
    m = UU_BEGIN.search(data)
    name = None
    if m:
        name = guess_decode(m.group(1))[0]
        data = data[m.end():]
    body, clean = uudecode(data.splitlines())
    return body, name, clean


UU_CTES = ("x-uuencode", "uuencode", "x-uue", "uue")


def decode_cte(payload: bytes, cte: str) -> tuple[bytes, str | None]:
    """Returns (decoded bytes, problem kind or None)."""
    cte = (cte or "").strip().lower()
    if cte == "base64":
        data, clean = _b64_lenient(payload)
        return data, None if clean else "base64"
    if cte == "quoted-printable":
        return binascii.a2b_qp(payload), None
    if cte in ("", "7bit", "8bit", "binary", "7-bit", "8-bit"):
        return payload, None
    if cte in UU_CTES:
        data, _name, clean = _decode_uu_payload(payload)
        return data, None if clean else "uuencode"
    return payload, "cte:" + cte


def looks_uu(line: bytes) -> bool:
    """A uuencoded line: its first character gives the byte count, which fixes its length."""
    line = line.rstrip(b"\r\n")
    if line in (b"`", b" "):
        return True
    n = (line[0] - 32) & 63
    want = 1 + (n + 2) // 3 * 4       # trailing spaces may have been stripped in transit
    return len(line) <= want + 2 and all(32 <= c <= 96 for c in line)
