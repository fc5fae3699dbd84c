"""Durable, byte-identical files under archive/<campaign-id>/…, written crash-safely.

Every write goes to a temp file in the target folder, is fsynced, renamed into place, and the
folder is fsynced. Names are deterministic (arrival date, version, sanitised original name),
so replaying a mail after a crash writes the same file to the same place.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path, PurePosixPath

_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
MAX_NAME_BYTES = 180   # leaves room for the date/version prefix under the usual 255-byte limit


class ArchiveError(Exception):
    pass


def sanitise(name: str | None, fallback: str = "附件") -> str:
    """A safe file name that keeps its Chinese: no folders, no control chars, bounded length."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]                 # drop any path the sender put in
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp"))
    name = _FORBIDDEN.sub("_", name).strip(" .")
    if not name:
        name = fallback
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 10:
        stem, ext = name, ""
    if stem.upper() in _RESERVED:
        stem = "_" + stem
    ext = ("." + ext) if ext else ""
    while len((stem + ext).encode("utf-8")) > MAX_NAME_BYTES and stem:
        stem = stem[:-1]
    return (stem or fallback) + ext


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Archive:
    def __init__(self, root: Path, campaign_id: str):
        self.base = Path(root)
        self.root = (self.base / sanitise(campaign_id)).resolve()

    def path(self, rel: str) -> Path:
        return self.root / rel

    def rel_to_base(self, rel: str) -> str:
        """A stored path as recorded in the ledger: relative to the archive folder."""
        return str(PurePosixPath(self.root.name, rel))

    def store(self, folder: str, name: str, data: bytes) -> str:
        """Write DATA as folder/name (both sanitised per segment); returns the path relative to
        the archive folder. Idempotent: an identical file already there is left alone."""
        parts = [sanitise(p) for p in PurePosixPath(folder).parts] + [sanitise(name)]
        target = self.root.joinpath(*parts).resolve()
        if self.root not in target.parents:
            raise ArchiveError(f"refusing to write outside the archive: {target}")
        if target.exists() and target.stat().st_size == len(data) and sha256(target.read_bytes()) == sha256(data):
            return self.rel_to_base("/".join(parts))
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".part-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        _fsync_dir(target.parent)
        return self.rel_to_base("/".join(parts))


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
