"""`mailbot doctor`: each line ✓ or ✗, and for ✗ what to do, in Chinese."""
from __future__ import annotations


import tempfile
from typing import Callable

from mailbot.app import open_app
from mailbot.campaign import CampaignError
from mailbot.config import ConfigError


def doctor(config_path: str, today: str | None, say: Callable[[str], None]) -> bool:
    ok = True

    def line(good: bool, text: str, fix: str = "") -> None:
        nonlocal ok
        ok = ok and good
        say(f"{'✓' if good else '✗'} {text}" + ("" if good or not fix else f"\n    → {fix}"))

    try:
        app = open_app(config_path, today)
    except (ConfigError, CampaignError) as exc:
        line(False, "配置或规则文件", str(exc))
        return False
    cfg = app.config
    line(True, f"配置文件 {cfg.path}")
    for section in ("imap", "smtp"):
        if cfg.__getattribute__(section).get("password", "").strip():
            say(f"! [{section}] 写有明文 password：请改用 password_env 指向环境变量，并从文件中删除密码。")
    for c in app.campaigns.values():
        line(True, f"规则文件 {c.source.name}：{c.title}，{len(c.kinds)} 类报送，{len(c.checks)} 条检查规则")
    stale = _stale_templates(cfg.templates, app.campaigns.values())
    if stale:
        say(f"! templates 中以下模板是旧版本，写死了开放日活动的名称，用于其他收集（{'、'.join(stale[1])}）时邮件会写错："
            f"{'、'.join(stale[0])}。如未改动过，可删除这些文件（mailbot 会改用自带的新模板）；改动过的请对照自带模板修改。")
    if len(app.campaigns) > 1:
        unnamed = [c.title for c in app.campaigns.values() if not (c.raw.get("campaign") or {}).get("keywords")]
        if unnamed:
            say(f"! 同时收集几项材料时，请在规则文件 [campaign] keywords 中写上能区分各项的词语，"
                f"否则来信只能按日期分拣：{'、'.join(unnamed)}")
    line(len(app.roster.units) > 0, f"单位名单：{len(app.roster.units)} 个单位",
         "在 rules/units.csv 中填写单位、邮箱")
    # a roster replaced for another county may not hold the units the campaign fixes dates for:
    # that only loses those fixed dates, so it is a warning, not a refusal to run
    for day, names in app.campaign.fixed_dates:
        for n in names:
            if app.roster.by_name(n) is None:
                say(f"! 规则文件中 {day} 的固定日期单位“{n}”不在单位名单 units.csv 中，该日期不会用于任何单位。")
    no_mail = [u.name for u in app.roster.units if not u.emails]
    if no_mail:
        say(f"! 以下单位没有邮箱，回执和催报无法发给它们：{'、'.join(no_mail)}")
    try:
        from mailbot.documents import check
        check.compile_checks(app.campaign) if hasattr(check, "compile_checks") else None
        line(True, "检查规则可用")
    except CampaignError as exc:
        line(False, "检查规则", str(exc))

    from mailbot.office.workcalendar import WorkCalendar
    cal = WorkCalendar.load(cfg.rules)
    years = sorted({app.campaign.window_start.year, app.campaign.window_end.year, app.today.year})
    notes = cal.coverage_notes(years)
    line(not notes, f"节假日数据覆盖 {'、'.join(map(str, years))} 年" if not notes else "节假日数据",
         "；".join(notes) + " 可升级 chinesecalendar，或在 rules/workdays.toml 中补充。")

    from mailbot.documents.docprobe import probe_doc_conversion
    probe = probe_doc_conversion()       # a real .doc through LibreOffice, as an attachment would go
    line(probe.ok, probe.text, probe.fix)
    from mailbot.documents import ocr, render
    problem = ocr.missing() or render.missing()    # scans (image PDFs, photos of stamped pages) need both
    line(problem is None, "扫描件文字识别：Tesseract（中文）和 pdftoppm 可用" if problem is None else "扫描件文字识别",
         f"{problem}；否则扫描件一律转人工审核。" if problem else "")

    try:
        cfg.archive.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cfg.archive, prefix=".doctor-"):
            pass
        line(True, f"归档目录可写：{cfg.archive}")
    except OSError as exc:
        line(False, f"归档目录 {cfg.archive} 不可写：{exc.strerror or exc}", "检查目录权限或 [paths] archive")
    from mailbot.store.faults import free_space
    for space in free_space([cfg.archive, cfg.ledger]):
        if space.low:
            say(f"! 磁盘空间不足：{space.text()}。请清理该磁盘，或把 [paths] 中的归档、台账移到空间充足的磁盘；"
                f"磁盘写满时收信会停下（不会丢信），腾出空间后自动补做。")
        else:
            line(True, f"磁盘空间：{space.text()}")
    from mailbot.store.locks import Busy, job_lock
    from mailbot.store.verify import verify
    try:
        with job_lock(cfg.ledger, "poll", wait_seconds=10):
            checked = verify(app.ledger, app.archive, quick=True)
        line(checked.ok, checked.summary() if checked.ok else "\n    ".join([checked.summary(), *checked.lines()[:5]]),
             "运行 mailbot verify 查看全部并逐一处理")
    except Busy:
        say("! 正在收信，本次跳过档案核对（稍后运行 mailbot verify）。")

    from mailbot.mailin.source import SourceError, open_source
    try:
        src = open_source(cfg.imap, cfg.base, cfg.password("imap") if not cfg.imap.get("backend") else None)
        with src:
            uv = src.uidvalidity()
        line(True, f"收信：{src.name} 登录并打开邮箱成功（UIDVALIDITY {uv}）")
    except (SourceError, ConfigError) as exc:
        line(False, "收信", str(exc))

    from mailbot.mailout.send import SendError, SmtpSender, open_sender
    try:
        sender = open_sender(cfg.smtp, cfg.base, cfg.password("smtp") if not cfg.smtp.get("backend") else None)
        if isinstance(sender, SmtpSender):
            sender.check()               # connect and log in, nothing is sent
            sender.close()
            line(True, f"发信：{cfg.smtp.get('host')} 登录成功，发件人 {cfg.from_address}")
        else:
            line(True, f"发信：写入发件箱目录 {cfg.smtp.get('path')}（不连接服务器）")
    except (SendError, ConfigError) as exc:
        line(False, "发信", str(exc))
    if not cfg.digest_to:
        say("! [office] digest_to 为空：每日汇总不会发出。")
    app.close()
    say("全部正常。" if ok else "有 ✗ 项需要处理。")
    return ok





# the words templates held before mail wording came from the campaign files (an older `mailbot init`)
LEGACY_TEMPLATE_WORD = "政府开放日"


def _stale_templates(folder, campaigns) -> tuple[list[str], list[str]] | None:
    """Templates of the office's folder written before mail words came from the campaign files
    (`mailbot init` of an older mailbot): they hard-code 政府开放日 where the shipped ones do not.
    ([file names], [titles of campaigns they would misname]) when a configured campaign is not
    an open day; else None."""
    from pathlib import Path
    from mailbot.defaults import default_dir
    legacy = LEGACY_TEMPLATE_WORD
    others = [c.title for c in campaigns if "开放日" not in c.title]
    if not others:
        return None
    shipped = default_dir("templates")
    old = []
    for f in sorted(Path(folder).glob("*.j2")):
        mine = shipped / f.name
        try:
            text = f.read_text(encoding="utf-8")
            if legacy in text and (not mine.is_file() or legacy not in mine.read_text(encoding="utf-8")):
                old.append(f.name)
        except (OSError, UnicodeDecodeError):
            continue
    return (old, others) if old else None
