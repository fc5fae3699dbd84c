"""Deliver finished messages: over SMTP, or as .eml files into an outbox folder.

The ledger's queue-draining loop calls ``sender.send(envelope_from, recipients,
raw)`` per queued message and reacts to the two outcomes that matter:

* ``TemporaryFailure`` — 4xx, timeouts, dropped connections, login problems:
  keep the message queued and retry later with backoff.
* ``PermanentFailure`` — 5xx (``554 DT:SPM`` is 163.com's spam verdict, 553,
  550): record the message as failed.
* ``ProviderLimit`` (a TemporaryFailure) — the provider names a sending limit in its
  reply (NetEase: ``451 MI:SFQ``, ``554 MI:STC``, ``421 HL:ICC`` …, see
  ``NETEASE_CODES``): nothing is wrong with this message, every message must wait;
  ``limit`` says how long (deliver.py and limits.py decide).

All carry ``code``/``smtp_text`` and a Chinese ``str()``; ``limit``/``provider_code``
when the reply named a provider limit. ``affects_all`` is True when the problem is
the connection or the account, not this message (the rest of the batch would fail
the same way: stop draining for now).

``550 RP:RCL`` (too many recipients on one mail) never leaves ``send``: the same
message goes to the recipients in smaller transactions, and the sender remembers
the size that worked. ``MI:DMC``/``RP:DRC`` (too much on this connection) reconnect.

The raw bytes are sent as given: the Message-ID fixed in the ledger is the one
the recipient sees, so a resend after a crash is the same message.
"""

from __future__ import annotations

import collections
import hashlib
import logging
import os
import re
import smtplib
import socket
import ssl
import time
from datetime import datetime
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Callable, Mapping, Protocol

from mailbot.mailout import neterrors
from mailbot import redact
from mailbot.store.fsutil import atomic_write
from mailbot.store.modes import make_dirs

log = logging.getLogger(__name__)

__all__ = [
    "Sender",
    "SmtpSender",
    "OutboxSender",
    "SendError",
    "TemporaryFailure",
    "PermanentFailure",
    "ProviderLimit",
    "AuthFailure",
    "SendConfigError",
    "open_sender",
    "DEFAULT_PORTS",
    "NETEASE_CODES",
    "provider_limit",
    "RATE", "QUOTA", "SPAM", "CONNECTIONS", "RECIPIENTS", "PER_CONNECTION",
]

DEFAULT_PORTS = {"ssl": 465, "starttls": 587, "none": 25}

_BAD_ADDR = re.compile(r"[\x00-\x20\x7f<>]")


class Sender(Protocol):
    def send(self, envelope_from: str, recipients: list[str], raw: bytes) -> dict[str, tuple[int, str]]:
        """Deliver or raise TemporaryFailure/PermanentFailure. Returns the
        recipients refused while others accepted the mail (normally {})."""
        ...

    def close(self) -> None: ...


# --- the provider's sending limits ---------------------------------------------------
# NetEase (163.com, 126.com, yeah.net) names the limit it enforces in the reply text, after
# the numeric code ("451 MI:SFQ …"); the limits themselves are not published. Each code maps
# to one reaction (what deliver.py does with it):
RATE = "rate"                  # too much in a short time: every mail waits 15 minutes or more
QUOTA = "quota"                # the day's allowance is spent: every mail waits for the next day
SPAM = "spam"                  # judged spam: 5xx fails this mail for good (never resent); 4xx waits
CONNECTIONS = "connections"    # too many connections at once: wait a few minutes, still one connection
RECIPIENTS = "recipients"      # too many recipients on one mail: the same mail in smaller transactions
PER_CONNECTION = "per_connection"   # too much on this connection: a fresh connection goes on

NETEASE_CODES = {
    "MI:SFQ": RATE,            # 发信人在15分钟内的发信数量超过限制
    "RP:QRC": RATE,            # 发信人短期内累计的收件人数量超过限制
    "HL:IFC": RATE,            # 该IP短期内发送了大量信件（421: connection refused for a while)
    "MI:STC": QUOTA,           # 发件人当天的发信数量超过限制
    "RP:TRC": QUOTA,           # 发件人当天内累计的收件人数量超过限制
    "DT:SPM": SPAM,            # 邮件被判定为垃圾邮件（554: final; 451: held, retry later)
    "HL:ICC": CONNECTIONS,     # 该IP同时并发连接数过大
    "RP:RCL": RECIPIENTS,      # 群发收件人数量超过了限额
    "MI:DMC": PER_CONNECTION,  # 当前连接发送的邮件数量超出限制
    "RP:DRC": PER_CONNECTION,  # 当前连接发送的收件人数量超出限制
}
_PROVIDER_CODE = re.compile(r"(?<![A-Za-z])(MI|RP|DT|HL)\s*:\s*([A-Za-z]{3})(?![A-Za-z])", re.I)
# any server: RFC 5321 452 / enhanced status 4.5.3 "too many recipients" (send the rest separately)
_TOO_MANY_RECIPIENTS = re.compile(r"(?<![\d.])[45]\.5\.3(?![\d.])|too many recipients\s*$", re.I)


def provider_limit(text: str) -> tuple[str, str] | None:
    """("MI:SFQ", RATE) when the server's reply names a sending limit we react to, else None.
    Case-insensitive, anywhere in the text ("451 4.7.1 mi:sfq smtp9,… please try later").
    Any server's "4.5.3 Too many recipients" counts as ("4.5.3", RECIPIENTS)."""
    for m in _PROVIDER_CODE.finditer(text or ""):
        code = f"{m.group(1).upper()}:{m.group(2).upper()}"
        if code in NETEASE_CODES:
            return code, NETEASE_CODES[code]
    if _TOO_MANY_RECIPIENTS.search(text or ""):
        return "4.5.3", RECIPIENTS
    return None


class SendError(Exception):
    """Base class. ``str(e)`` is Chinese; ``code``/``smtp_text`` the server's words;
    ``limit``/``provider_code`` (e.g. RATE, "MI:SFQ") when the reply named a provider limit."""

    def __init__(self, message: str, code: int | None = None, smtp_text: str = "", affects_all: bool = False,
                 limit: str | None = None, provider_code: str | None = None):
        super().__init__(message)
        self.code = code
        self.smtp_text = smtp_text
        self.affects_all = affects_all
        self.limit = limit
        self.provider_code = provider_code


class TemporaryFailure(SendError):
    """Retry later: 4xx, connection drops, timeouts, login/TLS problems."""


class AuthFailure(TemporaryFailure):
    """The SMTP server refused our login (wrong password / 授权码, SMTP disabled).
    Temporary on purpose: queued mail must wait for the operator, not be failed."""


class PermanentFailure(SendError):
    """Do not retry this message: 5xx (554 DT:SPM, 553, 550 ...)."""


class ProviderLimit(TemporaryFailure):
    """The provider refused because of a sending limit (``limit``: RATE, QUOTA, CONNECTIONS,
    or SPAM for a 4xx spam hold), not because of this message: it stays queued and every
    message waits (``affects_all``); how long is deliver.py's decision."""


class _TooManyRecipients(PermanentFailure):
    """550 RP:RCL: caught inside ``SmtpSender.send``, which sends in smaller transactions."""


class SendConfigError(SendError, ValueError):
    """The [smtp] section cannot be used (raised by open_sender)."""


def _decode(text) -> str:
    if isinstance(text, bytes):
        return text.decode("utf-8", "replace")
    return str(text)


def _hint(code: int, text: str) -> str:
    t = text.lower()
    if "dt:spm" in t or "dt:spm" in t.replace(" ", ""):
        return "网易邮箱判定为垃圾邮件：请降低发送频率，并让每封邮件的主题各不相同（写明单位、编号）。"
    if code == 553 and "authorized user" in t:
        return "发件地址必须与登录账号一致：请让 [smtp] from_address 与 username 相同。"
    if code in (550, 551, 553) and ("user" in t or "mailbox" in t or "recipient" in t):
        return "收件地址可能不存在或已停用：请核对名单中的邮箱。"
    if code == 552 or "size" in t:
        return "邮件过大：请减小附件。"
    if code == 550 and "permission" in t:
        return "账号无发信权限：请在邮箱网页设置中开启 SMTP 服务。"
    return ""


_LIMIT_WORDS = {
    RATE: "网易邮箱提示短时间内发信过多（{where}），暂停发信，稍后自动续发。",
    QUOTA: "网易邮箱今天的发信数量已用完（{where}），待发邮件保留，次日自动续发。",
    CONNECTIONS: "网易邮箱提示同时连接过多（{where}）：可能有其他电脑或手机客户端同时在用此邮箱，稍后自动重试。",
    SPAM: "网易邮箱暂时把邮件当作疑似垃圾邮件拒收（{where}），稍后自动重试。",
    RECIPIENTS: "网易邮箱拒收：一封邮件的收件人过多（{where}），改为分开发送。",
    PER_CONNECTION: "网易邮箱提示本次连接发信过多（{where}），重新连接后继续。",
}


def _limit_reply(code: int, text: str, stage: str, found: tuple[str, str]) -> SendError:
    pcode, limit = found
    where = f"{stage}：{code} {text}"
    if limit == SPAM and code >= 500:
        msg = (f"邮件服务器拒绝投递（{where}）：网易邮箱判定此邮件为垃圾邮件，同一内容不再重发。"
               "请降低发送频率，并让每封邮件的主题各不相同（写明单位、日期、编号）。")
        return PermanentFailure(msg, code, text, False, limit, pcode)
    msg = _LIMIT_WORDS[limit].format(where=where)
    if limit == RECIPIENTS:
        return _TooManyRecipients(msg, code, text, False, limit, pcode)
    if limit == PER_CONNECTION:
        return TemporaryFailure(msg, code, text, False, limit, pcode)
    return ProviderLimit(msg, code, text, True, limit, pcode)


def _from_reply(code: int, text, stage: str, affects_all: bool = False) -> SendError:
    text = _decode(text).replace("\r", " ").replace("\n", " ").strip()
    found = provider_limit(text)
    if found is not None:
        return _limit_reply(code, text, stage, found)
    if 400 <= code < 500:
        msg = f"邮件服务器暂时不接收（{stage}：{code} {text}），稍后自动重试。"
        return TemporaryFailure(msg, code, text, affects_all or code == 421)
    if 500 <= code < 600:
        msg = f"邮件服务器拒绝投递（{stage}：{code} {text}），不再重试。"
        hint = _hint(code, text)
        if hint:
            msg += hint
        return PermanentFailure(msg, code, text, affects_all)
    return TemporaryFailure(f"邮件服务器回复异常（{stage}：{code} {text}），稍后自动重试。", code, text, True)


def _check_addresses(envelope_from: str, recipients: list[str]) -> None:
    if not recipients:
        raise PermanentFailure("邮件没有收件人。")
    for a in [envelope_from, *recipients]:
        if not isinstance(a, str) or _BAD_ADDR.search(a) or (a and "@" not in a):
            raise PermanentFailure(f"邮件地址格式不正确：{a!r}。")
        if not a.isascii():
            # would need SMTPUTF8, which 163.com and most relays do not offer
            raise PermanentFailure(f"邮件地址含有中文或其他非 ASCII 字符，无法投递：{a}。")


# ---------------------------------------------------------------------------
# SMTP
# ---------------------------------------------------------------------------


class SmtpSender:
    """One SMTP connection reused for a batch: connects on the first ``send``,
    reconnects once if a reused connection turns out dead, throttles to at
    most ``per_minute`` messages in any 60 s (0 = no limit)."""

    def __init__(
        self,
        host: str,
        port: int,
        security: str,
        username: str | None,
        password: str | None,
        timeout: float = 30.0,
        per_minute: int = 20,
        ssl_context: ssl.SSLContext | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        security = (security or "ssl").strip().lower()
        if security not in DEFAULT_PORTS:
            raise SendConfigError(f"[smtp] security 只能是 ssl、starttls 或 none，现为“{security}”。")
        self.host = host
        self.port = int(port)
        self.security = security
        self.username = username or ""
        self._password = password or ""
        redact.learn(self.username, self._password)
        self.timeout = timeout
        self.per_minute = int(per_minute)
        self.ssl_context = ssl_context
        self._sleep = sleep
        self._clock = clock
        self._sent: collections.deque[float] = collections.deque()
        self._conn: smtplib.SMTP | None = None
        self._used = 0  # messages attempted on the current connection
        self.max_recipients = 0  # recipients per transaction once the server said RP:RCL (0 = all)

    def __repr__(self) -> str:  # never shows the password
        return f"SmtpSender({self.host}:{self.port}, {self.security}, user={self.username!r})"

    def _where(self) -> str:
        return f"{self.host}:{self.port}"

    def _clean(self, text) -> str:
        """Server words as text, without our password (in any form) should it echo it."""
        return redact.redact(_decode(text))

    # -- connection --------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        where = self._where()
        helo = _helo_name()
        try:
            if self.security == "ssl":
                ctx = self.ssl_context or ssl.create_default_context()
                conn = smtplib.SMTP_SSL(self.host, self.port, local_hostname=helo, timeout=self.timeout, context=ctx)
            else:
                conn = smtplib.SMTP(self.host, self.port, local_hostname=helo, timeout=self.timeout)
        except smtplib.SMTPConnectError as e:
            if provider_limit(_decode(e.smtp_error)):
                raise _from_reply(e.smtp_code, _decode(e.smtp_error), "连接", True) from None
            raise TemporaryFailure(
                f"发信服务器 {where} 拒绝连接（{e.smtp_code} {_decode(e.smtp_error)}），稍后自动重试。",
                e.smtp_code, _decode(e.smtp_error), True,
            ) from None
        except ssl.SSLCertVerificationError as e:
            raise TemporaryFailure(
                f"发信服务器 {where} 的证书校验失败（{e.verify_message or e.reason or e}）。"
                "请确认 [smtp] host 填写的是服务器的正式域名（如 smtp.163.com），并检查本机时间是否正确。",
                None, str(e), True,
            ) from None
        except ssl.SSLError as e:
            raise TemporaryFailure(
                f"与发信服务器 {where} 建立加密连接失败（{e.reason or e}）。"
                "请检查 [smtp] security 与 port 是否匹配（ssl 通常用 465，starttls 用 587）。",
                None, str(e), True,
            ) from None
        except (OSError, smtplib.SMTPException) as e:
            raise TemporaryFailure(
                f"无法连接发信服务器 {where}：{_os_reason(e)}。请检查网络和 [smtp] host/port 设置。",
                None, str(e), True,
            ) from None
        try:
            if self.security == "starttls":
                conn.ehlo()
                if not conn.has_extn("starttls"):
                    raise TemporaryFailure(
                        f"发信服务器 {where} 不支持 STARTTLS：请把 [smtp] security 改为 ssl 或 none，并核对端口。",
                        None, "", True,
                    )
                conn.starttls(context=self.ssl_context or ssl.create_default_context())
                conn.ehlo()
            if self.username:
                conn.login(self.username, self._password)
        except SendError:
            _quiet_close(conn)
            raise
        except smtplib.SMTPAuthenticationError as e:
            _quiet_close(conn)
            text = self._clean(e.smtp_error)
            raise AuthFailure(
                f"发信邮箱登录失败（{e.smtp_code} {text}，用户 {self.username}）。"
                "请检查 [smtp] username 和密码（163/126 邮箱要用“客户端授权码”并开启 SMTP 服务）。",
                e.smtp_code, text, True,
            ) from None
        except smtplib.SMTPNotSupportedError:
            _quiet_close(conn)
            raise TemporaryFailure(
                f"发信服务器 {where} 不支持登录（AUTH）：如果它是无需登录的本地中转，请把 [smtp] username 留空；"
                "否则请检查 security 设置（很多服务器只在加密后才允许登录）。",
                None, "", True,
            ) from None
        except smtplib.SMTPResponseException as e:
            _quiet_close(conn)
            raise _from_reply(e.smtp_code, self._clean(e.smtp_error), "连接", True) from None
        except ssl.SSLCertVerificationError as e:
            _quiet_close(conn)
            raise TemporaryFailure(
                f"发信服务器 {where} 的证书校验失败（{e.verify_message or e.reason or e}）。"
                "请确认 [smtp] host 填写的是服务器的正式域名，并检查本机时间是否正确。",
                None, str(e), True,
            ) from None
        except ssl.SSLError as e:
            _quiet_close(conn)
            raise TemporaryFailure(
                f"与发信服务器 {where} 的 STARTTLS 加密失败（{e.reason or e}）。", None, str(e), True
            ) from None
        except (OSError, smtplib.SMTPException) as e:
            _quiet_close(conn)
            raise TemporaryFailure(
                f"与发信服务器 {where} 的连接中断：{_os_reason(e)}，稍后自动重试。", None, str(e), True
            ) from None
        log.info("smtp connected %s:%s (%s)%s", self.host, self.port, self.security,
                 f" as {self.username}" if self.username else "")
        return conn

    def check(self) -> None:
        """Connect (and log in when a username is set) without sending, for
        ``doctor``. Raises TemporaryFailure/AuthFailure/PermanentFailure like
        ``send``. The connection stays open for ``send``; ``close()`` ends it."""
        if self._conn is None:
            self._conn = self._connect()
            self._used = 0

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self._used = 0
        if conn is not None:
            _quiet_close(conn)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        self._used = 0
        if conn is None:
            return
        try:
            conn.quit()
        except Exception:
            _quiet_close(conn)

    def __enter__(self) -> "SmtpSender":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- throttle ----------------------------------------------------------

    def _throttle(self) -> None:
        if self.per_minute <= 0:
            return
        now = self._clock()
        while self._sent and now - self._sent[0] >= 60.0:
            self._sent.popleft()
        if len(self._sent) >= self.per_minute:
            wait = 60.0 - (now - self._sent[0])
            if wait > 0:
                log.info("smtp throttle: %d sent in the last minute, waiting %.1fs", len(self._sent), wait)
                self._sleep(wait)
            self._sent.popleft()  # that slot has expired now
            now = self._clock()
        self._sent.append(now)

    # -- sending -----------------------------------------------------------

    def send(self, envelope_from: str, recipients: list[str], raw: bytes) -> dict[str, tuple[int, str]]:
        """Send one message. Returns the recipients the server refused while it
        accepted others ({address: (code, text)}, normally empty); raises
        TemporaryFailure / ProviderLimit / PermanentFailure otherwise.

        ``550 RP:RCL`` (too many recipients on one mail) splits the envelope: the
        same bytes go to the recipients in smaller transactions (halved, or as many as
        the server accepted), and ``max_recipients`` remembers the size for the next
        messages. A recipient refused for a provider limit (``451 RP:QRC``) while others
        accepted raises ProviderLimit: the message stays queued and is later resent
        whole (same Message-ID: the recipients who have it see one message)."""
        recipients = list(recipients)
        _check_addresses(envelope_from, recipients)
        cap = self.max_recipients or len(recipients)
        chunks = collections.deque(_chunks(recipients, cap))
        refused: dict[str, tuple[int, str]] = {}
        while chunks:
            chunk = chunks.popleft()
            try:
                got = self._transaction(envelope_from, chunk, raw)
            except _TooManyRecipients as exc:
                if len(chunk) == 1:
                    raise PermanentFailure(f"{exc} 单个收件人仍被拒收，不再重试。", exc.code, exc.smtp_text,
                                           False, exc.limit, exc.provider_code) from None
                self.max_recipients = max(1, len(chunk) // 2)
                log.warning("smtp %s: %d recipients on one mail refused, splitting into %d",
                            exc.provider_code, len(chunk), self.max_recipients)
                chunks.extendleft(reversed(_chunks(chunk, self.max_recipients)))
                continue
            split = [a for a, (c, t) in got.items() if _limit_of(t) == RECIPIENTS]
            if split:
                self.max_recipients = max(1, len(chunk) - len(got))
                log.warning("smtp: recipients over the per-mail limit, %d more sent %d at a time",
                            len(split), self.max_recipients)
                chunks.extendleft(reversed(_chunks(split, self.max_recipients)))
            for address, (code, text) in got.items():
                if address in split:
                    continue
                found = provider_limit(text)
                if found is not None and found[1] != RECIPIENTS:
                    err = _from_reply(code, text, "收件人")
                    if isinstance(err, TemporaryFailure):
                        raise err
                refused[address] = (code, text)
        if refused:
            log.warning("smtp: some recipients refused: %s", refused)
        return refused

    def _transaction(self, envelope_from: str, recipients: list[str], raw: bytes) -> dict[str, tuple[int, str]]:
        """One SMTP transaction (MAIL, RCPT…, DATA) on the batch's connection."""
        self._throttle()
        fresh_after_limit = False
        for attempt in (1, 2, 3):
            fresh = self._conn is None
            if fresh:
                self._conn = self._connect()
            conn = self._conn
            self._used += 1
            try:
                refused = conn.sendmail(envelope_from, recipients, raw)
            except smtplib.SMTPRecipientsRefused as e:
                self._after_error(conn)
                codes = {a: (c, self._clean(t)) for a, (c, t) in e.recipients.items()}
                limited = next(((c, t) for c, t in codes.values() if provider_limit(t)), None)
                if limited is not None:
                    err = _from_reply(limited[0], limited[1], "收件人")
                    if err.limit == PER_CONNECTION and not fresh_after_limit:
                        self._drop()
                        fresh_after_limit = True
                        continue
                    raise err from None
                temp = [f"{a}: {c} {t}" for a, (c, t) in codes.items() if 400 <= c < 500]
                first = next(iter(codes.values()), (550, ""))
                if temp:
                    code, text = next((c, t) for c, t in codes.values() if 400 <= c < 500)
                    raise TemporaryFailure(
                        f"邮件服务器暂时不接收收件人（{'；'.join(temp)}），稍后自动重试。", code, text) from None
                detail = "；".join(f"{a}: {c} {t}" for a, (c, t) in codes.items())
                err = _from_reply(first[0], first[1], "收件人")
                err.args = (f"邮件服务器拒绝所有收件人（{detail}），不再重试。" + _hint(*first),)
                raise err from None
            except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError, smtplib.SMTPResponseException) as e:
                self._after_error(conn)
                stage, every = (("发件人", True) if isinstance(e, smtplib.SMTPSenderRefused) else
                                ("正文", False) if isinstance(e, smtplib.SMTPDataError) else ("会话", True))
                err = _from_reply(e.smtp_code, self._clean(e.smtp_error), stage, every)
                if err.limit == PER_CONNECTION and not fresh_after_limit:
                    log.info("smtp %s: too much on this connection, reconnecting", err.provider_code)
                    self._drop()
                    fresh_after_limit = True
                    continue
                raise err from None
            except (smtplib.SMTPServerDisconnected, OSError) as e:
                self._drop()
                if not fresh and attempt == 1:
                    log.info("smtp connection to %s was dead, reconnecting once", self._where())
                    continue
                raise TemporaryFailure(
                    f"与发信服务器 {self._where()} 的连接中断：{_os_reason(e)}，稍后自动重试。", None, str(e), True
                ) from None
            except smtplib.SMTPException as e:
                self._drop()
                raise TemporaryFailure(f"发信失败：{e}，稍后自动重试。", None, str(e), True) from None
            return {a: (c, self._clean(t)) for a, (c, t) in (refused or {}).items()}
        raise TemporaryFailure(f"与发信服务器 {self._where()} 的连接反复中断，稍后自动重试。", None, "", True)

    def _after_error(self, conn: smtplib.SMTP) -> None:
        # smtplib closes the socket itself on 421; otherwise it sent RSET and
        # the connection can serve the next message.
        if conn.sock is None:
            self._drop()


def _chunks(items: list[str], size: int) -> list[list[str]]:
    size = max(1, size)
    return [items[i:i + size] for i in range(0, len(items), size)]


def _limit_of(text: str) -> str | None:
    found = provider_limit(text)
    return found[1] if found else None


def _helo_name() -> str:
    # socket.getfqdn() may block on reverse DNS; the plain host name does not
    name = socket.gethostname()
    if re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?", name or ""):
        return name
    return "localhost"


def _os_reason(e: BaseException) -> str:
    return neterrors.reason(e, dropped=(smtplib.SMTPServerDisconnected,))


def _quiet_close(conn: smtplib.SMTP) -> None:
    try:
        conn.close()
    except Exception:
        pass


# ---------------------------------------------------------------------------
# Outbox folder
# ---------------------------------------------------------------------------


class OutboxSender:
    """Writes each message as ``<YYYYmmdd-HHMMSS-ffffff>_<hash>.eml`` (temp,
    fsync, rename, fsync dir). ``<hash>`` comes from the Message-ID, so sending
    the same message again (a replay after a crash) writes nothing new.
    Two ``X-Mailbot-Envelope-*`` header lines in front record the envelope."""

    def __init__(self, path: str | os.PathLike, clock: Callable[[], datetime] = datetime.now) -> None:
        self.path = Path(path)
        self._now = clock

    def __repr__(self) -> str:
        return f"OutboxSender({str(self.path)!r})"

    def file_for(self, raw: bytes) -> Path | None:
        """The file already written for this message, if any."""
        tag = _message_tag(raw)
        for p in self.path.glob(f"*_{tag}.eml"):
            return p
        return None

    def send(self, envelope_from: str, recipients: list[str], raw: bytes) -> dict:
        recipients = list(recipients)
        _check_addresses(envelope_from, recipients)
        try:
            make_dirs(self.path)
        except OSError as e:
            raise TemporaryFailure(f"无法创建发件目录 {self.path}：{e.strerror or e}。", None, str(e), True) from None
        if self.file_for(raw) is not None:
            return {}
        name = f"{self._now():%Y%m%d-%H%M%S-%f}_{_message_tag(raw)}.eml"
        eol = b"\r\n" if b"\r\n" in raw[:2000] else b"\n"
        head = (
            b"X-Mailbot-Envelope-From: " + envelope_from.encode("utf-8") + eol
            + b"X-Mailbot-Envelope-To: " + ", ".join(recipients).encode("utf-8") + eol
        )
        try:
            atomic_write(self.path / name, head + raw, prefix=".tmp-", suffix=".eml")
        except OSError as e:
            raise TemporaryFailure(f"无法写入发件目录 {self.path}：{e.strerror or e}。", None, str(e), True) from None
        log.info("outbox: wrote %s", name)
        return {}

    def close(self) -> None:
        pass


def _message_tag(raw: bytes) -> str:
    mid = None
    try:
        mid = BytesHeaderParser(policy=policy.compat32).parsebytes(raw[:65536]).get("Message-ID")
    except Exception:
        pass
    basis = str(mid).strip().encode("utf-8", "surrogateescape") if mid else raw
    return hashlib.sha256(basis).hexdigest()[:16]


# ---------------------------------------------------------------------------
# config
# ---------------------------------------------------------------------------


def open_sender(
    section: Mapping[str, str], base_dir: Path, password: str | None, per_minute: int = 20
) -> SmtpSender | OutboxSender:
    """Build a sender from a config.ini ``[smtp]`` section (SPEC §4): ``backend
    = outbox`` + ``path`` (relative to ``base_dir``), else host/port/security/
    username (empty username = no login). Nothing is connected yet."""
    get = lambda k, d="": (section.get(k) or d).strip()  # noqa: E731
    backend = get("backend").lower()
    if backend == "outbox":
        raw_path = get("path")
        if not raw_path:
            raise SendConfigError("[smtp] backend = outbox 需要设置 path（保存 .eml 的目录）。")
        p = Path(raw_path).expanduser()
        if not p.is_absolute():
            p = Path(base_dir) / p
        return OutboxSender(p)
    if backend:
        raise SendConfigError(f"[smtp] backend = {backend} 不认识；只能留空（SMTP 服务器）或写 outbox。")
    host = get("host")
    if not host:
        raise SendConfigError("[smtp] 缺少 host（发信服务器地址，如 smtp.163.com）。")
    security = get("security", "ssl").lower()
    if security not in DEFAULT_PORTS:
        raise SendConfigError(f"[smtp] security 只能是 ssl、starttls 或 none，现为“{security}”。")
    port_s = get("port", str(DEFAULT_PORTS[security]))
    try:
        port = int(port_s)
        if not 0 < port < 65536:
            raise ValueError
    except ValueError:
        raise SendConfigError(f"[smtp] port 必须是 1–65535 的数字，现为“{port_s}”。") from None
    username = get("username")
    if username and not password:
        raise SendConfigError("没有 [smtp] 的密码：请把邮箱密码或授权码放进 password_env 指定的环境变量。")
    timeout_s = get("timeout", "30")
    try:
        timeout = float(timeout_s)
    except ValueError:
        raise SendConfigError(f"[smtp] timeout 必须是秒数，现为“{timeout_s}”。") from None
    return SmtpSender(host, port, security, username or None, password if username else None,
                      timeout=timeout, per_minute=per_minute)
