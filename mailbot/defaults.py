"""The embedded defaults (config.ini, rules/, templates/) and `mailbot init`."""
from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path


def default_dir(name: str) -> Path:
    """rules/ or templates/ as shipped: package data when installed, else the checkout."""
    try:
        found = resources.files(f"mailbot.{name}")
        path = Path(str(found))
        if path.is_dir() and any(path.iterdir()):
            return path
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / name


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
