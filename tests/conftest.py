"""Shared pytest fixtures. Real servers live in tests/servers.py."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `import servers` from tests

from servers import dovecot, smtp_server  # noqa: E402,F401  (fixtures)


@pytest.fixture(scope="session")
def campaign():
    """The shipped campaign file (rules/open-day-2022.toml)."""
    from mailbot.campaign import load_campaign
    return load_campaign(Path(__file__).resolve().parents[1] / "rules" / "open-day-2022.toml")


@pytest.fixture(scope="session")
def roster(campaign):
    """The shipped roster (rules/units.csv)."""
    from mailbot.campaign import load_roster
    return load_roster(Path(__file__).resolve().parents[1] / "rules" / "units.csv", campaign.region)


def pytest_configure(config):
    # SmtpServer offers AUTH over plain TCP on loopback on purpose
    config.addinivalue_line("filterwarnings", "ignore:Requiring AUTH while not requiring TLS:UserWarning")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """@pytest.mark.soffice (Writer: documents) / @pytest.mark.soffice("calc") (workbooks): skip,
    naming the package, when this machine's LibreOffice cannot really do it (tests/needs.py)."""
    marker = item.get_closest_marker("soffice")
    if marker is not None:
        import needs
        needs.libreoffice(marker.args[0] if marker.args else "writer")


@pytest.fixture(autouse=True)
def _forget_passwords():
    """mailbot.redact learns passwords process-wide (as the product must); one test's passwords
    must not mask another test's text."""
    yield
    from mailbot import redact
    redact.forget()


@pytest.fixture
def w(tmp_path):
    """A schedule-test world (tests/schedsupport.py): temp ledger, campaign, roster, config."""
    from schedsupport import World
    world = World(tmp_path)
    yield world
    world.close()
