"""Passwords never leave the process: every form a known secret can take becomes "***".

Once config.ini is loaded, `learn()` is told the IMAP and SMTP logins (the env var named by
`password_env`, or a plaintext `password` key). From each it derives the forms the secret can
appear in when a server, a library or an exception echoes it: the text itself, its quoted and
escaped spellings (IMAP LOGIN quoting, `repr()` of str and bytes, JSON, percent-encoding), and
base64 — AUTH PLAIN (`\\0user\\0pass`, `user\\0pass`), AUTH LOGIN (the password alone) and, more
generally, the part of a base64 text that encodes the password wherever it sits in what was
encoded (three alignments). CRAM-MD5 sends a keyed hash, which cannot be turned back: ignored.

`redact(text)` is applied at the choke points: the log handlers (`RedactFilter`, tracebacks
included), `Ledger.event` and the outgoing queue's `last_error` (hence the digest and
`status`), `doctor`'s lines and the CLI's top-level error printing.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import re
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_FORM = 6            # shorter spellings (a 1–5 character "password", base64 of it) would mask ordinary
                        # words everywhere; such a password is guessed in seconds anyway

_forms: set[str] = set()
_pattern: re.Pattern[str] | None = None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _base64_cores(secret: bytes) -> list[str]:
    """The base64 characters that encode only SECRET's bytes, for each of the three offsets it
    can have inside a longer encoded text (characters shared with neighbouring bytes differ)."""
    cores = []
    for offset in range(3):
        encoded = _b64(b"\0" * offset + secret).rstrip("=")
        first = -(-8 * offset // 6)                          # first char made of secret bits only
        last = (8 * (offset + len(secret))) // 6             # one past the last such char
        core = encoded[first:last]
        if len(core) >= MIN_FORM:
            cores.append(core)
    return cores


def forms_of(username: str | None, password: str) -> set[str]:
    """Every spelling of PASSWORD (logged in as USERNAME) worth hiding."""
    user = username or ""
    texts = {password, f"\0{user}\0{password}", f"{user}\0{password}", f"{user}\0{user}\0{password}"}
    found: set[str] = set()
    for text in texts:
        raw = text.encode("utf-8", "surrogatepass")
        found |= {text, repr(text)[1:-1], repr(raw)[2:-1], json.dumps(text)[1:-1],
                  json.dumps(text, ensure_ascii=False)[1:-1], quote(text, safe=""), quote_plus(text, safe=""),
                  _b64(raw), _b64(raw).rstrip("=")}
    found.add(password.replace("\\", "\\\\").replace('"', '\\"'))          # IMAP quoted string
    found.update(_base64_cores(password.encode("utf-8", "surrogatepass")))
    return {f for f in found if len(f) >= MIN_FORM and f != user}


def learn(username: str | None, password: str | None) -> None:
    """Remember a secret (no-op for an empty one)."""
    global _pattern
    if not password:
        return
    _forms.update(forms_of(username, password))
    _pattern = re.compile("|".join(re.escape(f) for f in sorted(_forms, key=len, reverse=True)))


def learn_config(config) -> None:
    """The IMAP and SMTP secrets of a loaded config (env var and plaintext key, whichever exist)."""
    for section in (config.imap, config.smtp):
        user = section.get("username", "")
        env = section.get("password_env", "").strip()
        learn(user, os.environ.get(env) if env else None)
        learn(user, section.get("password", ""))


def forget() -> None:
    """Drop every learned secret (tests)."""
    global _pattern
    _forms.clear()
    _pattern = None


def redact(text: str) -> str:
    """TEXT with every learned secret form replaced by ***."""
    if _pattern is None or not text:
        return text
    return _pattern.sub(MASK, text)


class RedactFilter(logging.Filter):
    """On a handler: the record's message, arguments and traceback, redacted before any output."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _pattern is None:
            return True
        record.msg, record.args = redact(record.getMessage()), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def redact_handlers(handlers) -> None:
    """Give each handler a RedactFilter (once)."""
    for h in handlers:
        if not any(isinstance(f, RedactFilter) for f in h.filters):
            h.addFilter(RedactFilter())
