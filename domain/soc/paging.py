"""The page a P1 security incident sends to an on-call webhook: data plus a German one-line summary.

Pure: the body depends only on the request, so a retried `soc.page` activity sends exactly the same page
(with the same Idempotency-Key) and the receiver can drop the duplicate.
"""

from typing import Any

from domain.contracts.soc import PageRequest


def acknowledge_path(incident_key: str) -> str:
    return f"/api/v1/soc/incidents/{incident_key}/acknowledge"


def page_summary(req: PageRequest) -> str:
    return " ".join(
        f"[{req.priority.value} Sicherheitsvorfall] {req.customer_number}: {req.title} "
        f"(Bereitschaft Stufe {req.level}/{req.levels}; bitte bis {req.ack_due_at:%H:%M} UTC bestätigen)".split()
    )


def page_body(req: PageRequest) -> dict[str, Any]:
    return {
        "event": "soc.page",
        "key": req.key,
        "urgency": "high",
        "summary": page_summary(req),
        "level": req.level,
        "levels": req.levels,
        "ack_due_at": req.ack_due_at.isoformat(),
        "acknowledge_path": acknowledge_path(req.incident_key),
        "incident": {
            "key": req.incident_key,
            "title": req.title,
            "priority": req.priority.value,
            "tenant_id": str(req.tenant_id),
            "customer_number": req.customer_number,
            "ticket_id": str(req.ticket_id),
        },
    }
