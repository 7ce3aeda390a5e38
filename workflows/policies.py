"""Retry policies and timeouts that several workflows share."""

from datetime import timedelta

from temporalio.common import RetryPolicy

# A database write is retried until the database answers: a row never goes missing.
DB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
# Local activities: short transactions run in the worker's process, no round trip through the server.
LOCAL_DB_TIMEOUT = timedelta(seconds=10)
DB_TIMEOUT = timedelta(seconds=30)
