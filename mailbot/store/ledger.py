"""The ledger: SQLite, the single source of truth. Every read and write of it lives here.

A row for every message seen (skipped ones too, with the reason), every attachment, every
finding, every outgoing mail (queued before it is sent), every review decision, and the
hand-kept workbook columns. Times are stored as ISO-8601 strings with offsets.
"""
from __future__ import annotations

import json
import re
import sqlite3
import time
from contextlib import contextmanager
from functools import cached_property
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from mailbot.store.modes import private_file
from mailbot.redact import redact
from mailbot.vocab import Outcome, Severity, Status

SCHEMA_VERSION = 4

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS source_state (
    source TEXT PRIMARY KEY, uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL, uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL,
    received_at TEXT NOT NULL,           -- IMAP INTERNALDATE: what "received" means
    size INTEGER NOT NULL,
    sha256 TEXT,                         -- of the raw bytes; NULL when not fetched (over the cap)
    message_id TEXT, subject TEXT, from_addr TEXT, from_name TEXT, date_header TEXT,
    status TEXT NOT NULL,                -- vocab.Status: filed | supplement | unconfirmed | unmatched | automatic
                                         -- | oversize | unparsable | own | noattach | resynced | …
    reason TEXT,                         -- Chinese: why it was skipped / held
    unit TEXT, kind TEXT, version INTEGER,
    duplicate_of INTEGER,                -- same files as an earlier message of this unit and kind
    supplement_of INTEGER,               -- status supplement: the submission it was attached to (v3)
    campaign TEXT,                       -- the collection it was routed to (campaign.id; v4); NULL: 待分拣
    outcome TEXT,                        -- 待审核 | 需修改 | 需人工审核 for a submission
    facts_json TEXT,
    problems_json TEXT,
    raw_path TEXT,                       -- relative to the archive root
    recorded_at TEXT NOT NULL,
    UNIQUE (source, uidvalidity, uid));
CREATE INDEX IF NOT EXISTS messages_unit ON messages (unit, kind, version);
CREATE INDEX IF NOT EXISTS messages_mid ON messages (message_id);
CREATE INDEX IF NOT EXISTS messages_status ON messages (status);
CREATE INDEX IF NOT EXISTS messages_sha ON messages (sha256);
CREATE INDEX IF NOT EXISTS messages_from_addr_day ON messages (from_addr, received_at);   -- daily filing quotas
CREATE INDEX IF NOT EXISTS messages_unit_day ON messages (unit, received_at);
CREATE TABLE IF NOT EXISTS attachments (
    id INTEGER PRIMARY KEY,
    message INTEGER NOT NULL REFERENCES messages(id),
    seq INTEGER NOT NULL,
    filename TEXT, content_type TEXT, size INTEGER NOT NULL, sha256 TEXT NOT NULL,
    path TEXT,                           -- relative to the archive root
    doc_kind TEXT, outcome TEXT, reason TEXT,
    UNIQUE (message, seq));
CREATE INDEX IF NOT EXISTS attachments_sha ON attachments (sha256);
CREATE TABLE IF NOT EXISTS findings (
    id INTEGER PRIMARY KEY,
    message INTEGER NOT NULL REFERENCES messages(id),
    attachment INTEGER REFERENCES attachments(id),
    rule TEXT NOT NULL, severity TEXT NOT NULL, item TEXT NOT NULL,
    text TEXT NOT NULL, clause TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS findings_message ON findings (message);         -- a mail's findings (each 回执)
CREATE TABLE IF NOT EXISTS outgoing (
    id INTEGER PRIMARY KEY,
    purpose TEXT NOT NULL,               -- ack | reminder | review | digest | announce
    dedupe_key TEXT NOT NULL UNIQUE,     -- what makes it "the same mail": never queued twice
    message_id TEXT NOT NULL UNIQUE,     -- fixed before sending: a resend is the same message
    unit TEXT, answers INTEGER REFERENCES messages(id),
    campaign TEXT,                       -- the collection it is about (v4); NULL: all of them (the digest)
    sender TEXT NOT NULL, recipients TEXT NOT NULL,   -- JSON list
    subject TEXT NOT NULL, raw BLOB NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',            -- queued | sent | failed
    attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
    queued_at TEXT NOT NULL, next_attempt_at TEXT, sent_at TEXT);
CREATE INDEX IF NOT EXISTS outgoing_status ON outgoing (status);
CREATE INDEX IF NOT EXISTS outgoing_mid ON outgoing (message_id);          -- a reply's campaign (route.py)
CREATE INDEX IF NOT EXISTS outgoing_sent ON outgoing (status, sent_at);   -- the day's sending budget
CREATE INDEX IF NOT EXISTS outgoing_to ON outgoing (recipients, purpose);  -- the reply-storm cap (acks_to_sender_on)
CREATE INDEX IF NOT EXISTS outgoing_purpose ON outgoing (purpose, unit);   -- 催报 per unit, asked for every 回执
CREATE TABLE IF NOT EXISTS reviews (
    id INTEGER PRIMARY KEY,
    unit TEXT NOT NULL, kind TEXT NOT NULL, message INTEGER REFERENCES messages(id),
    decision TEXT NOT NULL,              -- 已备案 | 退回修改
    reason TEXT, via TEXT NOT NULL,      -- 命令行 | 跟踪表
    decided_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hand_kept (
    unit TEXT NOT NULL, column TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (unit, column));
CREATE TABLE IF NOT EXISTS trust (   -- who really sent it (authenticity.py), one row per assessed message
    message INTEGER PRIMARY KEY REFERENCES messages(id),
    level TEXT NOT NULL,                 -- pass | none | fail | pending | accepted (by the office)
    reason TEXT,                         -- Chinese
    evidence_json TEXT,                  -- English lines: which header / signature said what
    checked_at TEXT NOT NULL,
    retry_until TEXT);                   -- pending: decide by the policy after this time
CREATE INDEX IF NOT EXISTS trust_level ON trust (level);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, job TEXT NOT NULL,
    level TEXT NOT NULL,                 -- ok | error | warning
    text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS announcements (   -- `mailbot announce`: the kickoff mail each unit got, once per campaign
    campaign TEXT NOT NULL, unit TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,     -- ours, fixed when queued: a reply's In-Reply-To names the campaign
    outgoing INTEGER NOT NULL REFERENCES outgoing(id),
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (campaign, unit));
CREATE TABLE IF NOT EXISTS retired_files (   -- a held mail's archived copies after it was filed anew
    path TEXT PRIMARY KEY,               -- relative to the archive root; still on disk, still evidence
    sha256 TEXT NOT NULL,
    message INTEGER NOT NULL REFERENCES messages(id));
"""


# Tables whose changes the workbook shows: a trigger per table and statement counts every change
# in meta 'generation', so `jobs.workbook()` can tell "nothing changed" without reading the ledger.
COUNTED_TABLES = ("messages", "attachments", "findings", "outgoing", "reviews", "hand_kept", "trust")

# Upgrades, one step per version: step N takes a ledger written at version N-1 to N. New tables
# need no step (SCHEMA creates what is missing, IF NOT EXISTS); a step carries what SCHEMA cannot
# say — new columns, moved data. tests/test_ledger_migrations.py opens a v1 ledger written by the
# release before and checks that nothing is lost.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: ("INSERT OR IGNORE INTO meta VALUES ('generation', '0')",),   # v2: trust, retired_files, counting triggers
    3: ("ALTER TABLE messages ADD COLUMN supplement_of INTEGER",),     # v3: supplements (补充材料)
    # v4: several campaigns in one mailbox; rows before it belong to the first configured one
    # (Ledger.adopt_legacy_rows, which knows its id)
    4: ("ALTER TABLE messages ADD COLUMN campaign TEXT", "ALTER TABLE outgoing ADD COLUMN campaign TEXT"),
}


def _counting_triggers() -> list[str]:
    return [f"CREATE TRIGGER IF NOT EXISTS count_{t}_{op.lower()} AFTER {op} ON {t} BEGIN "
            f"UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'; END"
            for t in COUNTED_TABLES for op in ("INSERT", "UPDATE", "DELETE")]


_SCOPE = "::"


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class Message:
    id: int
    source: str
    uid: int
    received_at: datetime
    size: int
    sha256: str | None
    message_id: str | None
    subject: str
    from_addr: str
    from_name: str
    status: Status
    reason: str | None
    unit: str | None
    kind: str | None
    version: int | None
    duplicate_of: int | None
    outcome: Outcome | None
    facts_json: str = field(repr=False)           # decoded on first use: most reads never look
    problems_json: str = field(repr=False)
    raw_path: str | None = None
    supplement_of: int | None = None
    campaign: str | None = None

    @cached_property
    def facts(self) -> dict[str, Any]:
        return json.loads(self.facts_json or "{}")

    @cached_property
    def problems(self) -> list[str]:
        return json.loads(self.problems_json or "[]")

    @classmethod
    def from_row(cls, r: sqlite3.Row) -> "Message":
        return cls(id=r["id"], source=r["source"], uid=r["uid"],
                   received_at=datetime.fromisoformat(r["received_at"]), size=r["size"],
                   sha256=r["sha256"], message_id=r["message_id"], subject=r["subject"] or "",
                   from_addr=r["from_addr"] or "", from_name=r["from_name"] or "",
                   status=Status(r["status"]), reason=r["reason"], unit=r["unit"], kind=r["kind"],
                   version=r["version"], duplicate_of=r["duplicate_of"],
                   outcome=Outcome(r["outcome"]) if r["outcome"] else None,
                   facts_json=r["facts_json"], problems_json=r["problems_json"], raw_path=r["raw_path"],
                   supplement_of=r["supplement_of"], campaign=r["campaign"])


def _typed(cls: type, r: sqlite3.Row) -> Any:
    """A row as CLS, column for field."""
    return cls(**{f.name: r[f.name] for f in fields(cls)})


@dataclass(frozen=True, slots=True)
class MailRecord:
    """A message as the workbook's 提交记录 lists it (no facts or problems: read every compile)."""
    id: int
    received_at: datetime
    size: int
    sha256: str | None
    subject: str
    from_addr: str
    from_name: str
    status: Status
    reason: str | None
    unit: str | None
    kind: str | None
    version: int | None
    duplicate_of: int | None
    outcome: str | None
    raw_path: str | None


@dataclass(frozen=True)
class AttachmentRecord:
    """A file that came with a message (attachments)."""
    id: int
    message: int
    seq: int
    filename: str | None
    content_type: str | None
    size: int
    sha256: str
    path: str | None            # relative to the archive root; None when not stored
    doc_kind: str | None
    outcome: str | None
    reason: str | None


@dataclass(frozen=True)
class FindingRecord:
    """One check result on a message (findings); `attachment` is None for the mail as a whole."""
    id: int
    message: int
    attachment: int | None
    rule: str
    severity: Severity
    item: str
    text: str
    clause: str

    @classmethod
    def from_row(cls, r: sqlite3.Row) -> "FindingRecord":
        return cls(r["id"], r["message"], r["attachment"], r["rule"], Severity(r["severity"]),
                   r["item"], r["text"], r["clause"])


@dataclass(frozen=True)
class WorkbookFinding:
    """A finding with what the workbook's 检查明细 shows beside it: its message and file."""
    id: int
    message: int
    severity: Severity
    item: str
    text: str
    clause: str
    unit: str | None
    kind: str | None
    version: int | None
    received_at: datetime
    filename: str | None


@dataclass(frozen=True)
class OutgoingMail:
    """A mail we queued (outgoing): status queued | sent | failed."""
    id: int
    purpose: str
    dedupe_key: str
    message_id: str
    unit: str | None
    answers: int | None
    sender: str
    recipients: list[str]
    subject: str
    raw: bytes
    status: str
    attempts: int
    last_error: str | None
    queued_at: str
    next_attempt_at: str | None
    sent_at: str | None
    campaign: str | None = None          # the collection it is about; None: all (the digest)

    @classmethod
    def from_row(cls, r: sqlite3.Row) -> "OutgoingMail":
        return cls(**{**{f.name: r[f.name] for f in fields(cls)}, "recipients": json.loads(r["recipients"])})


@dataclass(frozen=True)
class SentMail:
    """A mail the server accepted (outgoing, status sent): when, what for, to how many."""
    sent_at: datetime
    purpose: str
    recipients: int


@dataclass(frozen=True)
class Review:
    """The office's decision on a unit's plan (reviews): 已备案 | 退回修改, via 命令行 | 跟踪表."""
    id: int
    unit: str
    kind: str
    message: int | None
    decision: str
    reason: str | None
    via: str
    decided_at: str


@dataclass(frozen=True)
class Event:
    """A job's outcome for the health report (events): level ok | error | warning."""
    id: int
    at: str
    job: str
    level: str
    text: str


@dataclass(frozen=True)
class TrustRecord:
    """Who really sent a message (trust): level pass | none | fail | pending | accepted."""
    message: int
    level: str
    reason: str | None
    evidence: list[str]
    checked_at: str
    retry_until: str | None

    @classmethod
    def from_row(cls, r: sqlite3.Row) -> "TrustRecord":
        return cls(r["message"], r["level"], r["reason"], json.loads(r["evidence_json"] or "[]"),
                   r["checked_at"], r["retry_until"])


@dataclass(frozen=True)
class Announcement:
    """The kickoff mail of CAMPAIGN to UNIT (announcements), with where its outgoing mail stands:
    status queued | sent | failed."""
    campaign: str
    unit: str
    message_id: str
    outgoing: int
    recorded_at: str
    status: str
    sent_at: str | None
    last_error: str | None


@dataclass(frozen=True)
class RecordedFile:
    """An archive file the ledger names: what = raw | attachment | retired."""
    path: str
    sha256: str
    message: int
    what: str


class LedgerError(Exception):
    pass


class Ledger:
    """One SQLite file. Use `with ledger.transaction():` for writes that must land together."""

    BUSY_TIMEOUT = 30.0   # seconds to wait for another program's lock before "database is locked"

    def __init__(self, path: Path):
        self.path = Path(path)
        for p in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):   # SQLite gives -wal/-shm
            private_file(p, create=p == self.path)                                   # the file's own mode
        self.db = sqlite3.connect(str(self.path), timeout=self.BUSY_TIMEOUT, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self._wal()
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self._depth = 0
        self._hooks: list[tuple[Callable[[], None], Callable[[], None]]] = []   # before_commit
        self._filed_names: set[str] | None = None     # filed_unit_names, kept between calls
        self._filed_names_version = -1
        self._migrate()

    def _wal(self) -> None:
        """Switch to WAL. SQLite answers "database is locked" at once (no busy wait) when two
        processes open a new ledger together, so retry for a while."""
        for attempt in range(150):
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 149:
                    raise
                time.sleep(0.2)

    def close(self) -> None:
        self.db.close()

    def _migrate(self) -> None:
        with self.transaction():
            for stmt in re.sub(r"--[^\n]*", "", SCHEMA).split(";"):
                if stmt.strip():
                    self.db.execute(stmt)
            row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            version = SCHEMA_VERSION if row is None else int(row[0])
            if version > SCHEMA_VERSION:
                raise LedgerError(f"台账 {self.path} 由更新版本的 mailbot 创建（结构版本 {row[0]}），"
                                  f"请升级 mailbot 后再运行。")
            # a new ledger is born at the current version (SCHEMA has every column): no step runs
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for stmt in MIGRATIONS[step]:
                    self.db.execute(stmt)
            self.db.execute("INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET "
                            "value=excluded.value", (str(SCHEMA_VERSION),))
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('generation', '0')")
            for stmt in _counting_triggers():
                self.db.execute(stmt)

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def before_commit(self, flush: Callable[[], None], discard: Callable[[], None]) -> None:
        """FLUSH runs just before the open transaction commits (an exception from it rolls the
        transaction back instead), DISCARD after it rolls back: the archive's files of the
        transaction are on disk before the rows that name them (archive.Staging)."""
        self._hooks.append((flush, discard))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; nested uses join the outer one."""
        if self._depth == 0:
            self.db.execute("BEGIN IMMEDIATE")
        self._depth += 1
        try:
            yield self.db
            if self._depth == 1:
                for flush, _discard in list(self._hooks):
                    flush()
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self.db.execute("ROLLBACK")
                hooks, self._hooks = self._hooks, []
                for _flush, discard in hooks:
                    discard()
            raise
        else:
            self._depth -= 1
            if self._depth == 0:
                self._hooks = []
                self.db.execute("COMMIT")

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self.db.execute(sql, params).fetchall()

    # --- source position -------------------------------------------------------------
    def source_position(self, source: str, uidvalidity: int) -> int:
        """Last UID filed for this source; 0 when new or when UIDVALIDITY changed."""
        row = self.db.execute("SELECT uidvalidity, last_uid FROM source_state WHERE source=?",
                              (source,)).fetchone()
        if row is None or row["uidvalidity"] != uidvalidity:
            return 0
        return row["last_uid"]

    def set_source_position(self, source: str, uidvalidity: int, last_uid: int) -> None:
        self.db.execute(
            "INSERT INTO source_state VALUES (?,?,?) ON CONFLICT(source) DO UPDATE SET "
            "uidvalidity=excluded.uidvalidity, last_uid=excluded.last_uid", (source, uidvalidity, last_uid))

    def seen(self, source: str, uidvalidity: int, uid: int) -> bool:
        return self.db.execute("SELECT 1 FROM messages WHERE source=? AND uidvalidity=? AND uid=?",
                               (source, uidvalidity, uid)).fetchone() is not None

    def filed_at(self, source: str, uidvalidity: int, uid: int) -> bool:
        """Whether the mail at this position was filed (a resynced copy: whether its original was)."""
        row = self.db.execute("SELECT COALESCE(d.status, m.status) FROM messages m LEFT JOIN messages d "
                              "ON m.status='resynced' AND d.id=m.duplicate_of "
                              "WHERE m.source=? AND m.uidvalidity=? AND m.uid=?", (source, uidvalidity, uid)).fetchone()
        return row is not None and row[0] == "filed"

    def last_filed_uids(self, source: str, uidvalidity: int, n: int) -> list[int]:
        """UIDs among the last N recorded at this position whose mail was filed or attached as a
        supplement (they carry $Filed): after a crash between a commit and the keywords."""
        rows = self._rows("SELECT uid, status FROM messages WHERE source=? AND uidvalidity=? ORDER BY uid DESC LIMIT ?",
                          (source, uidvalidity, int(n)))
        return sorted(r[0] for r in rows if r[1] in (Status.FILED, Status.SUPPLEMENT))

    def same_mail_before(self, source: str, uidvalidity: int, sha256: str) -> Message | None:
        """The same bytes recorded from this source under an earlier UIDVALIDITY: after the
        server renumbers a mailbox, every old mail comes back under a new UID."""
        row = self.db.execute("SELECT * FROM messages WHERE source=? AND uidvalidity<>? AND sha256=? "
                              "AND status<>'resynced' ORDER BY id LIMIT 1", (source, uidvalidity, sha256)).fetchone()
        return Message.from_row(row) if row else None

    # --- messages --------------------------------------------------------------------
    def add_message(self, **row: Any) -> int:
        row.setdefault("recorded_at", now_iso())
        for key in ("facts", "problems"):
            if key in row:
                row[f"{key}_json"] = json.dumps(row.pop(key), ensure_ascii=False)
        if isinstance(row.get("received_at"), datetime):
            row["received_at"] = row["received_at"].isoformat(timespec="seconds")
        cols = ",".join(row)
        cur = self.db.execute(f"INSERT INTO messages ({cols}) VALUES ({','.join('?' * len(row))})",
                              tuple(row.values()))
        if self._filed_names is not None and row.get("status") == Status.FILED and row.get("unit"):
            self._filed_names.add(row["unit"])
        return int(cur.lastrowid)

    def update_message(self, mid: int, **fields: Any) -> None:
        for key in ("facts", "problems"):
            if key in fields:
                fields[f"{key}_json"] = json.dumps(fields.pop(key), ensure_ascii=False)
        sets = ",".join(f"{k}=?" for k in fields)
        self.db.execute(f"UPDATE messages SET {sets} WHERE id=?", (*fields.values(), mid))
        if "status" in fields or "unit" in fields:
            self._filed_names = None

    def message(self, mid: int) -> Message:
        return Message.from_row(self.db.execute("SELECT * FROM messages WHERE id=?", (mid,)).fetchone())

    def messages(self, *statuses: Status) -> list[Message]:
        """Every message, or those with one of STATUSES, in arrival order."""
        if not statuses:
            return [Message.from_row(r) for r in self._rows("SELECT * FROM messages ORDER BY received_at, id")]
        return [Message.from_row(r) for r in
                self._rows(f"SELECT * FROM messages WHERE status IN ({','.join('?' * len(statuses))}) "
                           "ORDER BY received_at, id", statuses)]

    def messages_after(self, mid: int) -> list[Message]:
        """Messages recorded after message MID (the digest's "new since last time"), in arrival order."""
        return [Message.from_row(r) for r in
                self._rows("SELECT * FROM messages WHERE id > ? ORDER BY received_at, id", (mid,))]

    def held_counts(self) -> dict[Status, int]:
        """How many messages have each status other than filed."""
        return {Status(r[0]): r[1] for r in self._rows(
            "SELECT status, COUNT(*) FROM messages WHERE status <> ? GROUP BY status ORDER BY status",
            (Status.FILED,))}

    def current_submissions(self, units: Sequence[str] | None = None, *, campaign: str | None = None) -> list[Message]:
        """Filed submissions that are not resends of an earlier one, of every unit or of UNITS
        (the names as the ledger spells them), in arrival order; of CAMPAIGN, or of all."""
        sql = "SELECT * FROM messages WHERE status=? AND duplicate_of IS NULL AND unit IS NOT NULL"
        params: tuple[Any, ...] = (Status.FILED,)
        if campaign is not None:     # a row of no campaign (a ledger before v4, not yet adopted) is anyone's
            sql += " AND (campaign IS NULL OR campaign=?)"
            params += (campaign,)
        if units is not None:
            sql += f" AND unit IN ({','.join('?' * len(units))})"
            params += tuple(units)
        return [Message.from_row(r) for r in self._rows(sql + " ORDER BY received_at, id", params)]

    def filed_unit_names(self) -> frozenset[str]:
        """Every unit name filed mail was recorded under, in any campaign (a renamed unit keeps
        its old rows). Asked for every 回执, so kept in memory: read again after another program
        committed (PRAGMA data_version) or this one changed a message's unit or status. A name
        recorded by a transaction later rolled back may linger; callers read the rows anyway."""
        version = self.db.execute("PRAGMA data_version").fetchone()[0]
        if self._filed_names is None or version != self._filed_names_version:
            self._filed_names = {r[0] for r in self._rows(
                "SELECT DISTINCT unit FROM messages WHERE status=? AND unit IS NOT NULL", (Status.FILED,))}
            self._filed_names_version = version
        return frozenset(self._filed_names)

    def mail_records(self, campaign: str | None = None, *, unrouted: bool = True) -> list[MailRecord]:
        """Every message, newest first, without its facts (the workbook's 提交记录); with CAMPAIGN,
        its messages (and, with UNROUTED, those of no campaign: 待分拣)."""
        where, params = "", ()
        if campaign is not None:
            where = "WHERE campaign=?" + (" OR campaign IS NULL" if unrouted else "")
            params = (campaign,)
        rows = self._rows("SELECT id, received_at, size, sha256, subject, from_addr, from_name, status, reason, "
                          f"unit, kind, version, duplicate_of, outcome, raw_path FROM messages {where} "
                          "ORDER BY received_at DESC, id DESC", params)
        return [MailRecord(r[0], datetime.fromisoformat(r[1]), r[2], r[3], r[4] or "", r[5] or "", r[6] or "",
                           Status(r[7]), *r[8:]) for r in rows]

    def position_of(self, mid: int) -> tuple[str, int, int]:
        """(source, UIDVALIDITY, UID) where message MID was found."""
        r = self.db.execute("SELECT source, uidvalidity, uid FROM messages WHERE id=?", (mid,)).fetchone()
        return (r["source"], r["uidvalidity"], r["uid"])

    def next_version(self, unit: str, kind: str, campaign: str | None = None) -> int:
        row = self.db.execute("SELECT MAX(version) FROM messages WHERE unit=? AND kind=? AND status='filed' "
                              "AND (? IS NULL OR campaign IS NULL OR campaign=?)", (unit, kind, campaign, campaign)).fetchone()
        return (row[0] or 0) + 1

    def add_attachment(self, message: int, seq: int, **row: Any) -> int:
        row = {"message": message, "seq": seq, **row}
        cur = self.db.execute(f"INSERT INTO attachments ({','.join(row)}) VALUES ({','.join('?' * len(row))})",
                              tuple(row.values()))
        return int(cur.lastrowid)

    def clear_files(self, message: int) -> None:
        """Forget a message's attachment and finding rows (before it is filed anew)."""
        self.db.execute("DELETE FROM findings WHERE message=?", (message,))
        self.db.execute("DELETE FROM attachments WHERE message=?", (message,))

    def retire_files(self, message: int) -> None:
        """Keep the archive paths a message names now (raw mail, attachments) on record before
        they are replaced by its new filing: the files stay, and `mailbot verify` checks them."""
        self.db.execute("INSERT OR IGNORE INTO retired_files SELECT raw_path, sha256, id FROM messages "
                        "WHERE id=? AND raw_path IS NOT NULL AND sha256 IS NOT NULL", (message,))
        self.db.execute("INSERT OR IGNORE INTO retired_files SELECT path, sha256, message FROM attachments "
                        "WHERE message=? AND path IS NOT NULL", (message,))

    def recorded_files(self) -> list[RecordedFile]:
        """Every archive file the ledger names, by path."""
        return [_typed(RecordedFile, r) for r in self._rows("SELECT raw_path AS path, sha256, id AS message, 'raw' AS what FROM messages "
                      "WHERE raw_path IS NOT NULL AND sha256 IS NOT NULL "
                      "UNION ALL SELECT path, sha256, message, 'attachment' FROM attachments WHERE path IS NOT NULL "
                      "UNION ALL SELECT path, sha256, message, 'retired' FROM retired_files ORDER BY 1")]

    def attachments(self, message: int) -> list[AttachmentRecord]:
        return [_typed(AttachmentRecord, r) for r in
                self._rows("SELECT * FROM attachments WHERE message=? ORDER BY seq", (message,))]

    def attachments_by_message(self) -> dict[int, list[AttachmentRecord]]:
        """Every attachment, grouped by message (one query: the workbook compile)."""
        by_message: dict[int, list[AttachmentRecord]] = {}
        for r in self._rows("SELECT * FROM attachments ORDER BY message, seq"):
            by_message.setdefault(r["message"], []).append(_typed(AttachmentRecord, r))
        return by_message

    def attachment_sizes(self) -> dict[str, int]:
        """Size of every stored attachment, by archive path (`verify --quick`)."""
        return {r[0]: r[1] for r in self._rows("SELECT path, size FROM attachments WHERE path IS NOT NULL")}

    def filed_with_same_files(self, unit: str, kind: str, digests: Sequence[str],
                              campaign: str | None = None) -> int | None:
        """An earlier filed message of this unit and kind (and campaign) carrying exactly these files."""
        want = sorted(digests)
        if not want:
            return None
        # candidates: the messages holding the first of these files (attachments_sha), not every
        # earlier message of the unit — a poll's cost must not grow with the unit's history
        for r in self._rows("SELECT DISTINCT m.id FROM attachments a JOIN messages m ON m.id = a.message "
                            "WHERE a.sha256=? AND m.unit=? AND m.kind=? AND m.status='filed' "
                            "AND m.duplicate_of IS NULL AND (? IS NULL OR m.campaign IS NULL OR m.campaign=?) "
                            "ORDER BY m.id", (want[0], unit, kind, campaign, campaign)):
            have = sorted(a.sha256 for a in self.attachments(r["id"]))
            if have and have == want:
                return r["id"]
        return None

    def add_finding(self, message: int, attachment: int | None, rule: str, severity: str,
                    item: str, text: str, clause: str) -> None:
        self.db.execute("INSERT INTO findings (message, attachment, rule, severity, item, text, clause) "
                        "VALUES (?,?,?,?,?,?,?)", (message, attachment, rule, severity, item, text, clause))

    def findings(self, message: int) -> list[FindingRecord]:
        return [FindingRecord.from_row(r) for r in
                self._rows("SELECT * FROM findings WHERE message=? ORDER BY id", (message,))]

    def workbook_findings(self, campaign: str | None = None) -> list[WorkbookFinding]:
        """Every finding with its message's unit, kind, version, arrival and its file's name (one query)."""
        return [WorkbookFinding(r["id"], r["message"], Severity(r["severity"]), r["item"], r["text"], r["clause"],
                                r["unit"], r["kind"], r["version"], datetime.fromisoformat(r["received_at"]),
                                r["filename"]) for r in self._rows(
            "SELECT f.id, f.message, f.severity, f.item, f.text, f.clause, m.unit, m.kind, m.version, "
            "m.received_at, a.filename "
            "FROM findings f JOIN messages m ON m.id = f.message "
            "LEFT JOIN attachments a ON a.id = f.attachment WHERE (? IS NULL OR m.campaign IS NULL OR m.campaign=?) ORDER BY f.id",
            (campaign, campaign))]

    def filed_on(self, day: str, *, from_addr: str | None = None, unit: str | None = None) -> int:
        """Messages filed (as a submission or a supplement) that arrived on local date DAY
        (YYYY-MM-DD) from this address or unit."""
        col, value = ("from_addr", from_addr) if from_addr is not None else ("unit", unit)
        # received_at is ISO text in the office's time zone: the day is a range on an index
        return self.db.execute(f"SELECT COUNT(*) FROM messages INDEXED BY messages_{col}_day WHERE {col}=? "
                               "AND received_at >= ? AND received_at < ? AND status IN ('filed', 'supplement')",
                               (value, day, day + "~")).fetchone()[0]

    # --- sender authenticity -----------------------------------------------------------
    def set_trust(self, message: int, level: str, reason: str | None, evidence: Sequence[str],
                  retry_until: datetime | None) -> None:
        self.db.execute(
            "INSERT INTO trust VALUES (?,?,?,?,?,?) ON CONFLICT(message) DO UPDATE SET level=excluded.level, "
            "reason=excluded.reason, evidence_json=excluded.evidence_json, checked_at=excluded.checked_at, "
            "retry_until=COALESCE(trust.retry_until, excluded.retry_until)",
            (message, level, reason, json.dumps(list(evidence), ensure_ascii=False), now_iso(),
             retry_until.isoformat(timespec="seconds") if retry_until else None))

    def trust(self, message: int) -> TrustRecord | None:
        row = self.db.execute("SELECT * FROM trust WHERE message=?", (message,)).fetchone()
        return TrustRecord.from_row(row) if row else None

    def pending_trust(self) -> list[tuple[Message, datetime | None]]:
        """Held messages whose DKIM key lookup failed, with the time after which to stop waiting."""
        rows = self._rows("SELECT m.*, t.retry_until AS t_retry FROM messages m JOIN trust t ON t.message = m.id "
                      "WHERE m.status='untrusted' AND t.level='pending' ORDER BY m.id")
        return [(Message.from_row(r), datetime.fromisoformat(r["t_retry"]) if r["t_retry"] else None) for r in rows]

    # --- outgoing --------------------------------------------------------------------
    def queue(self, *, purpose: str, dedupe_key: str, message_id: str, sender: str,
              recipients: Sequence[str], subject: str, raw: bytes, unit: str | None = None,
              answers: int | None = None, campaign: str | None = None) -> bool:
        """Queue a mail once. Returns False when the same dedupe_key was queued before."""
        cur = self.db.execute(
            "INSERT OR IGNORE INTO outgoing (purpose, dedupe_key, message_id, unit, answers, campaign, sender, "
            "recipients, subject, raw, queued_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (purpose, dedupe_key, message_id, unit, answers, campaign, sender,
             json.dumps(list(recipients), ensure_ascii=False), subject, raw, now_iso()))
        return cur.rowcount == 1

    def is_queued(self, dedupe_key: str) -> bool:
        return self.db.execute("SELECT 1 FROM outgoing WHERE dedupe_key=?", (dedupe_key,)).fetchone() is not None

    def due_outgoing(self, now: datetime) -> list[OutgoingMail]:
        return [OutgoingMail.from_row(r) for r in self._rows(
            "SELECT * FROM outgoing WHERE status='queued' AND (next_attempt_at IS NULL OR next_attempt_at <= ?) "
            "ORDER BY id", (now.isoformat(timespec="seconds"),))]

    def mark_sent(self, oid: int) -> None:
        """Committed at once, so a crash resends at most the mail in flight; but without its own
        fsync of the WAL (synchronous=NORMAL: kept through a crash of mailbot, the next durable
        commit flushes it) — after a power cut the mails of the last moments may go again, with
        their Message-IDs. One fsync less a mail sent (~0.9 ms; a thousand 回执, 0.9 s)."""
        light = self._depth == 0
        if light:
            self.db.execute("PRAGMA synchronous=NORMAL")
        try:
            with self.transaction():
                self.db.execute("UPDATE outgoing SET status='sent', sent_at=?, attempts=attempts+1, "
                                "last_error=NULL WHERE id=?", (now_iso(), oid))
        finally:
            if light:
                self.db.execute("PRAGMA synchronous=FULL")

    def mark_retry(self, oid: int, error: str, next_attempt: datetime) -> None:
        with self.transaction():
            self.db.execute("UPDATE outgoing SET attempts=attempts+1, last_error=?, next_attempt_at=? "
                            "WHERE id=?", (redact(error), next_attempt.isoformat(timespec="seconds"), oid))

    def mark_failed(self, oid: int, error: str) -> None:
        with self.transaction():
            self.db.execute("UPDATE outgoing SET status='failed', attempts=attempts+1, last_error=? "
                            "WHERE id=?", (redact(error), oid))

    def sent_since(self, since: datetime) -> list[SentMail]:
        """Mail the server accepted at or after SINCE (an aware time), oldest first: what the
        provider's daily and quarter-hour limits count. sent_at keeps the offset it was written
        with, so the text bound is widened by two days and the exact cut made on real times."""
        bound = (since.date().toordinal() - 2)
        rows = self._rows("SELECT sent_at, purpose, recipients FROM outgoing WHERE status='sent' AND sent_at >= ? "
                          "ORDER BY sent_at", (datetime.fromordinal(bound).date().isoformat(),))
        out = []
        for r in rows:
            at = datetime.fromisoformat(r["sent_at"])
            if at.tzinfo is None:
                at = at.astimezone()
            if at >= since:
                out.append(SentMail(at, r["purpose"], len(json.loads(r["recipients"]))))
        return out

    def acks_to_sender_on(self, address: str, day: str) -> int:
        """Acks to this address answering mail that arrived on this local date (YYYY-MM-DD): the
        reply-storm cap. Counted by arrival, not by when we queued, so a backlog polled at once
        (a first run, a long outage) is answered like the days it arrived on."""
        return self.db.execute(
            "SELECT COUNT(*) FROM outgoing o JOIN messages m ON o.answers = m.id "
            "WHERE o.purpose='ack' AND o.recipients=? AND substr(m.received_at,1,10)=?",
            (json.dumps([address], ensure_ascii=False), day)).fetchone()[0]

    def outgoing(self, purpose: str | None = None) -> list[OutgoingMail]:
        """Every mail queued, or those of one PURPOSE (ack | reminder | review | digest), oldest first."""
        if purpose is None:
            return [OutgoingMail.from_row(r) for r in self._rows("SELECT * FROM outgoing ORDER BY id")]
        return [OutgoingMail.from_row(r) for r in
                self._rows("SELECT * FROM outgoing WHERE purpose=? ORDER BY id", (purpose,))]

    def queued_outgoing(self) -> list[OutgoingMail]:
        """Mail waiting to be sent (due now or retrying later)."""
        return [OutgoingMail.from_row(r) for r in self._rows("SELECT * FROM outgoing WHERE status='queued' ORDER BY id")]

    def failed_outgoing(self) -> list[OutgoingMail]:
        """Mail that could not be sent and will not be retried."""
        return [OutgoingMail.from_row(r) for r in self._rows("SELECT * FROM outgoing WHERE status='failed' ORDER BY id")]

    # --- announcements (`mailbot announce`) -------------------------------------------------
    def record_announcement(self, campaign: str, unit: str, message_id: str) -> bool:
        """Remember that the queued mail MESSAGE_ID is CAMPAIGN's kickoff mail to UNIT (in the
        transaction that queued it). False when UNIT already has one for CAMPAIGN."""
        cur = self.db.execute("INSERT OR IGNORE INTO announcements (campaign, unit, message_id, outgoing, recorded_at) "
                              "SELECT ?, ?, message_id, id, ? FROM outgoing WHERE message_id=?",
                              (campaign, unit, now_iso(), message_id))
        return cur.rowcount == 1

    _ANNOUNCEMENT = ("SELECT a.campaign, a.unit, a.message_id, a.outgoing, a.recorded_at, o.status, o.sent_at, "
                     "o.last_error FROM announcements a JOIN outgoing o ON o.id = a.outgoing")

    def announcements(self, campaign: str) -> dict[str, Announcement]:
        """CAMPAIGN's kickoff mails, by unit (as the ledger spells it)."""
        return {r["unit"]: _typed(Announcement, r) for r in
                self._rows(self._ANNOUNCEMENT + " WHERE a.campaign=? ORDER BY a.outgoing", (campaign,))}

    def announcement_answered(self, message_ids: Sequence[str]) -> Announcement | None:
        """The kickoff mail among MESSAGE_IDS (an incoming mail's In-Reply-To and References), if any:
        a reply to it belongs to that campaign."""
        ids = [m for m in message_ids if m][:50]
        if not ids:
            return None
        row = self.db.execute(self._ANNOUNCEMENT + f" WHERE a.message_id IN ({','.join('?' * len(ids))}) "
                              "ORDER BY a.outgoing DESC LIMIT 1", ids).fetchone()
        return _typed(Announcement, row) if row else None

    def reminders_per_unit(self, campaign: str | None = None) -> dict[str, int]:
        """How many reminders were queued to each unit (as the ledger spells it), about CAMPAIGN or any."""
        return {r[0]: r[1] for r in self._rows("SELECT unit, COUNT(*) FROM outgoing WHERE purpose='reminder' "
                                                "AND unit IS NOT NULL AND (? IS NULL OR campaign IS NULL OR campaign=?) GROUP BY unit",
                                                (campaign, campaign))}

    def campaigns_answered(self, message_ids: Sequence[str]) -> set[str]:
        """The campaigns of our mails (回执, 催报, 审核结果, 启动通知) with these Message-IDs: a
        reply naming them in In-Reply-To/References belongs there."""
        ids = [i for i in message_ids if i][:50]
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        rows = self._rows(f"SELECT COALESCE(o.campaign, m.campaign) FROM outgoing o LEFT JOIN messages m "
                          f"ON m.id = o.answers WHERE o.message_id IN ({marks}) "
                          f"UNION SELECT campaign FROM announcements WHERE message_id IN ({marks})", ids + ids)
        return {r[0] for r in rows if r[0]}

    def adopt_legacy_rows(self, campaign: str) -> int:
        """Rows recorded before the ledger knew campaigns (v3 and older) belong to CAMPAIGN, the
        first configured; done once (meta 'legacy_campaign'). Returns the rows adopted."""
        if self.get_meta("legacy_campaign", "") != "":
            return 0
        with self.transaction():
            n = self.db.execute("UPDATE messages SET campaign=? WHERE campaign IS NULL", (campaign,)).rowcount
            self.db.execute("UPDATE outgoing SET campaign=? WHERE campaign IS NULL AND purpose <> 'digest'",
                            (campaign,))
            self.db.execute("INSERT INTO meta VALUES ('legacy_campaign', ?) ON CONFLICT(key) DO UPDATE SET "
                            "value=excluded.value", (campaign,))
        return n

    # --- reviews and hand-kept columns -----------------------------------------------
    def add_review(self, unit: str, kind: str, message: int | None, decision: str,
                   reason: str | None, via: str) -> int:
        cur = self.db.execute("INSERT INTO reviews (unit, kind, message, decision, reason, via, decided_at) "
                              "VALUES (?,?,?,?,?,?,?)", (unit, kind, message, decision, reason, via, now_iso()))
        return int(cur.lastrowid)

    def reviews(self, unit: str | None = None, *, campaign: str | None = None) -> list[Review]:
        """Every review decision, or UNIT's, on CAMPAIGN's submissions or any, oldest first."""
        return [_typed(Review, r) for r in self._rows(
            "SELECT r.* FROM reviews r LEFT JOIN messages m ON m.id = r.message WHERE (? IS NULL OR r.unit=?) "
            "AND (? IS NULL OR m.campaign IS NULL OR m.campaign=?) ORDER BY r.id", (unit, unit, campaign, campaign))]

    # SCOPE: whose workbook the column is in — "" for the first campaign's, the campaign id for
    # another's (stored as "<id>::<column>", so one unit's 审核状态 differs per collection)
    def set_hand_kept(self, unit: str, column: str, value: str, scope: str = "") -> None:
        column = f"{scope}{_SCOPE}{column}" if scope else column
        self.db.execute("INSERT INTO hand_kept VALUES (?,?,?,?) ON CONFLICT(unit, column) DO UPDATE SET "
                        "value=excluded.value, updated_at=excluded.updated_at", (unit, column, value, now_iso()))

    def hand_kept(self, scope: str = "") -> dict[tuple[str, str], str]:
        out = {}
        for r in self._rows("SELECT * FROM hand_kept"):
            owner, sep, column = r["column"].rpartition(_SCOPE)
            if (owner if sep else "") == scope:
                out[(r["unit"], column)] = r["value"]
        return out

    # --- health ------------------------------------------------------------------------
    def event(self, job: str, level: str, text: str) -> None:
        with self.transaction():
            self.db.execute("INSERT INTO events (at, job, level, text) VALUES (?,?,?,?)",
                            (now_iso(), job, level, redact(text)))

    def events(self, since: str = "", *, after: int = 0) -> list[Event]:
        """Events at or after time SINCE (ISO) and after event id AFTER, oldest first."""
        return [_typed(Event, r) for r in
                self._rows("SELECT * FROM events WHERE id > ? AND at >= ? ORDER BY id", (after, since))]

    def last_event(self, job: str, *, ok_only: bool = False) -> Event | None:
        """JOB's latest event (OK_ONLY: its latest success)."""
        sql = "SELECT * FROM events WHERE job=?" + (" AND level='ok'" if ok_only else "")
        row = self.db.execute(sql + " ORDER BY id DESC LIMIT 1", (job,)).fetchone()
        return _typed(Event, row) if row else None

    def last_event_id(self) -> int:
        return self.db.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]

    # --- schedule state (progress / remind / review / digest / daemon) ------------------
    # Small named values in the existing `meta` table (no schema change): when the daemon
    # last ran a timed job, the digest's "since" watermark, the last 审核状态 value seen in
    # the workbook per unit. Keys are namespaced: "daemon.*", "digest.*", "workbook_review.*".
    def generation(self) -> int:
        """A number that changes whenever anything the workbook shows changes (triggers)."""
        row = self.db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row is not None else default

    def set_meta(self, key: str, value: str) -> None:
        if key in ("schema_version", "generation"):
            raise LedgerError("schema_version is managed by the ledger itself")
        self.db.execute("INSERT INTO meta VALUES (?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                        (key, value))
