"""A network error (socket, DNS, TLS, timeout, a dropped connection) as a short Chinese phrase.

The mail source (IMAP) and the sender (SMTP) both put this phrase into the sentence they show
the clerk ("无法连接邮箱服务器 imap.163.com:993：连接超时。请检查网络……"), so one cause reads the
same whichever side met it. A protocol library's own "connection lost" exceptions are passed
in by the caller as `dropped` (their English text is not shown: it says no more than this).
"""
from __future__ import annotations

import socket
import ssl


def reason(exc: BaseException, dropped: tuple[type[BaseException], ...] = ()) -> str:
    """A short Chinese explanation of a low-level network error (no full stop)."""
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "连接超时"
    if isinstance(exc, ConnectionRefusedError):
        return "连接被拒绝（服务器未运行或端口不对）"
    if isinstance(exc, ConnectionResetError):
        return "连接被服务器重置"
    if isinstance(exc, socket.gaierror):
        return f"无法解析服务器地址（{exc.strerror or exc}）"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"服务器证书校验失败（{getattr(exc, 'verify_message', None) or getattr(exc, 'reason', None) or exc}）"
    if isinstance(exc, ssl.SSLError):
        return f"加密连接失败（{getattr(exc, 'reason', None) or exc}）"
    if isinstance(exc, (EOFError, *dropped)):
        return "服务器关闭了连接"
    if isinstance(exc, OSError):
        return f"网络错误（{exc.strerror or exc}）"
    return text(exc) or type(exc).__name__


def text(exc: BaseException) -> str:
    """The exception's own words, without a bytes repr's b'…' and a trailing full stop."""
    s = str(exc)
    if s.startswith("b'") or s.startswith('b"'):
        s = s[2:-1]
    return s.strip().rstrip("。.").strip()


__all__ = ["reason", "text"]
