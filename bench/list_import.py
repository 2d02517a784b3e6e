"""Importing a reference list of 10,000 firms (issue 18: under 5 s on this machine).

    .venv/bin/python -m bench.list_import [--rows 10000] [--postgres]

A CSV as an issuer sends it (序号, 统一社会信用代码, 企业名称, 证书编号, 有效期至) is read,
checked row by row and kept as a draft with its entries, through the service the API calls
(facts/service.py ``import_list``) on a freshly migrated database (SQLite in a temporary
directory, or PostgreSQL at 127.0.0.1 with ``--postgres``). Then: the preview (dry run), the
same file again (the list made before, nothing written), and the file with one bad row (422,
nothing imported). Prints seconds for each.
"""

import argparse
import asyncio
import os
import random
import tempfile
import time
from collections.abc import Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.intake_load import SERVER, create_databases, drop_databases
from services.guarantee.facts import service
from services.guarantee.facts.exceptions import ListFileInvalid
from services.guarantee.facts.kinds import ListKind
from services.guarantee.models import ReferenceEntry
from shared.auth import Principal, Role
from shared.db import make_engine, make_sessionmaker
from shared.migrate import upgrade
from shared.uscc import ALPHABET, check_character

ROOT = Path(__file__).resolve().parents[1]


def csv_of(rows: int, seed: int = 2021) -> bytes:
    rng = random.Random(seed)
    lines = ["序号,统一社会信用代码,企业名称,证书编号,有效期至"]
    seen = set()
    while len(seen) < rows:
        first17 = "91310118" + "".join(rng.choice(ALPHABET) for _ in range(9))
        seen.add(first17 + check_character(first17))
    for i, uscc in enumerate(sorted(seen), 1):
        lines.append(f"{i},{uscc},上海测试企业{i}有限公司,GR2025310{i:05d},2028-12-31")
    return ("\n".join(lines) + "\n").encode()


async def run(url: str, rows: int) -> None:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    clerk = Principal(subject="alice", role=Role.BUREAU, issuer="bank_gateway")
    content = csv_of(rows)
    kind, today = ListKind.HIGH_TECH, date(2026, 12, 5)

    def file(body: bytes) -> service.ListFile:
        return service.ListFile(
            kind, "认定机构", "2025年度", "高新技术企业名单", "名单.csv", body, {}
        )

    async def timed(label: str, body: bytes, dry_run: bool = False) -> None:
        started = time.perf_counter()
        outcome = "ok"
        try:
            async with sessions() as session, session.begin():
                result = await service.import_list(
                    session=session, principal=clerk, file=file(body), dry_run=dry_run, today=today
                )
                outcome = f"created={result.created}, {result.rows:,} rows"
        except ListFileInvalid as error:
            outcome = f"422: {error.detail}"
        print(f"  {label:34s} {time.perf_counter() - started:6.2f} s   {outcome}")

    try:
        print(f"{rows:,} rows, {len(content) / 1024:.0f} KB, on {url.split('://')[0]}")
        await timed("preview (dry run)", content, dry_run=True)
        await timed("import", content)
        await timed("the same file again", content)
        lines = content.decode().splitlines()
        lines[rows // 2] = lines[rows // 2].replace(",913", ",912", 1)  # a wrong check character
        await timed("one bad row", ("\n".join(lines) + "\n").encode())
        async with sessions() as session:
            kept = await session.scalar(sa.select(sa.func.count()).select_from(ReferenceEntry))
        print(f"  entries kept: {kept:,} (one list)")
    finally:
        await engine.dispose()


def on_fresh_guarantee_database(
    postgres: bool, label: str, run: Callable[[str], Coroutine[Any, Any, None]]
) -> None:
    """``run(url)`` on a guarantee database migrated for it: SQLite in a temporary
    directory, or a PostgreSQL database at 127.0.0.1 made for it and dropped after."""
    migrations = ROOT / "services" / "guarantee" / "migrations"
    if postgres:
        name = f"picidai_bench_{label}_{os.getpid()}"
        asyncio.run(create_databases([name]))
        url = SERVER.replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
        try:
            upgrade(migrations, url)
            asyncio.run(run(url))
        finally:
            asyncio.run(drop_databases([name]))
        return
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{directory}/guarantee.db"
        upgrade(migrations, url)
        asyncio.run(run(url))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    on_fresh_guarantee_database(args.postgres, "lists", lambda url: run(url, args.rows))


if __name__ == "__main__":
    main()
