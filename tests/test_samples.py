"""mailbot.samples: the builder's output really is what it claims (read back with the stdlib
parser, policy.default), the documents open in python-docx, and the demo mailbox is
deterministic and names only roster units."""
from __future__ import annotations

import hashlib
import io
import mailbox
import os
import re
from datetime import date, datetime, timedelta, timezone
from email import policy
from email.parser import BytesParser
from pathlib import Path

import docx
import pytest

from mailbot.demo import samples
from mailbot.demo.docs import ANNOUNCEMENT_ITEMS
from mailbot.demo.mailbuilder import DOCX_TYPE, FILENAME_STYLES, MailBuilder

ROOT = Path(__file__).resolve().parents[1]
TZ = timezone(timedelta(hours=8))
OFFICE = "xjxzwgkb@163.com"
LONG_NAME = "西吉县人力资源和社会保障局2022年“政府开放日”活动实施方案（修改稿，请审核备案）.docx"
SHORT_NAME = "民政局开放日方案.docx"
SUBJECT = "关于报送西吉县民政局2022年“政府开放日”活动实施方案的函"
DATA = b"PK\x03\x04" + hashlib.sha256(b"x").digest() * 300   # binary, with every kind of byte


def parse(raw: bytes):
    return BytesParser(policy=policy.default).parsebytes(raw)


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def build(**kw) -> bytes:
    args = dict(from_addr="xjmzj@163.com", from_name="李红霞", to=OFFICE, subject=SUBJECT,
                date=datetime(2022, 8, 17, 15, 40, tzinfo=TZ), text="附件请查收。")
    args.update(kw)
    return MailBuilder(**args)


@pytest.fixture(scope="module")
def demo(campaign, roster):
    return samples.demo_mails(campaign, roster, OFFICE)


# ------------------------------------------------------------------ attachments' file names


@pytest.mark.parametrize("name", [LONG_NAME, SHORT_NAME, "plan-v2.docx"])
@pytest.mark.parametrize("style", [s for s in FILENAME_STYLES if s != "raw-gbk"])
@pytest.mark.parametrize("client", sorted(samples.CLIENTS))
def test_filename_decodes_to_the_intended_name(client, style, name):
    raw = build(client=client).attach(name, DATA, filename_style=style).build()
    msg = parse(raw)
    (att,) = list(msg.iter_attachments())
    assert att.get_filename() == name
    assert sha(att.get_content()) == sha(DATA)
    assert att.get_content_type() == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_rfc2231_long_name_uses_continuations_and_iphone_stand_in():
    raw = build(client="iphone").attach(LONG_NAME, DATA, filename_style="rfc2231").build()
    assert b"filename*0*=UTF-8''%E8%A5%BF" in raw
    assert b"filename*1*=" in raw
    # iPhone: the real name only in filename*, an ASCII stand-in in name=
    assert re.search(rb'name="_+2022_+\.docx"', raw)
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_rfc2231_gbk_is_labelled_gbk():
    raw = build().attach(SHORT_NAME, DATA, filename_style="rfc2231-gbk").build()
    assert b"filename*=gbk''" in raw
    quoted = re.search(rb"filename\*=gbk''(\S+)", raw).group(1)
    from urllib.parse import unquote_to_bytes
    assert unquote_to_bytes(quoted.decode()).decode("gbk") == SHORT_NAME


def test_rfc2047_gbk_is_foxmail_style():
    raw = build(client="foxmail").attach(LONG_NAME, DATA).build()
    assert b'filename="=?GBK?B?' in raw and b'name="=?GBK?B?' in raw
    assert b"X-Mailer: Foxmail" in raw


def test_raw_gbk_headers_are_really_8bit_gbk():
    raw = build(client="legacy").attach(LONG_NAME, DATA).build()
    gbk_name = LONG_NAME.encode("gbk")
    assert b'filename="' + gbk_name + b'"' in raw
    assert b'name="' + gbk_name + b'"' in raw
    assert b"Subject: " + SUBJECT.encode("gbk") + b"\r\n" in raw
    with pytest.raises(UnicodeDecodeError):
        gbk_name.decode("utf-8")
    # what a careful reader recovers: the bytes survive as surrogates, GB18030 decodes them
    att = next(parse(raw).iter_attachments())
    value = dict((k.lower(), v) for k, v in att.raw_items())["content-disposition"]
    assert LONG_NAME in str(value).encode("ascii", "surrogateescape").decode("gb18030")
    assert sha(att.get_payload(decode=True)) == sha(DATA)


# ------------------------------------------------------------------ subjects, names, bodies


@pytest.mark.parametrize("encoding", ["utf8-b", "utf8-q", "gbk-b", "gb2312-b", "gb18030-b"])
def test_subject_encodings_decode(encoding):
    raw = build(subject_encoding=encoding).build()
    msg = parse(raw)
    assert msg["subject"] == SUBJECT
    assert msg["from"].addresses[0].display_name == "李红霞"
    label = {"utf8-b": b"=?UTF-8?B?", "utf8-q": b"=?UTF-8?Q?", "gbk-b": b"=?GBK?B?",
             "gb2312-b": b"=?gb2312?B?", "gb18030-b": b"=?gb18030?B?"}[encoding]
    assert b"Subject: " + label in raw
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    subject_lines = re.search(rb"^Subject: .*?(?=\r\n\S)", head, re.S | re.M).group(0).split(b"\r\n")
    assert all(len(line) <= 78 for line in subject_lines)


def test_raw_gbk_subject():
    raw = build(subject_encoding="raw-gbk").build()
    assert b"\r\nSubject: " + SUBJECT.encode("gbk") + b"\r\n" in raw


@pytest.mark.parametrize("client", sorted(samples.CLIENTS))
def test_body_text_round_trips(client):
    msg = parse(build(client=client, text="您好！附件为我局实施方案，请审核。").build())
    body = msg.get_body(preferencelist=("plain",))
    text = body.get_payload(decode=True).decode(
        {"gb2312": "gb18030", "gbk": "gb18030"}.get(body.get_content_charset(), body.get_content_charset()))
    assert "附件为我局实施方案" in text


def test_builder_is_deterministic_and_sets_headers():
    a = build(client="outlook", received_at=datetime(2022, 8, 17, 15, 41, tzinfo=TZ)).attach(
        LONG_NAME, DATA).build()
    b = build(client="outlook", received_at=datetime(2022, 8, 17, 15, 41, tzinfo=TZ)).attach(
        LONG_NAME, DATA).build()
    assert a == b
    msg = parse(a)
    assert msg["message-id"].startswith("<") and msg["message-id"].endswith("@163.com>")
    assert msg["return-path"] == "<xjmzj@163.com>"
    assert msg["received"]
    assert msg["date"].datetime == datetime(2022, 8, 17, 15, 40, tzinfo=TZ)
    other = build(client="outlook", subject=SUBJECT + "（重发）").attach(LONG_NAME, DATA).build()
    assert parse(other)["message-id"] != msg["message-id"]


def test_extra_headers_and_explicit_message_id():
    raw = build(message_id="abc@example.cn").add_header("X-Test", "1").build()
    msg = parse(raw)
    assert msg["message-id"] == "<abc@example.cn>"
    assert msg["x-test"] == "1"


# ------------------------------------------------------------------ forwarded, automatic mail


def test_forwarded_contains_message_rfc822_with_original():
    inner = build(client="163web", from_addr="zhanglin@163.com", from_name="张林", to="xjzrzyj@163.com",
                  subject="自然资源局政府开放日活动实施方案（终稿）").attach(LONG_NAME, DATA).build()
    raw = MailBuilder.forwarded(inner, from_addr="xjzrzyj@163.com", to=OFFICE,
                                date=datetime(2022, 8, 23, 17, 10, tzinfo=TZ), client="foxmail",
                                text="请审核。").build()
    msg = parse(raw)
    assert msg["subject"] == "转发：自然资源局政府开放日活动实施方案（终稿）"
    rfc822 = [p for p in msg.walk() if p.get_content_type() == "message/rfc822"]
    assert len(rfc822) == 1
    original = rfc822[0].get_content()
    assert original["subject"] == "自然资源局政府开放日活动实施方案（终稿）"
    assert original["message-id"] == parse(inner)["message-id"]
    (att,) = list(original.iter_attachments())
    assert att.get_filename() == LONG_NAME
    assert sha(att.get_content()) == sha(DATA)
    assert rfc822[0].get_filename().endswith(".eml")


def test_bounce_is_a_163_delivery_status_report():
    sent = build(from_addr=OFFICE, to="xjyjgl@163.com", subject="关于报送实施方案的提醒").build()
    raw = samples.bounce(OFFICE, sent, date=datetime(2022, 8, 29, 14, 12, tzinfo=TZ))
    msg = parse(raw)
    assert raw.startswith(b"Return-Path: <>\r\n")
    assert msg["return-path"] == "<>"
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    assert msg["from"].addresses[0].addr_spec.lower().startswith("mailer-daemon@")
    assert msg["auto-submitted"] == "auto-replied"
    types = [p.get_content_type() for p in msg.walk()]
    assert "message/delivery-status" in types and "message/rfc822" in types
    assert b"Final-Recipient: rfc822; xjyjgl@163.com" in raw
    assert b"Status: 5.1.1" in raw
    inner = next(p for p in msg.walk() if p.get_content_type() == "message/rfc822").get_content()
    assert inner["subject"] == "关于报送实施方案的提醒"
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "退信原因" in text and "xjyjgl@163.com" in text


def test_out_of_office_is_marked_automatic():
    raw = samples.out_of_office(OFFICE, "xjtjj@163.com", from_name="单玉梅",
                                date=datetime(2022, 8, 26, 8, 31, tzinfo=TZ),
                                original_subject="关于报送实施方案的提醒", in_reply_to="<r1@163.com>")
    msg = parse(raw)
    assert msg["auto-submitted"] == "auto-replied"
    assert msg["x-auto-response-suppress"] == "All"
    assert msg["subject"] == "自动回复: 关于报送实施方案的提醒"
    assert msg["in-reply-to"] == "<r1@163.com>"
    assert "自动回复" in msg.get_body(preferencelist=("plain",)).get_content()


def test_mailing_list_headers():
    msg = parse(samples.mailing_list(OFFICE, date=datetime(2022, 8, 25, 20, 0, tzinfo=TZ)))
    assert msg["precedence"] == "list"
    assert "<" in msg["list-id"] and msg["list-unsubscribe"]


@pytest.mark.parametrize("variant", samples.MALFORMED_VARIANTS)
def test_malformed_parses_with_defects_but_is_broken(variant):
    raw = samples.malformed(variant)
    msg = parse(raw)  # must not raise
    for part in msg.walk():
        if not part.is_multipart():
            part.get_payload(decode=True)  # base64 defects are recorded while decoding
    defects = [d for p in msg.walk() for d in p.defects]
    if variant == "junk-8bit":
        assert any(b >= 0x80 for b in raw) and b"\x00" in raw
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
    else:
        assert defects, variant
    assert samples.malformed(variant) == raw


# ------------------------------------------------------------------ documents


def doc_text(data: bytes) -> tuple[docx.document.Document, str]:
    d = docx.Document(io.BytesIO(data))
    parts = [p.text for p in d.paragraphs]
    parts += [c.text for t in d.tables for r in t.rows for c in r.cells]
    s = d.sections[0]
    parts += [p.text for p in s.header.paragraphs] + [p.text for p in s.footer.paragraphs]
    return d, "\n".join(parts)


def announcement(d, *, prose: bool = False) -> dict[str, str]:
    for t in d.tables:
        if t.rows[0].cells[0].text == "事项":
            return {r.cells[0].text: r.cells[1].text for r in t.rows[1:]}
    if prose:  # layout="prose": （一）报名方式：… paragraphs after 五、活动公告
        paras = [p.text for p in d.paragraphs]
        start, end = paras.index("五、活动公告"), paras.index("六、工作要求")
        found = (re.match(r"（[一二三四五六七八九十]+）(.+?)：(.*)", t) for t in paras[start:end])
        return {m.group(1): m.group(2) for m in found if m}
    raise AssertionError("no announcement table")


PLAN = dict(activity=date(2022, 9, 6), theme="阳光民政 温暖相伴", participants=30, contact="李红霞",
            phone="0954-3012103", region="西吉县")


def test_plan_docx_has_the_announcement_table():
    data = samples.plan_docx("西吉县民政局", **PLAN)
    assert 10_000 <= len(data) <= 40_000
    d, text = doc_text(data)
    items = announcement(d)
    assert tuple(items) == ANNOUNCEMENT_ITEMS
    assert items["参加人数"] == "30人"
    assert items["开放主题"] == "阳光民政 温暖相伴"
    assert items["联系人员"] == "李红霞" and items["联系电话"] == "0954-3012103"
    assert items["时间地点"].startswith("2022年9月6日（星期二）")
    assert items["活动形式"] == "进机关、进现场、座谈问答、问卷调查"
    assert "西吉县民政局2022年“政府开放日”" in text and "一、活动主题" in text
    assert "西吉县民政局" in d.sections[0].header.paragraphs[0].text
    assert b"PAGE" in d.sections[0].footer._element.xml.encode()
    assert samples.plan_docx("西吉县民政局", **PLAN) == data          # deterministic bytes


def test_plan_docx_omit_really_removes_items():
    data = samples.plan_docx("西吉县人力资源和社会保障局", **{**PLAN, "participants": 18},
                             omit=("温馨提示",), qa=False, survey=False, forms=("进机关",))
    d, text = doc_text(data)
    items = announcement(d)
    assert tuple(items) == tuple(i for i in ANNOUNCEMENT_ITEMS if i != "温馨提示")
    assert items["参加人数"] == "18人"
    for absent in ("温馨提示", "注意事项", "活动要求", "座谈", "问卷", "进现场"):
        assert absent not in text, absent
    d2, text2 = doc_text(samples.plan_docx("西吉县民政局", **PLAN, omit=("参加人数", "联系电话", "报名方式")))
    assert "参加人数" not in text2 and "30人" not in text2
    assert "联系电话" not in text2 and "0954-3012103" not in text2
    assert "报名方式" not in text2
    with pytest.raises(ValueError):
        samples.plan_docx("西吉县民政局", **PLAN, omit=("不存在",))


def test_plan_docx_prose_layout_and_variants():
    d, text = doc_text(samples.plan_docx("西吉县教育体育局", **PLAN, layout="prose", event_name="校园开放日",
                                         participants_text="30余人", labels={"温馨提示": "注意事项"}))
    assert not any(t.rows[0].cells[0].text == "事项" for t in d.tables)
    for item in ANNOUNCEMENT_ITEMS:
        if item != "温馨提示":
            assert re.search(rf"（[一二三四五六七八九十]+）{item}：", text), item
    assert "（十一）注意事项：" in text and "温馨提示" not in text
    assert d.paragraphs[0].text == "西吉县教育体育局2022年“校园开放日”"
    assert "西吉县教育体育局“校园开放日”活动" in text and "西吉县教育体育局“政府开放日”" not in text
    assert tuple(announcement(d, prose=True)) == (*ANNOUNCEMENT_ITEMS[:-1], "注意事项")
    assert "30余人" in text
    assert "两代表一委员" in text
    _, deputies = doc_text(samples.plan_docx("西吉县民政局", **PLAN, deputies=True,
                                             extra_paragraphs=["附：活动现场示意图另附。"]))
    assert "人大代表、政协委员" in deputies and "附：活动现场示意图另附。" in deputies


def test_adjustment_and_summary_docx():
    data = samples.adjustment_docx("西吉县发展和改革局", old_date=date(2022, 9, 15), new_date=date(2022, 9, 22),
                                   reason="活动当天需承办全县重点项目观摩活动", contact="张海燕", phone="0954-3015109")
    _, text = doc_text(data)
    assert "关于调整西吉县发展和改革局“政府开放日”" in text
    assert "2022年9月15日" in text and "2022年9月22日" in text and "张海燕" in text
    data = samples.summary_docx("西吉县民政局", held=date(2022, 9, 6), participants=32, suggestions=5,
                                feedback="已于9月15日在县人民政府门户网站公开反馈。")
    d, text = doc_text(data)
    assert "活动开展情况" in text and "32人" in text and "意见建议5条" in text
    assert "已于9月15日在县人民政府门户网站公开反馈。" in text
    assert len(d.tables[0].rows) == 6
    assert 10_000 <= len(data) <= 40_000


# ------------------------------------------------------------------ the demo mailbox


def test_demo_mailbox_is_deterministic_and_sorted(campaign, roster):
    a = samples.demo_mailbox(campaign, roster, OFFICE)
    b = samples.demo_mailbox(campaign, roster, OFFICE)
    assert a == b
    assert [t for t, _ in a] == sorted(t for t, _ in a)
    assert all(t.tzinfo is not None for t, _ in a)
    plan_due, summary_due = campaign.kind("plan").due, campaign.kind("summary").due
    assert a[0][0].date() >= plan_due - timedelta(days=14)
    assert a[-1][0].date() <= summary_due + timedelta(days=10)


def test_demo_covers_every_scenario(demo):
    scenarios = {m.scenario for m in demo}
    assert scenarios >= {"plan-ok", "plan-needs-fix", "plan-forbidden-name", "pending", "resend",
                         "forwarded", "plan-late", "adjustment", "adjustment-late", "summary",
                         "summary-late", "unknown", "automatic", "malformed", "supplement", "forged"}
    raws = b"\n".join(m.raw for m in demo)
    assert b'filename="=?GBK?B?' in raws            # Foxmail
    assert b"filename*0*=UTF-8''" in raws           # iPhone, continuations
    assert sum(b"filename*0*=UTF-8''" in m.raw for m in demo) >= 2   # Outlook too
    assert re.search(rb"filename\*(0\*)?=gbk''", raws)  # RFC 2231 with a GBK charset
    assert b"Auto-Submitted: auto-replied" in raws and b"Precedence: list" in raws
    assert b"multipart/report" in raws


def test_demo_uses_only_roster_units(demo, roster):
    names = {u.name for u in roster.units}
    addresses = {e for u in roster.units for e in u.emails}
    for m in demo:
        msg = parse(m.raw)
        assert m.unit is None or m.unit in names
        assert (m.sender in addresses) == m.on_roster, m.note
        if m.on_roster:
            assert roster.by_email(m.sender).name == m.unit
        if m.scenario in ("malformed",):
            continue
        sender = msg["from"].addresses[0].addr_spec if msg["from"].addresses else ""
        assert sender.lower() == m.sender.lower()
        named = roster.find_in_text(samples.decoded_subject(msg))
        if m.kind is not None:
            assert named is not None and named.name == m.unit, m.note
        if m.scenario == "unknown":
            body = msg.get_body(preferencelist=("plain",)).get_content()
            assert named is None and roster.find_in_text(body) is None
    # every plan's announcement names the roster's contact and phone
    for m in demo:
        if m.kind != "plan" or m.scenario == "forwarded":
            continue
        unit = roster.by_name(m.unit)
        for att in parse(m.raw).iter_attachments():
            if att.get_content_type() == DOCX_TYPE:
                items = announcement(docx.Document(io.BytesIO(att.get_payload(decode=True))), prose=True)
                assert items["联系人员"] == unit.contact and items["联系电话"] == unit.phone


def test_demo_plans_use_the_fixed_dates(demo, campaign, roster):
    fixed = {roster.by_name(n).name: day for day, ns in campaign.fixed_dates for n in ns}
    seen = 0
    for m in demo:
        if m.kind == "plan" and m.unit in fixed and m.scenario in ("plan-ok", "plan-needs-fix"):
            att = next(parse(m.raw).iter_attachments())
            d = docx.Document(io.BytesIO(att.get_content()))
            day = fixed[m.unit]
            text = "\n".join(p.text for p in d.paragraphs)
            assert f"{day.year}年{day.month}月{day.day}日" in text
            seen += 1
    assert seen >= 5
    assert sum(1 for u in fixed if not any(m.unit == u and m.kind == "plan" for m in demo)) == 1


def test_demo_resend_is_the_same_file(demo):
    (resend,) = [m for m in demo if m.scenario == "resend"]
    first = next(m for m in demo if m.unit == resend.unit and m.kind == "plan" and m is not resend)
    a = next(parse(first.raw).iter_attachments())
    b = next(parse(resend.raw).iter_attachments())
    assert a.get_filename() == b.get_filename()
    assert sha(a.get_content()) == sha(b.get_content())
    assert parse(first.raw)["message-id"] != parse(resend.raw)["message-id"]


def test_demo_adjustments_are_timed(demo, campaign):
    days = campaign.kind("adjustment").days_before_activity
    adj = {m.scenario: m for m in demo if m.kind == "adjustment"}
    late = adj["adjustment-late"]
    assert not list(parse(late.raw).iter_attachments())
    assert "改期" in parse(late.raw)["subject"]
    text = parse(late.raw).get_body(preferencelist=("plain",)).get_content()
    old = re.search(r"原定于(\d+)月(\d+)日", text)
    old_day = date(late.arrival.year, int(old.group(1)), int(old.group(2)))
    assert (old_day - late.arrival.date()).days < days
    assert "调整" in parse(adj["adjustment"].raw)["subject"]


def test_write_maildir_keeps_bytes_and_arrival_times(tmp_path, demo):
    messages = [(m.arrival, m.raw) for m in demo]
    box = tmp_path / "maildir"
    samples.write_maildir(box, messages[:5])
    samples.write_maildir(box, messages)            # cumulative, as `mailbot demo` calls it
    files = sorted((box / "new").iterdir())
    assert len(files) == len(messages)
    for f, (arrival, raw) in zip(files, messages):   # name order is arrival order
        assert f.read_bytes() == raw
        assert f.stat().st_mtime == pytest.approx(arrival.timestamp())
    # a reader moving a message to cur/ with flags does not make it come back
    first = files[0]
    os.rename(first, box / "cur" / (first.name + ":2,S"))
    samples.write_maildir(box, messages)
    assert len(list((box / "new").iterdir())) == len(messages) - 1
    mb = mailbox.Maildir(str(box), create=False)
    assert sorted(mb.get_bytes(k) for k in mb.keys()) == sorted(raw for _, raw in messages)
