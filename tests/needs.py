"""What tests need from the machine, and a clear skip when it is missing.

A test that needs a Debian package this machine lacks is skipped with the package to install
(`scripts/test` installs them where it can). MAILBOT_TEST_STRICT=1 turns each such skip into a
failure: `.ci/run` sets it, because CI has installed everything and a skip there hides a bug.
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import NoReturn

import pytest

WRITER = "libreoffice-writer-nogui fonts-noto-cjk"
CALC = "libreoffice-calc-nogui"


def missing(what: str, packages: str) -> NoReturn:
    reason = f"{what} (install: apt-get install {packages}; scripts/test does)"
    if os.environ.get("MAILBOT_TEST_STRICT") == "1":
        pytest.fail(f"MAILBOT_TEST_STRICT=1 and {reason}", pytrace=False)
    pytest.skip(reason)


def binary(name: str, packages: str) -> str:
    """The path of `name`, or skip naming the package."""
    found = shutil.which(name)
    if found is None:
        missing(f"{name} not found", packages)
    return found


@functools.cache
def writer_problem() -> str | None:
    """None when LibreOffice converts a real .doc (the product's own self-test, once a session)."""
    from mailbot.documents.docprobe import probe_doc_conversion
    probe = probe_doc_conversion()
    return None if probe.ok else f"LibreOffice Writer cannot convert a .doc here: {probe.text}"


@functools.cache
def calc_problem() -> str | None:
    """None when LibreOffice converts a .csv to .xlsx (Calc present), once a session."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        return "LibreOffice (soffice) not found"
    with tempfile.TemporaryDirectory(prefix="mb-calc-") as d:
        src = Path(d) / "probe.csv"
        src.write_text("单位,人数\n民政局,30\n", encoding="utf-8")
        try:
            subprocess.run([exe, f"-env:UserInstallation={Path(d, 'profile').as_uri()}", "--headless",
                            "--convert-to", "xlsx", "--outdir", d, str(src)],
                           capture_output=True, timeout=180, env={**os.environ, "HOME": d})
        except subprocess.TimeoutExpired:
            return "LibreOffice Calc did not answer within 180 s"
        if not (Path(d) / "probe.xlsx").is_file():
            return "LibreOffice Calc cannot convert a .csv to .xlsx here"
    return None


def libreoffice(component: str) -> None:
    """Skip unless LibreOffice's `component` ("writer" or "calc") really converts files."""
    problem, packages = (calc_problem(), CALC) if component == "calc" else (writer_problem(), WRITER)
    if problem:
        missing(problem, packages)
