"""OS file locks beside the ledger: freed by the OS when the holder dies (even by SIGKILL).

`<ledger>.lock` is held by the daemon for its whole life (one `mailbot run` per ledger);
`<ledger>.poll.lock` and `<ledger>.send.lock` are held for one poll or one delivery, so a
`mailbot poll` or `mailbot review` typed while the daemon runs waits its turn instead of filing
the same mail or sending the same queued message twice.
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from mailbot.store.modes import make_dirs, private_opener


class Busy(Exception):
    """Another process held the lock for longer than we were willing to wait (Chinese message)."""


if os.name == "nt":  # pragma: no cover - Windows office PCs
    import msvcrt

    def try_lock(fh) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)

    def unlock(fh) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def try_lock(fh) -> None:
        """Raise OSError at once when another process holds the lock."""
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def unlock(fh) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


@contextmanager
def job_lock(ledger_path: Path | str, job: str, wait_seconds: float = 600.0) -> Iterator[None]:
    """Hold `<ledger>.<job>.lock` for one job, waiting up to WAIT_SECONDS for another holder."""
    path = Path(f"{ledger_path}.{job}.lock")
    make_dirs(path.parent)
    fh = open(path, "a+", encoding="utf-8", opener=private_opener)
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                try_lock(fh)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise Busy(f"另一个 mailbot 进程正在{ {'poll': '收信', 'send': '发信'}.get(job, job) }，"
                               f"等待 {wait_seconds:.0f} 秒仍未结束，本次跳过，稍后再试。") from None
                time.sleep(0.2)
        try:
            yield
        finally:
            unlock(fh)
    finally:
        fh.close()
