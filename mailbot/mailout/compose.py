"""Render outgoing mail from templates/ and queue it in the ledger with a fixed Message-ID.

Every template set is three files: NAME.subject.j2 (one line), NAME.txt.j2, NAME.html.j2.
Queueing before sending means a crash never forgets a mail, and the dedupe key means the
same mail (this ack, this reminder on this day) is never queued twice.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime
from email.parser import BytesHeaderParser
from email import encoders
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any, Iterable, Sequence

import jinja2

from mailbot import cndate
from mailbot.config import Config
from mailbot.mailin.mimetree import header_block
from mailbot.store.ledger import Ledger

_PLAIN = re.compile(r"[!-~]+(?: [!-~]+)*\Z")     # printable ASCII words, single spaces


class _Wire(Compat32):
    """compat32 with CRLF, writing a short plain-ASCII header as it is: what email.header
    would fold it to anyway (checked on 200,000 random values), without building a Header
    object for each of the ~16 headers of a 回执 (a third of the cost of building one)."""

    def _fold(self, name, value, sanitize):
        if isinstance(value, str) and len(name) + 2 + len(value) <= 78 and _PLAIN.match(value):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


_WIRE = _Wire(linesep="\r\n")

AUTO_REPLIED = "auto-replied"      # acks: answers to a mail (RFC 3834)
AUTO_GENERATED = "auto-generated"  # reminders, review results, digests


class Templates:
    """The office's templates/ first; a template set it lacks (added by a newer mailbot than the
    one that ran `mailbot init`) comes from the shipped ones."""

    def __init__(self, folder: Path):
        from mailbot.defaults import default_dir
        self.folder = Path(folder)
        loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(self.folder)),
                                      jinja2.FileSystemLoader(str(default_dir("templates")))])
        self.text_env = jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined,
                                           keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
        self.html_env = jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined,
                                           autoescape=True, trim_blocks=True, lstrip_blocks=True)
        for env in (self.text_env, self.html_env):
            env.filters["cn_date"] = cndate.template_date
            env.filters["weekday"] = cndate.weekday

    def render(self, name: str, **context: Any) -> tuple[str, str, str]:
        """(subject, text, html) for template set NAME."""
        subject = " ".join(self.text_env.get_template(f"{name}.subject.j2").render(**context).split())
        subject = "".join(c for c in subject if c.isprintable())   # no bidi or other controls from mail text
        text = self.text_env.get_template(f"{name}.txt.j2").render(**context)
        html = self.html_env.get_template(f"{name}.html.j2").render(**context)
        return subject, text, html


# A message id we are willing to copy from an incoming mail into In-Reply-To/References: plain
# printable ASCII <local@domain>, no encoded-word opener (a header parser would decode
# "=?utf-8?q?…=0D=0A…?=" into real line breaks), bounded length. Anything else is dropped.
_MSG_ID = re.compile(r"<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,160}@[A-Za-z0-9.\[\]:_-]{1,100}>")


def msg_ids(value: str) -> list[str]:
    """The safe message ids in an incoming Message-ID/References value (see _MSG_ID)."""
    return [m for m in _MSG_ID.findall(value or "") if "=?" not in m and "?=" not in m]


class HeaderInjection(Exception):
    """The mail we built does not have exactly the headers we meant to give it."""


def message_id_for(dedupe_key: str, domain: str) -> str:
    """A Message-ID derived from what the mail is, so the same mail always has the same id."""
    digest = hashlib.sha256(dedupe_key.encode("utf-8")).hexdigest()[:24]
    return f"<mailbot.{digest}@{domain}>"


def build(config: Config, *, to: Sequence[str], subject: str, text: str, html: str,
          auto_submitted: str, message_id: str, cc: Sequence[str] = (),
          in_reply_to: str | None = None, references: str | None = None,
          attachments: Iterable[tuple[str, bytes, str]] = (), when: datetime | None = None) -> bytes:
    for name, value in (("Subject", subject), ("In-Reply-To", in_reply_to or ""), ("References", references or ""),
                        *(("To", a) for a in (*to, *cc))):
        if any(c in value for c in "\r\n\x00") or any(not c.isprintable() for c in value):
            raise HeaderInjection(f"{name} carries control characters")
    for ident in (in_reply_to or "").split() + (references or "").split():
        if msg_ids(ident) != [ident]:
            raise HeaderInjection(f"not a plain message id: {ident[:80]!r}")
    # email.mime with the compat32 policy: the same wire format as EmailMessage/policy.default
    # (UTF-8 bodies in base64, RFC 2047 subject and sender name, RFC 2231 file names) at a
    # fifth of the cost (2.4 → 0.5 ms a 回执), which an ingest of a thousand mails feels
    # boundaries of our own (every part is base64, which never holds "-"): the generator would
    # otherwise draw random ones and compile a regex for each
    tag = hashlib.sha256(message_id.encode("utf-8", "surrogateescape")).hexdigest()[:20]
    body = MIMEMultipart("alternative", boundary=f"----=_alt_{tag}")
    body.attach(_part(MIMEText(text, "plain", "utf-8")))
    body.attach(_part(MIMEText(html, "html", "utf-8")))
    msg = body
    files = list(attachments)
    if files:
        msg = MIMEMultipart("mixed", boundary=f"----=_mix_{tag}")
        msg.attach(_part(body))
        for filename, data, mimetype in files:
            maintype, _, subtype = mimetype.partition("/")
            part = MIMEBase(maintype, subtype or "octet-stream")
            part.set_payload(data)
            encoders.encode_base64(part)
            part.add_header("Content-Disposition", "attachment",
                            filename=filename if filename.isascii() else ("utf-8", "", filename))
            msg.attach(_part(part))
    msg["From"] = formataddr((config.smtp.get("from_name") or config.office_name, config.from_address), "utf-8")
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = Header(subject, "utf-8") if not subject.isascii() else subject
    msg["Date"] = format_datetime((when or datetime.now()).astimezone())
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = references or in_reply_to
    msg["Auto-Submitted"] = auto_submitted
    msg["X-Auto-Response-Suppress"] = "All"     # ask Exchange/Outlook not to auto-answer us
    msg["X-Mailer"] = "mailbot"
    for name in ("MIME-Version", "Content-Type"):   # after ours, where EmailMessage put them
        value = msg[name]
        del msg[name]
        msg[name] = value
    raw = msg.as_bytes(policy=_WIRE)   # SMTP wants CRLF on the wire
    _check_headers(raw, [k for k, _ in msg.items()])
    return raw


def _part(part: MIMEBase) -> MIMEBase:
    del part["MIME-Version"]           # once, at the top (email.mime puts it on every part)
    return part


def _check_headers(raw: bytes, meant: list[str]) -> None:
    """Parse what we built back: exactly the headers we set, nothing smuggled in by a value."""
    got = [k for k, _ in BytesHeaderParser().parsebytes(header_block(raw)).items()]
    if [k.lower() for k in got] != [k.lower() for k in meant]:
        raise HeaderInjection(f"headers {got} differ from {meant}")


def queue(ledger: Ledger, config: Config, *, purpose: str, dedupe_key: str, to: Sequence[str],
          subject: str, text: str, html: str, auto_submitted: str, cc: Sequence[str] = (),
          unit: str | None = None, answers: int | None = None, in_reply_to: str | None = None,
          references: str | None = None,
          attachments: Iterable[tuple[str, bytes, str]] = (), campaign: str | None = None) -> bool:
    """Queue one mail unless a mail with this dedupe_key was queued before. Returns True if new.
    CAMPAIGN: the collection it is about (a reply to it is routed there); None: all (the digest)."""
    if ledger.is_queued(dedupe_key):
        return False
    domain = config.from_address.rpartition("@")[2] or "mailbot.local"
    mid = message_id_for(dedupe_key, domain)
    raw = build(config, to=to, cc=cc, subject=subject, text=text, html=html,
                auto_submitted=auto_submitted, message_id=mid, in_reply_to=in_reply_to, references=references,
                attachments=attachments)
    return ledger.queue(purpose=purpose, dedupe_key=dedupe_key, message_id=mid,
                        sender=config.from_address, recipients=[*to, *cc], subject=subject, raw=raw,
                        unit=unit, answers=answers, campaign=campaign)


