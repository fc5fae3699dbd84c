"""ImapSource against a real (private) Dovecot."""

from __future__ import annotations

import logging
import socket
import time
from datetime import datetime, timedelta, timezone

import pytest

from mailbot.mailin.source import ImapSource, MaildirSource, SourceError, open_source
from servers import Dovecot, client_ssl_context, make_message, unique_user

BIG = 10 * 1024 * 1024


@pytest.fixture
def box(dovecot):
    """A fresh user (address, password) in the session Dovecot."""
    user = unique_user("office") + "@xiji.test"
    password = "pw-" + user.split("@")[0]
    dovecot.add_user(user, password)
    return user, password


def src(dc: Dovecot, user: str, password: str, **kw) -> ImapSource:
    return ImapSource(dc.host, dc.port, "none", user, password, **kw)


def test_login_sends_imap_id_then_selects(dovecot, box):
    user, pw = box
    with src(dovecot, user, pw, id_info={"name": "mailbot-test", "version": "9.9"}) as s:
        assert s.uidvalidity() == dovecot.uidvalidity(user)
        assert s.server_id  # Dovecot answered the ID command
    log = dovecot.log_text()
    assert f"imap({user})" in log
    sent = [l for l in log.splitlines() if f"imap({user})" in l and "ID sent" in l]
    assert sent and "name=mailbot-test" in sent[0] and "version=9.9" in sent[0]


def test_default_id_names_mailbot(dovecot, box):
    user, pw = box
    dovecot.enable_rawlog(user)
    with src(dovecot, user, pw):
        pass
    sessions = dovecot.rawlog_commands(user)
    assert sessions[-1][:2] == ["ID", "SELECT"]  # ID right after LOGIN, before SELECT
    line = [l for l in dovecot.log_text().splitlines() if f"imap({user})" in l and "ID sent" in l][-1]
    assert "name=mailbot" in line and f"support-email={user}" in line


def test_no_id_when_server_lacks_capability():
    with Dovecot(extra_conf="imap_capability = IMAP4rev1 LITERAL+ SASL-IR UIDPLUS") as dc:
        dc.add_user("a@xiji.test", "pw")
        dc.enable_rawlog("a@xiji.test")
        with src(dc, "a@xiji.test", "pw") as s:
            assert s.server_id is None
            assert list(s.new_messages(0, BIG)) == []
        assert dc.rawlog_commands("a@xiji.test") == [["SELECT", "UID SEARCH", "LOGOUT"]]


def test_fetch_ascending_exact_bytes_peek_and_keyword(dovecot, box):
    user, pw = box
    when = datetime(2022, 8, 24, 10, 15, 0, tzinfo=timezone(timedelta(hours=8)))
    raws = [make_message(subject=f"方案{i}") for i in range(3)]
    uids = [dovecot.append(user, r, internaldate=when + timedelta(minutes=i)) for i, r in enumerate(raws)]
    assert uids == sorted(uids)
    with src(dovecot, user, pw) as s:
        got = list(s.new_messages(0, BIG))
        assert [f.uid for f in got] == uids
        assert [f.key for f in got] == [str(u) for u in uids]
        assert [f.raw for f in got] == raws
        assert [f.size for f in got] == [len(r) for r in raws]
        for i, f in enumerate(got):
            assert f.internaldate.tzinfo is not None
            assert f.internaldate == when + timedelta(minutes=i)
        assert s.mark_filed(uids[1]) is True
    stored = {m.uid: m for m in dovecot.messages(user)}
    assert len(stored) == 3  # nothing deleted
    for uid, m in stored.items():
        assert "\\Seen" not in m.flags
        assert "\\Deleted" not in m.flags
        assert ("$Filed" in m.flags) == (uid == uids[1])


def test_after_uid_filters_and_beyond_max_is_empty(dovecot, box):
    user, pw = box
    uids = [dovecot.append(user, make_message(subject=str(i))) for i in range(4)]
    with src(dovecot, user, pw) as s:
        assert [f.uid for f in s.new_messages(uids[1], BIG)] == uids[2:]
        # UID SEARCH UID n:* returns the highest UID even when n is beyond it
        assert list(s.new_messages(uids[-1], BIG)) == []
        assert list(s.new_messages(uids[-1] + 10, BIG)) == []


def test_idle_poll_is_one_select_and_one_uid_search(dovecot, box):
    user, pw = box
    last = dovecot.append(user, make_message())
    dovecot.enable_rawlog(user)
    with src(dovecot, user, pw) as s:
        assert list(s.new_messages(last, BIG)) == []
    # the whole session after LOGIN: ID, SELECT, UID SEARCH, LOGOUT — no FETCH
    (session,) = dovecot.rawlog_commands(user)
    assert session == ["ID", "SELECT", "UID SEARCH", "LOGOUT"]
    assert session.count("SELECT") == 1 and session.count("UID SEARCH") == 1
    assert not [c for c in session if "FETCH" in c]


def test_repeated_poll_on_one_connection_sees_new_mail(dovecot, box):
    user, pw = box
    dovecot.enable_rawlog(user)
    with src(dovecot, user, pw) as s:
        assert list(s.new_messages(0, BIG)) == []
        uid = dovecot.append(user, make_message(subject="后到"))
        assert [f.uid for f in s.new_messages(0, BIG)] == [uid]
        assert list(s.new_messages(uid, BIG)) == []
    (session,) = [c for c in dovecot.rawlog_commands(user) if "APPEND" not in c]
    assert session == [
        "ID", "SELECT",
        "UID SEARCH",
        "NOOP", "UID SEARCH", "UID FETCH", "UID FETCH",
        "NOOP", "UID SEARCH",
        "LOGOUT",
    ]


def test_size_cap_skips_body_fetch(dovecot, box):
    user, pw = box
    small1 = dovecot.append(user, make_message(subject="小"))
    big_raw = make_message(subject="大", size=300_000)
    big = dovecot.append(user, big_raw)
    small2 = dovecot.append(user, make_message(subject="小2"))
    dovecot.enable_rawlog(user)
    with src(dovecot, user, pw) as s:
        got = list(s.new_messages(0, max_size=100_000))
    assert [f.uid for f in got] == [small1, big, small2]  # still in UID order
    assert got[1].raw is None and got[1].size == len(big_raw)
    assert got[0].raw is not None and got[2].raw is not None
    raw_in = b"".join(p.read_bytes() for p in (dovecot.root / "rawlog" / user).glob("*.in"))
    body_fetches = [l for l in raw_in.split(b"\r\n") if b"BODY.PEEK[]" in l]
    fetched_sets = [l.split(b"UID FETCH ")[1].split(b" (")[0].split(b",") for l in body_fetches]
    assert fetched_sets and all(str(big).encode() not in ids for ids in fetched_sets)


def test_many_messages_chunked(dovecot, box):
    user, pw = box
    n = 1500
    raws = [make_message(subject=f"批量{i}", message_id=f"<bulk{i}@test.invalid>") for i in range(n)]
    t0 = time.monotonic()
    assert dovecot.append_many(user, raws) == n
    append_s = time.monotonic() - t0
    dovecot.enable_rawlog(user)
    t0 = time.monotonic()
    with src(dovecot, user, pw) as s:
        got = list(s.new_messages(0, BIG, chunk=100))
    fetch_s = time.monotonic() - t0
    assert [f.raw for f in got] == raws
    assert [f.uid for f in got] == sorted(f.uid for f in got)
    (session,) = dovecot.rawlog_commands(user)
    # 2 metadata FETCHes (1000 + 500) and 15 body FETCHes of 100
    assert session.count("UID FETCH") == 2 + 15
    print(f"APPEND {n} msgs in {append_s:.2f}s, fetch in {fetch_s:.2f}s")


def test_wrong_password_is_login_error_without_password(dovecot, box, caplog):
    user, _ = box
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SourceError) as e:
        src(dovecot, user, "Secret-Wrong-99").connect()
    assert e.value.kind == "login"
    assert "邮箱登录失败" in str(e.value) and "授权码" in str(e.value)
    assert "Secret-Wrong-99" not in str(e.value)
    assert "Secret-Wrong-99" not in caplog.text


def test_missing_folder_is_folder_error(dovecot, box):
    user, pw = box
    with pytest.raises(SourceError) as e:
        src(dovecot, user, pw, folder="不存在").connect()
    assert e.value.kind == "folder"
    assert "不存在" in str(e.value) and "folder" in str(e.value)


def test_connection_refused_is_chinese(dovecot):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: refused
        with pytest.raises(SourceError) as e:
            ImapSource("127.0.0.1", port, "none", "u", "p", timeout=2).connect()
    assert e.value.kind == "connect" and e.value.transient
    assert str(e.value).startswith(f"无法连接邮箱服务器 127.0.0.1:{port}：")
    assert "请检查网络和 [imap] host/port 设置" in str(e.value)


def test_silent_server_times_out():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)  # accepts the TCP handshake, never greets
        port = s.getsockname()[1]
        t0 = time.monotonic()
        with pytest.raises(SourceError) as e:
            ImapSource("127.0.0.1", port, "none", "u", "p", timeout=0.5).connect()
        assert time.monotonic() - t0 < 5
    assert "连接超时" in str(e.value)


def test_ssl_against_plain_server_is_tls_error(dovecot):
    with pytest.raises(SourceError) as e:
        ImapSource(dovecot.host, dovecot.port, "ssl", "u", "p", timeout=3).connect()
    assert e.value.kind in ("tls", "connect")
    assert "security" in str(e.value) or "无法连接" in str(e.value)


def test_implicit_tls_and_starttls(dovecot, box):
    user, pw = box
    uid = dovecot.append(user, make_message())
    ctx = client_ssl_context()
    for security, port in (("ssl", dovecot.imaps_port), ("starttls", dovecot.port)):
        with ImapSource(dovecot.host, port, security, user, pw, ssl_context=ctx) as s:
            assert [f.uid for f in s.new_messages(0, BIG)] == [uid]
    ok = [l for l in dovecot.log_text().splitlines() if f"user=<{user}>" in l and "Login:" in l]
    assert any("TLS" in l for l in ok)


def test_untrusted_certificate_is_tls_error(dovecot, box):
    user, pw = box
    for security, port in (("ssl", dovecot.imaps_port), ("starttls", dovecot.port)):
        with pytest.raises(SourceError) as e:
            ImapSource(dovecot.host, port, security, user, pw, timeout=3).connect()  # system CAs only
        assert e.value.kind == "tls" and "证书校验失败" in str(e.value)


def test_server_stop_then_restart():
    """The daemon's view: a poll fails with a Chinese SourceError while the
    server is down, and a fresh connect works once it is back."""
    with Dovecot() as dc:
        dc.add_user("office@xiji.test", "pw")
        uid = dc.append("office@xiji.test", make_message(subject="before"))
        s = src(dc, "office@xiji.test", "pw", timeout=3)
        s.connect()
        validity = s.uidvalidity()
        dc.kill()  # abrupt: no BYE
        with pytest.raises(SourceError) as e:
            list(s.new_messages(0, BIG))
        assert e.value.transient and "下次轮询时会重新连接" in str(e.value)
        with pytest.raises(SourceError) as e:
            s.connect()
        assert str(e.value).startswith("无法连接邮箱服务器 127.0.0.1:")
        dc.start()
        s.connect()
        assert s.uidvalidity() == validity
        assert [f.uid for f in s.new_messages(0, BIG)] == [uid]
        dc.stop()  # graceful: server says BYE
        with pytest.raises(SourceError):
            list(s.new_messages(0, BIG))
        dc.start()
        with s:
            assert [f.uid for f in s.new_messages(0, BIG)] == [uid]


def test_uidvalidity_change_is_visible(dovecot, box):
    user, pw = box
    dovecot.append(user, make_message())
    with src(dovecot, user, pw) as s:
        before = s.uidvalidity()
    dovecot.renumber(user)
    with src(dovecot, user, pw) as s:
        assert s.uidvalidity() != before
        assert len(list(s.new_messages(0, BIG))) == 1


def test_mark_filed_skipped_when_keywords_not_permanent(dovecot, box):
    user, pw = box
    uid = dovecot.append(user, make_message())
    with src(dovecot, user, pw) as s:
        s._select[b"PERMANENTFLAGS"] = (b"\\Seen", b"\\Deleted")  # as a server without \*
        assert s.mark_filed(uid) is False
    assert dovecot.messages(user)[0].flags == ()


def test_name_is_stable_identity():
    a = ImapSource("IMAP.163.com", 993, "ssl", "xjxzwgkb@163.com", "x")
    b = ImapSource("imap.163.com", 143, "starttls", "xjxzwgkb@163.com", "y")
    assert a.name == b.name == "imap://xjxzwgkb%40163.com@imap.163.com/INBOX"
    assert "x" not in repr(a).replace("xjxzwgkb", "")


def test_open_source_from_config(tmp_path):
    s = open_source({"host": "imap.163.com", "username": "a@163.com"}, tmp_path, "code")
    assert isinstance(s, ImapSource) and (s.port, s.security, s.folder) == (993, "ssl", "INBOX")
    s = open_source({"host": "h", "port": "143", "security": "starttls", "username": "u",
                     "folder": "归档"}, tmp_path, "p")
    assert (s.port, s.security, s.folder) == (143, "starttls", "归档")
    m = open_source({"backend": "maildir", "path": "demo/Maildir"}, tmp_path, None)
    assert isinstance(m, MaildirSource) and m.path == tmp_path / "demo" / "Maildir"
    with pytest.raises(SourceError) as e:
        open_source({"host": "h", "username": "u"}, tmp_path, None)
    assert e.value.kind == "config" and "password_env" in str(e.value)
    with pytest.raises(SourceError):
        open_source({"host": "h", "username": "u", "port": "abc"}, tmp_path, "p")
    with pytest.raises(SourceError):
        open_source({"backend": "pop3"}, tmp_path, "p")
