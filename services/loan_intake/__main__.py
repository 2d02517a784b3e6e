import argparse
from pathlib import Path
from typing import Any

from services.loan_intake.config import SERVICE, get_settings
from services.loan_intake.demo import DEMO_USCC, seed
from services.loan_intake.main import audit_chains, create_app
from shared.auth import Role, TokenIssuer
from shared.cli import ServiceCli
from shared.uscc import validate_uscc


def _token_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--uscc", default=DEMO_USCC, help="the SME's 统一社会信用代码")
    parser.add_argument("--ttl", type=int, default=None, help="lifetime in seconds")


def _token(args: Any, settings: Any) -> str:
    issuer = TokenIssuer.from_keys_dir(
        settings.keys_dir, issuer=SERVICE, ttl_seconds=args.ttl or settings.token_ttl_seconds
    )
    uscc = validate_uscc(args.uscc)
    return issuer.issue(subject=uscc, role=Role.SME, tenant=uscc)


ServiceCli(
    name=SERVICE,
    settings=get_settings,
    create_app=create_app,
    migrations_dir=Path(__file__).parent / "migrations",
    audit_chains=audit_chains,
    seed=seed,  # type: ignore[arg-type]
    commands={"token": (_token_args, _token)},
).main()
