"""Fetch new mail from the filing mailbox: IMAP (imapclient) or a local Maildir.

Both backends give the same interface: ``connect()``, ``uidvalidity()``,
``new_messages(after_uid, max_size)`` (ascending UIDs, lazily fetched),
``mark_filed(uid)`` and ``close()``. The ledger remembers (name, UIDVALIDITY,
last UID); nothing here decides what is processed.

IMAP rules learnt the hard way: send IMAP ID right after LOGIN or
163.com refuses SELECT ("Unsafe Login"); ``UID SEARCH UID n:*`` always returns
the highest UID, so filter client-side; check RFC822.SIZE before fetching a
body; fetch with BODY.PEEK[] so \\Seen is never set; chunk FETCH commands
(Dovecot's 64 KB command-line limit); always set a socket timeout.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Mapping
from urllib.parse import quote

from imapclient import IMAPClient, SocketTimeout
from imapclient import exceptions as imap_exc

from mailbot.mailout import neterrors
from mailbot import redact
from mailbot.store.fsutil import atomic_write

log = logging.getLogger(__name__)

__all__ = [
    "Fetched",
    "SourceError",
    "ImapSource",
    "MaildirSource",
    "open_source",
    "DEFAULT_PORTS",
]

DEFAULT_PORTS = {"ssl": 993, "starttls": 143, "none": 143}

# metadata FETCH: UIDs per command (each UID ≤ 11 bytes: far below 64 KB)
_META_CHUNK = 1000
# body FETCH: also stop a chunk once this many bytes are announced
_BODY_CHUNK_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Fetched:
    uid: int  # IMAP UID; for Maildir a stable per-message number
    key: str  # str(uid) for IMAP; the Maildir key for Maildir
    internaldate: datetime  # aware; IMAP INTERNALDATE, Maildir file mtime
    size: int
    raw: bytes | None  # None when size > max_size (not fetched)


class SourceError(Exception):
    """A mailbox problem, as a Chinese sentence fit for the CLI and the log.

    ``kind``: "config" | "connect" | "tls" | "login" | "folder" | "protocol" |
    "maildir". ``connect``/``protocol`` are usually transient (retry at the next
    poll); ``config``/``login``/``folder``/``tls`` need the operator.
    """

    def __init__(self, message: str, kind: str = "protocol") -> None:
        super().__init__(message)
        self.kind = kind

    @property
    def transient(self) -> bool:
        return self.kind in ("connect", "protocol")


# ---------------------------------------------------------------------------
# IMAP
# ---------------------------------------------------------------------------


def _default_id(username: str) -> dict[str, str]:
    try:
        from importlib.metadata import version

        ver = version("mailbot")
    except Exception:
        ver = "0"
    info = {"name": "mailbot", "version": ver, "vendor": "mailbot"}
    if "@" in username:
        info["support-email"] = username
    return info


class ImapSource:
    """The filing mailbox over IMAP. One session: connect → poll → close.

    A poll of an idle mailbox right after ``connect`` costs exactly one SELECT
    (in connect) and one ``UID SEARCH``. A later poll on the same connection
    costs NOOP + UID SEARCH (the NOOP makes the server show newly arrived mail).
    """

    def __init__(
        self,
        host: str,
        port: int,
        security: str,
        username: str,
        password: str,
        folder: str = "INBOX",
        timeout: float = 30.0,
        id_info: dict | None = None,
        filed_keyword: str = "$Filed",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        security = (security or "ssl").strip().lower()
        if security not in DEFAULT_PORTS:
            raise SourceError(
                f"[imap] security 只能是 ssl、starttls 或 none，现为“{security}”。", "config"
            )
        self.host = host
        self.port = int(port)
        self.security = security
        self.username = username
        self._password = password
        redact.learn(username, password)
        self.folder = folder or "INBOX"
        self.timeout = timeout
        self.id_info = id_info
        self.filed_keyword = filed_keyword
        self.ssl_context = ssl_context
        # Stable identity for the ledger. No port/security on purpose: moving
        # from 993/ssl to 143/starttls is the same mailbox and must not refile.
        self.name = f"imap://{quote(username, safe='')}@{host.lower()}/{quote(self.folder, safe='')}"
        self._client: IMAPClient | None = None
        self._select: dict = {}
        self._synced = False  # True right after SELECT
        self.server_id: dict | None = None

    def __repr__(self) -> str:  # never shows the password
        return f"ImapSource({self.name!r})"

    # -- errors ------------------------------------------------------------

    def _where(self) -> str:
        return f"{self.host}:{self.port}"

    def _scrub(self, msg: str) -> str:
        return redact.redact(msg)

    def _fail(self, exc: BaseException, during: str) -> SourceError:
        """Translate any exception into a SourceError and drop the connection."""
        self._drop()
        where = self._where()
        text_ = self._scrub(neterrors.text(exc))  # server words may echo what we sent
        reason = self._scrub(neterrors.reason(exc, dropped=(imap_exc.IMAPClientAbortError,)))
        if isinstance(exc, imap_exc.LoginError):
            text = text_
            msg = (
                f"邮箱登录失败（服务器 {where}，用户 {self.username}）：{text}。"
                "请检查 [imap] username 和密码（163/126 邮箱要用“客户端授权码”，"
                "并在网页版设置中开启 IMAP 服务）。"
            )
            kind = "login"
        elif during == "select" and isinstance(exc, imap_exc.IMAPClientError) and not isinstance(
            exc, imap_exc.IMAPClientAbortError
        ):
            text = text_
            msg = f"无法打开邮箱文件夹“{self.folder}”（服务器 {where}）：{text}。"
            if "unsafe login" in text.lower():
                msg += "服务器要求客户端先发送 IMAP ID；请确认服务器声明了 ID 能力。"
            else:
                msg += "请检查 [imap] folder 设置。"
            kind = "folder"
        elif during == "connect" and isinstance(exc, ssl.SSLCertVerificationError):
            msg = (
                f"邮箱服务器 {where} 的证书校验失败：{reason}。"
                "请确认 [imap] host 填写的是服务器的正式域名（如 imap.163.com），并检查本机时间是否正确。"
            )
            kind = "tls"
        elif during == "connect" and isinstance(exc, ssl.SSLError):
            msg = (
                f"与邮箱服务器 {where} 建立加密连接失败：{reason}。"
                "请检查 [imap] security（ssl|starttls|none）与 port 是否匹配"
                "（ssl 通常用 993，starttls/none 用 143）。"
            )
            kind = "tls"
        elif during == "connect" and isinstance(exc, (OSError, EOFError, imap_exc.IMAPClientAbortError)):
            msg = f"无法连接邮箱服务器 {where}：{reason}。请检查网络和 [imap] host/port 设置。"
            kind = "connect"
        elif during == "connect" and isinstance(exc, imap_exc.IMAPClientError):
            msg = f"邮箱服务器 {where} 拒绝了连接请求：{text_}。请检查 [imap] security 设置。"
            kind = "tls" if self.security == "starttls" else "protocol"
        elif isinstance(exc, (OSError, EOFError, imap_exc.IMAPClientAbortError)):
            msg = f"与邮箱服务器 {where} 的连接中断：{reason}。下次轮询时会重新连接。"
            kind = "connect"
        else:
            msg = f"邮箱服务器 {where} 返回错误（{during}）：{reason}。"
            kind = "protocol"
        return SourceError(msg, kind)

    # -- session -----------------------------------------------------------

    def connect(self) -> None:
        """LOGIN, IMAP ID (when offered), SELECT the folder read-write."""
        if self._client is not None:
            return
        try:
            client = IMAPClient(
                self.host,
                self.port,
                ssl=self.security == "ssl",
                ssl_context=self.ssl_context,
                timeout=SocketTimeout(connect=self.timeout, read=self.timeout),
            )
        except Exception as exc:
            raise self._fail(exc, "connect") from None
        self._client = client
        client.normalise_times = False  # aware INTERNALDATE
        try:
            if self.security == "starttls":
                client.starttls(self.ssl_context or ssl.create_default_context())
        except Exception as exc:
            raise self._fail(exc, "connect") from None
        try:
            client.login(self.username, self._password)
        except Exception as exc:
            raise self._fail(exc, "login") from None
        try:
            if client.has_capability("ID"):
                self.server_id = client.id_(self.id_info or _default_id(self.username))
        except Exception as exc:
            raise self._fail(exc, "id") from None
        try:
            self._select = client.select_folder(self.folder, readonly=False)
            self._synced = True
        except Exception as exc:
            raise self._fail(exc, "select") from None
        log.info(
            "imap connected %s uidvalidity=%s exists=%s",
            self.name,
            self._select.get(b"UIDVALIDITY"),
            self._select.get(b"EXISTS"),
        )

    def __enter__(self) -> "ImapSource":
        self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.shutdown()
            except Exception:
                pass

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:
            try:
                client.shutdown()
            except Exception:
                pass

    def _need(self) -> IMAPClient:
        if self._client is None:
            self.connect()
        assert self._client is not None
        return self._client

    # -- reading -----------------------------------------------------------

    def uidvalidity(self) -> int:
        self._need()
        return int(self._select[b"UIDVALIDITY"])

    @property
    def read_only(self) -> bool:
        return b"READ-ONLY" in self._select and b"READ-WRITE" not in self._select

    def new_messages(self, after_uid: int, max_size: int, chunk: int = 50) -> Iterator[Fetched]:
        """Messages with UID > after_uid, ascending. Bodies of at most
        ``max_size`` bytes are fetched (BODY.PEEK[]), in chunks of ``chunk``
        messages (and ~16 MB); bigger ones come with ``raw=None``."""
        client = self._need()
        try:
            if not self._synced:
                # Dovecot (and IMAP in general) only shows mail that arrived
                # since the last command after a sync: NOOP first, except right
                # after SELECT, which already has the current view.
                client.noop()
            self._synced = False
            found = client.search(["UID", f"{int(after_uid) + 1}:*"])
        except Exception as exc:
            raise self._fail(exc, "UID SEARCH") from None
        uids = sorted(u for u in found if u > after_uid)
        if not uids:
            return
        log.info("imap %s: %d new message(s) after uid %d", self.name, len(uids), after_uid)
        chunk = max(1, int(chunk))
        for i in range(0, len(uids), _META_CHUNK):
            part = uids[i : i + _META_CHUNK]
            try:
                meta = client.fetch(part, ["RFC822.SIZE", "INTERNALDATE"])
            except Exception as exc:
                raise self._fail(exc, "FETCH") from None
            batch: list[tuple[int, int, datetime]] = []
            batch_bytes = 0
            for uid in part:
                m = meta.get(uid)
                if m is None or b"RFC822.SIZE" not in m:
                    continue  # expunged meanwhile
                size = int(m[b"RFC822.SIZE"])
                when = _aware(m.get(b"INTERNALDATE"))
                if size > max_size:
                    # keep UID order: flush what is pending first
                    yield from self._bodies(client, batch)
                    batch, batch_bytes = [], 0
                    yield Fetched(uid, str(uid), when, size, None)
                    continue
                batch.append((uid, size, when))
                batch_bytes += size
                if len(batch) >= chunk or batch_bytes >= _BODY_CHUNK_BYTES:
                    yield from self._bodies(client, batch)
                    batch, batch_bytes = [], 0
            yield from self._bodies(client, batch)

    def _bodies(self, client: IMAPClient, batch: list[tuple[int, int, datetime]]) -> Iterator[Fetched]:
        if not batch:
            return
        try:
            data = client.fetch([u for u, _, _ in batch], ["BODY.PEEK[]"])
        except Exception as exc:
            raise self._fail(exc, "FETCH") from None
        for uid, size, when in batch:
            raw = data.get(uid, {}).get(b"BODY[]")
            if raw is None:
                continue  # expunged meanwhile
            yield Fetched(uid, str(uid), when, len(raw), bytes(raw))

    # -- marking -----------------------------------------------------------

    def can_mark(self) -> bool:
        flags = self._select.get(b"PERMANENTFLAGS", ())
        kw = self.filed_keyword.encode()
        return not self.read_only and (b"\\*" in flags or kw in flags)

    def mark_filed(self, uid: "int | list[int]") -> bool:
        """Add the filed keyword (never \\Seen, never delete) to UID, or to each of a list in one
        STORE. Returns whether it was set; False when the server does not allow custom keywords."""
        uids = [int(u) for u in (uid if isinstance(uid, list) else [uid])]
        if not uids:
            return False
        client = self._need()
        if not self.can_mark():
            return False
        try:
            client.add_flags(uids, [self.filed_keyword], silent=True)
        except Exception as exc:
            raise self._fail(exc, "STORE") from None
        return True


def _aware(value) -> datetime:
    if not isinstance(value, datetime):
        return datetime.now(timezone.utc)
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    # imapclient's FixedOffset → a stdlib timezone (picklable, comparable)
    off = value.utcoffset()
    return value.replace(tzinfo=timezone(off) if off is not None else timezone.utc)


# ---------------------------------------------------------------------------
# Maildir
# ---------------------------------------------------------------------------

UID_MAP_NAME = ".mailbot-uids"


class MaildirSource:
    """A local Maildir (read-only but for one file, ``.mailbot-uids``).

    Keys are the Maildir unique names (as ``mailbox.Maildir`` reports them).
    Each new key gets the next number, in order of (mtime, key), recorded in
    ``.mailbot-uids`` (JSON, replaced atomically) so UIDs are stable across
    runs. UIDVALIDITY is fixed when that file is created (a deleted map gives a
    new UIDVALIDITY, so the ledger resyncs instead of trusting old numbers).
    """

    colon = ":"

    def __init__(self, path: str | os.PathLike, filed_keyword: str = "$Filed") -> None:
        self.path = Path(path)
        self.name = "maildir:" + str(self.path.resolve())
        self.filed_keyword = filed_keyword
        self._map: dict | None = None
        self._files: dict[str, Path] = {}

    def __repr__(self) -> str:
        return f"MaildirSource({self.name!r})"

    def connect(self) -> None:
        for sub in ("cur", "new"):
            if not (self.path / sub).is_dir():
                raise SourceError(
                    f"找不到 Maildir 邮件目录 {self.path}（缺少 {sub}/ 子目录）。请检查 [imap] path 设置。",
                    "maildir",
                )
        self._refresh()

    def __enter__(self) -> "MaildirSource":
        self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._map = None
        self._files = {}

    def _scan(self) -> dict[str, Path]:
        files: dict[str, Path] = {}
        for sub in ("new", "cur"):
            try:
                entries = os.scandir(self.path / sub)
            except FileNotFoundError:
                continue
            with entries:
                for e in entries:
                    if e.name.startswith(".") or not e.is_file(follow_symlinks=False):
                        continue
                    files[e.name.split(self.colon)[0]] = Path(e.path)
        return files

    def _load_map(self) -> dict:
        p = self.path / UID_MAP_NAME
        try:
            data = json.loads(p.read_text("utf-8"))
            if isinstance(data, dict) and isinstance(data.get("uids"), dict):
                data["uidvalidity"] = int(data["uidvalidity"])
                data["next_uid"] = int(data["next_uid"])
                return data
            log.warning("maildir %s: %s unreadable, starting a new numbering", self.path, p)
        except FileNotFoundError:
            pass
        except (ValueError, KeyError, TypeError):
            log.warning("maildir %s: %s unreadable, starting a new numbering", self.path, p)
        return {"uidvalidity": int(time.time()), "next_uid": 1, "uids": {}}

    def _save_map(self, data: dict) -> None:
        p = self.path / UID_MAP_NAME
        try:
            atomic_write(p, json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8"),
                         prefix=UID_MAP_NAME + ".", suffix=".tmp")
        except OSError as exc:
            raise SourceError(
                f"无法在 Maildir {self.path} 中写入编号文件 {UID_MAP_NAME}：{exc.strerror or exc}。"
                "请确认该目录可写。",
                "maildir",
            ) from None

    def _refresh(self) -> None:
        files = self._scan()
        data = self._map if self._map is not None else self._load_map()
        uids: dict[str, int] = data["uids"]
        fresh = [k for k in files if k not in uids]
        changed = not (self.path / UID_MAP_NAME).exists()
        if fresh:
            def order(k: str):
                try:
                    return (files[k].stat().st_mtime_ns, k)
                except FileNotFoundError:
                    return (0, k)

            for k in sorted(fresh, key=order):
                uids[k] = data["next_uid"]
                data["next_uid"] += 1
            changed = True
        gone = [k for k in uids if k not in files]
        for k in gone:  # numbers are never reused: next_uid only grows
            del uids[k]
        changed = changed or bool(gone)
        if changed:
            self._save_map(data)
        self._map = data
        self._files = files

    def uidvalidity(self) -> int:
        if self._map is None:
            self.connect()
        return int(self._map["uidvalidity"])

    def new_messages(self, after_uid: int, max_size: int, chunk: int = 50) -> Iterator[Fetched]:
        if self._map is None:
            self.connect()
        else:
            self._refresh()
        uids: dict[str, int] = self._map["uids"]
        wanted = sorted((u, k) for k, u in uids.items() if u > after_uid)
        for uid, key in wanted:
            path = self._files.get(key)
            if path is None:
                continue
            try:
                st = path.stat()
                raw = None
                if st.st_size <= max_size:
                    raw = path.read_bytes()
            except FileNotFoundError:
                # moved between new/ and cur/ by a mail client meanwhile: rescan once
                path = self._scan().get(key)
                if path is None:
                    continue
                st = path.stat()
                raw = path.read_bytes() if st.st_size <= max_size else None
            when = datetime.fromtimestamp(st.st_mtime, tz=timezone.utc).astimezone()
            yield Fetched(uid, key, when, st.st_size if raw is None else len(raw), raw)

    def mark_filed(self, uid: "int | list[int]") -> bool:
        """No-op: the Maildir is never modified (the ledger remembers)."""
        return False


# ---------------------------------------------------------------------------
# config
# ---------------------------------------------------------------------------


def open_source(
    section: Mapping[str, str], base_dir: Path, password: str | None
) -> ImapSource | MaildirSource:
    """Build a source from a config.ini ``[imap]`` section (SPEC §4). Nothing
    is connected yet. Relative paths are resolved against ``base_dir``."""
    get = lambda k, d="": (section.get(k) or d).strip()  # noqa: E731
    backend = get("backend").lower()
    if backend == "maildir":
        raw_path = get("path")
        if not raw_path:
            raise SourceError("[imap] backend = maildir 需要设置 path（Maildir 目录）。", "config")
        p = Path(raw_path).expanduser()
        if not p.is_absolute():
            p = Path(base_dir) / p
        return MaildirSource(p)
    if backend:
        raise SourceError(f"[imap] backend = {backend} 不认识；只能留空（IMAP 服务器）或写 maildir。", "config")
    host = get("host")
    if not host:
        raise SourceError("[imap] 缺少 host（邮箱服务器地址，如 imap.163.com）。", "config")
    security = get("security", "ssl").lower()
    if security not in DEFAULT_PORTS:
        raise SourceError(f"[imap] security 只能是 ssl、starttls 或 none，现为“{security}”。", "config")
    port_s = get("port", str(DEFAULT_PORTS[security]))
    try:
        port = int(port_s)
        if not 0 < port < 65536:
            raise ValueError
    except ValueError:
        raise SourceError(f"[imap] port 必须是 1–65535 的数字，现为“{port_s}”。", "config") from None
    username = get("username")
    if not username:
        raise SourceError("[imap] 缺少 username（邮箱账号）。", "config")
    if not password:
        raise SourceError(
            "没有 [imap] 的密码：请把邮箱密码或授权码放进 password_env 指定的环境变量。", "config"
        )
    timeout_s = get("timeout", "30")
    try:
        timeout = float(timeout_s)
    except ValueError:
        raise SourceError(f"[imap] timeout 必须是秒数，现为“{timeout_s}”。", "config") from None
    return ImapSource(
        host,
        port,
        security,
        username,
        password,
        folder=get("folder", "INBOX"),
        timeout=timeout,
    )
