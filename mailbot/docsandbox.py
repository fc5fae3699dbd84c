"""One mail's documents, read in a child process under one budget for the whole mail.

``read_mail_documents(files, budget)`` takes a mail's attachments as ``(bytes, name)`` (None
for a part that is not a document) and returns, per item, its ``docread.DocText`` list (``[]``
for None). It never raises. The parts visited, bytes decompressed, characters extracted and
nesting depth are budgets of the whole mail (``docread.read_each``), and the reading runs in
a worker process with CPU, address-space, file-size and wall-clock limits (``MailBudget``,
from config.ini ``[limits]``). Whatever could not be read within them comes back unreadable
with a Chinese reason naming the budget, so the pipeline files the mail as 需人工审核.

How: one long-lived "zygote" (``python -m mailbot.docsandbox``, started on first use with the
minimal environment of ``childenv``: no passwords) has docread imported; for each mail it
forks a worker that calls ``setsid``, sets its rlimits and reports each attachment's result as
it is done. On the wall-clock deadline the zygote SIGKILLs the worker's process group and the
group of every LibreOffice/PDF child it started; the attachments already reported keep their
result. A dead zygote is started again on the next mail. Forking the warm zygote costs a
few ms per mail where a fresh interpreter importing docread costs ~150 ms
(benchmarks/sandbox_bench.py).

Pipes carry length-prefixed frames. Results come back as JSON, never pickle: a worker that a
hostile document took over must not be able to run code in the parent by what it sends.
"""
from __future__ import annotations

import atexit
import json
import math
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO, Iterable

from . import childenv

__all__ = ["MailBudget", "read_mail_documents", "Sandbox"]

MiB = 1024 * 1024

REASON_CPU = "读取附件占用的计算时间超过上限（{s} 秒），已停止读取，已转人工审核"
REASON_CRASH = ("读取附件的后台进程意外退出（可能是占用内存超过上限 {mb} MB，或文件被恶意构造），"
                "附件未能读取，已转人工审核")
_GRACE_S = 30.0          # the parent's wait beyond the budget before it gives up on the zygote
_FSIZE = 512 * MiB       # largest file a worker (or LibreOffice under it) may write
_CPU_SLACK_S = 5         # CPU seconds beyond the wall-clock budget before SIGXCPU


@dataclass(frozen=True)
class MailBudget:
    """Budgets for all documents of one mail together ([limits] in config.ini)."""
    max_parts: int = 200                 # attachments and zip members visited
    max_unpacked_mb: int = 200           # bytes decompressed (zip members, docx parts) …
    max_unpack_ratio: float = 50         # … and no more than this many times the attachments' size
                                         # (at least docread.UNPACK_FLOOR)
    max_text_chars: int = 2_000_000      # characters extracted
    max_nesting: int = 2                 # zip in zip: a zip inside the attachment is opened, no deeper
    max_seconds: float = 120.0           # wall clock for the whole mail (CPU time: a few s more)
    max_memory_mb: int = 1024            # address space of the worker (and of each LibreOffice it starts)

    def limits(self) -> Any:
        """The ``docread.Limits`` of one mail."""
        from .docread import Limits
        base = Limits()
        return Limits(max_total_uncompressed=self.max_unpacked_mb * MiB, max_total_ratio=self.max_unpack_ratio,
                      max_bytes=min(base.max_bytes, self.max_unpacked_mb * MiB),
                      max_parts=self.max_parts, max_documents=self.max_parts,
                      max_total_chars=self.max_text_chars, max_chars=min(base.max_chars, self.max_text_chars),
                      max_archive_depth=self.max_nesting, max_seconds=self.max_seconds,
                      convert_timeout_s=min(base.convert_timeout_s, self.max_seconds),
                      pdf_timeout_s=min(base.pdf_timeout_s, self.max_seconds),
                      pdf_memory_mb=min(base.pdf_memory_mb, self.max_memory_mb))


# --- frames -------------------------------------------------------------------------------


def _send(out: BinaryIO, payload: bytes) -> None:
    out.write(struct.pack(">I", len(payload)))
    out.write(payload)


def _recv(inp: BinaryIO) -> bytes | None:
    head = inp.read(4)
    if len(head) < 4:
        return None
    n = struct.unpack(">I", head)[0]
    data = inp.read(n)
    if len(data) < n:
        return None
    return data


class _Frames:
    """Frames arriving on a non-blocking read of a pipe, at most ``cap`` bytes in all."""

    def __init__(self, cap: int) -> None:
        self.buf = bytearray()
        self.left = cap

    def feed(self, chunk: bytes) -> list[bytes]:
        self.left -= len(chunk)
        if self.left < 0:
            raise ValueError("too much output")
        self.buf += chunk
        out = []
        while len(self.buf) >= 4:
            n = struct.unpack_from(">I", self.buf)[0]
            if len(self.buf) < 4 + n:
                break
            out.append(bytes(self.buf[4:4 + n]))
            del self.buf[:4 + n]
        return out


def _read_until(fd: int, frames: _Frames, deadline: float, want: int | None = None) -> tuple[list[bytes], str]:
    """Frames from ``fd`` until EOF, ``want`` frames, or the deadline: (frames, 'eof'|'want'|'time')."""
    got: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return got, "time"
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return got, "eof"
        got.extend(frames.feed(chunk))
        if want is not None and len(got) >= want:
            return got, "want"


# --- DocText <-> JSON ------------------------------------------------------------------------


def _doc_json(d: Any) -> dict:
    return {"name": d.name, "kind": d.kind, "text": d.text, "readable": d.readable,
            "reason": d.reason, "warnings": list(d.warnings)}


def _doc_from_json(o: Any) -> Any:
    """A DocText from what a worker sent; ValueError unless it has exactly the right types."""
    from .docread import KINDS, DocText
    if not isinstance(o, dict) or set(o) != {"name", "kind", "text", "readable", "reason", "warnings"}:
        raise ValueError("not a document")
    ok = (isinstance(o["name"], str) and o["kind"] in KINDS and isinstance(o["text"], str)
          and isinstance(o["readable"], bool) and (o["reason"] is None or isinstance(o["reason"], str))
          and isinstance(o["warnings"], list) and all(isinstance(w, str) for w in o["warnings"]))
    if not ok:
        raise ValueError("bad document fields")
    return DocText(o["name"], o["kind"], o["text"], o["readable"], o["reason"], tuple(o["warnings"]))


# --- the parent's side ---------------------------------------------------------------------


class Sandbox:
    """The zygote of this process: started on first use, started again after it died."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._home: str | None = None
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _start(self) -> subprocess.Popen:
        self._home = tempfile.mkdtemp(prefix="mailbot-docs-")
        root = str(Path(__file__).resolve().parent.parent)   # `-m mailbot…` works from a checkout too
        self._proc = childenv.popen([sys.executable, "-s", "-m", "mailbot.docsandbox", self._home],
                                    home=self._home, cwd=root, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        return self._proc

    def close(self) -> None:
        proc, home = self._proc, self._home
        self._proc = self._home = None
        if proc is not None:
            try:
                proc.stdin.close()           # the zygote ends at EOF
                proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    pass
                proc.wait()
            proc.stdout.close()
        if home:
            shutil.rmtree(home, ignore_errors=True)

    def read(self, files: list[tuple[bytes, str] | None], budget: "MailBudget") -> list[list[Any]]:
        """Per item its DocTexts; never raises."""
        if all(f is None for f in files):
            return [[] for _ in files]
        with self._lock:
            reply = self._ask(files, budget)
        return _unpack(files, reply, budget)

    def _ask(self, files: list[tuple[bytes, str] | None], budget: MailBudget) -> dict:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            self.close()
            proc = self._start()
        deadline = time.monotonic() + budget.max_seconds + _GRACE_S
        try:
            head = {"budget": asdict(budget), "names": [None if f is None else f[1] for f in files]}
            _send(proc.stdin, json.dumps(head, ensure_ascii=False).encode("utf-8"))
            for f in files:
                if f is not None:
                    _send(proc.stdin, bytes(f[0]))
            proc.stdin.flush()
            got, _how = _read_until(proc.stdout.fileno(), _Frames(_reply_cap(budget)), deadline, want=1)
            if not got:
                raise ValueError("no reply")
            reply = json.loads(got[0].decode("utf-8"))
            if not isinstance(reply, dict) or not isinstance(reply.get("files"), dict):
                raise ValueError("bad reply")
            return reply
        except (OSError, ValueError):
            self.close()              # unresponsive or broken: a new zygote serves the next mail
            return {"files": {}, "cause": "crash"}


def _reply_cap(budget: MailBudget) -> int:
    return 8 * budget.max_text_chars + 8 * MiB


def _unpack(files: list[tuple[bytes, str] | None], reply: dict, budget: MailBudget) -> list[list[Any]]:
    from .docread import REASON_MAIL_TIME, DocText
    cause = reply.get("cause")
    reason = {"time": REASON_MAIL_TIME.format(s=budget.max_seconds),
              "cpu": REASON_CPU.format(s=math.ceil(budget.max_seconds) + _CPU_SLACK_S)}.get(
        cause, REASON_CRASH.format(mb=budget.max_memory_mb))
    out: list[list[Any]] = []
    for i, f in enumerate(files):
        if f is None:
            out.append([])
            continue
        try:
            docs = [_doc_from_json(o) for o in reply["files"][str(i)]]
            if not docs:
                raise ValueError("empty")
        except (KeyError, TypeError, ValueError):
            docs = [DocText(f[1], "unknown", "", False, reason)]
        out.append(docs)
    return out


_SHARED = Sandbox()
atexit.register(_SHARED.close)


def read_mail_documents(files: Iterable[tuple[bytes, str] | None],
                        budget: MailBudget = MailBudget()) -> list[list[Any]]:
    """Read one mail's documents in the sandbox; see the module docstring."""
    return _SHARED.read(list(files), budget)


# --- the zygote and its workers --------------------------------------------------------------


def _serve(home: str) -> None:
    import gc
    import resource  # noqa: F401  (imported once here, shared by every forked worker)

    from . import docread  # noqa: F401
    gc.freeze()        # a worker's collections then leave the zygote's pages shared (no copy-on-write)
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    try:
        while True:
            head = _recv(inp)
            if head is None:
                return
            req = json.loads(head.decode("utf-8"))
            budget = MailBudget(**req["budget"])
            files: list[tuple[bytes, str] | None] = []
            for name in req["names"]:
                if name is None:
                    files.append(None)
                    continue
                data = _recv(inp)
                if data is None:
                    return
                files.append((data, name))
            reply = _run_worker(files, budget)
            _send(out, json.dumps(reply, ensure_ascii=False).encode("utf-8"))
            out.flush()
    except BrokenPipeError:
        return
    finally:
        if Path(home).name.startswith("mailbot-docs-"):
            shutil.rmtree(home, ignore_errors=True)


def _run_worker(files: list[tuple[bytes, str] | None], budget: MailBudget) -> dict:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker
        code = 70
        try:
            os.close(r)
            _work(files, budget, w)
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    results: dict[str, list] = {}
    groups: list[int] = [pid]
    done, cause = False, None
    try:
        frames = _Frames(_reply_cap(budget))
        deadline = time.monotonic() + budget.max_seconds
        while not done:
            got, how = _read_until(r, frames, deadline, want=1)
            for raw in got:
                msg = json.loads(raw.decode("utf-8"))
                if "spawn" in msg:
                    groups.append(int(msg["spawn"]))
                elif "file" in msg:
                    results[str(int(msg["file"]))] = msg["docs"]
                elif msg.get("done"):
                    done = True
            if how == "time":
                cause = "time"
                break
            if how == "eof":
                break
    except (ValueError, TypeError, KeyError):   # garbage from the worker
        cause = "crash"
    finally:
        os.close(r)
    if cause is not None:
        _kill(groups)
    status = _reap(pid)
    if not done and cause is None:
        cause = "cpu" if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU else "crash"
    if cause == "cpu":
        _kill(groups)
    return {"files": results, "cause": cause}


def _kill(groups: list[int]) -> None:
    for g in groups:
        try:
            os.killpg(g, signal.SIGKILL)
        except OSError:
            pass


def _reap(pid: int) -> int:
    """Wait for the worker; one that lingers after its last word is killed."""
    end = time.monotonic() + 5
    while time.monotonic() < end:
        got, status = os.waitpid(pid, os.WNOHANG)
        if got:
            return status
        time.sleep(0.001)
    _kill([pid])
    return os.waitpid(pid, 0)[1]


def _work(files: list[tuple[bytes, str] | None], budget: MailBudget, w: int) -> None:
    import resource

    from . import docread
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    # the wall-clock kill comes first; the CPU limit also stops children orphaned by that kill
    cpu = math.ceil(budget.max_seconds) + _CPU_SLACK_S
    mem = budget.max_memory_mb * MiB
    for res, soft, hard in ((resource.RLIMIT_CPU, cpu, cpu + _CPU_SLACK_S), (resource.RLIMIT_AS, mem, mem),
                            (resource.RLIMIT_CORE, 0, 0), (resource.RLIMIT_FSIZE, _FSIZE, _FSIZE)):
        resource.setrlimit(res, (soft, hard))
    out = os.fdopen(w, "wb")

    def emit(msg: dict) -> None:
        _send(out, json.dumps(msg, ensure_ascii=False).encode("utf-8"))
        out.flush()

    childenv.on_spawn.append(lambda group: emit({"spawn": group}))
    for i, docs in enumerate(docread.read_each(files, limits=budget.limits())):
        if files[i] is not None:
            emit({"file": i, "docs": [_doc_json(d) for d in docs]})
    emit({"done": True})
    out.close()


if __name__ == "__main__":
    _serve(sys.argv[1] if len(sys.argv) > 1 else "")
