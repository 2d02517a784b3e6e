from pydantic_settings import SettingsConfigDict

from shared.settings import LOCAL_STATE_DIR, BaseServiceSettings

SERVICE = "guarantee"


class Settings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GUARANTEE_", extra="ignore")

    port: int = 8002
    database_url: str = f"sqlite+aiosqlite:///{LOCAL_STATE_DIR}/data/guarantee.db"


def get_settings() -> Settings:
    return Settings()
