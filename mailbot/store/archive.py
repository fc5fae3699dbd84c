"""Durable, byte-identical files under archive/<campaign-id>/…, written crash-safely, never replaced.

Every write goes to a temp file (`.part-…`) in the target folder, is fsynced, then hard-linked
to its name — which fails if the name exists, so no race can replace a file — and the folder
is fsynced. Names are deterministic (see names.py), so replaying a mail after a crash finds
its own files again. A name already taken (compared case-insensitively, as on an office PC)
by different bytes is refused: the old file stays untouched, the new bytes go to `name(2)…`,
and the collision is kept in `Archive.collisions` for the caller to record.

Inside a ledger transaction the fsync, the link and the folder's fsync wait for the commit
(`Staging`): the ledger runs them just before COMMIT, so the rows naming a file never commit
before the file is on disk, and the poll's batch of mails costs one journal flush for all
its files instead of two per mail. The name is chosen (and reserved) at once; a rollback
removes the temps. Outside a transaction a store is on disk when it returns.
"""
from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

from mailbot.store.fsutil import TEMP_PREFIX, fsync_dir, link_no_replace, write_temp_open
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


@dataclass
class _Staged:
    temp: Path
    fd: int | None        # open until fsynced (one open a file), None once closed

    def holds(self, data: bytes) -> bool:
        """Whether the temp file holds exactly DATA (a second store of a staged name: rare)."""
        return _same_bytes(self.temp, data)


class Staging:
    """Archive files written in an open ledger transaction, not yet durable; `flush` fsyncs
    them together, links each to its name and fsyncs their folders. Shared by the Archive of
    every campaign of one App (they may write the same folders within one transaction)."""

    MAX_OPEN = 64         # temp files held open for the joint fsync; beyond, flush early (always safe)

    def __init__(self, ledger: Any = None):
        self.ledger = ledger
        self.files: dict[Path, _Staged] = {}      # target path → its temp
        self._hooked = False
        self._syncer: ThreadPoolExecutor | None = None

    def deferring(self) -> bool:
        return self.ledger is not None and self.ledger.in_transaction

    def temps(self) -> set[Path]:
        return {st.temp for st in self.files.values()}

    def taken_in(self, folder: Path) -> dict[str, str]:
        """Names staged in FOLDER, by their casefold."""
        return {t.name.casefold(): t.name for t in self.files if t.parent == folder}

    def add(self, target: Path, temp: Path, fd: int) -> None:
        self.files[target] = _Staged(temp, fd)
        if self.deferring() and not self._hooked:
            self.ledger.before_commit(self.flush, self.discard)
            self._hooked = True
        if sum(st.fd is not None for st in self.files.values()) > self.MAX_OPEN:
            self.flush()

    def flush(self) -> None:
        """Every staged file durable under its name, its folder fsynced; the temps removed. A
        name someone else created meanwhile raises FileExistsError (nothing is replaced; the
        transaction rolls back and the next poll chooses again)."""
        self._hooked = False
        if not self.files:
            return
        staged, self.files = self.files, {}
        try:
            self._each(os.fsync, [st.fd for st in staged.values() if st.fd is not None])   # one journal flush
            for st in staged.values():
                if st.fd is not None:
                    os.close(st.fd)
                    st.fd = None
            for target, st in staged.items():
                link_no_replace(st.temp, target)
            folders = list(dict.fromkeys(t.parent for t in staged))
            self._each(fsync_dir, folders)
        finally:
            _drop(staged.values())

    def forget(self, targets: Iterable[Path]) -> None:
        """Unstage TARGETS (a store that failed half-way), removing their temps."""
        _drop([st for t in targets if (st := self.files.pop(t, None)) is not None])

    def discard(self) -> None:
        """The transaction rolled back: the temps go, no name was given."""
        self._hooked = False
        staged, self.files = self.files, {}
        _drop(staged.values())

    def _each(self, fn: Any, items: list) -> None:
        """FN on every item at once (fsyncs issued together commit in one journal flush)."""
        if len(items) <= 1:
            for item in items:
                fn(item)
            return
        if self._syncer is None:
            self._syncer = ThreadPoolExecutor(max_workers=8, thread_name_prefix="archive-fsync")
        for future in [self._syncer.submit(fn, item) for item in items]:
            future.result()


def _drop(staged: Iterable[_Staged]) -> None:
    for st in staged:
        if st.fd is not None:
            os.close(st.fd)
            st.fd = None
        st.temp.unlink(missing_ok=True)


class Archive:
    def __init__(self, root: Path, campaign_id: str, staging: Staging | None = None):
        self.base = Path(root)
        self.root = (self.base / sanitise(campaign_id)).resolve()
        self.collisions: list[Collision] = []
        self.staging = staging or Staging()

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
        """`store` for several files of one folder (a mail's attachments and its raw copy). On
        disk when this returns — or, inside a ledger transaction, before it commits."""
        try:
            rels = self._store(folder, files)
            if not self.staging.deferring():
                self.staging.flush()
            return rels
        except OSError as exc:
            if exc.filename is None:      # a write or fsync that failed half-way names no file
                exc.filename = str(self.root.joinpath(*PurePosixPath(folder).parts))
            raise

    def _store(self, folder: str, files: list[tuple[str, bytes]]) -> list[str]:
        parts = [sanitise(p) for p in PurePosixPath(folder).parts]
        target_dir = self.root.joinpath(*parts).resolve()
        if target_dir != self.root and self.root not in target_dir.parents:
            raise ArchiveError(f"refusing to write outside the archive: {target_dir}")
        make_dirs(target_dir)
        # a write killed half-way left its temp file; the replay writes here again (one writer:
        # every store happens under the poll lock), so the archive ends as if never interrupted
        mine = self.staging.temps()
        for stale in target_dir.glob(f"{TEMP_PREFIX}*"):
            if stale not in mine:
                stale.unlink(missing_ok=True)
        entries = {e.casefold(): e for e in os.listdir(target_dir) if not e.startswith(TEMP_PREFIX)}
        entries |= self.staging.taken_in(target_dir)
        rels: list[str] = []
        added: list[Path] = []
        try:
            self._choose(parts, target_dir, files, entries, rels, added)
        except BaseException:
            self.staging.forget(added)        # this store failed: none of its files stays staged
            raise
        return rels

    def _choose(self, parts: list[str], target_dir: Path, files: list[tuple[str, bytes]],
                entries: dict[str, str], rels: list[str], added: list[Path]) -> None:
        for name, data in files:
            name = sanitise(name, max_bytes=MAX_FILE_BYTES)
            n = 1
            while True:
                candidate = numbered(name, n)
                have = entries.get(candidate.casefold())
                if have is None:
                    temp, fd = write_temp_open(target_dir, data)
                    added.append(target_dir / candidate)
                    self.staging.add(target_dir / candidate, temp, fd)
                    entries[candidate.casefold()] = chosen = candidate
                    break
                if self._holds(target_dir / have, data):
                    chosen = have
                    break
                n += 1
            rel = self.rel_to_base("/".join([*parts, chosen]))
            if n > 1:
                self.collisions.append(Collision(self.rel_to_base("/".join([*parts, name])), rel))
            rels.append(rel)

    def _holds(self, path: Path, data: bytes) -> bool:
        """Whether PATH (on disk, or staged in this transaction) holds exactly DATA."""
        staged = self.staging.files.get(path)
        return staged.holds(data) if staged is not None else _same_bytes(path, data)


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False
