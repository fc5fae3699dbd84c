"""config.ini as the office's IT person edits it: the 163.com example switched on exactly as its
comments say, and every comment in Chinese."""
from __future__ import annotations

import re
from pathlib import Path

from mailbot.config import load_config
from mailbot.defaults import default_config_text

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_KEYS = ("host", "port", "security", "username", "password_env", "folder", "timeout")


def go_live(text: str) -> str:
    """Follow config.ini's instructions: in [imap] and [smtp] drop the backend/path lines and
    remove the leading "; " of the 163.com example lines (their trailing "; 说明" stays)."""
    out = []
    section = ""
    for line in text.splitlines(keepends=True):
        if line.startswith("["):
            section = line.strip()
        if section in ("[imap]", "[smtp]"):
            if re.match(r"(backend|path) =", line):
                continue
            m = re.match(r"; ((%s) = .*)" % "|".join(EXAMPLE_KEYS), line, re.S)
            if m:
                line = m.group(1)
        out.append(line)
    return "".join(out)


def test_uncommented_163_example_gives_clean_values(tmp_path, monkeypatch):
    text = go_live(default_config_text())
    assert "\npassword_env = MAILBOT_IMAP_PASSWORD   ; 环境变量中放" in text      # the comment is still there
    (tmp_path / "config.ini").write_text(text, encoding="utf-8")
    cfg = load_config(tmp_path / "config.ini")
    assert "backend" not in cfg.imap and "backend" not in cfg.smtp
    assert cfg.imap["password_env"] == "MAILBOT_IMAP_PASSWORD"
    assert cfg.smtp["password_env"] == "MAILBOT_SMTP_PASSWORD"
    assert (cfg.imap["host"], cfg.imap["port"], cfg.imap["security"]) == ("imap.163.com", "993", "ssl")
    assert cfg.smtp["username"] == "xjxzwgkb@163.com"
    assert cfg.own_addresses == ("xjxzwgkb@163.com",)
    monkeypatch.setenv("MAILBOT_IMAP_PASSWORD", "授权码ABC123")
    monkeypatch.setenv("MAILBOT_SMTP_PASSWORD", "授权码ABC123")
    assert cfg.password("imap") == cfg.password("smtp") == "授权码ABC123"


def test_full_width_semicolon_comment_is_also_cut(tmp_path):
    text = default_config_text().replace("digest_to = xjxzwgkb@163.com",
                                         "digest_to = xjxzwgkb@163.com  ；主任邮箱以后再加")
    (tmp_path / "config.ini").write_text(text, encoding="utf-8")
    assert load_config(tmp_path / "config.ini").digest_to == ("xjxzwgkb@163.com",)


def _comment(line: str) -> str | None:
    """The comment part of an ini or TOML line: a whole ';'/'#' line, or a '#' after a value
    (outside a quoted string)."""
    stripped = line.strip()
    if stripped.startswith((";", "#")):
        return stripped
    for i, ch in enumerate(line):
        if ch == "#" and line[:i].count('"') % 2 == 0:
            return line[i:]
    return None


def test_every_comment_a_clerk_reads_is_chinese():
    """Comment lines are Chinese sentences; a commented-out `key = value` example is not prose."""
    for path in (ROOT / "config.ini", *sorted((ROOT / "rules").glob("*.toml"))):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            comment = _comment(line)
            if comment is None:
                continue
            prose = comment.lstrip(";# ")
            if re.match(r"[\w.]+ = ", prose) or re.match(r"\d{4}-\d{2}-\d{2},?$", prose) or not prose:
                continue                                     # a commented-out setting or date
            assert re.search(r"[\u4e00-\u9fff]", prose), f"{path.name}:{n} has an English comment: {line}"
