"""Durable, byte-identical files under archive/<campaign-id>/…, written crash-safely, never replaced.

Every write goes to a temp file (`.part-…`) in the target folder, is fsynced, then hard-linked
to its name — which fails if the name exists, so no race can replace a file — and the folder
is fsynced. Names are deterministic (see names.py), so replaying a mail after a crash finds
its own files again. A name already taken (compared case-insensitively, as on an office PC)
by different bytes is refused: the old file stays untouched, the new bytes go to `name(2)…`,
and the collision is kept in `Archive.collisions` for the caller to record.
"""
from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mailbot.store.fsutil import TEMP_PREFIX, fsync_dir, link_no_replace, write_temp, write_temp_open
from mailbot.store.modes import make_dirs
from mailbot.store.names import MAX_FILE_BYTES, numbered, sanitise

# Files an office PC's file manager drops into folders it shows; never mailbot's, never evidence.
OS_CLUTTER = frozenset({"thumbs.db", "desktop.ini", ".ds_store"})


class ArchiveError(Exception):
    pass


@dataclass(frozen=True)
class Collision:
    """NAME was taken by an earlier file with other bytes; the new bytes were stored as KEPT."""
    wanted: str       # paths relative to the archive folder, as the ledger records them
    kept: str

    def text(self) -> str:
        return (f"归档文件名冲突：{self.wanted} 已存有另一份内容不同的文件，原文件未改动；"
                f"新收到的文件另存为 {self.kept}。请核对这两个文件的来源（可能有人冒用文件名）。")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Archive:
    def __init__(self, root: Path, campaign_id: str):
        self.base = Path(root)
        self.root = (self.base / sanitise(campaign_id)).resolve()
        self.collisions: list[Collision] = []
        self._syncer: ThreadPoolExecutor | None = None

    def path(self, rel: str) -> Path:
        return self.root / rel

    def rel_to_base(self, rel: str) -> str:
        """A stored path as recorded in the ledger: relative to the archive folder."""
        return str(PurePosixPath(self.root.name, rel))

    def take_collisions(self) -> list[Collision]:
        """The collisions met since the last call (and forget them)."""
        taken, self.collisions = self.collisions, []
        return taken

    def store(self, folder: str, name: str, data: bytes) -> str:
        """Write DATA as folder/name (both sanitised per segment); returns the path relative to
        the archive folder. An identical file already there (any letter case) is reused, so a
        replay converges; a different one is never replaced (see the module docstring).
        An OSError (full disk, read-only folder) always names the path it concerns."""
        return self.store_all(folder, [(name, data)])[0]

    def store_all(self, folder: str, files: list[tuple[str, bytes]]) -> list[str]:
        """`store` for several files of one folder (a mail's attachments and its raw copy): the
        temp files are fsynced together — the file system commits them in one journal flush —
        and the folder once, after every name is linked. All on disk when this returns."""
        try:
            return self._store(folder, files)
        except OSError as exc:
            if exc.filename is None:      # a write or fsync that failed half-way names no file
                exc.filename = str(self.root.joinpath(*PurePosixPath(folder).parts))
            raise

    def _fsync_all(self, fds: list[int]) -> None:
        """fsync the open temp files (several at once: the file system commits them together)."""
        if len(fds) <= 1:
            for fd in fds:
                os.fsync(fd)
            return
        if self._syncer is None:
            self._syncer = ThreadPoolExecutor(max_workers=4, thread_name_prefix="archive-fsync")
        for future in [self._syncer.submit(os.fsync, fd) for fd in fds]:
            future.result()

    def _store(self, folder: str, files: list[tuple[str, bytes]]) -> list[str]:
        parts = [sanitise(p) for p in PurePosixPath(folder).parts]
        target_dir = self.root.joinpath(*parts).resolve()
        if target_dir != self.root and self.root not in target_dir.parents:
            raise ArchiveError(f"refusing to write outside the archive: {target_dir}")
        make_dirs(target_dir)
        # a write killed half-way left its temp file; the replay writes here again (one writer:
        # every store happens under the poll lock), so the archive ends as if never interrupted
        for stale in target_dir.glob(f"{TEMP_PREFIX}*"):
            stale.unlink(missing_ok=True)
        entries = {e.casefold(): e for e in os.listdir(target_dir) if not e.startswith(TEMP_PREFIX)}
        names = [sanitise(name, max_bytes=MAX_FILE_BYTES) for name, _ in files]
        temps: list[Path | None] = [None] * len(files)
        fds: list[int] = []
        rels: list[str] = []
        linked = False
        try:
            for k, ((_, data), name) in enumerate(zip(files, names)):
                have = entries.get(name.casefold())
                if have is None or not _same_bytes(target_dir / have, data):
                    temps[k], fd = write_temp_open(target_dir, data)
                    fds.append(fd)
            try:
                self._fsync_all(fds)
            finally:
                fds, opened = [], fds
                for fd in opened:
                    os.close(fd)
            for k, ((_, data), name) in enumerate(zip(files, names)):
                n = 1
                while True:
                    candidate = numbered(name, n)
                    have = entries.get(candidate.casefold())
                    if have is not None:
                        if _same_bytes(target_dir / have, data):
                            chosen = have
                            break
                        n += 1
                        continue
                    if temps[k] is None:         # expected an identical file: it was not (raced)
                        temps[k] = write_temp(target_dir, data)
                    try:
                        link_no_replace(temps[k], target_dir / candidate)
                    except FileExistsError:      # created since we listed the folder: look again
                        entries[candidate.casefold()] = candidate
                        continue
                    entries[candidate.casefold()] = candidate
                    chosen, linked = candidate, True
                    break
                rel = self.rel_to_base("/".join([*parts, chosen]))
                if n > 1:
                    self.collisions.append(Collision(self.rel_to_base("/".join([*parts, name])), rel))
                rels.append(rel)
            if linked:
                fsync_dir(target_dir)
        finally:
            for fd in fds:                   # a write failed before the fsync: close what is open
                os.close(fd)
            for tmp in temps:
                if tmp is not None:
                    tmp.unlink(missing_ok=True)
        return rels


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False
