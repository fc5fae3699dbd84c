"""Secrets (issue 8 §7): no password, nor any base64/AUTH form of it, leaves the process.

A hostile (or merely chatty) SMTP server rejects our login and echoes what we sent it — the AUTH
PLAIN string base64("\\0user\\0授权码"), AUTH LOGIN's base64 password, the password itself — in
its 535 reply. Real servers: a private Dovecot (IMAP, the right password) and aiosmtpd (SMTP);
`mailbot` runs as a process (poll, -v poll, status, doctor, digest). Then the password and every
form of it must be absent from the ledger file (every table, WAL included), every queued mail
(the digest, decoded), the log file, and the stdout/stderr of every command.
"""
from __future__ import annotations

import base64
import email
import logging
import os
import sqlite3
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest

from mailbot import redact
from mailbot.defaults import init_folder
from servers import SmtpServer, point_config_at, unique_user
from test_e2e_mailbox import _demo

OFFICE = "xjxzwgkb@163.com"
IMAP_PW = "ImapCode-7fK2qLm9"
SMTP_PW = "SmtpCode-R4tVx8Np"        # a 163 客户端授权码 looks like this: 16 ASCII characters
TODAY = "2022-09-30"


class EchoingSmtpServer(SmtpServer):
    """Requires AUTH and refuses every login, quoting the client's words back in the 535 reply:
    the AUTH PLAIN initial response, then (LOGIN) the base64 password and its decoded text."""

    plain_seen = ""

    async def handle_AUTH(self, server, session, envelope, args):
        mechanism = args[0].upper()
        if mechanism == "PLAIN":
            self.plain_seen = args[1] if len(args) > 1 else ""
            return f"535 5.7.8 Authentication failed: AUTH PLAIN {self.plain_seen} rejected"
        if mechanism == "LOGIN":
            password = await server.challenge_auth("Password:")
            if not isinstance(password, bytes):
                return None
            b64 = base64.b64encode(password).decode()
            return (f"535 5.7.8 Login refused for {b64} ({password.decode(errors='replace')!r}); "
                    f"earlier PLAIN {self.plain_seen}")
        return "504 5.5.4 Unrecognized authentication type"


def secret_forms(user: str, password: str) -> list[bytes]:
    """What must never be found: the password and its base64 in every AUTH spelling, each also
    in the three alignments it has inside a longer base64 text."""
    forms = {password.encode()}
    for text in (password, f"\0{user}\0{password}", f"{user}\0{password}", f"{user}\0{user}\0{password}"):
        forms.add(base64.b64encode(text.encode()))
        forms.add(repr(text.encode())[2:-1].encode())
    for k in range(3):
        full = base64.b64encode(b"\0" * k + password.encode()).rstrip(b"=")
        forms.add(full[(8 * k + 5) // 6:(8 * (k + len(password))) // 6])
    return sorted(forms)


def assert_clean(where: str, data: bytes | str) -> None:
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    for user, password in ((OFFICE, SMTP_PW), (OFFICE, IMAP_PW)):
        for form in secret_forms(user, password):
            assert form not in data, f"{where} holds a form of a password: {form!r}"


@pytest.fixture
def echoing_smtp():
    srv = EchoingSmtpServer(username=OFFICE, password="the-right-one-is-never-sent")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def office(tmp_path, dovecot, echoing_smtp):
    user = unique_user("sec")
    dovecot.add_user(user, IMAP_PW)
    root = tmp_path / "office"
    init_folder(root, demo_keys=True)
    point_config_at(root, imap_port=dovecot.port, user=user, password_env="MB_SEC_IMAP",
                    smtp_port=echoing_smtp.port, smtp_user=OFFICE, smtp_password_env="MB_SEC_SMTP")
    for m in _demo(root)[:6]:
        dovecot.append(user, m.raw, internaldate=m.arrival)
    return root


def mailbot(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MB_SEC_IMAP=IMAP_PW, MB_SEC_SMTP=SMTP_PW)
    return subprocess.run([sys.executable, "-m", "mailbot", "--config", str(root / "config.ini"), "--today", TODAY,
                           *args], env=env, capture_output=True, text=True, timeout=300)


def test_an_echoing_smtp_server_leaks_no_password_anywhere(office, echoing_smtp):
    runs = {"poll": mailbot(office, "poll"), "-v poll": mailbot(office, "-v", "poll"),
            "status": mailbot(office, "status"), "doctor": mailbot(office, "doctor"),
            "-v digest": mailbot(office, "-v", "digest")}
    assert runs["poll"].returncode == 0, runs["poll"].stderr
    assert runs["doctor"].returncode == 1                     # the SMTP login fails, and doctor says so
    assert "发信" in runs["doctor"].stdout and "登录失败" in runs["doctor"].stdout

    # the server did echo our secrets, so there was something to leak
    mechanisms = {m for m, _, _ in echoing_smtp.auth_attempts} | {"PLAIN" if echoing_smtp.plain_seen else ""}
    assert "PLAIN" in mechanisms
    assert base64.b64decode(echoing_smtp.plain_seen).endswith(SMTP_PW.encode())

    for name, r in runs.items():
        assert_clean(f"stdout of mailbot {name}", r.stdout)
        assert_clean(f"stderr of mailbot {name}", r.stderr)
        assert "Traceback" not in r.stderr, (name, r.stderr)
    assert "DEBUG" in runs["-v poll"].stderr                 # the -v trace did run

    db_path = office / "var" / "mailbot.sqlite3"
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    errors = [r["last_error"] for r in db.execute("SELECT last_error FROM outgoing WHERE last_error IS NOT NULL")]
    events = [r["text"] for r in db.execute("SELECT text FROM events WHERE job='send'")]
    assert errors and events, "the refused login must be recorded"
    assert any("***" in e for e in errors + events)           # recorded, with the secret masked
    assert any("登录失败" in e for e in errors)

    # every queued mail, decoded part by part: the digest reports the send error, masked
    digests = [r["raw"] for r in db.execute("SELECT raw FROM outgoing WHERE purpose='digest'")]
    assert digests, "the digest is queued (sending it fails too)"
    for (raw,) in db.execute("SELECT raw FROM outgoing"):
        msg = email.message_from_bytes(raw, policy=policy.default)
        for part in msg.walk():
            if part.is_multipart():
                continue
            content = part.get_content()
            assert_clean(f"outgoing part {part.get_content_type()}", content if isinstance(content, bytes)
                         else content.encode("utf-8"))
        assert_clean("outgoing raw", raw)
    digest_text = "".join(p.get_content() for p in email.message_from_bytes(digests[0], policy=policy.default).walk()
                          if p.get_content_type() == "text/plain")
    assert "***" in digest_text and "登录失败" in digest_text
    db.close()

    for f in sorted(db_path.parent.glob("mailbot.sqlite3*")):       # the ledger, its WAL and shm, byte for byte
        assert_clean(f.name, f.read_bytes())
    log_text = (office / "var" / "mailbot.log").read_bytes()
    assert b"Login refused for ***" in log_text                      # the refusal is logged …
    assert_clean("log file", log_text)                               # … without the secret


# --- the redaction itself -------------------------------------------------------------------

@pytest.fixture
def learned():
    redact.forget()
    redact.learn(OFFICE, SMTP_PW)
    yield
    redact.forget()


def test_every_spelling_is_masked_and_ordinary_text_is_not(learned):
    for form in secret_forms(OFFICE, SMTP_PW):
        text = f"server said: 535 {form.decode()} (bad)"
        assert form.decode() not in redact.redact(text)
        assert redact.redact(text).startswith("server said: 535 ")
    wrapped = base64.b64encode(f"AUTH data for you: {SMTP_PW}, take care".encode()).decode()
    masked = redact.redact(wrapped)                  # base64 of a longer text holding the password
    assert "***" in masked and masked[:12] == wrapped[:12]
    assert redact.redact(f"IMAP LOGIN {OFFICE} \"{SMTP_PW}\"") == f"IMAP LOGIN {OFFICE} \"***\""
    assert redact.redact("收取新邮件 3 封：登记报送 2 封；待发回执 2 封。") == "收取新邮件 3 封：登记报送 2 封；待发回执 2 封。"
    assert redact.redact(f"user {OFFICE}") == f"user {OFFICE}"       # the login name is not a secret


def test_log_filter_masks_message_arguments_and_traceback(learned, tmp_path):
    logger = logging.getLogger("mailbot.test_secrets")
    handler = logging.FileHandler(tmp_path / "t.log", encoding="utf-8")
    redact.redact_handlers([handler])
    logger.addHandler(handler)
    try:
        plain_b64 = base64.b64encode(f"\0{OFFICE}\0{SMTP_PW}".encode()).decode()
        logger.warning("server echoed %s", plain_b64)
        try:
            raise RuntimeError(f"login {SMTP_PW!r} refused")
        except RuntimeError:
            logger.exception("it failed")
    finally:
        logger.removeHandler(handler)
        handler.close()
    text = (tmp_path / "t.log").read_text(encoding="utf-8")
    assert "server echoed ***" in text and "RuntimeError: login '***' refused" in text
    assert_clean("log", text)


def test_a_plaintext_password_key_is_learned_from_config(tmp_path):
    redact.forget()
    init_folder(tmp_path)
    cfg = tmp_path / "config.ini"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        "backend = outbox\npath = var/outbox", f"host = smtp.163.com\nport = 465\nsecurity = ssl\nusername = {OFFICE}\npassword = {SMTP_PW}"),
        encoding="utf-8")
    from mailbot.config import load_config
    load_config(cfg)
    try:
        assert redact.redact(base64.b64encode(f"\0{OFFICE}\0{SMTP_PW}".encode()).decode()) == "***"
    finally:
        redact.forget()


BUGGY_POLL = r"""
import base64, os, sys
import mailbot.office.pipeline
def poll(app, **_):
    secret = os.environ["MB_SEC_SMTP"]
    raise RuntimeError("library echoed AUTH PLAIN " + base64.b64encode(("\0%s\0%s" % (sys.argv[-2], secret)).encode()).decode())
mailbot.office.pipeline.poll = poll
from mailbot.cli import main
sys.exit(main(sys.argv[1:-2] + [sys.argv[-1]]))
"""


def test_an_unexpected_error_is_shown_with_its_traceback_redacted(tmp_path):
    """A bug whose message carries the password: the CLI prints the traceback (for the
    maintainer) and a Chinese line, both without the secret; so does the log file."""
    root = tmp_path / "office"
    init_folder(root)
    cfg = root / "config.ini"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        "from_address = xjxzwgkb@163.com", f"from_address = {OFFICE}\nusername = {OFFICE}\npassword_env = MB_SEC_SMTP"),
        encoding="utf-8")
    r = subprocess.run([sys.executable, "-c", BUGGY_POLL, "--config", str(cfg), OFFICE, "poll"],
                       env=dict(os.environ, MB_SEC_SMTP=SMTP_PW), capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert "RuntimeError: library echoed AUTH PLAIN ***" in r.stderr and "内部出错" in r.stderr
    assert_clean("stderr", r.stderr)
    log = (root / "var" / "mailbot.log").read_text(encoding="utf-8")
    assert "library echoed AUTH PLAIN ***" in log
    assert_clean("log", log)
