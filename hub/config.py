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

    # Outgoing mail for escalations (empty host: mail actions fail and are retried, visibly, in Temporal).
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_from: str = "MSP Hub <hub@localhost>"
    # Seconds for one outgoing webhook or SMTP conversation.
    notify_timeout: float = Field(default=10.0, gt=0, le=120)
    # Link to a ticket in notifications; {ticket_id} and {number} are replaced.
    ticket_url_template: str = "http://127.0.0.1:8000/api/v1/tickets/{ticket_id}"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hub.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
