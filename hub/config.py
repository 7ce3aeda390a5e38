"""Configuration from environment variables prefixed PSA_ (and a local .env)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, HttpUrl
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.soc.priority import DEFAULT_MATRIX, PriorityMatrix
from domain.soc.triage import HandledThreats, TriagePolicy


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PSA_", env_file=".env", env_ignore_empty=True, extra="ignore")

    data_dir: Path = Path("data")
    # Rendered documents (QBR decks): files under this directory, the database keeps their index. Several replicas
    # (API, workers) must share it, e.g. one volume mounted on every host. Empty: data_dir/documents.
    documents_dir: Path | None = None
    # Empty means: SQLite file inside data_dir.
    database_url: str = ""
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # How platforms reach the hub, e.g. https://hub.example.com (behind a reverse proxy): integrations show their
    # webhook_url absolute under it. Empty: webhook_url is the path only.
    public_base_url: str = Field(default="", pattern=r"^(https?://[^\s/?#]+(/[^\s?#]*)?)?$")
    # Signs the web portal's session cookies (api/portal). Empty: a random one per process start, so sessions end
    # with a restart and do not carry across several API processes: set it in production.
    portal_secret: str = ""
    log_level: str = "INFO"
    log_format: str = Field(default="json", pattern="^(json|console)$")
    # Workflow tasks (and, separately, local activities) one worker runs at once per task queue. Each running task
    # holds its workflow's deadline (10 s): more at once than the cores serve makes every task slow, and tasks that
    # time out are run again (work done twice under load). Extra tasks wait in the server's queue instead.
    worker_workflow_tasks: int = Field(default=16, ge=1, le=1000)
    worker_local_activities: int = Field(default=16, ge=1, le=1000)
    # Processes beside each worker process that render invoice PDFs and e-invoice XML (hub/render_pool.py), so the
    # worker's interpreter lock is free meanwhile; started at the first render. 0: render in the worker itself.
    render_processes: int = Field(default=1, ge=0, le=64)
    # The worker's Temporal SDK metrics in Prometheus format at http://<address>/metrics, e.g. 127.0.0.1:9464;
    # empty: off.
    worker_metrics_address: str = Field(default="", pattern=r"^(\S+:\d{1,5})?$")
    # Days after resolution in which the customer may reopen; afterwards the ticket closes.
    ticket_reopen_days: int = Field(default=7, ge=0, le=365)
    # Days a waiting invoice draft goes between reminder mails to finance (the seller's contact address).
    billing_reminder_days: int = Field(default=3, ge=1, le=60)
    # Largest MSP PowerPoint template (PUT /api/v1/billing/seller/qbr-template) in bytes: real templates with their
    # pictures and fonts are often 2-10 MB. Only that upload; every other request body stays at 1 MiB.
    qbr_template_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024 * 1024, le=200 * 1024 * 1024)

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

    # --- SOC triage (issue #4): hub-wide defaults; each SOC integration may override any of them in its
    # `triage_settings` (domain/soc/triage.py TriageOverride). Read by the soc.record_alert activity only.
    # Hours without a new alert after which an incident closes; the next alert opens a new incident.
    soc_quiet_window_hours: int = Field(default=24, ge=1, le=720)
    # Resolve the ticket once the vendor reports every alert of the incident resolved/mitigated; else only a note.
    soc_auto_resolve: bool = False
    # Minutes a P1 page waits for an acknowledgement before the next on-call level is paged.
    soc_ack_timeout_minutes: int = Field(default=15, ge=1, le=1440)
    # On-call chain for P1 incidents: paging webhook URLs, level 1 first (JSON list in PSA_SOC_ONCALL_CHAIN).
    soc_oncall_chain: list[HttpUrl] = Field(default_factory=list, max_length=10)
    # Priority matrix (JSON in PSA_SOC_PRIORITY_MATRIX, schema domain/soc/priority.py); empty: the built-in one.
    soc_priority_matrix: PriorityMatrix | None = None
    # Alerts the vendor already mitigated, resolved or closed as benign: "informational" (a P4 ticket, no paging,
    # no containment), "none" (recorded, no ticket) or "normal" (triaged like any other alert).
    soc_handled_threats: HandledThreats = HandledThreats.INFORMATIONAL
    # Webhook alerts handed to their incident workflows at once by the API's inbox dispatcher (signal-with-starts).
    soc_inbox_concurrency: int = Field(default=16, ge=1, le=256)
    # A hand-over that keeps failing goes to the quarantine (GET /api/v1/soc/quarantine) after this many attempts
    # (back-off from 2 s, doubling: the 8th at least 4 minutes after the first), or once its alert has waited
    # this long. When Temporal did not answer, only while other hand-overs get through: an outage sets nothing aside.
    soc_inbox_max_attempts: int = Field(default=8, ge=1, le=100)
    soc_inbox_max_age_minutes: int = Field(default=60, ge=1, le=10_080)
    # /healthz answers 503 "degraded" when the oldest alert in the inbox has waited longer than this, or an alert
    # whose hand-over failed has waited longer than that.
    soc_inbox_health_oldest_minutes: float = Field(default=5, gt=0, le=1440)
    soc_inbox_health_failing_minutes: float = Field(default=5, gt=0, le=1440)
    # SOC alerts by mail (api/routes/soc/mail_intake.py): the API's SMTP receiver for the SOC mails the MSP forwards
    # (Barracuda XDR), e.g. 0.0.0.0:2525; empty: off. The domain only completes the shown addresses
    # (soc-<integration>-<token>@<domain>); the receiver takes any domain. Allowed senders: addresses or @domains
    # (JSON list), matched against the envelope sender or the From header; empty: any sender.
    soc_mail_listen: str = Field(default="", pattern=r"^(\S+:\d{1,5})?$")
    soc_mail_domain: str = Field(default="", pattern=r"^([A-Za-z0-9.-]+)?$")
    soc_mail_allowed_senders: list[str] = Field(default_factory=list, max_length=100)

    # Optional LLM summary of SOC incidents (German, for the ticket) from an OpenAI-compatible endpoint, e.g.
    # https://api.openai.com/v1 or a self-hosted vLLM/Ollama http://llm:11434/v1. Empty base URL or model: off,
    # the deterministic template is used (also on any LLM error). The key may stay empty for local servers.
    llm_base_url: str = Field(default="", pattern=r"^(https?://\S+)?$")
    llm_api_key: str = ""
    llm_model: str = ""
    # Seconds the whole LLM call may take before the template is used (bounded by the activity's timeout).
    llm_timeout: float = Field(default=20.0, gt=0, le=60)

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_base_url.strip() and self.llm_model.strip())

    @property
    def documents_path(self) -> Path:
        return self.documents_dir or self.data_dir / "documents"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hub.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()


def hub_defaults(settings: Settings) -> TriagePolicy:
    """The SOC triage policy of the PSA_SOC_* settings; an integration may override parts of it."""
    return TriagePolicy(
        quiet_window_hours=settings.soc_quiet_window_hours,
        auto_resolve=settings.soc_auto_resolve,
        ack_timeout_minutes=settings.soc_ack_timeout_minutes,
        oncall_chain=[str(url) for url in settings.soc_oncall_chain],
        priority_matrix=settings.soc_priority_matrix or DEFAULT_MATRIX,
        handled_threats=settings.soc_handled_threats,
    )
