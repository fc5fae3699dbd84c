"""The shared helpers: crash-safe writes (fsutil), network errors in Chinese (neterrors), Chinese
dates (cndate) — each the one place the rest of mailbot goes to."""
from __future__ import annotations

import errno
import os
import smtplib
import socket
import ssl
import stat
from datetime import date, datetime, timedelta, timezone

import pytest
from imapclient import exceptions as imap_exc

from mailbot import cndate
from mailbot.store import fsutil
from mailbot.mailout import neterrors

CST = timezone(timedelta(hours=8))


# --- fsutil ---------------------------------------------------------------------------------

def test_atomic_write_replaces_whole_and_private(tmp_path):
    os.umask(0o022)
    target = tmp_path / "跟踪表.xlsx"
    target.write_bytes(b"old")
    fsutil.atomic_write(target, "新内容".encode())
    assert target.read_text(encoding="utf-8") == "新内容"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["跟踪表.xlsx"]        # no temp left


def test_atomic_write_without_replace_never_overwrites(tmp_path):
    target = tmp_path / "2022-08-24_v1_实施方案.docx"
    fsutil.atomic_write(target, b"first", replace=False)
    with pytest.raises(FileExistsError):
        fsutil.atomic_write(target, b"second", replace=False)
    assert target.read_bytes() == b"first"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "uidmap.json"
    target.write_bytes(b'{"next_uid": 7}')

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError):
        fsutil.atomic_write(target, b'{"next_uid": 8}')
    monkeypatch.undo()
    assert target.read_bytes() == b'{"next_uid": 7}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["uidmap.json"]


def test_fsync_dir_ignores_a_file_system_that_cannot(tmp_path, monkeypatch):
    def unsupported(fd):
        raise OSError(errno.EINVAL, "Invalid argument")
    monkeypatch.setattr(os, "fsync", unsupported)
    fsutil.fsync_dir(tmp_path)                       # no error: nothing more can be done there

    def broken(fd):
        raise OSError(errno.EIO, "Input/output error")
    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError):
        fsutil.fsync_dir(tmp_path)                   # a real disk error is not hidden


# --- neterrors ------------------------------------------------------------------------------

@pytest.mark.parametrize("exc, phrase", [
    (socket.timeout("timed out"), "连接超时"),
    (ConnectionRefusedError(111, "Connection refused"), "连接被拒绝（服务器未运行或端口不对）"),
    (ConnectionResetError(104, "Connection reset by peer"), "连接被服务器重置"),
    (socket.gaierror(-2, "Name or service not known"), "无法解析服务器地址（Name or service not known）"),
    (EOFError(), "服务器关闭了连接"),
    (OSError(101, "Network is unreachable"), "网络错误（Network is unreachable）"),
])
def test_one_phrase_for_imap_and_smtp(exc, phrase):
    assert neterrors.reason(exc, dropped=(imap_exc.IMAPClientAbortError,)) == phrase
    assert neterrors.reason(exc, dropped=(smtplib.SMTPServerDisconnected,)) == phrase


def test_dropped_connections_and_tls():
    assert neterrors.reason(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
                            dropped=(smtplib.SMTPServerDisconnected,)) == "服务器关闭了连接"
    assert neterrors.reason(imap_exc.IMAPClientAbortError("socket error: EOF"),
                            dropped=(imap_exc.IMAPClientAbortError,)) == "服务器关闭了连接"
    err = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    assert neterrors.reason(err).startswith("加密连接失败")
    assert neterrors.text(Exception("b'[AUTHENTICATIONFAILED] Authentication failed.'")) == \
        "[AUTHENTICATIONFAILED] Authentication failed"


# --- cndate ---------------------------------------------------------------------------------

def test_chinese_dates():
    d = date(2022, 9, 6)
    assert cndate.cn_date(d) == "2022年9月6日" and cndate.md(d) == "9月6日" and cndate.md(None) == ""
    assert cndate.weekday(d) == "星期二" and cndate.md_weekday(d) == "9月6日（星期二）"
    assert cndate.cn_date_weekday(date(2022, 9, 11)) == "2022年9月11日（星期日）"
    utc = datetime(2022, 8, 24, 1, 5, tzinfo=timezone.utc)
    assert cndate.cn_datetime(utc, CST) == "2022年8月24日 09:05"
    assert cndate.md_time(utc.isoformat(), CST) == "8月24日 09:05"          # as the ledger stores times
    assert cndate.md_time("昨天", CST) == "昨天" and cndate.md_time(None) == ""
    assert cndate.template_date(utc.astimezone(CST)) == "2022年8月24日 09:05"
    assert cndate.template_date("2022-08-24T09:05:00+08:00") == "2022年8月24日"
    assert cndate.template_date(None) == ""
