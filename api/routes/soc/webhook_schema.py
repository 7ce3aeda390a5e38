"""What the webhook documents in OpenAPI: the request body (one alert, or a list of 1 to 500 under `data`), an
example per source, the verification headers of each method, and the answer per item."""

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

MAX_ITEMS = 500


class ItemOutcome(BaseModel):
    index: int = Field(description="Position of the item in the delivery (0 for a single alert)")
    status: Literal["accepted", "refused"]
    vendor_alert_id: str | None = Field(default=None, description="The vendor's id of the alert, when readable")
    incident: str | None = Field(default=None, description="accepted: the incident workflow the alert goes to")
    recorded: bool | None = Field(
        default=None,
        description="accepted: recorded on its alert without an incident: an update of a threat the vendor detected "
        "before the integration was created, or of one recorded that way before (no ticket, no page)",
    )
    reason: str | None = Field(
        default=None,
        description="refused: bad_alert, out_of_window, or foreign_site (a site or account not mapped "
        "to the integration's customer)",
    )
    field: str | None = Field(default=None, description="refused: the field at fault (`data.<index>.` in a list)")
    message: str | None = Field(default=None, description="refused: why, for people")
    quarantine_id: UUID | None = Field(
        default=None, description="refused: the item kept for review (GET /api/v1/soc/quarantine?kind=webhook)"
    )


class DeliveryResult(BaseModel):
    accepted: int = Field(
        description="Alerts stored in the hub: in the SOC inbox on their way to their incidents, or recorded on their "
        "alert rows without an incident (`items[].recorded`)"
    )
    refused: int = Field(default=0, description="Items refused and kept in the quarantine, each with its reason")
    incidents: list[str] = Field(description="The incident workflow of each accepted alert, in delivery order")
    items: list[ItemOutcome] = Field(description="Every item of the delivery, in order: accepted or refused")


DESCRIPTION = """\
202: every accepted alert is stored in the hub (the SOC inbox) and reaches its incident within moments, also when
the workflow engine is briefly away; every refused item is stored in the quarantine with its reason. `items` lists
each item of the delivery, accepted or refused. A batch with good and bad items is a 202 for the good ones; when
every item is refused the answer is a 422 problem with the same `items`.

An item is refused when it cannot be read, has a time outside the hub's window, or names a vendor site/account
(SentinelOne `siteId`, RocketCyber `accountId`, Barracuda XDR `customerId`, generic `tenant.id`) that is not in
the integration's `vendor_tenant_ids` (`foreign_site`): it is never filed under another customer.

Verification, per integration (`webhook_auth`; the secret is shown once on create and rotation):
- `standard_webhooks` (default): headers `webhook-id`, `webhook-timestamp` (Unix seconds, within 5 minutes) and
  `webhook-signature` (`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, key: the base64 after `whsec_`);
- `header_secret`: the secret in the header `webhook_auth_header` (default `X-Webhook-Secret`);
- `bearer`: `Authorization: Bearer <secret>`;
- `hmac_sha256`: hex (or `sha256=<hex>`, or base64) HMAC-SHA256 of the raw body under the secret's UTF-8 bytes, in
  the header `webhook_auth_header` (default `X-Signature-SHA256`).
"""

_S1_THREAT = {
    "id": "1798765432101234567",
    "threatInfo": {
        "threatId": "1798765432101234567",
        "threatName": "invoice_2026.exe",
        "classification": "Trojan",
        "confidenceLevel": "malicious",
        "mitigationStatus": "mitigated",
        "incidentStatus": "unresolved",
        "sha256": "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
        "createdAt": "2026-11-20T08:15:42.123456Z",
        "updatedAt": "2026-11-20T08:16:03.654321Z",
    },
    "agentRealtimeInfo": {
        "agentId": "1700000000000000001",
        "agentComputerName": "ACME-WS-042",
        "accountId": "1600000000000000001",
        "siteId": "1650000000000000001",
        "siteName": "Contoso GmbH",
    },
}
_GENERIC = {
    "id": "evt-20261120-0042",
    "title": "Mimikatz detected",
    "detected_at": "2026-11-20T09:15:42+01:00",
    "severity": "critical",
    "verdict": "malicious",
    "device": {"hostname": "MUC-DC01"},
    "tenant": {"id": "contoso", "name": "Contoso GmbH"},
}
_ROCKETCYBER = {
    "id": 4711,
    "title": "Suspicious PowerShell",
    "accountId": 1234567,
    "status": "open",
    "createdAt": "2026-11-20T08:15:42Z",
}
_BARRACUDA = {
    "alarmId": "XDR-2026-000123",
    "title": "Brute force login attempts detected",
    "severity": "High",
    "customerId": "CUST-0042",
    "createdAt": "2026-11-20T08:15:42Z",
    "hostname": "MUC-DC01.contoso.local",
}

_HEADERS = [
    ("webhook-id", "standard_webhooks: the message id (kept across the sender's retries)"),
    ("webhook-timestamp", "standard_webhooks: Unix seconds of sending"),
    ("webhook-signature", "standard_webhooks: space-separated `v1,<base64>` signatures"),
    ("Authorization", "bearer: `Bearer <secret>`"),
    ("X-Webhook-Secret", "header_secret: the secret (default header name)"),
    ("X-Signature-SHA256", "hmac_sha256: HMAC-SHA256 of the body, hex (default header name)"),
]

OPENAPI_EXTRA: dict[str, Any] = {
    "parameters": [
        {"name": name, "in": "header", "required": False, "description": text, "schema": {"type": "string"}}
        for name, text in _HEADERS
    ],
    "requestBody": {
        "required": True,
        "description": 'One alert of the source\'s shape, or `{"data": [alert, ...]}` with 1 to 500 alerts',
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"type": "object", "description": "One alert (the vendor's own shape)"},
                        {
                            "type": "object",
                            "required": ["data"],
                            "properties": {
                                "data": {
                                    "type": "array",
                                    "minItems": 1,
                                    "maxItems": MAX_ITEMS,
                                    "items": {"type": "object"},
                                }
                            },
                        },
                    ]
                },
                "examples": {
                    "sentinelone": {"summary": "SentinelOne threat (/webhooks/sentinelone/...)", "value": _S1_THREAT},
                    "sentinelone_batch": {"summary": "Several threats", "value": {"data": [_S1_THREAT]}},
                    "rocketcyber": {
                        "summary": "RocketCyber incident (/webhooks/rocketcyber/...)",
                        "value": _ROCKETCYBER,
                    },
                    "barracuda_xdr": {
                        "summary": "Barracuda XDR alarm (/webhooks/barracuda-xdr/...)",
                        "value": _BARRACUDA,
                    },
                    "generic": {"summary": "Generic alert (/webhooks/generic/...)", "value": _GENERIC},
                },
            }
        },
    },
}
