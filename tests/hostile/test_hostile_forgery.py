"""Forged senders, through a real poll (private Dovecot in, aiosmtpd out, `mailbot` as a process).

The attacks of issue 8 §1, 4 and 6, each with the outcome an office needs:
- unsigned mail "from" a 163.com department address, a signature by another domain, an altered
  signed mail, a trusted Authentication-Results failure with forged passes below it, From headers
  carrying two addresses → held as 待核实: archived, recorded with the reason, never filed, never
  answered, listed in the digest with its 编号; `mailbot accept 编号` files and acknowledges it;
- a forged v2 cannot turn an approved (已备案) plan back to 需修改;
- eight forgeries before a genuine mail do not use up the unit's ack cap: the genuine one is
  answered; a flood of genuine mail over the daily filing quota is held with ONE digest line;
- an encoded-word Message-ID hiding CRLF never becomes a header or a body part of the 回执.
Unit tests at the bottom pin the verdicts (DKIM with a test key served by a loopback DNS server).
"""
from __future__ import annotations

import email
import socket
import sqlite3
import threading
from datetime import date, datetime
from email import policy
from pathlib import Path

import pytest

from mailbot.mailin import authenticity
from mailbot.demo import samples
from mailbot.mailin.authenticity import FAIL, NONE, PASS, PENDING, Policy, assess

from test_e2e_mailbox import Office, PASSWORD
from servers import unique_user

OFFICE_ADDR = "xjxzwgkb@163.com"
MZJ = "xjmzj@163.com"                    # 西吉县民政局 on the shipped roster
GOV = "tjj@xiji-test.gov.cn"             # a unit on its own domain (added to the roster below)
AUTHSERV = "mx.office-test.cn"


def _day(d: int, hh: int = 9, mm: int = 0) -> datetime:
    return samples._at(date(2022, 8, d), hh, mm)


def plan_mail(sender: str = MZJ, *, unit: str = "西吉县民政局", subject: str = "西吉县民政局政府开放日实施方案",
              when: datetime | None = None, dkim: bool = True, headers=(), message_id: str | None = None,
              participants: int = 30, note: str = "") -> bytes:
    b = samples.MailBuilder(from_addr=sender, from_name="李红霞", to=OFFICE_ADDR, subject=subject,
                            date=when or _day(20), client="foxmail", dkim=dkim, message_id=message_id,
                            text=f"您好，附件是我局的实施方案，请审阅。{note}", headers=list(headers))
    b.attach(f"{unit}政府开放日实施方案.docx",
             samples.plan_docx(unit, activity=date(2022, 9, 6), theme="阳光民政 温暖相伴", participants=participants,
                               contact="李红霞", phone="0954-3012103", region="西吉县"))
    return b.build()


def with_from(raw: bytes, from_value: str) -> bytes:
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    out = [(b"From: " + from_value.encode("utf-8")) if ln.startswith(b"From:") else ln for ln in lines]
    return b"\r\n".join(out) + sep + body


@pytest.fixture
def office(tmp_path, dovecot, smtp_server):
    user = unique_user("forge")
    dovecot.add_user(user, PASSWORD)
    off = Office(tmp_path / "office", dovecot, smtp_server, user)
    cfg = off.root / "config.ini"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("authserv_id =", f"authserv_id = {AUTHSERV}"),
                   encoding="utf-8")
    roster = off.root / "rules" / "units.csv"
    lines = [ln for ln in roster.read_text(encoding="utf-8-sig").splitlines() if not ln.startswith("西吉县统计局,")]
    roster.write_text("\n".join(lines + [f"西吉县统计局,{GOV},马丽,0954-3019001,统计局"]) + "\n", encoding="utf-8")
    off.user = user
    return off


def _ledger(off: Office):
    db = sqlite3.connect(off.root / "var" / "mailbot.sqlite3")
    db.row_factory = sqlite3.Row
    return db


def _acks(smtp) -> list[tuple[tuple[str, ...], email.message.EmailMessage]]:
    return [(r.rcpt_tos, email.message_from_bytes(r.raw, policy=policy.default)) for r in smtp.received
            if "回执".encode() in r.raw or b"=?utf-8?" in r.raw[:2000]]


def test_forgeries_are_held_never_answered_and_accept_files_them(office, dovecot, smtp_server):
    genuine = plan_mail(when=_day(20, 9))
    forged_unsigned = plan_mail(when=_day(20, 10), dkim=False, subject="民政局实施方案（修改版）", participants=10)
    foreign_sig = samples.demo_dkim_sign(plan_mail(when=_day(20, 11), dkim=False), "evil-example.com", _day(20))
    altered = plan_mail(when=_day(20, 12)).replace(b"Date: ", b"Date: Sun, 21 Aug 2022 09:00:00 +0800\r\nX-Was: ", 1)
    two_froms = with_from(plan_mail(when=_day(20, 13), dkim=False),
                          '"县民政局" <xjmzj@163.com>, <attacker@evil-example.com>')
    paren = with_from(plan_mail(when=_day(20, 14), dkim=False), "xjmzj@163.com)<attacker@evil-example.com>")
    # the office's provider says SPF failed; the sender wrote "pass" lines below it
    ar_fail = plan_mail(GOV, unit="西吉县统计局", subject="统计局政府开放日实施方案", when=_day(20, 15), headers=[
        ("Authentication-Results", f"{AUTHSERV}; spf=fail smtp.mailfrom={GOV}; dkim=none"),
        ("Authentication-Results", f"{AUTHSERV}; spf=pass smtp.mailfrom={GOV}; dkim=pass header.d=xiji-test.gov.cn"),
    ])
    # the same with the trusted header passing and a forged failure below: trusted, filed
    ar_pass = plan_mail(GOV, unit="西吉县统计局", subject="统计局政府开放日实施方案", when=_day(21, 9), headers=[
        ("Authentication-Results", f"{AUTHSERV}; spf=pass smtp.mailfrom={GOV}; dkim=none"),
        ("Authentication-Results", f"{AUTHSERV}; spf=fail smtp.mailfrom={GOV}"),
    ])
    forged = [forged_unsigned, foreign_sig, altered, two_froms, paren, ar_fail]
    for raw in (genuine, *forged, ar_pass):
        dovecot.append(office.user, raw, internaldate=_day(20, 16))

    run = office.mailbot("poll")
    assert run.returncode == 0, run.stderr

    db = _ledger(office)
    rows = db.execute("SELECT m.id, m.status, m.unit, m.reason, m.from_addr, t.level FROM messages m "
                      "LEFT JOIN trust t ON t.message = m.id ORDER BY m.uid").fetchall()
    statuses = [r["status"] for r in rows]
    assert statuses[0] == "filed" and rows[0]["level"] == PASS
    assert statuses[-1] == "filed" and rows[-1]["level"] == NONE           # trusted A-R pass, no DKIM
    held = rows[1:-1]
    assert [r["status"] for r in held] == ["untrusted"] * len(forged)
    assert all(r["level"] == FAIL for r in held)
    assert all(r["unit"] in ("西吉县民政局", "西吉县统计局") for r in held)
    reasons = [r["reason"] for r in held]
    assert "DKIM" in reasons[0] and "163.com" in reasons[0]
    assert "DKIM" in reasons[1]                                              # evil-example.com signature only
    assert "签名验证失败" in reasons[2]
    assert "From" in reasons[3] and "From" in reasons[4]
    assert "SPF" in reasons[5]
    # held mail is archived raw under _待核实, not under the unit's folder
    for r in held:
        raw_path = db.execute("SELECT raw_path FROM messages WHERE id=?", (r["id"],)).fetchone()[0]
        assert "/_待核实/" in f"/{raw_path}"
        assert (office.root / "archive" / raw_path).is_file()
    # exactly two acks went out: to the genuine 民政局 mail and to the trusted 统计局 mail
    acks = _acks(smtp_server)
    assert sorted(to for to, _ in acks) == sorted([(MZJ,), (GOV,)])
    assert not any("evil-example.com" in " ".join(r.rcpt_tos) for r in smtp_server.received)
    plan = db.execute("SELECT version, outcome FROM messages WHERE unit='西吉县民政局' AND status='filed'").fetchall()
    assert [tuple(p) for p in plan] == [(1, "待审核")]                      # the forged 10-person v2 never filed

    # the digest lists every held mail with its number and what to do
    dig = office.mailbot("digest", "--dry-run")
    assert dig.returncode == 0, dig.stderr
    for r in held:
        assert f"待核实（编号 {r['id']}）" in dig.stdout
    assert "mailbot accept" in dig.stdout

    # after a phone call the office accepts the unsigned one: filed as v2 and acknowledged
    listing = office.mailbot("accept")
    assert f"编号 {held[0]['id']}" in listing.stdout
    acc = office.mailbot("accept", str(held[0]["id"]))
    assert acc.returncode == 0, acc.stdout + acc.stderr
    assert "第2版" in acc.stdout
    row = db.execute("SELECT status, version, uid FROM messages WHERE id=?", (held[0]["id"],)).fetchone()
    assert tuple(row)[:2] == ("filed", 2)
    flagged = {m.uid for m in dovecot.messages(office.user)
               if "$Filed" in {f.decode() if isinstance(f, bytes) else f for f in m.flags}}
    assert row[2] in flagged and len(flagged) == 3               # the accepted mail is marked like the filed ones
    assert len(_acks(smtp_server)) == 3
    # accepting something that is not held is refused, in Chinese
    again = office.mailbot("accept", str(rows[0]["id"]))
    assert again.returncode == 1 and "只有待核实" in again.stdout
    db.close()


def test_forged_v2_cannot_undo_an_approval_and_forgeries_do_not_eat_the_ack_cap(office, dovecot, smtp_server):
    dovecot.append(office.user, plan_mail(when=_day(19, 9)), internaldate=_day(19, 9))
    assert office.mailbot("poll").returncode == 0
    rev = office.mailbot("review", "民政局", "--approve")
    assert rev.returncode == 0, rev.stderr
    approved = office.mailbot("status").stdout
    assert "已备案" in approved
    # eight unsigned forgeries (a 5-person "v2" and more): nothing changes, nobody is answered
    for i in range(8):
        dovecot.append(office.user, plan_mail(when=_day(20, 8, i), dkim=False, participants=5,
                                              subject=f"民政局实施方案 第{i + 2}版"), internaldate=_day(20, 8))
    before = len(smtp_server.received)
    assert office.mailbot("poll").returncode == 0
    def row(text):
        return [ln for ln in text.splitlines() if ln.startswith("西吉县民政局")]
    after = office.mailbot("status").stdout
    assert row(after) == row(approved) and "已备案" in row(after)[0]
    assert "待核实（疑似冒用） 8 封" in after
    assert len(smtp_server.received) == before
    # the unit's genuine adjustment the same day is still answered: forgeries used none of the cap
    b = samples.MailBuilder(from_addr=MZJ, from_name="李红霞", to=OFFICE_ADDR, subject="民政局政府开放日活动调整",
                            date=_day(20, 11), client="foxmail",
                            text="因场地维修，我局政府开放日活动时间由9月6日调整为9月7日上午9:00，地点不变，特此报告。")
    dovecot.append(office.user, b.build(), internaldate=_day(20, 11))
    assert office.mailbot("poll").returncode == 0
    db = _ledger(office)
    counts = dict(db.execute("SELECT status, COUNT(*) FROM messages GROUP BY status").fetchall())
    assert counts == {"filed": 2, "untrusted": 8}
    new = smtp_server.received[before:]
    assert len(new) == 1 and new[0].rcpt_tos == (MZJ,)
    db.close()


def test_a_flood_over_the_daily_quota_is_held_with_one_digest_line(office, dovecot, smtp_server):
    cfg = office.root / "config.ini"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("max_filed_per_sender_per_day = 10",
                                                          "max_filed_per_sender_per_day = 3"), encoding="utf-8")
    for i in range(7):
        dovecot.append(office.user, plan_mail(when=_day(22, 9, i), subject=f"民政局实施方案（第{i + 1}次发送）",
                                              participants=30 + i), internaldate=_day(22, 9))
    assert office.mailbot("poll").returncode == 0
    db = _ledger(office)
    counts = dict(db.execute("SELECT status, COUNT(*) FROM messages GROUP BY status").fetchall())
    assert counts == {"filed": 3, "flood": 4}
    assert len(smtp_server.received) == 3
    dig = office.mailbot("digest", "--dry-run").stdout
    assert dig.count("超出每日登记上限：") == 1 and "有 4 封未登记" in dig
    db.close()


def test_an_injected_message_id_never_reaches_the_ack_headers(office, dovecot, smtp_server):
    evil = "<=?utf-8?q?x=0D=0ABcc:_victim@evil-example.com=0D=0A=0D=0A<h1>phish</h1>?=@163.com>"
    refs = ("References", "<ok-1@163.com> =?utf-8?q?=0D=0AX-Injected:_1?= <a\r\n b@c> <=?utf-8?q?y=0D=0A?=@x>")
    dovecot.append(office.user, plan_mail(when=_day(20, 9), message_id=evil), internaldate=_day(20, 9))
    dovecot.append(office.user, plan_mail(when=_day(20, 10), message_id="<good-2@163.com>", headers=[refs]),
                   internaldate=_day(20, 10))
    assert office.mailbot("poll").returncode == 0
    assert [r.rcpt_tos for r in smtp_server.received] == [(MZJ,), (MZJ,)]
    first, second = (email.message_from_bytes(r.raw, policy=policy.default) for r in smtp_server.received)
    base = ["From", "To", "Subject", "Date", "Message-ID"]
    tail = ["Auto-Submitted", "X-Auto-Response-Suppress", "X-Mailer", "MIME-Version", "Content-Type"]
    assert list(first.keys()) == base + tail                              # the evil id is dropped, not copied
    assert list(second.keys()) == base + ["In-Reply-To", "References"] + tail
    assert second["In-Reply-To"] == "<good-2@163.com>"
    assert second["References"] == "<ok-1@163.com> <good-2@163.com>"
    for rec in smtp_server.received:
        text = rec.raw.decode("utf-8", "replace")
        assert "evil-example" not in text and "phish" not in text and "X-Injected" not in text
    for ack in (first, second):
        assert [p.get_content_type() for p in ack.walk()] == ["multipart/alternative", "text/plain", "text/html"]


def test_build_refuses_a_header_value_with_a_line_break(tmp_path):
    from mailbot.mailout.compose import HeaderInjection, build
    from mailbot.config import load_config
    from mailbot.defaults import init_folder
    init_folder(tmp_path)
    cfg = load_config(tmp_path / "config.ini")
    ok = build(cfg, to=[MZJ], subject="回执", text="t", html="<p>t</p>", auto_submitted="auto-replied",
               message_id="<a@b>", in_reply_to="<x@y>")
    assert b"In-Reply-To: <x@y>" in ok
    for bad in (dict(subject="回执\r\nBcc: v@evil-example.com"), dict(to=["a@b\nBcc: v@evil-example.com"]),
                dict(in_reply_to="<=?utf-8?q?a=0D=0A?=@x>"), dict(in_reply_to="<x@y>", references="<x@y> junk")):
        kw = dict(to=[MZJ], subject="回执", text="t", html="<p>t</p>", auto_submitted="auto-replied",
                  message_id="<a@b>") | bad
        with pytest.raises(HeaderInjection):
            build(cfg, **kw)


# --- verdicts, unit level ----------------------------------------------------------------------

KEYS = samples.DEMO_DKIM_KEYS


def _signed(**kw) -> bytes:
    return plan_mail(**kw)


def test_dkim_verdicts_with_the_test_key():
    pol = Policy(sign_required=("163.com",), dkim_keys=KEYS)
    assert assess(_signed(), pol).level == PASS
    assert assess(_signed(dkim=False), pol).level == FAIL
    tampered = _signed().replace(b"Subject: ", b"Subject: Re: ", 1)
    assert assess(tampered, pol).level == FAIL
    # a subdomain signature aligns (vip.163.com mail signed d=163.com)
    vip = samples.demo_dkim_sign(_signed(sender="xjmzj@vip.163.com", dkim=False), "163.com", _day(20))
    assert assess(vip, pol).level == PASS
    # unsigned mail from a domain that does not always sign: no evidence either way
    assert assess(_signed(sender=GOV, unit="西吉县统计局", dkim=False), pol).level == NONE


def test_an_l_tag_signature_is_not_counted():
    import dkim
    raw = _signed(dkim=False)
    sig = dkim.sign(raw, b"mailbot-demo", b"163.com", samples.DEMO_DKIM_KEY.read_bytes(), length=True)
    pol = Policy(sign_required=("163.com",), dkim_keys=KEYS)
    verdict = assess(sig + raw + b"\r\nappended by someone else\r\n", pol)
    assert verdict.level == FAIL and any("l=" in e for e in verdict.evidence)


def test_only_the_topmost_authres_of_our_provider_is_believed():
    pol = Policy(authserv_ids=("mx*.163.com",), sign_required=())
    base = _signed(sender=GOV, unit="西吉县统计局", dkim=False)
    top = b"Authentication-Results: mx19.163.com; dkim=fail header.d=xiji-test.gov.cn\r\n"
    lower = b"Authentication-Results: mx19.163.com; dkim=pass header.d=xiji-test.gov.cn\r\n"
    assert assess(top + lower + base, pol).level == FAIL
    assert assess(lower + top + base, pol).level == PASS
    other = b"Authentication-Results: relay.evil-example.com; dkim=fail; spf=fail\r\n"
    assert assess(other + base, pol).level == NONE                          # not our provider: ignored


@pytest.mark.parametrize("value", [
    '"县民政局" <xjmzj@163.com>, <attacker@evil-example.com>',
    "xjmzj@163.com)<attacker@evil-example.com>",
    "xjmzj@163.com <attacker@evil-example.com>",
    'x <"xjmzj@163.com"@evil-example.com>',
    "民政局: xjmzj@163.com;",
])
def test_a_from_that_is_not_one_address_is_never_matched(value, tmp_path):
    from mailbot.app import open_app
    from mailbot.defaults import init_folder
    from mailbot.mailin.parse import parse_message
    from mailbot.office.prepare import identify_sender
    raw = with_from(_signed(dkim=False), value)
    verdict = assess(raw, Policy(sign_required=()))
    assert verdict.level == FAIL and not verdict.from_ok
    init_folder(tmp_path, demo_keys=True)
    app = open_app(tmp_path / "config.ini", "2022-08-20")
    who = identify_sender(app, parse_message(raw), verdict)
    assert not who.confirmed                                               # never the roster's word
    app.close()


class _DnsServer:
    """A one-zone UDP DNS server on loopback (dnspython), answering TXT from the demo key file."""

    def __init__(self, port: int = 0):
        import dns.message
        import dns.rrset
        self.records = {name + ".": txt for name, txt in
                        (ln.split(" ", 1) for ln in KEYS.read_text(encoding="utf-8").splitlines()
                         if ln.strip() and not ln.startswith("#"))}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.port = self.sock.getsockname()[1]
        self.queries = 0
        self._dns = (dns.message, dns.rrset)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        message, rrset = self._dns
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            self.queries += 1
            q = message.from_wire(data)
            r = message.make_response(q)
            name = q.question[0].name.to_text().lower()
            if name in self.records:
                txt = self.records[name]
                chunks = " ".join(f'"{txt[i:i + 200]}"' for i in range(0, len(txt), 200))
                r.answer.append(rrset.from_text(name, 300, "IN", "TXT", chunks))
            else:
                r.set_rcode(3)   # NXDOMAIN
            try:
                self.sock.sendto(r.to_wire(), peer)
            except OSError:      # closed meanwhile
                return

    def close(self):
        self.sock.close()


def test_dkim_keys_fetched_over_dns_and_a_dead_server_means_retry_then_policy():
    server = _DnsServer()
    try:
        pol = Policy(sign_required=("163.com",), dns_servers=(f"127.0.0.1:{server.port}",), dns_timeout=1)
        assert assess(_signed(), pol).level == PASS
        assert server.queries >= 1
    finally:
        server.close()
    # nobody answers now: a temporary failure, decided later; after the retry window, by policy
    dead = Policy(sign_required=("163.com",), dns_servers=(f"127.0.0.1:{server.port}",), dns_timeout=0.3)
    pending = assess(_signed(), dead)
    assert pending.level == PENDING and not pending.trusted
    assert assess(_signed(), dead, dns_given_up=True).level == FAIL
    lenient = Policy(sign_required=(), dns_servers=dead.dns_servers, dns_timeout=0.3)
    assert assess(_signed(), lenient, dns_given_up=True).level == NONE


def test_a_dns_outage_holds_the_mail_and_a_later_poll_files_it(tmp_path):
    """In process on the Maildir backend: the DNS server is down for the first poll (held as
    待核实, pending), up for the second (filed, acknowledged once)."""
    import mailbox
    from mailbot.app import open_app
    from mailbot.defaults import init_folder
    from mailbot.office.pipeline import poll
    init_folder(tmp_path)                                  # an office's folder: no demo keys
    server = _DnsServer()
    port = server.port
    server.close()
    cfg = tmp_path / "config.ini"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("dns_servers =", f"dns_servers = 127.0.0.1:{port}")
                   .replace("dns_timeout = 5", "dns_timeout = 0.3"), encoding="utf-8")
    (tmp_path / "var").mkdir(exist_ok=True)
    md = mailbox.Maildir(tmp_path / "var" / "maildir", create=True)
    md.add(mailbox.MaildirMessage(_signed()))
    app = open_app(cfg, "2022-08-22")
    poll(app)
    row = app.ledger.messages()[0]
    assert row.status == "untrusted" and "DNS" in row.reason
    assert app.ledger.trust(row.id).level == PENDING
    assert not app.ledger.outgoing()
    # DNS is back on the same port, after the one-minute "down" memory has passed
    authenticity._LOOKUPS.clear()
    try:
        back = _DnsServer(port)
    except OSError:
        pytest.skip("the DNS test port was taken meanwhile")
    try:
        report = poll(app)
    finally:
        back.close()
    row = app.ledger.message(row.id)
    assert row.status == "filed" and report.confirmed == 1
    assert [o.purpose for o in app.ledger.outgoing()] == ["ack"]
    assert app.ledger.trust(row.id).level == PASS
    app.close()


def test_inspect_explains_the_verdict(tmp_path):
    import json
    import subprocess
    import sys
    from mailbot.defaults import init_folder
    init_folder(tmp_path, demo_keys=True)
    forged, genuine = tmp_path / "forged.eml", tmp_path / "genuine.eml"
    forged.write_bytes(plan_mail(dkim=False))
    genuine.write_bytes(plan_mail())
    run = subprocess.run([sys.executable, "-m", "mailbot", "--config", str(tmp_path / "config.ini"), "inspect",
                          "--json", str(forged), str(genuine)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert [o["sender_trust"]["level"] for o in out] == [FAIL, PASS]
    assert "DKIM" in out[0]["sender_trust"]["reason"]
    assert any("d=163.com pass" in e for e in out[1]["sender_trust"]["evidence"])


def test_a_dns_outage_costs_one_timeout_per_minute_not_one_per_mail():
    """During an outage the first lookup times out; the next ones (other mails of the same poll)
    fail at once; after DOWN_TTL the server is asked again."""
    server = _DnsServer()
    port = server.port
    server.close()
    now = [1000.0]
    lookup = authenticity.KeyLookup(Policy(sign_required=("163.com",), dns_servers=(f"127.0.0.1:{port}",),
                                           dns_timeout=0.3), clock=lambda: now[0])
    for i in range(5):
        v = assess(_signed(when=_day(20, 9, i)), lookup.pol, lookup)
        assert v.level == PENDING
    assert lookup.queries == 1
    now[0] += authenticity.DOWN_TTL + 1
    revived = _DnsServer(port)
    try:
        assert assess(_signed(), lookup.pol, lookup).level == PASS
        assert assess(_signed(when=_day(21)), lookup.pol, lookup).level == PASS
    finally:
        revived.close()
    assert lookup.queries == 2                                             # the key is cached


def test_inspect_shows_the_decision_and_never_matches_a_two_address_from(tmp_path):
    import json
    import subprocess
    import sys
    from mailbot.defaults import init_folder
    init_folder(tmp_path, demo_keys=True)
    two = tmp_path / "two.eml"
    two.write_bytes(with_from(plan_mail(dkim=False), '"民政局" <xjmzj@163.com>, <attacker@evil-example.com>'))
    ok = tmp_path / "ok.eml"
    ok.write_bytes(plan_mail())
    run = subprocess.run([sys.executable, "-m", "mailbot", "--config", str(tmp_path / "config.ini"), "--today",
                          "2022-08-20", "inspect", "--json", str(two), str(ok)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    first, second = json.loads(run.stdout)
    assert first["decision"]["status"] == "untrusted" and first["decision"]["rule"] == "untrusted"
    assert second["decision"]["status"] == "filed" and second["decision"]["reply"] == "ack"
    assert second["decision"]["trail"][-1] == "flood"
