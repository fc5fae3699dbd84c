"""Files only the account that runs mailbot can read.

The ledger holds every mail sent and received, the log and the archive hold the departments'
documents, config.ini may hold a password: none of it is for other users of the machine.
`mailbot` sets umask 077 when it starts (cli.main), and the important writers also ask for
0600 files / 0700 folders explicitly, because a umask is bypassed by a folder's default ACL,
by code that copies modes, and by callers that embed mailbot without going through cli.main.
An existing file that is group- or world-readable (an older version's ledger or log) is
tightened when mailbot opens it. Windows has no such modes: there these functions do nothing.
"""
from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077
FILE_MODE = 0o600
DIR_MODE = 0o700
POSIX = os.name == "posix"


def restrict_umask() -> None:
    """Everything this process creates from now on: no group or world access."""
    os.umask(PRIVATE_UMASK)


def private_opener(path: str, flags: int) -> int:
    """For open(..., opener=private_opener): a new file is created 0600."""
    return os.open(path, flags, FILE_MODE)


def private_file(path: Path | str, *, create: bool = False) -> None:
    """Make PATH 0600-at-most (created empty first when CREATE and missing); absent files are left."""
    path = Path(path)
    if create and not path.exists():
        make_dirs(path.parent)
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
        except FileExistsError:
            pass
    tighten(path)


def make_dirs(path: Path | str) -> None:
    """mkdir -p where every folder created is 0700."""
    path = Path(path)
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            pass


def tighten(path: Path | str) -> None:
    """Drop group/world bits of an existing file or folder mailbot owns."""
    if not POSIX:
        return
    try:
        mode = os.stat(path).st_mode & 0o7777
        if mode & 0o077:
            os.chmod(path, mode & ~0o077)
    except FileNotFoundError:
        pass
