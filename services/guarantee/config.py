from pydantic_settings import SettingsConfigDict

from shared.settings import LOCAL_STATE_DIR, BaseServiceSettings

SERVICE = "guarantee"


class Settings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GUARANTEE_", extra="ignore")

    port: int = 8002
    database_url: str = f"sqlite+aiosqlite:///{LOCAL_STATE_DIR}/data/guarantee.db"
    # The issuer of clerks' and banks' tokens, asked whether their sessions still stand.
    gateway_url: str = "http://127.0.0.1:8003"
    # Tests run the what-if worker by hand; a deployment may run it in fewer replicas.
    run_whatif_worker: bool = True
    # Claims decided and paid are told to the bank gateway by a worker (claims/notices.py).
    run_claim_notice_worker: bool = True
    claim_notice_backoff_base_seconds: float = 2.0
    claim_notice_backoff_cap_seconds: float = 3600.0
    whatif_chunk_size: int = 1000
    # Processes that assess what-if chunks on other cores; 0 runs them in a thread.
    whatif_processes: int = 2


def get_settings() -> Settings:
    return Settings()
