"""The built wheel carries the default config, rules and templates, and an installed mailbot
(not the checkout) finds them: `mailbot init` and `mailbot demo` work outside the repository."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_defaults_and_init_works_from_it(tmp_path):
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                            "-w", str(tmp_path / "dist"), str(ROOT)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("mailbot-*.whl"))
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        zf.extractall(site)
    for need in ("mailbot/default_config.ini", "mailbot/rules/open-day-2022.toml", "mailbot/rules/units.csv",
                 "mailbot/templates/ack.txt.j2", "mailbot/templates/digest.html.j2"):
        assert need in names
    work = tmp_path / "office"
    env = dict(os.environ, PYTHONPATH=str(site))
    r = subprocess.run([sys.executable, "-m", "mailbot", "init", str(work)], cwd=tmp_path, env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    probe = subprocess.run([sys.executable, "-c", "import mailbot; print(mailbot.__file__)"], cwd=tmp_path,
                           env=env, capture_output=True, text=True)
    assert probe.stdout.startswith(str(site))                # really the installed copy, not the checkout
    assert (work / "rules" / "open-day-2022.toml").read_bytes() == (ROOT / "rules" / "open-day-2022.toml").read_bytes()
    assert sorted(p.name for p in (work / "templates").glob("*.j2")) == sorted(
        p.name for p in (ROOT / "templates").glob("*.j2"))
    r = subprocess.run([sys.executable, "-m", "mailbot", "--config", str(work / "config.ini"), "--today",
                        "2022-08-20", "status"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 0 and "西吉县民政局" in r.stdout, r.stderr
