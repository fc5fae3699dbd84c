"""SmtpSender / OutboxSender against a real aiosmtpd server (and Dovecot LMTP)."""

from __future__ import annotations

import email
import logging
import socket
from email import policy

import pytest

from mailbot.mailout.send import (AuthFailure, OutboxSender, PermanentFailure, SendConfigError, SmtpSender,
    TemporaryFailure, open_sender)
from servers import SmtpServer, client_ssl_context, make_message, unique_user

FROM = "xjxzwgkb@163.com"


def sender(srv: SmtpServer, **kw) -> SmtpSender:
    kw.setdefault("per_minute", 0)
    kw.setdefault("timeout", 5)
    return SmtpSender(srv.host, srv.port, "none", kw.pop("username", None), kw.pop("password", None), **kw)


@pytest.fixture
def auth_server():
    srv = SmtpServer(username=FROM, password="AuthCode-123")
    srv.start()
    yield srv
    srv.stop()


def test_send_exact_bytes_one_connection_per_batch(smtp_server):
    raws = [make_message(subject=f"回执：{i}", sender=FROM, to="dept@xiji.test") for i in range(3)]
    with sender(smtp_server) as s:
        for r in raws:
            assert s.send(FROM, ["dept@xiji.test"], r) == {}
    assert [m.raw for m in smtp_server.received] == raws
    assert all(m.envelope_from == FROM and m.rcpt_tos == ("dept@xiji.test",) for m in smtp_server.received)
    assert smtp_server.connections == 1


def test_auth_login_and_envelope(auth_server, caplog):
    caplog.set_level(logging.DEBUG)
    with sender(auth_server, username=FROM, password="AuthCode-123") as s:
        s.send(FROM, ["a@xiji.test", "b@xiji.test"], make_message(sender=FROM))
    (m,) = auth_server.received
    assert m.auth_user == FROM and m.rcpt_tos == ("a@xiji.test", "b@xiji.test")
    assert auth_server.auth_attempts[-1][2] is True
    assert "AuthCode-123" not in caplog.text


def test_check_logs_in_without_sending(auth_server):
    s = sender(auth_server, username=FROM, password="AuthCode-123")
    s.check()
    s.send(FROM, ["a@xiji.test"], make_message())  # reuses the checked connection
    s.close()
    assert auth_server.connections == 1 and len(auth_server.received) == 1
    with pytest.raises(AuthFailure):
        sender(auth_server, username=FROM, password="nope").check()


def test_auth_wrong_password_is_temporary_auth_failure(auth_server, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthFailure) as e:
        sender(auth_server, username=FROM, password="Wrong-Secret-7").send(FROM, ["a@xiji.test"], make_message())
    assert isinstance(e.value, TemporaryFailure) and e.value.affects_all
    assert e.value.code == 535
    assert "发信邮箱登录失败" in str(e.value) and "授权码" in str(e.value)
    assert "Wrong-Secret-7" not in str(e.value) + e.value.smtp_text + caplog.text
    assert auth_server.received == []


def test_no_login_against_auth_server_is_refused(auth_server):
    with pytest.raises(PermanentFailure) as e:  # 530 at MAIL FROM
        sender(auth_server).send(FROM, ["a@xiji.test"], make_message())
    assert e.value.code == 530 and e.value.affects_all


def test_451_is_temporary_then_250(smtp_server):
    smtp_server.respond("DATA", "451 4.7.1 try later")
    s = sender(smtp_server)
    raw = make_message(sender=FROM)
    with pytest.raises(TemporaryFailure) as e:
        s.send(FROM, ["a@xiji.test"], raw)
    assert e.value.code == 451 and e.value.smtp_text == "4.7.1 try later"
    assert not e.value.affects_all
    assert "暂时不接收" in str(e.value) and "451 4.7.1 try later" in str(e.value)
    s.send(FROM, ["a@xiji.test"], raw)  # same connection, accepted now
    s.close()
    assert [m.raw for m in smtp_server.received] == [raw]
    assert smtp_server.connections == 1


def test_554_spam_is_permanent_with_hint(smtp_server):
    smtp_server.respond("DATA", "554 DT:SPM 163 smtp7,C8CowADnr Mail rejected")
    with pytest.raises(PermanentFailure) as e:
        sender(smtp_server).send(FROM, ["a@xiji.test"], make_message())
    assert e.value.code == 554 and e.value.smtp_text.startswith("DT:SPM")
    assert "拒绝投递" in str(e.value) and "垃圾邮件" in str(e.value)
    assert not e.value.affects_all


def test_553_sender_mismatch_is_permanent_and_affects_all(smtp_server):
    smtp_server.respond("MAIL", "553 Mail from must equal authorized user")
    with pytest.raises(PermanentFailure) as e:
        sender(smtp_server).send("other@163.com", ["a@xiji.test"], make_message())
    assert e.value.code == 553 and e.value.affects_all
    assert "from_address" in str(e.value)


def test_rcpt_refusals(smtp_server):
    s = sender(smtp_server)
    smtp_server.respond("RCPT", "550 5.1.1 User not found")
    refused = s.send(FROM, ["gone@xiji.test", "ok@xiji.test"], make_message())
    assert refused == {"gone@xiji.test": (550, "5.1.1 User not found")}
    assert smtp_server.received[-1].rcpt_tos == ("ok@xiji.test",)
    smtp_server.respond("RCPT", "550 5.1.1 User not found")
    with pytest.raises(PermanentFailure) as e:
        s.send(FROM, ["gone@xiji.test"], make_message())
    assert e.value.code == 550 and "gone@xiji.test" in str(e.value)
    smtp_server.respond("RCPT", "450 4.2.1 mailbox busy")
    with pytest.raises(TemporaryFailure) as e:
        s.send(FROM, ["busy@xiji.test"], make_message())
    assert e.value.code == 450
    s.close()


def test_421_drops_connection_and_next_send_reconnects(smtp_server):
    smtp_server.respond("DATA", "421 4.7.0 too many connections")
    s = sender(smtp_server)
    with pytest.raises(TemporaryFailure) as e:
        s.send(FROM, ["a@xiji.test"], make_message())
    assert e.value.code == 421 and e.value.affects_all
    s.send(FROM, ["a@xiji.test"], make_message())
    s.close()
    assert len(smtp_server.received) == 1 and smtp_server.connections == 2


def test_dead_reused_connection_reconnects_once(smtp_server):
    s = sender(smtp_server)
    s.send(FROM, ["a@xiji.test"], make_message(subject="1"))
    smtp_server.respond("MAIL", "DROP")  # the server hangs up on the reused connection
    s.send(FROM, ["a@xiji.test"], make_message(subject="2"))
    s.close()
    assert len(smtp_server.received) == 2 and smtp_server.connections == 2


def test_drop_on_fresh_connection_is_temporary(smtp_server):
    smtp_server.respond("MAIL", "DROP")
    with pytest.raises(TemporaryFailure) as e:
        sender(smtp_server).send(FROM, ["a@xiji.test"], make_message())
    assert e.value.affects_all and "连接中断" in str(e.value)


def test_server_down_is_temporary_in_chinese():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        with pytest.raises(TemporaryFailure) as e:
            SmtpSender("127.0.0.1", port, "ssl", FROM, "pw", timeout=2).send(FROM, ["a@x.test"], b"x")
    assert str(e.value).startswith(f"无法连接发信服务器 127.0.0.1:{port}：") and e.value.affects_all


def test_tls_mismatch_is_temporary(smtp_server):
    with pytest.raises(TemporaryFailure) as e:
        SmtpSender(smtp_server.host, smtp_server.port, "ssl", None, None, timeout=3).send(FROM, ["a@x.test"], b"x")
    assert "security" in str(e.value) or "加密" in str(e.value)
    with pytest.raises(TemporaryFailure) as e:
        SmtpSender(smtp_server.host, smtp_server.port, "starttls", None, None, timeout=3).send(FROM, ["a@x.test"], b"x")
    assert "STARTTLS" in str(e.value)


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_with_auth(security):
    with SmtpServer(username=FROM, password="AuthCode-123", tls=security) as srv:
        s = SmtpSender(srv.host, srv.port, security, FROM, "AuthCode-123", per_minute=0,
                       timeout=5, ssl_context=client_ssl_context())
        s.send(FROM, ["a@xiji.test"], make_message())
        s.close()
        assert len(srv.received) == 1 and srv.received[0].auth_user == FROM
        with pytest.raises(TemporaryFailure) as e:  # system CAs only: our test cert is not trusted
            SmtpSender(srv.host, srv.port, security, FROM, "AuthCode-123", timeout=5).send(
                FROM, ["a@xiji.test"], make_message())
        assert "证书校验失败" in str(e.value) and e.value.affects_all
        assert len(srv.received) == 1


def test_bad_addresses_are_permanent_and_never_sent(smtp_server):
    s = sender(smtp_server)
    for rcpts in ([], ["a@x.test\r\nRCPT TO:<evil@x.test>"], ["no-at-sign"]):
        with pytest.raises(PermanentFailure):
            s.send(FROM, rcpts, make_message())
    assert smtp_server.attempts == []


def test_throttle_sleeps_in_a_rolling_minute(smtp_server):
    now = [1000.0]
    slept: list[float] = []

    def sleep(sec):
        slept.append(sec)
        now[0] += sec

    s = sender(smtp_server, per_minute=3, sleep=sleep, clock=lambda: now[0])
    for i in range(3):
        s.send(FROM, ["a@x.test"], make_message())
        now[0] += 1
    assert slept == []
    s.send(FROM, ["a@x.test"], make_message())  # 4th within the minute
    assert slept == [pytest.approx(57.0)]
    now[0] += 120  # a quiet spell: no waiting
    for i in range(3):
        s.send(FROM, ["a@x.test"], make_message())
    assert len(slept) == 1
    s.close()
    assert len(smtp_server.received) == 7


def test_throttle_with_a_clock_that_does_not_move(smtp_server):
    slept: list[float] = []
    s = sender(smtp_server, per_minute=2, sleep=slept.append, clock=lambda: 0.0)
    for i in range(5):
        s.send(FROM, ["a@x.test"], make_message())
    s.close()
    assert slept == [60.0, 60.0, 60.0]


def test_lmtp_handoff_lands_in_dovecot_inbox(dovecot):
    dept = unique_user("nongye") + "@xiji.test"
    dovecot.add_user(dept, "pw")
    with SmtpServer(lmtp=(dovecot.host, dovecot.lmtp_port)) as srv:
        raw = make_message(subject="回执：县农业农村局 实施方案", sender=FROM, to=dept,
                           message_id="<ack-1@mailbot.test>")
        with sender(srv) as s:
            s.send(FROM, [dept], raw)
        assert srv.lmtp_errors == []
    (stored,) = dovecot.messages(dept)
    msg = email.message_from_bytes(stored.raw, policy=policy.default)
    assert msg["Message-ID"] == "<ack-1@mailbot.test>"
    assert msg["Subject"] == "回执：县农业农村局 实施方案"
    assert stored.raw.endswith(raw.split(b"\r\n\r\n", 1)[1])


def test_outbox_writes_atomically_and_once_per_message_id(tmp_path):
    out = OutboxSender(tmp_path / "outbox")
    raw = make_message(subject="催报：县民政局", message_id="<r-1@mailbot.test>")
    out.send(FROM, ["mz@xiji.test", "b@xiji.test"], raw)
    out.send(FROM, ["mz@xiji.test", "b@xiji.test"], raw)  # replay after a crash
    files = sorted((tmp_path / "outbox").iterdir())
    assert len(files) == 1 and files[0].suffix == ".eml" and not files[0].name.startswith(".")
    data = files[0].read_bytes()
    assert data.startswith(b"X-Mailbot-Envelope-From: " + FROM.encode() + b"\r\n")
    assert b"X-Mailbot-Envelope-To: mz@xiji.test, b@xiji.test\r\n" in data
    assert data.endswith(raw)
    assert email.message_from_bytes(data, policy=policy.default)["Message-ID"] == "<r-1@mailbot.test>"
    out.send(FROM, ["mz@xiji.test"], make_message(message_id="<r-2@mailbot.test>"))
    assert len(list((tmp_path / "outbox").iterdir())) == 2
    assert out.file_for(raw) == files[0]


def test_open_sender_from_config(tmp_path, smtp_server):
    o = open_sender({"backend": "outbox", "path": "demo/outbox"}, tmp_path, None)
    assert isinstance(o, OutboxSender) and o.path == tmp_path / "demo" / "outbox"
    s = open_sender({"host": "smtp.163.com", "username": FROM}, tmp_path, "code", per_minute=7)
    assert (s.port, s.security, s.username, s.per_minute) == (465, "ssl", FROM, 7)
    assert "code" not in repr(s)
    s = open_sender({"host": "h", "security": "starttls", "username": ""}, tmp_path, None)
    assert (s.port, s.username) == (587, "")
    # empty username: a local relay, no AUTH
    relay = open_sender({"host": smtp_server.host, "port": str(smtp_server.port), "security": "none",
                         "username": ""}, tmp_path, None)
    relay.send(FROM, ["a@x.test"], make_message())
    relay.close()
    assert len(smtp_server.received) == 1
    with pytest.raises(SendConfigError) as e:
        open_sender({"host": "h", "username": FROM}, tmp_path, None)
    assert "password_env" in str(e.value)
    for bad in ({"backend": "mbox"}, {"host": "h", "port": "x"}, {"host": "h", "security": "tls"}, {}):
        with pytest.raises(SendConfigError):
            open_sender(bad, tmp_path, "p")


def test_non_ascii_address_is_permanent(smtp_server):
    with pytest.raises(PermanentFailure) as e:
        sender(smtp_server).send(FROM, ["民政局@xiji.test"], make_message())
    assert "非 ASCII" in str(e.value)
    assert smtp_server.attempts == []
