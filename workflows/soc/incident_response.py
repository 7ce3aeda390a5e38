"""What a person decides on a SOC incident: acknowledging the on-call page and approving containment.

A mixin of `IncidentWorkflow` (same run, same state). A P1 incident pages the on-call chain level by level until
someone acknowledges (update `acknowledge`); a P1 SentinelOne threat proposes disconnecting the device, which waits
for a person's decision (update `decide_containment`) until it expires, and only then runs the vendor action.
"""

import asyncio
from datetime import timedelta
from uuid import UUID

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from domain.contracts.soc import (
    ACKNOWLEDGE_ROLES,
    CONTAINMENT_ROLES,
    Acknowledgement,
    ContainmentDecision,
    ContainmentProposal,
    ContainRequest,
    IncidentAlert,
    IncidentState,
    PageRequest,
    PagingState,
    SocActivity,
)
from domain.soc.alerts import NormalizedAlert
from domain.soc.triage import TriagePolicy
from domain.tickets import Priority

VENDOR_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=1), maximum_attempts=5
)
# A page that keeps failing must not hold up the next level for long.
PAGE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_interval=timedelta(seconds=20), maximum_attempts=4
)


class IncidentResponse:
    """Needs from the workflow: `_state`, `_title`, `_expiry`, `_containment` and `_note`, `_record`."""

    _state: IncidentState
    _title: str
    _expiry: timedelta
    _containment: asyncio.Task | None

    # --- P1 paging: level by level until someone acknowledges ------------------------------------------------

    async def _page_chain(
        self, item: IncidentAlert, policy: TriagePolicy, paging: PagingState, ticket_id: UUID, priority: Priority
    ) -> None:
        wait = timedelta(minutes=policy.ack_timeout_minutes)
        info = workflow.info()
        for level, url in enumerate(policy.oncall_chain, start=1):
            if paging.status != "pending":
                return
            now = workflow.now()
            paging.level, paging.paged_at, paging.ack_due_at = level, now, now + wait
            request = PageRequest(
                key=f"{info.workflow_id}:{info.run_id}:page:{level}",
                url=url,
                level=level,
                levels=paging.levels,
                incident_key=self._state.key,
                tenant_id=item.tenant_id,
                customer_number=item.customer_number,
                ticket_id=ticket_id,
                title=self._title,
                priority=priority,
                ack_due_at=paging.ack_due_at,
            )
            try:
                where = await workflow.execute_activity(
                    SocActivity.PAGE,
                    request,
                    result_type=str,
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=PAGE_RETRY,
                )
            except ActivityError as err:
                paging.failed_levels.append(level)
                await self._note(f"Alarmierung der Bereitschaft Stufe {level} fehlgeschlagen: {err.cause}")
                continue  # a level that cannot be reached: the next one at once
            await self._note(
                f"Bereitschaft Stufe {level}/{paging.levels} alarmiert ({where}). Bestätigung erwartet bis "
                f"{paging.ack_due_at.isoformat()}."
            )
            await self._record()
            try:
                await workflow.wait_condition(
                    lambda: paging.status != "pending",
                    timeout=max(paging.ack_due_at - workflow.now(), timedelta(seconds=1)),
                )
                return
            except TimeoutError:
                if level < paging.levels:
                    await self._note(
                        f"Keine Bestätigung innerhalb von {policy.ack_timeout_minutes} Min.: nächste Stufe."
                    )
        if paging.status == "pending":
            paging.status = "unacknowledged"
            await self._note("Keine Bestätigung: alle Stufen der Bereitschaft wurden ohne Antwort alarmiert.")
            await self._record()

    @workflow.update
    async def acknowledge(self, ack: Acknowledgement) -> PagingState:
        paging = self._paging()
        paging.status, paging.acknowledged_by, paging.acknowledged_at = (
            "acknowledged",
            ack.actor_user_id,
            workflow.now(),
        )
        await self._note(
            f"Alarmierung (Stufe {paging.level}) bestätigt von {ack.actor_name or ack.actor_user_id} "
            f"({ack.actor_role.value}) um {paging.acknowledged_at.isoformat()}."
        )
        await self._record()
        return paging

    @acknowledge.validator
    def _validate_acknowledge(self, ack: Acknowledgement) -> None:
        paging = self._paging()
        if paging.status == "acknowledged":
            raise ApplicationError(
                f"the page was already acknowledged at {paging.acknowledged_at}", type="NothingToAcknowledge"
            )
        if ack.actor_role not in ACKNOWLEDGE_ROLES:
            raise ApplicationError("only MSP administrators and technicians acknowledge pages", type="Forbidden")

    # --- containment: proposed by the hub, decided by a person, executed by an activity ----------------------

    async def _propose_containment(self, alert: NormalizedAlert) -> None:
        now = workflow.now()
        self._state.containment = proposal = ContainmentProposal(
            integration_id=alert.integration_id,
            agent_id=alert.device_external_id,
            hostname=alert.device_hostname,
            proposed_at=now,
            expires_at=now + self._expiry,
        )
        await self._note(
            f"Vorschlag: {alert.device_hostname or alert.device_external_id} vom Netzwerk trennen "
            f"(SentinelOne). Wartet auf Freigabe bis {proposal.expires_at.isoformat()}."
        )
        self._containment = asyncio.create_task(self._expire_containment(proposal))

    async def _expire_containment(self, proposal: ContainmentProposal) -> None:
        try:
            await workflow.wait_condition(
                lambda: proposal.status != "pending", timeout=proposal.expires_at - workflow.now()
            )
        except TimeoutError:
            proposal.status = "expired"
            await self._note("Vorschlag zur Netztrennung ist ohne Entscheidung abgelaufen.")
        await workflow.wait_condition(lambda: proposal.status not in ("pending", "approved"))

    @workflow.update
    async def decide_containment(self, decision: ContainmentDecision) -> ContainmentProposal:
        proposal = self._proposal()
        proposal.status = "approved" if decision.approve else "rejected"
        proposal.decided_by, proposal.decided_at, proposal.reason = (
            decision.actor_user_id,
            workflow.now(),
            decision.reason,
        )
        verdict = "freigegeben" if decision.approve else "abgelehnt"
        await self._note(
            f"Netztrennung {verdict} von {decision.actor_user_id} ({decision.actor_role.value})"
            + (f": {decision.reason}" if decision.reason else ".")
        )
        if decision.approve:
            try:
                proposal.result = await workflow.execute_activity(
                    SocActivity.CONTAIN,
                    ContainRequest(
                        integration_id=proposal.integration_id, agent_id=proposal.agent_id, incident_key=self._state.key
                    ),
                    result_type=str,
                    start_to_close_timeout=timedelta(seconds=60),
                    retry_policy=VENDOR_RETRY,
                )
                proposal.status = "executed"
            except ActivityError as err:
                proposal.status, proposal.result = "failed", str(err.cause)
            await self._note(
                f"Netztrennung {'ausgeführt' if proposal.status == 'executed' else 'fehlgeschlagen'}: {proposal.result}"
            )
        return proposal

    @decide_containment.validator
    def _validate_decision(self, decision: ContainmentDecision) -> None:
        proposal = self._proposal()
        if proposal.status != "pending":
            raise ApplicationError(f"the proposal is already {proposal.status}", type="AlreadyDecided")
        if workflow.now() >= proposal.expires_at:
            raise ApplicationError("the proposal has expired", type="Expired")
        if decision.actor_role not in CONTAINMENT_ROLES:
            raise ApplicationError("only MSP administrators and technicians decide on containment", type="Forbidden")

    def _paging(self) -> PagingState:
        """The paging of this incident; an update about paging that never started fails with the reason."""
        if self._state.paging is None:
            raise ApplicationError(
                "this incident has paged nobody; nothing to acknowledge", type="NothingToAcknowledge"
            )
        return self._state.paging

    def _proposal(self) -> ContainmentProposal:
        if self._state.containment is None:
            raise ApplicationError("this incident has no containment proposal", type="NoProposal")
        return self._state.containment
