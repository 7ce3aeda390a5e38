"""Small factory helpers that write master data straight to the test database."""

import uuid
from datetime import date

from sqlalchemy import Engine

from domain.roles import Role
from hub.db import session_scope
from hub.security import generate_api_key, hash_api_key, key_lookup_prefix
from models import (
    ApiKey,
    Asset,
    AssetType,
    BusinessCalendarRow,
    Contact,
    Contract,
    EscalationPolicy,
    EscalationPolicyVersion,
    SlaDefinitionRow,
    SocIntegration,
    Tenant,
    User,
)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def make_tenant(engine: Engine, **fields) -> Tenant:
    values = {
        "name": unique("Kunde GmbH"),
        "customer_number": unique("K").upper(),
        "country": "DE",
        "subdivision": "DE-BY",
        "time_zone": "Europe/Berlin",
    } | fields
    with session_scope(engine) as s:
        tenant = Tenant(**values)
        s.add(tenant)
    return tenant


def make_user(engine: Engine, role: Role, tenant: Tenant | None = None, **fields) -> tuple[User, str]:
    """Returns the user and a fresh plaintext API key for it."""
    key = generate_api_key()
    with session_scope(engine) as s:
        user = User(
            email=f"{unique('user')}@example.com",
            display_name=unique("User"),
            role=role,
            tenant_id=tenant.id if tenant else None,
            **fields,
        )
        s.add(user)
        s.flush()
        s.add(ApiKey(user_id=user.id, name="test", prefix=key_lookup_prefix(key), key_hash=hash_api_key(key)))
    return user, key


def make_contact(engine: Engine, tenant: Tenant, **fields) -> Contact:
    values = {"first_name": "Erika", "last_name": "Mustermann", "email": f"{unique('c')}@example.com"} | fields
    with session_scope(engine) as s:
        contact = Contact(tenant_id=tenant.id, **values)
        s.add(contact)
    return contact


def make_asset(engine: Engine, tenant: Tenant, **fields) -> Asset:
    values = {
        "hostname": unique("host"),
        "asset_type": AssetType.WORKSTATION,
        "os": "Windows 11",
        "warranty_end": date(2028, 1, 31),
    } | fields
    with session_scope(engine) as s:
        asset = Asset(tenant_id=tenant.id, **values)
        s.add(asset)
    return asset


def make_sla(engine: Engine, tenant: Tenant, definition: dict, policy: dict | None = None,
             calendar: dict | None = None) -> Contract:
    """A contract for `tenant` carrying its own SLA definition, active escalation policy and calendar."""
    with session_scope(engine) as s:
        policy_id = None
        if policy is not None:
            pol = EscalationPolicy(name=unique("policy"))
            s.add(pol)
            s.flush()
            version = EscalationPolicyVersion(policy_id=pol.id, version=1, document=policy)
            s.add(version)
            s.flush()
            pol.active_version_id = version.id
            policy_id = pol.id
        definition_row = SlaDefinitionRow(name=unique("sla"), document=definition, escalation_policy_id=policy_id)
        s.add(definition_row)
        calendar_id = None
        if calendar is not None:
            cal = BusinessCalendarRow(name=unique("calendar"), spec=calendar)
            s.add(cal)
            s.flush()
            calendar_id = cal.id
        s.flush()
        contract = Contract(tenant_id=tenant.id, number=unique("V"), name="Managed Services",
                            start_date=date(2020, 1, 1), sla_definition_id=definition_row.id, calendar_id=calendar_id)
        s.add(contract)
    return contract


# The vendor site/account of the test fixtures (tests/fixtures/soc, tests/fixtures/vendors).
SAMPLE_VENDOR_TENANTS = {"sentinelone": ["1650000000000000001"], "rocketcyber": ["1600000000000000001"]}


def make_soc_integration(engine: Engine, tenant: Tenant, **fields) -> SocIntegration:
    """A SentinelOne integration of the tenant, written directly (the API route would also sync a poll schedule);
    mapped to the fixtures' vendor site/account unless `vendor_tenant_ids` says otherwise."""
    source = fields.get("source", "sentinelone")
    values = {
        "source": "sentinelone",
        "name": "S1",
        "webhook_secret": "whsec_x",
        "vendor_tenant_ids": SAMPLE_VENDOR_TENANTS.get(source, []),
    } | fields
    with session_scope(engine) as s:
        row = SocIntegration(tenant_id=tenant.id, **values)
        s.add(row)
    return row


async def open_test_ticket(env, engine: Engine, ticket):  # noqa: ANN001, ANN201 - WorkflowEnvironment, TicketState
    """Open a ticket as the API does (row and clock, then its workflow), at the test server's time (which may run
    ahead of the wall clock after earlier skips); its state as the workflow starts with it."""
    from domain.contracts.tickets import opened_ticket_input
    from hub.tickets.intake import open_ticket

    opened = await open_ticket(engine, env.client, ticket, at=await env.get_current_time())
    return opened_ticket_input(ticket, opened).state
