"""Archive file names: what a sender wrote, made safe, then our prefix in front.

The sender's name is sanitised on its own (path separators and Windows-forbidden characters
replaced, control and invisible format characters removed, reserved device names escaped,
length bounded in UTF-8 bytes) and only then gets the prefix that says which mail it came from:

    attachment   <prefix>_<sanitised name>     2022-08-24_v2_原文件名.docx   2022-08-18_邮件14_x.docx
    raw mail     <prefix>.<…>.eml              2022-08-24_v2.邮件14.eml      2022-08-18_邮件14.eml

A raw mail's name has '.' right after the prefix and an attachment's has '_', and a prefix is
ours (date, `v` + version or `邮件` + UID), so no attachment, whatever its name, can be named
like a raw mail, and no mail can produce another mail's names.
"""
from __future__ import annotations

import re
import unicodedata

MAX_NAME_BYTES = 180    # the sender's part; the prefix and a "(n)" still fit the usual 255-byte limit
MAX_FILE_BYTES = 230    # a whole archive file name
MAX_EXT_CHARS = 10

_FORBIDDEN = re.compile(r'[<>:"/\\|?*]')
_DROPPED = ("Cc", "Cf", "Cs", "Zl", "Zp")     # controls, invisible format chars, lone surrogates
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
             *(f"{d}{i}" for d in ("COM", "LPT") for i in (*"123456789", "¹", "²", "³"))}
# explicit direction marks, embeddings, overrides and isolates: they make 报告\u202excod.exe look like 报告exe.docx
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def sanitise(name: str | None, fallback: str = "附件", max_bytes: int = MAX_NAME_BYTES) -> str:
    """A safe file or folder name that keeps its Chinese: no path separators (replaced, so
    nothing the sender wrote is cut away), no control or invisible characters, nothing Windows
    refuses (forbidden characters, trailing dots and spaces, CON/AUX/COM1… before the first
    dot), no leading dot, at most MAX_BYTES in UTF-8 with the extension kept."""
    name = unicodedata.normalize("NFC", name or "")
    name = "".join(c for c in name if unicodedata.category(c) not in _DROPPED)
    name = _FORBIDDEN.sub("_", name).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > MAX_EXT_CHARS or " " in ext:
        stem, ext = name, ""
    ext = "." + ext if ext else ""
    budget = max(max_bytes - len(ext.encode("utf-8")), 1)
    stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore")
    if not ext:
        stem = stem.rstrip(" .")            # Windows drops a trailing dot or space: never end in one
    name = (stem or fallback) + ext
    if name.split(".", 1)[0].rstrip(" ").upper() in _RESERVED:
        name = "_" + name
    return name


def attachment_name(prefix: str, original: str | None, fallback: str = "附件") -> str:
    """`<prefix>_<sanitised original>`: the date-and-version (or date-and-mail) prefix, then the
    sender's name, sanitised first so nothing in it can reach or replace the prefix."""
    return f"{prefix}_{sanitise(original, fallback)}"


def numbered(name: str, n: int) -> str:
    """The n-th alternative of NAME (n ≥ 2): `方案(2).docx`; NAME itself for n = 1."""
    if n == 1:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > MAX_EXT_CHARS or not stem:
        return f"{name}({n})"
    return f"{stem}({n}).{ext}"


def hidden_characters(name: str | None) -> list[str]:
    """The invisible format characters (bidi controls, zero-width …) in NAME, as U+XXXX."""
    return [f"U+{ord(c):04X}" for c in dict.fromkeys(name or "") if unicodedata.category(c) == "Cf"]


def as_displayed(name: str) -> str:
    """Roughly how a mail client shows NAME: a right-to-left override (U+202E) shows the text
    after it reversed, up to U+202C; the other invisible characters show as nothing."""
    out, i = [], 0
    while i < len(name):
        if name[i] == "\u202e":
            end = name.find("\u202c", i + 1)
            end = len(name) if end < 0 else end
            out.append(name[i + 1:end][::-1])
            i = end + 1
            continue
        out.append(name[i])
        i += 1
    return "".join(c for c in "".join(out) if unicodedata.category(c) != "Cf")


def hidden_characters_warning(name: str | None) -> str | None:
    """A Chinese sentence for the clerk when NAME carries invisible characters, else None."""
    found = hidden_characters(name)
    if not found:
        return None
    assert name is not None
    clean = "".join(c for c in name if unicodedata.category(c) != "Cf")
    if BIDI_CONTROLS.intersection(name):
        return (f"文件名含有隐藏的文字方向控制字符（{'、'.join(found)}，常见于伪装扩展名的恶意文件），已去除："
                f"原名显示为“{as_displayed(name)}”，实际文件名是“{clean}”。请勿直接打开，先向发件单位核实。")
    return (f"文件名含有看不见的格式字符（{'、'.join(found)}），已去除，存档文件名按“{clean}”保存。")
