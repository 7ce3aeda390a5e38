"""The one translation of Temporal's answers to a call (update, start, signal, query) into two outcomes callers
handle: the workflow refused (`WorkflowRejected`, HTTP 409) or did not answer now (`WorkflowUnavailable`, HTTP 503).
Temporal being unreachable is the latter however the SDK reports it (an RPC status, or a client that never
connected)."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.service import RPCError, RPCStatusCode

RETRY_AFTER_SECONDS = 5


class WorkflowRejected(Exception):
    """The workflow refused the request (invalid transition, closed ticket, nothing to decide): the message says
    why, and sending it again will not change the answer."""

    def __init__(self, message: str, kind: str | None = None):
        super().__init__(message)
        self.kind = kind  # the ApplicationError type the workflow raised, if any


class WorkflowUnavailable(Exception):
    """Temporal or the worker did not answer in time (unreachable, busy, timed out): the request may still take
    effect; the caller may retry."""


# Not an answer about the workflow: the call timed out, was aborted, Temporal is unreachable, overloaded (e.g. too
# many updates in flight on one workflow) or failed inside (INTERNAL, UNKNOWN), or the workflow's task is failing.
NOT_NOW = (
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.CANCELLED,
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.FAILED_PRECONDITION,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.INTERNAL,
    RPCStatusCode.UNKNOWN,
)
# How the SDK reports a lazy client that has never reached the server: a RuntimeError, not an RPCError.
CONNECT_FAILED = "Failed client connect"


def cannot_connect(err: BaseException) -> bool:
    return isinstance(err, RuntimeError) and str(err).startswith(CONNECT_FAILED)


@asynccontextmanager
async def workflow_call(what: str, *, ended: str) -> AsyncIterator[None]:
    """Wrap one call to a workflow. `what` names it for messages ("ticket 1234"); `ended` is the refusal when no
    run of the workflow is open (e.g. "the ticket is closed")."""
    try:
        yield
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        # An update that failed in an activity (bad data the database refused) carries the activity's reason.
        while isinstance(cause, ActivityError) and cause.cause is not None:
            cause = cause.cause
        if isinstance(cause, ApplicationError):
            raise WorkflowRejected(cause.message, cause.type) from err
        raise WorkflowRejected(str(cause)) from err
    except WorkflowUpdateRPCTimeoutOrCancelledError as err:
        reraise_if_cancelled()
        raise WorkflowUnavailable(f"{what} did not answer in time") from err
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise WorkflowRejected(ended, "NotFound") from err
        if err.status in NOT_NOW:
            raise WorkflowUnavailable(f"{what} cannot be reached now: {err.message}") from err
        raise
    except RuntimeError as err:
        if not cannot_connect(err):
            raise
        raise WorkflowUnavailable(f"{what} cannot be reached now: Temporal is not reachable") from err


def reraise_if_cancelled() -> None:
    """The SDK uses the same error for our own cancellation (client gone): that must propagate."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
