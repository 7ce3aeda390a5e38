"""One customer's invoice of a month, `invoice-<customer>-<YYYY-MM>` (or a credit note `credit-<number>-<id>`): compose
the draft, wait for finance (approve, adjust a line, reject, recompose after a fix) or approve by contract, remind
while it waits, then issue (the number is drawn with the issue), render the outputs and mail them.

Every step is an idempotent activity keyed by the draft id, so a worker killed at any point resumes to exactly one
issued invoice: an issued draft is never composed, numbered, rendered or mailed a second time."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

from domain.contracts.billing import (
    FINANCE_ROLES,
    AdjustDraft,
    AdjustLineRequest,
    ApproveRequest,
    BillingActivity,
    ComposeDraft,
    DraftCreditNote,
    DraftRef,
    DraftStatus,
    DraftSummary,
    InvoiceInput,
    InvoiceKind,
    InvoiceOutcome,
    InvoiceState,
    IssueInvoice,
    RecomposeRequest,
    RejectRequest,
    Reminder,
    SetDraftStatus,
    local_day,
)
from domain.contracts.tickets import Actor
from domain.processes import INVOICE_STATUS

# Composing and rendering read much; bad data is reported on the draft, so a retry only heals the transient.
WORK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=1), maximum_attempts=20
)
# Each step takes well under a second, the SMTP conversation PSA_NOTIFY_TIMEOUT per operation (10 s by default). A
# killed worker's steps are re-run once its workflow task times out (10 s), not after this.
WORK_TIMEOUT = timedelta(seconds=30)
OPEN = (DraftStatus.DRAFT, DraftStatus.FAILED)
# Every step but the reminder runs as a local activity in the worker's process: no round trip through the server per
# step, which is most of a run's cost per invoice (bench/BILLING.md); an auto-approved invoice is composed and approved
# (one step), issued, rendered and mailed in one workflow task. Each step is idempotent by the draft id, so when a
# worker is lost in the middle of a task another one re-runs that task's steps: an issued draft is found issued (its
# number stays), written files are found written, a mail recorded as sent is not sent again. A refused issue (a stale
# draft) reaches the workflow as the ApplicationError itself (`_issue`). The reminder, days apart, stays an activity of
# its own.
LOCAL = frozenset(
    {
        BillingActivity.COMPOSE_DRAFT,
        BillingActivity.DRAFT_CREDIT_NOTE,
        BillingActivity.SET_DRAFT_STATUS,
        BillingActivity.ADJUST_DRAFT,
        BillingActivity.ISSUE,
        BillingActivity.DELIVER,
    }
)
# Statuses worth a search-attribute update: what a person looks for. `approved` lasts a moment (issue follows).
SHOWN = frozenset(
    {DraftStatus.DRAFT, DraftStatus.FAILED, DraftStatus.ISSUED, DraftStatus.REJECTED, DraftStatus.NOTHING}
)


@workflow.defn(name="Invoice")
class InvoiceWorkflow:
    def __init__(self) -> None:
        self._inp: InvoiceInput | None = None
        self._draft: DraftSummary | None = None
        self._decision: tuple[DraftStatus, Actor, str | None] | None = None
        self._recompose: Actor | None = None
        self._reminders = 0
        self._adjusting = False
        self._shown: DraftStatus | None = None
        self._waiting_since = None

    @workflow.run
    async def run(self, inp: InvoiceInput) -> InvoiceOutcome:
        self._inp = inp  # Process, CustomerId and BillingPeriod come with the start (invoice_search_attributes)
        await self._compose()
        while True:
            draft = self._draft
            if draft.status in (DraftStatus.NOTHING, DraftStatus.REJECTED) or inp.dry_run:
                return await self._finish()
            # An invoice approved by contract comes back approved from composing (ComposeDraft.approve_by_contract);
            # here: credit notes, and a draft an older worker composed without approving it.
            if draft.status == DraftStatus.DRAFT and (draft.auto_approve or inp.kind == InvoiceKind.CREDIT_NOTE):
                reason = "approved by contract" if draft.auto_approve else None
                await self._set_status(DraftStatus.APPROVED, None, reason)
            elif draft.status not in (DraftStatus.ISSUED, DraftStatus.APPROVED):
                await self._tell_parent()
                await self._wait_for_decision()
                if self._recompose is not None:
                    self._recompose = None
                    await self._compose()
                    continue
                status, actor, reason = self._decision
                await self._set_status(status, actor, reason)
                self._decision = None  # after the write: the update that asked answers with the recorded state
                continue
            if await self._issue():
                return await self._finish()

    async def _compose(self) -> None:
        inp = self._inp
        if inp.kind == InvoiceKind.CREDIT_NOTE:
            req = DraftCreditNote(draft_id=inp.draft_id, invoice_id=inp.credit_of, line_indexes=inp.credit_line_indexes,
                                  reason=inp.reason or "", requested_by=inp.requested_by)  # fmt: skip
            self._draft = await self._activity(BillingActivity.DRAFT_CREDIT_NOTE, req)
        else:
            req = ComposeDraft(draft_id=inp.draft_id, tenant_id=inp.tenant_id, month=inp.month,
                               approve_by_contract=not inp.dry_run)  # fmt: skip
            self._draft = await self._activity(BillingActivity.COMPOSE_DRAFT, req)
        self._show_status()

    async def _wait_for_decision(self) -> None:
        self._waiting_since = local_day(workflow.now())
        while True:
            try:
                await workflow.wait_condition(
                    lambda: self._decision is not None or self._recompose is not None,
                    timeout=timedelta(days=self._inp.reminder_days),
                    timeout_summary="reminder",
                )
                return
            except TimeoutError:  # asyncio.TimeoutError is TimeoutError since Python 3.11
                self._reminders += 1
            days = (local_day(workflow.now()) - self._waiting_since).days
            await self._activity(BillingActivity.REMIND, Reminder(draft_id=self._inp.draft_id, waiting_days=days))

    async def _set_status(self, status: DraftStatus, actor: Actor | None, reason: str | None) -> None:
        req = SetDraftStatus(draft_id=self._inp.draft_id, status=status, actor=actor, reason=reason)
        self._draft = await self._activity(BillingActivity.SET_DRAFT_STATUS, req)
        self._show_status()

    async def _issue(self) -> bool:
        """Issue, render and mail; False when the draft went stale (a time entry or item it bills was billed
        meanwhile): it is composed again and waits for finance once more."""
        ref = DraftRef(draft_id=self._inp.draft_id)
        if self._draft.status != DraftStatus.ISSUED:
            issue_date = local_day(workflow.now())
            req = IssueInvoice(draft_id=self._inp.draft_id, issue_date=issue_date)
            try:
                self._draft = await self._activity(BillingActivity.ISSUE, req)
            except (ActivityError, ApplicationError) as err:
                # A local activity's refusal arrives as its ApplicationError itself, an activity's wrapped.
                refusal = err.cause if isinstance(err, ActivityError) else err
                if not (isinstance(refusal, ApplicationError) and refusal.type == "StaleDraft"):
                    raise
                await self._compose()
                return False
            self._show_status()
        await self._activity(BillingActivity.DELIVER, ref, result_type=None)
        return True

    async def _finish(self) -> InvoiceOutcome:
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._outcome()  # the run reads the result: no signal needed for the end

    def _outcome(self) -> InvoiceOutcome:
        return InvoiceOutcome(customer_number=self._inp.customer_number, draft_id=self._inp.draft_id,
                              status=self._draft.status, number=self._draft.number)  # fmt: skip

    async def _tell_parent(self) -> None:
        if self._inp.parent_workflow_id:
            parent = workflow.get_external_workflow_handle(self._inp.parent_workflow_id)
            try:
                await parent.signal("invoice_changed", self._outcome())
            except FailureError:
                pass  # the run was closed (terminated by hand): this invoice goes on without it

    def _show_status(self) -> None:
        status = self._draft.status
        if status not in SHOWN or status == self._shown:
            return
        auto = self._draft.auto_approve or self._inp.kind == InvoiceKind.CREDIT_NOTE
        if status == DraftStatus.DRAFT and auto and not self._inp.dry_run:
            return  # approved and issued at once: nobody waits on this state
        self._shown = status
        workflow.upsert_search_attributes([INVOICE_STATUS.value_set(status.value)])

    async def _activity(self, name: str, arg, result_type=DraftSummary):  # noqa: ANN001, ANN202
        if name in LOCAL:
            return await workflow.execute_local_activity(
                name, arg, result_type=result_type, start_to_close_timeout=WORK_TIMEOUT, retry_policy=WORK_RETRY
            )
        return await workflow.execute_activity(
            name, arg, result_type=result_type, start_to_close_timeout=WORK_TIMEOUT, retry_policy=WORK_RETRY
        )

    # --- what finance does (the API's updates) ---

    @workflow.query
    def state(self) -> InvoiceState:
        return InvoiceState(draft=self._draft, waiting_since=self._waiting_since, reminders_sent=self._reminders)

    def _require(self, actor: Actor, statuses: tuple[DraftStatus, ...], what: str) -> None:
        if actor.role not in FINANCE_ROLES:
            raise ApplicationError(f"only finance or an MSP admin may {what}", type="Forbidden", non_retryable=True)
        if self._draft is None or self._decision is not None or self._recompose is not None or self._adjusting:
            raise ApplicationError(f"the invoice is busy; {what} again in a moment", type="Busy", non_retryable=True)
        if self._draft.status not in statuses:
            raise ApplicationError(
                f"cannot {what}: the invoice is {self._draft.status.value}", type="WrongState", non_retryable=True
            )

    @workflow.update
    async def approve(self, req: ApproveRequest) -> DraftSummary:
        self._decision = (DraftStatus.APPROVED, req.actor, None)
        await workflow.wait_condition(lambda: self._decision is None)
        return self._draft

    @approve.validator
    def _approve_ok(self, req: ApproveRequest) -> None:
        self._require(req.actor, (DraftStatus.DRAFT,), "approve")
        if self._inp.dry_run:
            raise ApplicationError("a dry run is never approved", type="WrongState", non_retryable=True)

    @workflow.update
    async def reject(self, req: RejectRequest) -> DraftSummary:
        self._decision = (DraftStatus.REJECTED, req.actor, req.reason)
        await workflow.wait_condition(lambda: self._decision is None)
        return self._draft

    @reject.validator
    def _reject_ok(self, req: RejectRequest) -> None:
        self._require(req.actor, OPEN, "reject")

    @workflow.update
    async def adjust_line(self, req: AdjustLineRequest) -> DraftSummary:
        self._adjusting = True
        try:
            req_ = AdjustDraft(draft_id=self._inp.draft_id, request=req)
            self._draft = await self._activity(BillingActivity.ADJUST_DRAFT, req_)
        finally:
            self._adjusting = False
        return self._draft

    @adjust_line.validator
    def _adjust_ok(self, req: AdjustLineRequest) -> None:
        self._require(req.actor, (DraftStatus.DRAFT,), "adjust a line")
        if req.line_index >= self._draft.line_count:
            raise ApplicationError(
                f"line_index {req.line_index}: the draft has {self._draft.line_count} lines",
                type="BadRequest",
                non_retryable=True,
            )

    @workflow.update
    async def recompose(self, req: RecomposeRequest) -> None:
        self._recompose = req.actor

    @recompose.validator
    def _recompose_ok(self, req: RecomposeRequest) -> None:
        self._require(req.actor, OPEN, "recompose")
        if self._inp.kind == InvoiceKind.CREDIT_NOTE:
            raise ApplicationError("a credit note is not recomposed", type="WrongState", non_retryable=True)
