from pydantic_settings import SettingsConfigDict

from shared.settings import LOCAL_STATE_DIR, BaseServiceSettings

SERVICE = "bank_gateway"


class Settings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    port: int = 8003
    database_url: str = f"sqlite+aiosqlite:///{LOCAL_STATE_DIR}/data/bank_gateway.db"
    intake_url: str = "http://127.0.0.1:8001"
    guarantee_url: str = "http://127.0.0.1:8002"
    # Reconciliation: how long a loan may sit without the event a bank owes us.
    reconcile_disbursal_days: int = 14
    reconcile_repayment_days: int = 31
    run_outbox_worker: bool = True
    # The three-way reconciliation (ledger ⇄ fund ⇄ intake) on a schedule: seconds between
    # runs; 0 turns it off (it is always there on demand: GET /v1/reconciliation/three-way).
    three_way_interval_seconds: float = 6 * 3600
    outbox_poll_seconds: float = 1.0
    webhook_timeout_seconds: float = 10.0
    # Banks' webhook URLs may be plain http and point at loopback or private addresses:
    # for `make run` and the tests (default: everywhere but production).
    webhook_private_addresses: bool | None = None
    # A worker that dies mid-delivery holds its rows this long; then another takes them.
    outbox_lease_seconds: float = 60.0
    webhook_retry_hours: float = 24.0
    webhook_backoff_base_seconds: float = 10.0
    webhook_backoff_cap_seconds: float = 3600.0


def private_webhooks_allowed(settings: Settings) -> bool:
    if settings.webhook_private_addresses is not None:
        return settings.webhook_private_addresses
    return settings.environment != "production"


def get_settings() -> Settings:
    return Settings()
