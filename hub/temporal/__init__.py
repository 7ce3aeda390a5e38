"""Temporal client code, in one place: the connection, search attributes, and per process the calls that start,
signal, update and query its workflows (`tickets`, `soc`, `sla`), with one translation of Temporal's errors into
`WorkflowRejected` / `WorkflowUnavailable` (`errors`). The API, the SOC inbox, activities and the CLI use these;
workflow modules hold workflow code only."""

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode

from domain.processes import SEARCH_ATTRIBUTES


async def connect(address: str, namespace: str, runtime: Runtime | None = None) -> Client:
    """`runtime`: the SDK runtime (e.g. with Prometheus metrics, see worker.py); None: the SDK's default one."""
    return await Client.connect(address, namespace=namespace, data_converter=pydantic_data_converter, runtime=runtime)


async def register_search_attributes(client: Client) -> list[str]:
    """Add the hub's custom search attributes where missing (dev server, test server, a fresh cluster).

    Returns the names it added."""
    try:
        existing = set(
            (
                await client.operator_service.list_search_attributes(
                    ListSearchAttributesRequest(namespace=client.namespace)
                )
            ).custom_attributes
        )
    except RPCError as err:
        if err.status != RPCStatusCode.UNIMPLEMENTED:  # the time-skipping test server cannot list
            raise
        existing = set()
    missing = {
        k.name: IndexedValueType.ValueType(k.indexed_value_type) for k in SEARCH_ATTRIBUTES if k.name not in existing
    }
    if missing:
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
            )
        except RPCError as err:
            if err.status != RPCStatusCode.ALREADY_EXISTS:
                raise
    return sorted(missing)
