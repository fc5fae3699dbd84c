"""What a file really is, from its magic bytes (never from its name)."""
from __future__ import annotations

import codecs
import struct

CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGE_MAGIC = (
    b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*",
    b"\x00\x00\x01\x00",  # .ico
)
_EXE_MAGIC = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
              b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")


def sniff(data: bytes) -> str:
    """Magic-byte type: zip, cfb, rtf, pdf, image, rar, 7z, archive, exe,
    wordxml, html, mht, text or unknown."""
    h = data[:32]
    if h[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return "zip"
    if h.startswith(CFB_MAGIC):
        return "cfb"
    if h.startswith(b"{\\rtf"):
        return "rtf"
    if h.startswith(b"Rar!\x1a\x07"):
        return "rar"
    if h.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if h.startswith(_EXE_MAGIC[:-1]):
        return "exe"
    if h.startswith(_IMAGE_MAGIC) or (h[:4] == b"RIFF" and h[8:12] == b"WEBP") \
            or (h[4:8] == b"ftyp" and h[8:12] in (b"heic", b"heix", b"mif1", b"avif")) \
            or (h[:2] == b"BM" and len(data) > 26 and struct.unpack_from("<I", data, 2)[0] == len(data)):
        return "image"
    if h.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")) or data[257:262] == b"ustar":
        return "archive"
    if b"%PDF-" in data[:1024]:
        return "pdf"
    return _sniff_text(data)


def _sniff_text(data: bytes) -> str:
    head = data[:8192]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            s = head[: len(head) // 2 * 2].decode("utf-16", "ignore")
        except Exception:
            return "unknown"
    else:
        if b"\x00" in head:
            return "unknown"
        s = head.decode("utf-8", "ignore")
        if not s and head:
            s = head.decode("gb18030", "ignore")
    if head.startswith(b"#!"):
        return "exe"
    low = s.lstrip("\ufeff \t\r\n").lower()
    bad = sum(1 for ch in s if (ord(ch) < 32 and ch not in "\t\n\r\f") or ord(ch) == 0x7F)
    if s and bad > max(2, len(s) // 100):
        return "unknown"
    if low.startswith("<?xml") or low.startswith("<w:worddocument") or low.startswith("<pkg:package"):
        if 'progid="word.document"' in low or "<w:worddocument" in low or "<pkg:package" in low:
            return "wordxml"
    if low.startswith(("<!doctype html", "<html")) or "<html" in low[:2048]:
        return "html"
    first = low[:2048]
    if first.startswith(("mime-version:", "from:", "content-type:", "subject:", "date:")) \
            and "multipart/related" in first:
        return "mht"
    return "text"
