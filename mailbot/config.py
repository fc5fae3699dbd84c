"""config.ini → Config. Relative paths are relative to the folder holding config.ini."""
from __future__ import annotations

import configparser
import os
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mailbot import redact
from mailbot.mailin.authenticity import Policy as TrustPolicy
from mailbot.documents.docsandbox import MailBudget

# Free-mail domains whose outgoing mail always carries their own DKIM signature (seen in real
# headers: d=163.com/126.com/yeah.net (NetEase), d=qq.com/foxmail.com (Tencent), d=gmail.com,
# d=outlook.com/hotmail.com). Mail "from" them without a valid signature is not theirs.
SIGN_REQUIRED_DEFAULT = ("163.com, 126.com, yeah.net, vip.163.com, vip.126.com, 188.com, qq.com, foxmail.com, "
                         "vip.qq.com, gmail.com, outlook.com, hotmail.com")


class ConfigError(Exception):
    """A config problem, in a Chinese sentence naming the file and the key."""


@dataclass(frozen=True)
class Config:
    path: Path
    base: Path
    imap: dict[str, str]
    smtp: dict[str, str]
    office_name: str
    digest_to: tuple[str, ...]
    timezone: ZoneInfo
    archive: Path
    rules: Path
    templates: Path
    ledger: Path
    workbook: Path
    log: Path
    campaign_file: Path              # the first of campaign_files: the primary campaign
    poll_minutes: float          # minutes; a fraction is allowed (tests, a local relay)
    remind_at: str
    digest_at: str
    max_message_bytes: int
    max_acks_per_sender_per_day: int
    send_per_minute: int
    send_per_day: int                # [limits]: the provider's daily allowance, counted in recipients
    send_per_15min: int              # … and per rolling quarter hour (NetEase MI:SFQ / RP:QRC)
    send_reserve: int                # the day's last ones, kept for 回执 and 审核结果
    trust: TrustPolicy               # [security]: who really sent a mail
    dns_retry_hours: float           # how long a DNS failure keeps a mail waiting (then the policy decides)
    max_filed_per_sender_per_day: int
    max_filed_per_unit_per_day: int
    doc_budget: MailBudget           # [limits]: reading all documents of one mail together
    campaign_files: tuple[Path, ...] = ()   # [campaign] rules: every collection this mailbox runs
    max_queries_per_unit_per_day: int = 3   # [office]: 查询 mails answered per unit and arrival day

    @property
    def from_address(self) -> str:
        return (self.smtp.get("from_address") or self.smtp.get("username") or "").strip()

    @property
    def own_addresses(self) -> tuple[str, ...]:
        """Addresses that are us: never file or answer mail from them."""
        found = {self.from_address.lower(), self.imap.get("username", "").lower(),
                 self.smtp.get("username", "").lower()}
        return tuple(sorted(a for a in found if "@" in a))

    def password(self, section: str) -> str | None:
        """The secret for [imap] or [smtp]: from the env var named by password_env, else `password`."""
        sec = self.imap if section == "imap" else self.smtp
        env = sec.get("password_env", "").strip()
        if env:
            value = os.environ.get(env)
            if value is None:
                raise ConfigError(f"{self.path} 的 [{section}] password_env = {env}，但环境变量 {env} 没有设置。"
                                  f"请设置该变量为邮箱密码或授权码。")
            return value
        return sec.get("password") or None


DEFAULTS = {
    "paths": {"archive": "archive", "rules": "rules", "templates": "templates",
              "ledger": "var/mailbot.sqlite3", "workbook": "跟踪表.xlsx", "log": "var/mailbot.log"},
    "schedule": {"poll_minutes": "10", "remind_at": "09:00", "digest_at": "17:30"},
    "office": {"name": "政务公开办公室", "digest_to": "", "timezone": "Asia/Shanghai",
               "max_acks_per_sender_per_day": "5", "max_queries_per_unit_per_day": "3"},
    "limits": {"max_message_mb": "30", "send_per_minute": "20", "send_per_day": "200",
               "send_per_15min": "20", "send_reserve": "20", "max_filed_per_sender_per_day": "10",
               "max_filed_per_unit_per_day": "15", "max_parts_per_mail": "200", "max_unpacked_mb_per_mail": "200",
               "max_unpack_ratio_per_mail": "50",
               "max_text_chars_per_mail": "2000000", "max_zip_nesting": "2", "max_seconds_per_mail": "120",
               "max_memory_mb": "1024", "max_ocr_pages_per_mail": "20", "max_ocr_seconds_per_mail": "100"},
    "security": {"authserv_id": "", "sign_required_domains": SIGN_REQUIRED_DEFAULT, "dns_servers": "",
                 "dns_timeout": "5", "dns_retry_hours": "24", "dkim_keys": ""},
}


def _list(cp: configparser.ConfigParser, section: str, key: str) -> tuple[str, ...]:
    raw = cp.get(section, key).replace("，", ",").replace("；", ",").replace(";", ",")
    return tuple(x.strip().lower() for x in raw.split(",") if x.strip())


def _float(cp: configparser.ConfigParser, path: Path, section: str, key: str, low: float, high: float) -> float:
    raw = cp.get(section, key)
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{path} 的 [{section}] {key} 应为数字，现为“{raw}”。") from None
    if not low <= value <= high:
        raise ConfigError(f"{path} 的 [{section}] {key} 应在 {low:g} 到 {high:g} 之间，现为 {raw}。")
    return value


def _trust(cp: configparser.ConfigParser, path: Path, base: Path) -> TrustPolicy:
    keys = cp.get("security", "dkim_keys").strip()
    key_file = (base / keys).resolve() if keys else None
    if key_file is not None and not key_file.is_file():
        raise ConfigError(f"{path} 的 [security] dkim_keys 指向的文件 {key_file} 不存在。")
    for server in _list(cp, "security", "dns_servers"):
        host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
        if port and not port.isdigit():
            raise ConfigError(f"{path} 的 [security] dns_servers 中“{server}”的端口不是数字。")
    return TrustPolicy(authserv_ids=_list(cp, "security", "authserv_id"),
                       sign_required=_list(cp, "security", "sign_required_domains"),
                       dns_servers=_list(cp, "security", "dns_servers"),
                       dns_timeout=_float(cp, path, "security", "dns_timeout", 0.1, 60),
                       dkim_keys=key_file)


def _doc_budget(cp: configparser.ConfigParser, path: Path) -> MailBudget:
    return MailBudget(max_parts=_int(cp, path, "limits", "max_parts_per_mail", 1),
                      max_unpacked_mb=_int(cp, path, "limits", "max_unpacked_mb_per_mail", 1),
                      max_unpack_ratio=_float(cp, path, "limits", "max_unpack_ratio_per_mail", 1, 100_000),
                      max_text_chars=_int(cp, path, "limits", "max_text_chars_per_mail", 1000),
                      max_nesting=_int(cp, path, "limits", "max_zip_nesting", 1),
                      max_seconds=_float(cp, path, "limits", "max_seconds_per_mail", 1, 24 * 3600),
                      max_memory_mb=_int(cp, path, "limits", "max_memory_mb", 256),
                      max_ocr_pages=_int(cp, path, "limits", "max_ocr_pages_per_mail", 0),
                      max_ocr_seconds=_float(cp, path, "limits", "max_ocr_seconds_per_mail", 0, 24 * 3600))


def _int(cp: configparser.ConfigParser, path: Path, section: str, key: str, low: int = 0) -> int:
    raw = cp.get(section, key)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{path} 的 [{section}] {key} 应为整数，现为“{raw}”。") from None
    if value < low:
        raise ConfigError(f"{path} 的 [{section}] {key} 不能小于 {low}，现为 {value}。")
    return value


def _minutes(cp: configparser.ConfigParser, path: Path, section: str, key: str) -> float:
    raw = cp.get(section, key)
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{path} 的 [{section}] {key} 应为分钟数（如 10），现为“{raw}”。") from None
    if not 0.01 <= value <= 24 * 60:
        raise ConfigError(f"{path} 的 [{section}] {key} 应在 0.01 到 1440 分钟之间，现为 {raw}。")
    return value


def _hhmm(cp: configparser.ConfigParser, path: Path, section: str, key: str) -> str:
    raw = cp.get(section, key).strip()
    parts = raw.split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[0]) > 23 or int(parts[1]) > 59:
        raise ConfigError(f"{path} 的 [{section}] {key} 应为 24 小时制时间（如 09:00），现为“{raw}”。")
    return f"{int(parts[0]):02d}:{int(parts[1]):02d}"


def load_config(path: str | os.PathLike) -> Config:
    path = Path(path).resolve()
    if not path.is_file():
        raise ConfigError(f"找不到配置文件 {path}。请用 --config 指定，或运行 mailbot init 在当前目录生成 config.ini、rules/、templates/。")
    # a value may carry a trailing "; 注释" (config.ini's 163.com lines do)
    cp = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";", "；"))
    cp.read_dict(DEFAULTS)
    try:
        with open(path, encoding="utf-8-sig") as fh:
            cp.read_file(fh)
    except UnicodeDecodeError:
        raise ConfigError(f"配置文件 {path} 不是 UTF-8 编码，请用 UTF-8 保存。") from None
    except configparser.Error as exc:
        raise ConfigError(f"配置文件 {path} 格式有误：{exc}") from None
    base = path.parent

    def p(key: str) -> Path:
        return (base / cp.get("paths", key)).resolve()

    for section in ("imap", "smtp"):
        if not cp.has_section(section):
            raise ConfigError(f"{path} 缺少 [{section}] 一节。")
        sec = cp[section]
        if sec.get("backend", "").strip():
            if sec["backend"].strip() not in ({"maildir"} if section == "imap" else {"outbox"}):
                raise ConfigError(f"{path} 的 [{section}] backend = {sec['backend']} 不认识；"
                                  f"可选：{'maildir' if section == 'imap' else 'outbox'}，或删掉此键以连接真实服务器。")
            if not sec.get("path", "").strip():
                raise ConfigError(f"{path} 的 [{section}] 使用 backend = {sec['backend']}，但缺少 path。")
        else:
            for key in ("host", "port"):
                if not sec.get(key, "").strip():
                    raise ConfigError(f"{path} 的 [{section}] 缺少 {key}。")
            _int(cp, path, section, "port", 1)
            if sec.get("security", "ssl").strip() not in ("ssl", "starttls", "none"):
                raise ConfigError(f"{path} 的 [{section}] security 只能是 ssl、starttls 或 none，现为“{sec['security']}”。")
    if not cp.has_option("campaign", "rules"):
        raise ConfigError(f"{path} 缺少 [campaign] rules（规则文件名，位于 rules 目录下）。")
    try:
        tz = ZoneInfo(cp.get("office", "timezone").strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{path} 的 [office] timezone “{cp.get('office', 'timezone')}”不是有效时区（如 Asia/Shanghai）。") from None
    rules = p("rules")
    names = [n.strip() for n in re.split(r"[,，;；\s]+", cp.get("campaign", "rules")) if n.strip()]
    if not names:
        raise ConfigError(f"{path} 的 [campaign] rules 为空：请写规则文件名（位于 rules 目录下），多个用逗号分隔。")
    if len(set(names)) != len(names):
        raise ConfigError(f"{path} 的 [campaign] rules 中有重复的文件名：{'、'.join(names)}。")
    campaign_files = tuple(rules / n for n in names)
    cfg = Config(
        path=path, base=base, imap=dict(cp["imap"]), smtp=dict(cp["smtp"]),
        office_name=cp.get("office", "name"),
        digest_to=tuple(a.strip() for a in cp.get("office", "digest_to").replace("，", ",").split(",") if a.strip()),
        timezone=tz, archive=p("archive"), rules=rules, templates=p("templates"), ledger=p("ledger"),
        workbook=p("workbook"), log=p("log"),
        campaign_file=campaign_files[0], campaign_files=campaign_files,
        poll_minutes=_minutes(cp, path, "schedule", "poll_minutes"),
        remind_at=_hhmm(cp, path, "schedule", "remind_at"), digest_at=_hhmm(cp, path, "schedule", "digest_at"),
        max_message_bytes=_int(cp, path, "limits", "max_message_mb", 1) * 1024 * 1024,
        max_acks_per_sender_per_day=_int(cp, path, "office", "max_acks_per_sender_per_day", 1),
        max_queries_per_unit_per_day=_int(cp, path, "office", "max_queries_per_unit_per_day", 0),
        send_per_minute=_int(cp, path, "limits", "send_per_minute", 1),
        send_per_day=_int(cp, path, "limits", "send_per_day", 1),
        send_per_15min=_int(cp, path, "limits", "send_per_15min", 1),
        send_reserve=_int(cp, path, "limits", "send_reserve", 0),
        trust=_trust(cp, path, base),
        dns_retry_hours=_float(cp, path, "security", "dns_retry_hours", 0, 24 * 30),
        max_filed_per_sender_per_day=_int(cp, path, "limits", "max_filed_per_sender_per_day", 1),
        max_filed_per_unit_per_day=_int(cp, path, "limits", "max_filed_per_unit_per_day", 1),
        doc_budget=_doc_budget(cp, path),
    )
    if cfg.send_reserve >= cfg.send_per_day:
        raise ConfigError(f"{path} 的 [limits] send_reserve（{cfg.send_reserve}）应小于 send_per_day"
                          f"（{cfg.send_per_day}）：否则催报和每日汇总永远发不出去。")
    if not cfg.from_address:
        raise ConfigError(f"{path} 的 [smtp] 需要 from_address（或 username）：回执的发件人地址。")
    redact.learn_config(cfg)          # from now on no log line, event or message shows the passwords
    return cfg
