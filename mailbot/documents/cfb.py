"""Compound File (OLE2) inspection: a .doc/.wps, an encrypted OOXML package, or an Excel or
PowerPoint file — told apart from the directory, bounded by the file's size — and a Word
file handed to LibreOffice."""
from __future__ import annotations

import dataclasses
import struct
from dataclasses import dataclass

from mailbot.documents import convert
from mailbot.documents.doctext import (REASON_CORRUPT, REASON_ENCRYPTED, REASON_UNKNOWN, WARN_MACRO, Ctx, DocText,
                                       Refused, doc_text, ext_of)
from mailbot.documents.sniff import CFB_MAGIC

@dataclass
class _CfbInfo:
    streams: set[str]
    word_encrypted: bool = False

    def kind(self, name: str) -> str:
        s = self.streams
        if "encryptedpackage" in s and "encryptioninfo" in s:
            return "docm" if ext_of(name) in (".docm", ".dotm") else "docx"
        if "worddocument" in s:
            return "wps" if ext_of(name) in (".wps", ".wpt") else "doc"
        return "unknown"


def inspect(data: bytes) -> _CfbInfo:
    """Directory entry names of a Compound File (lower-cased), and the Word
    FIB encryption flag. Bounded by the file size; raises on a broken file."""
    if len(data) < 512 or not data.startswith(CFB_MAGIC):
        raise ValueError("not a CFB")
    sshift = struct.unpack_from("<H", data, 0x1E)[0]
    if sshift not in (9, 12):
        raise ValueError("bad sector size")
    ssz = 1 << sshift
    n_fat, first_dir = struct.unpack_from("<II", data, 0x2C)
    first_difat, n_difat = struct.unpack_from("<II", data, 0x44)
    nsect = max(0, (len(data) - ssz) // ssz)

    def sector(i: int) -> bytes:
        if i >= nsect:
            raise ValueError("sector out of range")
        off = (i + 1) * ssz
        return data[off:off + ssz]

    fat_sectors = [x for x in struct.unpack_from("<109I", data, 0x4C) if x < 0xFFFFFFFA]
    seen: set[int] = set()
    d = first_difat
    for _ in range(min(n_difat, nsect)):
        if d >= 0xFFFFFFFA or d in seen:
            break
        seen.add(d)
        vals = struct.unpack(f"<{ssz // 4}I", sector(d))
        fat_sectors.extend(x for x in vals[:-1] if x < 0xFFFFFFFA)
        d = vals[-1]
    fat_sectors = fat_sectors[: max(n_fat, 0) or len(fat_sectors)]
    fat: list[int] = []
    for s in fat_sectors[: nsect]:
        fat.extend(struct.unpack(f"<{ssz // 4}I", sector(s)))
    streams: set[str] = set()
    entries: dict[str, tuple[int, int]] = {}
    s = first_dir
    seen = set()
    while s < 0xFFFFFFFA and s not in seen and len(seen) <= nsect:
        seen.add(s)
        blk = sector(s)
        for off in range(0, ssz, 128):
            e = blk[off:off + 128]
            nlen = struct.unpack_from("<H", e, 0x40)[0]
            etype = e[0x42]
            if etype == 0 or nlen < 2 or nlen > 64:
                continue
            nm = e[: nlen - 2].decode("utf-16-le", "ignore").lower()
            streams.add(nm)
            start = struct.unpack_from("<I", e, 0x74)[0]
            size = struct.unpack_from("<I", e, 0x78)[0]
            entries.setdefault(nm, (start, size))
        s = fat[s] if s < len(fat) else 0xFFFFFFFE
    info = _CfbInfo(streams=streams)
    wd = entries.get("worddocument")
    if wd is not None and wd[1] >= 4096 and wd[0] < nsect:  # in regular sectors
        fib = sector(wd[0])[:12]
        if len(fib) == 12 and struct.unpack_from("<H", fib, 0)[0] == 0xA5EC:
            flags = struct.unpack_from("<H", fib, 0x0A)[0]
            info.word_encrypted = bool(flags & 0x0100) or bool(flags & 0x8000)
    return info


def read_cfb(data: bytes, name: str, ctx: Ctx, depth: int) -> DocText:
    try:
        info = inspect(data)
    except (ValueError, struct.error, IndexError):
        raise Refused(REASON_CORRUPT, kind="unknown") from None
    kind = info.kind(name)
    s = info.streams
    if "encryptedpackage" in s and "encryptioninfo" in s:
        return doc_text(name, kind, reason=REASON_ENCRYPTED)
    if "worddocument" in s:
        if info.word_encrypted:
            return doc_text(name, kind, reason=REASON_ENCRYPTED)
        extra = ()
        if "macros" in s or "_vba_project_cur" in s or "vba" in s:
            extra = (WARN_MACRO.format(ext=ext_of(name) or ".doc"),)
        d = convert.convert_and_read(data, name, kind, ".doc", ctx, depth)  # .wps is DOC-based: name it .doc
        if extra:
            reason = d.reason if not d.readable else (d.reason or extra[0])
            d = dataclasses.replace(d, reason=reason, warnings=extra + d.warnings)
        return d
    if "workbook" in s or "book" in s:
        return doc_text(name, "unknown", reason="不支持的文件类型（Excel 表格），需人工审核")
    if "powerpoint document" in s:
        return doc_text(name, "unknown", reason="不支持的文件类型（PowerPoint 演示文稿），需人工审核")
    return doc_text(name, "unknown", reason=REASON_UNKNOWN)
