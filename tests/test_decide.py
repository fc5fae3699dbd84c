"""decide.py: one decision per mail from a chain of named rules, with the trail that explains it."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from mailbot.mailin import authenticity
from mailbot.demo import samples
from mailbot.office.decide import CHAIN, FILED, REPLY_ACK, REPLY_NOFILE, REPLY_QUERY, Incoming, decide
from mailbot.mailin.identify import Identity
from mailbot.mailin.parse import parse_message

OFFICE = "xjxzwgkb@163.com"
MZJ = Identity("西吉县民政局", True, "plan", "发件地址在单位名单中")
PASS = authenticity.Verdict(authenticity.PASS, "", (), True, "xjmzj@163.com")


def _mail(*, attach=True, subject="民政局政府开放日实施方案", text="附件是方案。", sender="xjmzj@163.com", **kw):
    b = samples.MailBuilder(from_addr=sender, to=OFFICE, subject=subject, date=datetime(2022, 8, 20, 9),
                            text=text, **kw)
    if attach:
        b.attach("民政局实施方案.docx", samples.plan_docx("西吉县民政局", activity=date(2022, 9, 6)))
    return parse_message(b.build())


def _in(mail=None, **kw) -> Incoming:
    base = Incoming(mail=mail or _mail(), who=MZJ, received=date(2022, 8, 20), verdict=PASS,
                    own_addresses=(OFFICE,), max_per_sender=10, max_per_unit=15)
    return replace(base, **kw)


def test_a_plain_submission_runs_the_whole_chain_and_is_filed_with_an_ack():
    d = decide(_in())
    assert (d.status, d.reply, d.reason) == (FILED, REPLY_ACK, None)
    assert d.trail == tuple(r.name for r in CHAIN)


@pytest.mark.parametrize("change, status, rule, reply", [
    (dict(mail=_mail(sender=OFFICE)), "own", "own", None),
    (dict(accept_from=date(2022, 8, 21)), "before", "before", None),
    (dict(verdict=authenticity.Verdict(authenticity.FAIL, "DKIM 签名验证失败", (), True)), "untrusted", "untrusted", None),
    (dict(verdict=authenticity.Verdict(authenticity.PENDING, "DNS 暂时失败", (), True)), "untrusted", "untrusted", None),
    (dict(who=Identity(None, False, None, "发件地址不在名单中")), "unmatched", "unmatched", None),
    (dict(who=Identity("西吉县民政局", False, "plan", "按主题识别")), "unconfirmed", "unconfirmed", None),
    (dict(mail=_mail(attach=False, text="见附件")), "noattach", "no-files", REPLY_NOFILE),
    (dict(mail=_mail(attach=False, subject="回复：民政局实施方案", text="好的")), "noattach", "no-files", None),
    (dict(mail=_mail(attach=False, subject="民政局查询进度", text="请问我局的方案审核了吗？")), "query", "query", REPLY_QUERY),
    (dict(mail=_mail(attach=False, subject="进度查询"), queries_today_for_unit=3, max_queries_per_unit=3),
     "query", "query", None),
    (dict(filed_today_by_sender=10), "flood", "flood", None),
    (dict(filed_today_for_unit=15), "flood", "flood", None),
])
def test_each_rule_decides_with_its_reason(change, status, rule, reply):
    d = decide(_in(**change))
    assert (d.status, d.rule, d.reply) == (status, rule, reply)
    assert d.reason                                              # always a Chinese reason for a hold
    assert d.trail[-1] == rule and len(d.trail) == [r.name for r in CHAIN].index(rule) + 1


def test_an_untrusted_mail_naming_no_unit_is_unmatched_with_both_reasons():
    d = decide(_in(verdict=authenticity.Verdict(authenticity.FAIL, "发件人（From）含有 2 个地址", (), False),
                   who=Identity(None, False, None, "发件地址不在名单中")))
    assert d.status == "unmatched" and "From" in d.reason and "名单" in d.reason


def test_an_adjustment_in_the_mail_text_is_filed():
    text = "因场地维修，我局政府开放日活动时间由9月6日调整为9月7日上午9:00，地点不变，特此报告。"
    d = decide(_in(mail=_mail(attach=False, subject="民政局开放日活动调整", text=text),
                   who=replace(MZJ, kind="adjustment")))
    assert d.status == FILED


def test_a_bounce_is_automatic_before_anything_else_is_asked():
    bounce = parse_message(samples.bounce(OFFICE, _raw_plan(), date=datetime(2022, 8, 20, 9, 5)))
    d = decide(_in(mail=bounce, verdict=authenticity.Verdict(authenticity.FAIL, "x", (), True)))
    assert d.status == "automatic" and "untrusted" not in d.trail


def _raw_plan() -> bytes:
    return samples.MailBuilder(from_addr=OFFICE, to="xjmzj@163.com", subject="回执：民政局实施方案",
                               date=datetime(2022, 8, 20, 9)).build()


@pytest.mark.parametrize("subject, attach, text, status", [
    ("查询进度", False, "请问进度", "query"),
    ("Re: 查询 进度", False, "请问进度", "query"),                         # NFKC, spaces, a reply of theirs
    ("民政局实施方案（请查询审核进度）", True, "附件是方案。", FILED),        # with a file: a submission
    ("查询进度", False, "超大附件 https://mail.163.com/large_attach/x", FILED),   # a download link stands for a file
    ("回复：查询结果：西吉县民政局报送进度", False, "收到，谢谢", "noattach"),  # a reply to our answer
    ("回复：回执：民政局实施方案已收到（查询）", False, "好的", "noattach"),
])
def test_what_counts_as_a_query(subject, attach, text, status):
    d = decide(_in(mail=_mail(attach=attach, subject=subject, text=text), who=replace(MZJ, kind=None)))
    assert d.status == status, d


def test_a_query_from_an_untrusted_or_unknown_sender_is_never_answered():
    mail = _mail(attach=False, subject="查询进度")
    forged = decide(_in(mail=mail, verdict=authenticity.Verdict(authenticity.FAIL, "DKIM 签名验证失败", (), True)))
    unknown = decide(_in(mail=mail, who=Identity(None, False, None, "发件地址不在名单中")))
    by_content = decide(_in(mail=mail, who=Identity("西吉县民政局", False, None, "按主题识别")))
    assert [(d.status, d.reply) for d in (forged, unknown, by_content)] == [
        ("untrusted", None), ("unmatched", None), ("unconfirmed", None)]


def test_answering_queries_can_be_switched_off():
    d = decide(_in(mail=_mail(attach=False, subject="查询进度"), max_queries_per_unit=0))
    assert (d.status, d.reply) == ("query", None) and "已关闭" in d.reason
