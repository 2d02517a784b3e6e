import argparse
import asyncio
from pathlib import Path
from typing import Any

from services.bank_gateway.banks.service import reseal_signing_secrets
from services.bank_gateway.config import SERVICE, get_settings
from services.bank_gateway.demo import seed
from services.bank_gateway.main import audit_chains, create_app
from shared import sealed
from shared.auth import APPROVE_PERMISSION, Role, TokenIssuer
from shared.cli import ServiceCli
from shared.db import make_engine, make_sessionmaker


def _token_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--role", choices=["bureau", "fund", "bank", "admin"], default="bureau")
    parser.add_argument("--subject", default="demo-bureau", help="the staff member or client id")
    parser.add_argument("--bank", default=None, help="bank code, for --role bank")
    parser.add_argument(
        "--approver", action="store_true", help="bureau or fund user who may approve (four eyes)"
    )
    parser.add_argument("--ttl", type=int, default=None, help="lifetime in seconds")


def _token(args: Any, settings: Any) -> str:
    issuer = TokenIssuer.from_keys_dir(
        settings.keys_dir, issuer=SERVICE, ttl_seconds=args.ttl or settings.token_ttl_seconds
    )
    role = Role(args.role)
    if role is Role.BANK and not args.bank:
        raise SystemExit("--role bank needs --bank CODE")
    return issuer.issue(
        subject=args.subject,
        role=role,
        tenant=args.bank if role is Role.BANK else None,
        permissions={APPROVE_PERMISSION} if args.approver else set(),
    )


def _reseal(args: Any, settings: Any) -> str:
    """Seal every bank's signing secret again with the first sealing key (rotation)."""
    sealed.install(settings.keys_dir, SERVICE, create=settings.environment != "production")

    async def run() -> int:
        engine = make_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                return await reseal_signing_secrets(session=session)
        finally:
            await engine.dispose()

    return f"resealed {asyncio.run(run())} signing secrets with the first sealing key"


ServiceCli(
    name=SERVICE,
    settings=get_settings,
    create_app=create_app,
    migrations_dir=Path(__file__).parent / "migrations",
    audit_chains=audit_chains,
    seed=seed,  # type: ignore[arg-type]
    commands={
        "token": (_token_args, _token),
        "reseal": (lambda parser: None, _reseal),
    },
).main()
