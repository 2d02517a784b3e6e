"""Secrets we must be able to read back (a bank's webhook signing secret: both sides sign
with it, so it cannot be hashed) are stored sealed — Fernet (AES-128-CBC + HMAC-SHA256,
``cryptography``) — with keys from the key directory, never in clear.

``<keys_dir>/<service>.sealing.keys`` holds one Fernet key per line: the first seals, every
line opens (MultiFernet). To rotate (README, "Rotating the sealing key"): put a new key on
the first line, run ``python -m services.bank_gateway reseal`` (every row sealed again with
it), then drop the old line. Development creates the file; production must mount it.

The column type reads the process's keys (installed once at start-up by the service's
lifespan, its CLI and its seed): a row written before sealing existed (no ``sealed:``
prefix) is read as it is, and sealed by the next ``reseal``.
"""

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, MultiFernet
from sqlalchemy.types import TypeDecorator

PREFIX = "sealed:"


class Sealer:
    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("no sealing key")
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    def seal(self, text: str) -> str:
        return PREFIX + self._fernet.encrypt(text.encode()).decode()

    def open(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored  # written before sealing: resealed by ``reseal``
        return self._fernet.decrypt(stored[len(PREFIX) :].encode()).decode()


_installed: Sealer | None = None


def key_file(keys_dir: Path, service: str) -> Path:
    return keys_dir / f"{service}.sealing.keys"


def install(keys_dir: Path, service: str, *, create: bool) -> Sealer:
    """Read the service's sealing keys (``create``: make the file first if missing, as
    development keys are made); the sealed columns of this process use them."""
    global _installed
    path = key_file(keys_dir, service)
    if not path.exists():
        if not create:
            raise SystemExit(f"{path} is missing: mount the sealing keys (docs/security.md)")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(Fernet.generate_key() + b"\n")
        path.chmod(0o600)
    keys = [line.strip() for line in path.read_bytes().splitlines() if line.strip()]
    _installed = Sealer(keys)
    return _installed


def installed() -> Sealer:
    if _installed is None:
        raise RuntimeError("sealing keys not installed (shared/sealed.py: install)")
    return _installed


class SealedString(TypeDecorator[str]):
    """A string column stored sealed; the application sees the clear text."""

    impl = sa.String(200)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else installed().seal(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else installed().open(value)
