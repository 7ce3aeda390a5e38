"""The inventory sync of one customer, `inventory-sync-<customer>`: each active source in turn (the RMM's devices: Datto
RMM or N-central, then Microsoft 365 licences and MFA registration), each source's outcome recorded on it, and, once the
RMM's devices were read, the day's health snapshot with the MFA counts beside the device counts. A customer without an
RMM source gets a snapshot of its MFA counts alone (its device KPIs stay "k. A."); one whose RMM failed gets none that
day, as before, so the quarter's last snapshot keeps real device counts. A source that fails (bad credentials, an
unusable answer, retries used up) is recorded with its error and the next source goes on; the workflow itself completes,
its result lists the failures.

And `InventoryRun`, what the daily schedule `inventory-daily` starts: one child per customer with an active source,
at most `MAX_PARALLEL` at once; a customer whose sync is already running (started through the API or CLI) is
skipped, never held up or duplicated."""

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError, WorkflowAlreadyStartedError

from domain.contracts.inventory import (
    RMM_KINDS,
    CustomerSync,
    InventoryActivity,
    InventoryRunInput,
    InventoryRunProgress,
    InventorySyncInput,
    InventorySyncResult,
    RecordOutcome,
    SourceOutcome,
    SourceRef,
    SourceSynced,
    SyncSource,
    WriteSnapshot,
)
from domain.inventory.mfa import MfaCoverage
from domain.processes import (
    INVENTORY_RUN_PROCESS,
    INVENTORY_TASK_QUEUE,
    PROCESS,
    inventory_sync_search_attributes,
    inventory_sync_workflow_id,
)
from workflows.policies import DB_RETRY, DB_TIMEOUT

# A vendor gets a few tries over some minutes (rate limits ask for 1-5 min); then the error is recorded and the
# next day's sync tries again.
VENDOR_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=10), maximum_interval=timedelta(minutes=5), maximum_attempts=5
)
VENDOR_TIMEOUT = timedelta(minutes=10)
VENDOR_HEARTBEAT = timedelta(minutes=3)  # one site's device list may take a while; each site beats
MAX_PARALLEL = 4


def _message(err: ActivityError) -> str:
    cause = err.cause
    return cause.message if isinstance(cause, ApplicationError) else str(cause or err)


@workflow.defn(name="InventorySync")
class InventorySyncWorkflow:
    @workflow.run
    async def run(self, inp: InventorySyncInput) -> InventorySyncResult:
        result = InventorySyncResult(customer_number=inp.customer_number)
        customer = CustomerSync(tenant_id=inp.tenant_id, customer_number=inp.customer_number)
        sources: list[SourceRef] = await workflow.execute_activity(
            InventoryActivity.LOAD_SOURCES, customer, result_type=list[SourceRef],
            start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY,
        )  # fmt: skip
        devices_read = False
        mfa: MfaCoverage | None = None
        for source in sources:
            outcome = await self._sync(source)
            result.sources.append(outcome)
            devices_read |= outcome.ok and source.kind in RMM_KINDS
            if outcome.ok and outcome.synced is not None and outcome.synced.mfa is not None:
                mfa = outcome.synced.mfa
            await workflow.execute_activity(
                InventoryActivity.RECORD_OUTCOME, RecordOutcome(outcome=outcome, at=workflow.now()),
                start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY,
            )  # fmt: skip
        has_rmm = any(s.kind in RMM_KINDS for s in sources)
        if devices_read or (mfa is not None and not has_rmm):
            snapshot = WriteSnapshot(tenant_id=inp.tenant_id, at=workflow.now(), devices=devices_read, mfa=mfa)
            result.snapshot_day = await workflow.execute_activity(
                InventoryActivity.WRITE_SNAPSHOT, snapshot,
                result_type=str, start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY,
            )  # fmt: skip
        failed = "; ".join(f"{s.name}: {s.error}" for s in result.failed)
        state = f"failed: {failed}"[:300] if failed else "ok"
        workflow.upsert_memo({"summary": f"inventory sync, {len(result.sources)} sources, {state}"})
        return result

    async def _sync(self, source: SourceRef) -> SourceOutcome:
        req = SyncSource(source_id=source.id, synced_at=workflow.now())
        options = {"result_type": SourceSynced, "start_to_close_timeout": VENDOR_TIMEOUT,
                   "heartbeat_timeout": VENDOR_HEARTBEAT, "retry_policy": VENDOR_RETRY}  # fmt: skip
        try:
            if source.kind in RMM_KINDS:  # one activity for every RMM: it reads the source's kind
                synced = await workflow.execute_activity(InventoryActivity.SYNC_RMM, req, **options)
            else:
                synced = await workflow.execute_activity(InventoryActivity.SYNC_M365, req, **options)
        except ActivityError as err:
            return SourceOutcome(source_id=source.id, kind=source.kind, name=source.name, ok=False,
                                 error=_message(err))  # fmt: skip
        return SourceOutcome(source_id=source.id, kind=source.kind, name=source.name, ok=True, synced=synced)


@workflow.defn(name="InventoryRun")
class InventoryRunWorkflow:
    def __init__(self) -> None:
        self._progress = InventoryRunProgress()
        self._running = 0

    @workflow.run
    async def run(self, inp: InventoryRunInput) -> InventoryRunProgress:
        workflow.upsert_search_attributes([PROCESS.value_set(INVENTORY_RUN_PROCESS)])
        customers: list[CustomerSync] = await workflow.execute_activity(
            InventoryActivity.LIST_CUSTOMERS, inp, result_type=list[CustomerSync],
            start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY,
        )  # fmt: skip
        self._progress.total = len(customers)
        await asyncio.gather(*(self._sync(c) for c in customers))
        self._progress.finished = True
        workflow.upsert_memo({"summary": f"inventory run: {self._progress.label()}"})
        return self._progress

    async def _sync(self, customer: CustomerSync) -> None:
        await workflow.wait_condition(lambda: self._running < MAX_PARALLEL)
        self._running += 1
        try:
            result = await workflow.execute_child_workflow(
                InventorySyncWorkflow.run,
                InventorySyncInput(tenant_id=customer.tenant_id, customer_number=customer.customer_number),
                id=inventory_sync_workflow_id(customer.customer_number),
                task_queue=INVENTORY_TASK_QUEUE,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                search_attributes=inventory_sync_search_attributes(customer.customer_number),
            )
            if result.failed:
                self._progress.with_errors += 1
            else:
                self._progress.done += 1
        except WorkflowAlreadyStartedError:
            self._progress.skipped += 1
        except ChildWorkflowError:
            self._progress.failed += 1  # its failure is in its own history; the others go on
        finally:
            self._running -= 1

    @workflow.query
    def progress(self) -> InventoryRunProgress:
        return self._progress
