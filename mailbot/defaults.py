"""The embedded defaults (config.ini, rules/, templates/) and `mailbot init`."""
from __future__ import annotations

import shutil
from pathlib import Path

from mailbot.store.modes import make_dirs, private_file, tighten


def default_dir(name: str) -> Path:
    """rules/ or templates/ as shipped: inside the installed package (mailbot/rules), or at
    the top of a checkout (rules/ beside mailbot/)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / name, here.parent / name):
        if candidate.is_dir() and any(candidate.iterdir()):
            return candidate
    raise FileNotFoundError(f"找不到 mailbot 自带的 {name}/ 目录（安装不完整？请重新 pip install）。")


def default_config_text() -> str:
    return (Path(__file__).resolve().parent / "default_config.ini").read_text(encoding="utf-8")


DEMO_KEYS_NAME = "demo-dkim-keys.txt"


def init_folder(folder: Path, *, demo_keys: bool = False) -> list[Path]:
    """Create config.ini, rules/, templates/ in FOLDER where missing; returns what was created.
    `demo_keys`: also trust the demo DKIM key that demo/mailbuilder.py signs its made-up mail
    with (the demo and the tests; never an office's working folder)."""
    make_dirs(folder)
    created = []
    cfg = folder / "config.ini"
    if not cfg.exists():
        text = default_config_text()
        if demo_keys:
            text = text.replace("[security]\n", "[security]\n; 演示与测试专用：信任演示邮件的 DKIM 公钥（正式使用时删除此行）\n"
                                f"dkim_keys = rules/{DEMO_KEYS_NAME}\n", 1)
        private_file(cfg, create=True)      # it may come to hold a password
        cfg.write_text(text, encoding="utf-8")
        created.append(cfg)
    for name, patterns in (("rules", ("*.toml", "*.csv")), ("templates", ("*.j2",))):
        target = folder / name
        if target.exists():
            continue
        make_dirs(target)
        src = default_dir(name)
        for pattern in patterns:
            for f in sorted(src.glob(pattern)):
                shutil.copyfile(f, target / f.name)
                tighten(target / f.name)          # the roster names people and their phones
        created.append(target)
    if demo_keys and not (folder / "rules" / DEMO_KEYS_NAME).exists():
        from mailbot.demo.mailbuilder import DEMO_DKIM_KEYS
        shutil.copyfile(DEMO_DKIM_KEYS, folder / "rules" / DEMO_KEYS_NAME)
        tighten(folder / "rules" / DEMO_KEYS_NAME)
    return created
