"""MaildirSource: same interface as ImapSource over a local Maildir."""

from __future__ import annotations

import json
import mailbox
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from mailbot.mailin.source import UID_MAP_NAME, MaildirSource, SourceError, open_source
from servers import make_message

BIG = 10 * 1024 * 1024


def add(md: mailbox.Maildir, raw: bytes, mtime: float) -> str:
    key = md.add(raw)
    path = Path(md._path) / md._lookup(key)
    os.utime(path, (mtime, mtime))
    return key


@pytest.fixture
def maildir(tmp_path):
    return mailbox.Maildir(tmp_path / "Maildir", create=True)


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != UID_MAP_NAME
    }


def test_uids_follow_mtime_and_are_stable(maildir):
    t = datetime(2022, 8, 24, 9, 0, tzinfo=timezone.utc).timestamp()
    raws = [make_message(subject=f"m{i}") for i in range(3)]
    k2 = add(maildir, raws[2], t + 20)
    k0 = add(maildir, raws[0], t)
    k1 = add(maildir, raws[1], t + 10)
    root = Path(maildir._path)
    before = snapshot(root)
    with MaildirSource(root) as s:
        got = list(s.new_messages(0, BIG))
        validity = s.uidvalidity()
        assert s.mark_filed(got[0].uid) is False
    assert [(f.uid, f.key, f.raw) for f in got] == [(1, k0, raws[0]), (2, k1, raws[1]), (3, k2, raws[2])]
    assert got[0].internaldate == datetime.fromtimestamp(t, timezone.utc)
    assert got[0].internaldate.tzinfo is not None
    assert [f.size for f in got] == [len(r) for r in raws]
    assert snapshot(root) == before  # read-only apart from the uid map
    mapping = json.loads((root / UID_MAP_NAME).read_text())
    assert mapping["uids"] == {k0: 1, k1: 2, k2: 3}

    # a new run: same numbers, same UIDVALIDITY; a new mail gets the next UID
    k3 = add(maildir, make_message(subject="m3"), t - 1000)  # old mtime, still appended last
    with MaildirSource(root) as s:
        assert s.uidvalidity() == validity
        assert [(f.uid, f.key) for f in s.new_messages(0, BIG)] == [(1, k0), (2, k1), (3, k2), (4, k3)]
        assert [f.uid for f in s.new_messages(3, BIG)] == [4]
        assert list(s.new_messages(4, BIG)) == []
        assert list(s.new_messages(99, BIG)) == []


def test_new_mail_seen_on_the_same_instance(maildir):
    root = Path(maildir._path)
    s = MaildirSource(root)
    s.connect()
    assert list(s.new_messages(0, BIG)) == []
    add(maildir, make_message(), 1_660_000_000)
    assert [f.uid for f in s.new_messages(0, BIG)] == [1]


def test_moved_to_cur_by_a_mail_client_keeps_uid(maildir):
    root = Path(maildir._path)
    k = add(maildir, make_message(), 1_660_000_000)
    with MaildirSource(root) as s:
        assert [f.uid for f in s.new_messages(0, BIG)] == [1]
    src = root / "new" / k
    os.rename(src, root / "cur" / (k + ":2,S"))
    with MaildirSource(root) as s:
        got = list(s.new_messages(0, BIG))
    assert [(f.uid, f.key) for f in got] == [(1, k)] and got[0].raw is not None


def test_removed_mail_never_gives_its_uid_away(maildir):
    root = Path(maildir._path)
    a = add(maildir, make_message(subject="a"), 1_660_000_000)
    b = add(maildir, make_message(subject="b"), 1_660_000_100)
    with MaildirSource(root) as s:
        list(s.new_messages(0, BIG))
    maildir.remove(b)
    c = add(maildir, make_message(subject="c"), 1_660_000_200)
    with MaildirSource(root) as s:
        assert [(f.uid, f.key) for f in s.new_messages(0, BIG)] == [(1, a), (3, c)]


def test_size_cap(maildir):
    root = Path(maildir._path)
    big = make_message(size=50_000)
    add(maildir, make_message(), 1_660_000_000)
    add(maildir, big, 1_660_000_001)
    with MaildirSource(root) as s:
        got = list(s.new_messages(0, max_size=10_000))
    assert got[0].raw is not None
    assert got[1].raw is None and got[1].size == len(big)


def test_deleted_map_gives_new_uidvalidity(maildir, monkeypatch):
    root = Path(maildir._path)
    add(maildir, make_message(), 1_660_000_000)
    monkeypatch.setattr("mailbot.mailin.source.time.time", lambda: 1_700_000_000.0)
    with MaildirSource(root) as s:
        first = s.uidvalidity()
    (root / UID_MAP_NAME).unlink()
    monkeypatch.setattr("mailbot.mailin.source.time.time", lambda: 1_700_000_500.0)
    with MaildirSource(root) as s:
        assert s.uidvalidity() != first


def test_ignores_dotfiles_and_tmp(maildir):
    root = Path(maildir._path)
    (root / "tmp" / "123.partial").write_bytes(b"half a mail")
    (root / "new" / ".hidden").write_bytes(b"x")
    add(maildir, make_message(), 1_660_000_000)
    with MaildirSource(root) as s:
        assert len(list(s.new_messages(0, BIG))) == 1


def test_missing_maildir_is_chinese_error(tmp_path):
    with pytest.raises(SourceError) as e:
        MaildirSource(tmp_path / "nope").connect()
    assert e.value.kind == "maildir" and "找不到 Maildir" in str(e.value) and "[imap] path" in str(e.value)


def test_open_source_relative_to_config_dir(tmp_path, maildir, monkeypatch):
    monkeypatch.chdir("/")
    s = open_source({"backend": "maildir", "path": "Maildir"}, tmp_path, None)
    assert isinstance(s, MaildirSource) and s.path == tmp_path / "Maildir"
    add(maildir, make_message(), 1_660_000_000)
    with s:
        assert len(list(s.new_messages(0, BIG))) == 1
    assert s.name == "maildir:" + str((tmp_path / "Maildir").resolve())
