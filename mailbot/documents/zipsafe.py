"""Zip archives read without trusting them: entry count and declared sizes checked from the
directory before anything is decompressed, members read through size-capped streams charged
to the call's budget, member names decoded as their author meant them."""
from __future__ import annotations

import io
import struct
import zipfile
import zlib

from mailbot.documents.doctext import (MiB, REASON_CORRUPT, REASON_MAIL_BYTES, REASON_ZIP_BOMB,
                                       REASON_ZIP_CORRUPT, REASON_ZIP_MEMBER_ENCRYPTED, REASON_ZIP_METHOD,
                                       Ctx, Limits, Refused)

def entry_count(data: bytes) -> int | None:
    """Total entries from the end-of-central-directory record (zip64 aware),
    without building the directory. None if there is no end record."""
    tail_start = max(0, len(data) - (22 + 65535))
    pos = data.rfind(b"PK\x05\x06", tail_start)
    if pos < 0 or pos + 22 > len(data):
        return None
    total = struct.unpack_from("<H", data, pos + 10)[0]
    if total == 0xFFFF and pos >= 20 and data[pos - 20:pos - 16] == b"PK\x06\x07":
        z64 = struct.unpack_from("<Q", data, pos - 20 + 8)[0]
        if 0 <= z64 <= len(data) - 56 and data[z64:z64 + 4] == b"PK\x06\x06":
            total = struct.unpack_from("<Q", data, z64 + 32)[0]
    return total


def open_zip(data: bytes, limits: Limits, *, what: str = "zip", ctx: Ctx | None = None) -> zipfile.ZipFile:
    """Open a zip after checking its directory against the limits (and, with ``ctx``, its
    declared total against what the call may still decompress)."""
    count = entry_count(data)
    if count is None:
        raise Refused(REASON_ZIP_CORRUPT if what == "zip" else REASON_CORRUPT)
    if count > limits.max_zip_entries:
        raise Refused(f"压缩包内文件数过多（{count} 个，上限 {limits.max_zip_entries} 个），已拒绝解压，需人工审核")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError,
            NotImplementedError, struct.error, UnicodeDecodeError):
        raise Refused(REASON_ZIP_CORRUPT if what == "zip" else REASON_CORRUPT) from None
    if len(infos) > limits.max_zip_entries:
        raise Refused(f"压缩包内文件数过多（{len(infos)} 个，上限 {limits.max_zip_entries} 个），已拒绝解压，需人工审核")
    total = 0
    bomb = False
    for info in infos:
        total += info.file_size
        if info.file_size >= limits.ratio_min_size and \
                info.file_size > limits.max_ratio * max(info.compress_size, 1):
            bomb = True
    if bomb or total > limits.max_total_uncompressed:
        raise Refused(REASON_ZIP_BOMB, kind=guess_zip_kind(infos))
    if ctx is not None and total > ctx.budget:
        raise Refused(REASON_MAIL_BYTES.format(mb=-(-ctx.unpack_cap // MiB)), kind=guess_zip_kind(infos))
    return zf


def guess_zip_kind(infos: list[zipfile.ZipInfo]) -> str:
    """Kind from member names alone (nothing decompressed)."""
    names = {i.filename.lower().lstrip("/") for i in infos}
    if "[content_types].xml" in names and any(n.startswith("word/") for n in names):
        return "docm" if "word/vbaproject.bin" in names else "docx"
    if "mimetype" in names and "content.xml" in names:
        return "odt"
    return "zip"


class CappedStream(io.RawIOBase):
    """Read at most ``cap`` bytes of ``f``; notes whether more was there."""

    def __init__(self, f, cap: int, ctx: Ctx | None = None) -> None:
        self._f = f
        self._left = cap
        self._ctx = ctx
        self.capped = False

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            if not self.capped and self._f.read(1):
                self.capped = True
            return b""
        if n is None or n < 0 or n > self._left:
            n = self._left
        n = min(n, 1 << 16)
        chunk = self._f.read(n)
        self._left -= len(chunk)
        if self._ctx is not None:
            self._ctx.charge(len(chunk))
        return chunk

    def readinto(self, b) -> int:  # pragma: no cover - lxml uses read()
        chunk = self.read(len(b))
        b[: len(chunk)] = chunk
        return len(chunk)


def check_member(info: zipfile.ZipInfo) -> None:
    if info.flag_bits & 0x1:
        raise Refused(REASON_ZIP_MEMBER_ENCRYPTED)
    # bzip2/lzma members decompress without an output bound inside zipfile:
    # only stored and deflated are accepted.
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise Refused(REASON_ZIP_METHOD)


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, ctx: Ctx) -> bytes:
    """Whole member, at most ``cap`` bytes (else Refused)."""
    check_member(info)
    if info.file_size > cap:
        raise Refused(f"文件过大（{info.file_size / MiB:.1f} MB），已拒绝解压，需人工审核")
    buf = bytearray()
    with zf.open(info) as f:
        while True:
            chunk = f.read(min(1 << 16, cap + 1 - len(buf)))
            if not chunk:
                break
            buf += chunk
            ctx.charge(len(chunk))
            if len(buf) > cap:
                raise Refused(REASON_ZIP_BOMB)
    return bytes(buf)


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author meant it: UTF-8 flag, Info-ZIP Unicode
    Path extra field, else the raw bytes tried as UTF-8 then GB18030 (Windows
    Chinese zip tools write GBK names without the UTF-8 flag)."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            raw = name.encode("cp437")
        except UnicodeEncodeError:
            raw = None
        upath = _unicode_path_extra(info.extra, raw)
        if upath:
            name = upath
        elif raw is not None and not raw.isascii():
            for enc in ("utf-8", "gb18030"):
                try:
                    name = raw.decode(enc)
                    break
                except UnicodeDecodeError:
                    continue
    return name.replace("\\", "/")


def _unicode_path_extra(extra: bytes, raw: bytes | None) -> str | None:
    i = 0
    while i + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, i)
        body = extra[i + 4:i + 4 + size]
        i += 4 + size
        if tag == 0x7075 and len(body) > 5 and body[0] == 1:
            crc = struct.unpack_from("<I", body, 1)[0]
            if raw is None or zlib.crc32(raw) == crc:
                try:
                    return body[5:].decode("utf-8")
                except UnicodeDecodeError:
                    return None
    return None


_JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}


def is_junk(path: str) -> bool:
    base = path.rsplit("/", 1)[-1]
    return (path.startswith("__MACOSX/") or base.startswith("._") or base.startswith("~$")
            or base.lower() in _JUNK_NAMES or not base)
