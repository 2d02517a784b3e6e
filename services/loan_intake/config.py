from pydantic_settings import SettingsConfigDict

from shared.settings import LOCAL_STATE_DIR, BaseServiceSettings

SERVICE = "loan_intake"


class Settings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    port: int = 8001
    database_url: str = f"sqlite+aiosqlite:///{LOCAL_STATE_DIR}/data/loan_intake.db"
    # The issuer of clerks' and banks' tokens, asked whether their sessions still stand.
    gateway_url: str = "http://127.0.0.1:8003"
    guarantee_url: str = "http://127.0.0.1:8002"
    # Outbox hand-off to the guarantee service.
    outbox_batch_size: int = 250
    outbox_poll_seconds: float = 1.0
    outbox_lease_seconds: float = 30.0
    outbox_backoff_base_seconds: float = 0.5
    outbox_backoff_cap_seconds: float = 60.0
    run_outbox_worker: bool = True
    idempotency_ttl_hours: int = 24


def get_settings() -> Settings:
    return Settings()
