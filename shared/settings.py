"""Settings base shared by the three services.

Each service subclasses :class:`BaseServiceSettings` with its own ``env_prefix``
(``INTAKE_``, ``GUARANTEE_``, ``GATEWAY_``) and instantiates it once in ``config.py``.
"""

from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared import faults

Environment = Literal["development", "test", "production"]

# Where `make run` keeps its SQLite files and development keys; git-ignored.
LOCAL_STATE_DIR = Path("var")


class BaseServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", validate_default=True)

    environment: Environment = "development"
    log_level: str = "INFO"
    # None: JSON when stderr is not a terminal, coloured console otherwise.
    log_json: bool | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = ""
    # A directory holding this service's Ed25519 signing key (``<issuer>.pem``) and the
    # public keys of every issuer it trusts (``<issuer>.pub.pem``). See shared/auth.py.
    keys_dir: Path = LOCAL_STATE_DIR / "keys"
    token_ttl_seconds: int = 900
    # The API documents (/docs, /redoc, /openapi.json): on outside production; in production
    # only when the operator publishes them for the banks (the contract is also in docs/).
    public_docs: bool | None = None
    # /metrics: open outside production; in production served only with this bearer token
    # (Prometheus' bearer_token), else not at all.
    metrics_token: str | None = None
    # How long an issuer's answer about a session (signed out? deactivated? permissions?)
    # is believed before it is asked again (shared/sessions.py).
    session_cache_seconds: float = 5.0
    max_body_bytes: int = 1024 * 1024
    # A document uploaded with a claim (PDF, JPEG or PNG): scanned court papers run to MBs.
    max_upload_bytes: int = 10 * 1024 * 1024
    # Addresses (or networks) of the reverse proxies whose X-Forwarded-For / -Proto we
    # believe: nginx in compose, the ingress in k8s. Empty: nobody's — the connecting
    # address is the client, so a forged header buys no fresh sign-in attempts.
    trusted_proxies: list[str] = []
    # Background work (outboxes, what-if, notices, the audit sealer): true — ``serve`` runs
    # it in its own event loop (tests, the smallest setup); false — ``serve`` only hands it
    # over to ``python -m services.<name> worker`` processes (make run, compose, k8s), so a
    # request never waits behind batch work (shared/jobs.py).
    workers_in_process: bool = True
    # A worker process's own Prometheus metrics (outbox backlogs, delivery outcomes) on this
    # port of ``host``, plain HTTP without a token: for the cluster's scraper only. None: off.
    worker_metrics_port: int | None = None
    # A worker process touches this file every few seconds while its event loop turns: the
    # evidence its liveness probe reads (k8s, compose), since a worker serves no HTTP and a
    # metrics thread would answer even with the loop stuck. None: no file.
    worker_heartbeat_file: Path | None = None
    # The audit log's sealer (shared/audit.py): how often it chains the new rows.
    run_audit_sealer: bool = True
    audit_seal_interval_seconds: float = 1.0

    @property
    def docs_served(self) -> bool:
        return (
            self.public_docs if self.public_docs is not None else (self.environment != "production")
        )

    @model_validator(mode="after")
    def _refuse_development_defaults_in_production(self) -> "BaseServiceSettings":
        if self.environment == "production":
            if not self.database_url or self.database_url.startswith("sqlite"):
                raise ValueError("production needs a PostgreSQL database_url")
            if self.keys_dir == LOCAL_STATE_DIR / "keys":
                raise ValueError("production needs keys_dir set to mounted secrets")
            if faults.armed():
                raise ValueError(f"{faults.ENV} (the fault suite's crash points) in production")
        return self
