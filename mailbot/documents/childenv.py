"""The environment every child process gets: just enough to run, no secrets.

A child (the document worker, LibreOffice, the PDF helper) reads hostile documents; it must
not inherit the mailbox passwords (``[imap]/[smtp] password_env``) or anything else from the
parent's environment. ``minimal(home)`` is PATH, HOME, TMPDIR, LANG and LC_ALL, nothing more;
``popen`` starts a child with it in its own session (so a timeout can kill its whole process
group) and tells ``on_spawn`` listeners the group id; ``run`` does that, feeds it, and kills its
whole group when it is done or out of time.
"""
from __future__ import annotations

import os
import signal
import subprocess
from typing import Callable

__all__ = ["minimal", "popen", "run", "kill_group", "on_spawn"]

_DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
_LOCALE = "C.UTF-8"

on_spawn: list[Callable[[int], None]] = []
"""Called with the process-group id of every child ``popen`` starts (the document worker
reports them, so whoever kills the worker can kill its LibreOffice too)."""


def minimal(home: str, **extra: str) -> dict[str, str]:
    """PATH (the parent's), HOME and TMPDIR (both ``home``: a private temp dir), LANG and
    LC_ALL; ``extra`` adds named non-secret settings a program needs (SAL_USE_VCLPLUGIN)."""
    env = {"PATH": os.environ.get("PATH") or _DEFAULT_PATH, "HOME": home, "TMPDIR": home,
           "LANG": _LOCALE, "LC_ALL": _LOCALE}
    env.update(extra)
    return env


def popen(cmd: list[str], *, home: str, extra_env: dict[str, str] | None = None,
          **kwargs) -> subprocess.Popen:
    """``subprocess.Popen`` with ``minimal(home)`` as the whole environment, in a new session."""
    proc = subprocess.Popen(cmd, env=minimal(home, **(extra_env or {})), start_new_session=True, **kwargs)
    for listener in on_spawn:
        listener(proc.pid)
    return proc


def kill_group(pid: int) -> None:
    """SIGKILL the process group PID leads (a child ``popen`` started), if it is still there."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def run(cmd: list[str], *, home: str, timeout: float, data: bytes | None = None,
        extra_env: dict[str, str] | None = None, stderr: int = subprocess.PIPE,
        cwd: str | None = None) -> tuple[int, bytes, bytes]:
    """Run CMD (``popen``) with DATA on its stdin: (returncode, stdout, stderr). After TIMEOUT
    seconds its whole process group is killed and TimeoutError raised; when it ends in time the
    group is killed too, so no grandchild it left behind lingers."""
    proc = popen(cmd, home=home, extra_env=extra_env, cwd=cwd,
                 stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
                 stdout=subprocess.PIPE, stderr=stderr)
    try:
        out, err = proc.communicate(data, timeout=max(0.01, timeout))
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        proc.communicate()
        raise TimeoutError from None
    finally:
        kill_group(proc.pid)
    return proc.returncode, out or b"", err or b""
