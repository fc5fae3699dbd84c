"""Everything a command needs, loaded once: config, campaign, roster, ledger, archive, templates."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from mailbot.store.archive import Archive
from mailbot.campaign import Campaign, Roster, load_campaign, load_roster
from mailbot.mailout.compose import Templates
from mailbot.config import Config, ConfigError, load_config
from mailbot.store.ledger import Ledger


@dataclass
class App:
    config: Config
    campaign: Campaign
    roster: Roster
    ledger: Ledger
    archive: Archive
    templates: Templates
    today: date
    pretend: bool            # --today given: the calendar date is pretended

    def now(self) -> datetime:
        """Local now; on a pretended day, that day at the current local time of day."""
        real = datetime.now(self.config.timezone)
        if not self.pretend:
            return real
        return real.replace(year=self.today.year, month=self.today.month, day=self.today.day)

    def close(self) -> None:
        self.ledger.close()

    def reload_roster(self) -> None:
        self.roster = load_roster(self.config.rules / "units.csv", self.campaign.region)


def resolve_today(arg: str | None) -> tuple[date | None, bool]:
    value = arg or os.environ.get("MAILBOT_TODAY") or ""
    if not value:
        return None, False
    try:
        return date.fromisoformat(value.strip()), True
    except ValueError:
        raise ConfigError(f"日期“{value}”格式不对，应为 YYYY-MM-DD（如 2022-09-05）。") from None


def open_app(config_path: str | Path, today: str | None = None) -> App:
    config = load_config(config_path)
    for label, folder in (("rules", config.rules), ("templates", config.templates)):
        if not folder.is_dir():
            raise ConfigError(f"{config.path} 的 [paths] {label} 指向的目录 {folder} 不存在。"
                              f"可运行 mailbot init 生成默认的 rules/ 和 templates/。")
    campaign = load_campaign(config.campaign_file)
    roster = load_roster(config.rules / "units.csv", campaign.region)
    pretended, pretend = resolve_today(today)
    return App(config=config, campaign=campaign, roster=roster, ledger=Ledger(config.ledger),
               archive=Archive(config.archive, campaign.id), templates=Templates(config.templates),
               today=pretended or datetime.now(config.timezone).date(), pretend=pretend)
