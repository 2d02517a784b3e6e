"""Webhook signing secrets are sealed at rest (issue 14, item 8): the database holds no
secret a bank signs with; a rotated sealing key reseals them all and the banks notice
nothing."""

import asyncio
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from cryptography.fernet import Fernet

from shared import sealed
from shared.db import make_engine
from tests.bank_gateway.conftest import Desk
from tests.conftest import ROOT


async def stored_secrets(url: str) -> list[str]:
    engine = make_engine(url)
    async with engine.connect() as connection:
        rows = await connection.execute(sa.text("SELECT secret FROM signing_secrets"))
        found = [row[0] for row in rows]
    await engine.dispose()
    return found


async def test_the_database_holds_no_signing_secret_in_clear(desk: Desk, gateway_db: str) -> None:
    code = await desk.register_bank()
    _, _, signing_secret = desk.credentials[code]
    stored = await stored_secrets(gateway_db)
    assert stored and all(s.startswith("sealed:") for s in stored)
    assert not any(signing_secret in s or signing_secret[6:] in s for s in stored)
    assert signing_secret in [sealed.installed().open(s) for s in stored]


def test_rotating_the_sealing_key_reseals_every_secret(
    tmp_path: Path, databases: object, keys_dir: Path
) -> None:
    url = databases.new("reseal", migrate="bank_gateway")  # type: ignore[attr-defined]
    keys = tmp_path / "keys"
    keys.mkdir()
    for item in keys_dir.iterdir():
        if not item.name.endswith(".sealing.keys"):
            (keys / item.name).write_bytes(item.read_bytes())
    env = {"GATEWAY_DATABASE_URL": url, "GATEWAY_KEYS_DIR": str(keys), "PYTHONPATH": str(ROOT)}

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "services.bank_gateway", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    cli("seed")  # the demo banks, sealed with a new development key
    key_file = sealed.key_file(keys, "bank_gateway")
    old_key = key_file.read_bytes().strip()
    old = sealed.Sealer([old_key])
    before = asyncio.run(stored_secrets(url))
    clear = sorted(old.open(s) for s in before)
    new_key = Fernet.generate_key()
    key_file.write_bytes(new_key + b"\n" + old_key + b"\n")
    assert "resealed 2 signing secrets" in cli("reseal")
    after = asyncio.run(stored_secrets(url))
    assert after != before
    key_file.write_bytes(new_key + b"\n")  # the old key dropped: everything still opens
    assert sorted(sealed.Sealer([new_key]).open(s) for s in after) == clear
