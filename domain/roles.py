"""Roles of hub users. MSP roles work across tenants; customer roles are bound to one tenant."""

from enum import StrEnum


class Role(StrEnum):
    MSP_ADMIN = "msp_admin"
    MSP_TECH = "msp_tech"
    FINANCE = "finance"
    CUSTOMER_IT = "customer_it"
    CUSTOMER_USER = "customer_user"
    # A named outside party of one customer (e.g. the vendor of a line-of-business application): sees only the
    # tickets of its queues or assigned to it, until its access expires.
    EXTERNAL_TECH = "external_tech"

    @property
    def is_msp(self) -> bool:
        return self in (Role.MSP_ADMIN, Role.MSP_TECH, Role.FINANCE)

    @property
    def is_customer_side(self) -> bool:
        return not self.is_msp


MSP_ROLES = frozenset(r for r in Role if r.is_msp)
CUSTOMER_ROLES = frozenset(r for r in Role if not r.is_msp)
# Who may work tickets (transition, assign, log time, internal notes).
TICKET_AGENT_ROLES = frozenset({Role.MSP_ADMIN, Role.MSP_TECH, Role.CUSTOMER_IT})


def role_tenant_error(role: Role, has_tenant: bool) -> str | None:
    """Why a user of `role` may not have (or lack) a tenant; None if the pair fits (the users table checks it too)."""
    if role.is_msp and has_tenant:
        return f"role {role.value} works across customers and belongs to no tenant"
    if role.is_customer_side and not has_tenant:
        return f"role {role.value} belongs to exactly one customer: give its tenant"
    return None
