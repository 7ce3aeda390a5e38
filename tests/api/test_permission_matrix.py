"""The permission matrix: every route of the app × every role × the caller's own and another tenant, with the
expected answer class in ONE table (MATRIX). The routes come from the app itself, so a new route without a row
fails the test; a row without a route too.

Each cell is one request. Path parameters are filled from one pair of tenants (`own`: the callers' customer,
`other`: another one) with a ticket, a comment, a time entry, a queue, a contact, an asset, a KB article, a
contract, an invoice, a SOC integration and a user with a key each, built once per module. MSP-wide objects the
matrix does not build (calendars, SLA definitions, products, ...) are random ids: a role that may reach the route
gets a 404, one that may not a 403. Write requests send `{}` (a PATCH that changes nothing, a POST that misses its
fields: 422 once role checks pass), or a body from BODIES; requests that would start long work (billing runs, QBR
builds, re-pinning every ticket) send a body the route refuses (422), so only the role check runs. A DELETE gets a
fresh object per cell where the route deletes a tenant's row (FRESH). No 2xx answer to a customer-side role may
contain an id of the other tenant's objects (LEAK_CHECKED), lists included; no cell may answer 5xx.

The portal's pages (/portal/...) are called with each role's portal session (logged in with its key, as a person
does), forms with the session's CSRF token; without a session a page redirects to the login (303).

To add routes: add their rows; `PSA_MATRIX_RECORD=1 pytest …` prints the observed table to compare with."""

import asyncio
import os
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlmodel import Session, select

from api.app import create_app
from domain.roles import Role
from hub.config import Settings
from hub.db import session_scope
from models import ApiKey, Invoice
from tests.billing_setup import new_series, set_seller
from tests.conftest import auth
from tests.factories import make_asset, make_contact, make_sla, make_soc_integration, make_tenant, make_user

ROLES = (Role.MSP_ADMIN, Role.MSP_TECH, Role.FINANCE, Role.CUSTOMER_IT, Role.CUSTOMER_USER, Role.EXTERNAL_TECH)
# Answer classes: "2" any 2xx, else the exact status. A row is "own" or "own | other": the answers of the six roles
# (ROLES order) with the own tenant's objects, and with the other tenant's; one group when no parameter depends on
# the tenant. Writes run cell by cell, left to right, own before other.
# fmt: off
MATRIX: dict[str, str] = {
    "GET /openapi.json": "2 2 2 2 2 2",
    "GET /docs": "2 2 2 2 2 2",
    "GET /docs/oauth2-redirect": "2 2 2 2 2 2",
    "GET /redoc": "2 2 2 2 2 2",
    "POST /api/v1/webhooks/{source}/{integration_id}": "401 401 401 401 401 401 | 401 401 401 401 401 401",
    "GET /healthz": "2 2 2 2 2 2",
    "GET /metrics": "2 2 2 2 2 2",
    "GET /api/v1/tenants": "2 2 2 2 2 403",
    "POST /api/v1/tenants": "422 403 403 403 403 403",
    "GET /api/v1/tenants/{tenant_id}": "2 2 2 2 2 403 | 2 2 2 404 404 403",
    "PATCH /api/v1/tenants/{tenant_id}": "2 403 403 403 403 403 | 2 403 403 403 403 403",
    "GET /api/v1/tenants/{tenant_id}/calendar": "2 2 2 2 2 403 | 2 2 2 404 404 403",
    "GET /api/v1/tenants/{tenant_id}/sites": "2 2 2 2 2 403 | 2 2 2 404 404 403",
    "POST /api/v1/tenants/{tenant_id}/sites": "422 422 403 403 403 403 | 422 422 403 403 403 403",
    "GET /api/v1/contacts": "2 2 2 2 2 403 | 2 2 2 2 2 403",
"POST /api/v1/contacts": "2 2 403 2 403 403 | 2 2 403 404 403 403",
    "GET /api/v1/contacts/{contact_id}": "2 2 2 2 2 403 | 2 2 2 404 404 403",
    "PATCH /api/v1/contacts/{contact_id}": "2 2 403 2 403 403 | 2 2 403 404 403 403",
    "DELETE /api/v1/contacts/{contact_id}": "2 2 403 2 403 403 | 2 2 403 404 403 403",
    "GET /api/v1/assets": "2 2 2 2 2 403 | 2 2 2 2 2 403",
"POST /api/v1/assets": "2 2 403 2 403 403 | 2 2 403 404 403 403",
    "GET /api/v1/assets/{asset_id}": "2 2 2 2 2 403 | 2 2 2 404 404 403",
    "PATCH /api/v1/assets/{asset_id}": "2 2 403 2 403 403 | 2 2 403 404 403 403",
    "DELETE /api/v1/assets/{asset_id}": "2 2 403 2 403 403 | 2 2 403 404 403 403",
"POST /api/v1/tickets": "2 2 403 2 2 403 | 2 2 403 404 404 403",
    "GET /api/v1/tickets": "2 2 2 2 2 2 | 2 2 2 2 2 2",
    "GET /api/v1/tickets/{ticket_id}": "2 2 2 2 2 2 | 2 2 2 404 404 404",
    "POST /api/v1/tickets/{ticket_id}/transitions": "409 409 403 409 409 409 | 409 409 403 404 404 404",
    "PUT /api/v1/tickets/{ticket_id}/assignee": "2 2 403 2 403 403 | 2 2 403 404 403 403",
    "PUT /api/v1/tickets/{ticket_id}/queue": "2 2 403 2 403 403 | 2 2 403 404 403 403",
    "PUT /api/v1/tickets/{ticket_id}/co-managed": "2 2 403 403 403 403 | 2 2 403 403 403 403",
    "PUT /api/v1/tickets/{ticket_id}/priority": "2 2 403 2 403 403 | 2 2 403 404 403 403",
    "GET /api/v1/tickets/{ticket_id}/sla": "2 2 2 2 2 2 | 2 2 2 404 404 404",
    "POST /api/v1/tickets/{ticket_id}/sla/repin": "2 403 403 403 403 403 | 2 403 403 403 403 403",
    "GET /api/v1/tickets/{ticket_id}/events": "2 2 2 2 2 2 | 2 2 2 404 404 404",
    "GET /api/v1/tickets/{ticket_id}/comments": "2 2 2 2 2 2 | 2 2 2 404 404 404",
    "POST /api/v1/tickets/{ticket_id}/comments": "2 2 403 2 2 2 | 2 2 403 404 404 404",
    "GET /api/v1/tickets/{ticket_id}/comments/{comment_id}": "2 2 2 2 2 2 | 2 2 2 404 404 404",
    "POST /api/v1/tickets/{ticket_id}/time-entries": "2 2 403 2 403 403 | 2 2 403 404 403 403",
    "GET /api/v1/tickets/{ticket_id}/time-entries": "2 2 2 2 403 403 | 2 2 2 404 403 403",
    "GET /api/v1/tickets/{ticket_id}/time-entries/{entry_id}": "2 2 2 2 403 403 | 2 2 2 404 403 403",
    "POST /api/v1/tickets/{ticket_id}/hand-back-to-customer": "2 409 403 409 403 403 | 2 409 403 404 403 403",
    "POST /api/v1/tickets/{ticket_id}/escalate-to-msp": "2 409 403 409 403 403 | 2 409 403 404 403 403",
    "GET /api/v1/calendars": "2 2 2 403 403 403",
    "POST /api/v1/calendars": "422 403 403 403 403 403",
    "GET /api/v1/calendars/{calendar_id}": "404 404 404 403 403 403",
    "PATCH /api/v1/calendars/{calendar_id}": "404 403 403 403 403 403",
    "DELETE /api/v1/calendars/{calendar_id}": "404 403 403 403 403 403",
    "GET /api/v1/sla-definitions": "2 2 2 403 403 403",
    "POST /api/v1/sla-definitions": "422 403 403 403 403 403",
    "GET /api/v1/sla-definitions/{definition_id}": "404 404 404 403 403 403",
    "PATCH /api/v1/sla-definitions/{definition_id}": "404 403 403 403 403 403",
    "DELETE /api/v1/sla-definitions/{definition_id}": "404 403 403 403 403 403",
    "GET /api/v1/escalation-policies/schema": "2 403 403 403 403 403",
    "POST /api/v1/escalation-policies/validate": "422 403 403 403 403 403",
    "GET /api/v1/escalation-policies": "2 403 403 403 403 403",
    "POST /api/v1/escalation-policies": "422 403 403 403 403 403",
    "GET /api/v1/escalation-policies/{policy_id}": "404 403 403 403 403 403",
    "GET /api/v1/escalation-policies/{policy_id}/versions/{version}": "404 403 403 403 403 403",
    "POST /api/v1/escalation-policies/{policy_id}/versions": "422 403 403 403 403 403",
    "POST /api/v1/escalation-policies/{policy_id}/versions/{version}/activate": "404 403 403 403 403 403",
    "POST /api/v1/sla/simulate": "422 422 403 403 403 403",
    "POST /api/v1/sla/repin": "422 403 403 403 403 403",
    "POST /api/v1/soc/integrations": "422 403 403 403 403 403",
    "GET /api/v1/soc/integrations": "2 2 403 403 403 403",
    "GET /api/v1/soc/integrations/{integration_id}": "2 2 403 403 403 403 | 2 2 403 403 403 403",
    "PATCH /api/v1/soc/integrations/{integration_id}": "2 403 403 403 403 403 | 2 403 403 403 403 403",
    "POST /api/v1/soc/integrations/{integration_id}/rotate-secret": "2 403 403 403 403 403 | 2 403 403 403 403 403",
    "DELETE /api/v1/soc/integrations/{integration_id}/previous-secret": "2 403 403 403 403 403 | 2 403 403 403 403 403",
    "GET /api/v1/soc/incidents": "2 2 403 403 403 403",
    "GET /api/v1/soc/incidents/{key}": "404 404 403 403 403 403",
    "POST /api/v1/soc/incidents/{key}/containment": "422 422 403 403 403 403",
    "POST /api/v1/soc/incidents/{key}/acknowledge": "404 404 404 404 404 403",
    "GET /api/v1/soc/incidents/{key}/lifecycle": "404 404 404 404 404 403",
    "GET /api/v1/soc/integrations/{integration_id}/triage-settings": "2 2 403 403 403 403 | 2 2 403 403 403 403",
    "PATCH /api/v1/soc/integrations/{integration_id}/triage-settings": "2 403 403 403 403 403 | 2 403 403 403 403 403",
    "GET /api/v1/soc/quarantine": "2 2 403 403 403 403",
    "POST /api/v1/soc/quarantine/{item_id}/release": "404 404 403 403 403 403",
    "GET /api/v1/soc/integrations/{integration_id}/mail-address": "409 403 403 403 403 403 | 409 403 403 403 403 403",
    "GET /api/v1/billing/seller": "2 2 2 403 403 403",
    "PUT /api/v1/billing/seller": "422 403 422 403 403 403",
    "PATCH /api/v1/billing/seller": "2 403 2 403 403 403",
    "GET /api/v1/billing/seller/branding": "2 2 2 403 403 403",
    "PUT /api/v1/billing/seller/branding": "2 403 2 403 403 403",
    "GET /api/v1/billing/seller/logo-image": "404 404 404 403 403 403",
    "PUT /api/v1/billing/seller/logo-image": "415 403 415 403 403 403",
    "DELETE /api/v1/billing/seller/logo-image": "2 403 2 403 403 403",
    "PUT /api/v1/billing/seller/qbr-template": "415 403 415 403 403 403",
    "DELETE /api/v1/billing/seller/qbr-template": "2 403 2 403 403 403",
    "GET /api/v1/tenants/{tenant_id}/billing": "404 404 404 404 404 403 | 404 404 404 404 404 403",
    "PUT /api/v1/tenants/{tenant_id}/billing": "422 403 422 403 403 403 | 422 403 422 403 403 403",
    "PATCH /api/v1/tenants/{tenant_id}/billing": "404 403 404 403 403 403 | 404 403 404 403 403 403",
    "GET /api/v1/billing/products": "2 2 2 403 403 403",
    "POST /api/v1/billing/products": "422 403 422 403 403 403",
    "GET /api/v1/billing/products/{product_id}": "404 404 404 403 403 403",
    "PATCH /api/v1/billing/products/{product_id}": "404 403 404 403 403 403",
    "GET /api/v1/contracts": "2 2 2 2 2 403",
    "POST /api/v1/contracts": "422 403 422 403 403 403",
    "GET /api/v1/contracts/{contract_id}": "2 2 2 2 2 403 | 2 2 2 404 404 403",
    "PATCH /api/v1/contracts/{contract_id}": "2 403 2 403 403 403 | 2 403 2 403 403 403",
    "POST /api/v1/contracts/{contract_id}/lines": "422 403 422 403 403 403 | 422 403 422 403 403 403",
    "PATCH /api/v1/contracts/{contract_id}/lines/{line_id}": "404 403 404 403 403 403 | 404 403 404 403 403 403",
    "GET /api/v1/contracts/{contract_id}/items": "2 2 2 2 2 403 | 2 2 2 404 404 403",
    "POST /api/v1/contracts/{contract_id}/items": "422 403 422 403 403 403 | 422 403 422 403 403 403",
    "GET /api/v1/contracts/{contract_id}/history": "2 2 2 403 403 403 | 2 2 2 403 403 403",
    "POST /api/v1/billing/runs": "422 403 422 403 403 403",
    "GET /api/v1/billing/runs/{month}": "404 403 404 403 403 403",
    "POST /api/v1/billing/runs/{month}/approve": "2 403 2 403 403 403",
    "GET /api/v1/invoices": "2 2 2 2 2 403 | 2 2 2 2 2 403",
    "GET /api/v1/invoices/{invoice_id}": "2 2 2 2 2 403 | 2 2 2 404 404 403",
    "GET /api/v1/invoices/{invoice_id}/pdf": "404 404 404 404 404 403 | 404 404 404 404 404 403",
    "GET /api/v1/invoices/{invoice_id}/xml": "404 404 404 404 404 403 | 404 404 404 404 404 403",
    "POST /api/v1/invoices/{invoice_id}/approve": "409 403 409 403 403 403 | 409 403 409 403 403 403",
    "POST /api/v1/invoices/{invoice_id}/reject": "422 403 422 403 403 403 | 422 403 422 403 403 403",
    "PATCH /api/v1/invoices/{invoice_id}/lines/{line_index}": "422 403 422 403 403 403 | 422 403 422 403 403 403",
    "POST /api/v1/invoices/{invoice_id}/recompose": "409 403 409 403 403 403 | 409 403 409 403 403 403",
    "POST /api/v1/invoices/{invoice_id}/credit-notes": "422 403 422 403 403 403 | 422 403 422 403 403 403",
    "GET /api/v1/billing/exports/datev": "422 403 422 403 403 403",
    "GET /api/v1/billing/exports/bmd": "422 403 422 403 403 403",
    "POST /api/v1/billing/sepa-collections": "422 403 422 403 403 403",
    "GET /api/v1/billing/sepa-collections": "422 403 422 403 403 403",
    "GET /api/v1/billing/sepa-collections/{collection_id}/file": "404 403 404 403 403 403",
    "POST /api/v1/users": "422 403 403 403 403 403",
    "GET /api/v1/users": "2 403 403 403 403 403",
    "GET /api/v1/users/{user_id}": "2 403 403 403 403 403 | 2 403 403 403 403 403",
    "PATCH /api/v1/users/{user_id}": "2 403 403 403 403 403 | 2 403 403 403 403 403",
    "PUT /api/v1/users/{user_id}/password": "422 403 403 403 403 403 | 422 403 403 403 403 403",
    "POST /api/v1/keys": "422 403 403 403 403 403",
    "GET /api/v1/keys": "2 403 403 403 403 403",
    "GET /api/v1/keys/{key_id}": "2 403 403 403 403 403 | 2 403 403 403 403 403",
    "POST /api/v1/keys/{key_id}/revoke": "2 403 403 403 403 403 | 2 403 403 403 403 403",
    "GET /api/v1/tenants/{tenant_id}/co-management": "2 2 2 2 2 403 | 2 2 2 404 404 403",
    "PUT /api/v1/tenants/{tenant_id}/co-management": "422 403 403 403 403 403 | 422 403 403 403 403 403",
    "POST /api/v1/queues": "422 403 403 403 403 403",
    "GET /api/v1/queues": "2 2 2 2 403 403",
    "GET /api/v1/queues/mine/tickets": "2 2 2 2 403 2",
    "GET /api/v1/queues/{queue_id}": "2 2 2 2 403 403 | 2 2 2 404 403 403",
    "GET /api/v1/queues/{queue_id}/members": "2 2 2 2 403 403 | 2 2 2 404 403 403",
    "PUT /api/v1/queues/{queue_id}/members/{user_id}": "422 403 403 403 403 403 | 422 403 403 403 403 403",
    "DELETE /api/v1/queues/{queue_id}/members/{user_id}": "404 403 403 403 403 403 | 404 403 403 403 403 403",
    "GET /api/v1/kb/search": "2 2 2 2 2 403 | 2 2 2 2 2 403",
"POST /api/v1/kb/articles": "2 2 403 2 403 403 | 2 2 403 404 403 403",
    "GET /api/v1/kb/articles": "2 2 2 2 2 403 | 2 2 2 2 2 403",
    "GET /api/v1/kb/categories": "2 2 2 2 2 403",
    "GET /api/v1/kb/articles/{article_id}": "2 2 2 2 2 403 | 2 2 2 404 404 403",
    "PATCH /api/v1/kb/articles/{article_id}": "2 2 403 2 403 403 | 2 2 403 404 403 403",
    "DELETE /api/v1/kb/articles/{article_id}": "2 2 403 403 403 403 | 2 2 403 403 403 403",
    "GET /api/v1/kb/articles/{article_id}/versions": "2 2 2 2 2 403 | 2 2 2 404 404 403",
    "GET /api/v1/kb/articles/{article_id}/versions/{version}": "2 2 2 2 2 403 | 2 2 2 404 404 403",
    "PUT /api/v1/kb/articles/{article_id}/tickets/{ticket_id}": "2 2 403 2 403 403 | 2 2 403 404 403 403",
    "DELETE /api/v1/kb/articles/{article_id}/tickets/{ticket_id}": "404 404 403 404 403 403 | 404 404 403 404 403 403",
    "GET /api/v1/kb/articles/{article_id}/tickets": "2 2 2 2 2 403 | 2 2 2 404 404 403",
    "GET /api/v1/kb/tickets/{ticket_id}/articles": "2 2 2 2 2 403 | 2 2 2 404 404 403",
    "GET /api/v1/kb/tickets/{ticket_id}/suggestions": "2 2 2 2 2 403 | 2 2 2 404 404 403",
    "POST /api/v1/qbr/builds": "422 403 422 403 403 403",
    "POST /api/v1/qbr/runs": "422 403 422 403 403 403",
    "GET /api/v1/qbr/runs/{quarter}": "404 403 404 403 403 403",
    "GET /api/v1/qbr/decks": "2 2 2 2 2 403",
    "GET /api/v1/qbr/decks/{tenant_id}/{quarter}/{kind}": "404 404 404 404 404 403 | 404 404 404 404 404 403",
    "POST /api/v1/qbr/decks/{tenant_id}/{quarter}/rebuild": "404 404 403 403 403 403 | 404 404 403 403 403 403",
    "GET /api/v1/qbr/business/{quarter}": "2 403 2 403 403 403",
    "POST /api/v1/service-reports/builds": "422 403 422 403 403 403",
    "POST /api/v1/service-reports/runs": "422 403 422 403 403 403",
    "GET /api/v1/service-reports/runs/{month}": "404 403 404 403 403 403",
    "GET /api/v1/service-reports": "2 2 2 2 2 403",
    "GET /api/v1/service-reports/{tenant_id}/{month}/pdf": "404 404 404 404 404 403 | 404 404 404 404 404 403",
    "GET /api/v1/qbr/business/{quarter}/pdf": "2 403 2 403 403 403",
    "POST /api/v1/qbr/vcio": "422 422 403 403 403 403",
    "GET /api/v1/qbr/vcio": "2 2 2 2 2 403",
    "PATCH /api/v1/qbr/vcio/{item_id}": "404 404 403 403 403 403",
    "DELETE /api/v1/qbr/vcio/{item_id}": "404 404 403 403 403 403",
    "GET /api/v1/qbr/replacement-costs": "2 2 2 403 403 403",
    "GET /api/v1/qbr/lifecycle/{tenant_id}": "2 2 2 2 2 403 | 2 2 2 404 404 403",
    "PUT /api/v1/qbr/replacement-costs": "422 422 403 403 403 403",
    "GET /api/v1/qbr/replacement-costs/customers/{tenant_id}": "2 2 2 403 403 403 | 2 2 2 403 403 403",
    "PUT /api/v1/qbr/replacement-costs/customers/{tenant_id}": "422 422 403 403 403 403 | 422 422 403 403 403 403",
    "DELETE /api/v1/qbr/replacement-costs/customers/{tenant_id}/{asset_type}":
        "2 2 403 403 403 403 | 2 2 403 403 403 403",
    "GET /api/v1/tenants/{tenant_id}/raci": "404 404 404 404 403 403 | 404 404 404 404 403 403",
    "PUT /api/v1/tenants/{tenant_id}/raci": "422 422 403 403 403 403 | 422 422 403 403 403 403",
    "DELETE /api/v1/tenants/{tenant_id}/raci": "404 404 403 403 403 403 | 404 404 403 403 403 403",
    "GET /api/v1/tenants/{tenant_id}/raci/history": "2 2 2 2 403 403 | 2 2 2 404 403 403",
    "GET /api/v1/reports/tickets": "2 2 2 2 403 403 | 2 2 2 404 403 403",
    "GET /api/v1/reports/sla": "2 2 2 2 403 403 | 2 2 2 404 403 403",
    # Inventory sources are the MSP's (ids unknown to the matrix: tests/api/test_inventory_api.py has the tenants)
    "POST /api/v1/inventory/sources": "422 403 403 403 403 403",
    "GET /api/v1/inventory/sources": "2 2 403 403 403 403",
    "GET /api/v1/inventory/sources/{source_id}": "404 404 403 403 403 403",
    "PATCH /api/v1/inventory/sources/{source_id}": "404 403 403 403 403 403",
    "DELETE /api/v1/inventory/sources/{source_id}": "404 403 403 403 403 403",
    "POST /api/v1/inventory/syncs": "422 422 403 403 403 403",
    "GET /api/v1/inventory/health": "2 2 2 2 2 403 | 2 2 2 2 2 403",
    "GET /api/v1/inventory/licences": "2 2 2 2 2 403 | 2 2 2 2 2 403",
    # The portal, with each role's session (login and logout without one: see PORTAL_ANONYMOUS)
    "GET /portal/login": "2 2 2 2 2 2",
    "POST /portal/login": "403 403 403 403 403 403",
    "POST /portal/logout": "403 403 403 403 403 403",
    "GET /portal/": "303 303 303 303 303 303",
    "GET /portal/tickets": "2 2 2 2 2 2",
    "GET /portal/tickets/new": "2 2 403 2 2 403",
    "POST /portal/tickets/new": "422 422 403 303 303 403",
    "GET /portal/tickets/{ticket_id}": "2 2 2 2 2 2 | 2 2 2 404 404 404",
    "POST /portal/tickets/{ticket_id}/reply": "303 303 403 303 303 303 | 303 303 403 404 404 404",
    "GET /portal/kb": "2 2 2 2 2 403",
    "GET /portal/kb/{article_id}": "2 2 2 2 2 403 | 2 2 2 404 404 403",
}
# fmt: on
# No key needed: signed webhooks, probes and the API documentation.
PUBLIC = {
    "POST /api/v1/webhooks/{source}/{integration_id}",
    "GET /healthz",
    "GET /metrics",
    "GET /openapi.json",
    "GET /docs",
    "GET /docs/oauth2-redirect",
    "GET /redoc",
}  # fmt: skip

# The portal without a session: every page sends the visitor to the login; the login page itself answers; a form
# post without a session has no CSRF token that could match. These three are called without a session by every
# role too (showing the login page ends a session).
PORTAL_ANONYMOUS = {"GET /portal/login": 200, "POST /portal/login": 403, "POST /portal/logout": 403}
# Portal forms: their fields besides the session's CSRF token.
PORTAL_FORMS: dict[str, dict[str, str]] = {
    "POST /portal/tickets/new": {"title": "Matrix", "form_id": "{form_id}"},
    "POST /portal/tickets/{ticket_id}/reply": {"body": "Matrix"},
}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')

# Requests that would start long work or touch every tenant: a body the route refuses, so only the role check runs.
REFUSED = {"matrix": "no such field"}
BODIES: dict[str, object] = {
    "POST /api/v1/sla/repin": REFUSED,
    "POST /api/v1/billing/runs": REFUSED,
    "POST /api/v1/billing/runs/{month}/approve": REFUSED,
    "POST /api/v1/qbr/builds": REFUSED,
    "POST /api/v1/qbr/runs": REFUSED,
    "POST /api/v1/service-reports/builds": REFUSED,
    "POST /api/v1/service-reports/runs": REFUSED,
    "POST /api/v1/billing/sepa-collections": REFUSED,
    "POST /api/v1/sla/simulate": REFUSED,
    "POST /api/v1/inventory/syncs": REFUSED,
    # Valid bodies where a customer role may write, so the other tenant's object answers 404 (not a 422 first).
    "POST /api/v1/tickets/{ticket_id}/transitions": {"to_status": "closed"},  # not from new: 409 after the lookup
    "PUT /api/v1/tickets/{ticket_id}/assignee": {"assignee_user_id": None},
    "PUT /api/v1/tickets/{ticket_id}/queue": lambda ids: {"queue": ids["queue_name"]},
    "PUT /api/v1/tickets/{ticket_id}/co-managed": {"co_managed": True},
    "PUT /api/v1/tickets/{ticket_id}/priority": {"priority": "P3"},
    "POST /api/v1/tickets/{ticket_id}/comments": {"body": "Matrix", "visibility": "public"},
    "POST /api/v1/tickets/{ticket_id}/time-entries": lambda ids: {"started_at": ids["now"], "minutes": 5},
    "POST /api/v1/tickets/{ticket_id}/hand-back-to-customer": {"reason": "Matrix"},
    "POST /api/v1/tickets/{ticket_id}/escalate-to-msp": {"reason": "Matrix"},
    # Creating for a tenant named in the body: for the other one a customer role gets a 404.
    "POST /api/v1/contacts": lambda ids: {
        "tenant_id": ids["tenant_id"], "first_name": "Max", "last_name": "Muster",
        "email": f"m-{uuid.uuid4().hex[:8]}@example.com",
    },
    "POST /api/v1/assets": lambda ids: {
        "tenant_id": ids["tenant_id"], "hostname": f"pc-{uuid.uuid4().hex[:8]}", "asset_type": "workstation",
    },
    "POST /api/v1/tickets": lambda ids: {"tenant_id": ids["tenant_id"], "title": "Matrix"},
    "POST /api/v1/kb/articles": lambda ids: {
        "tenant_id": ids["tenant_id"], "title": "Matrix", "body": "Text", "visibility": "public",
    },
}  # fmt: skip
# Query parameters of a request; "{tenant_id}" is the own or other tenant.
QUERIES: dict[str, dict[str, str]] = {
    "GET /api/v1/reports/tickets": {"tenant_id": "{tenant_id}"},
    "GET /api/v1/reports/sla": {"tenant_id": "{tenant_id}"},
    "GET /api/v1/tickets": {"tenant_id": "{tenant_id}"},
    "GET /api/v1/contacts": {"tenant_id": "{tenant_id}"},
    "GET /api/v1/assets": {"tenant_id": "{tenant_id}"},
    "GET /api/v1/kb/search": {"q": "Drucker", "tenant_id": "{tenant_id}"},
    "GET /api/v1/kb/articles": {"tenant_id": "{tenant_id}"},
    "GET /api/v1/invoices": {"tenant_id": "{tenant_id}"},
    "GET /api/v1/inventory/health": {"tenant_id": "{tenant_id}"},
    "GET /api/v1/inventory/licences": {"tenant_id": "{tenant_id}"},
}
# Path parameters whose object a DELETE removes: a new one per cell.
FRESH = {"contact_id", "asset_id", "article_id"}
# Ids of the other tenant that no customer-side role may ever see in an answer (also in a list's 2xx).
LEAK_CHECKED = {"tenant_id", "ticket_id", "comment_id", "entry_id", "queue_id", "user_id", "contract_id",
                "invoice_id", "integration_id", "contact_id", "asset_id", "article_id"}  # fmt: skip
# Parameters the matrix builds per tenant; any other is a random id, or a fixed value from FIXED.
FIXED = {
    "month": "2001-01",  # no run: approving it touches nothing
    "quarter": "2026-Q3",
    "kind": "pptx",
    "version": "1",
    "source": "sentinelone",
    "key": "s1-unknown-incident",
    "line_index": "0",
    "asset_type": "laptop",
}


def _row(text: str) -> tuple[list[str], list[str] | None]:
    groups = [g.split() for g in text.split("|")]
    assert all(len(g) == len(ROLES) for g in groups), text
    return groups[0], groups[1] if len(groups) > 1 else None


def app_routes(app) -> list[tuple[str, str]]:
    """Every (method, path) the app answers, also routes left out of the OpenAPI document (FastAPI's docs, pages)."""
    found, pending = [], list(app.routes)
    while pending:
        route = pending.pop(0)
        if hasattr(route, "effective_route_contexts"):  # an included router (FastAPI >= 0.16x): its routes in order
            pending[:0] = list(route.effective_route_contexts())
            continue
        path = getattr(route, "path_format", None) or getattr(route, "path", None)
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD" and (method, path) not in found:
                found.append((method, path))
    assert len(found) >= len(app.openapi()["paths"]), "routes were missed"
    return found


class World:
    """The module's data: tenants own/other and what each route needs, and a key per role of the own tenant."""

    def __init__(self, engine, http: httpx.AsyncClient) -> None:
        self.engine, self.http = engine, http
        self.tag = uuid.uuid4().hex[:8]
        self.tenants = {"own": make_tenant(engine, co_managed=True), "other": make_tenant(engine, co_managed=True)}
        self.headers: dict[Role, dict[str, str]] = {}
        self.keys: dict[Role, str] = {}
        self.portal: dict[Role, tuple[httpx.AsyncClient, str]] = {}  # a portal session and its CSRF token per role
        expires = datetime.now(UTC) + timedelta(days=30)
        for role in ROLES:
            tenant = None if role.is_msp else self.tenants["own"]
            extra = {"access_expires_at": expires} if role == Role.EXTERNAL_TECH else {}
            user, key = make_user(engine, role, tenant, **extra)
            self.headers[role], self.keys[role] = auth(key), key
            setattr(self, role.value, user)
        self.ids: dict[str, dict[str, str]] = {"own": {}, "other": {}}

    async def ok(self, method: str, path: str, role: Role = Role.MSP_ADMIN, **kwargs) -> dict:
        resp = await self.http.request(method, path, headers=self.headers[role], **kwargs)
        assert resp.status_code in (200, 201), resp.text
        return resp.json()

    async def build(self) -> None:
        # The MSP's invoicing data is one row for the whole database: present, as other tests may have set it.
        set_seller(self.engine, new_series())
        for side, tenant in self.tenants.items():
            ids = self.ids[side]
            ids["tenant_id"] = str(tenant.id)
            user, _ = make_user(self.engine, Role.CUSTOMER_USER, tenant)
            spare, _ = make_user(self.engine, Role.CUSTOMER_USER, tenant)  # its key is the one revoked
            ids["user_id"] = str(user.id)
            with Session(self.engine) as s:
                ids["key_id"] = str(s.exec(select(ApiKey.id).where(ApiKey.user_id == spare.id)).one())
            body = {"name": f"{side}-{self.tag}", "display_name": side, "tenant_id": str(tenant.id)}
            queue = await self.ok("POST", "/api/v1/queues", json=body)
            ids["queue_id"], ids["queue_name"] = queue["id"], queue["name"]
            ids["now"] = datetime.now(UTC).isoformat()
            # Its own SLA contract before the ticket: the ticket's clock never depends on a default another test set.
            ids["contract_id"] = str(make_sla(self.engine, tenant, {"name": "M", "targets": {}}).id)
            requester = self.customer_user.id if side == "own" else user.id
            body = {"title": "Matrix", "tenant_id": str(tenant.id), "queue": queue["name"]}
            ticket = await self.ok(
                "POST", "/api/v1/tickets", Role.MSP_TECH, json=body | {"requester_user_id": str(requester)}
            )
            ids["ticket_id"] = tid = ticket["id"]
            comment = {"body": "Öffentlich", "visibility": "public"}
            ids["comment_id"] = (await self.ok("POST", f"/api/v1/tickets/{tid}/comments", json=comment))["id"]
            entry = {"started_at": datetime.now(UTC).isoformat(), "minutes": 15}
            ids["entry_id"] = (await self.ok("POST", f"/api/v1/tickets/{tid}/time-entries", json=entry))["id"]
            ids["integration_id"] = str(
                make_soc_integration(self.engine, tenant, name=f"S1 {self.tag}", webhook_secret=f"s{uuid.uuid4()}").id
            )
            ids["invoice_id"] = self.invoice(tenant)
            for name in FRESH:
                ids[name] = await self.fresh(name, side)
        own = self.ids["own"]
        await self.ok("PUT", f"/api/v1/queues/{own['queue_id']}/members/{self.external_tech.id}")
        for role in ROLES:
            self.portal[role] = await self.portal_session(role)

    def client(self) -> httpx.AsyncClient:
        """A client of its own (its own cookies) on the same app, over https as a browser reaches the portal."""
        return httpx.AsyncClient(transport=self.http._transport, base_url="https://hub.test")

    async def portal_session(self, role: Role) -> tuple[httpx.AsyncClient, str]:
        """The role logged in to the portal with its key: the client holding the session, and its CSRF token."""
        client = self.client()
        token = CSRF.search((await client.get("/portal/login")).text).group(1)
        resp = await client.post("/portal/login", data={"csrf": token, "api_key": self.keys[role]})
        assert resp.status_code == 303, (role, resp.status_code, resp.text[:300])
        page = await client.get("/portal/tickets")  # every page of a session carries its token (the logout form)
        found = CSRF.search(page.text)
        return client, found.group(1) if found else ""

    def invoice(self, tenant) -> str:
        with session_scope(self.engine) as s:
            row = Invoice(
                tenant_id=tenant.id, customer_number=tenant.customer_number, kind="invoice", period="2000-12",
                workflow_id=f"matrix-{uuid.uuid4()}", status="issued", number=f"M-{uuid.uuid4().hex[:10]}",
                issue_date=date(2001, 1, 15),  # before any month other tests export
            )  # fmt: skip
            s.add(row)
            s.flush()
            return str(row.id)

    async def fresh(self, name: str, side: str) -> str:
        tenant = self.tenants[side]
        if name == "contact_id":
            return str(make_contact(self.engine, tenant).id)
        if name == "asset_id":
            return str(make_asset(self.engine, tenant).id)
        body = {"title": "Drucker", "body": "Neu starten", "visibility": "public", "tenant_id": str(tenant.id)}
        return (await self.ok("POST", "/api/v1/kb/articles", json=body))["id"]

    async def value(self, name: str, side: str, method: str) -> str:
        if method == "DELETE" and name in FRESH:
            return await self.fresh(name, side)
        if name in self.ids[side]:
            return self.ids[side][name]
        return FIXED.get(name) or str(uuid.uuid4())

    def tenant_bound(self, route: str) -> bool:
        path = route.split(" ", 1)[1]
        names = {p.strip("{}") for p in path.split("/") if p.startswith("{")}
        return bool(names & set(self.ids["own"])) or route in QUERIES or callable(BODIES.get(route))

    async def call(self, route: str, role: Role | None, side: str) -> int:
        method, path = route.split(" ", 1)
        parts = []
        for part in path.split("/"):
            parts.append(await self.value(part[1:-1], side, method) if part.startswith("{") else part)
        if path.startswith("/portal"):
            return await self.call_portal(route, "/".join(parts), role, side)
        params = {k: v.replace("{tenant_id}", self.ids[side]["tenant_id"]) for k, v in QUERIES.get(route, {}).items()}
        kwargs: dict = {"params": params, "headers": self.headers[role] if role else {}}
        if method in ("POST", "PUT", "PATCH"):
            body = BODIES.get(route, {})
            kwargs["json"] = body(self.ids[side]) if callable(body) else body
        resp = await self.http.request(method, "/".join(parts), **kwargs)
        return self.checked(route, role, side, resp)

    async def call_portal(self, route: str, url: str, role: Role | None, side: str) -> int:
        method = route.split(" ", 1)[0]
        if role is None or route in PORTAL_ANONYMOUS:  # the login page ends a session: called without one
            async with self.client() as client:
                resp = await client.request(method, url)
            return self.checked(route, role, side, resp)
        client, token = self.portal[role]
        kwargs: dict = {}
        if method == "POST":
            fields = {k: v.replace("{form_id}", str(uuid.uuid4())) for k, v in PORTAL_FORMS.get(route, {}).items()}
            kwargs["data"] = {"csrf": token, **fields}
        return self.checked(route, role, side, await client.request(method, url, **kwargs))

    def checked(self, route: str, role: Role | None, side: str, resp: httpx.Response) -> int:
        where = f"{route} as {role} ({side})"
        assert resp.status_code < 500, f"{where}: {resp.status_code} {resp.text}"
        if role is not None and not role.is_msp and resp.is_success:
            leaked = [k for k, v in self.ids["other"].items() if k in LEAK_CHECKED and v in resp.text]
            assert leaked == [], f"{where} shows the other tenant's {leaked}: {resp.text[:500]}"
        return resp.status_code


def answer(status: int) -> str:
    return "2" if 200 <= status < 300 else str(status)


@pytest.fixture(scope="module")
async def world(env, engine):
    app = create_app(Settings(), engine=engine, temporal=env.client, clock=env.get_current_time)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
        w = World(engine, http)
        await w.build()
        w.routes = app_routes(app)
        yield w
        for client, _ in w.portal.values():
            await client.aclose()
    await app.state.soc_inbox.stop()


def test_every_route_has_a_row(world):
    routes = {f"{m} {p}" for m, p in world.routes}
    assert sorted(routes - MATRIX.keys()) == [], "routes without a row in MATRIX"
    assert sorted(MATRIX.keys() - routes) == [], "rows of MATRIX without a route"


async def test_without_a_key_every_route_but_the_public_ones_is_401(world):
    """The API answers 401; the portal sends a visitor without a session to its login page."""
    wrong = {}
    for method, path in world.routes:
        route = f"{method} {path}"
        if route in PUBLIC:
            continue
        expected = PORTAL_ANONYMOUS.get(route, 303) if path.startswith("/portal") else 401
        if (status := await world.call(route, None, "own")) != expected:
            wrong[route] = status
    assert wrong == {}


async def test_permission_matrix(world):
    wrong, observed = {}, {}
    for method, path in world.routes:
        route = f"{method} {path}"
        sides = ("own", "other") if world.tenant_bound(route) else ("own",)
        if method == "GET":  # reads change nothing: their cells at once
            cells = await asyncio.gather(*(world.call(route, role, side) for side in sides for role in ROLES))
            got = [[answer(c) for c in cells[i : i + len(ROLES)]] for i in range(0, len(cells), len(ROLES))]
        else:  # writes in order: a cell may see what an earlier one did
            got = [[answer(await world.call(route, role, side)) for role in ROLES] for side in sides]
        observed[route] = " | ".join(" ".join(g) for g in got)
        if route in MATRIX:
            own, other = _row(MATRIX[route])
            if [own, other or own][: len(got)] != got:
                wrong[route] = f"expected {MATRIX[route]}, got {observed[route]}"
    if os.environ.get("PSA_MATRIX_RECORD"):
        print("\n".join(f'    "{r}": "{a}",' for r, a in observed.items()))  # noqa: T201
    assert wrong == {}
