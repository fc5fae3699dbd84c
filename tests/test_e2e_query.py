"""查询 by mail on real servers: Dovecot in, aiosmtpd out, `mailbot poll` as a subprocess. A unit
that filed its plan asks "查询进度": exactly one 查询结果 goes out over SMTP, to it, threaded to
the question; a forged 查询 gets nothing; the question is not marked $Filed; a second poll sends
nothing more."""
from __future__ import annotations

import email
from datetime import date, datetime, timedelta, timezone
from email import policy

from mailbot.demo import samples
from mailbot.mailin.parse import parse_message
from servers import unique_user
from test_e2e_mailbox import OFFICE, PASSWORD, Office

TZ = timezone(timedelta(hours=8))
UNIT, ADDR = "西吉县民政局", "xjmzj@163.com"


def _mail(subject: str, when: datetime, files=(), *, dkim: bool = True) -> bytes:
    b = samples.MailBuilder(from_addr=ADDR, to=OFFICE, subject=subject, date=when, dkim=dkim,
                            text="您好，请帮忙查一下我局材料的报送和审核情况。")
    for name, data in files:
        b.attach(name, data)
    return b.build()


def test_a_query_is_answered_once_over_smtp_and_a_forged_one_not_at_all(tmp_path, dovecot, smtp_server):
    user = unique_user("query")
    office = Office(tmp_path / "office", dovecot, smtp_server, user)
    dovecot.add_user(user, PASSWORD)
    plan_at, ask_at, forged_at = (datetime(2022, 9, d, 10, tzinfo=TZ) for d in (1, 29, 29))
    plan = _mail("西吉县民政局政府开放日实施方案", plan_at,
                 [("民政局开放日实施方案.docx", samples.plan_docx(UNIT, activity=date(2022, 10, 18)))])
    ask = _mail("查询进度", ask_at)
    forged = _mail("查询进度（转）", forged_at.replace(hour=11), dkim=False)
    for raw, when in ((plan, plan_at), (ask, ask_at), (forged, forged_at.replace(hour=11))):
        dovecot.append(user, raw, internaldate=when)

    r = office.mailbot("poll")
    assert r.returncode == 0, r.stderr
    sent = [email.message_from_bytes(rec.raw, policy=policy.default) for rec in smtp_server.received]
    answers = [m for m in sent if str(m["Subject"]).startswith("查询结果：")]
    assert len(answers) == 1 and len(sent) == 2                        # the plan's 回执 and one answer
    answer = answers[0]
    assert str(answer["To"]) == ADDR and str(answer["In-Reply-To"]) == parse_message(ask).message_id
    text = answer.get_body(("plain",)).get_content()
    assert "实施方案：" in text and "第 1 版" in text and "2022年9月1日" in text and "活动日期：2022年10月18日" in text

    flags = [{f.decode() if isinstance(f, bytes) else f for f in s.flags} for s in dovecot.messages(user)]
    assert ["$Filed" in f for f in flags] == [True, False, False]      # only the plan is a filing
    assert not any("\\Seen" in f for f in flags)

    r = office.mailbot("poll")
    assert r.returncode == 0, r.stderr
    assert len(smtp_server.received) == 2
