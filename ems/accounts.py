"""The accounts an installation starts with: the ADMIN, the demo household and its
neighbour.

A password not given in the environment is generated once and kept in the
installation's var folder, so every process (and every later start) agrees on it.
"""

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import config


@dataclass(frozen=True)
class Login:
    email: str
    password: str
    name: str
    #: Where a generated password is kept, or None when it came from the environment.
    kept_in: Path | None


def var_dir(common: dict) -> Path:
    return config.ROOT_DIR / common["VAR_DIR"]


def _kept_password(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    # Readable by the installation's owner only.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as stream:
        stream.write(password + "\n")
    return password


def login(common: dict, section: str) -> Login:
    """The login of ``ADMIN``, ``DEMO`` or ``NEIGHBOUR`` (sections of the
    ``common`` settings)."""
    account = common[section]
    if account["password"]:
        return Login(account["email"], str(account["password"]), account["name"], None)
    path = var_dir(common) / f"{section.lower()}_password"
    return Login(account["email"], _kept_password(path), account["name"], path)


def demo_enabled(common: dict) -> bool:
    return bool(common["DEMO"]["enabled"])
