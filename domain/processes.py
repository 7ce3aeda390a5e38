"""Who is who in Temporal: task queues, workflow ids and search attributes of every process.

Pure and shared: workflows address each other with these ids, and the client code in `hub/temporal/` starts,
signals and finds workflows with them. An id is the process's idempotency key, so it is built in one place.
"""

import re
from datetime import datetime
from uuid import UUID

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

from domain.soc.alerts import Source

# One task queue per process family, so a billing run never delays an SLA escalation.
TICKETS_TASK_QUEUE = "tickets"
SOC_TASK_QUEUE = "soc"
BILLING_TASK_QUEUE = "billing"
REPORTS_TASK_QUEUE = "reports"
INVENTORY_TASK_QUEUE = "inventory"

# What engineers filter on in the Temporal UI / `temporal workflow list --query`.
CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
TICKET_PRIORITY = SearchAttributeKey.for_keyword("TicketPriority")
TICKET_STATUS = SearchAttributeKey.for_keyword("TicketStatus")
TICKET_NUMBER = SearchAttributeKey.for_keyword("TicketNumber")
SLA_STATE = SearchAttributeKey.for_keyword("SlaState")
PROCESS = SearchAttributeKey.for_keyword("Process")
BILLING_PERIOD = SearchAttributeKey.for_keyword("BillingPeriod")  # 2026-11, on the run and each invoice
BILLING_PROGRESS = SearchAttributeKey.for_keyword("BillingProgress")  # "12/40 done, 3 to approve, 1 failed"
INVOICE_STATUS = SearchAttributeKey.for_keyword("InvoiceStatus")  # draft, failed, issued, ... of one invoice
TICKET_QUEUE = SearchAttributeKey.for_keyword("TicketQueue")  # servicedesk, soc, a customer's shared queue
# The assignee's user id, or UNASSIGNED (the queue holds it). A keyword list: SQL visibility stores (the dev
# server's SQLite too) have ten Keyword slots, which the hub nearly fills.
TICKET_ASSIGNEE = SearchAttributeKey.for_keyword_list("TicketAssignee")
UNASSIGNED = "unassigned"
# The period a report covers: 2026-Q4 on the quarterly QBR run and each customer's QBR, 2026-11 on the monthly
# service report's. A keyword list with one value (`ReportPeriod = "2026-Q4"` finds it): SQL visibility stores (the
# dev server's SQLite too) have ten Keyword slots, which the hub fills, and three for keyword lists. The runs'
# progress is in their memo for the same reason.
REPORT_PERIOD = SearchAttributeKey.for_keyword_list("ReportPeriod")

SEARCH_ATTRIBUTES = (
    CUSTOMER_ID,
    TICKET_PRIORITY,
    TICKET_STATUS,
    TICKET_NUMBER,
    SLA_STATE,
    PROCESS,
    BILLING_PERIOD,
    BILLING_PROGRESS,
    INVOICE_STATUS,
    TICKET_QUEUE,
    TICKET_ASSIGNEE,
    REPORT_PERIOD,
)

# Values of the `Process` search attribute.
TICKET_PROCESS = "ticket"
SOC_INCIDENT_PROCESS = "soc"
SOC_POLL_PROCESS = "soc-poll"
SLA_REPIN_PROCESS = "sla-repin"
TICKET_START_SWEEP_PROCESS = "ticket-start-sweep"
TICKET_START_SWEEP_SCHEDULE_ID = "ticket-start-sweep"
BILLING_PROCESS = "billing"
INVOICE_PROCESS = "invoice"
BILLING_SCHEDULE_ID = "billing-monthly"
QBR_PROCESS = "qbr"
QBR_RUN_PROCESS = "qbr-run"
QBR_SCHEDULE_ID = "qbr-quarterly"
INVENTORY_SYNC_PROCESS = "inventory-sync"
INVENTORY_RUN_PROCESS = "inventory-run"
INVENTORY_SCHEDULE_ID = "inventory-daily"
SERVICE_REPORT_PROCESS = "service-report"
SERVICE_REPORT_RUN_PROCESS = "service-report-run"
SERVICE_REPORT_SCHEDULE_ID = "service-report-monthly"

INCIDENT_PREFIX = "incident-"


def ticket_workflow_id(ticket_id: UUID | str) -> str:
    return f"ticket-{ticket_id}"


def incident_workflow_id(key: str) -> str:
    """`incident-<correlation key>`; accepts the key or the workflow id itself (what the webhook answers)."""
    return key if key.startswith(INCIDENT_PREFIX) else f"{INCIDENT_PREFIX}{key}"


def incident_key(key_or_workflow_id: str) -> str:
    """The incident's correlation key from either spelling (`K10001-…` or `incident-K10001-…`)."""
    return key_or_workflow_id.removeprefix(INCIDENT_PREFIX)


def poll_workflow_id(source: str, tenant: str) -> str:
    """`soc-poll-<source>-<tenant>`; `tenant` is the customer number (or, lacking one, the integration id). The
    schedule has this id too; the server appends each tick's time to its runs' ids."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", tenant).strip("-")
    if not slug:
        raise ValueError(f"tenant {tenant!r} gives an empty workflow id part")
    return f"soc-poll-{Source(source).value}-{slug}"


def repin_batch_workflow_id(tenant_id: UUID | None, requested_at: datetime) -> str:
    scope = str(tenant_id) if tenant_id else "all"
    return f"sla-repin-{scope}-{requested_at.strftime('%Y%m%dT%H%M%S')}"


def billing_workflow_id(month: str) -> str:
    return f"billing-{month}"


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")
    if not slug:
        raise ValueError(f"{text!r} gives an empty workflow id part")
    return slug


def invoice_workflow_id(customer_number: str, month: str) -> str:
    return f"invoice-{_slug(customer_number)}-{month}"


def credit_note_workflow_id(invoice_number: str, draft_id: UUID) -> str:
    return f"credit-{_slug(invoice_number)}-{str(draft_id)[:8]}"


def _customer_period_attributes(
    process: str, customer_number: str, period: SearchAttributePair
) -> TypedSearchAttributes:
    """What a per-customer workflow of a period carries from its start (no upsert needed): found by customer and
    period at once."""
    return TypedSearchAttributes(
        [SearchAttributePair(PROCESS, process), SearchAttributePair(CUSTOMER_ID, customer_number), period]
    )


def invoice_search_attributes(customer_number: str, month: str) -> TypedSearchAttributes:
    return _customer_period_attributes(INVOICE_PROCESS, customer_number, SearchAttributePair(BILLING_PERIOD, month))


def qbr_workflow_id(customer_number: str, quarter: str) -> str:
    """`qbr-<customer>-<YYYY>-Q<n>`; `quarter` canonical (domain.qbr.quarter.parse_quarter)."""
    return f"qbr-{_slug(customer_number)}-{quarter}"


def qbr_run_workflow_id(quarter: str) -> str:
    return f"qbr-run-{quarter}"


def qbr_search_attributes(customer_number: str, quarter: str) -> TypedSearchAttributes:
    return _customer_period_attributes(QBR_PROCESS, customer_number, SearchAttributePair(REPORT_PERIOD, [quarter]))


def inventory_sync_workflow_id(customer_number: str) -> str:
    """`inventory-sync-<customer>`: one customer's sync of all its sources; a second start attaches to it."""
    return f"inventory-sync-{_slug(customer_number)}"


def inventory_sync_search_attributes(customer_number: str) -> TypedSearchAttributes:
    return TypedSearchAttributes(
        [SearchAttributePair(PROCESS, INVENTORY_SYNC_PROCESS), SearchAttributePair(CUSTOMER_ID, customer_number)]
    )
def service_report_workflow_id(customer_number: str, month: str) -> str:
    """`service-report-<customer>-<YYYY-MM>`; `month` canonical (domain.qbr.period.parse_month)."""
    return f"service-report-{_slug(customer_number)}-{month}"


def service_report_run_workflow_id(month: str) -> str:
    return f"service-report-run-{month}"


def service_report_search_attributes(customer_number: str, month: str) -> TypedSearchAttributes:
    return _customer_period_attributes(SERVICE_REPORT_PROCESS, customer_number,
                                       SearchAttributePair(REPORT_PERIOD, [month]))  # fmt: skip
