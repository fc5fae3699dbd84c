"""One mail's documents, read in a child process under one budget for the whole mail.

``read_mail_documents(files, budget)`` takes a mail's attachments as ``(bytes, name)`` (None
for a part that is not a document) and returns, per item, its ``docread.DocText`` list (``[]``
for None). It never raises. The parts visited, bytes decompressed, characters extracted and
nesting depth are budgets of the whole mail (``docread.read_each``), and the reading runs in
a worker process with CPU, address-space, file-size and wall-clock limits (``MailBudget``,
from config.ini ``[limits]``). Whatever could not be read within them comes back unreadable
with a Chinese reason naming the budget, so the pipeline files the mail as 需人工审核.

How: one long-lived worker (``python -m mailbot.documents.docsandbox``, in its own session, with the
minimal environment of ``childenv``: no passwords) serves mail after mail. Before each mail
it sets its soft limits: CPU time (what it used so far + the mail's seconds + a little),
address space and file size; it reports each attachment's result as soon as it is read.
The parent keeps the wall clock: at the deadline it SIGKILLs the worker's process group and
the group of every LibreOffice/PDF child the worker reported starting; the attachments
already reported keep their result. A killed or crashed worker is replaced on the next mail,
and a worker retires after ``_MAILS_PER_WORKER`` mails or once its address space has grown
past half the memory budget.

Why one reused worker: per mail it costs ~1 ms over reading in-process, where forking a warm
process per mail cost ~10 ms (the copy-on-write faults of a forked Python) and a fresh
interpreter per mail ~150 ms (benchmarks/sandbox_bench.py). Isolation between mails is the
price, and small: the worker runs as the same user as mailbot anyway (it bounds resources,
it is not a privilege boundary).

Pipes carry length-prefixed frames. Results come back as JSON, never pickle: a worker that a
hostile document took over must not be able to run code in the parent by what it sends.
"""
from __future__ import annotations

import atexit
import fcntl
import json
import logging
import math
import os
import resource
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

from mailbot.documents import childenv

__all__ = ["MailBudget", "read_mail_documents", "Sandbox"]

log = logging.getLogger(__name__)

MiB = 1024 * 1024

REASON_CPU = "读取附件占用的计算时间超过上限（{s} 秒），已停止读取，已转人工审核"
REASON_CRASH = ("读取附件的后台进程意外退出（可能是占用内存超过上限 {mb} MB，或文件被恶意构造），"
                "附件未能读取，已转人工审核")
_START_S = 60.0          # a new worker must be ready (docread imported) within this
_FSIZE = 512 * MiB       # largest file a worker (or LibreOffice under it) may write
_CPU_SLACK_S = 5         # CPU seconds beyond the wall-clock budget before SIGXCPU
_MAILS_PER_WORKER = 500     # a fresh one costs ~0.16 s CPU and as long a wait: 1,000 mails, one per worker (x2)
_HOME_PREFIX = "mailbot-docs-"
_LOCK = ".worker.lock"


def refused(doc) -> bool:
    """Not read because it was hostile or over a budget (bomb, nesting, DTD, per-mail bytes, parts,
    characters, time, memory, CPU, a killed worker) — unlike a scan or an empty file, such a
    document sends its whole mail to a person (需人工审核)."""
    from mailbot.documents import docread
    reason = doc.reason or ""
    refusals = (docread.REASON_ZIP_BOMB, docread.REASON_ZIP_NESTED, docread.REASON_DTD, docread.REASON_MAIL_BYTES,
                docread.REASON_MAIL_PARTS, docread.REASON_MAIL_CHARS, docread.REASON_MAIL_TIME,
                docread.REASON_MEMORY, docread.REASON_OCR_PAGES, docread.REASON_OCR_TIME,
                docread.REASON_IMAGE_TOO_BIG, REASON_CPU, REASON_CRASH)
    return not doc.readable and any(reason.startswith(t.split("{")[0]) for t in refusals)


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
    max_ocr_pages: int = 20              # scan pages (image-only PDF pages, images) read by OCR …
    max_ocr_seconds: float = 100.0       # … and the seconds rendering and OCR may take (within max_seconds)

    def limits(self) -> Any:
        """The ``docread.Limits`` of one mail."""
        from mailbot.documents.docread import Limits
        base = Limits()
        return Limits(max_total_uncompressed=self.max_unpacked_mb * MiB, max_total_ratio=self.max_unpack_ratio,
                      max_bytes=min(base.max_bytes, self.max_unpacked_mb * MiB),
                      max_parts=self.max_parts, max_documents=self.max_parts,
                      max_total_chars=self.max_text_chars, max_chars=min(base.max_chars, self.max_text_chars),
                      max_archive_depth=self.max_nesting, max_seconds=self.max_seconds,
                      convert_timeout_s=min(base.convert_timeout_s, self.max_seconds),
                      pdf_timeout_s=min(base.pdf_timeout_s, self.max_seconds),
                      pdf_memory_mb=min(base.pdf_memory_mb, self.max_memory_mb),
                      max_ocr_pages=self.max_ocr_pages,
                      max_ocr_seconds=min(self.max_ocr_seconds, self.max_seconds),
                      ocr_page_timeout_s=min(base.ocr_page_timeout_s, self.max_seconds))


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


_PAGE_FIELDS = ("ocr_pages", "seal_checked", "seal_pages")     # tuples of page numbers


def _doc_json(d: Any) -> dict:
    return {"name": d.name, "kind": d.kind, "text": d.text, "readable": d.readable,
            "reason": d.reason, "warnings": list(d.warnings), "source": d.source, "pages": d.pages,
            "page_texts": list(d.page_texts), **{k: list(getattr(d, k)) for k in _PAGE_FIELDS}}


def _doc_from_json(o: Any) -> Any:
    """A DocText from what a worker sent; ValueError unless it has exactly the right types."""
    from mailbot.documents.docread import KINDS, DocText
    keys = {"name", "kind", "text", "readable", "reason", "warnings", "source", "pages", "page_texts", *_PAGE_FIELDS}
    if not isinstance(o, dict) or set(o) != keys:
        raise ValueError("not a document")

    def numbers(v: Any) -> bool:
        return isinstance(v, list) and all(type(n) is int and 0 < n <= o["pages"] for n in v)

    ok = (isinstance(o["name"], str) and o["kind"] in KINDS and isinstance(o["text"], str)
          and isinstance(o["readable"], bool) and (o["reason"] is None or isinstance(o["reason"], str))
          and isinstance(o["warnings"], list) and all(isinstance(w, str) for w in o["warnings"])
          and o["source"] in ("text", "ocr") and type(o["pages"]) is int and o["pages"] >= 0
          and isinstance(o["page_texts"], list) and all(isinstance(t, str) for t in o["page_texts"])
          and all(numbers(o[k]) for k in _PAGE_FIELDS))
    if not ok:
        raise ValueError("bad document fields")
    return DocText(o["name"], o["kind"], o["text"], o["readable"], o["reason"], tuple(o["warnings"]),
                   source=o["source"], pages=o["pages"], page_texts=tuple(o["page_texts"]),
                   **{k: tuple(o[k]) for k in _PAGE_FIELDS})


# --- the parent's side ---------------------------------------------------------------------


class Sandbox:
    """The document worker of this process: started on first use, replaced after a kill."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._home: str | None = None
        self._served = 0
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _start(self) -> subprocess.Popen:
        _sweep()
        self._home = tempfile.mkdtemp(prefix=_HOME_PREFIX)
        root = str(Path(__file__).resolve().parents[2])   # `-m mailbot…` works from a checkout too
        proc = self._proc = childenv.popen([sys.executable, "-s", "-m", "mailbot.documents.docsandbox", self._home],
                                           home=self._home, cwd=root, stdin=subprocess.PIPE,
                                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._served = 0
        got, _how = _read_until(proc.stdout.fileno(), _Frames(1024), time.monotonic() + _START_S, want=1)
        if got != [b"ready"]:
            raise OSError("the document worker did not start")
        return proc

    def close(self, *, kill: bool = False, groups: Iterable[int] = ()) -> None:
        """Stop the worker: when its input closes, or with ``kill`` (or if it lingers) by
        SIGKILL to its process group and to ``groups`` (the children it reported)."""
        proc, home = self._proc, self._home
        self._proc = self._home = None
        if proc is not None:
            if not kill:
                try:
                    proc.stdin.close()           # the worker ends at EOF
                    proc.wait(timeout=2)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            if kill or proc.poll() is None:
                _kill([proc.pid, *groups])
                proc.wait()
            for f in (proc.stdin, proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
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
        results: dict[str, list] = {}
        groups: list[int] = []
        try:
            proc = self._proc
            if proc is None or proc.poll() is not None or self._served >= _MAILS_PER_WORKER:
                self.close()
                proc = self._start()
            self._served += 1
            head = {"budget": asdict(budget), "names": [None if f is None else f[1] for f in files]}
            _send(proc.stdin, json.dumps(head, ensure_ascii=False).encode("utf-8"))
            for f in files:
                if f is not None:
                    _send(proc.stdin, bytes(f[0]))
            proc.stdin.flush()
            deadline = time.monotonic() + budget.max_seconds
            frames = _Frames(_reply_cap(budget))
            while True:
                got, how = _read_until(proc.stdout.fileno(), frames, deadline, want=1)
                for raw in got:
                    msg = json.loads(raw.decode("utf-8"))
                    if "spawn" in msg:
                        groups.append(int(msg["spawn"]))
                    elif "file" in msg:
                        results[str(int(msg["file"]))] = msg["docs"]
                    elif msg.get("done"):
                        if msg.get("retire"):
                            self.close()
                        return {"files": results, "cause": None}
                if how == "time":
                    self.close(kill=True, groups=groups)
                    return {"files": results, "cause": "time"}
                if how == "eof":
                    code = proc.wait()
                    self.close(kill=True, groups=groups)
                    return {"files": results, "cause": "cpu" if code == -signal.SIGXCPU else "crash"}
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("document worker failed (%s: %s); a new one serves the next mail",
                        type(exc).__name__, exc)
            self.close(kill=True, groups=groups)
            return {"files": results, "cause": "crash"}


def _sweep() -> None:
    """Remove the folders of workers that died without cleaning up (a power cut, a kill of the
    whole process tree): they may hold copies of documents. A live worker holds the lock in
    its folder; a folder without one is left for a minute (its worker may be starting)."""
    for d in Path(tempfile.gettempdir()).glob(_HOME_PREFIX + "*"):
        try:
            with open(d / _LOCK, "rb") as f:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except FileNotFoundError:
            try:
                if time.time() - d.stat().st_mtime < 60:
                    continue
            except OSError:
                continue
        except OSError:
            continue            # locked: its worker is alive
        shutil.rmtree(d, ignore_errors=True)


def _kill(groups: Iterable[int]) -> None:
    for g in groups:
        if g > 0:
            try:
                os.killpg(g, signal.SIGKILL)
            except OSError:
                pass


def _reply_cap(budget: MailBudget) -> int:
    return 16 * budget.max_text_chars + 8 * MiB      # the text, and again page by page


def _unpack(files: list[tuple[bytes, str] | None], reply: dict, budget: MailBudget) -> list[list[Any]]:
    from mailbot.documents.docread import REASON_MAIL_TIME, DocText
    cause = reply.get("cause")
    if cause:
        log.warning("documents of one mail not read to the end: %s (budget %s)", cause, budget)
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


# --- the worker --------------------------------------------------------------------------------


def _serve(home: str) -> None:
    from mailbot.documents import docread
    out = os.fdopen(os.dup(1), "wb")          # frames go here; fd 1 itself goes nowhere, so no
    devnull = os.open(os.devnull, os.O_RDWR)  # stray print (or child) can corrupt them
    os.dup2(devnull, 1)
    inp = sys.stdin.buffer

    def emit(payload: bytes) -> None:
        _send(out, payload)
        out.flush()

    childenv.on_spawn.append(lambda group: emit(json.dumps({"spawn": group}).encode()))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        lock = open(Path(home) / _LOCK, "wb")    # held while this worker lives (see _sweep)
        fcntl.flock(lock, fcntl.LOCK_EX)
        emit(b"ready")
        while True:
            head = _recv(inp)
            if head is None:
                return
            req = json.loads(head.decode("utf-8"))
            budget = MailBudget(**req["budget"])
            files: list[tuple[bytes, str] | None] = []
            for name in req["names"]:
                data = None if name is None else _recv(inp)
                if name is not None and data is None:
                    return
                files.append(None if name is None else (data, name))
            _limit(budget)
            for i, docs in enumerate(docread.read_each(files, limits=budget.limits())):
                if files[i] is not None:
                    emit(json.dumps({"file": i, "docs": [_doc_json(d) for d in docs]},
                                    ensure_ascii=False).encode("utf-8"))
            retire = _address_space() > budget.max_memory_mb * MiB // 2   # grown: let a new one start
            emit(json.dumps({"done": True, "retire": retire}).encode())
    except BrokenPipeError:
        return
    finally:
        if Path(home).name.startswith(_HOME_PREFIX):
            shutil.rmtree(home, ignore_errors=True)


def _address_space() -> int:
    """This process's virtual size in bytes (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _limit(budget: MailBudget) -> None:
    """Soft limits for the next mail (inherited by LibreOffice and the PDF helper): CPU time
    from now on, address space, size of a file written."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    for res, want in ((resource.RLIMIT_CPU, math.ceil(used.ru_utime + used.ru_stime + budget.max_seconds)
                       + _CPU_SLACK_S),
                      (resource.RLIMIT_AS, budget.max_memory_mb * MiB),
                      (resource.RLIMIT_FSIZE, _FSIZE)):
        _soft, hard = resource.getrlimit(res)
        resource.setrlimit(res, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))


if __name__ == "__main__":
    _serve(sys.argv[1])
