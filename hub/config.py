"""Configuration from environment variables prefixed PSA_ (and a local .env)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PSA_", env_file=".env", env_ignore_empty=True, extra="ignore")

    data_dir: Path = Path("data")
    # Empty means: SQLite file inside data_dir.
    database_url: str = ""
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    log_level: str = "INFO"
    log_format: str = Field(default="json", pattern="^(json|console)$")
    # Days after resolution in which the customer may reopen; afterwards the ticket closes.
    ticket_reopen_days: int = Field(default=7, ge=0, le=365)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hub.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
