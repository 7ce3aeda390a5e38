"""One real Temporal dev server for the deployment tests, with a namespace per check test that nobody has prepared
(no search attributes, no schedules): `psa check` must find that out."""

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.conftest import binary

CHECK_NAMESPACES = ("psa-check-sqlite", "psa-check-postgres")


@pytest.fixture(scope="module")
async def bare_dev_server():
    extra = [arg for ns in CHECK_NAMESPACES for arg in ("--namespace", ns)]
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"), dev_server_extra_args=extra
    )
    try:
        yield env
    finally:
        await env.shutdown()
