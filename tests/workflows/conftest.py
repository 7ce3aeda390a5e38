"""Fixtures of the workflow tests: SOC incidents, and a dev server for the schedule tests."""

import uuid

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.roles import Role
from hub.temporal import register_search_attributes
from models import AssetType
from tests.conftest import auth, binary
from tests.factories import make_asset, make_tenant, make_user


@pytest.fixture
async def soc(api, engine):
    """A customer with a workstation and a critical server, an S1 integration, and staff users."""
    tenant = make_tenant(engine)
    workstation, server = f"ws-{uuid.uuid4().hex[:6]}", f"dc-{uuid.uuid4().hex[:6]}"
    make_asset(engine, tenant, hostname=workstation, asset_type=AssetType.WORKSTATION)
    make_asset(engine, tenant, hostname=server, asset_type=AssetType.SERVER, tags=["critical"])
    admin_user, admin = make_user(engine, Role.MSP_ADMIN)
    tech_user, tech = make_user(engine, Role.MSP_TECH)
    r = await api.post(
        "/api/v1/soc/integrations",
        headers=auth(admin),
        json={
            "tenant_id": str(tenant.id),
            "source": "sentinelone",
            "name": "S1",
            "vendor_tenant_ids": ["1650000000000000001"],
        },
    )
    assert r.status_code == 201, r.text
    return {
        "tenant": tenant,
        "workstation": workstation,
        "server": server,
        "integration": r.json(),
        "admin": admin,
        "tech": tech,
        "tech_user": tech_user,
    }


@pytest.fixture(scope="module")
async def dev_server():
    """A real Temporal dev server for the module (the time-skipping server has no schedules); starting it is the
    slow part."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"), data_converter=pydantic_data_converter
    )
    try:
        await register_search_attributes(env.client)
        yield env
    finally:
        await env.shutdown()
