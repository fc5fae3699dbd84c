"""A ledger written by the previous release (schema v1: `mailbot demo` replayed to 2022-08-26 by
main at 627a319, digests' attached workbooks cut to their headers to keep the fixture small) opens
in this one, is upgraded in place, loses nothing, and works."""
from __future__ import annotations

import gzip
import sqlite3
from datetime import date
from pathlib import Path

from mailbot.store import ledger as ledger_mod
from mailbot.campaign import load_campaign, load_roster
from mailbot.defaults import default_dir
from mailbot.store.ledger import Ledger
from mailbot.office.progress import unit_states

FIXTURE = Path(__file__).parent / "fixtures" / "ledger-v1.sql.gz"
V1_TABLES = ("meta", "source_state", "messages", "attachments", "findings", "outgoing", "reviews", "hand_kept",
             "events")


def _v1(tmp_path: Path) -> Path:
    path = tmp_path / "mailbot.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(gzip.decompress(FIXTURE.read_bytes()).decode("utf-8"))
    db.close()
    return path


def _rows(path: Path) -> dict[str, list[tuple]]:
    db = sqlite3.connect(path)
    out = {t: db.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in V1_TABLES}
    db.close()
    return out


def test_a_v1_ledger_is_upgraded_without_loss(tmp_path):
    path = _v1(tmp_path)
    before = _rows(path)
    assert dict(before["meta"])["schema_version"] == "1"
    assert len(before["messages"]) == 15 and len(before["outgoing"]) == 76

    led = Ledger(path)
    assert led.get_meta("schema_version") == str(ledger_mod.SCHEMA_VERSION) == "4"
    led.close()
    after = _rows(path)
    for table in V1_TABLES:
        if table == "meta":
            continue
        added = {"messages": 2, "outgoing": 1}.get(table, 0)   # v3 supplement_of, v4 campaign: empty on old rows
        if added:
            assert [r[:-added] for r in after[table]] == before[table], table
            assert {v for r in after[table] for v in r[-added:]} == {None}
            continue
        assert after[table] == before[table], table
    meta_before, meta_after = dict(before["meta"]), dict(after["meta"])
    assert {k: v for k, v in meta_after.items() if k not in ("schema_version", "generation")} == \
        {k: v for k, v in meta_before.items() if k != "schema_version"}

    # the new tables exist and work; the change counter counts
    led = Ledger(path)
    gen = led.generation()
    first = led.messages()[0]
    with led.transaction():
        led.set_trust(first.id, "pass", "", ["dkim[0]: d=163.com pass"], None)
    assert led.trust(first.id).level == "pass"
    assert led.generation() == gen + 1
    assert led.recorded_files()                          # raw mails and attachments, as v1 recorded them
    led.close()

    # v4: the rows before it belong to the first configured campaign, adopted once
    led = Ledger(path)
    assert led.adopt_legacy_rows("2022-政府开放日") == 15
    assert {m.campaign for m in led.messages()} == {"2022-政府开放日"}
    assert led.current_submissions(campaign="2022-政府开放日") == led.current_submissions()
    assert led.current_submissions(campaign="2022-年度报告") == []
    assert led.adopt_legacy_rows("another") == 0
    led.close()

    # opening again changes nothing
    again = _rows(path)
    Ledger(path).close()
    assert _rows(path) == again


def test_the_upgraded_ledger_reads_like_before(tmp_path):
    path = _v1(tmp_path)
    rules = default_dir("rules")
    campaign = load_campaign(rules / "open-day-2022.toml")
    roster = load_roster(rules / "units.csv", campaign.region)
    raw = sqlite3.connect(path)
    filed = raw.execute("SELECT unit, kind, version, outcome FROM messages WHERE status='filed' "
                        "ORDER BY id").fetchall()
    raw.close()
    led = Ledger(path)
    states = {s.unit.name: s for s in unit_states(led, campaign, roster, date(2022, 8, 26))}
    for unit, kind, version, outcome in filed:
        if kind == "plan":
            assert states[unit].plan is not None and states[unit].plan.version >= version
    assert sum(1 for s in states.values() if s.plan is not None) == len({u for u, k, *_ in filed if k == "plan"})
    led.close()


def test_a_ledger_from_a_newer_release_is_refused(tmp_path):
    path = tmp_path / "new.sqlite3"
    Ledger(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.commit()
    db.close()
    try:
        Ledger(path)
    except ledger_mod.LedgerError as exc:
        assert "更新版本" in str(exc)
    else:
        raise AssertionError("a v99 ledger was opened")
