"""The embedded defaults (config.ini, rules/, templates/) and `mailbot init`."""
from __future__ import annotations

import shutil
from pathlib import Path


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


def init_folder(folder: Path) -> list[Path]:
    """Create config.ini, rules/, templates/ in FOLDER where missing; returns what was created."""
    folder.mkdir(parents=True, exist_ok=True)
    created = []
    cfg = folder / "config.ini"
    if not cfg.exists():
        cfg.write_text(default_config_text(), encoding="utf-8")
        created.append(cfg)
    for name, patterns in (("rules", ("*.toml", "*.csv")), ("templates", ("*.j2",))):
        target = folder / name
        if target.exists():
            continue
        target.mkdir()
        src = default_dir(name)
        for pattern in patterns:
            for f in sorted(src.glob(pattern)):
                shutil.copyfile(f, target / f.name)
        created.append(target)
    return created
