"""The people of the co-managed IT tests, named by role: `admin`, `tech`, `<tenant>_it` (customer IT) and
`<tenant>_user…` (customer users); each with its auth headers under `<name>_h` and its key under `<name>_key`."""

from sqlalchemy import Engine

from domain.roles import Role
from models import Tenant
from tests.conftest import auth
from tests.factories import make_user

MSP = {"admin": Role.MSP_ADMIN, "tech": Role.MSP_TECH}


def people(engine: Engine, tenants: dict[str, Tenant], names: str) -> dict:
    """`names`: space-separated, e.g. "admin tech a_it a_user b_it"; `tenants` by the key the names start with."""
    w: dict = dict(tenants)
    for name in names.split():
        if name in MSP:
            role, tenant = MSP[name], None
        else:
            key, kind = name.split("_", 1)
            role, tenant = (Role.CUSTOMER_IT if kind == "it" else Role.CUSTOMER_USER), tenants[key]
        w[name], key = make_user(engine, role, tenant)
        w[name + "_h"], w[name + "_key"] = auth(key), key
    return w
