"""Unit tests of the lead's core modules: config, roster, archive, ledger, identify."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mailbot.store.archive import Archive, sanitise
from mailbot.campaign import CampaignError, load_campaign, load_roster
from mailbot.config import ConfigError, load_config
from mailbot.defaults import default_config_text
from mailbot.store.ledger import Ledger

ROOT = Path(__file__).resolve().parents[1]


def test_repo_config_is_the_shipped_default():
    assert (ROOT / "config.ini").read_text(encoding="utf-8") == default_config_text()


def test_config_paths_are_relative_to_the_file(tmp_path, monkeypatch):
    (tmp_path / "cfg").mkdir()
    cfg_file = tmp_path / "cfg" / "config.ini"
    cfg_file.write_text(default_config_text(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    cfg = load_config(cfg_file)
    assert cfg.archive == (tmp_path / "cfg" / "archive").resolve()
    assert cfg.ledger == (tmp_path / "cfg" / "var" / "mailbot.sqlite3").resolve()
    assert cfg.own_addresses == ("xjxzwgkb@163.com",)


@pytest.mark.parametrize("edit, words", [
    (("poll_minutes = 10", "poll_minutes = 十"), ["[schedule]", "poll_minutes", "十"]),
    (("poll_minutes = 10", "poll_minutes = 0"), ["[schedule]", "poll_minutes", "0"]),
    (("remind_at = 09:00", "remind_at = 25:00"), ["remind_at", "25:00"]),
    (("backend = maildir", "backend = mbox"), ["[imap]", "backend", "mbox"]),
    (("rules = open-day-2022.toml", ""), ["[campaign]", "rules"]),
    (("timezone = Asia/Shanghai", "timezone = Mars/Base"), ["timezone", "Mars/Base"]),
])
def test_broken_config_names_the_key_and_file(tmp_path, edit, words):
    cfg_file = tmp_path / "config.ini"
    cfg_file.write_text(default_config_text().replace(*edit), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(cfg_file)
    text = str(err.value)
    assert str(cfg_file) in text
    for w in words:
        assert w in text


def test_password_env_missing_is_explained(tmp_path, monkeypatch):
    text = default_config_text().replace("backend = maildir\npath = var/maildir",
                                         "host = imap.163.com\nport = 993\nsecurity = ssl\n"
                                         "username = a@163.com\npassword_env = MB_TEST_PW")
    (tmp_path / "config.ini").write_text(text, encoding="utf-8")
    monkeypatch.delenv("MB_TEST_PW", raising=False)
    cfg = load_config(tmp_path / "config.ini")
    with pytest.raises(ConfigError, match="MB_TEST_PW"):
        cfg.password("imap")
    monkeypatch.setenv("MB_TEST_PW", "授权码123")
    assert cfg.password("imap") == "授权码123"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_roster_loads_as_excel_saves_it(tmp_path, encoding):
    text = (ROOT / "rules" / "units.csv").read_text(encoding="utf-8")
    (tmp_path / "units.csv").write_bytes(text.encode(encoding))
    roster = load_roster(tmp_path / "units.csv", "西吉县")
    assert len(roster.units) >= 20
    mz = roster.by_email("XJMZJ_BGS@126.com")
    assert mz is not None and mz.name == "西吉县民政局"
    # loose names: region prefix, 县 prefix, 和 dropped
    assert roster.by_name("县民政局") is mz and roster.by_name("民政局") is mz
    assert roster.by_name("县人力资源社会保障局").name == "西吉县人力资源和社会保障局"
    assert roster.find_in_text("关于报送西吉县住房城乡建设局政府开放日实施方案的函").name == "西吉县住房和城乡建设局"


def test_roster_errors_are_chinese(tmp_path):
    (tmp_path / "units.csv").write_text("名称,地址\n民政局,a@b.cn\n", encoding="utf-8")
    with pytest.raises(CampaignError, match="缺少列：单位、邮箱"):
        load_roster(tmp_path / "units.csv")
    (tmp_path / "units.csv").write_text("单位,邮箱\n民政局,not-an-address\n", encoding="utf-8")
    with pytest.raises(CampaignError, match="第 2 行"):
        load_roster(tmp_path / "units.csv")


def test_campaign_fixed_dates_match_roster_loosely():
    campaign = load_campaign(ROOT / "rules" / "open-day-2022.toml")
    roster = load_roster(ROOT / "rules" / "units.csv", campaign.region)
    assert str(campaign.fixed_date_for(roster, "西吉县住房和城乡建设局")) == "2022-09-08"
    assert str(campaign.fixed_date_for(roster, "西吉县乡村振兴局")) == "2022-09-05"
    assert campaign.fixed_date_for(roster, "西吉县财政局") is None
    assert campaign.kind_order[0] == "adjustment"


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd", "_.._etc_passwd"),        # separators replaced, not cut: nothing is lost
    ("C:\\Users\\张三\\桌面\\方案.docx", "C__Users_张三_桌面_方案.docx"),
    ("方案\r\n.docx", "方案.docx"),
    ("CON.docx", "_CON.docx"),
    ("   ", "附件"),
    ('a<b>c:"d|e?f*.doc', "a_b_c__d_e_f_.doc"),
])
def test_sanitise_keeps_chinese_and_drops_danger(name, expected):
    assert sanitise(name) == expected


def test_sanitise_bounds_length_and_keeps_extension():
    out = sanitise("政府开放日" * 100 + ".docx")
    assert out.endswith(".docx") and len(out.encode()) <= 180


def test_archive_store_is_byte_identical_and_idempotent(tmp_path):
    arc = Archive(tmp_path, "2022-政府开放日")
    data = bytes(range(256)) * 100
    rel = arc.store("西吉县民政局/实施方案", "2022-08-24_v1_方案.docx", data)
    assert rel == "2022-政府开放日/西吉县民政局/实施方案/2022-08-24_v1_方案.docx"
    target = tmp_path / rel
    assert target.read_bytes() == data
    mtime = target.stat().st_mtime_ns
    assert arc.store("西吉县民政局/实施方案", "2022-08-24_v1_方案.docx", data) == rel
    assert target.stat().st_mtime_ns == mtime            # identical file left alone
    assert not list(target.parent.glob(".part-*"))       # no temp files left behind
    assert arc.store("../../x", "../y.txt", b"z").startswith("2022-政府开放日/")


def test_ledger_queue_is_once_per_key(tmp_path):
    led = Ledger(tmp_path / "l.sqlite3")
    with led.transaction():
        assert led.queue(purpose="ack", dedupe_key="ack:1", message_id="<a@x>", sender="o@x",
                         recipients=["d@x"], subject="回执：", raw=b"x")
        assert not led.queue(purpose="ack", dedupe_key="ack:1", message_id="<b@x>", sender="o@x",
                             recipients=["d@x"], subject="回执：", raw=b"y")
    assert len(led.outgoing()) == 1
    # a rolled-back transaction leaves nothing behind
    with pytest.raises(RuntimeError):
        with led.transaction():
            led.queue(purpose="ack", dedupe_key="ack:2", message_id="<c@x>", sender="o@x",
                      recipients=["d@x"], subject="回执：", raw=b"x")
            raise RuntimeError
    assert len(led.outgoing()) == 1
    led.close()
    # schema version recorded; a newer ledger is refused
    db = sqlite3.connect(tmp_path / "l.sqlite3")
    db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.commit()
    db.close()
    with pytest.raises(Exception, match="更新版本"):
        Ledger(tmp_path / "l.sqlite3")
