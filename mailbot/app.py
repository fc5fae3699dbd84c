"""Everything a command needs, loaded once: config, campaigns, roster, ledger, archive, templates.

A mailbox may run several collections at once (`[campaign] rules = a.toml, b.toml`): `campaigns`
holds them all, in config order; `campaign` and `archive` are the one a piece of work is about —
the first (primary) one as opened, another one in the view `for_campaign(id)` returns (same
ledger, roster and templates; its own rules, archive folder and workbook)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from mailbot.store.archive import Archive, Staging
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
    campaigns: dict[str, Campaign] = field(default_factory=dict)   # every configured one, by id
    primary: "App | None" = field(default=None, repr=False)        # a view's app as opened

    def __post_init__(self) -> None:
        if not self.campaigns:
            self.campaigns = {self.campaign.id: self.campaign}

    def for_campaign(self, cid: str) -> "App":
        """This app about campaign CID: its rules, archive folder and workbook; the rest shared."""
        if cid == self.campaign.id:
            return self
        base = self.primary or self
        if cid == base.campaign.id:
            return replace(base, today=self.today, roster=self.roster)
        camp = self.campaigns[cid]
        return replace(base, campaign=camp, archive=Archive(base.config.archive, camp.id, base.archive.staging), primary=base,
                       today=self.today, roster=self.roster,
                       config=replace(base.config, workbook=workbook_for(base.config.workbook, camp.id, primary=False)))

    def each_campaign(self) -> "list[App]":
        return [self.for_campaign(cid) for cid in self.campaigns]

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
    campaigns: dict[str, Campaign] = {}
    for f in config.campaign_files or (config.campaign_file,):
        c = load_campaign(f)
        if c.id in campaigns:
            raise ConfigError(f"{config.path} 的 [campaign] rules：{campaigns[c.id].source.name} 和 {f.name} "
                              f"的 campaign.id 都是“{c.id}”，每项收集的编号必须不同。")
        campaigns[c.id] = c
    campaign = next(iter(campaigns.values()))
    roster = load_roster(config.rules / "units.csv", campaign.region)
    pretended, pretend = resolve_today(today)
    ledger = Ledger(config.ledger)
    ledger.adopt_legacy_rows(campaign.id)     # once: rows from before campaigns were recorded
    return App(config=config, campaign=campaign, roster=roster, ledger=ledger,
               archive=Archive(config.archive, campaign.id, Staging(ledger)), templates=Templates(config.templates),
               today=pretended or datetime.now(config.timezone).date(), pretend=pretend, campaigns=campaigns)


def workbook_for(path: Path, cid: str, *, primary: bool) -> Path:
    """The primary campaign's workbook is [paths] workbook; another's is 跟踪表_<id>.xlsx beside it."""
    return path if primary else path.with_name(f"{path.stem}_{cid}{path.suffix}")
