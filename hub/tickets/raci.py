"""The RACI routing of a new ticket, read when it opens: the customer's matrix decides the queue (the Responsible
party's) and who hears of it (Consulted, Informed). The ticket workflow applies both: the queue as a change of its
own, the notices through the notification outbox."""

from pydantic import ValidationError
from sqlmodel import Session, col, select

from domain.escalation import AddressRecipient, Recipient, RoleRecipient, UserRecipient
from domain.raci import PartyKind, RaciMatrix, RaciParty, RaciRouting, route
from domain.roles import Role
from hub.logging import get_logger
from models import Queue, QueueMember, RaciMatrixRow, User
from models.sla_context import TenantSettings

log = get_logger(__name__)
_MAX_RECIPIENTS = 20  # NotifyEmail's limit

# A party named by no address and no queue members: everybody of its kind.
_KIND_ROLE = {PartyKind.MSP: Role.MSP_TECH, PartyKind.CUSTOMER_IT: Role.CUSTOMER_IT}


def raci_routing(session: Session, tenant: TenantSettings, category: str | None) -> RaciRouting | None:
    """None unless the customer is co-managed and its matrix has an area for the category."""
    if not tenant.co_managed or not category:
        return None
    stored = session.exec(select(RaciMatrixRow.matrix).where(RaciMatrixRow.tenant_id == tenant.id)).one_or_none()
    if stored is None:
        return None
    try:
        matrix = RaciMatrix.model_validate(stored)
    except ValidationError:  # stored by the API, so valid; never let a bad row stop tickets from opening
        log.warning("RACI matrix unreadable: ticket not routed", tenant_id=str(tenant.id))
        return None
    routing = route(matrix, category)
    if routing is None:
        return None
    parties = {p.name: p for p in matrix.parties}
    for notice in routing.notices:
        notice.to = _recipients(session, parties[notice.party])
    routing.notices = [n for n in routing.notices if n.to]
    return routing


def _recipients(session: Session, party: RaciParty) -> list[Recipient]:
    if party.email is not None:
        return [AddressRecipient(address=party.email)]
    if party.queue is not None:
        members = (
            select(QueueMember.user_id)
            .join(Queue, col(Queue.id) == QueueMember.queue_id)
            .join(User, col(User.id) == QueueMember.user_id)
            .where(Queue.name == party.queue, col(User.is_active).is_(True))
            .order_by(col(QueueMember.created_at))
            .limit(_MAX_RECIPIENTS)
        )
        found: list[Recipient] = [UserRecipient(user_id=u) for u in session.exec(members).all()]
        if found:
            return found
    role = _KIND_ROLE.get(party.kind)
    return [RoleRecipient(role=role)] if role is not None else []
