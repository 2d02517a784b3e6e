from pathlib import Path

from services.guarantee.config import SERVICE, get_settings
from services.guarantee.demo import seed
from services.guarantee.main import audit_chains, create_app
from shared.cli import ServiceCli

ServiceCli(
    name=SERVICE,
    settings=get_settings,
    create_app=create_app,
    migrations_dir=Path(__file__).parent / "migrations",
    audit_chains=audit_chains,
    seed=seed,  # type: ignore[arg-type]
).main()
