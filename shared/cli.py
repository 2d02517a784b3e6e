"""``python -m services.<name> <command>``: serve, worker, migrate, seed, keys, audit-verify,
audit-seal."""

import argparse
import asyncio
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from shared.app import WORKER_PROCESS
from shared.audit import AuditChain, AuditSealer, chain_key
from shared.auth import ISSUERS, generate_keypair
from shared.db import make_engine, make_sessionmaker
from shared.migrate import upgrade
from shared.settings import BaseServiceSettings


@dataclass
class ServiceCli:
    name: str
    settings: Callable[[], BaseServiceSettings]
    create_app: Callable[[], Any]
    migrations_dir: Path
    seed: Callable[[BaseServiceSettings], Awaitable[str]] | None = None
    # The service's audit chains (shared/audit.py), for ``audit-verify`` and ``audit-seal``.
    audit_chains: Callable[[bytes], list[AuditChain]] | None = None
    # Extra sub-commands: name → (configure parser, run(args, settings) → printed text)
    commands: dict[
        str,
        tuple[Callable[[argparse.ArgumentParser], None], Callable[[Any, BaseServiceSettings], str]],
    ] = field(default_factory=dict)

    def main(self, argv: list[str] | None = None) -> None:
        parser = argparse.ArgumentParser(prog=f"python -m services.{self.name}")
        sub = parser.add_subparsers(dest="command", required=True)
        sub.add_parser("serve", help="start the HTTP service (uvicorn)")
        sub.add_parser(
            "worker", help="run the background work (outboxes, what-if, notices, audit sealer)"
        )
        migrate = sub.add_parser("migrate", help="apply database migrations (alembic upgrade head)")
        if self.seed is not None:
            migrate.add_argument("--seed", action="store_true", help="then load the demo data")
        sub.add_parser("keys", help="create development signing keys if missing")
        if self.seed is not None:
            sub.add_parser("seed", help="load the demo data (idempotent)")
        if self.audit_chains is not None:
            sub.add_parser(
                "audit-verify", help="check the audit chain; name the first broken link (exit 1)"
            )
            sub.add_parser("audit-seal", help="seal the audit log's new rows now")
        for name, (configure, _) in self.commands.items():
            configure(sub.add_parser(name))
        args = parser.parse_args(argv)
        settings = self.settings()

        if args.command == "serve":
            import uvicorn

            uvicorn.run(
                self.create_app(),
                host=settings.host,
                port=settings.port,
                log_config=None,
                access_log=False,
                timeout_graceful_shutdown=5,
                # Forwarded headers are believed only from settings.trusted_proxies, by the
                # app itself (shared/app.py) — never uvicorn's default of "from loopback".
                proxy_headers=False,
                server_header=False,  # no "server: uvicorn" for a scanner to read
                date_header=True,
            )
        elif args.command == "worker":
            if settings.worker_metrics_port is not None:
                from prometheus_client import start_http_server

                start_http_server(settings.worker_metrics_port, addr=settings.host)
            asyncio.run(_work(self.create_app(), settings.worker_heartbeat_file))
        elif args.command == "migrate":
            upgrade(self.migrations_dir, settings.database_url)
            print(f"{self.name}: migrated")
            if getattr(args, "seed", False):
                assert self.seed is not None
                print(asyncio.run(self.seed(settings)))
        elif args.command == "keys":
            if settings.environment == "production":
                raise SystemExit("refusing to generate keys in production: mount them")
            for issuer in ISSUERS:
                generate_keypair(settings.keys_dir, issuer)
            print(f"keys in {settings.keys_dir}")
        elif args.command in ("audit-verify", "audit-seal"):
            assert self.audit_chains is not None
            chains = self.audit_chains(chain_key(settings.keys_dir, self.name))
            reports = asyncio.run(_audit(settings.database_url, chains, args.command))
            print("\n".join(reports))
            if any("BROKEN" in line for line in reports):
                raise SystemExit(1)
        elif args.command == "seed":
            assert self.seed is not None
            print(asyncio.run(self.seed(settings)))
        else:
            print(self.commands[args.command][1](args, settings))


HEARTBEAT_SECONDS = 5.0


async def _work(app: Any, heartbeat: Path | None = None) -> None:
    """The app's lifespan without its HTTP server: the same engine, clients and workers, in
    the worker role (shared/app.py ``process_role``), until SIGTERM or SIGINT; touching
    ``heartbeat`` every few seconds meanwhile."""
    setattr(app.state, WORKER_PROCESS, True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with app.router.lifespan_context(app):
        beating = asyncio.create_task(_beat(heartbeat)) if heartbeat is not None else None
        await stop.wait()
        if beating is not None:
            beating.cancel()


async def _beat(path: Path) -> None:
    """Touch ``path`` while the event loop turns: a loop blocked by a step that never yields
    stops touching it, and the probe restarts the process."""
    while True:
        await asyncio.to_thread(path.touch)  # scheduled by the loop: it still turns
        await asyncio.sleep(HEARTBEAT_SECONDS)


async def _audit(database_url: str, chains: list[AuditChain], command: str) -> list[str]:
    engine = make_engine(database_url)
    sessionmaker = make_sessionmaker(engine)
    try:
        if command == "audit-seal":
            sealed = await AuditSealer(chains, sessionmaker).seal_once()
            return [f"sealed {sealed} rows"]
        async with sessionmaker() as session:
            return [(await chain.verify(session)).text() for chain in chains]
    except sa.exc.DBAPIError as error:
        raise SystemExit(
            f"无法读取审计日志（数据库未迁移？）cannot read the audit log — is this the "
            f"service's database, migrated? {type(error.orig).__name__}: {error.orig}"
        ) from None
    finally:
        await engine.dispose()
