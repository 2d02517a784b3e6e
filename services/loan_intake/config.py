from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import LOCAL_STATE_DIR, BaseServiceSettings

SERVICE = "loan_intake"


class Settings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    port: int = 8001
    database_url: str = f"sqlite+aiosqlite:///{LOCAL_STATE_DIR}/data/loan_intake.db"
    # The issuer of clerks' and banks' tokens, asked whether their sessions still stand.
    gateway_url: str = "http://127.0.0.1:8003"
    # The city's unified identity platform (一网通办), an OpenID Connect provider: an SME
    # account is verified when the person signs in there for the firm and the USCC claim
    # matches. None: verification is not offered (accounts stay unverified).
    oidc_issuer: str | None = None
    oidc_client_id: str = "picidai"
    oidc_client_secret: str | None = None
    oidc_uscc_claim: str = "uscc"
    oidc_scope: str = "openid profile"
    guarantee_url: str = "http://127.0.0.1:8002"
    # Outbox hand-off to the guarantee service.
    outbox_batch_size: int = 250
    outbox_poll_seconds: float = 1.0
    outbox_lease_seconds: float = 30.0
    outbox_backoff_base_seconds: float = 0.5
    outbox_backoff_cap_seconds: float = 60.0
    run_outbox_worker: bool = True
    idempotency_ttl_hours: int = 24
    # Messages to people (SMS codes): written to this file in development (shared/outbound.py);
    # a production deployment plugs its SMS gateway into the same interface.
    outbound_sink_path: str = f"{LOCAL_STATE_DIR}/outbound/loan_intake.jsonl"

    @model_validator(mode="after")
    def _identity_platform_over_https(self) -> "Settings":
        issuer = self.oidc_issuer or ""
        if self.environment == "production" and issuer and not issuer.startswith("https://"):
            raise ValueError("production needs an https oidc_issuer")
        return self


def get_settings() -> Settings:
    return Settings()
