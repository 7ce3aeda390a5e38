"""Task queues and search attributes shared by workflows, the worker, the API and the dev server."""

from temporalio.common import SearchAttributeKey

# One task queue per process family, so a billing run never delays an SLA escalation.
TICKETS_TASK_QUEUE = "tickets"
SOC_TASK_QUEUE = "soc"
BILLING_TASK_QUEUE = "billing"
REPORTS_TASK_QUEUE = "reports"

# What engineers filter on in the Temporal UI / `temporal workflow list --query`.
CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
TICKET_PRIORITY = SearchAttributeKey.for_keyword("TicketPriority")
TICKET_STATUS = SearchAttributeKey.for_keyword("TicketStatus")
TICKET_NUMBER = SearchAttributeKey.for_keyword("TicketNumber")
SLA_STATE = SearchAttributeKey.for_keyword("SlaState")
PROCESS = SearchAttributeKey.for_keyword("Process")

SEARCH_ATTRIBUTES = (CUSTOMER_ID, TICKET_PRIORITY, TICKET_STATUS, TICKET_NUMBER, SLA_STATE, PROCESS)


def ticket_workflow_id(ticket_id: object) -> str:
    return f"ticket-{ticket_id}"


def workflow_runner():  # noqa: ANN201
    """The sandbox, with deterministic modules passed through instead of re-imported per run: our pure domain
    code and the holiday data it uses (which imports dateutil lazily, calling time.localtime at import)."""
    from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("domain", "holidays", "dateutil")
    )
